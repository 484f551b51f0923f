"""``python -m data import`` of a large file while the dashboard serves viewers (issue 25).

    python bench/handover.py CALLS [VIEWERS] [PAIRS] [--out FILE.json] [--handover-only]
                             [--think MIN MAX]

Issue 25's criterion: with the dashboard running and 20 viewer sessions open, ``python -m data
import`` of a 10-million-call file completes without stopping the server; viewers see no error
and either the old or the new data, never a mix; the import is no slower than the command line
on the same file, with peak memory under 2.5 GB for the whole server.

Writes the benchmark's seeded export of CALLS calls and a demo-cohort database, then imports
the export as a new jurisdiction, PAIRS times each way (a pair back to back, the order
alternating from pair to pair), each into its own copy of that database:

1. directly, as before: ``python -m data import`` with no server (wall time and the command's
   peak memory, GNU time);
2. through the hand-over: a dashboard server over the other copy, VIEWERS (default 20)
   websocket sessions moving from page to page (bench/sessions.py), a page every MIN-MAX
   seconds (default 10-30, people reading; ``--think 2 6`` is the stress run, five pages a
   second from 20 viewers, the whole of a 2-core machine; ``--think 45 60`` has the sessions
   open and none asking for a page while a 10-million-call import runs), and the same command,
   which hands the file to the server (data/handover.py). Wall time of the command; the
   server's peak resident memory (psutil, the process and its children, every 0.2 s, and the
   kernel's high-water mark); the viewers' pages before, during and after the import, every
   error with its text; how many pages the server drew again because the data changed under
   them (ui/cache.py); and which data each viewer's Overview showed: its headline tiles must
   be those seen before the import or those seen after it, and its "Calls for service" the
   database's count before or after (as shown: exact, or rounded to the viewer's policy).

Prints the JSON (and writes it to --out) with the verdicts. The machine is shared: run it when
the others are quiet, and read both imports' times side by side.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import browser  # noqa: E402
import import_viewers  # noqa: E402
import importing  # noqa: E402
import sessions  # noqa: E402
import synth  # noqa: E402

NEW = "Handover City"
PAGES = ["", "reach", "on-scene", "connections", "compare", "equity", "impact", "cost", "plan"]
# Seconds between one viewer's page requests (uniform). READING: people reading the dashboard
# (a page every 10-30 s; a presenter on a call stays minutes on one); STRESS: every viewer
# asking for a page every 2-6 s, five pages a second from 20 viewers, which alone keeps a
# 2-core machine busy.
READING_S = (10.0, 30.0)
STRESS_S = (2.0, 6.0)
THINK_S = READING_S
LEAD_S, TAIL_S = 8.0, 10.0
REDRAWN = "drawn again from the new version"  # ui/cache.py's log line
CALLS_TILE = "Calls for service"  # the Overview's headline count (metric A1)
SERVER_LIMIT_MB = 2560


def _demo(path: Path) -> None:
    from data.connection import connect
    from data.demo import populate_demo

    con = connect(path)
    populate_demo(con, seed=0)
    con.close()


def _stats(visits) -> dict:
    secs = sorted(v[3] for v in visits if not v[4])
    return {"visits": len(visits), "errors": sum(1 for v in visits if v[4]),
            "p50_s": round(statistics.median(secs), 3) if secs else None,
            "p95_s": round(secs[int(0.95 * (len(secs) - 1))], 3) if secs else None,
            "max_s": round(secs[-1], 3) if secs else None}


async def _one_page(url: str) -> None:
    import websockets

    async with websockets.connect(url.replace("http://", "ws://") + "/_stcore/stream",
                                  subprotocols=["streamlit"], max_size=None) as ws:
        await sessions._page(ws, "")


async def _served_import(url: str, cmd: list[str], viewers: int,
                         think: tuple[float, float] = THINK_S) -> dict:
    log = import_viewers._Log()
    stop, opened = asyncio.Event(), []
    if not viewers:  # one page, then none: the server opens the database (and the hand-over)
        await _one_page(url)
    tasks = [asyncio.create_task(sessions.viewer(i, url, PAGES, log, stop, think, 0.5, opened))
             for i in range(viewers)]
    deadline = time.perf_counter() + 120
    while len(opened) < viewers and time.perf_counter() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(LEAD_S)
    t0 = time.perf_counter()
    child = await asyncio.to_thread(importing.timed_child, cmd)
    t1 = time.perf_counter()
    await asyncio.sleep(max(TAIL_S, 2 * think[1]))  # every viewer asks for pages after it too
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    before = [v for v in log.visits if v[1] < t0]
    during = [v for v in log.visits if v[1] >= t0 and v[0] <= t1]
    after = [v for v in log.visits if v[0] > t1]
    return {"import": child, "viewers_open": len(opened),
            "pages_before": _stats(before), "pages_during": _stats(during),
            "pages_after": _stats(after),
            "errors": [{"t_s": round(v[0] - t0, 2), "page": v[2], "how": v[5], "error": v[4]}
                       for v in log.visits if v[4]][:100],
            "_visits": log.visits, "_window": (t0, t1)}


def old_or_new(visits: list, window: tuple[float, float], calls_before: int,
               calls_after: int) -> dict:
    """Which data each Overview showed (its tiles, read from the server's messages): before the
    import starts, the old; after the command returned, the new; while it runs, either, never
    anything else. The old and new tiles are those seen before and after; their "Calls for
    service" must be the database's count before and after, as the viewer's policy shows it."""
    t0, t1 = window
    reads = [(v[0], v[1], v[7]) for v in visits
             if v[2] == "" and len(v) > 7 and v[7] and not v[4]]
    shown = {"old": _as_shown(calls_before), "new": _as_shown(calls_after)}
    phase = {"before": [r[2] for r in reads if r[1] < t0],
             "during": [r[2] for r in reads if r[1] >= t0 and r[0] <= t1],
             "after": [r[2] for r in reads if r[0] > t1]}
    ref = {"old": phase["before"][0] if phase["before"] else None,
           "new": phase["after"][0] if phase["after"] else None}

    def which(tiles: dict) -> str:
        for kind in ("old", "new"):
            if tiles.get(CALLS_TILE) in shown[kind] and ref[kind] in (None, tiles):
                return kind
        return "other"

    seen = {p: [which(t) for t in tiles] for p, tiles in phase.items()}
    wrong = ([t for t, k in zip(phase["before"], seen["before"]) if k != "old"]
             + [t for t, k in zip(phase["during"], seen["during"]) if k == "other"]
             + [t for t, k in zip(phase["after"], seen["after"]) if k != "new"])
    return {"calls_before": calls_before, "calls_after": calls_after,
            "shown_before": sorted(shown["old"]), "shown_after": sorted(shown["new"]),
            "overview_reads": {"before": len(phase["before"]),
                               "during_old": seen["during"].count("old"),
                               "during_new": seen["during"].count("new"),
                               "after": len(phase["after"])},
            "other": wrong[:5], "old_or_new": not wrong,
            "checked": bool(phase["before"] and phase["after"])}


def _as_shown(n: int) -> set[str]:
    """A count as a tile shows it: exact, or published under the viewer's policy."""
    from charts.theme import fmt_value
    from metrics.disclosure import VIEWER, published_count

    return {fmt_value(n, "count"), fmt_value(published_count(n, VIEWER), "count")}


def run(calls: int, viewers: int, work: Path, pairs: int = 1,
        handover_only: bool = False, think: tuple[float, float] = THINK_S) -> dict:
    """``pairs`` of (direct, handed over) imports of the same file into fresh copies of the
    same database, back to back, the order alternating so that neither always runs on a warmer
    machine."""
    from data.demo import generate_calls_csv

    csv = work / "calls.csv"
    generate_calls_csv(csv, calls, seed=0)
    base = work / "base" / "cohort.duckdb"
    base.parent.mkdir()
    _demo(base)
    direct, served = [], []
    for i in range(pairs):
        for how in (("direct", "served") if i % 2 == 0 else ("served", "direct")):
            if how == "direct" and handover_only:
                continue
            db = _copy(base, work / f"{how}-{i}")
            (direct if how == "direct" else served).append(
                _direct(csv, db) if how == "direct"
                else _handed_over(csv, db, viewers, work, think))
    out = {"calls": calls, "csv_mb": round(csv.stat().st_size / 2**20, 1), "viewers": viewers,
           "think_s": list(think),
           "pairs": pairs, "direct_s": [r["seconds"] for r in direct],
           "handover_s": [r["seconds"] for r in served],
           "direct_median_s": statistics.median(r["seconds"] for r in direct) if direct else None,
           "handover_median_s": statistics.median(r["seconds"] for r in served),
           "direct": direct, "handover": served}
    out["verdicts"] = verdicts(out)
    return out


def verdicts(r: dict) -> dict:
    served = r["handover"]
    peak = max(s["server_peak_mb"] for s in served)
    return {"server_kept_running": all(s["server_kept_running"] for s in served),
            "viewers_open": all(s["viewers_open"] == r["viewers"] for s in served),
            "viewer_errors": sum(len(s["errors"]) for s in served),
            "no_viewer_error": not any(s["errors"] for s in served),
            "old_or_new_never_a_mix": all(s["data_seen"]["old_or_new"] for s in served),
            "old_and_new_both_seen": all(s["data_seen"]["checked"] for s in served),
            "handover_over_direct": round(r["handover_median_s"] / r["direct_median_s"], 2)
            if r["direct_median_s"] else None,
            "no_slower_than_direct": r["handover_median_s"] <= r["direct_median_s"]
            if r["direct_median_s"] else None,
            "server_peak_mb": peak, "server_limit_mb": SERVER_LIMIT_MB,
            "server_under_limit": peak < SERVER_LIMIT_MB}


def _copy(base: Path, folder: Path) -> Path:
    folder.mkdir()
    shutil.copyfile(base, folder / base.name)
    return folder / base.name


def _command(csv: Path, db: Path) -> list[str]:
    return importing.cli_import(csv, db, "calls", NEW, synth.CALLS_PROFILE, synth.TIMEZONE)


def _direct(csv: Path, db: Path) -> dict:
    r = importing.timed_child(_command(csv, db))
    return {"seconds": r["seconds"], "command_peak_mb": r["peak_mb"],
            "rows_inserted": json.loads(r["stdout"])["rows_inserted"]}


def _calls(db: Path) -> int:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM calls").fetchone()[0]


def _handed_over(csv: Path, db: Path, viewers: int, work: Path,
                 think: tuple[float, float] = THINK_S) -> dict:
    log = db.parent / "server.log"
    calls_before = _calls(db)
    srv = browser.start_server(db, log)
    try:
        served = asyncio.run(_served_import(srv.url, _command(csv, db), viewers, think))
        served["server_kept_running"] = srv.proc.poll() is None
    finally:
        memory = srv.stop()
    r = served.pop("import")
    seen = old_or_new(served.pop("_visits"), served.pop("_window"), calls_before, _calls(db))
    if os.environ.get("A911_BENCH_LOGS"):  # keep the server's log (the work folder goes)
        shutil.copy(log, Path(os.environ["A911_BENCH_LOGS"]) / f"server-{db.parent.name}.log")
    return {"seconds": r["seconds"], "command_peak_mb": r["peak_mb"],
            "rows_inserted": json.loads(r["stdout"])["rows_inserted"],
            "server_peak_mb": max(memory["peak_rss_mb"], memory["vm_hwm_mb"] or 0),
            "server_memory": memory,
            "pages_redrawn_on_new_data": log.read_text(errors="replace").count(REDRAWN),
            "data_seen": seen, **served}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("calls", type=int)
    ap.add_argument("viewers", type=int, nargs="?", default=20)
    ap.add_argument("pairs", type=int, nargs="?", default=1,
                    help="(direct, handed over) pairs, the order alternating")
    ap.add_argument("--out", help="also write the JSON here")
    ap.add_argument("--handover-only", action="store_true",
                    default=bool(os.environ.get("A911_BENCH_HANDOVER_ONLY")),
                    help="no direct import (no verdict on its time)")
    ap.add_argument("--think", type=float, nargs=2, metavar=("MIN", "MAX"), default=THINK_S,
                    help="seconds between a viewer's pages, uniform (default: reading, "
                    f"{READING_S[0]:g}-{READING_S[1]:g}; stress: {STRESS_S[0]:g} {STRESS_S[1]:g})")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="a911-handover-") as tmp:
        result = run(args.calls, args.viewers, Path(tmp), args.pairs, args.handover_only,
                     tuple(args.think))
    text = json.dumps(result, indent=2, default=str)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    for k, v in result["verdicts"].items():
        print(f"[handover] {k}: {v}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
