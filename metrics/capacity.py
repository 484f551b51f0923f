"""Capacity: how many teams on which hours reach what share of eligible calls (DOMAIN.md §9).

The jurisdiction's own calls answer it. *Arrivals* are its eligible-type calls: call types the
crosswalk marks eligible, or, where the crosswalk has not triaged a type (a jurisdiction still
planning), calls of its target categories; at any hour, whatever the program's current
coverage hours. A team is busy for a call's *service time*: dispatch to clear (travel + on
scene) from the team's own response records where it has at least ``MIN_DURATIONS`` of them,
else the police's busy time (dispatch to clear) on calls of the same types, plus adjustable
extra minutes (wrap-up, notes). A *schedule* is teams on duty per weekday × local hour.

A call that finds every team on duty busy is missed, or, with a tolerable wait, served by the
first team that frees up within it (first come, first served; a caller who would wait longer
is missed). Teams finish a call past the end of their shift.

Answers (``simulate``): expected coverage for each schedule from a trace-driven discrete-event
simulation over the actual call times (a few runs with service times drawn afresh), and a 95%
interval from runs over *resampled weeks* (whole weeks drawn with replacement, so weekday and
hour patterns stay intact; service times drawn afresh): how much a year like this one can
vary. Erlang-B and Erlang-C (``erlang_b``, ``erlang_c``, ``erlang_by_hour``) give the textbook
figures for a stationary hour as a cross-check. ``smallest_schedule`` answers the reverse
question: the fewest teams (on given hours and days) reaching a target, as team-hours per week.
``calibrate`` puts the model's figure for the schedule a running program works beside its
measured coverage (B1) and its measured "no unit available" misses.

DuckDB does the counting: arrivals come back as one array of epoch seconds for the latest
whole weeks, at most ``MAX_WEEKS`` of them and about ``MAX_ARRIVALS`` calls, durations as a
histogram of whole minutes. No streamlit here.
"""
from __future__ import annotations

import heapq
import math
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import numpy as np

from .errors import MetricError

WEEK_S = 7 * 86_400
HOURS_PER_WEEK = 168
MAX_WEEKS = 52          # a year of arrivals: enough for seasons, bounded for the page's budget
MAX_ARRIVALS = 15_000   # fewer weeks for a busier jurisdiction: each run costs ~1 us a call
MIN_DURATIONS = 20      # fewer durations than this describe no distribution
MAX_SERVICE_MIN = 720   # a duration over 12 hours is a record left open, not a call
MAX_TEAMS = 40          # the reverse search stops here
TRACE_RUNS = 4          # runs over the actual call times (service times drawn afresh)
DEFAULT_RUNS = 20       # runs over resampled weeks, for the interval
DEFAULT_EXTRA_MINUTES = 10.0
CALIBRATION_TOLERANCE = 0.05
DAYS = "1234567"


class CapacityError(MetricError):
    """The data cannot support the question (no eligible call types, no durations ...)."""


# --------------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shift:
    teams: int
    start: int = 0      # local hour, 0-23
    end: int = 24       # exclusive, 1-24; end <= start wraps past midnight
    days: str = DAYS    # ISO weekdays the shift *starts* on

    def __post_init__(self):
        if not (0 <= self.start <= 23 and 1 <= self.end <= 24):
            raise CapacityError(f"Hours {self.start}-{self.end} are not hours of a day: use "
                                "a start from 0 to 23 and an end from 1 to 24, such as 8-20.")
        if self.teams < 0 or not self.days or set(self.days) - set(DAYS):
            raise CapacityError(f"A shift needs zero or more teams and weekdays from 1 "
                                f"(Monday) to 7 (Sunday), not {self.teams} teams on {self.days!r}.")

    def spec(self) -> str:
        return f"{self.teams}x{self.start}-{self.end}x{self.days}"


