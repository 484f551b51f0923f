"""The compiled simulation run (metrics/capacity/queue.py) takes the same decisions as the
Python loop it replaces (``simulation._loss_queue_python``), and the Plan page's whole answer
is the same either way; the Erlang figures read the arrivals per hour counted once."""
from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from data.connection import connect
from data.demo import populate_demo
from metrics import capacity
from metrics.capacity import queue, simulation
from metrics.capacity.workload import hour_of_week

pytestmark = pytest.mark.skipif(not queue.COMPILED, reason="numba is not installed: the "
                                "Python loop is the only one, nothing to compare")


def _trace(rng, n: int, ties: bool, need_share: float):
    t = np.sort(rng.uniform(0, 7 * 86400, n))
    if ties:  # calls at the same second and services ending exactly at a later arrival
        t = np.sort(np.round(t / 600) * 600)
    s = rng.choice([0.0, 600.0, 1800.0, 3600.0, 5400.0], n) + (
        0 if ties else rng.uniform(0, 900, n))
    if need_share < 1:
        s[rng.random(n) >= need_share] = np.nan
    teams = rng.integers(0, 5, 168)  # shifts change hour by hour, some hours without a team
    return t, teams[hour_of_week(t.astype(np.int64))], s


@pytest.mark.parametrize("seed", range(40))
def test_the_compiled_run_equals_the_python_loop(seed):
    rng = np.random.default_rng(seed)
    t, k, s = _trace(rng, int(rng.integers(1, 3000)), ties=seed % 2 == 0,
                     need_share=1.0 if seed % 3 else 0.8)
    for wait in (0.0, 300.0, 1800.0):
        fast, fast_waited = queue.loss_queue(t, k, s, wait)
        slow, slow_waited = simulation._loss_queue_python(t, k, s, wait)
        assert fast.dtype == slow.dtype and np.array_equal(fast, slow)
        assert fast_waited == slow_waited
        assert 0 < fast.sum() < len(t) or len(t) < 50  # the runs do decide something


def test_more_teams_busy_than_on_duty_after_a_shift_ends_by_hand():
    """Three teams busy when the shift drops to one: the call at 300 s can be taken only by
    the third of them to free up (at 3002 s, after 2702 s of waiting)."""
    times = np.array([0.0, 1.0, 2.0, 300.0])
    on_duty = np.array([3, 3, 3, 1])
    service = np.array([600.0, 1200.0, 3000.0, 60.0])
    for run in (queue.loss_queue, simulation._loss_queue_python):
        for wait, taken, waited in ((2702.0, [1, 1, 1, 1], 1), (2701.0, [1, 1, 1, 0], 0),
                                    (0.0, [1, 1, 1, 0], 0)):
            got, n = run(times, on_duty, service, wait)
            assert got.tolist() == taken and n == waited


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("queue") / "demo.duckdb")
    populate_demo(con, scale=0.05)
    yield con
    con.close()


@pytest.mark.parametrize("wait", [0.0, 10.0])
def test_the_plan_is_the_same_with_either_loop(demo, monkeypatch, wait):
    request = capacity.CapacityRequest("Riverton")
    args = (demo, request, ("2x8-20x1234567", "3x8-20x1234567"))
    kw = dict(extra_minutes=10.0, max_wait_minutes=wait, runs=12)
    fast = capacity.plan(*args, **kw)
    monkeypatch.setattr(queue, "COMPILED", False)
    slow = capacity.plan(*args, **kw)
    assert fast["calls"] > 100 and "gap" in fast["calibration"]
    assert fast == slow


def test_calls_by_hour_are_counted_once_and_follow_the_calls():
    arrivals = np.array([0, 3600, 3 * 86400 + 7200], dtype=np.int64)  # Thu 0h, 1h; Sun 2h
    w = capacity.Workload("X", arrivals, 0, 1, np.array([30.0]), np.array([1]), "team records",
                          3, np.array([True, False, True]), np.zeros(3, bool), np.zeros(3, bool))
    by_hour = w.calls_by_hour
    assert by_hour is w.calls_by_hour and by_hour.sum() == 3
    assert by_hour[3 * 24] == 1 and by_hour[3 * 24 + 1] == 1 and by_hour[6 * 24 + 2] == 1
    assert w.only_eligible().calls_by_hour.sum() == 2  # a new workload: counted afresh


@pytest.mark.parametrize("wait", [0.0, 10.0])
def test_the_erlang_guess_equals_erlang_by_hour_team_by_team(demo, wait):
    """The reverse search's first guess, its recursion carried over k, is the first k whose
    ``erlang_by_hour`` coverage (each k computed afresh) reaches the target."""
    w = capacity.load_workload(demo, capacity.CapacityRequest("Riverton"))
    plan = simulation._Plan(w, 10.0, wait, 0, 0, trace_runs=1)
    seen = set()
    for hours, days in (((8, 20), "1234567"), ((0, 24), "1234567"), ((10, 18), "12345")):
        on = np.asarray(capacity.Schedule.uniform(1, hours, days).teams)
        coverage = [capacity.erlang_by_hour(w, capacity.Schedule(tuple(int(x) for x in on * k)),
                                            extra_minutes=10.0, max_wait_minutes=wait)
                    ["coverage"] for k in range(1, capacity.MAX_TEAMS + 1)]
        for target in (0.3, 0.6, 0.8, 0.95, 0.999999):
            expected = next((k for k, c in enumerate(coverage, 1) if c >= target),
                            capacity.MAX_TEAMS)
            assert simulation._erlang_guess(w, target, hours, days, plan) == expected
            seen.add(expected)
    assert len(seen) >= 3 and capacity.MAX_TEAMS in seen  # first k found, and none reached


@pytest.mark.parametrize("period", [(None, None), (date(2024, 1, 1), date(2024, 3, 14)),
                                    (date(2023, 5, 17), date(2023, 6, 2))])
def test_the_months_added_to_the_arrivals_scan_change_nothing(demo, monkeypatch, period):
    """The scan of the modelled weeks also names their months (so DuckDB can skip row
    groups): the same arrivals and flags as with the months left open."""
    from metrics.capacity import workload as wl

    request = capacity.CapacityRequest("Riverton", *period)
    got = capacity.load_workload(demo, request)
    assert wl._month_of(got.start_s) <= wl._month_of(got.start_s + got.weeks * 604800 - 1)
    monkeypatch.setattr(wl, "_month_of", lambda s: 0 if s == got.start_s else 999999)
    open_months = capacity.load_workload(demo, request)
    assert len(got.arrivals) > 20
    for name in ("arrivals", "eligible", "responded", "no_team", "minutes", "counts"):
        assert np.array_equal(getattr(got, name), getattr(open_months, name))
    assert (got.start_s, got.weeks, got.calls_in_period) == (
        open_months.start_s, open_months.weeks, open_months.calls_in_period)
