"""The monthly series the impact methods run on: DuckDB counts calls per month, nothing else.

One query per jurisdiction turns its target-type, public-initiated calls into a few dozen
rows (month × program/comparison group): calls police handled, their busy hours, calls the
team handled. The models in ``metrics.impact`` see only these rows, never the calls.

For a period of whole months (every public view) the rows are summed from the maintained
tables instead of counted from the calls (issue 25): the counts from ``calls_monthly`` (or
``calls_hourly`` when the program is compared with hours it does not cover), the police busy
time from ``police_time_monthly`` and the first and last day from
``calls_span`` (data/impact_tables.py): the same numbers (tests/test_impact_tables.py), in
milliseconds at any size. Otherwise, or within ``metrics.rollup.rows_only``, one grouped scan
of the jurisdiction's calls (two with hours).

Police busy time of a call is cleared − dispatched, or cleared − on scene where the dispatch
time is missing; an interval that is negative or longer than a day is a recording error and,
like a call with no clear time or neither start time, adds no time (counted in ``untimed``).

``publish`` turns the exact series into what a viewer may see, with the same rule as every
other count (``metrics.disclosure.published_count``): each monthly count rounded, 1 to H
hidden; hours shown only beside a published call count.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from data import impact_tables
from data.aggregates import ROLLUPS
from data.impact_tables import BUSY_US, US_PER_HOUR

from . import rollup
from .disclosure import DisclosurePolicy, published_count
from .engine import Filters
from .errors import MetricError
from .sources import CALLS
from .sql import BUSY_FROM_SCENE, BUSY_HOURS, busy_ok, period_where

COUNT_COLUMNS = ("target_calls", "police_calls", "team_calls", "phone_calls", "timed_dispatch",
                 "timed_scene", "untimed")
GROUPS = ("program", "comparison")
_ROLLUP = {r.table: r for r in ROLLUPS}


class ImpactRefused(MetricError):
    """The data cannot support the asked estimate; the message says what is missing."""


@dataclass(frozen=True)
class Program:
    """What the impact methods need to know about a jurisdiction's program."""

    jurisdiction: str
    launch_date: date | None
    targets: tuple[str, ...]
    coverage_areas: tuple[str, ...] | None
    coverage_hours: tuple[int, int] | None  # (start, end) local hours; None = around the clock
    coverage_days: str | None
    model: str | None = None

    @property
    def comparison(self) -> str | None:
        """'areas' (areas the team does not cover), 'hours' (hours or days it does not), or
        None when the program covers the whole jurisdiction around the clock."""
        if self.coverage_areas:
            return "areas"
        hours = (self.coverage_hours is not None
                 and (self.coverage_hours[1] - self.coverage_hours[0]) % 24 != 0)
        days = bool(self.coverage_days) and len(set(self.coverage_days) & set("1234567")) < 7
        return "hours" if hours or days else None


def load_program(con, jurisdiction: str) -> Program:
    row = con.execute(
        "SELECT launch_date, target_categories, coverage_areas, coverage_start_hour, "
        "coverage_end_hour, coverage_days FROM jurisdictions WHERE jurisdiction = ?",
        [jurisdiction]).fetchone()
    if row is None:
        raise ImpactRefused(f"There is no jurisdiction {jurisdiction!r} in the database.")
    launch, targets, areas, start, end, days = row
    hours = (int(start), int(end)) if start is not None and end is not None else None
    return Program(jurisdiction, launch, tuple(targets or ()), tuple(areas) if areas else None,
                   hours, days)