@dataclass(frozen=True)
class Schedule:
    """Teams on duty in each hour of the week: index (ISO weekday - 1) * 24 + local hour."""
    teams: tuple[int, ...]
    label: str = ""

    @classmethod
    def of(cls, shifts, label: str = "") -> "Schedule":
        grid = np.zeros(HOURS_PER_WEEK, dtype=np.int64)
        for s in shifts:
            length = (s.end - s.start) % 24 or 24
            for d in s.days:
                first = (int(d) - 1) * 24 + s.start
                grid[np.arange(first, first + length) % HOURS_PER_WEEK] += s.teams
        return cls(tuple(int(x) for x in grid), label or " + ".join(_words(s) for s in shifts))

    @classmethod
    def uniform(cls, teams: int, hours: tuple[int, int] = (0, 24), days: str = DAYS
                ) -> "Schedule":
        return cls.of([Shift(teams, hours[0], hours[1], days)])

    @property
    def team_hours_per_week(self) -> int:
        return sum(self.teams)

    @property
    def max_teams(self) -> int:
        return max(self.teams)

    def grid(self) -> list[list[int]]:
        """7 rows (Monday first) of 24 hours."""
        return [list(self.teams[d * 24:(d + 1) * 24]) for d in range(7)]


def _words(s: Shift) -> str:
    team = "team" if s.teams == 1 else "teams"
    hours = "around the clock" if (s.end - s.start) % 24 == 0 else f"{s.start}-{s.end}"
    days = "every day" if s.days == DAYS else "weekdays" if s.days == "12345" else \
        f"days {s.days}"
    return f"{s.teams} {team} {hours} {days}"


def parse_hours(text: str) -> tuple[int, int]:
    """'8-20' -> (8, 20); '19-7' wraps past midnight; '0-24' is around the clock."""
    try:
        start, end = (int(p) for p in str(text).split("-"))
    except ValueError:
        raise CapacityError(f"{text!r} is not hours like 8-20 (from 8:00 to 20:00).") from None
    Shift(1, start, end)  # checks the range
    return start, end


def parse_days(text: str) -> str:
    days = "".join(sorted(set(str(text))))
    if not days or set(days) - set(DAYS):
        raise CapacityError(f"{text!r} is not weekdays like 12345 (1 = Monday, 7 = Sunday).")
    return days


def parse_spec(spec: str) -> Schedule:
    """A schedule from its short form, shifts joined by '+': '2x8-20x1234567+1x20-24x56'."""
    shifts = []
    for part in (spec or "").split("+"):
        try:
            teams, hours, days = part.split("x")
            shifts.append(Shift(int(teams), *parse_hours(hours), parse_days(days)))
        except ValueError:
            raise CapacityError(f"{part!r} is not a shift like 2x8-20x1234567 (teams x hours "
                                "x weekdays).") from None
    return Schedule.of(shifts)


def spec_of(shifts) -> str:
    return "+".join(s.spec() for s in shifts)


