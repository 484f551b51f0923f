"""The capacity model (metrics/capacity/) and `python -m metrics capacity`.

Synthetic calls: Poisson arrivals around the clock and exponential police busy times, so the
loss system is M/M/c and Erlang B is the exact answer (worked out by hand below and checked
against scipy's Poisson distribution: Erlang B is a truncated Poisson distribution).
"""
from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner
from scipy import stats

from data import facts
from data.connection import connect
from metrics import capacity as cap
from metrics.cli import cli

MONDAY = 1704067200  # 2024-01-01 00:00, a Monday


def _calls(con, name="Synth", load=2.0, per_hour=2.0, weeks=26, seed=1, responder="police",
           times=True):
    """Poisson calls at ``per_hour`` an hour with exponential busy times giving ``load``
    Erlangs, all of a target category, none with a team response."""
    rng = np.random.default_rng(seed)
    total = weeks * 7 * 86400
    t = np.sort(rng.uniform(0, total, rng.poisson(per_hour * total / 3600))) + MONDAY
    d = rng.exponential(load / per_hour * 3600, len(t))
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone, target_categories) "
                "VALUES (?, 'UTC', ['MENTAL_HEALTH'])", [name])
    con.register("synth", pa.table({"t": t, "d": d}))
    clear = "to_timestamp(t + d)" if times else "NULL"
    con.execute(f"""INSERT INTO calls (jurisdiction, call_id, received_at, received_local,
        dispatched_at, cleared_at, call_type, category, responder, import_id)
        SELECT ?, 'c' || row_number() OVER (), to_timestamp(t), to_timestamp(t)::TIMESTAMP,
               to_timestamp(t), {clear}, 'CRISIS', 'MENTAL_HEALTH', ?, 1 FROM synth""",
                [name, responder])
    con.unregister("synth")
    facts.refresh(con)
    return len(t)


@pytest.fixture
def synth_db(tmp_path):
    path = tmp_path / "synth.duckdb"
    con = connect(path)
    _calls(con)
    con.close()
    return path


def _run(path, *args):
    result = CliRunner().invoke(cli, ["capacity", "--db", str(path), "--jurisdiction", "Synth",
                                      "--extra-minutes", "0", *args])
    return result


# --------------------------------------------------------------------------------------------
# Queueing arithmetic, by hand
# --------------------------------------------------------------------------------------------

def test_erlang_b_hand_worked():
    # B(1, 2) = 2/3; B(2, 2) = 2 (2/3) / (2 + 2 (2/3)) = 0.4; B(3, 2) = 0.8 / 3.8.
    assert cap.erlang_b(1, 2.0) == pytest.approx(2 / 3)
    assert cap.erlang_b(2, 2.0) == pytest.approx(0.4)
    assert cap.erlang_b(3, 2.0) == pytest.approx(0.8 / 3.8)  # 0.2105: 79% served
    assert cap.erlang_b(0, 5.0) == 1.0  # no team: every call missed


@pytest.mark.parametrize("servers,load", [(1, 0.5), (4, 3.2), (10, 7.5), (30, 25.0)])
def test_erlang_b_is_a_truncated_poisson(servers, load):
    expected = stats.poisson.pmf(servers, load) / stats.poisson.cdf(servers, load)
    assert cap.erlang_b(servers, load) == pytest.approx(expected, rel=1e-9)


def test_erlang_c_hand_worked():
    # c = 3, A = 2: C = (A^c/c! . c/(c-A)) / (sum_{k<c} A^k/k! + A^c/c! . c/(c-A))
    #             = (8/6 . 3) / (1 + 2 + 2 + 4) = 4/9.
    assert cap.erlang_c(3, 2.0) == pytest.approx(4 / 9)
    assert cap.erlang_c(2, 2.0) == 1.0  # load equal to the teams: everyone waits
    # Answered within 30 minutes, service 60: 1 - 4/9 exp(-(3 - 2) 30/60).
    assert cap.answered_within(3, 2.0, 60, 30) == pytest.approx(1 - 4 / 9 * math.exp(-0.5))


