"""One engine for every metric: build parameterised DuckDB SQL, run it, compose the results.

All counting happens in DuckDB: one aggregate query per source (calls, responses, referrals)
computes every count the requested metrics reference, grouped by the requested dimensions.
Python only divides the small aggregated result and adds intervals.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta

from .errors import UnknownDimension, UnknownMetric
from .registry import BY_ID, COUNTS, REGISTRY, Kind, Metric
from .sources import DIMENSION_FORMATS, DIMENSIONS, SOURCES
from .stats import reliability, wilson

_PER_CAPITA_DIMS = {"jurisdiction", "month", "quarter", "year"}


# Each filter that takes a set of values, and the column (and dimension) it restricts: the one
# map the engine's WHERE, disclosure's request rules and the pages' privacy notes all read.
SET_FILTERS = {"jurisdictions": "jurisdiction", "categories": "category", "areas": "area",
               "origins": "origin", "teams": "team"}


@dataclass(frozen=True)
class Filters:
    jurisdictions: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    categories: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        d = asdict(self)
        return {k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple)
                    else v) for k, v in d.items()}


@dataclass(frozen=True)
class MetricRequest:
    metrics: tuple[str, ...] = ()  # empty = every metric
    by: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)


@dataclass
class MetricRow:
    metric: str
    group: dict
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    reliability: str | None = None
    median: float | None = None
    p90: float | None = None
    n: int | None = None
    missing: int | None = None


def resolve(request: MetricRequest) -> list[Metric]:
    ids = request.metrics or tuple(m.id for m in REGISTRY)
    unknown = [i for i in ids if i not in BY_ID]
    if unknown:
        raise UnknownMetric(f"Unknown metric(s) {', '.join(unknown)}. Known: "
                            f"{', '.join(BY_ID)}.")
    bad = [d for d in request.by if d not in DIMENSIONS]
    if bad:
        raise UnknownDimension(f"Unknown dimension(s) {', '.join(bad)}. Known: "
                               f"{', '.join(DIMENSIONS)}.")
    return [BY_ID[i] for i in ids]


def supports(metric: Metric, by: tuple[str, ...]) -> bool:
    if metric.kind == Kind.PER_CAPITA and not set(by) <= _PER_CAPITA_DIMS:
        return False
    return set(by) <= set(SOURCES[metric.table].dimensions)


# --------------------------------------------------------------------------------------------
# SQL
# --------------------------------------------------------------------------------------------

def _where(source: str, filters: Filters) -> tuple[str, list]:
    applies = SOURCES[source].filters
    clauses, params = [], []
    for name, col in SET_FILTERS.items():
        values = getattr(filters, name)
        if values and name in applies:
            clauses.append(f"list_contains(?::VARCHAR[], {col})")
            params.append(list(values))
    if filters.date_from and "date_from" in applies:
        clauses.append("local_ts >= ?::TIMESTAMP")
        params.append(filters.date_from)
    if filters.date_to and "date_to" in applies:
        clauses.append("local_ts < ?::TIMESTAMP")
        params.append(filters.date_to + timedelta(days=1))
    return (" AND ".join(clauses) or "true"), params


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
    where, params = _where(source, filters)
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
    return _labelled(sql, by), params


# Up to this many rows in a source table, quantile_cont computes the medians within the
# counting scan (one scan, fastest); beyond it, quantile_sql (bounded memory, one scan more).
# quantile_cont holds 8 bytes per timed row and cannot spill: at 100 million calls the
# call-processing times alone needed more than the server's 1 GB.
QUANTILES_IN_MEMORY_ROWS = 25_000_000


def in_memory_quantiles(con, source: str) -> bool:
    size = con.execute("SELECT estimated_size FROM duckdb_tables() WHERE table_name = ? AND "
                       "database_name = current_database() AND schema_name = 'main'",
                       [source]).fetchone()
    return size is None or size[0] <= QUANTILES_IN_MEMORY_ROWS


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
    where, params = _where(source, filters)
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
    return _labelled(sql, by), params


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


def _labelled(sql: str, by) -> str:
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
    where, params = _where("responses", filters)
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
    return _labelled(sql, dims), params


def _thresholds(metrics: list[Metric]) -> list[int]:
    """The k of every repeat-contact metric asked for (people with at least k responses)."""
    return sorted({int(m.numerator) for m in metrics if m.kind == Kind.REPEAT})


def _people_by_level(con, levels, filters, thresholds) -> dict[tuple[str, ...], list[dict]]:
    return _people_rows(_fetch(con, *build_people_sql(levels, filters, thresholds)), levels,
                        thresholds)


def _people_rows(found: list[dict], levels, thresholds) -> dict[tuple[str, ...], list[dict]]:
    """``build_people_sql``'s rows per level: the groups of that level, ``people`` and
    ``r_<k>`` (the ungrouped level has its row of zeros when nobody is counted)."""
    dims = tuple(dict.fromkeys(d for lv in levels for d in lv))
    # GROUPING() sets the bit of each dimension a set does not group by, first one highest.
    masks = {sum(1 << (len(dims) - 1 - i) for i, d in enumerate(dims) if d not in lv): lv
             for lv in levels}
    out: dict[tuple[str, ...], list[dict]] = {lv: [] for lv in levels}
    for row in found:
        lv = masks[row.pop("set_mask")]
        out[lv].append({k: v for k, v in row.items()
                        if not k.startswith("g_") or k[2:] in lv})
    if () in out and not out[()]:
        out[()] = [{"people": 0, **{f"r_{int(k)}": 0 for k in thresholds}}]
    return out


class _Recorder:
    """A stand-in connection that records each statement and finds no rows: ``explain`` runs
    the one planner (``compute_levels``) against it, so it prints what a request runs."""

    description: tuple = ()

    def __init__(self):
        self.statements: list[tuple[str, list]] = []

    def execute(self, sql: str, params=()):
        self.statements.append((sql, list(params)))
        return self

    def fetchall(self) -> list:
        return []

    def fetchone(self):
        return None


def explain_run(run) -> str:
    """The SQL (with its parameters) that ``run(con)`` sends to DuckDB, in order."""
    recorder = _Recorder()
    run(recorder)
    return "\n\n".join(f"-- parameters: {params!r}\n{sql};"
                        for sql, params in recorder.statements)


def explain(request: MetricRequest) -> str:
    """The SQL (with its parameters) that ``compute`` runs (for sources small enough to take
    their medians in the counting scan; a larger one also runs ``quantile_sql``)."""
    return explain_run(lambda con: compute(con, request))


# --------------------------------------------------------------------------------------------
# Compute
# --------------------------------------------------------------------------------------------

def compute(con, request: MetricRequest) -> list[MetricRow]:
    """Every requested metric for every group; metrics that cannot take a grouping are skipped.
    Rows come metric by metric, in the order asked."""
    return _in_order(compute_levels(con, request, [request.by])[request.by],
                     [m.id for m in resolve(request)])


def _in_order(rows: list[MetricRow], ids: list[str]) -> list[MetricRow]:
    rank = {m: i for i, m in enumerate(ids)}
    return sorted(rows, key=lambda r: rank[r.metric])  # stable: groups keep the query's order


@dataclass(frozen=True)
class CountRequest:
    """Plain volumes: named counts (keys of ``registry.COUNTS``) per group."""

    counts: tuple[str, ...]
    by: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)


def compute_counts(con, request: CountRequest) -> list[MetricRow]:
    """Each named count per group, e.g. team responses by outcome.

    The counts are the ones the metrics' numerators and denominators reference (defined once in
    ``registry.COUNTS``); a row's ``metric`` is the count's key. Counts whose source cannot take
    the grouping are skipped, as in ``compute``.
    """
    unknown = [k for k in request.counts if k not in COUNTS]
    if unknown:
        raise UnknownMetric(f"Unknown count(s) {', '.join(unknown)}. Known: {', '.join(COUNTS)}.")
    return _in_order(compute_levels(con, request, [request.by])[request.by],
                     list(request.counts))


def count_metric(key: str) -> Metric:
    """A named count dressed as a count metric (label from COUNTS, unit = its source table)."""
    c = COUNTS[key]
    return Metric(key, c.label[:1].upper() + c.label[1:], 0, "count", c.label, c.source, key)


def previous_period(filters: Filters) -> Filters | None:
    """The same filters over the period of equal length just before; None without both dates."""
    if not (filters.date_from and filters.date_to) or filters.date_from > filters.date_to:
        return None
    days = (filters.date_to - filters.date_from).days + 1
    return replace(filters, date_from=filters.date_from - timedelta(days=days),
                   date_to=filters.date_from - timedelta(days=1))


def compute_levels(con, request, levels: list[tuple[str, ...]],
                   quantiles_at: list[tuple[str, ...]] | None = None
                   ) -> dict[tuple[str, ...], list[MetricRow]]:
    """``compute`` (or ``compute_counts``) for several groupings, each a sub-tuple of
    ``request.by``, with one scan per source instead of one per grouping.

    Disclosure control needs a view's margins (the same request with fewer dimensions) beside
    the view itself. Counts add up, so a margin's counts are the sums of the view's groups
    (computed in Python over the few aggregated rows); what does not add up is queried per
    level: people (distinct persons), repeat contacts, and the medians and 90th percentiles,
    these only at ``quantiles_at`` when given (elsewhere None: the margins serve the
    protection of counts, and only the view shows the times). The results equal separate
    ``compute`` calls per level.
    """
    if isinstance(request, CountRequest):
        as_request = MetricRequest((), request.by, request.filters)
        metrics = [count_metric(k) for k in request.counts]
        resolve(as_request)
    else:
        as_request, metrics = request, resolve(request)
    metrics = [m for m in metrics if supports(m, request.by)]
    if any(not set(lv) <= set(request.by) for lv in levels):
        raise ValueError(f"levels {levels!r} must be sub-groupings of {request.by!r}")
    levels = list(dict.fromkeys(tuple(lv) for lv in levels))
    quantiles_at = levels if quantiles_at is None else [tuple(q) for q in quantiles_at]
    by, filters = request.by, request.filters
    population = (_population(con, as_request)
                  if any(m.kind == Kind.PER_CAPITA for m in metrics) else {})
    out: dict[tuple[str, ...], list[MetricRow]] = {lv: [] for lv in levels}
    repeats = [m for m in metrics if m.kind == Kind.REPEAT]
    # People do not add up over groups: with margins, one scan counts them, and their repeat
    # contacts, for every level (F1 and F2 share it); for the view alone, the counting scan
    # counts distinct people itself.
    people_apart = levels != [by] and any(m.kind == Kind.DISTINCT for m in metrics)
    people = (_people_by_level(con, levels, filters, _thresholds(metrics))
              if repeats or people_apart else {})

    for source in SOURCES:
        ms = [m for m in metrics if m.table == source and m.kind != Kind.REPEAT]
        if not ms:
            continue
        in_memory = in_memory_quantiles(con, source)
        counts_people = people_apart and any(m.kind == Kind.DISTINCT for m in ms)
        timed = [m for m in ms if m.duration]
        if len(timed) == len(ms) and by in quantiles_at and not in_memory:
            # Durations alone: their counts come with the histogram, in one scan.
            top = _duration_aggs(_fetch(con, *quantile_sql(source, timed, by, filters,
                                                           counts=True)), by)
        else:
            top = _fetch(con, *build_sql(source, ms, by, filters, quantiles=in_memory,
                                         people=not counts_people))
            if timed and by in quantiles_at and not in_memory:
                _merge_quantiles(top, _fetch(con, *quantile_sql(source, timed, by, filters)),
                                 by)
        for lv in levels:
            if lv == by:
                aggs = top
            elif not lv and not top and not isinstance(con, _Recorder):
                # No data: the ungrouped row of zeros, as the view alone gives.
                aggs = _fetch(con, *build_sql(source, ms, (), filters, people=not counts_people))
            else:
                aggs = _roll_up(top, by, lv)
                if timed and lv in quantiles_at and in_memory:
                    _merge(aggs, _fetch(con, *build_sql(source, timed, lv, filters)), lv,
                           [f"d_{m.id}_q" for m in timed])
                elif timed and lv in quantiles_at:
                    _merge_quantiles(aggs, _fetch(con, *quantile_sql(source, timed, lv,
                                                                     filters)), lv)
            if counts_people:
                _merge(aggs, people[lv], lv, ("people",))
            out[lv] += [_compose(m, agg, lv, population) for m in ms for agg in aggs]
    if repeats:
        for lv in levels:
            out[lv] += [_compose(m, agg, lv, population) for m in repeats for agg in people[lv]]
    return out


def _fetch(con, sql, params) -> list[dict]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _additive(name: str) -> bool:
    return name.startswith("k_") or name == "keyed" or (
        name.startswith("d_") and name.endswith(("_n", "_missing")))


def _roll_up(rows: list[dict], by, level) -> list[dict]:
    """The aggregated rows of ``by`` summed to ``level``: counts added, the rest None."""
    sums: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[f"g_{d}"] for d in level)
        acc = sums.get(key)
        if acc is None:
            acc = sums[key] = {f"g_{d}": v for d, v in zip(level, key)}
            acc.update({k: (0 if _additive(k) else None) for k in row if not k.startswith("g_")})
        for k, v in row.items():
            if _additive(k):
                acc[k] += v or 0
    return list(sums.values())


def _merge(aggs: list[dict], found: list[dict], level, names) -> None:
    """Take the columns ``names`` of a level's own query into its rolled-up rows."""
    by_group = {tuple(r[f"g_{d}"] for d in level): r for r in found}
    for agg in aggs:
        got = by_group.get(tuple(agg[f"g_{d}"] for d in level), {})
        for name in names:
            agg[name] = got.get(name)