def schedule_from_toml(text: str, source: str = "the schedule file") -> Schedule:
    """A schedule file: one ``[[shift]]`` table per shift (teams, hours, days); shifts add up.

    ```toml
    [[shift]]
    teams = 2
    hours = "8-20"
    days = "1234567"
    ```
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CapacityError(f"{source} is not TOML: {e}.") from None
    rows = doc.get("shift")
    if not isinstance(rows, list) or not rows:
        raise CapacityError(f"{source} has no [[shift]] table; give each shift its teams, "
                            "hours and days.")
    shifts = []
    for i, row in enumerate(rows, 1):
        if not isinstance(row.get("teams"), int):
            raise CapacityError(f"Shift {i} in {source} needs a whole number of teams.")
        shifts.append(Shift(row["teams"], *parse_hours(row.get("hours", "0-24")),
                            parse_days(row.get("days", DAYS))))
    return Schedule.of(shifts)


# --------------------------------------------------------------------------------------------
# The workload: arrivals and service times, from DuckDB
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CapacityRequest:
    jurisdiction: str
    date_from: date | None = None
    date_to: date | None = None         # inclusive
    areas: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    max_weeks: int = MAX_WEEKS


@dataclass(frozen=True)
class Workload:
    jurisdiction: str
    arrivals: np.ndarray        # local wall-clock epoch seconds, sorted
    start_s: int                # first second of the modelled weeks
    weeks: int
    minutes: np.ndarray         # service histogram: whole minutes ...
    counts: np.ndarray          # ... and how many durations took them
    service_source: str         # "team records" | "police busy time"
    calls_in_period: int        # eligible-type calls in the whole period asked for
    # Per arrival, for the calibration: B1's eligible call; the team responded; not served
    # for want of a free team ("no unit available").
    eligible: np.ndarray = field(repr=False, default=None)
    responded: np.ndarray = field(repr=False, default=None)
    no_team: np.ndarray = field(repr=False, default=None)

    @property
    def durations(self) -> int:
        return int(self.counts.sum())

    @property
    def service_minutes_mean(self) -> float:
        return float((self.minutes * self.counts).sum() / self.counts.sum())

    @property
    def first_day(self) -> date:
        return (datetime(1970, 1, 1) + timedelta(seconds=self.start_s)).date()

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=7 * self.weeks - 1)

    def only_eligible(self) -> "Workload":
        """The same weeks, B1's eligible calls only (a running program's calibration)."""
        return replace(self, arrivals=self.arrivals[self.eligible],
                       eligible=self.eligible[self.eligible],
                       responded=self.responded[self.eligible],
                       no_team=self.no_team[self.eligible])


# Eligible-type, from the columns stored on each call (data/facts.py), not a join with the
# crosswalk (three times the cost over ten million calls): a call of a type the crosswalk marks
# eligible, at any hour (eligible in hours, or "out of hours" outside them), or of an untriaged
# type in a category the program targets (a jurisdiction still planning names only
# categories). Like eligibility itself, it counts calls after the launch, in covered areas.
_ELIGIBLE_TYPE = ("(c.effective_eligible OR c.out_of_hours "
                  "OR (c.effective_eligible IS NULL AND c.is_target))")
_NO_TEAM = r"no (unit|team|responder)|unavailable|not available|busy"


def _where(request: CapacityRequest) -> tuple[str, list]:
    clauses = ["c.jurisdiction = ?", f"coalesce({_ELIGIBLE_TYPE}, false)"]
    params: list = [request.jurisdiction]
    if request.date_from:
        clauses.append("c.received_local >= ?::TIMESTAMP")
        params.append(request.date_from)
    if request.date_to:
        clauses.append("c.received_local < ?::TIMESTAMP")
        params.append(request.date_to + timedelta(days=1))
    if request.areas:
        clauses.append("list_contains(?::VARCHAR[], c.area)")
        params.append(list(request.areas))
    if request.categories:
        clauses.append("list_contains(?::VARCHAR[], c.effective_category)")
        params.append(list(request.categories))
    return " AND ".join(clauses), params


def load_workload(con, request: CapacityRequest) -> Workload:
    """Arrivals of the latest whole weeks (at most ``max_weeks``, about ``MAX_ARRIVALS``
    calls) with their calibration flags, and the service histogram: two scans of the calls."""
    where, params = _where(request)
    n, first, last = con.execute(
        f"SELECT count(*), min(c.received_local), max(c.received_local) FROM calls c "
        f"WHERE {where}", params).fetchone()
    if not n:
        raise CapacityError(
            f"{request.jurisdiction} has no eligible-type calls in this period: mark call "
            "types eligible in its crosswalk, or name the categories it targets (Admin page, "
            "target categories), then ask again.")
    end = _epoch(last.date() + timedelta(days=1))
    if request.date_to:
        end = min(end, _epoch(request.date_to + timedelta(days=1)))
    span = (end - _epoch(first.date())) // WEEK_S
    per_week = n / max(span, 1)
    weeks = min(span, request.max_weeks, max(1, int(MAX_ARRIVALS // max(per_week, 1))))
    if weeks < 1:
        raise CapacityError(f"{request.jurisdiction}'s eligible-type calls in this period span "
                            "less than a week; the model needs at least one whole week.")
    start = end - weeks * WEEK_S
    got = con.execute(
        f"SELECT epoch(c.received_local)::BIGINT AS t, coalesce(c.effective_eligible, false) "
        f"AS e, coalesce(c.ar_responded, false) AS r, NOT coalesce(c.ar_responded, false) AND "
        f"regexp_matches(lower(coalesce(c.not_served_reason, '')), ?) AS nt FROM calls c "
        f"WHERE {where} "
        "AND c.received_local >= make_timestamp(?::BIGINT * 1000000) "
        "AND c.received_local < make_timestamp(?::BIGINT * 1000000) ORDER BY t",
        [_NO_TEAM] + params + [start, end]).fetchnumpy()
    minutes, counts, source = _service_histogram(con, request, where, params)
    flags = {k: np.asarray(got[c], dtype=bool) for k, c in
             (("eligible", "e"), ("responded", "r"), ("no_team", "nt"))}
    return Workload(request.jurisdiction, np.asarray(got["t"], dtype=np.int64), int(start),
                    int(weeks), minutes, counts, source, int(n), **flags)


def _service_histogram(con, request, where, params):
    minutes = f"round((epoch(cleared_at) - epoch(dispatched_at)) / 60)"
    valid = (f"dispatched_at IS NOT NULL AND cleared_at > dispatched_at "
             f"AND epoch(cleared_at) - epoch(dispatched_at) <= {MAX_SERVICE_MIN * 60}")
    team_where, team_params = ["jurisdiction = ?", valid], [request.jurisdiction]
    if request.date_from:
        team_where.append("requested_local >= ?::TIMESTAMP")
        team_params.append(request.date_from)
    if request.date_to:
        team_where.append("requested_local < ?::TIMESTAMP")
        team_params.append(request.date_to + timedelta(days=1))
    if request.areas:
        team_where.append("list_contains(?::VARCHAR[], area)")
        team_params.append(list(request.areas))
    for source, sql, args in (
            ("team records", f"SELECT {minutes} AS m, count(*) AS n FROM responses "
                             f"WHERE {' AND '.join(team_where)} GROUP BY 1", team_params),
            ("police busy time", f"SELECT {minutes} AS m, count(*) AS n FROM calls c "
                                 f"WHERE {where} AND c.responder = 'police' AND "
                                 f"{valid.replace('dispatched_at', 'c.dispatched_at').replace('cleared_at', 'c.cleared_at')} "
                                 "GROUP BY 1", params)):
        hist = con.execute(sql + " ORDER BY 1", args).fetchnumpy()
        if hist["n"].sum() >= MIN_DURATIONS:
            return (np.asarray(hist["m"], dtype=float), np.asarray(hist["n"], dtype=np.int64),
                    source)
    raise CapacityError(
        f"{request.jurisdiction} has fewer than {MIN_DURATIONS} durations (dispatch to clear) "
        "in the team's records or on police-handled calls of the eligible types in this "
        "period, so how long a call keeps a team busy is unknown. Import calls with dispatch "
        "and clear times, or widen the period.")


def _epoch(d: date) -> int:
    return int((datetime(d.year, d.month, d.day) - datetime(1970, 1, 1)).total_seconds())


def hour_of_week(epoch_s: np.ndarray) -> np.ndarray:
    """Monday 0:00 = 0 ... Sunday 23:00 = 167 (1970-01-01 was a Thursday)."""
    return ((epoch_s // 86_400 + 3) % 7) * 24 + (epoch_s // 3600) % 24


# --------------------------------------------------------------------------------------------
# The simulation
# --------------------------------------------------------------------------------------------

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
                "missed_no_team_on_duty": self.missed_off, "served_after_wait": round(self.waited, 1),
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
    calls = np.bincount(hour_of_week(workload.arrivals), minlength=HOURS_PER_WEEK)
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
    """The fewest teams whose Erlang-by-hour coverage reaches ``target``: the search's start."""
    on = np.asarray(Schedule.uniform(1, hours, days).teams)
    for k in range(1, MAX_TEAMS + 1):
        e = erlang_by_hour(workload, Schedule(tuple(int(x) for x in on * k)),
                           extra_minutes=plan.extra, max_wait_minutes=plan.wait_minutes)
        if e["coverage"] >= target:
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