def test_loss_queue_on_a_hand_worked_trace():
    times, service = np.array([0.0, 10.0, 20.0]), np.array([30.0, 30.0, 30.0])
    one = np.array([1, 1, 1])
    flags, waited = cap._loss_queue(times, one, service, 0)
    assert flags.tolist() == [1, 0, 0] and waited == 0  # the team is busy until 30
    # Waiting up to 25 s: the second call starts at 30 (waited 20); the third would have to
    # wait until 60 (40 s): missed.
    flags, waited = cap._loss_queue(times, one, service, 25)
    assert flags.tolist() == [1, 1, 0] and waited == 1
    # Two teams: both of the first two served; the third finds both busy.
    flags, _ = cap._loss_queue(times, np.array([2, 2, 2]), service, 0)
    assert flags.tolist() == [1, 1, 0]
    # No team on duty at the third call's hour.
    flags, _ = cap._loss_queue(np.array([0.0, 100.0]), np.array([1, 0]), service[:2], 0)
    assert flags.tolist() == [1, 0]


# --------------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------------

def test_schedule_grid_and_team_hours():
    s = cap.Schedule.uniform(2, (8, 20))
    assert s.team_hours_per_week == 2 * 12 * 7
    assert s.grid()[0][7:9] == [0, 2] and s.grid()[6][19:21] == [2, 0]
    night = cap.Schedule.uniform(1, (19, 7), "5")  # Friday 19:00 to Saturday 7:00
    assert night.team_hours_per_week == 12
    assert night.grid()[4][19] == 1 and night.grid()[5][6] == 1 and night.grid()[5][7] == 0
    both = cap.parse_spec("2x8-20x1234567+1x20-24x56")
    assert both.team_hours_per_week == 168 + 8 and both.grid()[4][21] == 1


def test_schedule_file_and_bad_input():
    s = cap.schedule_from_toml('[[shift]]\nteams = 2\nhours = "8-20"\ndays = "12345"\n'
                               '[[shift]]\nteams = 1\nhours = "20-8"\ndays = "12345"\n')
    assert s.team_hours_per_week == 2 * 12 * 5 + 12 * 5
    with pytest.raises(cap.CapacityError, match="not hours like 8-20"):
        cap.parse_hours("8 to 20")
    with pytest.raises(cap.CapacityError, match="not hours of a day"):
        cap.parse_hours("8-25")
    with pytest.raises(cap.CapacityError, match="no \\[\\[shift\\]\\] table"):
        cap.schedule_from_toml("teams = 2")
    with pytest.raises(cap.CapacityError, match="not weekdays"):
        cap.parse_days("1238")


