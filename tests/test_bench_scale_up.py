"""bench/scale_up.py's copy of a cohort takes imports afterwards, like any database."""
from __future__ import annotations

import sys
from pathlib import Path

from conftest import bench_module

ROOT = Path(__file__).resolve().parent.parent


def test_a_scaled_copy_numbers_its_next_import_after_the_copied_ledger(tmp_path, monkeypatch):
    # bench/scale_up.py puts bench/ on the path when imported: only for this test.
    monkeypatch.setattr(sys, "path", list(sys.path))
    scale_up = bench_module("scale_up")  # bench's own browser module, not tests/browser
    from data.connection import connect
    from data.demo import generate_calls_csv, populate_demo
    from data.importer import import_file

    source = tmp_path / "cohort.duckdb"
    con = connect(source)
    populate_demo(con, seed=0, scale=0.02)
    ledger = con.execute("SELECT max(import_id) FROM imports").fetchone()[0]
    con.close()
    copy = tmp_path / "copy" / "scaled.duckdb"
    scale_up.build(source, copy, 2)

    calls = generate_calls_csv(tmp_path / "more_calls.csv", 50, seed=3)
    con = connect(copy, readable_dirs=(tmp_path,))
    try:
        result = import_file(con, calls, kind="calls", jurisdiction="Another City",
                             profile=ROOT / "tests" / "profiles" / "demo_calls.toml",
                             timezone_name="America/Chicago")
        assert result.status == "committed" and result.rows_inserted == 50
        # Before the fix the copy's fresh sequence gave id 1, which the ledger refused.
        assert result.import_id == ledger + 1
    finally:
        con.close()
