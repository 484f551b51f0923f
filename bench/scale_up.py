"""The dashboard at 100 million calls: a benchmark cohort copied K times, then every page.

    python bench/run.py --calls 10000000 --responses 1000000 --out bench/results/b.json --keep
    python bench/scale_up.py --from /tmp/bench/run-10000000/bench.duckdb --times 10 \\
        --out bench/results/scale-100000000.json [--db /data/scale-100m.duckdb]
    python bench/scale_up.py --no-build --db /data/scale-100m.duckdb --out FILE.json
    python bench/scale_up.py --from SRC --times 20 --db /data/s10.duckdb --build-only

With ``--db`` the copy is written there and kept; ``--no-build --db PATH`` times a database
built earlier, so one build serves several timed runs.

Importing 100 million calls through the command line would take about three minutes here,
but writing their 13 GB CSV first takes far longer; and the pages' cost depends on how many
rows they read, not on how the rows got in. So the cohort of an earlier ``bench/run.py`` run
(imported through the command line, with its crosswalk and program settings) is copied K
times into a new database: copy k's identifiers get the suffix ``~k`` (calls, responses,
referrals and the links between them, person keys too, so that people are not counted K times
over), everything else (times, categories, the derived eligibility columns) is the same. The
figures are then:

- each page's metric queries, uncached, run on the engine as in ``bench/run.py``;
- every page in headless Chromium, reached from the sidebar of a page already open, results
  not cached (a fresh server), and the server's peak memory;
- every page and section opened by its address, each visit on a fresh server in a new tab,
  ``--address-repeat`` times (median), against the stack's own floor (Streamlit plus one
  Plotly chart, bench/floor_app.py) timed the same way in the same run (bench/address.py).

The budgets: issue 7's, every page reached from the sidebar in at most 5 s; issue 25's, every
page and section opened by its address within 1 s of the floor, and the server (the process
and its children, at its peak over every server of the run) under 2 GB.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT)]

import address  # noqa: E402
import browser  # noqa: E402
import queries  # noqa: E402
import report  # noqa: E402
from run import capture  # noqa: E402  (the pages' requests, recorded under AppTest)

PAGE_LIMIT_S = 5.0

# Columns that identify a record or link two of them: suffixed per copy.
_KEYS = {"calls": ("call_id",),
         "responses": ("response_id", "call_id", "person_key"),
         "referrals": ("referral_id", "response_id", "person_key")}


def log(msg: str) -> None:
    print(f"[scale-up {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def build(source: Path, db: Path, times: int) -> dict:
    """``db``: the schema, then ``source``'s settings once and its records ``times`` times."""
    from data import aggregates
    from data.connection import connect

    con = connect(db, readable_dirs=(source.parent,))
    t0 = time.perf_counter()
    try:
        con.execute("ATTACH ? AS src (READ_ONLY)", [str(source)])
        for table in ("jurisdictions", "crosswalk", "imports", "population"):
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM src.{table}")
        for table, keys in _KEYS.items():
            for k in range(times):
                log(f"{table}: copy {k + 1} of {times}")
                suffixed = ", ".join(f"{c} || '~{k}' AS {c}" for c in keys)
                con.execute(f"INSERT INTO {table} BY NAME SELECT * REPLACE ({suffixed}) "
                            f"FROM src.{table}")
        con.execute("DETACH src")
        # The copied ledger keeps its import ids: the next import must number after them
        # (a fresh sequence would give it id 1 again, which the ledger's key refuses).
        con.execute(f"CREATE OR REPLACE SEQUENCE import_seq START {_next_import_id(con)}")
        aggregates.ensure_current(con)  # the copies' monthly counts, as imports keep them
        con.execute("CHECKPOINT")
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _KEYS}
    finally:
        con.close()
    return {"seconds": round(time.perf_counter() - t0, 1), "rows": counts,
            "database_mb": round(db.stat().st_size / 2**20, 1)}


def _next_import_id(con) -> int:
    return int(con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()[0])


def time_queries(db: Path, pages: dict, repeat: int) -> dict:
    from data.connection import connect

    con = connect(db, read_only=True)
    try:
        return queries.page_queries(con, pages, repeat)
    finally:
        con.close()


