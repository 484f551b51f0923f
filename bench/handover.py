"""``python -m data import`` of a large file while the dashboard serves viewers (issue 25).

``python bench/handover.py CALLS [VIEWERS] [PAIRS]`` writes the benchmark's seeded export of
CALLS calls and a demo-cohort database, then imports the export as a new jurisdiction, PAIRS
times each way (the order alternating), each into its own copy of that database:

1. directly, as before: ``python -m data import`` with no server (wall time and the command's
   peak memory, GNU time);
2. through the hand-over: a dashboard server over the other copy, VIEWERS websocket sessions
   moving from page to page (bench/sessions.py), and the same command, which hands the file to
   the server (data/handover.py). Wall time of the command, the server's peak resident memory
   (psutil, the process and its children, every 0.2 s, and the kernel's high-water mark), the
   viewers' pages before, during and after the import, and how many pages the server drew
   again because the data changed under them (ui/cache.py: old or new data, never a mix).

Prints JSON. The machine is shared: run it when the others are quiet, and read both imports'
times side by side (same file, same starting database, one after the other).
"""
from __future__ import annotations

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
THINK_S = (2.0, 6.0)
LEAD_S, TAIL_S = 8.0, 10.0
REDRAWN = "drawn again from the new version"  # ui/cache.py's log line


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


async def _served_import(url: str, cmd: list[str], viewers: int) -> dict:
    log = import_viewers._Log()
    stop, opened = asyncio.Event(), []
    if not viewers:  # one page, then none: the server opens the database (and the hand-over)
        await _one_page(url)
    tasks = [asyncio.create_task(sessions.viewer(i, url, PAGES, log, stop, THINK_S, 0.5, opened))
             for i in range(viewers)]
    deadline = time.perf_counter() + 120
    while len(opened) < viewers and time.perf_counter() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(LEAD_S)
    t0 = time.perf_counter()
    child = await asyncio.to_thread(importing.timed_child, cmd)
    t1 = time.perf_counter()
    await asyncio.sleep(TAIL_S)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    before = [v for v in log.visits if v[1] < t0]
    during = [v for v in log.visits if v[1] >= t0 and v[0] <= t1]
    after = [v for v in log.visits if v[0] > t1]
    return {"import": child, "viewers_open": len(opened),
            "pages_before": _stats(before), "pages_during": _stats(during),
            "pages_after": _stats(after),
            "errors_seen": sorted({str(v[4]) for v in log.visits if v[4]})[:5]}


def run(calls: int, viewers: int, work: Path, pairs: int = 2) -> dict:
    """``pairs`` of (direct, handed over) imports of the same file into fresh copies of the
    same database, the order alternating so that neither always runs on a warmer machine."""
    from data.demo import generate_calls_csv

    csv = work / "calls.csv"
    generate_calls_csv(csv, calls, seed=0)
    base = work / "base" / "cohort.duckdb"
    base.parent.mkdir()
    _demo(base)
    direct, served = [], []
    for i in range(pairs):
        for how in (("direct", "served") if i % 2 == 0 else ("served", "direct")):
            if how == "direct" and os.environ.get("A911_BENCH_HANDOVER_ONLY"):
                continue
            db = _copy(base, work / f"{how}-{i}")
            (direct if how == "direct" else served).append(
                _direct(csv, db) if how == "direct" else _handed_over(csv, db, viewers, work))
    return {"calls": calls, "csv_mb": round(csv.stat().st_size / 2**20, 1), "viewers": viewers,
            "direct_s": [r["seconds"] for r in direct],
            "handover_s": [r["seconds"] for r in served],
            "direct_median_s": statistics.median(r["seconds"] for r in direct) if direct else None,
            "handover_median_s": statistics.median(r["seconds"] for r in served),
            "direct": direct, "handover": served}


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


def _handed_over(csv: Path, db: Path, viewers: int, work: Path) -> dict:
    log = db.parent / "server.log"
    srv = browser.start_server(db, log)
    try:
        served = asyncio.run(_served_import(srv.url, _command(csv, db), viewers))
    finally:
        memory = srv.stop()
    r = served.pop("import")
    if os.environ.get("A911_BENCH_LOGS"):  # keep the server's log (the work folder goes)
        shutil.copy(log, Path(os.environ["A911_BENCH_LOGS"]) / f"server-{db.parent.name}.log")
    return {"seconds": r["seconds"], "command_peak_mb": r["peak_mb"],
            "rows_inserted": json.loads(r["stdout"])["rows_inserted"],
            "server_peak_mb": max(memory["peak_rss_mb"], memory["vm_hwm_mb"] or 0),
            "pages_redrawn_on_new_data": log.read_text(errors="replace").count(REDRAWN),
            **served}


def main(argv: list[str]) -> None:
    calls = int(argv[0])
    viewers = int(argv[1]) if len(argv) > 1 else 8
    pairs = int(argv[2]) if len(argv) > 2 else 2
    with tempfile.TemporaryDirectory(prefix="a911-handover-") as tmp:
        print(json.dumps(run(calls, viewers, Path(tmp), pairs), indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