def _group_sql(program: Program, hour: str = "hour(local_ts)",
               weekday: str = "isodow(local_ts)") -> tuple[str, list]:
    """SQL naming each call's group, and its parameters (values bound, never spliced).
    ``hour`` and ``weekday``: the local hour and ISO weekday (a table's stored columns)."""
    kind = program.comparison
    if kind == "areas":
        return (f"CASE WHEN area IS NULL THEN NULL WHEN area {_in(program.coverage_areas)} "
                "THEN 'program' ELSE 'comparison' END", list(program.coverage_areas))
    if kind == "hours":
        start, end = program.coverage_hours or (0, 24)
        days = program.coverage_days or "1234567"
        if (end - start) % 24 == 0:
            hours = "true"
        else:  # coverage may wrap past midnight (19 -> 7)
            hours = (f"{hour} >= ? AND {hour} < ?" if start < end
                     else f"({hour} >= ? OR {hour} < ?)")
        params = [start, end] if hours != "true" else []
        return (f"CASE WHEN {hours} AND contains(?, {weekday}::VARCHAR) "
                "THEN 'program' ELSE 'comparison' END", params + [days])
    return "'program'", []


def _in(values) -> str:
    """``IN (?, ?, ...)`` for ``values`` (bound as parameters): cheaper per row than
    ``list_contains`` over ten million calls."""
    return f"IN ({', '.join('?' * len(values))})"


def _where(program: Program, filters: Filters) -> tuple[str, list]:
    period, values = period_where("local_ts", filters.date_from, filters.date_to)
    where = ["jurisdiction = ?", "is_target", "public_initiated", *period]
    params: list = [program.jurisdiction, *values]
    for column, values in (("category", filters.categories), ("area", filters.areas)):
        if values:
            where.append(f"{column} {_in(values)}")
            params += list(values)
    return " AND ".join(where), params


def series_sql(program: Program, filters: Filters) -> tuple[str, list]:
    """(month, group) -> target-type calls, those police, the team and a phone clinician
    handled. One grouped scan of the jurisdiction's target-type calls."""
    group, group_params = _group_sql(program)
    where, params = _where(program, filters)
    sql = f"""
SELECT local_month, {group} AS grp,
  count(*) AS target_calls,
  count_if(responder = 'police') AS police_calls,
  count_if(ar_responded) AS team_calls,
  count_if(responder = 'phone') AS phone_calls
FROM ({CALLS}) calls
WHERE {where}
GROUP BY ALL ORDER BY ALL"""
    return sql, group_params + params


def hours_sql(program: Program, filters: Filters) -> tuple[str, list]:
    """(month, group) -> police busy hours and how their calls were timed (police calls only:
    a second, narrower scan, run only when hours are asked for). Busy time is summed in whole
    microseconds, exactly (``data.impact_tables``: the same sum its tables keep)."""
    group, group_params = _group_sql(program)
    where, params = _where(program, filters)
    sql = f"""
SELECT local_month, grp,
  count_if(basis = 'dispatch') AS timed_dispatch,
  count_if(basis = 'scene') AS timed_scene,
  count_if(basis IS NULL) AS untimed,
  coalesce(sum(us) FILTER (WHERE basis IS NOT NULL), 0) / {US_PER_HOUR}.0 AS police_hours
FROM (
  SELECT local_month, {group} AS grp, us,
    CASE WHEN {busy_ok("h")} THEN
      CASE WHEN {BUSY_FROM_SCENE} THEN 'scene' ELSE 'dispatch' END END AS basis
  FROM (SELECT *, {BUSY_HOURS} AS h, {BUSY_US} AS us
        FROM ({CALLS}) calls WHERE {where} AND responder = 'police'))
GROUP BY ALL ORDER BY ALL"""
    return sql, group_params + params


# --------------------------------------------------------------------------------------------
# The same rows from the maintained tables (data/aggregates.py, data/impact_tables.py)
# --------------------------------------------------------------------------------------------

