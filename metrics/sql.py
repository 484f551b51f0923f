"""The SQL the engine runs: parameterised DuckDB for one source's aggregates, its medians and
90th percentiles (a histogram, for tables too large to sort in memory), and distinct people.

Identifiers come from the registry and the sources' allowlists only; every value is a ``?``
parameter.
"""
from __future__ import annotations

from datetime import timedelta

from .registry import COUNTS, Kind, Metric
from .request import SET_FILTERS, Filters
from .sources import DIMENSION_FORMATS, DIMENSIONS, SOURCES


def where_clause(source: str, filters: Filters) -> tuple[str, list]:
    applies = SOURCES[source].filters
    clauses, params = [], []
    for name, col in SET_FILTERS.items():
        values = getattr(filters, name)
        if values and name in applies:
            clauses.append(f"list_contains(?::VARCHAR[], {col})")
            params.append(list(values))
    period, values = period_where("local_ts",
                                  filters.date_from if "date_from" in applies else None,
                                  filters.date_to if "date_to" in applies else None)
    return (" AND ".join(clauses + period) or "true"), params + values


def period_where(column: str, date_from, date_to) -> tuple[list[str], list]:
    """Clauses and parameters keeping ``column`` (a local wall-clock time) within the days
    ``date_from`` to ``date_to``, both included; either may be None (no bound)."""
    clauses, params = [], []
    if date_from:
        clauses.append(f"{column} >= ?::TIMESTAMP")
        params.append(date_from)
    if date_to:
        clauses.append(f"{column} < ?::TIMESTAMP")
        params.append(date_to + timedelta(days=1))
    return clauses, params


_US_PER_MINUTE = 60_000_000


QUANTILES = (0.5, 0.9)


def _durations(metrics: list[Metric]) -> list[str]:
    """Per row, each timed metric's duration in microseconds and whether the row is timed.

    Computed once in an inner SELECT, so the three aggregates of a duration read a column
    instead of each working out the difference again; whole microseconds, as epoch(end -
    start) gives them but without building an INTERVAL per row (ten times faster over
    millions of calls).
    """
    out = []
    for m in metrics:
        if m.duration:
            out.append(f'epoch_us({m.duration.end}) - epoch_us({m.duration.start}) AS "u_{m.id}"')
            if m.duration.where:
                out.append(f'coalesce({m.duration.where}, false) AS "w_{m.id}"')
    return out


def _aggregates(metrics: list[Metric], quantiles: bool, people: bool = True) -> list[str]:
    """The aggregate expressions the metrics need, each named once.

    ``count_if(flag)`` rather than ``count(*) FILTER (WHERE flag)``: the same count (a NULL
    flag is not counted) and a quarter faster over millions of calls; coalesced, since over no
    rows at all count_if gives NULL where the count is 0.
    """
    out: dict[str, str] = {}
    for m in metrics:
        for key in (m.numerator, m.denominator):
            if key and m.kind in (Kind.COUNT, Kind.PROPORTION, Kind.RATE_PER_1000,
                                  Kind.PER_CAPITA):
                where = COUNTS[key].where
                out[f"k_{key}"] = _count_if(where) if where else "count(*)"
        if m.duration:
            u, only = f'"u_{m.id}"', _timed_flag(m)
            if quantiles:  # in memory, from one aggregate state (else quantile_sql)
                out[f"d_{m.id}_q"] = (f"list_transform(quantile_cont({u}, {list(QUANTILES)}) "
                                      f"FILTER (WHERE {only}{u} >= 0), "
                                      f"lambda x: x / {_US_PER_MINUTE}.0)")
            out[f"d_{m.id}_n"] = _count_if(f"{only}{u} >= 0")
            out[f"d_{m.id}_missing"] = _count_if(f"{only}({u} IS NULL OR {u} < 0)")
        if m.kind == Kind.DISTINCT:
            if people:  # else counted with the repeat contacts (build_people_sql)
                out["people"] = "count(DISTINCT person_key)"
            out["keyed"] = "count(person_key)"
    return [f'{expr} AS "{name}"' for name, expr in out.items()]


def _count_if(flag: str) -> str:
    return f"coalesce(count_if({flag}), 0)"


