"""Budgets (met / missed) and the results section of BENCHMARKS.md, from a run's figures.

The budgets are the issue's, for this 2-core machine at 10 million calls and 1 million team
responses; smaller runs are marked against the same limits (informative only).
BENCHMARKS.md keeps one results block per size, between markers, so that a run at one size
leaves the others in place; text outside the markers is written by hand and kept.
"""
from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote_plus

import psutil

BUDGET_SIZE = (10_000_000, 1_000_000)
START, END = "<!-- bench:results -->", "<!-- /bench:results -->"
_RUN = re.compile(r"<!-- bench:run calls=(\d+) -->.*?<!-- /bench:run -->\n?", re.S)


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True,
                                  text=True, timeout=30).stdout.strip().split(" built")[0]
    except (OSError, subprocess.SubprocessError):
        chromium = None
    versions = {}
    for pkg in ("duckdb", "streamlit", "pandas", "pyarrow", "plotly", "playwright"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {"cores": os.cpu_count(), "cpu": model,
            "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "os": platform.platform(), "python": sys.version.split()[0], **versions,
            "chromium": chromium}


def _worst(pages: dict, key: str):
    vals = [(v[key], k) for k, v in pages.items() if v.get(key) is not None]
    return max(vals) if vals else (None, None)


def view_name(url: str, info: dict) -> str:
    """A page, or one section of it (ui/sections.py), as the tables name it."""
    base = info.get("view_of") or url.split("?", 1)[0]
    if info.get("section"):
        return f"{base} · {info['section']}"
    if info.get("view_of"):  # the page under other filters: say which
        return f"{base} · {unquote_plus(url.split('?', 1)[1])}"
    return base


def budgets(r: dict) -> list[dict]:
    imp, q, pd_, br, cc = (r["import"], r["queries"], r["pandas"], r["browser"],
                           r["concurrency"])
    page_q, page_q_name = _worst(q["pages"], "median_s")
    nav, nav_name = _worst(br["sidebar"]["pages"], "first_s")
    nav_cached, nav_cached_name = _worst(br["sidebar"]["pages"], "cached_median_s")
    deep, deep_name = _worst(br["deep_link"]["pages"], "first_s")
    views = r.get("pages", {})
    page_q_name, nav_name, nav_cached_name, deep_name = (
        view_name(u, views.get(u, {})) if u else u
        for u in (page_q_name, nav_name, nav_cached_name, deep_name))
    ses, tabs = cc["sessions"], cc["tabs"]
    rows = [
        ("import_ratio", "Import ≤ 1.5 × DuckDB alone", imp["ratio"], 1.5, "le", "×"),
        ("import_memory", "Import peak memory ≤ 2 GB", imp["import_peak_mb"], 2048, "le", "MB"),
        ("page_queries", f"Every page's queries ≤ 1 s (worst: {page_q_name})", page_q, 1.0,
         "le", "s"),
        ("pandas_speedup", "Overview metrics ≥ 5 × faster than pandas", pd_["speedup"], 5.0,
         "ge", "×"),
        ("browser_sidebar", f"Every page rendered ≤ 2 s, reached from the sidebar, results not "
         f"cached (worst: {nav_name})", nav, 2.0, "le", "s"),
        ("browser_sidebar_cached", f"… results cached (worst: {nav_cached_name})", nav_cached,
         2.0, "le", "s"),
        ("browser_deep_link", f"Every page rendered ≤ 2 s, opened by its address (full page "
         f"load), results not cached (worst: {deep_name})", deep, 2.0, "le", "s"),
        ("server_memory", "Dashboard server memory ≤ 1.5 GB", br["server_peak_mb"], 1536, "le",
         "MB"),
        ("viewers_errors", f"{ses['viewers']} viewer sessions during an import: no errors",
         ses["window"]["errors"] + (1 if ses.get("import_error") else 0), 0, "le", ""),
        ("viewers_p95", f"{ses['viewers']} viewer sessions during an import: 95th percentile "
         "page time ≤ 4 s", ses["window"]["p95_s"], 4.0, "le", "s"),
        ("tabs_errors", f"{tabs['viewers']} browser tabs during an import: no errors",
         tabs["window"]["errors"] + (1 if tabs.get("import_error") else 0), 0, "le", ""),
        ("tabs_p95", f"{tabs['viewers']} browser tabs during an import: 95th percentile page "
         "time ≤ 4 s", tabs["window"]["p95_s"], 4.0, "le", "s"),
    ]
    if r.get("brief"):  # results from before briefs existed have none
        rows.append(("brief", "A brief (python -m briefs, the whole command) ≤ 10 s",
                     r["brief"]["median_s"], 10.0, "le", "s"))
    out = []
    for key, label, value, limit, how, unit in rows:
        met = value is not None and (value <= limit if how == "le" else value >= limit)
        out.append({"key": key, "budget": label, "value": value, "limit": limit, "unit": unit,
                    "met": met})
    return out


def browser_arrival(v) -> str:
    return "one every 2 s"


def _fmt(v, unit=""):
    if v is None:
        return "—"
    if isinstance(v, float):
        v = f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
    elif isinstance(v, int):
        v = f"{v:,}"
    return f"{v} {unit}".strip()


def markdown(r: dict) -> str:
    m, imp, q, pd_, br, cc, sc = (r["machine"], r["import"], r["queries"], r["pandas"],
                                  r["browser"], r["concurrency"], r["scaling"])
    at_budget = (r["calls"], r["responses"]) >= BUDGET_SIZE
    lines = [f"<!-- bench:run calls={r['calls']} -->",
             f"### {r['calls']:,} calls, {r['responses']:,} team responses, "
             f"{r['referrals']:,} referrals",
             "",
             f"Run {r['finished']} in {r['total_s']:,.0f} s (`python bench/run.py "
             f"{' '.join(r['argv'])}`). Machine: {m['cores']} cores ({m['cpu']}), "
             f"{m['ram_gb']} GB RAM, {m['os']}; Python {m['python']}, DuckDB {m['duckdb']}, "
             f"Streamlit {m['streamlit']}, pandas {m['pandas']}, {m['chromium']}. "
             f"Medians of {r['repeat']} repetitions unless said otherwise."
             + ("" if at_budget else " The budgets are set for 10 million calls and 1 million "
                "responses; at this size they are informative."),
             "",
             "| Budget | Measured | Limit | |", "|---|---:|---:|---|"]
    for b in r["budgets"]:
        lines.append(f"| {b['budget']} | {_fmt(b['value'], b['unit'])} | "
                     f"{_fmt(b['limit'], b['unit'])} | {'met' if b['met'] else '**missed**'} |")
    lines += ["", f"**Import** of a {imp['csv_mb']:,} MB CSV ({r['calls']:,} calls): "
              f"`python -m data import` {_fmt(imp['import_s'], 's')} (runs "
              f"{', '.join(map(str, imp['import_runs_s']))}), DuckDB alone "
              f"{_fmt(imp['duckdb_alone_s'], 's')} (runs "
              f"{', '.join(map(str, imp['duckdb_alone_runs_s']))}); peak memory "
              f"{_fmt(imp['import_peak_mb'], 'MB')} vs {_fmt(imp['duckdb_alone_peak_mb'], 'MB')}. "
              f"Responses {_fmt(imp['responses_s'], 's')}, referrals "
              f"{_fmt(imp['referrals_s'], 's')} (one run each)."]
    if imp.get("steps"):
        lines += ["", "Import steps (one in-process run): " + "; ".join(
            f"{k} {v:.2f} s" for k, v in imp["steps"].items())]
    lines += ["", "**Each page's metric queries**, uncached, run directly as the page runs "
              "them (requests and disclosure policy recorded from the pages by AppTest), and "
              "the page in the browser:", "",
              "| Page · section | Requests | Queries, first | Queries, median | Slowest request | "
              "Sidebar or tab, not cached (server's part) | Sidebar or tab, cached | Address, "
              "not cached | Address, cached |",
              "|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    views = r.get("pages", {})
    for url, p in q["pages"].items():
        side = br["sidebar"]["pages"].get(url, {})
        deep = br["deep_link"]["pages"].get(url, {})
        lines.append(
            f"| {view_name(url, views.get(url, {}))} | {len(p['requests'])} | "
            f"{_fmt(p['first_s'], 's')} | "
            f"{_fmt(p['median_s'], 's')} | {p['slowest'] or '—'} | "
            f"{_fmt(side.get('first_s'), 's')} ({_fmt(side.get('first_server_s'), 's')}) | "
            f"{_fmt(side.get('cached_median_s'), 's')} | "
            f"{_fmt(deep.get('first_s'), 's')} | {_fmt(deep.get('cached_median_s'), 's')} |")
    sb = q["sidebar"]
    lines += ["", f"Sidebar queries (every page, cached per data version): filter options "
              f"{_fmt(sb['filter_options']['median_s'], 's')} (first "
              f"{_fmt(sb['filter_options']['first_s'], 's')}), jurisdiction settings "
              f"{_fmt(sb['jurisdiction_profiles']['median_s'], 's')}. Server start "
              f"{_fmt(br['server_start_s'], 's')}; server peak memory "
              f"{_fmt(br['server_peak_mb'], 'MB')} (idle after start "
              f"{_fmt(br['server_idle_mb'], 'MB')}).",
              "", f"**Overview vs pandas**: the engine {_fmt(pd_['duckdb_s'], 's')}, pandas "
              f"{_fmt(pd_['pandas_s'], 's')} from frames already in memory (loading them: "
              f"{_fmt(pd_['pandas_load_s'], 's')}, {_fmt(pd_['pandas_frames_mb'], 'MB')}); "
              f"{_fmt(pd_['speedup'], '×')}; results equal: {pd_['results_equal']} "
              f"({pd_['values_compared']} values).",
              "", f"**Command-line import (dry run) while the dashboard runs**: exit code "
              f"{cc['cli_while_serving']['exit_code']} after "
              f"{_fmt(cc['cli_while_serving']['seconds'], 's')}: "
              f"“{cc['cli_while_serving']['message']}”",
              ""]
    for key, what in (("sessions", "websocket sessions (the server's work: page asked for "
                                   "until the server's last message for it)"),
                      ("tabs", "Chromium tabs on the same two cores (page time as defined "
                               "above, drawing included)")):
        v = cc[key]
        lines += [f"**{v['viewers']} viewers while an import commits, as {what}.** Each "
                  f"opens the dashboard ({browser_arrival(v)}), then moves to another page "
                  f"every {v['think_s'][0]:g}–{v['think_s'][1]:g} s; a "
                  f"{v['import_rows']:,}-call file for a new jurisdiction goes through the "
                  f"Data page meanwhile: upload and mapping {_fmt(v['import_upload_s'], 's')}, "
                  f"check {_fmt(v['import_check_s'], 's')}, import "
                  f"{_fmt(v['import_commit_s'], 's')}"
                  + (f"; the import failed: {v['import_error']}" if v.get("import_error")
                     else "") + ".", "",
                  "| Window | Page visits | Errors | Median | 95th percentile | Max | "
                  "Server's part: median | Server's part: 95th percentile |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for w_key, label in (("during_import", "during the upload, check and import"),
                             ("after_commit", f"the {v['tail_s']:.0f} s after the commit"),
                             ("window", "both")):
            w = v[w_key]
            lines.append(f"| {label} | {w['visits']} | {w['errors']} | {_fmt(w['p50_s'], 's')}"
                         f" | {_fmt(w['p95_s'], 's')} | {_fmt(w['max_s'], 's')} | "
                         f"{_fmt(w.get('server_p50_s'), 's')} | "
                         f"{_fmt(w.get('server_p95_s'), 's')} |")
        if v.get("error_examples"):
            lines.append("\nErrors: " + "; ".join(v["error_examples"]))
        lines += ["", "CPU time over the phase: " + ", ".join(
            f"{k} {x:,.0f} s" for k, x in v["cpu_s"].items()) + ".", ""]
    pq, rep = sc["parquet"], sc["replicas"]
    lines += [f"**Scaling** (see below): Parquet export {_fmt(pq['export_s'], 's')} "
              f"({pq['files']} files, {_fmt(pq['parquet_mb'], 'MB')}; database file "
              f"{_fmt(rep['db_mb'], 'MB')}); Overview over Parquet "
              f"{_fmt(pq['overview_parquet_s'], 's')} vs the database "
              f"{_fmt(pq['overview_db_s'], 's')} (equal results: {pq['results_equal']}); "
              f"one jurisdiction ({pq['one_jurisdiction']}) "
              f"{_fmt(pq['one_jurisdiction_parquet_s'], 's')}"
              f" vs {_fmt(pq['one_jurisdiction_db_s'], 's')}. Snapshot published in "
              f"{_fmt(rep['publish_copy_s'], 's')}; {rep['replicas']} read-only processes "
              f"opened it at once: {rep['all_opened']}, Overview in "
              f"{', '.join(_fmt(t, 's') for t in rep['overview_each_s'])}.",
              "<!-- /bench:run -->", ""]
    return "\n".join(lines)


SKELETON = f"""# Benchmarks

Generated by `python bench/run.py` between the markers; the rest is written by hand.

{START}
{END}
"""


def update_markdown(path: Path, r: dict) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else SKELETON
    if START not in text or END not in text:
        text = text.rstrip() + "\n\n" + START + "\n" + END + "\n"
    head, rest = text.split(START, 1)
    body, tail = rest.split(END, 1)
    runs = {int(m.group(1)): m.group(0) for m in _RUN.finditer(body)}
    runs[r["calls"]] = markdown(r)
    blocks = "\n".join(v.rstrip() + "\n" for _, v in sorted(runs.items(), reverse=True))
    path.write_text(f"{head}{START}\n{blocks}{END}{tail}", encoding="utf-8")


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
