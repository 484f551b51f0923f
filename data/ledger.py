"""The imports ledger: what was imported when, and undoing an import exactly."""
from __future__ import annotations

import json

from .errors import UndoRefused
from . import crosswalk, facts
from .links import refresh_links
from .schema import IMPORT_KINDS, history_table, record_columns, table_of


def list_imports(con, jurisdiction: str | None = None) -> list[dict]:
    sql = ("SELECT import_id, kind, jurisdiction, file_name, imported_at, rows_read, "
           "rows_inserted, rows_updated, rows_unchanged, rows_merged, rows_rejected, rows_warned,"
           " status, file_sha256 FROM imports")
    params = []
    if jurisdiction:
        sql += " WHERE jurisdiction = ?"
        params.append(jurisdiction)
    cur = con.execute(sql + " ORDER BY import_id", params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def undo_import(con, import_id: int) -> dict:
    """Restore exactly the state before ``import_id``: its rows go, the rows it replaced return.

    Only the latest committed import of a jurisdiction and kind can be undone, because a later
    one may have replaced rows this one wrote.
    """
    kind, jurisdiction, summary = check_undo(con, import_id)
    con.begin()
    try:
        counts = _restore(con, kind, import_id)
        refresh_links(con, jurisdiction, kind)
        created = json.loads(summary or "{}").get("created_jurisdiction")
        if kind == "calls":  # the crosswalk rows it wrote, unless someone changed them since
            crosswalk.forget_auto_rows(con, import_id)
        if created and not _jurisdiction_in_use(con, jurisdiction):
            # The import created the jurisdiction: remove it with the crosswalk rows made for it.
            con.execute("DELETE FROM crosswalk WHERE jurisdiction = ?", [jurisdiction])
            con.execute("DELETE FROM crosswalk_auto WHERE jurisdiction = ?", [jurisdiction])
            con.execute("DELETE FROM jurisdictions WHERE jurisdiction = ?", [jurisdiction])
        if kind == "calls" or created:
            facts.refresh(con, jurisdiction)
        con.execute("DELETE FROM rejects WHERE import_id = ?", [import_id])
        con.execute("DELETE FROM row_warnings WHERE import_id = ?", [import_id])
        con.execute("UPDATE imports SET status = 'undone', undone_at = now() WHERE import_id = ?",
                    [import_id])
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return {"import_id": import_id, "kind": kind, "jurisdiction": jurisdiction, **counts}


def check_undo(con, import_id: int) -> tuple[str, str, str | None]:
    """(kind, jurisdiction, summary) of an import that can be undone; else UndoRefused."""
    row = con.execute("SELECT kind, jurisdiction, status, summary FROM imports "
                      "WHERE import_id = ?", [import_id]).fetchone()
    if row is None:
        raise UndoRefused(f"There is no import #{import_id} (see python -m data imports).")
    kind, jurisdiction, status, summary = row
    if status != "committed":
        raise UndoRefused(f"Import #{import_id} was already undone.")
    later = con.execute("SELECT min(import_id) FROM imports WHERE jurisdiction = ? AND kind = ? "
                        "AND status = 'committed' AND import_id > ?",
                        [jurisdiction, kind, import_id]).fetchone()[0]
    if later is not None:
        raise UndoRefused(f"Import #{later} of {kind} for {jurisdiction} came later and may have "
                          f"replaced rows of #{import_id}; undo #{later} first.")
    return kind, jurisdiction, summary


def _restore(con, kind, import_id):
    table, hist = table_of(kind), history_table(kind)
    cols = ", ".join(f'"{c}"' for c, _ in record_columns(kind))
    removed = con.execute(f"SELECT count(*) FROM {table} WHERE import_id = ?",
                          [import_id]).fetchone()[0]
    con.execute(f"DELETE FROM {table} WHERE import_id = ?", [import_id])
    restored = con.execute(f"SELECT count(*) FROM {hist} WHERE replaced_by = ?",
                           [import_id]).fetchone()[0]
    # Named columns; a call's derived columns are worked out again by the caller (facts).
    con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {hist} WHERE replaced_by = ?",
                [import_id])
    con.execute(f"DELETE FROM {hist} WHERE replaced_by = ?", [import_id])
    return {"rows_removed": removed, "rows_restored": restored}


def _jurisdiction_in_use(con, jurisdiction):
    return any(con.execute(f"SELECT count(*) FROM {table_of(k)} WHERE jurisdiction = ?",
                           [jurisdiction]).fetchone()[0] for k in IMPORT_KINDS)
