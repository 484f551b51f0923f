"""Every metric on a hand-built jurisdiction, with the expected values worked out by hand.

Testville (America/Denver): launch 2024-01-01, team on duty 08:00-20:00 every day, 50,000
residents, target categories WELFARE and MENTAL_HEALTH. 2024-03-10 is the spring DST change in
Denver (02:00 MST -> 03:00 MDT).
"""
from __future__ import annotations

from contextlib import nullcontext
from datetime import date

import pytest

from data import aggregates, facts
from data.crosswalk import save_crosswalk
from data.links import refresh_links
from metrics import (BY_ID, REGISTRY, Filters, MetricRequest, compute, disclosure, engine,
                     rollup)
from metrics.stats import reliability, wilson

TZ = "America/Denver"

# call_id, received (local), dispatched (local), call_type, responder, origin, reason
CALLS = [
    ("c1", "2024-03-05 10:00", "2024-03-05 10:01", "WELFARE CHECK", "alternative", "911", None),
    ("c2", "2024-03-05 12:00", "2024-03-05 12:02", "MENTAL", "police", "911", "no unit available"),
    ("c3", "2024-03-05 22:00", None, "MENTAL", "police", "911", None),           # out of hours
    ("c4", "2023-12-20 10:00", None, "WELFARE CHECK", "police", "911", None),    # before launch
    ("c5", "2024-03-06 09:00", "2024-03-06 09:00:30", "ROBBERY", "police", "officer_initiated",
     None),
    ("c6", "2024-03-06 11:00", None, "SUSPICIOUS", "police", "911", None),       # not triaged
    ("c7", "2024-03-07 14:00", None, "UNKNOWN TYPE", "police", "non_emergency", None),  # unmapped
    ("c8", "2024-03-07 15:00", "2024-03-07 15:02", "MENTAL", "alternative", "911", None),
    ("c9", "2024-03-08 16:00", None, "WELFARE CHECK", "phone", "911", None),
    # Received 01:50 MST, dispatched 03:05 MDT: 15 minutes, not 75.
    ("c10", "2024-03-10 01:50", "2024-03-10 03:05", "MENTAL", "police", "911", None),
]
CROSSWALK = [("WELFARE CHECK", "WELFARE", True), ("MENTAL", "MENTAL_HEALTH", True),
             ("ROBBERY", "CRIME", False), ("SUSPICIOUS", "OTHER", None)]
# response_id, call_id, requested, dispatched, arrived, cleared, contact, backup, arrest,
# injury, destination, person
RESPONSES = [
    ("r1", "c1", "2024-03-05 10:01", None, "2024-03-05 10:15", None, True, False, False, False,
     "none", "P1"),
    ("r2", "c8", "2024-03-07 15:01", "2024-03-07 15:02", "2024-03-07 15:20", "2024-03-07 16:00",
     True, True, False, False, "emergency_department", "P1"),
    # Team-initiated, no call; across midnight: 23:50 -> 00:10 is 20 minutes.
    ("r3", None, "2024-03-09 23:50", None, "2024-03-10 00:10", None, False, False, False, False,
     None, "P2"),
    # Linked to a call that is not in the data; never arrived.
    ("r4", "c404", "2024-03-11 09:00", None, None, None, True, False, True, True, "none", "P1"),
]
# referral_id, response_id, referred, status, connected
REFERRALS = [
    ("f1", "r1", "2024-03-05 11:00", "connected", "2024-03-20 11:00"),   # 15 days
    ("f2", "r2", "2024-03-07 16:00", "connected", "2024-05-20 16:00"),   # 74 days
    ("f3", None, "2024-03-08 10:00", "declined", None),                  # no response
    ("f4", "r2", "2024-03-07 16:00", "made", None),
]


def _ts(value):
    return None if value is None else f"timezone('{TZ}', TIMESTAMP '{value}')"


