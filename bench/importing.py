"""The import against DuckDB alone, each in a fresh process and a fresh database file.

(1) ``python -m data import`` with the calls file's profile; (2) DuckDB alone:
``CREATE TABLE calls AS SELECT * FROM read_csv(...)``, told the timestamp format (its sniffer
sees only January on a multi-year file, where every day is 12 or less, and may guess day-first).
Wall time and the peak resident memory of each child (GNU time's maximum resident set size).

``python bench/importing.py steps CSV DB PROFILE JURISDICTION`` imports in-process and prints the
time of each step the importer reports (what to look at when the import is slow).

``python bench/importing.py compare CALLS [REPEAT]`` writes the benchmark's seeded export of
CALLS calls and prints the comparison alone, as JSON (issue 2's check is at 5,000,000 calls: the
import within twice DuckDB alone, peak memory under 2 GB): a minute or two, where
``bench/run.py`` also times every page.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DUCKDB_ALONE = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("CREATE TABLE calls AS SELECT * FROM read_csv(?, timestampformat = "
            "'%m/%d/%Y %H:%M:%S')", [sys.argv[1]])
print(con.execute("SELECT count(*) FROM calls").fetchone()[0])
"""


GNU_TIME = "/usr/bin/time"


def timed_child(cmd: list[str], env: dict | None = None) -> dict:
    """Run a child; its wall time, peak resident memory and output. Raises on failure.

    The peak is read by GNU time, a small process that forks the command: a child forked from
    this (large) Python process would report this process's memory at the fork as its own
    peak (Linux keeps ru_maxrss across exec).
    """
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        wrapped = ([GNU_TIME, "-f", "%M", "-o", str(peak_file)] + cmd
                   if Path(GNU_TIME).exists() else cmd)
        t0 = time.perf_counter()
        r = subprocess.run(wrapped, cwd=ROOT, capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - t0
        if r.returncode != 0:
            raise RuntimeError(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}\n"
                               f"{r.stderr}")
        kb = peak_file.read_text().split()[-1] if peak_file.exists() else None
    return {"seconds": round(seconds, 3), "peak_mb": round(int(kb) / 1024, 1) if kb else None,
            "stdout": r.stdout}


def cli_import(csv: Path, db: Path, kind: str, jurisdiction: str, profile: Path,
               timezone: str) -> list[str]:
    return [sys.executable, "-m", "data", "import", str(csv), "--kind", kind, "--jurisdiction",
            jurisdiction, "--profile", str(profile), "--timezone", timezone, "--db", str(db),
            "--json"]


def compare(csv: Path, work: Path, repeat: int, profile: Path, jurisdiction: str,
            timezone: str, keep: Path) -> dict:
    """Median import vs median DuckDB-alone load; the last import's database is kept at
    ``keep`` (the benchmark cohort is built on it)."""
    imports, alone = [], []
    for i in range(repeat):
        db = work / f"import_{i}.duckdb"
        _remove(db)
        imports.append(timed_child(cli_import(csv, db, "calls", jurisdiction, profile,
                                              timezone)))
        if i < repeat - 1:
            _remove(db)
        else:
            _remove(keep)
            db.rename(keep)
            wal = db.with_name(db.name + ".wal")
            if wal.exists():
                wal.rename(keep.with_name(keep.name + ".wal"))
        db2 = work / f"alone_{i}.duckdb"
        _remove(db2)
        alone.append(timed_child([sys.executable, "-c", DUCKDB_ALONE, str(csv), str(db2)]))
        _remove(db2)
    summary = json.loads(imports[-1]["stdout"])
    imp_s = statistics.median(r["seconds"] for r in imports)
    alone_s = statistics.median(r["seconds"] for r in alone)
    return {"import_s": round(imp_s, 3), "import_runs_s": [r["seconds"] for r in imports],
            "import_peak_mb": max(r["peak_mb"] or 0 for r in imports),
            "duckdb_alone_s": round(alone_s, 3),
            "duckdb_alone_runs_s": [r["seconds"] for r in alone],
            "duckdb_alone_peak_mb": max(r["peak_mb"] or 0 for r in alone),
            "ratio": round(imp_s / alone_s, 3),
            "rows_inserted": summary["rows_inserted"], "rows_rejected": summary["rows_rejected"]}


def _remove(db: Path) -> None:
    for p in (db, db.with_name(db.name + ".wal")):
        if p.exists():
            p.unlink()


def step_times(csv: Path, db: Path, profile: Path, jurisdiction: str, timezone: str) -> dict:
    """Seconds per importer step, from an in-process import into a fresh database (child)."""
    _remove(db)
    r = timed_child([sys.executable, str(Path(__file__)), "steps", str(csv), str(db),
                     str(profile), jurisdiction, timezone])
    _remove(db)
    return json.loads(r["stdout"])


def _steps_main(csv, db, profile, jurisdiction, timezone):
    sys.path.insert(0, str(ROOT))
    from data.connection import connect
    from data.importer import import_file

    marks = []

    def progress(step, frac):
        marks.append((step, time.perf_counter()))

    t0 = time.perf_counter()
    con = connect(db, readable_dirs=(Path(csv).resolve().parent,))
    opened = time.perf_counter()
    import_file(con, csv, kind="calls", jurisdiction=jurisdiction, profile=profile,
                timezone_name=timezone, progress=progress)
    con.close()
    end = time.perf_counter()
    steps = {"open database": round(opened - t0, 3)}
    for (name, t), (_, t_next) in zip(marks, marks[1:] + [("end", end)]):
        steps[name] = round(t_next - t, 3)
    print(json.dumps(steps))


def _compare_main(calls: str, repeat: str = "3") -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from data.demo import generate_calls_csv
    import synth

    with tempfile.TemporaryDirectory(prefix="a911-import-") as tmp:
        work = Path(tmp)
        csv = work / "calls.csv"
        generate_calls_csv(csv, int(calls), seed=0)
        out = compare(csv, work, int(repeat), synth.CALLS_PROFILE, synth.JURISDICTION,
                      synth.TIMEZONE, keep=work / "kept.duckdb")
        out.update(calls=int(calls), csv_mb=round(csv.stat().st_size / 2**20, 1))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "steps":
        _steps_main(*sys.argv[2:])
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "compare":
        _compare_main(*sys.argv[2:])
    else:
        raise SystemExit(__doc__)