def build_sql(source: str, metrics: list[Metric], by: tuple[str, ...], filters: Filters,
              quantiles: bool = True, people: bool = True) -> tuple[str, list]:
    """SQL and parameters computing every aggregate ``metrics`` need over one source.

    ``quantiles``: the medians and 90th percentiles too, with quantile_cont (False: leave them
    to ``quantile_sql``, for sources too large to hold their durations in memory).
    ``people``: distinct people too (False: ``build_people_sql`` counts them).
    """
    where, params = where_clause(source, filters)
    dims = [f'{DIMENSIONS[d]} AS "g_{d}"' for d in by]
    aggs = _aggregates(metrics, quantiles, people)
    group = " GROUP BY ALL" if dims else ""
    used = " ".join([_used_text(m) for m in metrics] + list(by))
    rows = "base"
    timed = _durations(metrics)
    if timed:
        rows = f"(SELECT *, {', '.join(timed)} FROM base WHERE {where})"
        where = "true"
    sql = (f"WITH base AS ({SOURCES[source].render(used)})\n"
           f"SELECT {', '.join(dims + aggs)}\nFROM {rows}\nWHERE {where}{group}")
    return labelled(sql, by), params


def quantile_sql(source: str, metrics: list[Metric], by: tuple[str, ...], filters: Filters,
                 counts: bool = False) -> tuple[str, list]:
    """SQL giving each timed metric's exact median and 90th percentile (minutes) per group.

    Counted, not sorted: a histogram of the durations (microseconds; CAD clocks give whole
    seconds, so a few thousand distinct values) in one scan for all the metrics (grouping
    sets, which spill to disk when they must), then each quantile read off the cumulative
    counts, interpolated as quantile_cont does (position q * (n - 1) among the sorted
    values). Rows: metric, the groups, q (a list, as quantile_cont gives).

    ``counts``: the histogram also gives each metric's timed and missing counts (columns n and
    missing), so that a request for durations alone needs no counting scan: every row of the
    groups is kept (a row not timed is one more bucket, a row whose duration is missing the
    bucket -1), and every group the counting scan would give is there, timed rows or not.
    """
    timed = [m for m in metrics if m.duration]
    where, params = where_clause(source, filters)
    used = " ".join([_used_text(m) for m in timed] + list(by))
    groups = [f'"g_{d}"' for d in by]
    dims = [f'{DIMENSIONS[d]} AS "g_{d}"' for d in by]
    values = [f'"t_{m.id}"' for m in timed]  # a timed row's duration, else NULL
    kept = []
    for m, t in zip(timed, values):
        flag = _timed_flag(m)
        missing = f"WHEN {flag}true THEN -1 " if counts else ""  # the bucket of missing ones
        kept.append(f'CASE WHEN {flag}"u_{m.id}" >= 0 THEN "u_{m.id}" {missing}END AS {t}')
    # Only timed rows reach the histogram when the counts come from elsewhere (the others
    # would be one more group per set).
    only_timed = "" if counts else f"WHERE {' OR '.join(f'{t} IS NOT NULL' for t in values)}"
    sets = ", ".join(f"({', '.join(groups + [t])})" for t in values)
    flags = "".join(f', GROUPING({t}) AS "s_{m.id}"' for m, t in zip(timed, values))
    sql = (f"WITH base AS ({SOURCES[source].render(used)}),\n"
           f"timed AS (SELECT * FROM (SELECT {', '.join(dims + kept)} FROM (SELECT *, "
           f"{', '.join(_durations(timed))} FROM base WHERE {where})) {only_timed}),\n"
           f"hist AS MATERIALIZED (SELECT {', '.join(groups + values)}{flags}, sum(c) AS c "
           f"FROM (SELECT {', '.join(groups + values)}, count(*) AS c FROM timed GROUP BY ALL) "
           f"GROUP BY GROUPING SETS ({sets}))\n"
           + "\nUNION ALL\n".join(_quantiles_of(m, groups, counts) for m in timed))
    return labelled(sql, by), params


def _timed_flag(m: Metric) -> str:
    return f'"w_{m.id}" AND ' if m.duration.where else ""


def _quantiles_of(m: Metric, groups: list[str], counts: bool = False) -> str:
    """One metric's quantiles per group, from its histogram rows in ``hist``.

    The value at (0-based) position i of the sorted durations is the smallest duration whose
    cumulative count exceeds i; a quantile between two positions is interpolated. With
    ``counts``, the buckets of rows not timed (NULL) and missing (-1) are there too: they
    count for n and missing and never as a duration.
    """
    lead = "".join(g + ", " for g in groups)
    within = f"PARTITION BY {', '.join(groups)} " if groups else ""
    cells = []
    for i, q in enumerate(QUANTILES):
        pos = f"({q} * (n - 1))"
        cells += [f"min(u) FILTER (WHERE u >= 0 AND upto > floor({pos})) AS lo{i}",
                  f"min(u) FILTER (WHERE u >= 0 AND upto > ceil({pos})) AS hi{i}",
                  f"any_value({pos} - floor({pos})) AS f{i}"]
    value = ", ".join(f"(lo{i} + f{i} * (hi{i} - lo{i})) / {_US_PER_MINUTE}.0"
                      for i in range(len(QUANTILES)))
    group_by = f" GROUP BY {', '.join(groups)}" if groups else ""
    if counts:
        cells += ["any_value(n) AS n", "any_value(missing) AS missing"]
        timed_c = "CASE WHEN u >= 0 THEN c ELSE 0 END"
        windows = (f"sum({timed_c}) OVER ({within}ORDER BY u) AS upto, "
                   f"sum({timed_c}) OVER ({within.strip()}) AS n, "
                   f"sum(CASE WHEN u = -1 THEN c ELSE 0 END) OVER ({within.strip()}) AS missing")
        rows, out = f'WHERE "s_{m.id}" = 0', f"CASE WHEN n > 0 THEN [{value}] END AS q, n, missing"
    else:
        windows = (f"sum(c) OVER ({within}ORDER BY u) AS upto, "
                   f"sum(c) OVER ({within.strip()}) AS n")
        rows, out = f'WHERE "s_{m.id}" = 0 AND "t_{m.id}" IS NOT NULL', f"[{value}] AS q"
    return (f"SELECT '{m.id}' AS metric, {lead}{out} FROM ("
            f"SELECT {lead}{', '.join(cells)} FROM ("
            f"SELECT {lead}u, {windows} FROM ("
            f'SELECT {lead}"t_{m.id}" AS u, c FROM hist {rows})){group_by})')


