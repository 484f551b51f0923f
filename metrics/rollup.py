"""Counts read from the maintained monthly tables instead of the rows (issue 25).

data/aggregates.py keeps the calls and the team responses grouped by month, jurisdiction, the
grouping dimensions and every column a count's condition reads, with the number of records per
group. A request can be answered from a table when everything it needs is there:

- the metric is a count, a share or a rate of counts over the table's source (no durations,
  no people: metrics/people.py counts those from people_monthly);
- every column its counts' conditions read, every dimension it groups by and every filter
  that applies to the source are columns of the table;
- its period is whole local months (or none).

Then ``count_if(<condition>)`` over the rows is ``sum(calls) FILTER (WHERE <condition>)``
over the table (``sum(responses)`` for responses): the same numbers (tests/test_rollup.py
checks every kind of request against the rows, after every kind of write). Everything else
still reads the rows: medians and 90th percentiles, distinct people (metrics/people.py), and any
request outside a table's dimensions.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta

from data.aggregates import ROLLUPS, Rollup
from data.table_checks import present

from .registry import COUNTS, Kind, Metric
from .request import SET_FILTERS, Filters
from .sources import DIMENSIONS, SOURCES
from .sql import labelled

_COUNTED = (Kind.COUNT, Kind.PROPORTION, Kind.RATE_PER_1000, Kind.PER_CAPITA)

# Dimensions whose row expression reads the local time: over a table, its stored parts.
_OVER_TABLE = {"weekday": "local_weekday", "hour": "local_hour",
               "weekday_hour": "local_weekday * 100 + local_hour"}
_SQL_WORDS = {"and", "or", "not", "is", "null", "in", "true", "false"}

_ROWS_ONLY: ContextVar[bool] = ContextVar("rows_only", default=False)


@contextmanager
def rows_only():
    """Within it, every request reads the rows (the equality tests, ``--rows``)."""
    token = _ROWS_ONLY.set(True)
    try:
        yield
    finally:
        _ROWS_ONLY.reset(token)


def condition_columns(where: str | None) -> set[str]:
    """The column names a condition (SQL over a source's columns) reads."""
    text = re.sub(r"'[^']*'", " ", where or "")  # string literals are values, not columns
    return {w for w in re.findall(r"[a-z_][a-z_0-9]*", text.lower()) if w not in _SQL_WORDS}


def rows_forced() -> bool:
    """Whether every request must read the rows (within ``rows_only``)."""
    return _ROWS_ONLY.get()


def _columns_read(m: Metric) -> set[str]:
    """The column names the conditions of a metric's counts read."""
    return set().union(*(condition_columns(COUNTS[key].where) for key in
                         (m.numerator, m.denominator) if key in COUNTS))


def whole_months(filters: Filters) -> bool:
    """Whether the period is whole local months (a missing bound is open-ended)."""
    if filters.date_from and filters.date_from.day != 1:
        return False
    return not filters.date_to or (filters.date_to + timedelta(days=1)).day == 1


def _dimension_columns(d: str) -> set[str]:
    if d in _OVER_TABLE:
        return {"local_weekday", "local_hour"}
    if d in ("month", "quarter", "year"):
        return {"local_month"}
    return {DIMENSIONS[d]}


def filter_columns(source: str, filters: Filters) -> set[str]:
    applies = SOURCES[source].filters
    return {col for name, col in SET_FILTERS.items() if getattr(filters, name) and name in applies}


def choose(source: str, metrics: list[Metric], by: tuple[str, ...], filters: Filters
           ) -> tuple[Rollup | None, list[Metric]]:
    """The first table (data/aggregates.py lists the one of fewer rows first) that answers
    ``metrics`` (those of them it can), or (None, [])."""
    if rows_forced() or not whole_months(filters):
        return None, []
    counted = [m for m in metrics if m.kind in _COUNTED and m.table == source]
    needed = set().union(*(_dimension_columns(d) for d in by), filter_columns(source, filters))
    dated = bool(filters.date_from or filters.date_to)
    for r in (r for r in ROLLUPS if r.source == source):
        have = set(r.names)
        if not needed <= have or (dated and "local_month" not in have):
            continue
        fits = [m for m in counted if _columns_read(m) <= have]
        if fits:
            return r, fits
    return None, []


def available(con, r: Rollup) -> bool:
    """Whether table ``r`` is there and counts every record of its source. A Parquet export
    may lack it; records written by hand, not through an import (``python -m data refresh``
    counts them), leave it short or over, and then the rows answer. (A hand edit of a
    counted column that keeps the number of records is not seen: refresh after it.)"""
    return counts_every_record(con, r.table, r.source, r.count)


def counts_every_record(con, table: str, source: str, count: str, times: int = 1) -> bool:
    """Whether ``table`` is there and its ``count`` column sums to ``times`` each record of
    ``source`` (explain's recorder, which runs nothing, is told yes: it says what runs)."""
    if present(con, table) is False:
        return False
    row = con.execute(f"SELECT (SELECT count(*) FROM {source}) * {int(times)} = "
                      f"(SELECT coalesce(sum({count}), 0) FROM {table})").fetchone()
    return row is None or bool(row[0])


def month_number(d: date) -> int:
    return d.year * 100 + d.month


def table_where(source: str, filters: Filters) -> tuple[str, list]:
    """The WHERE over a maintained table of ``source`` (its columns named as the source's)
    for whole-month ``filters``, and its parameters."""
    clauses, params = [], []
    applies = SOURCES[source].filters
    for name, col in SET_FILTERS.items():
        values = getattr(filters, name)
        if values and name in applies:
            clauses.append(f"list_contains(?::VARCHAR[], {col})")
            params.append(list(values))
    if filters.date_from:
        clauses.append("local_month >= ?")
        params.append(month_number(filters.date_from))
    if filters.date_to:
        clauses.append("local_month <= ?")
        params.append(month_number(filters.date_to))
    return " AND ".join(clauses) or "true", params


def build_sql(r: Rollup, metrics: list[Metric], by: tuple[str, ...], filters: Filters
              ) -> tuple[str, list]:
    """Each count ``metrics`` need per group of ``by``, summed over the table ``r``: the rows
    ``metrics.sql.build_sql`` gives for the same counts (named ``k_<count>``)."""
    kept, params = table_where(r.source, filters)
    dims = [f'{_OVER_TABLE.get(d, DIMENSIONS[d])} AS "g_{d}"' for d in by]
    aggs = {}
    for m in metrics:
        for key in (m.numerator, m.denominator):
            if key in COUNTS:
                where = COUNTS[key].where
                total = f"sum({r.count})" + (f" FILTER (WHERE {where})" if where else "")
                aggs[f"k_{key}"] = f"coalesce({total}, 0)::BIGINT"
    cols = dims + [f'{expr} AS "{name}"' for name, expr in aggs.items()]
    group = " GROUP BY ALL" if dims else ""
    sql = (f"-- counts from the maintained table {r.table} (data/aggregates.py), not the rows\n"
           f"SELECT {', '.join(cols)}\nFROM {r.table}\nWHERE {kept}"
           f"{group}")
    return labelled(sql, by), params


def merged(rows: list[dict], counted: list[dict], by: tuple[str, ...]) -> list[dict]:
    """The rows scan's aggregates (durations, people) and a table's counts, per group; a
    group only one of them has gets the other's columns as zero counts or None."""
    out: dict[tuple, dict] = {}
    for row in rows + counted:
        out.setdefault(tuple(row[f"g_{d}"] for d in by), {}).update(row)
    names = {k for row in out.values() for k in row}
    for row in out.values():
        for k in names - row.keys():
            row[k] = 0 if k.startswith("k_") or k.endswith(("_n", "_missing")) else None
    return list(out.values())


def reading_rows() -> bool:
    """Whether requests must read the rows here (within ``rows_only``)."""
    return _ROWS_ONLY.get()
