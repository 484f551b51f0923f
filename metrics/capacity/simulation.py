"""The simulation, the Erlang formulas and the reverse question (smallest schedule)."""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import CapacityError
from . import queue
from .schedules import DAYS, HOURS_PER_WEEK, MAX_TEAMS, WEEK_S, Schedule
from .workload import Workload, hour_of_week

TRACE_RUNS = 4          # runs over the actual call times (service times drawn afresh)
DEFAULT_RUNS = 20       # runs over resampled weeks, for the interval
DEFAULT_EXTRA_MINUTES = 10.0


@dataclass
class Coverage:
    schedule: Schedule
    calls: int                  # eligible-type calls in the modelled weeks
    served: float               # expected, over the runs on the actual call times
    coverage: float
    ci_low: float
    ci_high: float
    missed_busy: float          # expected misses: every team on duty busy
    missed_off: int             # calls in hours with no team on duty
    waited: float               # expected calls served after a wait
    runs: int
    calls_by_hour: np.ndarray = field(repr=False, default=None)    # 168, per hour of week
    served_by_hour: np.ndarray = field(repr=False, default=None)   # 168, expected
    not_needed: float = 0.0     # calibration: calls lost for reasons other than capacity

    @property
    def missed(self) -> float:
        return self.calls - self.served

    def as_dict(self) -> dict:
        return {"schedule": self.schedule.label, "coverage": self.coverage,
                "ci_low": self.ci_low, "ci_high": self.ci_high, "calls": self.calls,
                "served": round(self.served, 1), "missed_no_team_free": round(self.missed_busy, 1),
                "missed_no_team_on_duty": self.missed_off,
                "served_after_wait": round(self.waited, 1),
                "team_hours_per_week": self.schedule.team_hours_per_week, "runs": self.runs}


def simulate(workload: Workload, schedules, *, extra_minutes: float = DEFAULT_EXTRA_MINUTES,
             max_wait_minutes: float = 0.0, runs: int = DEFAULT_RUNS, seed: int = 0,
             need_share: float = 1.0) -> list[Coverage]:
    """Each schedule's coverage. Every schedule meets the same draws (common random numbers),
    so two schedules differ by their teams, not by luck. ``need_share`` < 1: that share of
    calls, drawn at random, needs a team at all (the others are lost for other reasons)."""
    plan = _Plan(workload, extra_minutes, max_wait_minutes, runs, seed, need_share=need_share)
    return [plan.run(s) for s in schedules]


