"""The maintained histograms of durations (data/duration_tables.py) equal the records after
every kind of write, and the medians, 90th percentiles, timed and missing counts the engine
reads off them (metrics/duration_rollup.py) equal the same request over the rows."""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from datetime import date

import pytest

from data import aggregates, duration_tables, import_file, parse_profile, undo_import
from data.connection import connect
from data.crosswalk import save_crosswalk
from data.demo import populate_demo
from metrics import Filters, MetricRequest, compute, duration_rollup, engine, rollup
from metrics.engine import compute_levels, explain
from metrics.registry import REGISTRY
from service import guarded
from service.access import LOCAL

TIMED = tuple(m.id for m in REGISTRY if m.duration)  # C1 ... C6

PROFILE = parse_profile("""
kind = "calls"
[columns]
call_id = "Call No"
received_at = "Received"
dispatched_at = "Dispatched"
arrived_at = "On scene"
responder = "Unit"
call_type = "Type"
[options]
timezone = "UTC"
""")
# Call processing (C1), minutes: 1, 2, 4, 7, 10; call 6 was never dispatched and call 7 was
# dispatched before it was received: both missing. Welfare checks go to the team or the
# police, on scene 10 to 30 minutes after receipt.
CALLS = ("Call No,Received,Dispatched,On scene,Type,Unit\n"
         "1,2025-03-03 10:00,2025-03-03 10:01,2025-03-03 10:10,WELFARE CHECK,CRISIS TEAM\n"
         "2,2025-03-04 10:00,2025-03-04 10:02,2025-03-04 10:20,WELFARE CHECK,POLICE\n"
         "3,2025-03-05 10:00,2025-03-05 10:04,2025-03-05 10:30,WELFARE CHECK,POLICE\n"
         "4,2025-03-06 10:00,2025-03-06 10:07,,ROBBERY,POLICE\n"
         "5,2025-04-01 10:00,2025-04-01 10:10,2025-04-01 10:25,WELFARE CHECK,CRISIS TEAM\n"
         "6,2025-04-02 10:00,,,ROBBERY,POLICE\n"
         "7,2025-04-03 10:00,2025-04-03 09:58,,ROBBERY,POLICE\n")


