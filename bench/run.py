"""The benchmark suite: one synthetic cohort, every figure the budgets need, in one run.

    python bench/run.py --calls N [--responses M] --out FILE.json [--markdown BENCHMARKS.md]

1. Writes a seeded synthetic export (bench/synth.py): N calls (the demo's CAD generator), M team
   responses linked to the crisis-team calls, and their referrals; plus a second calls file
   for the import during the viewers phase.
2. Imports the calls with ``python -m data import`` against DuckDB alone on the same CSV, each
   ``--repeat`` times in fresh processes and files (median; peak memory of each process), then
   imports the responses and referrals into the last database and sets the jurisdiction up
   (program settings, starter crosswalk): the benchmark cohort.
3. Records what each page asks for by running it under AppTest (bench/capture.py), and times
   those requests directly on the engine, uncached; times the Overview's requests against a
   pandas implementation (bench/pandas_ref.py), which must agree.
4. Starts `streamlit run dashboard.py` over the cohort and times every page in headless
   Chromium, reached from the sidebar and opened by its address, results not cached (fresh
   server) and cached; samples the server's memory.
5. Tries a command-line import while the server runs (it cannot open the file), then has
   ``--viewers`` browser sessions move through the pages while a second jurisdiction's calls
   are imported through the Data page (the import runs in the server; see BENCHMARKS.md).
6. Exports the tables as partitioned Parquet and runs the Overview over it; publishes a
   snapshot and queries it from several read-only processes at once.

Writes the figures (JSON) and the results block of BENCHMARKS.md for this size.

Issue 25's checks run on their own (README, "Performance and scaling"):

    python bench/scale_up.py --no-build --db BIG.duckdb --out FILE.json   # by address vs floor
    python bench/handover.py 10000000 20 1 --out FILE.json  # CLI import under 20 viewers
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT)]

import browser  # noqa: E402
import import_viewers  # noqa: E402
from brief import time_brief  # noqa: E402
import importing  # noqa: E402
import queries  # noqa: E402
import report  # noqa: E402
import scaling  # noqa: E402
import synth  # noqa: E402

JURISDICTION = synth.JURISDICTION
SECOND = "Second City"
THIRD = "Third City"


LOAD: dict[str, list[float]] = {}  # the machine's load average as each phase starts


def log(msg: str) -> None:
    LOAD[msg] = [round(x, 2) for x in os.getloadavg()]
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg} (load {LOAD[msg][0]})", file=sys.stderr,
          flush=True)


def _count_rows(csv: Path) -> int:
    import duckdb

    con = duckdb.connect()
    try:
        return con.execute("SELECT count(*) FROM read_csv(?, all_varchar = true)",
                           [str(csv)]).fetchone()[0]
    finally:
        con.close()


# --------------------------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------------------------

def build(args, work: Path, db: Path) -> dict:
    log(f"writing the exports: {args.calls:,} calls, {args.responses:,} responses")
    t0 = time.perf_counter()
    ex = synth.write_exports(work, args.calls, args.responses, seed=args.seed)
    second = work / "second_calls.csv"
    from data.demo import generate_calls_csv

    generate_calls_csv(second, args.concurrent_calls, seed=args.seed + 1)
    gen_s = time.perf_counter() - t0
    log(f"import vs DuckDB alone, {args.repeat} runs each")
    imp = importing.compare(ex.calls, work, args.repeat, synth.CALLS_PROFILE, JURISDICTION,
                            synth.TIMEZONE, keep=db)
    imp["csv_mb"] = round(ex.calls.stat().st_size / 2**20, 1)
    imp["generate_s"] = round(gen_s, 2)
    for kind, csv, profile in (("responses", ex.responses, synth.RESPONSES_PROFILE),
                               ("referrals", ex.referrals, synth.REFERRALS_PROFILE)):
        r = importing.timed_child(importing.cli_import(csv, db, kind, JURISDICTION, profile,
                                                       synth.TIMEZONE))
        imp[f"{kind}_s"] = r["seconds"]
        imp[f"{kind}_peak_mb"] = r["peak_mb"]
        imp[f"{kind}_rows"] = json.loads(r["stdout"])["rows_inserted"]
    _settle(db, ex.calls)
    if args.steps:
        log("import steps (in-process run)")
        imp["steps"] = importing.step_times(ex.calls, work / "steps.duckdb", synth.CALLS_PROFILE,
                                            JURISDICTION, synth.TIMEZONE)
    for p in (ex.calls, ex.responses, ex.referrals):
        p.unlink()  # the cohort is in the database now; the big CSV is no longer needed
    return {"import": imp, "second_csv": second}


def _settle(db: Path, calls_csv: Path) -> None:
    """Program settings and crosswalk; and the calls mapping saved for the Data page."""
    from dataclasses import replace

    from data import uploads
    from data.connection import connect
    from data.importer import save_profile
    from data.profiles import load_profile

    con = connect(db)
    try:
        synth.settle_jurisdiction(con, JURISDICTION, _calls_in(con))
    finally:
        con.close()
    headers = calls_csv.open(encoding="utf-8").readline().strip().split(",")
    profile = replace(load_profile(synth.CALLS_PROFILE), headers=headers)
    save_profile(profile, JURISDICTION, uploads.profiles_dir(db))


def _calls_in(con) -> int:
    return con.execute("SELECT count(*) FROM calls").fetchone()[0]


def capture(db: Path, work: Path) -> dict:
    log("recording each page's requests (AppTest)")
    out = work / "pages.pkl"
    subprocess.run([sys.executable, str(BENCH / "capture.py"), "--db", str(db), "--out",
                    str(out)], cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    pages = pickle.loads(out.read_bytes())
    broken = {u: p["exceptions"] + p["errors"] for u, p in pages.items()
              if p["exceptions"] or p["errors"]}
    if broken:
        raise SystemExit(f"pages failed under AppTest: {broken}")
    if not any(p["requests"] for p in pages.values()):
        raise SystemExit("no page asked for a metric under AppTest: the recording of "
                         "ui.cache calls no longer sees the pages' requests")
    return pages


def time_queries(db: Path, pages: dict, repeat: int) -> tuple[dict, dict]:
    from data.connection import connect

    log("timing each page's queries")
    con = connect(db)
    try:
        q = queries.page_queries(con, pages, repeat)
        log("Overview: engine vs pandas")
        p = queries.versus_pandas(con, pages["overview"]["requests"], repeat)
    finally:
        con.close()
    if not p["results_equal"]:
        raise SystemExit("the engine and pandas disagree:\n" + "\n".join(p["differences"]))
    return q, p


def _start(db: Path, work: Path, name: str, starts: list) -> browser.Server:
    t0 = time.perf_counter()
    srv = browser.start_server(db, work / f"server-{name}.log")
    starts.append(time.perf_counter() - t0)
    return srv


def in_browser(args, db: Path, work: Path, pages: dict, second: Path) -> tuple[dict, dict]:
    charted = [u for u, p in pages.items() if p["charts"] and not p.get("view_of")]
    starts, peaks = [], []
    # The sidebar series: a session opened at one chart page reaches every other page from the
    # sidebar; a second server covers the page the first one opened at.
    opener, other = charted[-1], charted[0]
    log("browser: pages reached from the sidebar")
    srv = _start(db, work, "sidebar", starts)
    try:
        time.sleep(1)
        idle = srv.memory.sample()
        side = browser.in_app_times(srv.url, pages, opener, [u for u in pages if u != opener],
                                    args.browser_repeat)
    finally:
        peaks.append(srv.stop())
    srv = _start(db, work, "sidebar2", starts)
    try:
        side2 = browser.in_app_times(srv.url, pages, other, [opener], 0)
    finally:
        peaks.append(srv.stop())
    side["pages"][opener]["first_s"] = side2["pages"][opener]["first_s"]
    side["pages"][opener]["first_server_s"] = side2["pages"][opener]["first_server_s"]
    side["pages"][opener]["errors"] += side2["pages"][opener]["errors"]
    side["offsite_requests"] += side2["offsite_requests"]
    log("browser: pages opened by their address")
    srv = _start(db, work, "main", starts)
    try:
        deep = browser.deep_link_times(srv.url, pages, args.browser_repeat,
                                       warm_query=urlencode({"j": JURISDICTION}))
        # A dry run: it reaches the server through the hand-over (data/handover.py) and is
        # checked there, changing nothing, so the Data page's import of the same file follows.
        log("command-line import (dry run) while the server runs")
        cli = browser.cli_import_while_serving([*(a for a in importing.cli_import(
            second, db, "calls", SECOND, synth.CALLS_PROFILE, synth.TIMEZONE) if a != "--json"),
            "--dry-run"])
        cc = {"cli_while_serving": cli}
        # Twice, each while a new jurisdiction's calls go through the Data page: viewers as
        # websocket sessions (the server's own work), then as Chromium tabs (what a person
        # sees, but the tabs share the server's two cores).
        for kind, name, protocol in (("sessions", SECOND, True), ("tabs", THIRD, False)):
            log(f"{args.viewers} viewers ({kind}) while an import commits through the Data page")
            plan = import_viewers.ImportPlan(second, name, synth.TIMEZONE, args.concurrent_calls)
            cpu0 = _cpu(srv.proc.pid)
            run = import_viewers.viewers_during_import(srv.url, pages, plan, args.viewers,
                                                       lead_s=args.viewer_lead,
                                                       tail_s=args.viewer_tail,
                                                       think=(args.think_min, args.think_max),
                                                       protocol=protocol)
            cpu1 = _cpu(srv.proc.pid)
            run["cpu_s"] = _cpu_used(cpu0, cpu1)
            run.update(import_rows=args.concurrent_calls, tail_s=args.viewer_tail)
            cc[kind] = run
    finally:
        peaks.append(srv.stop())
    peak = max(max(p["peak_rss_mb"], p["vm_hwm_mb"] or 0) for p in peaks)
    br = {"sidebar": side, "deep_link": deep, "server_start_s": round(max(starts), 2),
          "server_peak_mb": peak, "server_idle_mb": round(idle / 2**20, 1),
          "server_memory_by_run": peaks}
    return br, cc


def _cpu(server_pid: int) -> dict:
    """{(kind, pid): CPU seconds so far} of the server and of every Chromium process."""
    out = {}
    for p in psutil.process_iter(["pid", "name", "cpu_times"]):
        try:
            t = p.info["cpu_times"]
            if t is None:
                continue
            total = t.user + t.system + getattr(t, "children_user", 0)
            if p.info["pid"] == server_pid:
                out[("server", p.info["pid"])] = total
            elif "chrom" in (p.info["name"] or "").lower():
                out[("chromium", p.info["pid"])] = total
        except psutil.Error:
            continue
    return out


def _cpu_used(before: dict, after: dict) -> dict:
    """CPU seconds used between two ``_cpu`` readings, per kind, by the processes alive at
    the end (one that started meanwhile counts from zero; one that ended is not counted)."""
    used = {"server": 0.0, "chromium": 0.0}
    for (kind, pid), total in after.items():
        used[kind] += total - before.get((kind, pid), 0.0)
    return {k: round(v, 1) for k, v in used.items()}


def scale_out(db: Path, work: Path, pages: dict, repeat: int) -> dict:
    from data.connection import connect

    log("scaling: Parquet export and read-only replicas")
    requests = pages["overview"]["requests"]
    con = connect(db, readable_dirs=(work,))
    try:
        con.execute("CHECKPOINT")
        pq = scaling.over_parquet(con, work / "parquet", requests, repeat)
    finally:
        con.close()
    shutil.rmtree(work / "parquet", ignore_errors=True)
    rep = scaling.replicas(db, work / "snapshot.duckdb", requests, 2)
    return {"parquet": pq, "replicas": rep}


# --------------------------------------------------------------------------------------------

def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, required=True)
    ap.add_argument("--responses", type=int, help="team responses (default: calls / 10)")
    ap.add_argument("--out", required=True, help="the figures, as JSON")
    ap.add_argument("--markdown", default=str(ROOT / "BENCHMARKS.md"),
                    help="results block written here (default BENCHMARKS.md; '' for none)")
    ap.add_argument("--work", help="folder for the files (default /tmp/bench/run-<calls>)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions (median)")
    ap.add_argument("--browser-repeat", type=int, default=2,
                    help="cached page visits per page in the browser")
    ap.add_argument("--viewers", type=int, default=20)
    ap.add_argument("--viewer-lead", type=float, default=10,
                    help="seconds the viewers browse (all open) before the import starts")
    ap.add_argument("--think-min", type=float, default=5,
                    help="seconds a viewer reads a page before the next, at least")
    ap.add_argument("--think-max", type=float, default=15, help="... and at most")
    ap.add_argument("--viewer-tail", type=float, default=20,
                    help="seconds they go on after the commit")
    ap.add_argument("--concurrent-calls", type=int,
                    help="calls in the file imported during the viewers phase "
                         "(default: calls / 10, at most 1,000,000)")
    ap.add_argument("--no-steps", dest="steps", action="store_false",
                    help="skip the in-process import with step times")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.responses is None:
        args.responses = max(1, args.calls // 10)
    if args.concurrent_calls is None:
        args.concurrent_calls = max(1000, min(1_000_000, args.calls // 10))
    return args


def main(argv=None):
    args = parse(argv)
    t_start = time.perf_counter()
    work = Path(args.work or f"/tmp/bench/run-{args.calls}")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    db = work / "bench.duckdb"
    browser.SHOTS = work.parent / f"shots-{args.calls}"  # kept: photos of pages that failed
    try:
        built = build(args, work, db)
        pages = capture(db, work)
        q, p = time_queries(db, pages, args.repeat)
        log("a brief (python -m briefs), the whole command")
        brief = time_brief(db, JURISDICTION, args.repeat)
        br, cc = in_browser(args, db, work, pages, built["second_csv"])
        sc = scale_out(db, work, pages, args.repeat)
        from data.connection import connect

        con = connect(db, read_only=True)
        try:
            counts = con.execute("SELECT (SELECT count(*) FROM calls WHERE jurisdiction = ?), "
                                 "(SELECT count(*) FROM responses), "
                                 "(SELECT count(*) FROM referrals)", [JURISDICTION]).fetchone()
        finally:
            con.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    result = {
        "calls": counts[0], "responses": counts[1], "referrals": counts[2],
        "argv": sys.argv[1:] if argv is None else list(argv), "repeat": args.repeat,
        "finished": report.now(), "total_s": round(time.perf_counter() - t_start, 1),
        "machine": report.machine(), "load_average": LOAD, "import": built["import"],
        "pages": {u: {"file": v["file"], "heading": v["heading"], "charts": v["charts"],
                      "requests": [queries.describe(r) for r in v["requests"]],
                      # Per request: whether the page asked with small counts hidden.
                      "disclosure": [a[1].enabled if a else None for a in v["asked_as"]],
                      **{k: v[k] for k in ("section", "view_of") if k in v}}
                  for u, v in pages.items()},
        "queries": q, "pandas": p, "browser": br, "concurrency": cc, "scaling": sc,
        "brief": brief}
    result["budgets"] = report.budgets(result)
    result["budgets_met"] = all(b["met"] for b in result["budgets"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    if args.markdown:
        report.update_markdown(Path(args.markdown), result)
    for b in result["budgets"]:
        log(f"{'met   ' if b['met'] else 'MISSED'} {b['budget']}: {b['value']} {b['unit']}")
    log(f"done in {result['total_s']:.0f} s; figures in {args.out}")
    return result


if __name__ == "__main__":
    main()