class _Plan:
    """The traces and service draws of one question, shared by the schedules compared."""

    def __init__(self, w: Workload, extra_minutes, max_wait_minutes, runs, seed,
                 trace_runs: int = TRACE_RUNS, need_share: float = 1.0):
        if extra_minutes < 0 or max_wait_minutes < 0:
            raise CapacityError("Extra minutes and the tolerable wait cannot be negative.")
        self.w, self.wait = w, float(max_wait_minutes) * 60
        self.extra, self.wait_minutes = float(extra_minutes), float(max_wait_minutes)
        self.done: dict = {}
        rng = np.random.default_rng(seed)
        offsets = w.arrivals - w.start_s
        self.how = hour_of_week(w.arrivals)
        bounds = np.searchsorted(offsets, np.arange(w.weeks + 1) * WEEK_S)
        p = w.counts / w.counts.sum()
        extra = float(extra_minutes) * 60

        def services(n):  # whole-minute bins, spread uniformly within the minute
            m = w.minutes[rng.choice(len(p), size=n, p=p)]
            s = np.maximum(m * 60 + rng.uniform(-30, 30, n), 0.0) + extra
            if need_share < 1:  # NaN: a call that never needs a team (calibration)
                s[rng.random(n) >= need_share] = np.nan
            return s
        self.traces = [(offsets.astype(float), self.how, services(len(offsets)))
                       for _ in range(trace_runs)]
        self.boot = []
        for _ in range(runs):
            pick = rng.integers(0, w.weeks, w.weeks)
            parts = [offsets[bounds[c]:bounds[c + 1]] - c * WEEK_S + m * WEEK_S
                     for m, c in enumerate(pick)]
            t = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
            how = hour_of_week(t + w.start_s)
            self.boot.append((t.astype(float), how, services(len(t))))

    def run(self, schedule: Schedule, interval: bool = True) -> Coverage:
        """Coverage of ``schedule``; without ``interval`` only the runs on the actual call
        times (the reverse search compares many schedules and needs no interval)."""
        key = (schedule.teams, interval)
        if key in self.done:
            return replace(self.done[key], schedule=schedule)
        teams = np.asarray(schedule.teams)
        n = len(self.how)
        served_by_hour = np.zeros(HOURS_PER_WEEK)
        served_sum, waited_sum = 0.0, 0.0
        not_needed = 0.0
        for t, how, s in self.traces:
            flags, waited = _loss_queue(t, teams[how], s, self.wait)
            not_needed += np.isnan(s).sum()
            served_by_hour += np.bincount(how, weights=flags, minlength=HOURS_PER_WEEK)
            served_sum += flags.sum()
            waited_sum += waited
        k = len(self.traces)
        boot = self.boot if interval else []
        shares = [(_loss_queue(t, teams[how], s, self.wait)[0].sum() / len(t)) if len(t) else 0.0
                  for t, how, s in boot]
        served = served_sum / k
        coverage = served / n if n else 0.0
        low, high = np.percentile(shares, [2.5, 97.5]) if shares else (coverage, coverage)
        off = int((teams[self.how] == 0).sum())
        self.done[key] = Coverage(
            schedule, n, float(served), float(coverage), float(min(low, coverage)),
            float(max(high, coverage)), float(n - served - off - not_needed / k), off,
            float(waited_sum / k), len(shares), np.bincount(self.how, minlength=HOURS_PER_WEEK),
            served_by_hour / k, float(not_needed / k))
        return self.done[key]


def _loss_queue(times: np.ndarray, on_duty: np.ndarray, service: np.ndarray, wait: float):
    """One run: which calls a team took (1.0) and how many waited for one: compiled
    (metrics/capacity/queue.py), else ``_loss_queue_python``; the same answer."""
    if queue.COMPILED:
        return queue.loss_queue(times, on_duty, service, wait)
    return _loss_queue_python(times, on_duty, service, wait)


def _loss_queue_python(times: np.ndarray, on_duty: np.ndarray, service: np.ndarray,
                       wait: float):
    """One run: which calls a team took (1.0) and how many waited for one.

    Calls are taken in order of arrival (first come, first served). ``busy`` holds the times
    at which busy teams free up; a call is taken at once when fewer teams are busy than are
    on duty, else by the first team to free up if that is within ``wait`` seconds.
    """
    busy: list[float] = []
    taken = bytearray(len(times))  # a bytearray: ~4 times cheaper to set than numpy items
    waited = 0
    push, pop, replace_top = heapq.heappush, heapq.heappop, heapq.heapreplace
    n_busy = 0  # len(busy), kept by hand: len() was a sixth of the loop's time
    for i, (t, k, s) in enumerate(zip(times.tolist(), on_duty.tolist(), service.tolist())):
        if s != s:  # NaN: the call needs no team
            continue
        while n_busy and busy[0] <= t:
            pop(busy)
            n_busy -= 1
        if n_busy < k:
            push(busy, t + s)
            n_busy += 1
            taken[i] = 1
        elif wait > 0 and k > 0:
            # The team that frees up first among those on duty: with more teams still busy
            # than on duty (a shift just ended), the (busy - on duty + 1)-th to finish.
            extra = n_busy - k
            free_at = busy[0] if extra == 0 else heapq.nsmallest(extra + 1, busy)[-1]
            if free_at - t <= wait:
                if extra == 0:
                    replace_top(busy, free_at + s)
                else:
                    busy.remove(free_at)
                    busy.append(free_at + s)
                    heapq.heapify(busy)
                taken[i] = 1
                waited += 1
    return np.frombuffer(taken, dtype=np.uint8).astype(float), waited


