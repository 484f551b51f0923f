"""Beyond one database file: the canonical tables as partitioned Parquet, and read-only replicas.

(1) Export: calls (with their derived columns) partitioned by jurisdiction and year, responses
and referrals by jurisdiction, the small tables as single files; then the same metric engine
runs unchanged over views of those files (``read_parquet`` with hive partitioning), in an
in-memory DuckDB. Timed: the export, the Overview's requests over Parquet (must equal the
database's results), and the same with a one-jurisdiction filter (partition pruning).

(2) Replicas: a published snapshot of the database file (checkpoint + copy) opened read-only
by several processes at once, each running the Overview's requests: DuckDB lets any number of
processes read a file no process writes, so the writer keeps the live file and the dashboards
read the latest snapshot.
"""
from __future__ import annotations

import pickle
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import duckdb


import pandas_ref
from data.aggregates import TABLES
from queries import run_request

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = {"calls": "jurisdiction, year", "responses": "jurisdiction",
              "referrals": "jurisdiction"}
# The local time each year partition is cut by.
YEAR_OF = {"calls": "received_local"}
# The maintained monthly counts (data/aggregates.py) are small: one file each, and the engine
# reads them over Parquet as over the database (metrics/rollup.py).
SMALL = ("jurisdictions", "crosswalk", *TABLES)


def export_parquet(con, folder: Path) -> dict:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    for table, by in PARTITIONS.items():
        extra = f", year({YEAR_OF[table]}) AS year" if "year" in by else ""
        con.execute(f"COPY (SELECT *{extra} FROM {table}) TO '{folder / table}' "
                    f"(FORMAT parquet, PARTITION_BY ({by}), COMPRESSION zstd)")
    for table in SMALL:
        con.execute(f"COPY {table} TO '{folder / (table + '.parquet')}' (FORMAT parquet)")
    seconds = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    files = sum(1 for p in folder.rglob("*.parquet"))
    return {"export_s": round(seconds, 2), "parquet_mb": round(size / 2**20, 1),
            "files": files}


def parquet_connection(folder: Path):
    """An in-memory DuckDB whose canonical table names are views over the Parquet files."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    con.execute("SET TimeZone = 'UTC'")
    for table, by in PARTITIONS.items():
        drop = " EXCLUDE (year)" if "year" in by else ""
        con.execute(f"CREATE VIEW {table} AS SELECT *{drop} FROM read_parquet("
                    f"'{folder / table}/**/*.parquet', hive_partitioning = true, "
                    "hive_types_autocast = false)")
    for table in SMALL:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM "
                    f"read_parquet('{folder / (table + '.parquet')}')")
    return con


def _overview(con, requests) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = {}
    for req in requests:
        out.update(pandas_ref.engine_values(run_request(con, req), req.by))
    return time.perf_counter() - t0, out


def over_parquet(db_con, folder: Path, requests: list, repeat: int) -> dict:
    exported = export_parquet(db_con, folder)
    pq = parquet_connection(folder)
    try:
        _, expected = _overview(db_con, requests)
        runs, got = [], None
        for _ in range(repeat):
            t, got = _overview(pq, requests)
            runs.append(t)
        jurs = [r[0] for r in db_con.execute(
            "SELECT jurisdiction FROM calls GROUP BY 1 ORDER BY count(*) LIMIT 1").fetchall()]
        one = [replace(r, filters=replace(r.filters, jurisdictions=tuple(jurs)))
               for r in requests]
        one_db = statistics.median(_overview(db_con, one)[0] for _ in range(repeat))
        one_pq = statistics.median(_overview(pq, one)[0] for _ in range(repeat))
        db_s = statistics.median(_overview(db_con, requests)[0] for _ in range(repeat))
    finally:
        pq.close()
    diffs = pandas_ref.differences(expected, got)
    return {**exported, "overview_db_s": round(db_s, 4),
            "overview_parquet_s": round(statistics.median(runs), 4),
            "results_equal": not diffs, "differences": diffs[:5],
            "one_jurisdiction": jurs[0] if jurs else None,
            "one_jurisdiction_db_s": round(one_db, 4),
            "one_jurisdiction_parquet_s": round(one_pq, 4),
            "jurisdictions": db_con.execute("SELECT count(*) FROM jurisdictions").fetchone()[0]}


_REPLICA = """
import pickle, sys, time
sys.path.insert(0, sys.argv[3])
from data.connection import connect
import metrics
requests = pickle.loads(open(sys.argv[2], 'rb').read())
t0 = time.perf_counter()
con = connect(sys.argv[1], read_only=True)
opened = time.perf_counter()
for r in requests:
    (metrics.compute_counts if isinstance(r, metrics.CountRequest) else metrics.compute)(con, r)
print(round(opened - t0, 4), round(time.perf_counter() - opened, 4))
"""


def replicas(db: Path, snapshot: Path, requests: list, n: int) -> dict:
    """Publish a snapshot and let ``n`` read-only processes query it at the same time."""
    con = duckdb.connect(str(db))
    con.execute("CHECKPOINT")
    con.close()
    t0 = time.perf_counter()
    shutil.copyfile(db, snapshot)
    publish_s = time.perf_counter() - t0
    req_file = snapshot.with_suffix(".requests.pkl")
    req_file.write_bytes(pickle.dumps(requests))
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", _REPLICA, str(snapshot), str(req_file),
                               str(ROOT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(n)]
    results = [p.communicate() + (p.returncode,) for p in procs]
    wall = time.perf_counter() - t0
    ok = [r for r in results if r[2] == 0]
    times = [tuple(map(float, r[0].split())) for r in ok]
    errors = [r[1].strip().splitlines()[-1][:300] for r in results if r[2] != 0]
    req_file.unlink()
    snapshot.unlink()
    return {"replicas": n, "publish_copy_s": round(publish_s, 2),
            "db_mb": round(db.stat().st_size / 2**20, 1), "all_opened": not errors,
            "errors": errors, "overview_each_s": [t[1] for t in times],
            "wall_s": round(wall, 2)}