def _duration_aggs(found: list[dict], by) -> list[dict]:
    """``quantile_sql(counts=True)``'s rows as the counting scan's: one per group, each
    metric's n, missing and quantiles (the ungrouped row of zeros when nothing matched)."""
    aggs: dict[tuple, dict] = {}
    for r in found:
        key = tuple(r[f"g_{d}"] for d in by)
        agg = aggs.setdefault(key, {f"g_{d}": v for d, v in zip(by, key)})
        m = r["metric"]
        agg[f"d_{m}_n"], agg[f"d_{m}_missing"] = r["n"] or 0, r["missing"] or 0
        agg[f"d_{m}_q"] = r["q"]
    return list(aggs.values())


def _merge_quantiles(aggs: list[dict], found: list[dict], level) -> None:
    """Each group's ``d_<metric>_q`` from ``quantile_sql``'s rows (None where nothing timed)."""
    by_group = {(r["metric"], *(r[f"g_{d}"] for d in level)): r["q"] for r in found}
    metric_ids = {r["metric"] for r in found}
    for agg in aggs:
        key = tuple(agg[f"g_{d}"] for d in level)
        for m in metric_ids:
            agg[f"d_{m}_q"] = by_group.get((m, *key))


def _group(agg: dict, by) -> dict:
    return {d: agg[f"g_{d}"] for d in by}