def _tables(con, program: Program, filters: Filters) -> tuple[str, str] | None:
    """(counts table, police time table) that hold what the series needs, or None: the rows
    answer (a period not of whole months, hours compared within chosen categories or areas,
    tables missing or not current, or ``rollup.rows_only``)."""
    hours = program.comparison == "hours"
    if rollup.reading_rows() or not rollup.whole_months(filters) or (
            hours and (filters.categories or filters.areas)):
        return None
    counts = "calls_hourly" if hours else "calls_monthly"
    if not (rollup.available(con, _ROLLUP[counts]) and impact_tables.current(con)):
        return None
    return counts, "police_time_monthly"


def _table_where(program: Program, filters: Filters, flags: bool = True
                 ) -> tuple[str, list]:
    where = ["jurisdiction = ?"] + (["is_target", "public_initiated"] if flags else [])
    params: list = [program.jurisdiction]
    for op, day in ((">=", filters.date_from), ("<=", filters.date_to)):
        if day:
            where.append(f"local_month {op} ?")
            params.append(day.year * 100 + day.month)
    for column, values in (("category", filters.categories), ("area", filters.areas)):
        if values:
            where.append(f"{column} {_in(values)}")
            params += list(values)
    return " AND ".join(where), params


def _table_group(program: Program) -> tuple[str, list]:
    return _group_sql(program, "local_hour", "local_weekday")


def series_table_sql(program: Program, filters: Filters, table: str) -> tuple[str, list]:
    """``series_sql``'s rows, summed over a monthly counts table."""
    group, group_params = _table_group(program)
    where, params = _table_where(program, filters)
    sql = f"""
SELECT local_month, {group} AS grp,
  sum(calls)::BIGINT AS target_calls,
  coalesce(sum(calls) FILTER (WHERE responder = 'police'), 0)::BIGINT AS police_calls,
  coalesce(sum(calls) FILTER (WHERE ar_responded), 0)::BIGINT AS team_calls,
  coalesce(sum(calls) FILTER (WHERE responder = 'phone'), 0)::BIGINT AS phone_calls
FROM {table}
WHERE {where}
GROUP BY ALL ORDER BY ALL"""
    return sql, group_params + params


def hours_table_sql(program: Program, filters: Filters, table: str) -> tuple[str, list]:
    """``hours_sql``'s rows, summed over the police time table (which holds target-type,
    public-initiated calls only)."""
    group, group_params = _table_group(program)
    where, params = _table_where(program, filters, flags=False)
    sql = f"""
SELECT local_month, {group} AS grp,
  sum(timed_dispatch)::BIGINT AS timed_dispatch,
  sum(timed_scene)::BIGINT AS timed_scene,
  (sum(police_calls) - sum(timed_dispatch) - sum(timed_scene))::BIGINT AS untimed,
  sum(busy_us) / {US_PER_HOUR}.0 AS police_hours
FROM {table}
WHERE {where}
GROUP BY ALL ORDER BY ALL"""
    return sql, group_params + params


def data_days(con, jurisdiction: str, tables: bool = False
              ) -> tuple[date | None, date | None]:
    """The first and last local day of the jurisdiction's calls (of any type); with
    ``tables``, from each month's first and last call (``calls_span``)."""
    if tables:
        return con.execute("SELECT min(first_local)::DATE, max(last_local)::DATE "
                           "FROM calls_span WHERE jurisdiction = ?", [jurisdiction]).fetchone()
    return con.execute("SELECT min(received_local)::DATE, max(received_local)::DATE FROM calls "
                       "WHERE jurisdiction = ?", [jurisdiction]).fetchone()


