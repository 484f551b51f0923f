"""The Impact page's series from the maintained tables (data/impact_tables.py, calls_monthly,
calls_hourly) equal the same series counted from the calls (``rollup.rows_only``): every
count, the police busy hours to the last bit, the first and last day; so do the estimates.
A hand-counted table of calls checks the busy time kept per group. (That the tables stay
current after every kind of write: tests/test_rollup.py, whose ``aggregates.stale_groups``
includes these tables.)"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from data import aggregates, facts, impact_tables
from data.connection import connect
from data.demo import populate_demo
from metrics import impact, rollup
from metrics.disclosure import VIEWER
from metrics.engine import Filters
from metrics.impact_series import _tables, hours_sql, load_program, monthly_series


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("impact_tables") / "demo.duckdb")
    populate_demo(con, scale=0.02)
    yield con
    con.close()


def _filters(con, j: str) -> list[Filters]:
    program = load_program(con, j)
    areas = [a for (a,) in con.execute("SELECT DISTINCT area FROM calls WHERE jurisdiction = ? "
                                       "AND area IS NOT NULL ORDER BY 1 LIMIT 2", [j]).fetchall()]
    return [Filters(jurisdictions=(j,)),
            Filters(jurisdictions=(j,), date_from=date(2023, 4, 1), date_to=date(2024, 11, 30)),
            Filters(jurisdictions=(j,), categories=program.targets[:1]),
            Filters(jurisdictions=(j,), areas=tuple(areas)),
            Filters(jurisdictions=(j,), date_from=date(2023, 4, 9))]  # not whole months: rows


def _both(con, j: str, f: Filters, hours: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    program = load_program(con, j)
    from_tables = monthly_series(con, program, f, hours=hours)
    with rollup.rows_only():
        from_rows = monthly_series(con, program, f, hours=hours)
    return from_tables, from_rows


def test_the_demo_jurisdictions_cover_every_kind_of_comparison(demo):
    kinds = {load_program(demo, j).comparison
             for (j,) in demo.execute("SELECT jurisdiction FROM jurisdictions").fetchall()}
    assert kinds == {"areas", "hours", None}
    assert impact_tables.stale_groups(demo) == 0 and impact_tables.current(demo)


@pytest.mark.parametrize("j", ["Riverton", "Cedar Falls", "Port Avalon", "Millbrook",
                               "Harbor County"])
def test_series_from_the_tables_equal_the_rows(demo, j):
    for f in _filters(demo, j):
        program = load_program(demo, j)
        partial = f.date_from == date(2023, 4, 9)
        hours_within = program.comparison == "hours" and (f.categories or f.areas)
        assert (_tables(demo, program, f) is None) == bool(partial or hours_within)
        for hours in (True, False):
            tables, rows = _both(demo, j, f, hours)
            assert len(rows) > 0 and rows["police_calls"].sum() > 0
            pd.testing.assert_frame_equal(tables, rows, check_exact=True)


@pytest.mark.parametrize("outcome", ["police_calls", "police_hours"])
def test_estimates_from_the_tables_equal_the_rows(demo, outcome):
    for j in ("Riverton", "Millbrook", "Harbor County"):
        for policy in (None, VIEWER):
            a = impact.analyse(demo, j, outcome, Filters(jurisdictions=(j,)), policy)
            with rollup.rows_only():
                b = impact.analyse(demo, j, outcome, Filters(jurisdictions=(j,)), policy)
            pd.testing.assert_frame_equal(a.series, b.series, check_exact=True)
            assert a.timing == b.timing
            assert a.results.keys() == b.results.keys()
            for m, r in a.results.items():
                other = b.results[m]
                assert type(r) is type(other)
                if isinstance(r, impact.Estimate):
                    assert r.as_json() == other.as_json()
                else:
                    assert str(r) == str(other)


def test_without_the_tables_the_rows_answer(tmp_path):
    """A Parquet export without them, or calls written by hand and not counted."""
    con = connect(tmp_path / "demo.duckdb")
    populate_demo(con, scale=0.01)
    program, f = load_program(con, "Millbrook"), Filters(jurisdictions=("Millbrook",))
    assert _tables(con, program, f) is not None
    expected = monthly_series(con, program, f)
    con.execute("DELETE FROM calls_span WHERE local_month = (SELECT min(local_month) "
                "FROM calls_span)")  # no longer counts every call
    assert not impact_tables.current(con) and _tables(con, program, f) is None
    pd.testing.assert_frame_equal(monthly_series(con, program, f), expected, check_exact=True)
    for table in impact_tables.TABLES:
        con.execute(f"DROP TABLE {table}")
    assert _tables(con, program, f) is None
    pd.testing.assert_frame_equal(monthly_series(con, program, f), expected, check_exact=True)
    con.close()


def test_busy_hours_are_the_exact_sum_and_the_float_sum_to_twelve_digits(demo):
    """Busy time is summed in whole microseconds (exact, in any order); the former sum of
    hours in floating point differs from it only in the last digits."""
    program = load_program(demo, "Riverton")
    sql, params = hours_sql(program, Filters())
    with rollup.rows_only():
        exact = demo.execute(f"SELECT sum(police_hours) FROM ({sql})", params).fetchone()[0]
    floating = sql.replace(f"coalesce(sum(us) FILTER (WHERE basis IS NOT NULL), 0) / "
                           f"{impact_tables.US_PER_HOUR}.0", "coalesce(sum(h) FILTER (WHERE "
                           "basis IS NOT NULL), 0)").replace("AS grp, us,", "AS grp, h,")
    assert floating != sql
    before = demo.execute(f"SELECT sum(police_hours) FROM ({floating})", params).fetchone()[0]
    assert exact > 100 and exact == pytest.approx(before, rel=1e-12)


# Police calls of target types, public-initiated: (id, received, type, origin, area,
# dispatched, on scene, cleared). Busy time worked out by hand.
CALLS = [
    ("a", "2024-01-03 10:00", "WELFARE", "911", "North",
     "2024-01-03 10:05", None, "2024-01-03 11:35"),                # 1.5 h from dispatch
    ("b", "2024-01-04 22:00", "WELFARE", "911", "South",
     None, "2024-01-04 22:20", "2024-01-04 22:35"),                # 0.25 h from on scene
    ("c", "2024-01-05 09:00", "WELFARE", "911", "North",
     "2024-01-05 09:00", None, "2024-01-06 09:00"),                # exactly 24 h: counts
    ("d", "2024-01-06 09:00", "WELFARE", "911", "North",
     "2024-01-06 09:00", None, "2024-01-07 09:00:00.000001"),      # a microsecond over: not
    ("e", "2024-01-07 09:00", "WELFARE", "911", "North",
     "2024-01-07 09:10", None, "2024-01-07 09:00"),                # negative: not timed
    ("f", "2024-01-08 09:00", "WELFARE", "officer_initiated", "North",
     "2024-01-08 09:00", None, "2024-01-08 10:00"),                # officer-initiated: out
    ("g", "2024-02-01 09:00", "THEFT", "911", "North",
     "2024-02-01 09:00", None, "2024-02-01 10:00"),                # not a target type: out
]


@pytest.fixture
def hand(con):
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone, launch_date, "
                "coverage_start_hour, coverage_end_hour, target_categories) VALUES "
                "('Hand', 'UTC', DATE '2024-02-15', 8, 20, ['WELFARE'])")
    con.executemany("INSERT INTO crosswalk VALUES ('Hand', ?, ?, true)",
                    [("WELFARE", "WELFARE"), ("THEFT", "THEFT")])
    for cid, rec, ctype, origin, area, disp, arr, clr in CALLS:
        ts = [f"timezone('UTC', TIMESTAMP '{v}')" if v else "NULL" for v in (disp, arr, clr)]
        con.execute(
            "INSERT INTO calls (jurisdiction, call_id, received_at, received_local, "
            "dispatched_at, arrived_at, cleared_at, call_type, responder, origin, area, "
            f"import_id) VALUES ('Hand', ?, timezone('UTC', TIMESTAMP '{rec}'), "
            f"TIMESTAMP '{rec}', {ts[0]}, {ts[1]}, {ts[2]}, ?, 'police', ?, ?, 1)",
            [cid, ctype, origin, area])
    facts.refresh(con)  # as every write: the derived columns and the tables it keeps
    return con


def test_police_time_kept_per_group_by_hand(hand):
    rows = hand.execute("SELECT local_month, area, local_hour, sum(police_calls), "
                        "sum(timed_dispatch), sum(timed_scene), sum(busy_us) "
                        "FROM police_time_monthly GROUP BY ALL ORDER BY ALL").fetchall()
    hour = 3_600_000_000
    assert rows == [(202401, "North", 9, 3, 1, 0, 24 * hour),   # c d e: only c is timed
                    (202401, "North", 10, 1, 1, 0, hour * 3 // 2),                 # a
                    (202401, "South", 22, 1, 0, 1, hour // 4)]                     # b
    assert hand.execute("SELECT local_month, calls, first_local::VARCHAR, last_local::VARCHAR "
                        "FROM calls_span ORDER BY 1").fetchall() == [
        (202401, 6, "2024-01-03 10:00:00", "2024-01-08 09:00:00"),
        (202402, 1, "2024-02-01 09:00:00", "2024-02-01 09:00:00")]
    assert impact_tables.stale_groups(hand) == 0 and aggregates.stale_groups(hand) == 0
    program = load_program(hand, "Hand")
    assert program.comparison == "hours"  # 8-20: the 22:00 call is in the comparison hours
    assert _tables(hand, program, Filters()) == ("calls_hourly", "police_time_monthly")
    g = monthly_series(hand, program, Filters()).set_index(["group", "month"])
    jan = date(2024, 1, 1)
    assert g.loc[("program", jan), ["police_calls", "timed_dispatch", "timed_scene",
                                    "untimed"]].tolist() == [4, 2, 0, 2]
    assert g.loc[("program", jan), "police_hours"] == 25.5
    assert g.loc[("comparison", jan), "police_hours"] == 0.25
    assert g.loc[("program", date(2024, 2, 1)), "police_calls"] == 0  # THEFT: not a target
    with rollup.rows_only():
        rows_series = monthly_series(hand, program, Filters())
    pd.testing.assert_frame_equal(g.reset_index()[rows_series.columns], rows_series,
                                  check_exact=True)


# --------------------------------------------------------------------------------------------
# The Plan page's eligible-type calls: how many, the first and the last (calls_span)
# --------------------------------------------------------------------------------------------

def test_plan_extent_from_the_tables_equals_the_rows(demo):
    from metrics.capacity import workload as wl

    for (j,) in demo.execute("SELECT jurisdiction FROM jurisdictions").fetchall():
        for period in ((None, None), (date(2023, 3, 1), date(2024, 6, 30)),
                       (date(2023, 3, 2), None)):
            request = wl.CapacityRequest(j, *period)
            where, params = wl._where(request)
            got = wl._extent(demo, request, where, params)
            with rollup.rows_only():
                rows = wl._extent(demo, request, where, params)
            assert got == rows and got[0] > 0
            assert type(got[0]) is int and got[1].year >= 2023
    # A period with no calls: no count, no first, no last, either way.
    request = wl.CapacityRequest("Riverton", date(2030, 1, 1), date(2030, 1, 31))
    where, params = wl._where(request)
    assert wl._extent(demo, request, where, params) == (0, None, None)
    with rollup.rows_only():
        assert wl._extent(demo, request, where, params) == (0, None, None)


def test_the_plan_is_the_same_from_the_tables(demo):
    from metrics import capacity

    request = capacity.CapacityRequest("Millbrook")
    specs = ("2x8-20x1234567", "3x8-20x1234567")
    got = capacity.plan(demo, request, specs, runs=4)
    with rollup.rows_only():
        rows = capacity.plan(demo, request, specs, runs=4)
    assert got == rows and got["calls"] > 0


def test_the_plan_reads_calls_span_for_whole_months_only(demo):
    """Shift every month's first call in the table (not the calls): the answer follows the
    table for whole months, the calls for a period that is not."""
    from metrics.capacity import workload as wl

    whole, partial = (wl.CapacityRequest("Riverton"),
                      wl.CapacityRequest("Riverton", date(2023, 3, 2)))
    before = {r: wl._extent(demo, r, *wl._where(r)) for r in (whole, partial)}
    demo.execute("BEGIN")
    try:
        demo.execute("UPDATE calls_span SET first_local = first_local - INTERVAL 1 DAY")
        assert impact_tables.current(demo)
        shifted = wl._extent(demo, whole, *wl._where(whole))
        assert shifted[1] == before[whole][1] - pd.Timedelta(days=1)
        assert wl._extent(demo, partial, *wl._where(partial)) == before[partial]
    finally:
        demo.execute("ROLLBACK")


def test_service_histogram_from_the_tables_equals_the_rows(demo):
    from metrics.capacity import workload as wl

    sources = set()
    for (j,) in demo.execute("SELECT jurisdiction FROM jurisdictions").fetchall():
        for period in ((None, None), (date(2024, 5, 1), date(2025, 3, 31)),
                       (date(2024, 5, 2), None)):
            request = wl.CapacityRequest(j, *period)
            where, params = wl._where(request)
            assert wl._tables_answer(demo, request) == (period[0] != date(2024, 5, 2))
            got = wl._service_histogram(demo, request, where, params)
            with rollup.rows_only():
                rows = wl._service_histogram(demo, request, where, params)
            assert got[2] == rows[2] and got[1].sum() > 20
            sources.add(got[2])
            for a, b in zip(got[:2], rows[:2]):
                assert a.dtype == b.dtype and np.array_equal(a, b)
    assert "team records" in sources


def test_team_service_minutes_by_hand(con):
    """Four responses: 30.4 and 29.6 minutes (both 30), 13 hours (left open: NULL), and one
    with no dispatch time (NULL)."""
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone) VALUES ('Hand', 'UTC')")
    for rid, disp, clr in (("r1", "2024-01-03 10:00:00", "2024-01-03 10:30:24"),
                           ("r2", "2024-01-04 10:00:00", "2024-01-04 10:29:36"),
                           ("r3", "2024-02-04 10:00:00", "2024-02-04 23:00:00"),
                           ("r4", None, "2024-02-05 10:00:00")):
        d = f"timezone('UTC', TIMESTAMP '{disp}')" if disp else "NULL"
        con.execute("INSERT INTO responses (jurisdiction, response_id, requested_at, "
                    "requested_local, dispatched_at, cleared_at, import_id) VALUES "
                    f"('Hand', ?, timezone('UTC', TIMESTAMP '{clr}'), TIMESTAMP '{clr}', {d}, "
                    f"timezone('UTC', TIMESTAMP '{clr}'), 1)", [rid])
    aggregates.refresh(con, "Hand", "responses")
    assert con.execute("SELECT local_month, minutes, responses FROM team_service_minutes "
                       "ORDER BY ALL").fetchall() == [(202401, 30.0, 2), (202402, None, 2)]
    assert impact_tables.stale_groups(con) == 0


def test_a_database_from_before_the_tables_counts_them_once(tmp_path):
    """Opened by this version, a database whose tables are empty beside its records gets
    them counted (all three), and then equal to a fresh count."""
    path = tmp_path / "old.duckdb"
    con = connect(path)
    populate_demo(con, scale=0.01)
    for table in impact_tables.TABLES:
        con.execute(f"DELETE FROM {table}")
    assert impact_tables.stale_groups(con) > 0 and not impact_tables.current(con)
    con.close()
    con = connect(path)
    assert all(con.execute(f"SELECT count(*) > 0 FROM {t}").fetchone()[0]
               for t in impact_tables.TABLES)
    assert impact_tables.stale_groups(con) == 0 and impact_tables.current(con)
    con.close()