def _compose(m: Metric, agg: dict, by, population) -> MetricRow:
    """A metric's row from its group's aggregates: the counts here, the rest by ``derive``."""
    row = MetricRow(m.id, _group(agg, by))
    if m.kind == Kind.COUNT:
        row.numerator = agg[f"k_{m.numerator}"]
    elif m.kind in (Kind.PROPORTION, Kind.RATE_PER_1000):
        row.numerator, row.denominator = agg[f"k_{m.numerator}"], agg[f"k_{m.denominator}"]
    elif m.kind == Kind.DURATION:
        row.median, row.p90 = agg.get(f"d_{m.id}_q") or (None, None)
        row.n, row.missing = agg[f"d_{m.id}_n"], agg[f"d_{m.id}_missing"]
    elif m.kind == Kind.DISTINCT:
        # No person keys in the export means "not recorded", not "nobody served".
        row.numerator = agg["people"] if agg["keyed"] else None
    elif m.kind == Kind.REPEAT:
        row.numerator, row.denominator = agg[f"r_{int(m.numerator)}"], agg["people"]
    elif m.kind == Kind.PER_CAPITA:
        row.numerator = agg[f"k_{m.numerator}"]
        row.denominator = population.get(agg.get("g_jurisdiction"), population.get(None))
    derive(row, m)
    return row


