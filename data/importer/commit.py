"""Commit: merge the staged records (replaced rows kept for undo) and write the ledger row."""
from __future__ import annotations

import json


from .. import facts
from ..schema import (DERIVED_LINKS, ID_FIELD, history_table, record_columns, table_columns)



def merge_records(con, plan):
    kind, jurisdiction, import_id = plan.kind, plan.jurisdiction, plan.import_id
    result = plan.result
    idf = ID_FIELD[kind]
    derived = ("import_id", "file_row", *DERIVED_LINKS.get(kind, ()))
    data_cols = [c for c, _ in record_columns(kind) if c not in derived]
    same = " AND ".join(f't."{c}" IS NOT DISTINCT FROM n."{c}"' for c in data_cols)
    con.execute("DROP TABLE IF EXISTS existing")
    con.execute(
        f"CREATE TEMP TABLE existing AS SELECT n.{idf} AS id, ({same}) AS unchanged "
        f"FROM {kind} t JOIN incoming n ON t.jurisdiction = ? AND t.{idf} = n.{idf}",
        [jurisdiction])
    unchanged, updated = con.execute(
        "SELECT count(*) FILTER (WHERE unchanged), count(*) FILTER (WHERE NOT unchanged) "
        "FROM existing").fetchone()
    hist = history_table(kind)
    kept = [f'"{c}"' for c, _ in record_columns(kind)]
    if updated:  # the history keeps the imported columns (derived ones are worked out again)
        con.execute(f"INSERT INTO {hist} ({', '.join(kept)}, replaced_by) SELECT "
                    f"{', '.join('t.' + c for c in kept)}, ? FROM {kind} t "
                    f"WHERE t.jurisdiction = ? "
                    f"AND t.{idf} IN (SELECT id FROM existing WHERE NOT unchanged)",
                    [import_id, jurisdiction])
        con.execute(f"DELETE FROM {kind} WHERE jurisdiction = ? AND {idf} IN "
                    "(SELECT id FROM existing WHERE NOT unchanged)", [jurisdiction])
    # Named columns: a database from an earlier version may hold them in another order.
    names = ", ".join(f'"{c}"' for c, _ in table_columns(kind))
    # Calls get their category and eligibility in the same statement (no second pass).
    rows = f"({facts.derived_select('incoming')})" if kind == "calls" else "incoming"
    if unchanged:
        con.execute(f"INSERT INTO {kind} ({names}) SELECT {names} FROM {rows} WHERE {idf} "
                    "NOT IN (SELECT id FROM existing WHERE unchanged)")
    else:
        con.execute(f"INSERT INTO {kind} ({names}) SELECT {names} FROM {rows}")
    result.rows_unchanged = unchanged
    result.rows_updated = updated
    result.rows_inserted = result.records - unchanged - updated


def write_ledger(con, result, created_jurisdiction):
    summary = {"value_mappings": result.value_mappings, "notes": result.notes,
               "unit_rows": result.unit_rows, "fingerprint_merged": result.fingerprint_merged,
               "warnings": result.warnings_by_type, "reject_reasons": result.reject_reasons,
               "created_jurisdiction": created_jurisdiction,
               "crosswalk": {k: v for k, v in (result.crosswalk or {}).items()
                             if k != "call_types"} or None}
    con.execute(
        "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, "
        "'committed', NULL)",
        [result.import_id, result.kind, result.jurisdiction, result.file_name, result.sha256,
         result.profile.to_toml() if result.profile else None, result.rows_read,
         result.rows_inserted, result.rows_updated, result.rows_unchanged, result.rows_merged,
         result.rows_rejected, result.rows_warned, json.dumps(summary, default=str)])
