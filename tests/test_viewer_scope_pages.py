"""A viewer of one jurisdiction, page by page: no figure computed from another jurisdiction's
data, reference figures included (issue 27). The date range, the filter options and the
residents behind "per 1,000 residents" are checked against Riverton's own records, with
another jurisdiction's data running later so that a cohort-wide query would show."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from service import access
from data.connection import connect
from metrics import catalog

from conftest import demo_copy

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 40,
        "client_id": "dashboard", "client_secret": "secret",
        "server_metadata_url": "http://localhost:9400/.well-known/openid-configuration"}
OWN, VIEWER = "Riverton", "rita@example.org"
PAGES = ["overview", "reach", "on_scene", "connections", "compare", "equity", "methodology"]
BACKUP = "Team response → police back-up requested"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = demo_copy(tmp_path_factory.mktemp("viewer") / "demo.duckdb")
    con = connect(path)
    # Millbrook's newest record runs past everyone else's.
    con.execute("UPDATE calls SET received_local = received_local + INTERVAL 400 DAY "
                "WHERE jurisdiction = 'Millbrook' AND call_id = (SELECT max(call_id) FROM "
                "calls WHERE jurisdiction = 'Millbrook')")
    access.add_person(con, access.LOCAL, VIEWER, "Rita Viewer")
    access.grant(con, access.LOCAL, VIEWER, "viewer", OWN)
    own = catalog.filter_options(con, [OWN])
    cohort = catalog.filter_options(con)
    residents = {scope: {dim: catalog.population_by_group(con, js, dim)
                         for dim in ("area", "race_ethnicity")}
                 for scope, js in (("own", (OWN,)), ("cohort", ()))}
    con.close()
    assert cohort["last_day"] > own["last_day"]  # the test can tell the two apart
    return path, own, residents


def _viewer(monkeypatch, path, page, query=None):
    monkeypatch.setenv("A911_DB", str(path))
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": VIEWER, "email_verified": True, "iat": time.time()}
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page != "overview":
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", PAGES)
def test_the_sidebar_offers_only_the_viewers_jurisdiction_and_dates(monkeypatch, db, page):
    path, own, _ = db
    at = _viewer(monkeypatch, path, page)
    assert at.sidebar.multiselect(key="j").options == [OWN]
    for key, day in (("from", own["first_day"]), ("to", own["last_day"])):
        box = at.sidebar.date_input(key=key)
        assert box.value == day, (page, key)
        assert str(box.proto.max) == own["last_day"].isoformat(), (page, key)
    areas = at.sidebar.multiselect(key="area").options
    assert set(areas) <= set(own["areas"][OWN])


def test_equity_per_1000_residents_divides_by_the_viewers_residents(monkeypatch, db):
    """By race/ethnicity: the cohort's residents per group are not Riverton's (by area they
    would be the same numbers, areas being each jurisdiction's own)."""
    path, _, residents = db
    at = _viewer(monkeypatch, path, "equity", {"equity_point": BACKUP})  # the URL holds labels
    by = next(b for b in at.selectbox if (b.key or "").startswith("equity_by_"))
    by.set_value("race_ethnicity").run()
    at.session_state["show-data-equity-pop"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.get_by_key("card-equity-pop").dataframe[0].value
    mine, cohort = residents["own"]["race_ethnicity"], residents["cohort"]["race_ethnicity"]
    shown = sorted(int(v) for v in table["Residents"])
    assert len(shown) >= 2
    assert shown == sorted(int(v[0]) for g, v in mine.items() if int(v[0]) in shown)
    assert not set(shown) & ({int(v[0]) for v in cohort.values()}
                             - {int(v[0]) for v in mine.values()})
    assert set(shown) <= {int(v[0]) for v in mine.values()}
