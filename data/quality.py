"""What the Data page reads: the ledger with undo flags, rejected rows, data-quality figures.

Every query takes ``?`` parameters; nothing from a file or a person is spliced into SQL. The
functions return plain lists of dicts so that the page, the tests and any script can use them.
"""
from __future__ import annotations

import csv
import io
import json
import re

# Zones a US jurisdiction most likely needs, listed before all the others.
COMMON_US_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
                   "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu",
                   "America/Puerto_Rico")

WARNING_LABELS = {
    "missing_time": "Main time blank (kept; left out of period views)",
    "time_placeholder": "Time 0:00 used as 'unknown time'",
    "implausible_date": "Date far outside the file's range",
    "out_of_order": "Times out of order (e.g. arrival before dispatch)",
    "hour_24": "Hour 24 read as 0:MM of the next day",
}


def jurisdictions(con) -> list[dict]:
    return _dicts(con.execute("SELECT jurisdiction, time_zone FROM jurisdictions ORDER BY 1"))


def time_zones(con) -> list[str]:
    """IANA zone names DuckDB knows (the importer checks against the same list), US ones first."""
    names = [r[0] for r in con.execute(
        "SELECT DISTINCT name FROM pg_timezone_names() WHERE name LIKE '%/%' "
        "AND name NOT LIKE 'posix/%' AND name NOT LIKE 'right/%' AND name NOT LIKE 'Etc/%' "
        "ORDER BY 1").fetchall()]
    common = [z for z in COMMON_US_ZONES if z in names]
    return common + [n for n in names if n not in common]


# --------------------------------------------------------------------------------------------
# Imports ledger
# --------------------------------------------------------------------------------------------

def import_history(con, jurisdiction: str | None = None) -> list[dict]:
    """The ledger, newest first; ``undoable`` marks the latest committed import per
    jurisdiction and kind (the only one ``undo_import`` accepts)."""
    sql = """
        SELECT import_id, imported_at, kind, jurisdiction, file_name, rows_read, rows_inserted,
               rows_updated, rows_unchanged, rows_rejected, rows_warned, status, undone_at,
               status = 'committed' AND import_id = max(import_id) FILTER (
                   WHERE status = 'committed') OVER (PARTITION BY jurisdiction, kind) AS undoable
        FROM imports WHERE (? IS NULL OR jurisdiction = ?)
        ORDER BY import_id DESC"""
    return _dicts(con.execute(sql, [jurisdiction, jurisdiction]))


def rejects_of_import(con, import_id: int) -> list[dict]:
    """Every rejected row of an import, with the whole source row as a dict."""
    rows = _dicts(con.execute(
        'SELECT file_row, "column", reason, raw_values FROM rejects WHERE import_id = ? '
        "ORDER BY file_row, \"column\"", [import_id]))
    for r in rows:
        r["raw_values"] = json.loads(r["raw_values"]) if r["raw_values"] else {}
    return rows


def rejects_csv(rows: list[dict]) -> str:
    """Rejected rows as CSV: row number, column, reason, then the file's own columns.

    Rows come from ``rejects_of_import`` (with raw_values) or a dry run's rejects_preview
    (without). Text cells that a spreadsheet would run as a formula get a leading quote.
    """
    raw_cols: list[str] = []
    for r in rows:
        for k in r.get("raw_values") or {}:
            if k not in raw_cols:
                raw_cols.append(k)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["file_row", "column", "reason"] + raw_cols)
    for r in rows:
        raw = r.get("raw_values") or {}
        w.writerow([csv_safe(v) for v in [r.get("file_row"), r.get("column"), r.get("reason")]
                    + [raw.get(c) for c in raw_cols]])
    return out.getvalue()


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def csv_safe(value):
    """OWASP CSV injection: '=1+2' -> "'=1+2"; numbers (also '-5') and other text unchanged."""
    if value is None or not isinstance(value, str):
        return value
    if value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(value):
        return "'" + value
    return value


# --------------------------------------------------------------------------------------------
# Data quality
# --------------------------------------------------------------------------------------------

def quality_by_jurisdiction(con) -> list[dict]:
    """One row per jurisdiction: unmapped call types, unknown race/ethnicity, rejected rows.

    A call's type is unmapped when neither the crosswalk nor the export gives it a category
    (the same rule as metric Q1). Unknown race/ethnicity counts blank and 'unknown'.
    """
    sql = """
        WITH c AS (
            SELECT c.jurisdiction, count(*) AS calls,
                   count(*) FILTER (WHERE cw.category IS NULL AND c.category IS NULL) AS unmapped,
                   count(DISTINCT c.call_type) FILTER (
                       WHERE cw.category IS NULL AND c.category IS NULL) AS unmapped_types
            FROM calls c LEFT JOIN crosswalk cw
              ON cw.jurisdiction = c.jurisdiction AND cw.call_type = c.call_type
            GROUP BY 1),
        r AS (
            SELECT jurisdiction, count(*) AS responses,
                   count(*) FILTER (WHERE race_ethnicity IS NULL
                                    OR race_ethnicity = 'unknown') AS race_unknown
            FROM responses GROUP BY 1),
        i AS (
            SELECT jurisdiction, count(*) AS imports, sum(rows_read) AS rows_read,
                   sum(rows_rejected) AS rows_rejected
            FROM imports WHERE status = 'committed' GROUP BY 1)
        SELECT j.jurisdiction,
               coalesce(c.calls, 0) AS calls, coalesce(c.unmapped, 0) AS calls_unmapped,
               coalesce(c.unmapped_types, 0) AS unmapped_types,
               c.unmapped / nullif(c.calls, 0) AS unmapped_share,
               coalesce(r.responses, 0) AS responses,
               coalesce(r.race_unknown, 0) AS race_unknown,
               r.race_unknown / nullif(r.responses, 0) AS race_unknown_share,
               coalesce(i.imports, 0) AS imports, coalesce(i.rows_read, 0) AS rows_read,
               coalesce(i.rows_rejected, 0) AS rows_rejected
        FROM jurisdictions j
        LEFT JOIN c USING (jurisdiction) LEFT JOIN r USING (jurisdiction)
        LEFT JOIN i USING (jurisdiction)
        ORDER BY 1"""
    return _dicts(con.execute(sql))


def warnings_by_type(con, jurisdiction: str | None = None) -> list[dict]:
    """Records with each kind of row warning, per jurisdiction and kind.

    A record warned by two imports (an export re-sent with overlapping rows) counts once.
    """
    sql = """
        SELECT jurisdiction, kind, warning, count(DISTINCT record_id) AS records
        FROM row_warnings w
        WHERE (? IS NULL OR jurisdiction = ?)
          AND EXISTS (SELECT 1 FROM imports i WHERE i.import_id = w.import_id
                      AND i.status = 'committed')
        GROUP BY ALL ORDER BY 1, 2, 3"""
    rows = _dicts(con.execute(sql, [jurisdiction, jurisdiction]))
    for r in rows:
        r["meaning"] = WARNING_LABELS.get(r["warning"], r["warning"])
    return rows


def rejects_per_import(con, jurisdiction: str | None = None) -> list[dict]:
    """Rejected rows of each committed import, with their share of the rows read."""
    sql = """
        SELECT import_id, jurisdiction, kind, file_name, rows_read, rows_rejected,
               rows_rejected / nullif(rows_read, 0) AS rejected_share
        FROM imports WHERE status = 'committed' AND (? IS NULL OR jurisdiction = ?)
        ORDER BY import_id DESC"""
    return _dicts(con.execute(sql, [jurisdiction, jurisdiction]))


def _dicts(cur) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]
