"""Population: a geography's total is its `total` row, never a sum of its groups; ACS
table exports (data/acs.py) reshaped into long rows."""
from __future__ import annotations

import json
import re
from collections import Counter

import duckdb

from .. import acs
from ..errors import ImportRefused
from ..readers import read_error
from ..schema import (record_columns)
from .raw import file_row, read_file
from .validate import MAX_REJECTED_SHARE


# Published tables round their figures: groups may add up to a little more than the total
# without overlapping. Beyond this share, some people are counted in more than one group.
_OVERLAP_TOLERANCE = 0.01


def population_totals(con, plan) -> None:
    """Total rows from a total column, then a warning when the groups overlap.

    Long-format city tables count Hispanic or Latino beside the races, so their race rows add
    up to more than the city; only a `total` row may serve as the total (README data model).
    """
    cols, result = plan.cols, plan.result
    if any(c.name == "total_population" for c in cols):
        result.records += _derive_total_rows(con, result.file_name)
    result.notes += _overlap_notes(con)


def _derive_total_rows(con, file_name) -> int:
    """``incoming`` gains one `total` row per geography that has none in the file."""
    clash = con.execute(
        'SELECT geography, list(DISTINCT "_total" ORDER BY "_total"), list(file_row ORDER BY '
        'file_row)[:3] FROM incoming WHERE "_total" IS NOT NULL GROUP BY geography, source '
        'HAVING count(DISTINCT "_total") > 1 ORDER BY min(file_row) LIMIT 3').fetchall()
    if clash:
        where = "; ".join(f"{g!r}: {', '.join(map(str, v))} (rows {', '.join(map(str, r))})"
                          for g, v, r in clash)
        raise ImportRefused(f"{file_name}: the total population differs between rows of the "
                            f"same geography ({where}). Nothing was imported.")
    con.execute("ALTER VIEW incoming RENAME TO incoming_rows")
    exprs = {"population_key": "concat_ws('|', geography, 'total', 'total', source)",
             "dimension": "'total'", "group": "'total'", "population": 'any_value("_total")',
             "moe": "NULL::BIGINT", "file_row": "min(file_row)"}
    select = ", ".join(f'{exprs.get(c, c)} AS "{c}"' for c, _ in record_columns("population"))
    con.execute(
        'CREATE TEMP VIEW incoming AS SELECT * EXCLUDE ("_total") FROM incoming_rows UNION ALL '
        f'SELECT {select} FROM incoming_rows r WHERE "_total" IS NOT NULL AND NOT EXISTS ('
        "SELECT 1 FROM incoming_rows e WHERE e.\"group\" = 'total' AND e.geography IS NOT "
        "DISTINCT FROM r.geography AND e.source IS NOT DISTINCT FROM r.source) "
        "GROUP BY jurisdiction, geography, source, import_id")
    return con.execute("SELECT count(*) FROM incoming WHERE \"group\" = 'total'").fetchone()[0] \
        - con.execute("SELECT count(*) FROM incoming_rows WHERE \"group\" = 'total'"
                      ).fetchone()[0]


def _overlap_notes(con) -> list[str]:
    n, races, total, over, no_total, hispanic = con.execute(
        "WITH g AS (SELECT geography, source, sum(population) FILTER (WHERE dimension = "
        "'race_ethnicity' AND \"group\" <> 'total') AS races, max(population) FILTER (WHERE "
        "\"group\" = 'total') AS total, bool_or(\"group\" = 'hispanic_latino') AS hispanic "
        "FROM incoming GROUP BY geography, source) "
        "SELECT count(*) FILTER (WHERE races IS NOT NULL AND total IS NOT NULL), "
        "sum(races) FILTER (WHERE total IS NOT NULL), sum(total) FILTER (WHERE races IS NOT "
        f"NULL), count(*) FILTER (WHERE races > total * (1 + {_OVERLAP_TOLERANCE})), "
        "count(*) FILTER (WHERE races IS NOT NULL AND total IS NULL), coalesce(bool_or("
        "hispanic), false) FROM g").fetchone()
    notes = []
    if n and total and races > total * (1 + _OVERLAP_TOLERANCE):
        why = ("Hispanic or Latino is counted beside the races" if hispanic else
               "some people are counted in more than one group")
        notes.append(f"warning: race rows sum to {races:,}, {races / total - 1:.1%} more than "
                     f"the total population {total:,}: {why}; totals are not summed "
                     f"({over:,} of {n:,} geographies add up to more than their total)")
    if no_total:
        notes.append(f"{no_total:,} geographies have race/ethnicity rows but no total row; "
                     "their groups are never summed into one (map a total column to "
                     "total_population, or import a total row, for shares)")
    return notes


