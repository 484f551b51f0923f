"""Checks the maintained tables share (data/aggregates.py, data/duration_tables.py,
data/impact_tables.py; metrics/rollup.py reads them before trusting a table)."""
from __future__ import annotations


def present(con, *tables: str) -> bool | None:
    """Whether every one of ``tables`` is in this database (a Parquet export may lack them).
    None from explain's recorder, which runs nothing."""
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_catalog = "
        "current_database() AND table_schema = 'main' AND table_name IN "
        f"({', '.join('?' * len(tables))})", list(tables)).fetchone()
    return None if row is None else row[0] == len(tables)


def differing_rows(con, table: str, columns: str, fresh: str) -> int:
    """Rows of ``table`` (its ``columns``) and of a fresh count (``fresh``, a SELECT of the
    same columns) that are in one and not the other, with their multiplicity: 0 when current."""
    return con.execute(
        f"SELECT count(*) FROM ((SELECT {columns} FROM {table} EXCEPT ALL "
        f"SELECT {columns} FROM ({fresh})) UNION ALL (SELECT {columns} FROM ({fresh}) "
        f"EXCEPT ALL SELECT {columns} FROM {table}))").fetchone()[0]
