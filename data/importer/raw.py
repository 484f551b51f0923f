"""The staged file as raw text: its mapped columns (positional only, so no header ever
reaches SQL), reading it with reader errors as sentences, the rows numbered as a spreadsheet
shows them."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from .. import timestamps
from ..readers import read_error


@dataclass
class Column:
    """A mapped field: its source positions and the header label used in messages."""

    name: str
    type: str
    positions: list[int]
    label: str
    value_set: str | None = None
    mapped: bool = False  # coded, yes/no or value-mapped text: kept raw, mapped on distinct values
    x_marks: bool = False  # a yes/no column of X marks, where blank means no


def read_file(con, staged, sql, params=None):
    """Run a query that reads the file, turning reader errors into sentences."""
    try:
        return con.execute(sql, params or [])
    except duckdb.Error as e:
        err = read_error(con, staged.file_name, e, len(staged.headers))
        if err is None:
            raise
        raise err from None


def _trimmed(value: str) -> str:
    """The value without surrounding spaces, '' as NULL. trim() is the slow part of reading a
    file (it copies every value); most values have no space to trim, so they skip it."""
    return (f"nullif(CASE WHEN starts_with({value}, ' ') OR ends_with({value}, ' ') "
            f"THEN trim({value}) ELSE {value} END, '')")


def parsed_untrimmed(col: Column) -> bool:
    """A time read from one column is parsed untrimmed: strptime skips surrounding spaces
    itself, and leaving out the trim takes a sixth off reading a large file. A value of
    spaces alone then fails to parse; recheck_failed_times makes it the blank it is."""
    return col.type == "timestamp" and len(col.positions) == 1


def raw_expr(col: Column, prefix: str = "", trim: bool = True) -> str:
    if not trim:
        return f"{prefix}c{col.positions[0]}"
    parts = [_trimmed(f"{prefix}c{i}") for i in col.positions]
    if col.type == "list":
        if len(parts) == 1:
            return (f"list_filter(list_transform(string_split_regex({parts[0]}, '[;|]'), "
                    "lambda x: trim(x)), lambda x: x <> '')")
        return f"list_filter([{', '.join(parts)}], lambda x: x IS NOT NULL)"
    if len(parts) == 1:
        return parts[0]
    if col.type == "timestamp" and len(parts) == 2:  # a date column and a time column
        return timestamps.pair_sql(*parts)
    sep = "' '" if col.type == "timestamp" else "', '"
    return f"nullif(concat_ws({sep}, {', '.join(parts)}), '')"


# A row's number in the file from its rowid in ``typed`` (or another table the import made):
# rowids count from 0 when the table was made outside a transaction, from a large constant
# inside one (an import in a transaction its caller holds, import_held); build_typed notes
# the first rowid, so the number is the same either way.
ROW_BASE = "getvariable('a911_row_base')"


def file_row(alias: str = "") -> str:
    """SQL: the spreadsheet row number (header = 1) of a row of ``typed`` (alias ``alias``)."""
    return f"({alias}rowid - {ROW_BASE} + 2)"


def note_row_base(con, table: str = "typed") -> None:
    con.execute(f"SET VARIABLE a911_row_base = (SELECT coalesce(min(rowid), 0) FROM {table})")


# The staged rows numbered as a spreadsheet shows them. Numbering forces an ordered read, so it
# is used only to fetch the few rows that failed (reasons, raw values, re-parsing).
NUMBERED = "(SELECT (row_number() OVER () + 1)::BIGINT AS file_row, * FROM staged_raw)"
