"""Overview metrics at scale: the DuckDB engine against a straightforward pandas version.

    python bench/metrics_bench.py --scale 20 [--db PATH] [--out bench/out/metrics.json]

Loads the demo cohort at ``--scale`` (20 gives about 10.5 million calls and 0.8 million team
responses) into a DuckDB file (reused when it exists), then times, uncached and as the median of
several runs, every metric the Overview page needs, computed (1) by ``metrics.compute`` and
(2) by pandas from DataFrames already in memory (loading them is timed apart). The two must give
the same numbers; the script stops if they differ.
"""
from __future__ import annotations

import argparse
import warnings
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from metrics import Filters, MetricRequest, compute  # noqa: E402

TILES = ("A1", "A2", "A3", "B1", "C2", "D1", "D2", "D4", "E2_30")
OVERVIEW = [MetricRequest(TILES, (), Filters()),
            MetricRequest(("A1",), ("jurisdiction",), Filters()),
            MetricRequest(("B1",), ("jurisdiction", "month"), Filters())]


def duckdb_overview(con) -> dict:
    out = {}
    for req in OVERVIEW:
        for r in compute(con, req):
            key = (r.metric, tuple(sorted(r.group.items())))
            out[key] = (r.numerator, r.denominator, r.median)
    return out


# --------------------------------------------------------------------------------------------
# The pandas version: what an analyst would write with the same definitions
# --------------------------------------------------------------------------------------------

def load_frames(con) -> dict:
    return {
        "calls": con.execute("SELECT jurisdiction, call_type, category, eligible, responder, "
                             "origin, area, received_local FROM calls").df(),
        "crosswalk": con.execute("SELECT * FROM crosswalk").df(),
        "jurisdictions": con.execute("SELECT * FROM jurisdictions").df(),
        "responses": con.execute("SELECT r.jurisdiction, r.requested_at, r.arrived_at, "
                                 "r.contact_made, r.police_backup, r.transport_destination, "
                                 "c.received_at AS call_received_at FROM responses r LEFT JOIN "
                                 "calls c ON c.jurisdiction = r.jurisdiction AND "
                                 "c.call_id = r.call_id").df(),
        "referrals": con.execute("SELECT jurisdiction, referred_at, connected_at, status "
                                 "FROM referrals").df(),
    }


def _missing(v) -> bool:
    import pandas as pd

    return v is None or (not hasattr(v, "__len__") and pd.isna(v))


def _has(container, value) -> bool:
    return not _missing(container) and not _missing(value) and value in list(container)


