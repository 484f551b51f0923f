"""Import benchmark: the command-line import against DuckDB alone on the same CSV.

    python bench/import_bench.py --calls 5000000 [--out bench/out/import.json] [--repeat 1]

Generates a realistic raw CAD export of N calls (seeded), then measures, each in a fresh
process and a fresh database: (1) `python -m data import` with the demo export's profile, and
(2) DuckDB alone: CREATE TABLE ... AS SELECT * FROM read_csv(...) (told the timestamp format,
which its sniffer cannot tell from the first rows). Reports wall time, the ratio,
and peak resident memory of each process.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROFILE = ROOT / "tests" / "profiles" / "demo_calls.toml"

DUCKDB_ALONE = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
# The export's timestamp format is given: on a multi-year file DuckDB's sniffer sees only
# January (every day <= 12) and guesses day-first, which then fails on 13 January.
con.execute("CREATE TABLE calls AS SELECT * FROM read_csv(?, timestampformat = "
            "'%m/%d/%Y %H:%M:%S')", [sys.argv[1]])
print(con.execute("SELECT count(*) FROM calls").fetchone()[0])
"""




def measure(n_calls: int, work: Path, repeat: int) -> dict:
    from data.demo import generate_calls_csv

    csv_path = work / f"calls_{n_calls}.csv"
    t0 = time.perf_counter()
    generate_calls_csv(csv_path, n_calls, seed=0)
    gen_s = time.perf_counter() - t0
    imports, alone = [], []
    for i in range(repeat):
        db = work / f"import_{i}.duckdb"
        imports.append(_timed_child([sys.executable, "-m", "data", "import", str(csv_path),
                                     "--kind", "calls", "--jurisdiction", "Bench", "--profile",
                                     str(PROFILE), "--timezone", "America/Chicago", "--db",
                                     str(db)]))
        db2 = work / f"alone_{i}.duckdb"
        alone.append(_timed_child([sys.executable, "-c", DUCKDB_ALONE, str(csv_path), str(db2)]))
        for p in work.glob("*.duckdb*"):
            p.unlink()
    imp = sorted(imports, key=lambda r: r["seconds"])[len(imports) // 2]
    alo = sorted(alone, key=lambda r: r["seconds"])[len(alone) // 2]
    return {"calls": n_calls, "csv_mb": round(csv_path.stat().st_size / 1e6, 1),
            "generate_s": round(gen_s, 2), "import_s": imp["seconds"],
            "import_peak_mb": imp["peak_mb"], "duckdb_alone_s": alo["seconds"],
            "duckdb_alone_peak_mb": alo["peak_mb"],
            "ratio": round(imp["seconds"] / alo["seconds"], 2)}


def _timed_child(cmd) -> dict:
    """Time a child and read its own peak RSS through /usr/bin/time-like wait4."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{out}\n{err}")
    return {"seconds": round(seconds, 2), "peak_mb": round(usage.ru_maxrss / 1024, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "import.json"))
    ap.add_argument("--work", help="folder for the generated CSV (default: a temp folder)")
    args = ap.parse_args()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="a911-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        result = measure(args.calls, work, args.repeat)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
