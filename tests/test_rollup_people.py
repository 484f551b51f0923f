"""Referrals (E1N, E2_30, E2_90) from ``referrals_monthly`` and people (F1, F2_k) from
``people_monthly`` (data/aggregates.py, metrics/people.py): the tables follow every kind of
write, and every request they answer equals the same request over the rows."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from data import aggregates, import_file, parse_profile, undo_import
from data.connection import connect
from data.crosswalk import save_crosswalk
from data.demo import populate_demo
from metrics import Filters, MetricRequest, compute, rollup
from metrics.engine import compute_levels, explain
from service import guarded
from service.access import LOCAL

RESPONSES = parse_profile("""
kind = "responses"
[columns]
response_id = "Run"
requested_at = "Requested"
person_key = "Person"
area = "Area"
[options]
timezone = "UTC"
""")
REFERRALS = parse_profile("""
kind = "referrals"
[columns]
referral_id = "Ref"
response_id = "Run"
referred_at = "Referred"
status = "Status"
connected_at = "Connected"
service_type = "Service"
[options]
timezone = "UTC"
""")
# J: P1 1 contact (March); P2 3 in March and 2 in April (5); P3 2 in March and 4 in April
# (6); one response in April without a person key.
RUNS_J = "Run,Requested,Person,Area\n" + "".join(
    f"R{i},{day} 10:00,{person},{area}\n" for i, (day, person, area) in enumerate([
        ("2025-03-01", "P1", "North"),
        ("2025-03-02", "P2", "North"), ("2025-03-03", "P2", "North"),
        ("2025-03-04", "P2", "South"), ("2025-04-01", "P2", "South"),
        ("2025-04-02", "P2", "South"),
        ("2025-03-05", "P3", "South"), ("2025-03-06", "P3", "South"),
        ("2025-04-03", "P3", "South"), ("2025-04-04", "P3", "South"),
        ("2025-04-05", "P3", "South"), ("2025-04-06", "P3", "South"),
        ("2025-04-07", "", "South")]))
# K: P1 again, 4 contacts in April: over both jurisdictions P1 has 5.
RUNS_K = "Run,Requested,Person,Area\n" + "".join(
    f"K{i},2025-04-{10 + i} 10:00,P1,East\n" for i in range(4))
# J's referrals. The latest time in them (as_of) is G's, 2025-06-10 10:00: mature for 30 days
# is referred at or before 2025-05-11 10:00, for 90 days at or before 2025-03-12 10:00.
REFS = ("Ref,Run,Referred,Status,Connected,Service\n"
        "A,R0,2025-03-01 10:30,connected,2025-03-20 10:00,housing_shelter\n"  # 19 days
        "B,R1,2025-03-10 10:00,connected,2025-04-15 10:00,mental_health\n"    # 36 days
        "C,R6,2025-04-09 10:00,made,,mental_health\n"
        "D,R7,2025-05-11 10:00,made,,medical\n"      # exactly 30 days before as_of: mature
        "E,R8,2025-05-11 10:01,made,,medical\n"      # a minute later: not yet
        "G,R9,2025-06-10 10:00,made,,medical\n")
# Mature for 30 days: A, B, C, D; of those connected within 30 days: A. E2_30 = 1/4.
# Mature for 90 days: A, B; both connected within 90 days. E2_90 = 2/2.
LATER = "Ref,Run,Referred,Status,Connected,Service\nH,R10,2025-07-20 10:00,made,,medical\n"
# With H, as_of moves to 2025-07-20 10:00: the 30-day cut to 2025-06-20 10:00, so A, B, C, D,
# E and G are mature (H is not): E2_30 = 1/6; the 90-day cut to 2025-04-21 10:00, so A, B and
# C: E2_90 = 2/3.

PEOPLE = ("F1", "F2_5", "F2_10")
REFERRAL_METRICS = ("E1N", "E2_30", "E2_90")
WHOLE = Filters(date_from=date(2025, 3, 1), date_to=date(2025, 4, 30))
REQUESTS = [MetricRequest(ms, by, f) for ms in (PEOPLE, REFERRAL_METRICS)
            for by in ((), ("jurisdiction",), ("month",), ("jurisdiction", "month"))
            for f in (Filters(), Filters(jurisdictions=("J",)), WHOLE)]
REQUESTS += [MetricRequest(REFERRAL_METRICS, ("area",)),
             MetricRequest(REFERRAL_METRICS, ("service_type",), WHOLE)]


def _rows(rows):
    return sorted(((r.metric, tuple(sorted(r.group.items(), key=str)), r.numerator,
                    r.denominator, r.value) for r in rows), key=repr)


def _same_both_ways(con, request, levels=None):
    levels = levels or [request.by]
    fast = compute_levels(con, request, levels)
    with rollup.rows_only():
        slow = compute_levels(con, request, levels)
    for lv in levels:
        assert _rows(fast[lv]) == _rows(slow[lv]), (request, lv)
    return fast


def _check(con):
    assert aggregates.stale_groups(con) == 0
    for request in REQUESTS:
        # With the margins disclosure control asks for: one level less, and none.
        _same_both_ways(con, request, list(dict.fromkeys([request.by, request.by[:1], ()])))


def _import(con, tmp_path, text, profile, kind, jurisdiction="J"):
    path = tmp_path / f"{kind}-{jurisdiction}-{abs(hash(text))}.csv"
    path.write_text(text)
    return import_file(con, path, kind=kind, jurisdiction=jurisdiction, profile=profile)


def _values(con, metric, by=(), filters=Filters()):
    return {tuple(r.group.values()): (r.numerator, r.denominator)
            for r in compute(con, MetricRequest((metric,), by, filters))}


def test_hand_worked_people_and_referrals(con, tmp_path):
    _import(con, tmp_path, RUNS_J, RESPONSES, "responses")
    _import(con, tmp_path, RUNS_K, RESPONSES, "responses", "K")
    _import(con, tmp_path, REFS, REFERRALS, "referrals")
    # No period (the pages' default): each person's contacts over all time, as kept.
    assert "FROM people_total" in explain(MetricRequest(PEOPLE, ("jurisdiction",)))
    assert "FROM people_total" in explain(MetricRequest(PEOPLE, ()))
    months = Filters(date_from=date(2025, 3, 1), date_to=date(2025, 4, 30))
    sql = explain(MetricRequest(PEOPLE, ("jurisdiction",), months))
    assert "FROM people_monthly" in sql and "people_total" not in sql
    assert "FROM people_monthly" in explain(MetricRequest(PEOPLE, ("jurisdiction", "month")))
    for ids in (REFERRAL_METRICS, ("E2_30", "E2_90")):   # the maturity flags are columns
        sql = explain(MetricRequest(ids, ("month",)))
        assert "FROM referrals_monthly" in sql and "FROM referrals f" not in sql, ids
    # People are not additive: J has 3 people, K 1 (P1), both together 3.
    assert _values(con, "F1", ("jurisdiction",)) == {("J",): (3, None), ("K",): (1, None)}
    assert _values(con, "F1") == {(): (3, None)}
    # 5+ contacts: in J, P2 (5) and P3 (6); over both, P1 too (1 in J + 4 in K).
    assert _values(con, "F2_5", ("jurisdiction",)) == {("J",): (2, 3), ("K",): (0, 1)}
    assert _values(con, "F2_5") == {(): (3, 3)}
    # Per month nobody has 5 (March: 1, 3, 2; April: 2, 4 and K's 4), but P1 is in April
    # through K, so April has 3 people.
    assert _values(con, "F2_5", ("month",)) == {("2025-03",): (0, 3), ("2025-04",): (0, 3)}
    assert _values(con, "F2_5", (), Filters(date_from=date(2025, 4, 1),
                                            date_to=date(2025, 4, 30))) == {(): (0, 3)}
    assert _values(con, "E1N") == {(): (6, None)}
    assert _values(con, "E2_30") == {(): (1, 4)}
    assert _values(con, "E2_90") == {(): (2, 2)}
    assert _values(con, "E2_30", ("month",)) == {("2025-03",): (1, 2), ("2025-04",): (0, 1),
                                                 ("2025-05",): (0, 1), ("2025-06",): (0, 0)}
    _check(con)


def test_tables_follow_every_kind_of_write(con, tmp_path):
    runs = _import(con, tmp_path, RUNS_J, RESPONSES, "responses")
    _check(con)
    k = _import(con, tmp_path, RUNS_K, RESPONSES, "responses", "K")
    refs = _import(con, tmp_path, REFS, REFERRALS, "referrals")
    _check(con)
    later = _import(con, tmp_path, LATER, REFERRALS, "referrals")   # as_of moves
    _check(con)
    assert _values(con, "E2_30") == {(): (1, 6)}
    assert _values(con, "E2_90") == {(): (2, 3)}
    # The responses again: R0 (referral A's) now in East; R3 was P2's, now P1's: in J, P1 has
    # 2, P2 4, P3 6 contacts; in K still 4; over both jurisdictions P1 has 6.
    again = _import(con, tmp_path, RUNS_J.replace("R0,2025-03-01 10:00,P1,North",
                                                  "R0,2025-03-01 10:00,P1,East")
                    .replace("R3,2025-03-04 10:00,P2", "R3,2025-03-04 10:00,P1"),
                    RESPONSES, "responses")
    _check(con)
    assert _values(con, "E1N", ("area",))[("East",)] == (1, None)
    assert _values(con, "F2_5", ("jurisdiction",)) == {("J",): (1, 3), ("K",): (0, 1)}
    assert _values(con, "F2_5") == {(): (2, 3)}
    save_crosswalk(con, "J", [{"call_type": "X", "category": "WELFARE_CHECK",
                               "eligible": True}])
    guarded.update_jurisdiction(con, LOCAL, "J", coverage_start_hour=8, coverage_end_hour=20)
    _check(con)
    undo_import(con, again.import_id)
    _check(con)
    undo_import(con, later.import_id)
    _check(con)
    assert _values(con, "E2_30") == {(): (1, 4)}
    undo_import(con, refs.import_id)
    undo_import(con, k.import_id)
    _check(con)
    undo_import(con, runs.import_id)
    _check(con)
    assert con.execute("SELECT count(*) FROM people_monthly").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM referrals_monthly").fetchone()[0] == 0


def test_part_of_a_month_or_an_area_reads_the_rows(con, tmp_path):
    _import(con, tmp_path, RUNS_J, RESPONSES, "responses")
    _import(con, tmp_path, REFS, REFERRALS, "referrals")
    part = Filters(date_from=date(2025, 3, 3), date_to=date(2025, 4, 30))
    assert "people_monthly" not in explain(MetricRequest(PEOPLE, (), part))
    assert "referrals_monthly" not in explain(MetricRequest(REFERRAL_METRICS, (), part))
    assert "people_monthly" not in explain(MetricRequest(PEOPLE, (), Filters(areas=("N",))))
    with rollup.rows_only():
        assert "people_monthly" not in explain(MetricRequest(PEOPLE, ()))
    # From 3 March, P1's only contact (1 March) and one of P2's (2 March) are out: 2 people,
    # P2 with 4 contacts, P3 with 6, the one with 5+.
    assert _values(con, "F2_5", (), part) == {(): (1, 2)}
    _same_both_ways(con, MetricRequest(PEOPLE, (), part))


def test_a_new_table_is_counted_beside_tables_already_counted(db_path, tmp_path):
    con = connect(db_path)
    _import(con, tmp_path, RUNS_J, RESPONSES, "responses")
    _import(con, tmp_path, REFS, REFERRALS, "referrals")
    # As a database from before these two tables: the others are counted, these not there.
    for table in ("people_monthly", "people_total", "referrals_monthly", "person_numbers"):
        con.execute(f"DROP TABLE {table}")
    con.close()
    con = connect(db_path)
    try:
        assert con.execute("SELECT sum(responses) FROM people_monthly").fetchone()[0] == 13
        assert con.execute("SELECT sum(responses) FROM people_total").fetchone()[0] == 13
        assert con.execute("SELECT sum(referrals) FROM referrals_monthly").fetchone()[0] == 6
        assert aggregates.stale_groups(con) == 0
        assert "FROM people_total" in explain(MetricRequest(PEOPLE, ()))
    finally:
        con.close()


def test_person_numbers_are_exact_and_kept(con, tmp_path):
    runs = _import(con, tmp_path, RUNS_J, RESPONSES, "responses")
    numbers = dict(con.execute("SELECT person_key, person FROM person_numbers").fetchall())
    assert len(numbers) == 3 and sorted(numbers.values()) == [1, 2, 3]
    undo_import(con, runs.import_id)
    _import(con, tmp_path, RUNS_K, RESPONSES, "responses", "K")   # P1 again
    again = dict(con.execute("SELECT person_key, person FROM person_numbers").fetchall())
    assert again == numbers   # a number is never given again, nor a key renumbered
    assert aggregates.stale_groups(con) == 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("rollup_people") / "demo.duckdb")
    populate_demo(con, scale=0.02)
    yield con
    con.close()


def test_demo_equals_the_rows(demo):
    assert aggregates.stale_groups(demo) == 0
    js = [r[0] for r in demo.execute("SELECT jurisdiction FROM jurisdictions ORDER BY 1")
          .fetchall()]
    months = [r[0] for r in demo.execute(
        "SELECT DISTINCT local_month FROM people_monthly WHERE local_month IS NOT NULL "
        "ORDER BY 1").fetchall()]
    first, after = months[len(months) // 3], months[2 * len(months) // 3 + 1]
    period = Filters(jurisdictions=tuple(js[:2]), date_from=date(first // 100, first % 100, 1),
                     date_to=date(after // 100, after % 100, 1) - timedelta(days=1))
    people = ("F1", "F2_5", "F2_10", "F2_20", "F2_40")
    for by in ((), ("jurisdiction",), ("month",), ("year",), ("jurisdiction", "quarter")):
        for f in (Filters(), Filters(jurisdictions=(js[0],)), period):
            for ms in (people, REFERRAL_METRICS):
                sql = explain(MetricRequest(ms, by, f))
                assert "maintained table" in sql and "FROM referrals f" not in sql
                assert "FROM responses r" not in sql
                _same_both_ways(demo, MetricRequest(ms, by, f),
                                list(dict.fromkeys([by, by[:1], ()])))
    f1 = _values(demo, "F1", ("jurisdiction",))
    assert all(n and n > 0 for n, _ in f1.values()) and len(f1) == len(js)
    # Grouped by the referred person's columns and service type: the table too.
    for by in (("race_ethnicity",), ("service_type", "age_group")):
        assert "FROM referrals_monthly" in explain(MetricRequest(REFERRAL_METRICS, by))
        _same_both_ways(demo, MetricRequest(REFERRAL_METRICS, by, period))