# --------------------------------------------------------------------------------------------
# Calibration against a running program
# --------------------------------------------------------------------------------------------

@dataclass
class Calibration:
    jurisdiction: str
    schedule: Schedule
    teams_source: str
    eligible: int                # B1's denominator in the modelled weeks
    responded: int               # B1's numerator
    no_team: int                 # eligible, not served, reason: no unit / team available
    other_losses: int            # eligible, not served for any other reason
    model: Coverage
    notes: list[str] = field(default_factory=list)

    @property
    def measured(self) -> float:
        return self.responded / self.eligible if self.eligible else 0.0

    @property
    def measured_no_team_share(self) -> float:
        return self.no_team / self.eligible if self.eligible else 0.0

    @property
    def model_no_team_share(self) -> float:
        m = self.model
        return (m.missed_busy + m.missed_off) / m.calls if m.calls else 0.0

    @property
    def modelled(self) -> float:
        """Comparable with B1: calls lost for other reasons (reassigned, cancelled, resolved
        by phone ...) are left out of the simulation at their measured rate, at random."""
        return self.model.coverage

    @property
    def gap(self) -> float:
        return self.modelled - self.measured

    @property
    def reliable(self) -> bool:
        return abs(self.gap) <= CALIBRATION_TOLERANCE

    def as_dict(self) -> dict:
        return {"jurisdiction": self.jurisdiction, "schedule": self.schedule.label,
                "teams_source": self.teams_source, "eligible": self.eligible,
                "responded": self.responded, "measured_coverage": self.measured,
                "model_coverage": self.modelled,
                "gap": self.gap, "measured_no_team_share": self.measured_no_team_share,
                "model_no_team_share": self.model_no_team_share,
                "reliable": bool(self.reliable), "notes": self.notes}


