"""The maintained monthly tables (data/aggregates.py) equal the calls after every kind of write,
and every request the engine answers from them (metrics/rollup.py) equals the same request
over the rows (``rollup.rows_only``)."""
from __future__ import annotations

import sys
from contextlib import contextmanager, nullcontext
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data import aggregates, import_file, parse_profile, undo_import
from data.connection import connect
from data.crosswalk import save_crosswalk
from data.demo import populate_demo
from metrics import CountRequest, Filters, MetricRequest, compute, compute_counts
from metrics import engine, rollup
from metrics.engine import compute_levels, explain
from metrics.registry import REGISTRY
from service import guarded
from service.access import LOCAL

PROFILE = parse_profile("""
kind = "calls"
[columns]
call_id = "Call No"
received_at = "Received"
responder = "Unit"
call_type = "Type"
area = "Beat"
[options]
timezone = "UTC"
""")
FIRST = ("Call No,Received,Type,Unit,Beat\n"
         "1,2025-03-03 10:00,WELFARE CHECK,CRISIS TEAM,North\n"  # Monday 10:00
         "2,2025-03-03 22:00,WELFARE CHECK,POLICE,North\n"       # Monday 22:00
         "3,2025-03-04 11:00,ROBBERY,POLICE,South\n"
         "4,2025-04-01 12:00,XYZZY,POLICE,South\n")
# Call 2 now went to the team, call 5 is new (May); 1, 3 and 4 are unchanged.
SECOND = ("Call No,Received,Type,Unit,Beat\n"
          "1,2025-03-03 10:00,WELFARE CHECK,CRISIS TEAM,North\n"
          "2,2025-03-03 22:00,WELFARE CHECK,CRISIS TEAM,North\n"
          "3,2025-03-04 11:00,ROBBERY,POLICE,South\n"
          "4,2025-04-01 12:00,XYZZY,POLICE,South\n"
          "5,2025-05-05 09:00,WELFARE CHECK,POLICE,North\n")

# Counts, shares and a duration (its counts from the rows, beside the table's).
MIXED = ("A1", "A1P", "A3", "A3U", "A4", "B1", "B2", "B3", "B4", "Q1", "C1")
REQUESTS = [
    MetricRequest(MIXED, ()),
    MetricRequest(MIXED, ("month",)),
    MetricRequest(("A3", "B1", "A4"), ("weekday_hour",)),
    MetricRequest(("A1", "B1"), ("area", "category")),
    MetricRequest(("A1", "B1", "A3U"), ("responder",),
                  Filters(date_from=date(2025, 3, 1), date_to=date(2025, 3, 31))),
    MetricRequest(("A3", "B1"), ("quarter",), Filters(areas=("North",))),
]


def _rows(rows):
    return sorted(((r.metric, tuple(sorted(r.group.items(), key=str)), r.numerator,
                    r.denominator, r.value, r.median, r.p90, r.n, r.missing) for r in rows),
                  key=repr)


@contextmanager
def _histogram(rows_only: bool = True):
    """Medians of the rows from their histogram (metrics.sql.quantile_sql), and (with
    ``rows_only``) every request from the rows: the maintained histograms of durations are
    read with the same SQL, so the same numbers to the last bit (quantile_cont, which the
    rows use on small sources, can differ in the last binary digit:
    tests/test_duration_tables.py)."""
    kept = engine.QUANTILES_IN_MEMORY_ROWS
    engine.QUANTILES_IN_MEMORY_ROWS = -1
    try:
        with rollup.rows_only() if rows_only else nullcontext():
            yield
    finally:
        engine.QUANTILES_IN_MEMORY_ROWS = kept


def _same_both_ways(con, request):
    with _histogram(rows_only=False):
        fast = compute(con, request)
    with _histogram():
        slow = compute(con, request)
    assert _rows(fast) == _rows(slow), request
    return fast