# --------------------------------------------------------------------------------------------
# The simulation against Erlang B, the reverse question, determinism
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("teams,expected", [(2, 0.60), (3, 0.79)])
def test_cli_coverage_matches_erlang_b(synth_db, teams, expected):
    result = _run(synth_db, "--teams", str(teams), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["coverage"] == pytest.approx(expected, abs=0.02)
    assert doc["ci_low"] <= doc["coverage"] <= doc["ci_high"]
    assert doc["service_source"] == "police busy time"
    assert doc["service_minutes_mean"] == pytest.approx(60, rel=0.05)  # 2 Erlangs at 2 an hour
    assert doc["served"] == pytest.approx(doc["coverage"] * doc["calls"], abs=0.06)  # to 1 decimal
    assert doc["erlang"]["coverage"] == pytest.approx(expected, abs=0.02)
    assert doc["team_hours_per_week"] == teams * 168


def test_cli_target_finds_the_smallest_number_of_teams(synth_db):
    # 2 teams serve 60%, 3 teams 79%, 4 teams 1 - B(4, 2) = 90.5%.
    for target, teams in (("0.7", 3), ("0.85", 4), ("0.5", 2)):
        doc = json.loads(_run(synth_db, "--target", target, "--json").output)
        assert doc["teams"] == teams, target
        assert doc["team_hours_per_week"] == teams * 168
        assert doc["coverage"] >= float(target)
        assert doc["schedule"] == f"{teams} teams around the clock every day"


def test_waiting_serves_more_than_no_waiting(synth_db):
    none = json.loads(_run(synth_db, "--teams", "2", "--json").output)
    wait = json.loads(_run(synth_db, "--teams", "2", "--max-wait", "15", "--json").output)
    assert wait["coverage"] > none["coverage"] + 0.05
    assert wait["served_after_wait"] > 0 and none["served_after_wait"] == 0


def test_hours_outside_the_schedule_are_missed(synth_db):
    doc = json.loads(_run(synth_db, "--teams", "5", "--hours", "8-20", "--json").output)
    # Arrivals are uniform over the day: half of them come when nobody is on duty.
    assert doc["missed_no_team_on_duty"] / doc["calls"] == pytest.approx(0.5, abs=0.02)
    assert doc["coverage"] <= 0.5 + 0.02


def test_same_seed_same_answer_other_seed_differs(synth_db):
    con = connect(synth_db, read_only=True)
    w = cap.load_workload(con, cap.CapacityRequest("Synth"))
    con.close()
    s = [cap.Schedule.uniform(2)]
    a = cap.simulate(w, s, extra_minutes=0, seed=7)[0]
    b = cap.simulate(w, s, extra_minutes=0, seed=7)[0]
    c = cap.simulate(w, s, extra_minutes=0, seed=8)[0]
    assert (a.served, a.ci_low, a.ci_high) == (b.served, b.ci_low, b.ci_high)
    assert a.served_by_hour.tolist() == b.served_by_hour.tolist()
    assert a.served != c.served


def test_workload_is_bounded_to_whole_weeks(synth_db):
    con = connect(synth_db, read_only=True)
    w = cap.load_workload(con, cap.CapacityRequest("Synth", max_weeks=10))
    con.close()
    assert w.weeks == 10
    assert w.arrivals.min() >= w.start_s and w.arrivals.max() < w.start_s + 10 * cap.WEEK_S
    assert w.calls_in_period > len(w.arrivals)


# --------------------------------------------------------------------------------------------
# Data that cannot support it: exit status 2 and a sentence
# --------------------------------------------------------------------------------------------

def test_exit_2_without_eligible_call_types(tmp_path):
    path = tmp_path / "x.duckdb"
    con = connect(path)
    _calls(con, weeks=2)
    con.execute("UPDATE jurisdictions SET target_categories = ['NOISE']")
    facts.refresh(con)
    con.close()
    result = _run(path, "--teams", "2")
    assert result.exit_code == 2
    assert "Synth has no eligible-type calls in this period" in result.output


def test_exit_2_without_durations(tmp_path):
    path = tmp_path / "x.duckdb"
    con = connect(path)
    _calls(con, weeks=2, times=False)
    con.close()
    result = _run(path, "--teams", "2")
    assert result.exit_code == 2
    assert "fewer than 20 durations" in result.output


def test_exit_2_when_the_target_cannot_be_reached_on_those_hours(synth_db):
    result = _run(synth_db, "--target", "0.7", "--hours", "8-20")
    assert result.exit_code == 2
    assert "50% of the eligible-type calls arrive in those hours" in result.output


def test_teams_and_target_are_exclusive(synth_db):
    result = _run(synth_db, "--teams", "2", "--target", "0.7")
    assert result.exit_code == 2 and "Use one of --teams, --schedule or --target" in result.output


# --------------------------------------------------------------------------------------------
# Calibration: a program whose misses come from its capacity alone
# --------------------------------------------------------------------------------------------

def _program(con, teams=2, load=2.0, per_hour=2.0, weeks=12, seed=3):
    """A running program with ``teams`` teams around the clock: each eligible call goes to
    the team when one is free, else is recorded 'no unit available' (an explicit loop, written
    independently of the model)."""
    rng = np.random.default_rng(seed)
    total = weeks * 7 * 86400
    t = np.sort(rng.uniform(0, total, rng.poisson(per_hour * total / 3600))) + MONDAY
    d = rng.exponential(load / per_hour * 3600, len(t))
    free = [0.0] * teams
    served = np.zeros(len(t), dtype=bool)
    for i in range(len(t)):
        j = min(range(teams), key=lambda k: free[k])
        if free[j] <= t[i]:
            free[j] = t[i] + d[i]
            served[i] = True
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone, launch_date, "
                "target_categories) VALUES ('Prog', 'UTC', DATE '2023-06-01', ['MENTAL_HEALTH'])")
    con.execute("INSERT INTO crosswalk VALUES ('Prog', 'CRISIS', 'MENTAL_HEALTH', true)")
    con.register("p", pa.table({"t": t, "d": d, "s": served}))
    con.execute("""INSERT INTO calls (jurisdiction, call_id, received_at, received_local,
        dispatched_at, cleared_at, call_type, responder, not_served_reason, import_id)
        SELECT 'Prog', 'c' || row_number() OVER (), to_timestamp(t), to_timestamp(t)::TIMESTAMP,
               to_timestamp(t), to_timestamp(t + d), 'CRISIS',
               CASE WHEN s THEN 'alternative' ELSE 'police' END,
               CASE WHEN s THEN NULL ELSE 'no unit available' END, 1 FROM p""")
    con.execute("""INSERT INTO responses (jurisdiction, response_id, requested_at,
        requested_local, dispatched_at, cleared_at, import_id)
        SELECT 'Prog', 'r' || row_number() OVER (), to_timestamp(t), to_timestamp(t)::TIMESTAMP,
               to_timestamp(t), to_timestamp(t + d), 2 FROM p WHERE s""")
    con.unregister("p")
    facts.refresh(con)
    return served.mean()