def program_settings(con, jurisdiction: str) -> dict | None:
    row = con.execute("SELECT launch_date, coverage_start_hour, coverage_end_hour, "
                      "coverage_days FROM jurisdictions WHERE jurisdiction = ?",
                      [jurisdiction]).fetchone()
    if row is None:
        return None
    return dict(zip(("launch_date", "start", "end", "days"), row))


def observed_teams(con, request: CapacityRequest) -> int:
    """Teams working at once, from the team's records: the 90th percentile over days of the
    day's highest number of responses open at the same moment (dispatch to clear)."""
    where, params = ["jurisdiction = ?", "dispatched_at IS NOT NULL",
                     "cleared_at > dispatched_at",
                     f"epoch(cleared_at) - epoch(dispatched_at) <= {MAX_SERVICE_MIN * 60}"], \
        [request.jurisdiction]
    if request.date_from:
        where.append("requested_local >= ?::TIMESTAMP")
        params.append(request.date_from)
    if request.date_to:
        where.append("requested_local < ?::TIMESTAMP")
        params.append(request.date_to + timedelta(days=1))
    w = " AND ".join(where)
    found = con.execute(f"""
        WITH ev AS (SELECT epoch(dispatched_at) AS t, 1 AS d FROM responses WHERE {w}
                    UNION ALL SELECT epoch(cleared_at), -1 FROM responses WHERE {w}),
             level AS (SELECT t, sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS busy
                       FROM ev)
        SELECT quantile_disc(peak, 0.9) FROM (
          SELECT floor(t / 86400) AS day, max(busy) AS peak FROM level GROUP BY 1)""",
        params + params).fetchone()[0]
    return int(found or 0)


