"""Medians and 90th percentiles read from the maintained histograms of durations instead of
the rows (issue 25).

data/duration_tables.py keeps, per source, the number of records of each duration (whole
microseconds) per jurisdiction, local month, interval and the columns a duration's condition
reads. A duration metric is answered from it when:

- its interval (``Duration.start`` → ``Duration.end``) is one the table keeps, and its
  condition (``Duration.where``) reads only the table's columns;
- the request groups by jurisdiction, month, quarter or year only, filters by jurisdiction
  only (no category, area, origin or team), over whole local months (or no period): the same
  rule as metrics/rollup.py.

The table's counts are then the histogram ``metrics.sql.quantile_sql(counts=True)`` builds
from the rows (a row not timed is the NULL bucket, a missing one -1), and ``_quantiles_of``
reads each group's median, 90th percentile, timed and missing counts off it: the same SQL,
so the same numbers as the rows' histogram, to the last bit. (DuckDB's own quantile_cont,
which the rows use for sources of up to 25 million records, interpolates with a fused
multiply-add that SQL arithmetic cannot reproduce: it can differ in the last binary digit.)
"""
from __future__ import annotations

from data.duration_tables import DURATION_TABLES, DurationTable

from .registry import Kind, Metric
from .request import Filters
from .rollup import (condition_columns, counts_every_record, filter_columns, rows_forced,
                     table_where, whole_months)
from .sources import DIMENSIONS
from .sql import _quantiles_of, labelled

_DIMENSIONS = {"jurisdiction", "month", "quarter", "year"}  # over jurisdiction, local_month


def _fits(t: DurationTable, m: Metric) -> bool:
    d = m.duration
    return (m.kind == Kind.DURATION and d is not None and d.source == t.source
            and (d.start, d.end) in t.intervals
            and condition_columns(d.where) <= {f for f, _ in t.flags})


def choose(source: str, metrics: list[Metric], by: tuple[str, ...], filters: Filters
           ) -> tuple[DurationTable | None, list[Metric]]:
    """The histogram of ``source`` and the duration metrics of ``metrics`` it answers for
    this grouping and these filters, or (None, [])."""
    if rows_forced() or not whole_months(filters) or not set(by) <= _DIMENSIONS:
        return None, []
    if not filter_columns(source, filters) <= {"jurisdiction"}:
        return None, []
    for t in DURATION_TABLES:
        fits = [m for m in metrics if t.source == source and _fits(t, m)]
        if fits:
            return t, fits
    return None, []


def available(con, t: DurationTable) -> bool:
    """Whether histogram ``t`` is there and holds every record of its source once per
    interval (records written by hand, not through an import, leave it short: then the rows
    answer; ``python -m data refresh`` counts them again)."""
    return counts_every_record(con, t.table, t.source, t.count, len(t.intervals))


def _bucket(m: Metric) -> str:
    """The metric's histogram bucket of a table row: its duration (-1: missing), or NULL
    where the metric's condition does not hold (counted for the group, not timed)."""
    if not m.duration.where:
        return "duration_us"
    return f"CASE WHEN coalesce({m.duration.where}, false) THEN duration_us END"


def build_sql(t: DurationTable, metrics: list[Metric], by: tuple[str, ...], filters: Filters
              ) -> tuple[str, list]:
    """Each metric's quantiles, timed and missing counts per group of ``by`` from table ``t``:
    the rows ``metrics.sql.quantile_sql(counts=True)`` gives over the records."""
    where, filter_params = table_where(t.source, filters)
    dims = [f'{DIMENSIONS[d]} AS "g_{d}"' for d in by]
    groups = [f'"g_{d}"' for d in by]
    parts, params = [], []
    for m in metrics:
        parts.append(f"SELECT {''.join(d + ', ' for d in dims)}{_bucket(m)} AS \"t_{m.id}\", "
                     f"0 AS \"s_{m.id}\", sum({t.count}) AS c FROM {t.table} WHERE from_time = ? "
                     f"AND to_time = ? AND {where} GROUP BY ALL")
        params += [m.duration.start, m.duration.end, *filter_params]
    sql = (f"-- durations from the maintained table {t.table} (data/duration_tables.py), "
           "not the rows\n"
           f"WITH hist AS MATERIALIZED ({' UNION ALL BY NAME '.join(parts)})\n"
           + "\nUNION ALL\n".join(_quantiles_of(m, groups, counts=True) for m in metrics))
    return labelled(sql, by), params