def pages_in_browser(db: Path, work: Path, pages: dict) -> dict:
    """Every page and section reached from the sidebar (a section: by its tab) with its
    results not cached. The page the browser opens at is reached again in a second server,
    from another page, as bench/run.py does: its own first load is kept as ``opened_s``."""
    charted = [u for u, p in pages.items() if p["charts"] and not p.get("view_of")]
    opener, other = charted[-1], charted[0]
    memory = []
    srv = browser.start_server(db, work / "server.log", timeout=300)
    try:
        side = browser.in_app_times(srv.url, pages, opener,
                                    [u for u in pages if u != opener], 0)
    finally:
        memory.append(srv.stop())
    srv = browser.start_server(db, work / "server2.log", timeout=300)
    try:
        again = browser.in_app_times(srv.url, pages, other, [opener], 0)
    finally:
        memory.append(srv.stop())
    side["pages"][opener] = again["pages"][opener]
    side["server_memory"] = max(memory, key=lambda m: m["peak_rss_mb"])
    return side


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="source",
                    help="a database built by bench/run.py (run it with --keep)")
    ap.add_argument("--times", type=int, default=10)
    ap.add_argument("--db", help="the copy's path (kept); with --no-build, the database timed")
    ap.add_argument("--no-build", dest="build", action="store_false",
                    help="time --db as it is, without building it")
    ap.add_argument("--build-only", action="store_true",
                    help="build --db and stop (time it later with --no-build)")
    ap.add_argument("--out", help="the figures, as JSON (required unless --build-only)")
    ap.add_argument("--work", help="folder for the copy (default /tmp/bench/scale-up)")
    ap.add_argument("--repeat", type=int, default=1, help="repetitions of each query (median)")
    ap.add_argument("--address-repeat", type=int, default=3,
                    help="visits of each page, section and the floor by address (median)")
    ap.add_argument("--address-views", help="only these views by address (comma-separated, "
                    "e.g. overview,reach?reach_view=Calls+missed; default every page and section)")
    args = ap.parse_args(argv)
    if not (args.out or args.build_only):
        ap.error("--out is required")
    if args.build_only and not (args.build and args.db):
        ap.error("--build-only needs --from and --db (where the copy is kept)")
    if args.build and not args.source:
        ap.error("--from is required to build (or --no-build --db PATH)")
    if not args.build and not (args.db and Path(args.db).is_file()):
        ap.error("--no-build needs --db, an existing database")
    work = Path(args.work or "/tmp/bench/scale-up").resolve()
    if args.db and work in Path(args.db).resolve().parents:
        ap.error(f"--db must be outside the work folder {work} (it is emptied first)")
    return args


def main(argv=None):
    args = parse(argv)
    work = Path(args.work or "/tmp/bench/scale-up")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    db = Path(args.db).resolve() if args.db else work / "bench.duckdb"
    t0 = time.perf_counter()
    if args.build:
        for old in (db, db.with_name(db.name + ".wal")):
            old.unlink(missing_ok=True)
        built = build(Path(args.source).resolve(), db, args.times)
        log(f"built: {built}")
        if args.build_only:
            shutil.rmtree(work, ignore_errors=True)
            return {"built": built}
    else:
        built = {"existing": str(db), "rows": _rows(db),
                 "database_mb": round(db.stat().st_size / 2**20, 1)}
        log(f"timing {db} as it is: {built['rows']}")
    pages = capture(db, work)
    log("timing each page's queries")
    q = time_queries(db, pages, args.repeat)
    log("pages in the browser, from the sidebar")
    side = pages_in_browser(db, work, pages)
    log("pages and sections by their address, against the floor")
    views = args.address_views.split(",") if args.address_views else None
    addr = address.against_floor(db, pages, work, args.address_repeat, views)
    # A page's time: reached from the sidebar (a section: by its tab), results not cached.
    worst = {u: side["pages"][u]["first_s"] for u in pages}
    peak = max(side["server_memory"]["peak_rss_mb"], side["server_memory"]["vm_hwm_mb"] or 0,
               addr["dashboard_server_peak_mb"])
    result = {"source": str(args.source), "times": args.times if args.build else None,
              "built": built, "machine": report.machine(),
              "queries": q, "browser": side, "page_limit_s": PAGE_LIMIT_S,
              "worst_page_s": worst,
              "every_page_within_limit": all(v <= PAGE_LIMIT_S for v in worst.values()),
              "by_address": addr,
              "every_view_within_floor": addr["every_view_within_floor"],
              "server_peak_mb": peak, "server_under_2gb": peak < address.MEMORY_LIMIT_MB,
              "total_s": round(time.perf_counter() - t0, 1)}
    Path(args.out).write_text(json.dumps(result, indent=1, default=str))
    for u, v in worst.items():
        log(f"{'met   ' if v <= PAGE_LIMIT_S else 'MISSED'} {u} from the sidebar: {v:.2f} s")
    address.print_verdicts(addr, log)
    log(f"{'met   ' if result['server_under_2gb'] else 'MISSED'} server peak {peak:,.0f} MB "
        f"(the process and its children; limit {address.MEMORY_LIMIT_MB:,} MB)")
    shutil.rmtree(work, ignore_errors=True)  # a --db outside it stays
    return result


def _rows(db: Path) -> dict:
    from data.connection import connect

    con = connect(db, read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _KEYS}
    finally:
        con.close()


if __name__ == "__main__":
    main()
