"""Reference figures (filter options, date range, residents) for a one-jurisdiction viewer come
from that jurisdiction only (issue 27): no figure computed from other jurisdictions' data."""
from __future__ import annotations

import pytest

from service import access, guarded
from data.connection import connect
from metrics import catalog

from conftest import demo_copy

OWN = "Riverton"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    c = connect(demo_copy(tmp_path_factory.mktemp("scope") / "demo.duckdb"))
    access.add_person(c, access.LOCAL, "v@example.org")
    access.grant(c, access.LOCAL, "v@example.org", "viewer", OWN)
    yield c
    c.close()


@pytest.fixture(scope="module")
def viewer(demo):
    return access.load_principal(demo, "v@example.org")


def _own_span(con, table, column):
    return con.execute(f"SELECT min({column})::DATE, max({column})::DATE FROM {table} "
                       "WHERE jurisdiction = ?", [OWN]).fetchone()


def test_the_date_range_is_the_viewers_jurisdictions(demo, viewer):
    # Another jurisdiction's newest import runs later than Riverton's data.
    demo.execute("UPDATE calls SET received_local = received_local + INTERVAL 400 DAY "
                 "WHERE jurisdiction = 'Millbrook' AND call_id = (SELECT max(call_id) FROM "
                 "calls WHERE jurisdiction = 'Millbrook')")
    opts = guarded.filter_options(demo, viewer)
    spans = [_own_span(demo, t, c) for t, c in (("calls", "received_local"),
                                                ("responses", "requested_local"),
                                                ("referrals", "referred_local"))]
    assert opts["first_day"] == min(s[0] for s in spans if s[0])
    assert opts["last_day"] == max(s[1] for s in spans if s[1])
    cohort = catalog.filter_options(demo)
    assert cohort["last_day"] > opts["last_day"]


def test_jurisdictions_areas_and_row_counts_are_the_viewers(demo, viewer):
    opts = guarded.filter_options(demo, viewer)
    assert opts["jurisdictions"] == [OWN]
    assert list(opts["areas"]) == [OWN]
    calls = demo.execute("SELECT count(*) FROM calls WHERE jurisdiction = ?", [OWN]).fetchone()[0]
    assert opts["rows"]["calls"] == calls
    assert calls < catalog.filter_options(demo)["rows"]["calls"]


def test_residents_per_1000_divide_by_the_viewers_residents_only(demo, viewer):
    mine = catalog.population_by_group(demo, (OWN,), "race_ethnicity")
    cohort = catalog.population_by_group(demo, (), "race_ethnicity")
    assert mine and mine != cohort
    # No jurisdiction chosen in the sidebar: the viewer's own, never the cohort's.
    assert guarded.population(demo, viewer, (), "race_ethnicity")["groups"] == mine
    # Another jurisdiction asked for by URL: nothing of it.
    assert guarded.population(demo, viewer, ("Millbrook",), "race_ethnicity")["groups"] == {}


def test_the_local_admin_still_sees_the_cohort(demo):
    assert guarded.filter_options(demo, access.LOCAL) == catalog.filter_options(demo)
    assert (guarded.population(demo, access.LOCAL, (), "race_ethnicity")["groups"]
            == catalog.population_by_group(demo, (), "race_ethnicity"))