@pytest.fixture
def testville(con):
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone, population, launch_date, "
                "coverage_start_hour, coverage_end_hour, target_categories) VALUES "
                "('Testville', ?, 50000, DATE '2024-01-01', 8, 20, ['WELFARE', 'MENTAL_HEALTH'])",
                [TZ])
    con.executemany("INSERT INTO crosswalk VALUES ('Testville', ?, ?, ?)", CROSSWALK)
    for cid, rec, disp, ctype, resp, origin, reason in CALLS:
        con.execute(
            f"INSERT INTO calls (jurisdiction, call_id, received_at, received_local, "
            f"dispatched_at, call_type, responder, origin, not_served_reason, import_id) VALUES "
            f"('Testville', ?, {_ts(rec)}, TIMESTAMP '{rec}', {_ts(disp) or 'NULL'}, "
            f"?, ?, ?, ?, 1)",
            [cid, ctype, resp, origin, reason])
    for (rid, cid, req, disp, arr, clr, contact, backup, arrest, injury, dest,
         person) in RESPONSES:
        con.execute(
            f"INSERT INTO responses (jurisdiction, response_id, call_id, requested_at, "
            f"requested_local, dispatched_at, arrived_at, cleared_at, contact_made, "
            f"police_backup, arrest, injury, transport_destination, person_key, import_id) "
            f"VALUES ('Testville', ?, ?, {_ts(req)}, TIMESTAMP '{req}', {_ts(disp) or 'NULL'}, "
            f"{_ts(arr) or 'NULL'}, {_ts(clr) or 'NULL'}, ?, ?, ?, ?, ?, ?, 2)",
            [rid, cid, contact, backup, arrest, injury, dest, person])
    for fid, rid, ref, status, conn in REFERRALS:
        con.execute(
            f"INSERT INTO referrals (jurisdiction, referral_id, response_id, referred_at, "
            f"referred_local, status, connected_at, import_id) VALUES ('Testville', ?, ?, "
            f"{_ts(ref)}, TIMESTAMP '{ref}', ?, {_ts(conn) or 'NULL'}, 3)",
            [fid, rid, status])
    refresh_links(con)
    facts.refresh(con)  # rows written by hand: derive what imports derive
    return con


def _one(con, metric_id, **filters):
    rows = compute(con, MetricRequest((metric_id,), (), Filters(**filters)))
    assert len(rows) == 1
    return rows[0]


# (metric, numerator, denominator, value) worked out by hand from the tables above.
EXPECTED = [
    ("A1", 10, None, 10),
    ("A1P", 9, None, 9),               # all but c5 (officer-initiated)
    ("A2", 7, None, 7),                # WELFARE/MENTAL: c1 c2 c3 c4 c8 c9 c10
    ("A3", 4, None, 4),                # c1 c2 c8 c9 (c3, c10 out of hours; c4 before launch)
    ("A3U", 2, None, 2),               # c6 not triaged, c7 unmapped
    ("A4", 2, None, 2),                # c3 22:00, c10 01:50
    ("B1", 2, 4, 0.5),                 # c1, c8 of c1 c2 c8 c9
    ("B2", 2, 9, 2 / 9),
    ("B3", 2, 4, 0.5),                 # c2, c9
    ("B4", 1, 4, 0.25),                # c9 by phone
    ("Q1", 1, 10, 0.1),                # c7
    ("D1", 3, 4, 0.75),
    ("D2", 1, 4, 0.25),
    ("D3", 1, 4, 0.25),
    ("D4", 2, 3, 2 / 3),               # contacts r1 r2 r4 with destination; r1 r4 not moved
    ("D5ED", 1, 3, 1 / 3),             # r2 of r1 r2 r4 (r3 has no destination)
    ("D5CC", 0, 3, 0.0),
    ("D6", 1, 4, 250.0),               # per 1,000 responses
    ("E1", 2, 3, 2 / 3),               # contacts r1 r2 have referrals; r4 none
    ("E1N", 4, None, 4),
    # Latest referral data: f2's connection on 2024-05-20, so all four were made more than 30
    # days before it (but none 90 days before: see the maturity test).
    ("E2_30", 1, 4, 0.25),             # f1 (15 days)
    ("F1", 2, None, 2),                # P1, P2
    ("F2_5", 0, 2, 0.0),
    ("P1", 10, 50000, 0.2),
    ("P2", 4, 50000, 0.08),
]


@pytest.mark.parametrize("metric_id,numerator,denominator,value", EXPECTED)
def test_metric_value(testville, metric_id, numerator, denominator, value):
    r = _one(testville, metric_id)
    assert r.numerator == numerator
    assert r.denominator == denominator
    assert r.value == pytest.approx(value)


def test_every_metric_has_a_hand_worked_check():
    checked = {e[0] for e in EXPECTED} | {"C1", "C2", "C3", "C4", "C5", "C6", "E2_90", "F2_10",
                                           "F2_20", "F2_40", "D5SD", "D5SH", "D5OT"}
    assert {m.id for m in REGISTRY} <= checked