def labelled(sql: str, by) -> str:
    """Format time groups as labels ('2025-03') after grouping, on the few result rows."""
    formats = {d: DIMENSION_FORMATS[d] for d in by if d in DIMENSION_FORMATS}
    if not formats:
        return sql
    cols = ", ".join(f'{formats[d].format(g=chr(34) + "g_" + d + chr(34))} AS "g_{d}"'
                     for d in formats)
    return f"SELECT * REPLACE ({cols}) FROM (\n{sql}\n)"


def _used_text(m: Metric) -> str:
    """Every column name a metric's definition mentions (to pick optional joins)."""
    parts = [m.duration.start, m.duration.end, m.duration.where or ""] if m.duration else []
    for key in (m.numerator, m.denominator):
        if key in COUNTS and COUNTS[key].where:
            parts.append(COUNTS[key].where)
    return " ".join(parts)


def build_people_sql(levels: list[tuple[str, ...]], filters: Filters, thresholds: list[int]
                     ) -> tuple[str, list]:
    """Distinct people (F1) and people with at least k responses (F2) for every group of
    each of ``levels``, in one scan of the responses: each person's contacts per group, one
    grouping set per level, then counted. Rows: "set_mask" (GROUPING() of the dimensions, see
    ``_people_rows``), the groups (NULL where a level does not group by a dimension),
    ``people`` and ``r_<k>``. Four scans (distinct people and repeat contacts, for a view and
    its margin) become one: at 100 million calls, 10 million responses, that was most of the
    time of repeat contacts."""
    where, params = where_clause("responses", filters)
    dims = tuple(dict.fromkeys(d for lv in levels for d in lv))
    cols = [f'"g_{d}"' for d in dims]
    inner = ", ".join([f'{DIMENSIONS[d]} AS "g_{d}"' for d in dims] + ["person_key"])
    sets = ", ".join("(" + ", ".join([f'"g_{d}"' for d in lv] + ["person_key"]) + ")"
                     for lv in levels)
    mask = f"GROUPING({', '.join(cols)})" if cols else "0"
    lead = "".join(c + ", " for c in cols)
    counts = [f'count(*) FILTER (WHERE contacts >= {int(k)}) AS "r_{int(k)}"' for k in thresholds]
    sql = (f"WITH base AS ({SOURCES['responses'].render('')}),\n"
           f"per_person AS (SELECT {lead}{mask} AS set_mask, count(*) AS contacts FROM ("
           f"SELECT {inner} FROM base WHERE {where} AND person_key IS NOT NULL) "
           f"GROUP BY GROUPING SETS ({sets}))\n"
           f"SELECT set_mask, {lead}{', '.join(counts + ['count(*) AS people'])} "
           "FROM per_person GROUP BY ALL")
    return labelled(sql, dims), params


# Police busy time on a call (DOMAIN.md §9), the one definition the Impact and Cost figures
# share: cleared − dispatched, or cleared − on scene where dispatch is missing. A negative time,
# or one over a day (a record left open, not work), is left out and counted as such.
MAX_BUSY_HOURS = 24
BUSY_HOURS = ("(epoch_us(cleared_at) - epoch_us(coalesce(dispatched_at, arrived_at)))"
              " / 3600000000.0")
BUSY_FROM_SCENE = "dispatched_at IS NULL"  # timed from arrival on scene


def busy_ok(hours: str) -> str:
    """SQL: the busy time ``hours`` counts (not blank, not negative, at most a day)."""
    return f"({hours} >= 0 AND {hours} <= {MAX_BUSY_HOURS})"