# --------------------------------------------------------------------------------------------
# Queueing formulas: a stationary hour
# --------------------------------------------------------------------------------------------

def erlang_b(servers: int, load: float) -> float:
    """Blocking probability with ``servers`` teams and ``load`` Erlangs (calls per hour x hours
    per call), by the stable recursion B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1))."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must not be negative")
    b = 1.0
    for n in range(1, servers + 1):
        b = load * b / (n + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that a call must wait (callers who wait as long as it takes):
    C = c B / (c - A (1 - B)); 1 when the load reaches the teams (the queue grows forever)."""
    if servers <= load:
        return 1.0
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1 - b))


def answered_within(servers: int, load: float, service_minutes: float, wait_minutes: float
                    ) -> float:
    """Erlang C: share of calls whose wait is at most ``wait_minutes``,
    1 - C exp(-(c - A) t / mean service)."""
    if servers <= load:
        return 0.0
    return 1 - erlang_c(servers, load) * math.exp(-(servers - load) * wait_minutes
                                                  / service_minutes)


def erlang_by_hour(workload: Workload, schedule: Schedule, *,
                   extra_minutes: float = DEFAULT_EXTRA_MINUTES, max_wait_minutes: float = 0.0
                   ) -> dict:
    """Each hour of the week taken as stationary: its average arrival rate over the weeks,
    the mean service time, its teams; Erlang B (no wait) or C (with a wait) per hour and the
    call-weighted share over the week. Ignores calls carried over from one hour to the next."""
    service = workload.service_minutes_mean + extra_minutes
    calls = workload.calls_by_hour
    load = calls / workload.weeks * service / 60
    share = _served_share(np.asarray(schedule.teams), load, service, max_wait_minutes)
    total = calls.sum()
    return {"calls_by_hour": calls, "load_by_hour": load, "served_share_by_hour": share,
            "coverage": float((share * calls).sum() / total) if total else 0.0,
            "service_minutes": service}


def _served_share(teams: np.ndarray, load: np.ndarray, service: float, wait: float
                  ) -> np.ndarray:
    """1 - B per hour (``erlang_b``'s recursion, all hours at once); with a wait, the larger
    of that and Erlang C's share answered within it."""
    b, blocked = np.ones_like(load, dtype=float), np.ones_like(load, dtype=float)
    for n in range(1, int(teams.max(initial=0)) + 1):
        b = load * b / (n + load * b)
        blocked = np.where(teams == n, b, blocked)
    return _share(teams, load, blocked, service, wait)


def _share(teams: np.ndarray, load: np.ndarray, blocked: np.ndarray, service: float,
           wait: float) -> np.ndarray:
    """``_served_share`` from each hour's blocking probability ``blocked``."""
    share = np.where(teams > 0, 1 - blocked, 0.0)
    if wait > 0:
        stable = teams > load
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.where(stable, teams * blocked / (teams - load * (1 - blocked)), 1.0)
            within = np.where(stable, 1 - c * np.exp(-(teams - load) * wait / service), 0.0)
        share = np.where(teams > 0, np.maximum(share, within), 0.0)
    return share


# --------------------------------------------------------------------------------------------
# The reverse question
# --------------------------------------------------------------------------------------------

@dataclass
class Found:
    target: float
    schedule: Schedule | None       # None: not reachable on these hours
    coverage: Coverage | None
    reachable_share: float          # share of calls arriving in the hours searched

    def as_dict(self) -> dict:
        out = {"target": self.target, "reached": self.schedule is not None,
               "reachable_share": self.reachable_share}
        if self.schedule is not None:
            out.update(team_hours_per_week=self.schedule.team_hours_per_week,
                       teams=self.schedule.max_teams, schedule=self.schedule.label,
                       coverage=float(self.coverage.coverage))
        return out