def test_call_processing_time_across_dst(testville):
    r = _one(testville, "C1")
    # c1 1 min, c2 2 min, c8 2 min, c5 0.5 min, c10 15 min (DST): sorted 0.5 1 2 2 15
    assert r.median == pytest.approx(2.0)
    assert r.p90 == pytest.approx(2 + 0.6 * (15 - 2))  # quantile_cont at position 3.6
    assert (r.n, r.missing) == (5, 5)


def test_team_response_time_uses_linked_call_or_own_request(testville):
    r = _one(testville, "C2")
    # r1 from c1 10:00 -> 15; r2 from c8 15:00 -> 20; r3 own request across midnight -> 20
    assert (r.median, r.p90) == (pytest.approx(20.0), pytest.approx(20.0))
    assert (r.n, r.missing) == (3, 1)   # r4 never arrived: missing, not zero


def test_police_and_team_times_on_the_same_target_categories(testville):
    arrivals = {"c1": "2024-03-05 10:12", "c8": "2024-03-07 15:20", "c2": "2024-03-05 12:09",
                "c3": "2024-03-05 22:30", "c5": "2024-03-06 09:05",
                # 01:50 MST -> 03:10 MDT is 20 minutes, not 80.
                "c10": "2024-03-10 03:10"}
    for cid, at in arrivals.items():
        testville.execute(f"UPDATE calls SET arrived_at = {_ts(at)} WHERE call_id = ?", [cid])
    facts.refresh(testville)
    police, team = _one(testville, "C5"), _one(testville, "C6")
    # Police on target types: c2 9, c10 20, c3 30 (c5 is a robbery; c4 never arrived).
    assert police.median == pytest.approx(20.0)
    assert police.p90 == pytest.approx(20 + 0.8 * (30 - 20))  # position 1.8
    assert (police.n, police.missing) == (3, 1)
    # Team on target types: c1 12, c8 20 (c9 was resolved by phone: not the team).
    assert team.median == pytest.approx(16.0)
    assert team.p90 == pytest.approx(12 + 0.9 * (20 - 12))
    assert (team.n, team.missing) == (2, 0)


def test_travel_and_on_scene_times(testville):
    c3, c4 = _one(testville, "C3"), _one(testville, "C4")
    assert (c3.median, c3.n, c3.missing) == (pytest.approx(18.0), 1, 3)
    assert (c4.median, c4.n, c4.missing) == (pytest.approx(40.0), 1, 3)
    assert c3.reliability == "insufficient"


def test_other_destinations_and_repeat_thresholds(testville):
    for mid in ("D5SD", "D5SH", "D5OT"):
        r = _one(testville, mid)
        assert (r.numerator, r.denominator) == (0, 3)
    for mid in ("F2_10", "F2_20", "F2_40"):
        assert _one(testville, mid).numerator == 0


def test_connection_rates_count_only_referrals_old_enough_to_judge(testville):
    # As of 2024-05-20 (f2 connected) no referral is 90 days old: nothing to judge yet.
    r = _one(testville, "E2_90")
    assert (r.numerator, r.denominator, r.value) == (0, 0, None)
    # A referral made on 2024-08-30 moves the data's latest time: f1-f4 are now 90 days old,
    # and the new one is too recent for either figure.
    testville.execute(
        f"INSERT INTO referrals (jurisdiction, referral_id, referred_at, referred_local, status, "
        f"import_id) VALUES ('Testville', 'f5', {_ts('2024-08-30 10:00')}, "
        f"TIMESTAMP '2024-08-30 10:00', 'made', 3)")
    r90, r30 = _one(testville, "E2_90"), _one(testville, "E2_30")
    assert (r90.numerator, r90.denominator) == (2, 4)   # f1 15 days, f2 74 days
    assert (r30.numerator, r30.denominator) == (1, 4)   # f1
    assert _one(testville, "E1N").value == 5            # every referral is still counted


def test_referrals_take_the_demographics_of_their_response(testville):
    testville.execute("UPDATE responses SET race_ethnicity = 'black' WHERE response_id = 'r1'")
    testville.execute("UPDATE responses SET race_ethnicity = 'white' WHERE response_id = 'r2'")
    # Edits by hand: count the maintained tables again, as `python -m data refresh` does.
    aggregates.refresh(testville, source="responses")
    aggregates.refresh(testville, source="referrals")
    rows = compute(testville, MetricRequest(("E2_30",), ("race_ethnicity",), Filters()))
    got = {r.group["race_ethnicity"]: (r.numerator, r.denominator) for r in rows}
    # f1 (r1) connected in 15 days; f2 and f4 (r2) not within 30; f3 has no response.
    assert got == {"black": (1, 1), "white": (0, 2), None: (0, 1)}


