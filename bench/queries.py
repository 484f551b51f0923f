"""Each page's metric queries, uncached, timed directly; and the Overview against pandas.

The requests are the ones bench/capture.py recorded from the pages themselves. Each is run
as ``ui/cache.py`` runs it, on a cursor, with no result cache in between: through
``service.guarded`` with the principal and the disclosure policy the page asked under (by
default small counts are hidden, which also computes the margins and partner ratios the
protection needs), so the figure is the page's real query, not only the exact figures: once
("first", buffers cold after opening the database) and then ``repeat`` more times (median).
A page's time is the sum over its requests, since a page asks for them one after the other.
"""
from __future__ import annotations

import statistics
import time
import warnings

import metrics
from metrics import catalog

import pandas_ref


def run_request(con, req, asked_as=None):
    """``req`` on a cursor of ``con``: exact figures, or, with ``asked_as`` (the recorded
    principal and policy), as the page runs it: scoped and disclosure-controlled."""
    cur = con.cursor()
    try:
        if isinstance(req, tuple) and req[0] == "impact":  # one scan, then the models
            from service import guarded
            from metrics.impact import analyse

            filters, outcome = req[1][:2]
            if asked_as is None:
                a = analyse(cur, filters.jurisdictions[0], outcome, filters)
            else:
                a = guarded.impact(cur, asked_as[0], filters, outcome, policy=asked_as[1])
            return list(a.series.itertuples())  # its rows: months
        if isinstance(req, tuple) and req[0] == "population":  # residents per group
            jurisdictions, dimension = req[1][:2]
            groups = catalog.population_by_group(cur, tuple(jurisdictions), dimension)
            return list(groups.items()) + catalog.population_sources(cur, tuple(jurisdictions))
        if isinstance(req, tuple) and req[0] == "cost_report":  # the Cost page's figures
            return _cost_rows(cur, (*req[1][:2], *req[1][4:5]), asked_as)
        if isinstance(req, tuple) and req[0] == "plan":  # the capacity model: SQL + simulation
            from service import guarded

            request, specs, options, _ = req[1]
            principal, policy = asked_as
            return [guarded.capacity_plan(cur, principal, request, specs, policy=policy,
                                          **dict(options))]
        counts = isinstance(req, metrics.CountRequest)
        if asked_as is None:
            return metrics.compute_counts(cur, req) if counts else metrics.compute(cur, req)
        from service import guarded

        principal, policy = asked_as
        run = guarded.compute_counts if counts else guarded.compute
        return run(cur, principal, req, policy=policy)
    finally:
        cur.close()


def _cost_rows(cur, args, asked_as) -> list:
    """The Cost page's report (its quarters), as the page asks for it; [] without costs."""
    from metrics.cost import NoCosts, report

    jurisdiction, filters, *rest = args
    lean = bool(rest and rest[-1] is True)  # Compare asks for cost per response alone
    try:
        if asked_as is None:
            return report(cur, jurisdiction, filters, per_response_only=lean)["quarters"]
        from service import guarded

        principal, policy = asked_as
        return guarded.cost_report(cur, principal, jurisdiction, filters, policy=policy,
                                   per_response_only=lean)["quarters"]
    except NoCosts:
        return []


def _timed(fn, *args):
    t0 = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - t0, value


def describe(req) -> str:
    if isinstance(req, tuple) and req[0] == "cost_report":
        return f"cost_report({req[1][0]})"
    if isinstance(req, tuple) and req[0] == "plan":
        return f"plan({req[1][0].jurisdiction}: {' vs '.join(req[1][1])})"
    if isinstance(req, tuple):
        return f"{req[0]}({', '.join(map(str, req[1]))})"
    what = ",".join(req.counts if isinstance(req, metrics.CountRequest) else req.metrics)
    return f"{type(req).__name__}({what} by {','.join(req.by) or '-'})"


def page_queries(con, pages: dict, repeat: int) -> dict:
    """{page: {first_s, median_s, requests: [...]}} plus the sidebar's own queries."""
    out = {}
    sidebar = {}
    for name, fn in (("filter_options", catalog.filter_options),
                     ("jurisdiction_profiles", catalog.jurisdiction_profiles)):
        first, _ = _timed(fn, con.cursor())
        runs = [_timed(fn, con.cursor())[0] for _ in range(repeat)]
        sidebar[name] = {"first_s": round(first, 4), "median_s": round(statistics.median(runs), 4)}
    for url, info in pages.items():
        reqs = []
        for req, asked_as in zip(info["requests"], info["asked_as"]):
            first, rows = _timed(run_request, con, req, asked_as)
            runs = [_timed(run_request, con, req, asked_as)[0] for _ in range(repeat)]
            reqs.append({"request": describe(req), "rows": len(rows), "first_s": round(first, 4),
                         "median_s": round(statistics.median(runs), 4)})
        out[url] = {"requests": reqs,
                    "first_s": round(sum(r["first_s"] for r in reqs), 4),
                    "median_s": round(sum(r["median_s"] for r in reqs), 4),
                    "slowest": max(reqs, key=lambda r: r["median_s"])["request"] if reqs else None}
    return {"pages": out, "sidebar": sidebar}


def versus_pandas(con, overview_requests: list, repeat: int) -> dict:
    """The Overview's requests by the engine and by pandas; equal results required."""
    pandas_ref.check_covered(overview_requests)

    def engine():
        out = {}
        for req in overview_requests:
            out.update(pandas_ref.engine_values(run_request(con, req), req.by))
        return out

    engine_runs, engine_result = [], None
    for _ in range(repeat):
        t, engine_result = _timed(engine)
        engine_runs.append(t)
    warnings.simplefilter("ignore")  # pandas notes from DuckDB's .df()
    load_s, frames = _timed(pandas_ref.load_frames, con)
    pandas_runs, pandas_result = [], None
    for _ in range(max(1, repeat - 1)):
        t, pandas_result = _timed(pandas_ref.overview, frames, overview_requests)
        pandas_runs.append(t)
    frame_mb = sum(df.memory_usage(deep=True).sum() for df in frames.values()) / 2**20
    del frames
    diffs = pandas_ref.differences(engine_result, pandas_result)
    duck = statistics.median(engine_runs)
    pand = statistics.median(pandas_runs)
    return {"requests": [describe(r) for r in overview_requests],
            "duckdb_s": round(duck, 4), "pandas_s": round(pand, 4),
            "pandas_load_s": round(load_s, 3), "pandas_frames_mb": round(frame_mb, 1),
            "speedup": round(pand / duck, 2), "results_equal": not diffs,
            "differences": diffs[:10], "values_compared": len(engine_result)}