def monthly_series(con, program: Program, filters: Filters, hours: bool = True
                   ) -> pd.DataFrame:
    """One row per (month, group) of the period, months without calls as zeros.

    Columns: month (first day), idx (months since year 0), days (days of the month inside the
    period and the data), phase ('pre', 'launch' = the launch month when launch is not on the
    1st, 'post'), group, the COUNT_COLUMNS and police_hours. Without ``hours`` the hours and
    timing columns are NaN (not counted).
    """
    tables = _tables(con, program, filters)
    first, last = data_days(con, program.jurisdiction, tables is not None)
    if first is None:
        raise ImpactRefused(f"{program.jurisdiction} has no calls in the database: upload its "
                            "CAD export on the Data page.")
    lo = max(first, filters.date_from) if filters.date_from else first
    hi = min(last, filters.date_to) if filters.date_to else last
    if lo > hi:
        raise ImpactRefused("The chosen period holds none of this jurisdiction's calls.")
    groups = GROUPS if program.comparison else ("program",)
    months = _calendar(lo, hi, program.launch_date)
    out = months.merge(pd.DataFrame({"group": groups}), how="cross")
    if tables is None:
        queries = [series_sql(program, filters)] + ([hours_sql(program, filters)] if hours
                                                    else [])
    else:
        queries = [series_table_sql(program, filters, tables[0])] + (
            [hours_table_sql(program, filters, tables[1])] if hours else [])
    for sql, params in queries:
        out = out.merge(_fetch(con, sql, params), on=["idx", "group"], how="left")
    for col in COUNT_COLUMNS:
        if col in out:
            out[col] = out[col].fillna(0).astype("int64")
        else:
            out[col] = float("nan")
    out["police_hours"] = out["police_hours"].fillna(0.0).astype(float) if hours else float(
        "nan")
    return out.reset_index(drop=True)


def _fetch(con, sql: str, params: list) -> pd.DataFrame:
    rows = con.execute(sql, params).fetchdf().rename(columns={"grp": "group"})
    rows = rows[rows["group"].notna()]  # calls with no area, where areas are compared
    rows["idx"] = (rows["local_month"] // 100) * 12 + rows["local_month"] % 100 - 1
    return rows.drop(columns="local_month")


def _calendar(lo: date, hi: date, launch: date | None) -> pd.DataFrame:
    rows = []
    m = lo.replace(day=1)
    while m <= hi:
        nxt = (m + timedelta(days=32)).replace(day=1)
        days = (min(hi, nxt - timedelta(days=1)) - max(lo, m)).days + 1
        rows.append({"month": m, "idx": m.year * 12 + m.month - 1, "days": days,
                     "phase": _phase(m, launch)})
        m = nxt
    return pd.DataFrame(rows)


def _phase(month: date, launch: date | None) -> str | None:
    if launch is None:
        return None
    start = launch.replace(day=1)
    if month < start:
        return "pre"
    if month == start and launch.day != 1:
        return "launch"  # part before, part after: in neither period
    return "post"


def whole(series: pd.DataFrame) -> pd.DataFrame:
    """The whole jurisdiction per month: program and comparison groups added up."""
    keys = ["month", "idx", "days", "phase"]
    cols = list(COUNT_COLUMNS) + ["police_hours"]
    return series.groupby(keys, as_index=False, dropna=False)[cols].sum(min_count=1)


# --------------------------------------------------------------------------------------------
# What a viewer may see
# --------------------------------------------------------------------------------------------

def publish(series: pd.DataFrame, policy: DisclosurePolicy | None) -> pd.DataFrame:
    """The series as published: each count as ``published_count`` shows it (None = hidden).

    Police hours are shown (to four significant digits) only beside a published police-call
    count: hours over one to ten calls would tell how long those calls took.
    """
    if policy is None or not policy.enabled:
        return series
    out = series.copy()
    for col in COUNT_COLUMNS:
        out[col] = pd.array([None if pd.isna(v) else published_count(int(v), policy)
                             for v in series[col]], dtype="Int64")
    out["police_hours"] = [None if pd.isna(c) or pd.isna(h) else _sig4(h)
                           for c, h in zip(out["police_calls"], series["police_hours"])]
    out["police_hours"] = out["police_hours"].astype("Float64")
    return out


def _sig4(x: float) -> float:
    if not x:
        return 0.0
    return round(x, 3 - int(math.floor(math.log10(abs(x)))))