def actual_schedule(con, request: CapacityRequest, teams: int | None = None
                    ) -> tuple[Schedule, str]:
    """The schedule the program works: its coverage hours and days, with ``teams`` or the
    number of teams its records show working at once."""
    settings = program_settings(con, request.jurisdiction) or {}
    start, end = settings.get("start"), settings.get("end")
    hours = (0, 24) if start is None or end is None else (int(start), int(end) or 24)
    days = settings.get("days") or DAYS
    source = "setting"
    if teams is None:
        teams, source = observed_teams(con, request), "observed in the team's records"
    if teams < 1:
        raise CapacityError(f"{request.jurisdiction}'s records show no team at work in this "
                            "period; give the number of teams (--teams).")
    return Schedule.uniform(teams, hours, parse_days(days)), source


def calibrate(con, request: CapacityRequest, *, teams: int | None = None,
              extra_minutes: float = DEFAULT_EXTRA_MINUTES, max_wait_minutes: float = 0.0,
              runs: int = DEFAULT_RUNS, seed: int = 0, workload: Workload | None = None
              ) -> Calibration:
    """The model's coverage for the program's actual schedule beside what was measured, over
    the same weeks and the same calls (B1's eligible calls in them). ``workload``: the
    eligible-type calls already loaded for the same request (no second scan)."""
    settings = program_settings(con, request.jurisdiction)
    if not settings or settings["launch_date"] is None:
        raise CapacityError(f"{request.jurisdiction} has no launch date: there is no running "
                            "program to calibrate against.")
    w = (workload or load_workload(con, request)).only_eligible()
    if not len(w.arrivals):
        raise CapacityError(f"{request.jurisdiction} has no eligible calls (in coverage hours, "
                            "days and areas) in the modelled weeks to calibrate against.")
    weeks = replace(request, date_from=w.first_day, date_to=w.last_day)
    schedule, source = actual_schedule(con, weeks, teams)
    eligible, responded, no_team = len(w.arrivals), int(w.responded.sum()), int(w.no_team.sum())
    other = eligible - responded - no_team
    model = simulate(w, [schedule], extra_minutes=extra_minutes,
                     max_wait_minutes=max_wait_minutes, runs=runs, seed=seed,
                     need_share=1 - other / eligible)[0]
    cal = Calibration(request.jurisdiction, schedule, source, eligible, responded, no_team,
                      other, model)
    cal.notes = explain_gap(cal, w)
    return cal


def explain_gap(cal: Calibration, workload: Workload) -> list[str]:
    """Sentences saying whether the model reproduces the program, and what may explain why not."""
    pts = abs(cal.gap) * 100
    if cal.reliable:
        return [f"The model is within {pts:.1f} points of the measured coverage: its advice for "
                "this jurisdiction can be relied on as a first estimate."]
    notes = [f"The model's coverage differs from the measured coverage by {pts:.1f} points "
             f"(more than {CALIBRATION_TOLERANCE:.0%}): treat its advice as unreliable until "
             "the gap is explained."]
    capacity_gap = cal.model_no_team_share - cal.measured_no_team_share
    if cal.gap > 0 and capacity_gap < 0:
        notes.append("It predicts fewer 'no team available' misses than were recorded: the "
                     "teams may not all be on shift at all covered hours, may be busy with work "
                     "not in these records (follow-ups, team-initiated contacts), or the "
                     "number of teams read from the records is too high (give the number "
                     "yourself: --teams on the command line).")
    if cal.gap < 0:
        notes.append("It predicts more misses than were recorded: more teams may work at busy "
                     "hours than the records show at once, or calls are shorter than the "
                     "recorded dispatch-to-clear times.")
    if cal.no_team == 0 and cal.eligible - cal.responded > 0:
        notes.append("No miss is recorded as 'no unit available': the reason why eligible "
                     "calls were not served is missing from the dispatch data, so capacity "
                     "misses cannot be told from other losses.")
    if workload.service_source != "team records":
        notes.append("Service times come from police busy time, not the team's own records.")
    return notes


# --------------------------------------------------------------------------------------------
# The Plan page's question in one call, and what a viewer may see of it
# --------------------------------------------------------------------------------------------

TARGETS = (0.6, 0.7, 0.8)