def smallest_schedule(workload: Workload, target: float, hours=(0, 24), days: str = DAYS, *,
                      extra_minutes: float = DEFAULT_EXTRA_MINUTES,
                      max_wait_minutes: float = 0.0, runs: int = DEFAULT_RUNS, seed: int = 0,
                      plan: "_Plan | None" = None, interval: bool = True) -> Found:
    """The fewest teams, the same on every hour and day given, whose expected coverage reaches
    ``target``. Erlang B by hour gives the first guess; the simulation on the actual call
    times decides, stepping one team at a time (coverage never falls as teams are added)."""
    if not 0 < target < 1:
        raise CapacityError(f"A target coverage is a share between 0 and 1, not {target}.")
    plan = plan or _Plan(workload, extra_minutes, max_wait_minutes, runs, seed)
    one = Schedule.uniform(1, hours, days)
    reachable = float((np.asarray(one.teams)[plan.how] > 0).mean()) if len(plan.how) else 0.0
    if reachable < target:
        return Found(target, None, None, reachable)

    def reached(k):
        return plan.run(Schedule.uniform(k, hours, days), interval=False).coverage >= target
    k = _erlang_guess(workload, target, hours, days, plan)
    if reached(k):
        while k > 1 and reached(k - 1):
            k -= 1
    else:
        while not reached(k):
            if k >= MAX_TEAMS:
                return Found(target, None, None, reachable)
            k += 1
    found = plan.run(Schedule.uniform(k, hours, days), interval=interval)
    return Found(target, found.schedule, found, reachable)


def _erlang_guess(workload, target, hours, days, plan) -> int:
    """The fewest teams whose Erlang-by-hour coverage reaches ``target``: the search's start.

    ``erlang_by_hour`` for 1, 2, 3 ... teams on the hours given, with Erlang B's recursion
    carried from k - 1 teams to k instead of begun again for each k: the same operations on
    the same numbers (B(k) is the k-th step either way), a k-th of the work."""
    on = np.asarray(Schedule.uniform(1, hours, days).teams)
    service = workload.service_minutes_mean + plan.extra
    calls = workload.calls_by_hour
    load = calls / workload.weeks * service / 60
    total = calls.sum()
    b, unused = np.ones_like(load, dtype=float), np.ones_like(load, dtype=float)
    for k in range(1, MAX_TEAMS + 1):
        b = load * b / (k + load * b)
        teams = on * k
        share = _share(teams, load, np.where(teams == k, b, unused), service,
                       plan.wait_minutes)
        if (float((share * calls).sum() / total) if total else 0.0) >= target:
            return k
    return MAX_TEAMS


# Hours a program commonly works, for "team-hours needed": days, evenings, around the clock.
PATTERNS = (((8, 20), DAYS), ((7, 23), DAYS), ((0, 24), DAYS))


def needed_for(workload: Workload, targets, patterns=PATTERNS, *,
               extra_minutes: float = DEFAULT_EXTRA_MINUTES, max_wait_minutes: float = 0.0,
               runs: int = DEFAULT_RUNS, seed: int = 0) -> list[Found]:
    """For each target, among ``patterns`` of hours, the schedule that reaches it with the
    fewest team-hours per week (a Found with schedule None when none does). Point estimates
    only, from two runs on the actual call times: nine searches must fit in a page view."""
    plan = _Plan(workload, extra_minutes, max_wait_minutes, 0, seed, trace_runs=2)
    out = []
    for target in targets:
        found = [smallest_schedule(workload, target, hours, days, plan=plan, interval=False)
                 for hours, days in patterns]
        reached = [f for f in found if f.schedule is not None]
        out.append(min(reached, key=lambda f: f.schedule.team_hours_per_week) if reached
                   else Found(target, None, None, max(f.reachable_share for f in found)))
    return out
