"""One engine for every metric: plan the SQL (metrics/sql.py), run it, compose the results.

All counting happens in DuckDB: one aggregate query per source (calls, responses, referrals)
computes every count the requested metrics reference, grouped by the requested dimensions;
counts of calls over whole months are summed from the maintained monthly tables when they
answer (metrics/rollup.py), medians and 90th percentiles from the monthly histograms of
durations (metrics/duration_rollup.py), the rest from the rows. Python only divides the
small aggregated result and adds intervals.
"""
from __future__ import annotations

from dataclasses import asdict, replace
from datetime import timedelta

from . import duration_rollup, rollup
from . import people as people_table
from .errors import UnknownDimension, UnknownMetric
from .registry import BY_ID, COUNTS, REGISTRY, Kind, Metric
from .request import CountRequest, Filters, MetricRequest, MetricRow
from .sources import DIMENSIONS, SOURCES
from .sql import build_people_sql, build_sql, quantile_sql
from .stats import reliability, wilson

_PER_CAPITA_DIMS = {"jurisdiction", "month", "quarter", "year"}


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


def _thresholds(metrics: list[Metric]) -> list[int]:
    """The k of every repeat-contact metric asked for (people with at least k responses)."""
    return sorted({int(m.numerator) for m in metrics if m.kind == Kind.REPEAT})


def _people_by_level(con, levels, filters, thresholds, table=False
                     ) -> dict[tuple[str, ...], list[dict]]:
    build = people_table.build_sql if table else build_people_sql  # table: metrics/people.py
    return _people_rows(_fetch(con, *build(levels, filters, thresholds)), levels, thresholds)


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
        out[()] = [{"people": 0, "keyed": 0, **{f"r_{int(k)}": 0 for k in thresholds}}]
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
    # People do not add up over groups: with margins, one scan counts them, and their repeat
    # contacts, for every level (F1 and F2 share it); for the view alone, the counting scan
    # counts distinct people itself. From people_monthly, when it answers, F1 and F2 alike.
    in_table = (any(m.kind in (Kind.DISTINCT, Kind.REPEAT) for m in metrics)
                and people_table.answers(con, by, filters))
    repeats = [m for m in metrics
               if m.kind == Kind.REPEAT or (in_table and m.kind == Kind.DISTINCT)]
    people_apart = (not in_table and levels != [by]
                    and any(m.kind == Kind.DISTINCT for m in metrics))
    people = (_people_by_level(con, levels, filters, _thresholds(metrics), in_table)
              if repeats or people_apart else {})

    for source in SOURCES:
        ms = [m for m in metrics if m.table == source and m not in repeats]
        if not ms:
            continue
        in_memory = in_memory_quantiles(con, source)
        counts_people = people_apart and any(m.kind == Kind.DISTINCT for m in ms)
        timed = [m for m in ms if m.duration]
        # Counts from the maintained monthly tables where they answer (metrics/rollup.py);
        # the rest (durations, people) from the rows.
        table, counted = rollup.choose(source, ms, by, filters)
        if counted and not rollup.available(con, table):
            table, counted = None, []
        # Durations from their maintained histograms likewise (metrics/duration_rollup.py).
        hist, timed_hist = duration_rollup.choose(source, ms, by, filters)
        if timed_hist and not duration_rollup.available(con, hist):
            hist, timed_hist = None, []
        timed = [m for m in timed if m not in timed_hist]  # the rows' durations
        rest = [m for m in ms if m not in counted and m not in timed_hist]
        top = _scan(con, source, rest, by, filters, by in quantiles_at, in_memory,
                    counts_people) if rest else []
        if counted:
            top = rollup.merged(top, _fetch(con, *rollup.build_sql(table, counted, by,
                                                                   filters)), by)
        if timed_hist:
            top = rollup.merged(top, _duration_aggs(_fetch(con, *duration_rollup.build_sql(
                hist, timed_hist, by, filters)), by), by)
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
                if timed_hist and lv in quantiles_at:
                    _merge_quantiles(aggs, _fetch(con, *duration_rollup.build_sql(
                        hist, timed_hist, lv, filters)), lv)
            if counts_people:
                _merge(aggs, people[lv], lv, ("people",))
            out[lv] += [_compose(m, agg, lv, population) for m in ms for agg in aggs]
    if repeats:
        for lv in levels:
            # The table has groups whose responses carry no person key: F1 "not recorded"
            # there, no F2 row (as over the rows).
            out[lv] += [_compose(m, agg, lv, population) for m in repeats for agg in people[lv]
                        if m.kind == Kind.DISTINCT or agg["people"] or not lv]
    return out


def _scan(con, source, ms, by, filters, quantiles, in_memory, counts_people) -> list[dict]:
    """The aggregates of ``ms`` per group of ``by``, counted over the source's rows."""
    timed = [m for m in ms if m.duration]
    if len(timed) == len(ms) and quantiles and not in_memory:
        # Durations alone: their counts come with the histogram, in one scan.
        return _duration_aggs(_fetch(con, *quantile_sql(source, timed, by, filters,
                                                        counts=True)), by)
    top = _fetch(con, *build_sql(source, ms, by, filters, quantiles=in_memory,
                                 people=not counts_people))
    if timed and quantiles and not in_memory:
        _merge_quantiles(top, _fetch(con, *quantile_sql(source, timed, by, filters)), by)
    return top


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