def plan(con, request: CapacityRequest, specs: tuple[str, ...], *,
         extra_minutes: float = DEFAULT_EXTRA_MINUTES, max_wait_minutes: float = 0.0,
         runs: int = DEFAULT_RUNS, seed: int = 0, targets=TARGETS) -> dict:
    """Schedules (short forms, ``parse_spec``) compared on the same calls, the team-hours each
    target needs, and the calibration: plain values, for a cache and a page."""
    kw = dict(extra_minutes=extra_minutes, max_wait_minutes=max_wait_minutes, runs=runs,
              seed=seed)
    workload = load_workload(con, request)
    schedules = [parse_spec(s) for s in specs]
    results = simulate(workload, schedules, **kw)
    doc = {"jurisdiction": request.jurisdiction, "first_day": workload.first_day,
           "last_day": workload.last_day, "weeks": workload.weeks, "calls": len(workload.arrivals),
           "calls_in_period": workload.calls_in_period,
           "service_minutes_mean": workload.service_minutes_mean + extra_minutes,
           "service_source": workload.service_source, "durations": workload.durations,
           "extra_minutes": extra_minutes, "max_wait_minutes": max_wait_minutes, "runs": runs,
           "schedules": [_schedule_doc(workload, r, kw) for r in results],
           "needed": [f.as_dict() for f in needed_for(workload, targets, **kw)]}
    try:  # the calibration compares point estimates: no interval needed
        doc["calibration"] = calibrate(con, request, workload=workload,
                                       **{**kw, "runs": 0}).as_dict()
    except CapacityError as e:
        doc["calibration"] = {"unavailable": str(e)}
    return doc


def _schedule_doc(workload: Workload, r: Coverage, kw: dict) -> dict:
    hour = np.arange(HOURS_PER_WEEK) % 24
    calls = np.bincount(hour, weights=r.calls_by_hour, minlength=24)
    served = np.bincount(hour, weights=r.served_by_hour, minlength=24)
    erlang = erlang_by_hour(workload, r.schedule, extra_minutes=kw["extra_minutes"],
                            max_wait_minutes=kw["max_wait_minutes"])
    return {**r.as_dict(), "erlang_coverage": erlang["coverage"], "grid": r.schedule.grid(),
            "by_hour": [{"hour": h, "calls": int(calls[h]), "served": float(served[h]),
                         "coverage": float(served[h] / calls[h]) if calls[h] else None}
                        for h in range(24)]}


def publish(doc: dict, policy) -> dict:
    """The plan as a viewer may see it: every count of calls through disclosure control
    (1 to H hidden, the rest rounded; metrics.disclosure), and each share of an hour or a
    program shown only beside a published count of its calls. Model shares of the whole
    period (coverage, its interval) rest on the period's calls and follow them."""
    out = {**doc, "calls": publish_count(doc["calls"], policy),
           "calls_in_period": publish_count(doc["calls_in_period"], policy),
           "durations": publish_count(doc["durations"], policy)}
    out["schedules"] = [_published_schedule(s, out["calls"] is None, policy)
                        for s in doc["schedules"]]
    cal = doc.get("calibration") or {}
    if "gap" in cal:
        out["calibration"] = _published_calibration(cal, policy)
    return out


_SCHEDULE_COUNTS = ("served", "missed_no_team_free", "missed_no_team_on_duty",
                    "served_after_wait")


def _published_schedule(s: dict, hidden: bool, policy) -> dict:
    out = {**s, **{k: None if hidden else publish_count(s[k], policy) for k in _SCHEDULE_COUNTS}}
    if hidden:
        out.update(coverage=None, ci_low=None, ci_high=None, erlang_coverage=None)
    out["by_hour"] = []
    for h in s["by_hour"]:
        calls = publish_count(h["calls"], policy)
        out["by_hour"].append({"hour": h["hour"], "calls": calls,
                               "served": None if not calls else publish_count(h["served"], policy),
                               "coverage": h["coverage"] if calls else None})
    return out


