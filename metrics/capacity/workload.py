"""The workload: a jurisdiction's eligible-type arrivals and service times, from DuckDB."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from datetime import date, datetime, timedelta

import numpy as np

from data import impact_tables
from data.aggregates import ROLLUPS

from .. import rollup
from ..errors import CapacityError
from ..request import Filters
from ..sql import period_where
from .schedules import HOURS_PER_WEEK, WEEK_S

MAX_WEEKS = 52          # a year of arrivals: enough for seasons, bounded for the page's budget
MAX_ARRIVALS = 15_000   # fewer weeks for a busier jurisdiction: each run costs ~1 us a call
MIN_DURATIONS = 20      # fewer durations than this describe no distribution
MAX_SERVICE_MIN = impact_tables.MAX_SERVICE_MIN  # longer: a record left open
_CALLS_MONTHLY = next(r for r in ROLLUPS if r.table == "calls_monthly")


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

    @cached_property
    def calls_by_hour(self) -> np.ndarray:
        """Arrivals per hour of the week (168), counted once: the reverse search's Erlang
        guesses ask for them hundreds of times."""
        return np.bincount(hour_of_week(self.arrivals), minlength=HOURS_PER_WEEK)

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
    period, values = period_where("c.received_local", request.date_from, request.date_to)
    clauses = ["c.jurisdiction = ?", f"coalesce({_ELIGIBLE_TYPE}, false)", *period]
    params: list = [request.jurisdiction, *values]
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
    n, first, last = _extent(con, request, where, params)
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
        # The months too (stored with each call): implied by the times, but a plain integer
        # column DuckDB skips row groups on (half the scan's time at 100 million calls).
        "AND c.received_month BETWEEN ? AND ? "
        "AND c.received_local >= make_timestamp(?::BIGINT * 1000000) "
        "AND c.received_local < make_timestamp(?::BIGINT * 1000000) ORDER BY t",
        [_NO_TEAM] + params + [_month_of(start), _month_of(end - 1), start, end]).fetchnumpy()
    minutes, counts, source = _service_histogram(con, request, where, params)
    flags = {k: np.asarray(got[c], dtype=bool) for k, c in
             (("eligible", "e"), ("responded", "r"), ("no_team", "nt"))}
    return Workload(request.jurisdiction, np.asarray(got["t"], dtype=np.int64), int(start),
                    int(weeks), minutes, counts, source, int(n), **flags)


def _tables_answer(con, request: CapacityRequest) -> bool:
    """Whether the maintained tables (data/impact_tables.py) answer ``request``: whole months,
    no area or category filter, the tables current."""
    filters = Filters(date_from=request.date_from, date_to=request.date_to)
    return not (request.areas or request.categories
                or rollup.reading_rows() or not rollup.whole_months(filters)
                or not (rollup.available(con, _CALLS_MONTHLY) and impact_tables.current(con)))


def _months(request: CapacityRequest, clauses: list, values: list) -> tuple[list, list]:
    for op, day in ((">=", request.date_from), ("<=", request.date_to)):
        if day:
            clauses.append(f"local_month {op} ?")
            values.append(day.year * 100 + day.month)
    return clauses, values


def _extent(con, request: CapacityRequest, where: str, params: list):
    """(eligible-type calls in the period, the first, the last): from the maintained
    ``calls_span`` (data/impact_tables.py) for whole months without area or category
    filters, else from the calls; the same three values."""
    if not _tables_answer(con, request):
        return con.execute(f"SELECT count(*), min(c.received_local), max(c.received_local) "
                           f"FROM calls c WHERE {where}", params).fetchone()
    clauses, values = _months(request, ["jurisdiction = ?", "eligible_type"],
                              [request.jurisdiction])
    return con.execute(
        "SELECT coalesce(sum(calls), 0)::BIGINT, min(first_local), max(last_local) "
        f"FROM calls_span WHERE {' AND '.join(clauses)}", values).fetchone()


def _service_histogram(con, request, where, params):
    minutes, valid = impact_tables.SERVICE_MINUTES, impact_tables.SERVICE_VALID
    period, values = period_where("requested_local", request.date_from, request.date_to)
    team_where, team_params = ["jurisdiction = ?", valid, *period], [request.jurisdiction,
                                                                     *values]
    if request.areas:
        team_where.append("list_contains(?::VARCHAR[], area)")
        team_params.append(list(request.areas))
    team = (f"SELECT {minutes} AS m, count(*) AS n FROM responses "
            f"WHERE {' AND '.join(team_where)} GROUP BY 1", team_params)
    if _tables_answer(con, request):
        team = _team_minutes(request)
    police_valid = valid.replace("dispatched_at", "c.dispatched_at").replace("cleared_at",
                                                                           "c.cleared_at")
    for source, (sql, args) in (
            ("team records", team),
            ("police busy time", (f"SELECT {minutes} AS m, count(*) AS n FROM calls c "
                                  f"WHERE {where} AND c.responder = 'police' AND "
                                  f"{police_valid} GROUP BY 1", params))):
        hist = con.execute(sql + " ORDER BY 1", args).fetchnumpy()
        if hist["n"].sum() >= MIN_DURATIONS:
            return (np.asarray(hist["m"], dtype=float), np.asarray(hist["n"], dtype=np.int64),
                    source)
    raise CapacityError(
        f"{request.jurisdiction} has fewer than {MIN_DURATIONS} durations (dispatch to clear) "
        "in the team's records or on police-handled calls of the eligible types in this "
        "period, so how long a call keeps a team busy is unknown. Import calls with dispatch "
        "and clear times, or widen the period.")


def _team_minutes(request: CapacityRequest) -> tuple[str, list]:
    """The team's service-time histogram summed over ``team_service_minutes``."""
    clauses, values = ["jurisdiction = ?", "minutes IS NOT NULL"], [request.jurisdiction]
    clauses, values = _months(request, clauses, values)
    return (f"SELECT minutes AS m, sum(responses)::BIGINT AS n FROM team_service_minutes "
            f"WHERE {' AND '.join(clauses)} GROUP BY 1", values)


def _month_of(epoch_s: int) -> int:
    """The month (2025 * 100 + 3) of a local wall-clock epoch second, as calls store it."""
    d = datetime(1970, 1, 1) + timedelta(seconds=int(epoch_s))
    return d.year * 100 + d.month


def _epoch(d: date) -> int:
    return int((datetime(d.year, d.month, d.day) - datetime(1970, 1, 1)).total_seconds())


def hour_of_week(epoch_s: np.ndarray) -> np.ndarray:
    """Monday 0:00 = 0 ... Sunday 23:00 = 167 (1970-01-01 was a Thursday)."""
    return ((epoch_s // 86_400 + 3) % 7) * 24 + (epoch_s // 3600) % 24