def test_zero_denominator_gives_null_not_error(testville):
    r = _one(testville, "B1", date_from=date(2030, 1, 1), date_to=date(2030, 12, 31))
    assert (r.numerator, r.denominator, r.value, r.ci_low) == (0, 0, None, None)
    assert _one(testville, "C2", date_from=date(2030, 1, 1)).median is None


def test_date_filter_is_inclusive_local_days(testville):
    # 2024-03-05 holds c1 c2 c3 (local); c3 at 22:00 local is already the 6th in UTC.
    r = _one(testville, "A1", date_from=date(2024, 3, 5), date_to=date(2024, 3, 5))
    assert r.value == 3


def test_crosswalk_edit_changes_eligibility_without_reimport(testville):
    save_crosswalk(testville, "Testville",
                   [{"call_type": "SUSPICIOUS", "category": "OTHER", "eligible": True}])
    assert facts.stale_rows(testville) == 0
    assert _one(testville, "A3").value == 5   # c6 at 11:00 is now eligible
    assert _one(testville, "A3U").value == 1


def test_grouped_by_month_and_weekday_hour(testville):
    rows = compute(testville, MetricRequest(("A1",), ("month",), Filters()))
    assert {r.group["month"]: r.value for r in rows} == {"2023-12": 1, "2024-03": 9}
    rows = compute(testville, MetricRequest(("A1",), ("weekday_hour",), Filters()))
    assert sum(r.value for r in rows) == 10
    # c10 was received at 01:50 local on Sunday 2024-03-10 (ISO weekday 7).
    assert any(r.group["weekday_hour"] == "7-01" and r.value == 1 for r in rows)


ADDITIVE = [m.id for m in REGISTRY if m.additive]


@pytest.mark.parametrize("metric_id", ADDITIVE)
def test_grouped_numerators_add_up(testville, metric_id):
    from metrics.engine import supports
    from metrics.sources import SOURCES

    m = BY_ID[metric_id]
    total = _one(testville, metric_id).numerator
    for dim in SOURCES[m.table].dimensions:
        if not supports(m, (dim,)):
            continue
        rows = compute(testville, MetricRequest((metric_id,), (dim,), Filters()))
        assert sum(r.numerator for r in rows) == total, dim


def test_wilson_reference_values():
    lo, hi = wilson(120, 400)
    assert (round(lo, 3), round(hi, 3)) == (0.257, 0.347)
    assert wilson(0, 0) == (None, None)
    lo, hi = wilson(0, 10)
    assert lo == 0 and 0.27 < hi < 0.28


def test_reliability_flags():
    assert reliability(19) == "insufficient"
    assert reliability(20) == "ok"
    assert reliability(None) is None


@pytest.fixture(params=["in memory", "histogram", "maintained histograms"])
def quantile_path(request, monkeypatch):
    """Every way the engine finds medians: quantile_cont in the counting scan, (for sources
    too large for it) a histogram of the durations (metrics.engine.quantile_sql), and (for
    whole months) the histograms kept per month (data/duration_tables.py)."""
    if request.param == "histogram":
        monkeypatch.setattr(engine, "QUANTILES_IN_MEMORY_ROWS", -1)
    with rollup.rows_only() if request.param != "maintained histograms" else nullcontext():
        yield request.param


def test_medians_and_90th_percentiles_interpolate_between_sorted_values(con, quantile_path):
    """The same figures both ways, worked out here by hand."""
    # Call processing minutes per jurisdiction; -3 (dispatched before received) and a call
    # never dispatched are not timed.
    minutes = {"A": [1, 2, 2, 10, -3, None], "B": [5]}
    for j, values in minutes.items():
        con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone) VALUES (?, 'UTC')", [j])
        for i, m in enumerate(values):
            disp = ("NULL" if m is None else
                    f"TIMESTAMPTZ '2024-05-01 10:00+00' + INTERVAL '{m} minutes'")
            con.execute(
                "INSERT INTO calls (jurisdiction, call_id, received_at, received_local, "
                f"dispatched_at, import_id) VALUES (?, ?, TIMESTAMPTZ '2024-05-01 10:00+00', "
                f"TIMESTAMP '2024-05-01 10:00', {disp}, 1)", [j, f"{j}{i}"])
    facts.refresh(con)
    rows = {r.group["jurisdiction"]: r for r in compute(
        con, MetricRequest(("C1",), ("jurisdiction",)))}
    # A sorted: 1, 2, 2, 10. Median at position 0.5 * 3 = 1.5: 2 + 0.5 * (2 - 2) = 2.
    # 90th percentile at 0.9 * 3 = 2.7: 2 + 0.7 * (10 - 2) = 7.6.
    a, b = rows["A"], rows["B"]
    assert (a.median, a.p90, a.n, a.missing) == (pytest.approx(2), pytest.approx(7.6), 4, 2)
    assert (b.median, b.p90, b.n, b.missing) == (pytest.approx(5), pytest.approx(5), 1, 0)
    # Both together: 1, 2, 2, 5, 10. Median at 2.0: 2; 90th at 3.6: 5 + 0.6 * (10 - 5) = 8.
    whole = _one(con, "C1")
    assert (whole.median, whole.p90, whole.n) == (pytest.approx(2), pytest.approx(8), 5)


