"""The server's CPU per page visit, results cached: what each viewer's every page costs.

    python bench/page_cpu.py DB [--rounds 3] [--laps 4] [--out FILE.json]

One websocket session (bench/sessions.py) goes round the nine question pages twice (every
result cached), waits until the server is quiet, then ``--rounds`` times goes round them
``--laps`` times, reading the server process's CPU time (psutil) before and after. A cached
visit is the commonest request a dashboard serves and what its viewers take from an import
running beside them (bench/handover.py): its cost is the script run, the figures and their
serialisation, not the queries. Prints each round's CPU and wall time per visit, as JSON.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import browser  # noqa: E402
import sessions  # noqa: E402
from address import _cpu_s as _cpu  # noqa: E402  (the server and its children)
from handover import PAGES  # noqa: E402  (the question pages the viewers go round)

QUIET_CPU_S = 0.025  # CPU seconds per half second under which the server counts as quiet


async def _rounds(url: str, proc: psutil.Process, rounds: int, laps: int) -> list[dict]:
    import websockets

    async with websockets.connect(url.replace("http://", "ws://") + "/_stcore/stream",
                                  subprotocols=["streamlit"], max_size=None) as ws:
        for _ in range(2):  # every page's results into the cache
            for page in PAGES:
                await sessions._page(ws, page)
        for _ in range(40):  # the warm-up's background imports finish
            before = _cpu(proc)
            await asyncio.sleep(0.5)
            if _cpu(proc) - before < QUIET_CPU_S:
                break
        out = []
        for _ in range(rounds):
            c0, t0, errors = _cpu(proc), time.perf_counter(), 0
            for _ in range(laps):
                for page in PAGES:
                    errors += bool((await sessions._page(ws, page))["error"])
            visits = laps * len(PAGES)
            out.append({"cpu_s_per_visit": round((_cpu(proc) - c0) / visits, 3),
                        "wall_s_per_visit": round((time.perf_counter() - t0) / visits, 3),
                        "visits": visits, "errors": errors})
        return out


def run(db: Path, rounds: int = 3, laps: int = 4) -> dict:
    with tempfile.TemporaryDirectory(prefix="a911-page-cpu-") as tmp:
        srv = browser.start_server(db, Path(tmp) / "server.log")
        try:
            proc = psutil.Process(srv.proc.pid)
            result = asyncio.run(_rounds(srv.url, proc, rounds, laps))
            rss = round(proc.memory_info().rss / 2**20, 1)
        finally:
            srv.stop()
    per_visit = sorted(r["cpu_s_per_visit"] for r in result)
    return {"database": str(db), "pages": PAGES, "rounds": result,
            "cpu_s_per_visit_median": per_visit[len(per_visit) // 2], "server_rss_mb": rss}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--laps", type=int, default=4, help="times round the pages per round")
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args(argv)
    result = run(args.db, args.rounds, args.laps)
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return result


if __name__ == "__main__":
    main()