def test_calibration_reproduces_a_capacity_limited_program(con):
    measured = _program(con)
    cal = cap.calibrate(con, cap.CapacityRequest("Prog"), extra_minutes=0)
    assert cal.schedule.max_teams == 2 and cal.teams_source.startswith("observed")
    assert cal.measured == pytest.approx(measured)
    assert cal.measured_no_team_share == pytest.approx(1 - measured)
    assert abs(cal.gap) < 0.02 and cal.reliable
    assert "can be relied on" in cal.notes[0]


def test_calibration_states_a_gap_over_five_points(con):
    _program(con)
    cal = cap.calibrate(con, cap.CapacityRequest("Prog"), teams=4, extra_minutes=0)
    assert cal.teams_source == "setting" and cal.gap > 0.05 and not cal.reliable
    assert "differs from the measured coverage by" in cal.notes[0]
    assert any("fewer 'no team available' misses" in n for n in cal.notes)


def test_a_plan_without_its_calibration_is_the_same_plan(con):
    """The Plan page computes the calibration only in its own section (its queries over the
    team's responses are a third of the work): the rest of the answer is unchanged."""
    _program(con)
    request, specs = cap.CapacityRequest("Prog"), ("1x0-24x1234567", "2x0-24x1234567")
    full = cap.plan(con, request, specs, runs=4, extra_minutes=0)
    lean = cap.plan(con, request, specs, runs=4, extra_minutes=0, calibration=False)
    assert "calibration" not in lean and full["calibration"]["reliable"]
    assert lean == {k: v for k, v in full.items() if k != "calibration"}
    from metrics.disclosure import VIEWER

    assert "calibration" not in cap.publish(lean, VIEWER)  # nothing to publish, nothing made up