def _import(con, tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return import_file(con, path, kind="calls", jurisdiction="J", profile=PROFILE)


def _rows(rows):
    return sorted(((r.metric, tuple(sorted(r.group.items(), key=str)), r.median, r.p90, r.n,
                    r.missing) for r in rows), key=repr)


@contextmanager
def _histogram(rows_only: bool):
    """The rows' medians from their histogram (metrics.sql.quantile_sql), and with
    ``rows_only`` every figure from the rows."""
    kept = engine.QUANTILES_IN_MEMORY_ROWS
    engine.QUANTILES_IN_MEMORY_ROWS = -1
    try:
        with rollup.rows_only() if rows_only else nullcontext():
            yield
    finally:
        engine.QUANTILES_IN_MEMORY_ROWS = kept


def _same_both_ways(con, request):
    """The histograms' figures equal the rows' histogram to the last bit, and quantile_cont
    (the rows' way for small sources) to the last binary digit or so: DuckDB interpolates
    with a fused multiply-add that SQL arithmetic does not reproduce."""
    with _histogram(rows_only=False):
        fast = _rows(compute(con, request))
    with _histogram(rows_only=True):
        assert fast == _rows(compute(con, request)), request
    with rollup.rows_only():
        exact = _rows(compute(con, request))
    assert [r[:2] + r[4:] for r in fast] == [r[:2] + r[4:] for r in exact]
    for got, want in zip(fast, exact):
        for g, w in zip(got[2:4], want[2:4]):
            assert g == (None if w is None else pytest.approx(w, rel=1e-12, abs=1e-12)), got
    return fast


def _read_from_histogram(request) -> bool:
    return "durations from the maintained table" in explain(request)


def test_hand_worked_medians_from_the_table(con, tmp_path):
    _import(con, tmp_path, "calls.csv", CALLS)
    c1 = con.execute("SELECT local_month, duration_us, calls FROM calls_durations "
                     "WHERE to_time = 'dispatched_at' ORDER BY ALL").fetchall()
    # March: 1, 2, 4, 7 minutes; April: 10, and two missing (-1: blank, out of order).
    minute = 60_000_000
    assert c1 == [(202503, minute, 1), (202503, 2 * minute, 1), (202503, 4 * minute, 1),
                  (202503, 7 * minute, 1), (202504, -1, 2), (202504, 10 * minute, 1)]
    request = MetricRequest(("C1",), ())
    assert _read_from_histogram(request)
    (row,) = compute(con, request)
    # Sorted 1, 2, 4, 7, 10: the median at position 0.5 * 4 = 2 is 4; the 90th percentile at
    # 0.9 * 4 = 3.6 lies 0.6 of the way from 7 to 10: 8.8.
    assert (row.median, row.p90, row.n, row.missing) == (4, pytest.approx(8.8), 5, 2)
    by_month = {r.group["month"]: (r.median, r.p90, r.n, r.missing)
                for r in compute(con, MetricRequest(("C1",), ("month",)))}
    # March 1, 2, 4, 7: median at 1.5: 2 + 0.5 * 2 = 3; 90th at 2.7: 4 + 0.7 * 3 = 6.1.
    assert by_month == {"2025-03": (3, pytest.approx(6.1), 4, 0),
                        "2025-04": (10, 10, 1, 2)}
    _same_both_ways(con, request)


def test_conditions_are_read_over_the_stored_columns(con, tmp_path):
    _import(con, tmp_path, "calls.csv", CALLS)
    guarded.update_jurisdiction(con, LOCAL, "J", target_categories=["WELFARE_CHECK"])
    assert aggregates.stale_groups(con) == 0
    got = {r.metric: (r.median, r.p90, r.n, r.missing)
           for r in compute(con, MetricRequest(("C5", "C6"), ()))}
    # Police on target-type calls: 20 and 30 minutes to scene (median 25, 90th 20 + 0.9 *
    # 10 = 29); the team's: 10 and 25 (median 17.5, 90th 10 + 0.9 * 15 = 23.5).
    assert got == {"C5": (25, pytest.approx(29), 2, 0), "C6": (17.5, pytest.approx(23.5), 2, 0)}
    for request in (MetricRequest(("C5", "C6"), ("month",)),
                    MetricRequest(("C1", "C5", "A1", "B1"), ("jurisdiction", "quarter"))):
        assert _read_from_histogram(request)
        _same_both_ways(con, request)


def test_histograms_follow_every_kind_of_write(con, tmp_path):
    requests = [MetricRequest(TIMED, ()), MetricRequest(TIMED, ("month",)),
                MetricRequest(("C5", "C6", "A2"), ("jurisdiction",),
                              Filters(date_from=date(2025, 3, 1), date_to=date(2025, 3, 31)))]

    def check():
        assert aggregates.stale_groups(con) == 0
        for request in requests:
            _same_both_ways(con, request)

    first = _import(con, tmp_path, "calls.csv", CALLS)
    check()
    guarded.update_jurisdiction(con, LOCAL, "J", target_categories=["WELFARE_CHECK", "ROBBERY"])
    check()
    save_crosswalk(con, "J", [{"call_type": "ROBBERY", "category": "WELFARE_CHECK",
                               "eligible": True}])
    check()
    # An update (call 4 reaches the scene now) and a new month.
    second = _import(con, tmp_path, "more.csv", CALLS.replace(
        "2025-03-06 10:07,,ROBBERY", "2025-03-06 10:07,2025-03-06 10:40,ROBBERY")
        + "8,2025-05-01 10:00,2025-05-01 10:03,2025-05-01 10:09,WELFARE CHECK,POLICE\n")
    check()
    assert {r.group["month"] for r in compute(con, MetricRequest(("C5",), ("month",)))} == {
        "2025-03", "2025-04", "2025-05"}
    undo_import(con, second.import_id)
    check()
    undo_import(con, first.import_id)
    check()
    assert con.execute("SELECT count(*) FROM calls_durations").fetchone()[0] == 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("durations") / "demo.duckdb")
    populate_demo(con, scale=0.02)
    yield con
    con.close()


def test_the_demo_equals_the_rows(demo):
    assert duration_tables.stale_groups(demo) == 0
    some = tuple(r[0] for r in demo.execute(
        "SELECT jurisdiction FROM jurisdictions ORDER BY 1 LIMIT 2").fetchall())
    months = Filters(jurisdictions=some, date_from=date(2024, 2, 1), date_to=date(2024, 7, 31))
    for by in ((), ("jurisdiction",), ("month",), ("jurisdiction", "year")):
        for filters in (Filters(), months):
            request = MetricRequest(TIMED, by, filters)
            assert _read_from_histogram(request)
            rows = _same_both_ways(demo, request)
            assert sum(r[2] is not None for r in rows) >= len(rows) // 2, request


def test_margins_equal_the_rows(demo):
    """Disclosure control's levels (compute_levels) read the margins' medians off it too."""
    request = MetricRequest(("C2", "C5", "B1"), ("jurisdiction", "month"))
    levels = [("jurisdiction", "month"), ("jurisdiction",), ()]
    with _histogram(rows_only=False):
        fast = compute_levels(demo, request, levels)
    with _histogram(rows_only=True):
        slow = compute_levels(demo, request, levels)
    assert {lv: _rows(fast[lv]) for lv in levels} == {lv: _rows(slow[lv]) for lv in levels}
    assert all(r.median is not None for r in fast[()] if r.metric == "C2")