def _import(con, tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return import_file(con, path, kind="calls", jurisdiction="J", profile=PROFILE)


def _value(con, metric, by=(), filters=Filters()):
    return {tuple(r.group.values()): r.numerator
            for r in compute(con, MetricRequest((metric,), by, filters))}


def _check(con):
    assert aggregates.stale_groups(con) == 0
    for request in REQUESTS:
        _same_both_ways(con, request)


def test_tables_follow_every_kind_of_write(con, tmp_path):
    first = _import(con, tmp_path, "first.csv", FIRST)
    _check(con)
    assert con.execute("SELECT sum(calls) FROM calls_monthly").fetchone()[0] == 4
    assert _value(con, "A1", ("month",)) == {("2025-03",): 3, ("2025-04",): 1}

    guarded.update_jurisdiction(con, LOCAL, "J", target_categories=["WELFARE_CHECK"])
    _check(con)
    assert _value(con, "A3") == {(): 2}  # both welfare checks
    # Coverage 08:00-20:00: the 22:00 welfare check is out of hours, not eligible.
    guarded.update_jurisdiction(con, LOCAL, "J", coverage_start_hour=8, coverage_end_hour=20)
    _check(con)
    assert (_value(con, "A3"), _value(con, "A4")) == ({(): 1}, {(): 1})
    assert _value(con, "A4", ("weekday_hour",)) == {("1-10",): 0, ("1-22",): 1, ("2-11",): 0,
                                                    ("2-12",): 0}

    second = _import(con, tmp_path, "second.csv", SECOND)   # an update and a new month
    assert (second.rows_inserted, second.rows_updated) == (1, 1)
    _check(con)
    assert _value(con, "A1", ("month",)) == {("2025-03",): 3, ("2025-04",): 1,
                                             ("2025-05",): 1}
    assert _value(con, "A3") == {(): 2}                  # calls 1 and 5, in hours

    save_crosswalk(con, "J", [{"call_type": "XYZZY", "category": "WELFARE_CHECK",
                               "eligible": True}])
    _check(con)
    assert _value(con, "A3", ("month",)) == {("2025-03",): 1, ("2025-04",): 1,
                                             ("2025-05",): 1}

    undo_import(con, second.import_id)    # call 5 goes; call 2 is the police's again
    _check(con)
    assert _value(con, "A1") == {(): 4}
    undo_import(con, first.import_id)     # J was created by the first import: all goes
    _check(con)
    assert con.execute("SELECT count(*) FROM calls_monthly").fetchone()[0] == 0


def test_hand_worked_table_rows(con, tmp_path):
    _import(con, tmp_path, "first.csv", FIRST)
    rows = con.execute("SELECT local_month, area, responder, ar_responded, calls "
                       "FROM calls_monthly ORDER BY ALL").fetchall()
    # March: North has the team's call and the police's; South the robbery. April: XYZZY.
    assert rows == [(202503, "North", "alternative", True, 1),
                    (202503, "North", "police", False, 1),
                    (202503, "South", "police", False, 1),
                    (202504, "South", "police", False, 1)]
    hours = con.execute("SELECT local_weekday, local_hour, calls FROM calls_hourly "
                        "ORDER BY ALL").fetchall()
    assert hours == [(1, 10, 1), (1, 22, 1), (2, 11, 1), (2, 12, 1)]


def test_an_import_counts_again_only_its_own_months(con, tmp_path):
    _import(con, tmp_path, "first.csv", FIRST)
    # A marker in April: an import of May alone must leave it (and March) as they are.
    con.execute("UPDATE calls_monthly SET calls = 99 WHERE local_month = 202504")
    _import(con, tmp_path, "may.csv", "Call No,Received,Type,Unit,Beat\n"
            "9,2025-05-06 09:00,WELFARE CHECK,POLICE,North\n")
    assert con.execute("SELECT local_month, sum(calls) FROM calls_monthly GROUP BY 1 "
                       "ORDER BY 1").fetchall() == [(202503, 3), (202504, 99), (202505, 1)]


def test_explain_says_which_was_read(con, tmp_path):
    _import(con, tmp_path, "first.csv", FIRST)
    request = MetricRequest(("B1",), ("jurisdiction", "month"))
    assert "FROM calls_monthly" in explain(request)
    assert "FROM calls_hourly" in explain(MetricRequest(("B1",), ("hour",)))
    with rollup.rows_only():
        assert "calls_monthly" not in explain(request)
    # Part of a month, a grouping outside the tables: the rows.
    part = Filters(date_from=date(2025, 3, 2), date_to=date(2025, 3, 31))
    assert "calls_monthly" not in explain(MetricRequest(("B1",), (), part))
    # A duration: from its histogram (data/duration_tables.py), not the monthly counts.
    assert "FROM calls_monthly" not in explain(MetricRequest(("C1",), ()))
    assert "FROM calls_durations" in explain(MetricRequest(("C1",), ()))
    assert "maintained table" not in explain(MetricRequest(("B1",), ("hour", "category")))


def test_whole_months():
    assert rollup.whole_months(Filters())
    assert rollup.whole_months(Filters(date_from=date(2024, 2, 1), date_to=date(2024, 2, 29)))
    assert not rollup.whole_months(Filters(date_to=date(2023, 2, 27)))
    assert not rollup.whole_months(Filters(date_from=date(2024, 2, 2)))


def test_without_the_tables_the_rows_answer(con, tmp_path):
    _import(con, tmp_path, "first.csv", FIRST)
    expected = _rows(compute(con, REQUESTS[1]))
    for table in aggregates.TABLES:   # as a Parquet export without them
        con.execute(f"DROP TABLE {table}")
    assert not rollup.available(con, aggregates.ROLLUPS[0])
    with _histogram():
        assert _rows(compute(con, REQUESTS[1])) == expected


def test_records_written_by_hand_are_counted_from_the_rows(con, tmp_path):
    _import(con, tmp_path, "first.csv", FIRST)
    table = aggregates.ROLLUPS[0]
    assert rollup.available(con, table)
    # A call inserted by hand, not through an import: the table no longer counts every call.
    con.execute("INSERT INTO calls (jurisdiction, call_id, received_at, received_local, "
                "call_type, import_id, received_month) VALUES ('J', 'X', TIMESTAMPTZ "
                "'2025-03-09 10:00+00', TIMESTAMP '2025-03-09 10:00', 'ROBBERY', 0, 202503)")
    assert not rollup.available(con, table)
    assert _value(con, "A1", ("month",)) == {("2025-03",): 4, ("2025-04",): 1}


def test_an_earlier_database_gains_the_tables(db_path, tmp_path):
    con = connect(db_path)
    _import(con, tmp_path, "first.csv", FIRST)
    for table in aggregates.TABLES:
        con.execute(f"DROP TABLE {table}")
    con.close()
    con = connect(db_path)
    assert con.execute("SELECT sum(calls) FROM calls_hourly").fetchone()[0] == 4
    assert aggregates.stale_groups(con) == 0


RESPONSES = parse_profile("""
kind = "responses"
[columns]
response_id = "Run"
requested_at = "Requested"
team = "Team"
contact_made = "Contact"
police_backup = "Backup"
transport_destination = "Destination"
[options]
timezone = "UTC"
""")
REFERRALS = parse_profile("""
kind = "referrals"
[columns]
referral_id = "Ref"
response_id = "Run"
referred_at = "Referred"
[options]
timezone = "UTC"
""")
RUNS = ("Run,Requested,Team,Contact,Backup,Destination\n"
        "R1,2025-03-03 10:00,North,yes,no,none\n"
        "R2,2025-03-20 11:00,North,yes,yes,emergency department\n"
        "R3,2025-04-02 12:00,South,no,,\n")
RESPONSE_REQUESTS = [
    MetricRequest(("D1", "D2", "D4", "D5ED", "E1", "P2", "C2", "F1"), ()),
    MetricRequest(("D1", "E1", "D5ED"), ("team", "month")),
    MetricRequest(("D2", "E1"), ("transport_destination",), Filters(teams=("North",))),
    MetricRequest(("D1",), ("quarter",), Filters(date_from=date(2025, 3, 1),
                                                 date_to=date(2025, 3, 31))),
]


def _import_kind(con, tmp_path, name, text, profile, kind):
    path = tmp_path / name
    path.write_text(text)
    return import_file(con, path, kind=kind, jurisdiction="J", profile=profile)


def test_response_tables_follow_responses_and_referrals(con, tmp_path):
    def check():
        assert aggregates.stale_groups(con) == 0
        for request in RESPONSE_REQUESTS:
            _same_both_ways(con, request)

    runs = _import_kind(con, tmp_path, "runs.csv", RUNS, RESPONSES, "responses")
    check()
    assert "FROM responses_monthly" in explain(RESPONSE_REQUESTS[1])
    assert _value(con, "D1", ("month",)) == {("2025-03",): 2, ("2025-04",): 0}
    # A referral during R1 makes it a referred contact (has_referral, data/links.py).
    refs = _import_kind(con, tmp_path, "refs.csv", "Ref,Run,Referred\nF1,R1,2025-03-03 10:30\n",
                        REFERRALS, "referrals")
    check()
    assert _value(con, "E1") == {(): 1}
    again = _import_kind(con, tmp_path, "runs2.csv", RUNS.replace("R3,2025-04-02 12:00,South,no",
                                                                  "R3,2025-04-02 12:00,South,yes")
                         + "R4,2025-05-01 09:00,South,yes,no,shelter\n", RESPONSES, "responses")
    check()
    assert _value(con, "D1", ("team",)) == {("North",): 2, ("South",): 2}
    undo_import(con, again.import_id)
    check()
    undo_import(con, refs.import_id)
    check()
    assert _value(con, "E1") == {(): 0}
    undo_import(con, runs.import_id)
    check()
    assert con.execute("SELECT count(*) FROM responses_monthly").fetchone()[0] == 0


# --- Random requests over a small demo cohort --------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("rollup") / "demo.duckdb")
    populate_demo(con, scale=0.02)
    yield con
    con.close()


_COUNTED = [m.id for m in REGISTRY if m.table == "calls" and not m.duration]
_DIMS = ["jurisdiction", "month", "quarter", "year", "weekday", "hour", "weekday_hour", "area",
         "category", "responder", "origin", "not_served_reason"]


@st.composite
def _requests(draw, options):
    metrics = draw(st.lists(st.sampled_from(_COUNTED + ["C1", "C5"]), min_size=1, max_size=4,
                            unique=True))
    by = tuple(draw(st.lists(st.sampled_from(_DIMS), max_size=2, unique=True)))
    first, last = draw(st.sampled_from(options["months"])), draw(
        st.sampled_from(options["months"]))
    first, last = min(first, last), max(first, last)
    end = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    whole = draw(st.booleans())
    filters = Filters(
        jurisdictions=tuple(draw(st.lists(st.sampled_from(options["j"]), max_size=2,
                                          unique=True))),
        date_from=first if whole else first.replace(day=2), date_to=date.fromordinal(
            end.toordinal() - 1) if draw(st.booleans()) else None,
        categories=tuple(draw(st.lists(st.sampled_from(options["cat"]), max_size=2,
                                       unique=True))),
        areas=tuple(draw(st.lists(st.sampled_from(options["area"]), max_size=1))),
        origins=tuple(draw(st.lists(st.sampled_from(("911", "officer_initiated")),
                                    max_size=1))))
    if draw(st.booleans()):
        filters = Filters(jurisdictions=filters.jurisdictions)  # all time, often
    return MetricRequest(tuple(metrics), by, filters)


def _options(con):
    q = lambda sql: [r[0] for r in con.execute(sql).fetchall()]  # noqa: E731
    return {"j": q("SELECT jurisdiction FROM jurisdictions ORDER BY 1"),
            "cat": q("SELECT DISTINCT effective_category FROM calls WHERE effective_category "
                     "IS NOT NULL ORDER BY 1")[:6],
            "area": q("SELECT DISTINCT area FROM calls WHERE area IS NOT NULL ORDER BY 1")[:4],
            "months": [date(m // 100, m % 100, 1) for m in q(
                "SELECT DISTINCT received_month FROM calls WHERE received_month IS NOT NULL "
                "ORDER BY 1")]}


def test_random_requests_equal_the_rows(demo):
    assert aggregates.stale_groups(demo) == 0
    options = _options(demo)
    used = []

    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(_requests(options))
    def check(request):
        if rollup.choose("calls", [m for m in _metrics(request)], request.by,
                         request.filters)[0]:
            used.append(request)
        _same_both_ways(demo, request)

    check()
    assert len(used) >= 15  # the property was tested on the table path, not only the rows


_RESPONSE_COUNTED = [m.id for m in REGISTRY if m.table == "responses" and not m.duration
                     and m.kind not in ("distinct", "repeat")]
_RESPONSE_DIMS = ["jurisdiction", "month", "quarter", "year", "weekday", "area", "team",
                  "race_ethnicity", "age_group", "gender", "outcome", "transport_destination"]


@st.composite
def _response_requests(draw, options):
    metrics = draw(st.lists(st.sampled_from(_RESPONSE_COUNTED + ["C2", "F1"]), min_size=1,
                            max_size=4, unique=True))
    by = tuple(draw(st.lists(st.sampled_from(_RESPONSE_DIMS), max_size=2, unique=True)))
    month = draw(st.sampled_from(options["months"]))
    end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    filters = Filters(
        jurisdictions=tuple(draw(st.lists(st.sampled_from(options["j"]), max_size=2,
                                          unique=True))),
        date_from=month if draw(st.booleans()) else None,
        date_to=date.fromordinal(end.toordinal() - draw(st.sampled_from((1, 3)))),
        teams=tuple(draw(st.lists(st.sampled_from(options["team"]), max_size=1))),
        areas=tuple(draw(st.lists(st.sampled_from(options["area"]), max_size=1))))
    if draw(st.booleans()):
        filters = Filters(teams=filters.teams)  # all time, often
    return MetricRequest(tuple(metrics), by, filters)


def test_random_response_requests_equal_the_rows(demo):
    options = _options(demo)
    options["team"] = [r[0] for r in demo.execute(
        "SELECT DISTINCT team FROM responses WHERE team IS NOT NULL ORDER BY 1").fetchall()][:4]
    used = []

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(_response_requests(options))
    def check(request):
        if rollup.choose("responses", _metrics(request), request.by, request.filters)[0]:
            used.append(request)
        _same_both_ways(demo, request)

    check()
    assert len(used) >= 10


def _metrics(request):
    from metrics.engine import resolve
    return resolve(request)


def test_margins_and_counts_equal_the_rows(demo):
    """Disclosure control's margins (compute_levels) and named counts take the same path."""
    request = MetricRequest(("B1", "A4", "C1"), ("jurisdiction", "month"))
    levels = [("jurisdiction", "month"), ("jurisdiction",), ()]
    with _histogram(rows_only=False):
        fast = compute_levels(demo, request, levels)
    with _histogram():
        slow = compute_levels(demo, request, levels)
    assert {lv: _rows(fast[lv]) for lv in levels} == {lv: _rows(slow[lv]) for lv in levels}
    counts = CountRequest(("calls_eligible", "calls_phone"), ("category",))
    fast_counts = compute_counts(demo, counts)
    with rollup.rows_only():
        assert _rows(fast_counts) == _rows(compute_counts(demo, counts))


def test_partitioned_parquet_reads_the_tables_too(demo):
    """bench/scaling.py's export: the maintained tables go with the calls, and the engine
    over the Parquet files gives the database's numbers, from the tables."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import scaling

    folder = Path(demo.execute("SELECT file FROM pragma_database_list WHERE name = "
                               "current_database()").fetchone()[0]).parent / "parquet"
    scaling.export_parquet(demo, folder)
    pq = scaling.parquet_connection(folder)
    try:
        assert all(rollup.available(pq, r) for r in aggregates.ROLLUPS)
        for request in REQUESTS:
            assert _rows(compute(pq, request)) == _rows(compute(demo, request)), request
    finally:
        pq.close()


def test_report_rows_flag_gives_the_same_numbers(db_path, tmp_path):
    import json

    from click.testing import CliRunner

    from metrics.cli import cli

    con = connect(db_path)
    _import(con, tmp_path, "first.csv", FIRST)
    con.close()
    args = ["report", "--db", str(db_path), "--metric", "A1", "--metric", "B1", "--by",
            "month", "--json"]
    fast, slow = (CliRunner().invoke(cli, args + extra) for extra in ([], ["--rows"]))
    assert fast.exit_code == 0 and slow.exit_code == 0, fast.output + slow.output
    assert json.loads(fast.output)["rows"] == json.loads(slow.output)["rows"]
    assert [r["numerator"] for r in json.loads(fast.output)["rows"]
            if r["metric"] == "A1"] in ([3, 1], [1, 3])
    explained = CliRunner().invoke(cli, ["report", "--metric", "B1", "--explain", "--rows"])
    assert "maintained table" not in explained.output and "FROM calls" in explained.output


def test_refresh_command_counts_hand_edits_again(db_path, tmp_path):
    from click.testing import CliRunner

    from data.cli import cli

    con = connect(db_path)
    _import(con, tmp_path, "first.csv", FIRST)
    _import_kind(con, tmp_path, "runs.csv", RUNS, RESPONSES, "responses")
    con.execute("UPDATE responses SET team = 'East' WHERE response_id = 'R1'")  # by hand
    con.execute("DELETE FROM calls WHERE call_id = '4'")
    assert aggregates.stale_groups(con) > 0
    con.close()
    out = CliRunner().invoke(cli, ["refresh", "--db", str(db_path)])
    assert out.exit_code == 0, out.output
    con = connect(db_path)
    assert aggregates.stale_groups(con) == 0
    assert _value(con, "A1", ("month",)) == {("2025-03",): 3}
    assert _value(con, "D1", ("team",)) == {("East",): 1, ("North",): 1, ("South",): 0}