def pandas_overview(f: dict) -> dict:
    import pandas as pd

    calls = f["calls"].merge(f["crosswalk"], on=["jurisdiction", "call_type"], how="left",
                             suffixes=("", "_cw"))
    calls = calls.merge(f["jurisdictions"], on="jurisdiction", how="inner")
    category = calls["category_cw"].fillna(calls["category"])
    is_target = pd.Series([_has(t, c) for c, t in zip(category, calls["target_categories"])],
                          index=calls.index)
    hour = calls["received_local"].dt.hour
    start, end = calls["coverage_start_hour"], calls["coverage_end_hour"]
    in_hours = start.isna() | end.isna() | ((start < end) & (hour >= start) & (hour < end)) | (
        (start >= end) & ((hour >= start) | (hour < end)))
    days = calls["coverage_days"].fillna("1234567")
    weekday = calls["received_local"].dt.day_of_week + 1
    in_days = pd.Series([str(d) in s for d, s in zip(weekday, days)], index=calls.index)
    in_area = pd.Series([_missing(a) or _has(a, ar) for a, ar in
                         zip(calls["coverage_areas"], calls["area"])], index=calls.index)
    launched = calls["launch_date"].isna() | (
        calls["received_local"] >= pd.to_datetime(calls["launch_date"]))
    derived = calls["eligible_cw"].astype("boolean") & launched & in_hours & in_days & in_area
    eligible = calls["eligible"].astype("boolean").fillna(derived)
    ar = calls["responder"].isin(["alternative", "co_response"])
    out = {}

    def put(metric, group, num, den=None, median=None):
        out[(metric, tuple(sorted(group.items())))] = (num, den, median)

    elig_true = eligible.fillna(False).astype(bool)
    put("A1", {}, len(calls))
    put("A2", {}, int(sum(is_target)))
    put("A3", {}, int(elig_true.sum()))
    put("B1", {}, int((elig_true & ar).sum()), int(elig_true.sum()))
    for j, n in calls.groupby("jurisdiction").size().items():
        put("A1", {"jurisdiction": j}, int(n))
    month = calls["received_local"].dt.strftime("%Y-%m")
    grouped = pd.DataFrame({"j": calls["jurisdiction"], "m": month, "e": elig_true,
                            "ea": elig_true & ar}).groupby(["j", "m"])[["e", "ea"]].sum()
    for (j, m), row in grouped.iterrows():
        put("B1", {"jurisdiction": j, "month": m}, int(row["ea"]), int(row["e"]))
    r = f["responses"]
    start_t = r["call_received_at"].fillna(r["requested_at"])
    mins = (r["arrived_at"] - start_t).dt.total_seconds() / 60
    put("C2", {}, None, None, float(mins[mins >= 0].median()))
    contact = r["contact_made"].astype("boolean")
    put("D1", {}, int(contact.fillna(False).sum()), int(contact.notna().sum()))
    backup = r["police_backup"].astype("boolean")
    put("D2", {}, int(backup.fillna(False).sum()), int(backup.notna().sum()))
    has_dest = contact.fillna(False) & r["transport_destination"].notna()
    put("D4", {}, int((has_dest & (r["transport_destination"] == "none")).sum()),
        int(has_dest.sum()))
    ref = f["referrals"]
    conn30 = (ref["status"] == "connected") & ref["connected_at"].notna() & (
        ref["connected_at"] <= ref["referred_at"] + pd.Timedelta(days=30))
    put("E2_30", {}, int(conn30.sum()), len(ref))
    return out


def _same(a: dict, b: dict) -> list[str]:
    diffs = []
    for key in sorted(set(a) | set(b), key=str):
        x, y = a.get(key), b.get(key)
        if x is None or y is None:
            if x != y and not (key[0] == "B1" and (x or y) and (x or y)[1] == 0):
                diffs.append(f"{key}: {x} vs {y}")
            continue
        if x[0] != y[0] or x[1] != y[1] or (
                x[2] is not None and abs(float(x[2]) - float(y[2])) > 1e-6):
            diffs.append(f"{key}: duckdb {x} vs pandas {y}")
    return diffs


def _median_time(fn, arg, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(arg)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--db", default="/tmp/a911-bench-metrics.duckdb")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "metrics.json"))
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # pandas deprecation notes from DuckDB's .df()
    from data.connection import connect
    from data.demo import populate_demo

    con = connect(args.db)
    if not con.execute("SELECT count(*) FROM calls").fetchone()[0]:
        t0 = time.perf_counter()
        populate_demo(con, seed=0, scale=args.scale)
        print(f"loaded the demo cohort at scale {args.scale} in {time.perf_counter() - t0:.1f} s")
    n_calls = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    n_resp = con.execute("SELECT count(*) FROM responses").fetchone()[0]
    duck_s, duck = _median_time(duckdb_overview, con, args.repeat)
    t0 = time.perf_counter()
    frames = load_frames(con)
    load_s = time.perf_counter() - t0
    pandas_s, pand = _median_time(pandas_overview, frames, max(1, args.repeat - 2))
    diffs = _same(duck, pand)
    result = {"calls": n_calls, "responses": n_resp, "duckdb_overview_s": round(duck_s, 3),
              "pandas_overview_s": round(pandas_s, 3), "pandas_load_s": round(load_s, 2),
              "speedup": round(pandas_s / duck_s, 1), "results_equal": not diffs,
              "machine": {"cpus": os.cpu_count()}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    if diffs:
        raise SystemExit("DuckDB and pandas disagree:\n" + "\n".join(diffs[:20]))


if __name__ == "__main__":
    main()