@pytest.mark.parametrize("request_", [
    MetricRequest(("C1",), (), Filters(date_from=date(2024, 2, 2))),     # part of a month
    MetricRequest(("C5",), (), Filters(categories=("WELFARE_CHECK",))),  # not in the table
    MetricRequest(("C2",), (), Filters(teams=("North",))),
    MetricRequest(("C1",), ("area",)),
    MetricRequest(("C2",), ("hour",)),
], ids=["part-month", "category", "team", "by-area", "by-hour"])
def test_what_the_table_lacks_reads_the_rows(demo, request_):
    assert not _read_from_histogram(request_)
    with rollup.rows_only():
        assert not _read_from_histogram(MetricRequest(("C1",), ()))
    _same_both_ways(demo, request_)


def test_records_written_by_hand_are_timed_from_the_rows(con, tmp_path):
    _import(con, tmp_path, "calls.csv", CALLS)
    table = duration_tables.DURATION_TABLES[0]
    assert duration_rollup.available(con, table)
    con.execute("INSERT INTO calls (jurisdiction, call_id, received_at, received_local, "
                "dispatched_at, call_type, import_id, received_month) VALUES ('J', 'X', "
                "TIMESTAMPTZ '2025-03-09 10:00+00', TIMESTAMP '2025-03-09 10:00', "
                "TIMESTAMPTZ '2025-03-09 10:30+00', 'ROBBERY', 0, 202503)")
    assert not duration_rollup.available(con, table)
    (row,) = compute(con, MetricRequest(("C1",), ()))
    assert (row.median, row.n) == (5.5, 6)  # 1, 2, 4, 7, 10 and 30 minutes


def test_a_new_table_is_filled_beside_counted_ones(db_path, tmp_path):
    """A database whose monthly counts are current gains the histograms: ensure_current
    counts each empty table on its own (once the calls were only counted if all were)."""
    con = connect(db_path)
    _import(con, tmp_path, "calls.csv", CALLS)
    con.execute("UPDATE calls_monthly SET calls = calls * 10")  # a marker: left as it is
    for table in duration_tables.TABLES:
        con.execute(f"DROP TABLE {table}")
    con.close()
    con = connect(db_path)
    assert duration_tables.stale_groups(con) == 0
    assert con.execute("SELECT sum(calls) FROM calls_durations").fetchone()[0] == 14
    assert con.execute("SELECT sum(calls) FROM calls_monthly").fetchone()[0] == 70
    con.close()


def test_report_explains_and_forces_rows(db_path, tmp_path):
    import json

    from click.testing import CliRunner

    from metrics.cli import cli

    con = connect(db_path)
    _import(con, tmp_path, "calls.csv", CALLS)
    con.close()
    args = ["report", "--db", str(db_path), "--metric", "C1", "--by", "month"]
    explained = CliRunner().invoke(cli, args + ["--explain"])
    assert "FROM calls_durations" in explained.output, explained.output
    forced = CliRunner().invoke(cli, args + ["--explain", "--rows"])
    assert "calls_durations" not in forced.output and "FROM calls" in forced.output
    fast, slow = (json.loads(CliRunner().invoke(cli, args + extra + ["--json"]).output)["rows"]
                  for extra in ([], ["--rows"]))
    assert [(r["median"], r["n"]) for r in fast] == [(r["median"], r["n"]) for r in slow] == [
        (3.0, 4), (10.0, 1)]


def test_a_call_imported_after_its_response_moves_the_response_time(con, tmp_path):
    """C2 starts at the linked call's receipt (data/links.py): importing or undoing the call
    changes it, though no count of the responses changes."""
    runs = parse_profile("""
kind = "responses"
[columns]
response_id = "Run"
call_id = "Call"
requested_at = "Requested"
arrived_at = "On scene"
[options]
timezone = "UTC"
""")
    path = tmp_path / "runs.csv"
    path.write_text("Run,Call,Requested,On scene\nR1,1,2025-03-03 10:05,2025-03-03 10:20\n")
    import_file(con, path, kind="responses", jurisdiction="J", profile=runs)

    def c2():
        assert duration_tables.stale_groups(con) == 0
        _same_both_ways(con, MetricRequest(("C2",), ("month",)))
        return compute(con, MetricRequest(("C2",), ()))[0].median

    assert c2() == 15  # from the team's own request time
    calls = _import(con, tmp_path, "calls.csv", CALLS)
    assert c2() == 20  # from call 1's receipt, 10:00
    undo_import(con, calls.import_id)
    assert c2() == 15