# --------------------------------------------------------------------------------------------
# A schedule file on the command line; what a viewer may see; who may ask
# --------------------------------------------------------------------------------------------

def test_cli_schedule_file(synth_db, tmp_path):
    toml = tmp_path / "shifts.toml"
    toml.write_text('[[shift]]\nteams = 3\nhours = "0-24"\n[[shift]]\nteams = 1\n'
                    'hours = "8-20"\ndays = "12345"\n', encoding="utf-8")
    doc = json.loads(_run(synth_db, "--schedule", str(toml), "--json").output)
    assert doc["team_hours_per_week"] == 3 * 168 + 12 * 5
    assert doc["schedule_grid"][0][8] == 4 and doc["schedule_grid"][5][8] == 3
    # More teams than 3 around the clock in weekday daytime: more served than 79%.
    assert 0.79 < doc["coverage"] < 0.9


def _doc(calls, hour_calls, served=1234.4):
    by_hour = [{"hour": h, "calls": hour_calls if h == 9 else 0, "served": 2.0 if h == 9 else 0.0,
                "coverage": 2 / hour_calls if h == 9 else None} for h in range(24)]
    schedule = {"schedule": "2 teams", "coverage": 0.6, "ci_low": 0.58, "ci_high": 0.62,
                "served": served, "missed_no_team_free": 12.6, "missed_no_team_on_duty": 0,
                "served_after_wait": 0.0, "team_hours_per_week": 336, "erlang_coverage": 0.6,
                "grid": [[2] * 24] * 7, "by_hour": by_hour}
    return {"calls": calls, "calls_in_period": calls, "durations": 500,
            "schedules": [schedule], "calibration": {"unavailable": "no program"}}


def test_a_viewer_sees_published_counts_only():
    from metrics.disclosure import VIEWER

    out = cap.publish(_doc(2057, 7), VIEWER)
    # Counts to the nearest 5; 1-10 hidden (None); an hour's share only beside a shown count.
    assert out["calls"] == 2055
    s = out["schedules"][0]
    assert (s["served"], s["missed_no_team_free"], s["missed_no_team_on_duty"]) == (1235, 15, 0)
    assert s["coverage"] == 0.6
    nine = s["by_hour"][9]
    assert nine["calls"] is None and nine["coverage"] is None and nine["served"] is None
    shown = cap.publish(_doc(2057, 40), VIEWER)["schedules"][0]["by_hour"][9]
    assert shown["calls"] == 40 and shown["coverage"] == 2 / 40
    # A period of 1-10 calls: nothing about it is shown.
    tiny = cap.publish(_doc(8, 8, served=5.0), VIEWER)
    assert tiny["calls"] is None and tiny["schedules"][0]["coverage"] is None
    assert tiny["schedules"][0]["served"] is None


def test_only_jurisdictions_one_may_see(synth_db):
    from service import guarded
    from service.access import AccessDenied, Grant, Principal
    from metrics.disclosure import VIEWER

    con = connect(synth_db)
    viewer = Principal("v@example.org", (Grant("viewer", "Elsewhere"),))
    with pytest.raises(AccessDenied, match="may not read aggregates for Synth"):
        guarded.capacity_plan(con, viewer, cap.CapacityRequest("Synth"), ("2x0-24x1234567",))
    own = Principal("a@example.org", (Grant("analyst", "Synth"),))
    doc = guarded.capacity_plan(con, own, cap.CapacityRequest("Synth"), ("2x0-24x1234567",),
                                extra_minutes=0.0)
    assert doc["schedules"][0]["coverage"] == pytest.approx(0.6, abs=0.02)
    assert doc["calls"] == 8739  # exact: an analyst's own jurisdiction
    public = guarded.capacity_plan(con, own, cap.CapacityRequest("Synth"), ("2x0-24x1234567",),
                                   policy=VIEWER, extra_minutes=0.0)
    assert public["calls"] == 8740  # the sidebar's "hide small counts": rounded to 5
    con.close()