def acs_reshape(con, staged, kind, source=None) -> acs.Reshaped | None:
    """For a data.census.gov table export, replace ``staged_raw`` by its long rows.

    None (and nothing changed) for any other file. ``staged.headers`` become the long rows'
    headers, so profiles, suggestions and the preview all see the long form; the file's own
    headers stay on the result for the rejects.
    """
    if kind != "population":
        return None
    first = read_file(con, staged, "SELECT * FROM staged_raw LIMIT 1").fetchall()
    layout = acs.detect(staged.headers, list(first[0]) if first else [], staged.file_name)
    if layout is None:
        return None
    try:
        wide = con.sql("SELECT * FROM staged_raw").to_arrow_table()
    except duckdb.Error as e:
        err = read_error(con, staged.file_name, e, len(staged.headers))
        if err is None:
            raise
        raise err from None
    shaped = acs.reshape(layout, wide.slice(1), file_name=staged.file_name, source=source)
    del wide  # the wide rows are not needed again; a national tract file is large
    if shaped.geographies == 0:
        raise ImportRefused(f"{staged.file_name} has its two header rows but no geography rows; "
                            "nothing to import.")
    if shaped.rows.num_rows == 0:
        detail = "; ".join(f"row {r.file_row}, column '{r.column}': {r.reason}"
                           for r in shaped.rejects[:3]) or "no estimate is published"
        raise ImportRefused(f"{staged.file_name}: no population row can be read ({detail}). "
                            "Nothing was imported.")
    con.execute("DROP VIEW IF EXISTS staged_raw")
    con.execute("DROP TABLE IF EXISTS staged_raw")
    con.register("_acs_long", shaped.rows)
    try:
        con.execute("CREATE TEMP TABLE staged_raw AS SELECT * FROM _acs_long")
    finally:
        con.unregister("_acs_long")
    shaped.rows = shaped.rows.slice(0, 0)  # now in staged_raw: free the Arrow copy
    staged.headers = list(acs.LONG_HEADERS)
    staged.notes += shaped.notes
    return shaped


def acs_rejects(plan) -> None:
    """The rows ``acs.reshape`` could not read, counted like the pipeline's own rejects."""
    shaped, result, opts = plan.acs, plan.result, plan.opts
    result.rows_read = shaped.geographies
    if not shaped.rejects:
        return
    rows = shaped.rejected_rows
    result.rows_rejected = len(rows)
    generic = Counter((r.column, re.sub(r"^cannot read '.*' as ", "cannot read as ", r.reason))
                      for r in shaped.rejects)
    result.reject_reasons = [{"column": c, "reason": why, "rows": n}
                             for (c, why), n in generic.most_common()]
    result.rejects_preview = [{"file_row": r.file_row, "column": r.column, "reason": r.reason}
                              for r in shaped.rejects[:20]]
    limit = opts.get("max_rejected_share", MAX_REJECTED_SHARE)
    if len(rows) > limit * shaped.geographies:
        detail = "; ".join(f"row {r.file_row}, column '{r.column}': {r.reason}"
                           for r in shaped.rejects[:3])
        raise ImportRefused(
            f"{plan.file_name}: {len(rows):,} of {shaped.geographies:,} rows would be rejected, so "
            f"the file is probably not what it seems. First problems: {detail}. Nothing was "
            "imported.", issues=[(r.file_row, r.column, r.reason) for r in shaped.rejects[:3]])


def acs_file_rows(con, source: str) -> str:
    """The records with the file row each came from (one file row gives several records)."""
    if source == "collapsed":  # its file_row is a long row's number: map it to the file's
        con.execute(f"UPDATE collapsed SET file_row = s.acs_row FROM (SELECT {file_row()} AS r, "
                    "acs_row FROM staged_raw) s WHERE collapsed.file_row = s.r")
        return source
    con.execute("DROP VIEW IF EXISTS acs_records")
    con.execute("CREATE TEMP VIEW acs_records AS SELECT t.*, s.acs_row AS file_row "
                "FROM typed t JOIN (SELECT rowid AS rid, acs_row FROM staged_raw) s "
                "ON t.rowid = s.rid")
    return "acs_records"


def write_acs_rejects(con, plan) -> None:
    shaped = plan.acs
    if not shaped.rejects:
        return
    con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
                    [[plan.import_id, r.file_row, r.column, r.reason,
                      json.dumps(r.values)]
                     for r in shaped.rejects])