def _published_calibration(cal: dict, policy) -> dict:
    eligible = publish_count(cal["eligible"], policy)
    responded = publish_count(cal["responded"], policy)
    no_team = publish_count(cal["measured_no_team_share"] * cal["eligible"], policy)
    out = {**cal, "eligible": eligible, "responded": responded}
    if not eligible or responded is None or no_team is None:
        out.update(measured_coverage=None, measured_no_team_share=None, gap=None,
                   reliable=False, notes=["The measured coverage rests on too few calls to "
                                          "show here, so the model cannot be checked against "
                                          "it."])
        return out
    measured = responded / eligible
    gap = cal["model_coverage"] - measured
    out.update(measured_coverage=measured, measured_no_team_share=no_team / eligible, gap=gap,
               reliable=abs(gap) <= CALIBRATION_TOLERANCE)
    return out


def publish_count(count, policy):
    """A count of calls as a viewer sees it (metrics.disclosure rules); None when hidden."""
    from .disclosure import published_count

    if count is None:
        return None
    return published_count(int(round(count)), policy)


METHODOLOGY = f"""## Planning: how many teams for what coverage (the Plan page)

`metrics/capacity.py`; `python -m metrics capacity`. Built on one jurisdiction's own calls.

- **Arrivals**: its eligible-type calls at their actual local times: call types the crosswalk
  marks eligible, at any hour (eligible in coverage hours, or out of hours outside them), and
  calls of untriaged types in a category the program targets (a jurisdiction still planning
  only names categories); like eligibility, after the launch and in covered areas. The
  sidebar's period, categories and areas apply. The latest whole weeks are modelled: at most
  {MAX_WEEKS}, and about {MAX_ARRIVALS:,} calls for a busy jurisdiction.
- **Service time**: dispatch to clear (travel + on scene) from the team's own records when it
  has at least {MIN_DURATIONS}, else police busy time (dispatch to clear) on police-handled
  calls of the same types; durations over {MAX_SERVICE_MIN // 60} hours are left out as records
  left open. Drawn from their histogram of whole minutes, plus the extra minutes chosen
  (default {DEFAULT_EXTRA_MINUTES:.0f}: wrap-up and notes).
- **Schedule**: teams on duty per weekday × local hour. A call that finds every team on duty
  busy is missed, or waits for the first team to free up if that is within the tolerable
  wait (first come, first served). Teams finish a call past the end of a shift.
- **Coverage**: calls served ÷ eligible-type calls, the mean of {TRACE_RUNS} simulation runs
  over the actual call times (service times drawn afresh, seeded). The 95% interval is the
  2.5th to 97.5th percentile of runs over resampled weeks (whole weeks drawn with
  replacement, keeping weekday and hour patterns): how much a year like this one can vary.
- **Erlang cross-check**: each hour of the week as a stationary hour (its average rate, the
  mean service time, its teams): Erlang B, 1 − B(c, A) with A = calls an hour × hours per
  call, by the recursion B(n) = A·B(n−1) / (n + A·B(n−1)); with a wait, Erlang C's share
  answered within it, 1 − C·exp(−(c − A)·t / service), C = c·B / (c − A(1 − B)); weighted by
  calls over the week. It ignores calls carried over between hours.
- **Team-hours for a target**: the fewest teams, the same every day on 8-20, 7-23 or around
  the clock, whose coverage reaches 60%, 70%, 80%; the pattern with the fewest team-hours a
  week is shown.
- **Calibration** (running programs): the model is run for the schedule the program works
  (its coverage hours and days; teams = the 90th percentile over days of the day's highest
  number of its responses open at once, dispatch to clear) over B1's eligible calls in the
  same weeks, with calls lost for other reasons (reassigned, cancelled, resolved by phone)
  left out at their measured rate. Its coverage is set beside the measured coverage (B1) and
  its "no team available" misses beside the recorded ones ("no unit available" and the
  like). A gap over {CALIBRATION_TOLERANCE * 100:.0f} points is stated with what may explain it,
  and the advice is then shown as estimates only.
- **Limits**: one pool of teams for the whole jurisdiction (no travel between areas, no
  breaks); calls a team starts itself are not arrivals; a week's pattern is assumed to repeat.
"""