def test_quantiles_from_the_histogram_equal_quantile_cont(con, monkeypatch):
    """Every duration metric, grouped three ways and through disclosure control's levels:
    the histogram's figures are quantile_cont's."""
    from data.demo import populate_demo

    populate_demo(con, seed=0, scale=0.05)
    timed = tuple(m.id for m in REGISTRY if m.duration)

    def figures():
        out = {}
        for by in ((), ("jurisdiction",), ("month",)):
            for r in compute(con, MetricRequest(timed, by)):
                out[(r.metric, by, tuple(r.group.values()))] = (r.median, r.p90, r.n, r.missing)
        shown = disclosure.disclose(con, MetricRequest(timed, ("jurisdiction",)))
        for r in shown.rows:
            out[(r.metric, "shown", tuple(r.group.values()))] = (r.median, r.p90)
        # Nothing matches: the ungrouped row of zeros, and no groups.
        nowhere = Filters(jurisdictions=("Nowhere",))
        for by in ((), ("jurisdiction",)):
            for r in compute(con, MetricRequest(timed, by, nowhere)):
                out[(r.metric, "nowhere", by)] = (r.median, r.p90, r.n, r.missing)
        return out

    with rollup.rows_only():  # the rows both ways (not the histograms kept per month)
        in_memory = figures()
        monkeypatch.setattr(engine, "QUANTILES_IN_MEMORY_ROWS", -1)
        counted = figures()
    # Durations alone are counted off the histogram: one scan per source, no counting scan.
    sent = []

    class Spy:  # the real connection, each statement noted
        def execute(self, sql, params=()):
            sent.append(sql)
            return con.execute(sql, params)

    with rollup.rows_only():
        compute(Spy(), MetricRequest(("C6", "C5"), ("jurisdiction",)))
    scans = [sql for sql in sent if "duckdb_tables()" not in sql]
    assert len(scans) == 1 and "GROUPING SETS" in scans[0]
    assert in_memory[("C1", "nowhere", ())] == (None, None, 0, 0)
    assert counted.keys() == in_memory.keys()
    assert sum(v[0] is not None for v in in_memory.values()) > 50
    for key, values in in_memory.items():
        for got, want in zip(counted[key], values):
            assert got == (None if want is None else pytest.approx(want, abs=1e-9)), key


def test_calls_group_by_their_local_month_quarter_and_year(con):
    """The calls' month is stored (data/facts.py, received_month); quarters and years come
    from it. Local time decides: 23:30 on 31 March in Chicago is 04:30 UTC on 1 April."""
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone) VALUES "
                "('J', 'America/Chicago')")
    for i, local in enumerate(["2024-02-10 12:00", "2024-03-31 23:30", "2024-04-01 00:10",
                               "2024-12-31 23:59", "2025-01-01 00:00"]):
        con.execute("INSERT INTO calls (jurisdiction, call_id, received_local, received_at, "
                    "import_id) VALUES ('J', ?, ?::TIMESTAMP, timezone('America/Chicago', "
                    "?::TIMESTAMP), 1)", [f"c{i}", local, local])
    facts.refresh(con)
    assert facts.stale_rows(con) == 0

    def counts(by):
        return {r.group[by]: r.value for r in compute(con, MetricRequest(("A1",), (by,)))}

    assert counts("month") == {"2024-02": 1, "2024-03": 1, "2024-04": 1, "2024-12": 1,
                               "2025-01": 1}
    assert counts("quarter") == {"2024-Q1": 2, "2024-Q2": 1, "2024-Q4": 1, "2025-Q1": 1}
    assert counts("year") == {"2024": 4, "2025": 1}