# Shares and rates, and their scale.
_PER = {Kind.PROPORTION: 1, Kind.REPEAT: 1, Kind.RATE_PER_1000: 1000}


def derive(row: MetricRow, m: Metric) -> None:
    """A row's value, 95% interval and reliability from its counts (and a duration's from its
    median and n). The one definition, for exact counts and for published ones alike
    (``metrics.disclosure`` derives from the counts it publishes)."""
    x, n = row.numerator, row.denominator
    if m.kind in (Kind.COUNT, Kind.DISTINCT):
        row.value = x
    elif m.kind in _PER:
        scale = _PER[m.kind]
        row.value = x * scale / n if n else None
        lo, hi = wilson(x, n)
        row.ci_low = lo * scale if lo is not None else None
        row.ci_high = hi * scale if hi is not None else None
        row.reliability = reliability(x) if n else None
    elif m.kind == Kind.PER_CAPITA:  # n: residents, a published census figure
        row.value = x * 1000 / n if n else None
        row.reliability = reliability(x)
    elif m.kind == Kind.DURATION:
        row.value = row.median
        row.reliability = reliability(row.n)


def _population(con, request) -> dict:
    """Residents per jurisdiction, and (key None) the total of the jurisdictions in view."""
    where, params = "population IS NOT NULL", []
    if request.filters.jurisdictions:
        where += " AND list_contains(?::VARCHAR[], jurisdiction)"
        params.append(list(request.filters.jurisdictions))
    rows = con.execute(f"SELECT jurisdiction, population FROM jurisdictions WHERE {where}",
                       params).fetchall()
    out = dict(rows)
    out[None] = sum(out.values()) or None
    return out


def report(con, request: MetricRequest) -> dict:
    """The JSON document `python -m metrics report --json` prints."""
    rows = compute(con, request)
    metrics = resolve(request)
    skipped = [m.id for m in metrics if not supports(m, request.by)]
    return {"filters": request.filters.as_dict(), "by": list(request.by),
            "skipped": skipped, "rows": [row_json(r) for r in rows]}


VALUE_FIELDS = ("value", "ci_low", "ci_high", "median", "p90")  # the fields that are not counts


def row_json(r: MetricRow) -> dict:
    """One row as JSON (a published row with its ``suppressed`` reasons), floats to 6 places."""
    d = asdict(r)
    for k in VALUE_FIELDS:
        if d[k] is not None:
            d[k] = round(float(d[k]), 6)
    return d
