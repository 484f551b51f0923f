"""Validate: typed rows in one parallel pass (parsed values plus error flags), the rejects
with their file row, column and reason, and the row warnings."""
from __future__ import annotations

from datetime import datetime, timezone

import duckdb

from .. import timestamps
from ..errors import ImportRefused, ProfileError
from ..readers import create_csv_view, is_quoted_newline_error, read_error
from ..schema import (ID_FIELD, MAIN_TIME, TIME_ORDER)
from .detect import failed_rows, hour_24_sql, strptime_sql
from .raw import file_row, note_row_base, parsed_untrimmed, raw_expr, read_file
from .zones import fast_zones, zone_sql


MAX_REJECTED_SHARE = 0.5  # beyond this the mapping is wrong, not the rows: refuse the file


_PLAUSIBLE_MARGIN_DAYS = 90


_RANGE_SAMPLE_ROWS = 200_000  # rows the plausible range is estimated from


_LAT_LON_RANGE = {"lat": 90, "lon": 180}


def _timestamp_parts(c, raw, fmts: timestamps.ColumnFormats, inner, inner_params, outer,
                     outer_params, tz, to_utc=None):
    """Parse once into a wall-clock value (nv_) and an instant (uv_), then combine outside.

    The wall-clock value also gives the 0:00 placeholder flag without a second parse.
    """
    n = c.name
    if fmts.local:
        inner.append(f'{strptime_sql(raw, "TIMESTAMP", list(fmts.local), inner_params)} '
                     f'AS "nv_{n}"')
    else:
        inner.append(f'NULL::TIMESTAMP AS "nv_{n}"')
    if fmts.utc:
        inner.append(f'{strptime_sql(raw, "TIMESTAMPTZ", list(fmts.utc), inner_params)} '
                     f'AS "uv_{n}"')
    else:
        inner.append(f'NULL::TIMESTAMPTZ AS "uv_{n}"')
    outer_params.append(tz)
    local = to_utc(f'"nv_{n}"') if to_utc else f'timezone(?, "nv_{n}")'
    outer.append(f'coalesce("uv_{n}", {local}) AS "{n}"')
    outer.append(f'"r_{n}" IS NOT NULL AND "uv_{n}" IS NULL AND "nv_{n}" IS NULL AS "e_{n}"')
    hour_24 = hour_24_sql(f'"r_{n}"', f'coalesce("uv_{n}", "nv_{n}")')
    outer.append(f'{hour_24} AS "h_{n}"')
    # Only formats with a time of day can carry a "0:00 = unknown time" placeholder; a 24:00
    # read as the next day's 0:00 is a time the export gave, not a placeholder.
    if fmts.local and all(("%H" in f or "%I" in f) for f in fmts.local):
        outer.append(f'coalesce("nv_{n}"::TIME = TIME \'00:00:00\' AND NOT {hour_24}, false) '
                     f'AS "p_{n}"')
    else:
        outer.append(f'false AS "p_{n}"')


def _error_flag(c) -> str | None:
    """SQL over ``typed`` marking a value that cannot be read (the row is rejected)."""
    r, v = f'"r_{c.name}"', f'"{c.name}"'
    if c.type == "id":
        return f"{v} IS NULL"
    if c.type == "number":
        limit = _LAT_LON_RANGE.get(c.name)
        bound = f" OR abs({v}) > {limit}" if limit else ""
        return f"({r} IS NOT NULL AND {v} IS NULL){bound}"
    if c.type == "integer":
        return f"({r} IS NOT NULL AND {v} IS NULL) OR {v} < 0"
    return None


def build_typed(con, plan, formats):
    """typed: one row per file row, in file order (rowid + 2 = spreadsheet row number).

    Holds every parsed field, the raw text of coded fields (mapped later, on distinct values),
    ``e_<field>`` flags for values that cannot be read and ``p_<field>`` for 0:00 times.
    """
    staged, kind, cols, tz, opts = plan.staged, plan.kind, plan.cols, plan.tz, plan.opts
    inner, inner_params, outer, outer_params = [], [], [], []
    fast = fast_zones(staged)

    def to_utc(x):
        return zone_sql(con, tz, fast, True, x, "?")

    for c in cols:
        raw = raw_expr(c, trim=not parsed_untrimmed(c))
        inner.append(f'{raw} AS "r_{c.name}"')
        if c.type == "timestamp":
            _timestamp_parts(c, raw, formats[c.name], inner, inner_params, outer, outer_params,
                             tz, to_utc)
            continue
        if c.mapped:
            outer.append(f'"r_{c.name}"')
            continue
        if c.type == "number":
            inner.append(f'TRY_CAST({raw} AS DOUBLE) AS "{c.name}"')
        elif c.type == "integer":
            inner.append(f"TRY_CAST(replace({raw}, ',', '') AS BIGINT) AS \"{c.name}\"")
        else:
            inner.append(f'{raw} AS "{c.name}"')
        outer.append(f'"{c.name}"')
        flag = _error_flag(c)
        if flag:
            outer.append(f'({flag}) AS "e_{c.name}"')
    idf = ID_FIELD[kind]
    if opts.get("fingerprint_ids") and idf not in {c.name for c in cols}:
        fp = ", ".join(f"coalesce(c{i}, chr(0))" for i in range(len(staged.headers)))
        inner.append(f'md5(concat_ws(chr(31), {fp})) AS "{idf}"')
        outer.append(f'"{idf}"')
    sql = (f"CREATE TEMP TABLE typed AS SELECT {', '.join(outer)} FROM (SELECT "
           f"{', '.join(inner)} FROM staged_raw)")
    con.execute("DROP TABLE IF EXISTS typed")
    try:
        con.execute(sql, outer_params + inner_params)
    except duckdb.Error as e:
        if is_quoted_newline_error(e):
            # Values with newlines deep in the file: read again, single-threaded.
            create_csv_view(con, staged.source, staged.delimiter,
                            len(staged.headers), parallel=False)
            con.execute("DROP TABLE IF EXISTS typed")
            read_file(con, staged, sql, outer_params + inner_params)
        elif isinstance(e, duckdb.InvalidInputException) and "format" in str(e).lower() \
                and opts.get("timestamp_format"):
            raise ProfileError(f"timestamp_format {opts['timestamp_format']!r} in the profile is "
                               "not a valid format (use strftime codes such as %m/%d/%Y %H:%M)."
                               ) from None
        else:
            err = read_error(con, staged.file_name, e, len(staged.headers))
            if err is None:
                raise
            raise err from None
    note_row_base(con)


def _reject_checks(cols):
    """(flag over typed t, column, reason SQL over the failed row f) per way a row can fail."""
    out = []
    for c in cols:
        raw = raw_expr(c, "f.")
        if c.type == "id":
            out.append((f't."{c.name}" IS NULL', c, "'blank identifier'"))
        elif c.type == "timestamp":
            out.append((f't."e_{c.name}"', c,
                        f"'cannot read ''' || {raw} || ''' as a date and time'"))
        elif c.type == "bool":
            out.append((f't."r_{c.name}" IS NOT NULL AND t."r_{c.name}" IN (SELECT raw FROM '
                        f"vmap_{c.name} WHERE std IS NULL)", c,
                        f"'cannot read ''' || {raw} || ''' as yes/no (map it under "
                        f"[values.{c.name}])'"))
        elif c.type == "number":
            out.append((f't."e_{c.name}"', c, f"'cannot read ''' || {raw} || ''' as a number in "
                                              "range'"))
        elif c.type == "integer":
            out.append((f't."e_{c.name}"', c, f"'cannot read ''' || {raw} || ''' as a count (a "
                                              "whole number, not negative)'"))
    return out


def find_rejects(con, plan):
    """rej(file_row, column, field, reason): every unreadable value, read back from the file."""
    staged, cols, result, file_name = plan.staged, plan.cols, plan.result, plan.file_name
    con.execute("CREATE OR REPLACE TEMP TABLE rej (file_row BIGINT, \"column\" VARCHAR, "
                "field VARCHAR, reason VARCHAR)")
    checks = _reject_checks(cols)
    if not checks:
        return
    any_flag = " OR ".join(f"({flag})" for flag, _, _ in checks)
    if not con.execute(f"SELECT count(*) FILTER (WHERE {any_flag}) FROM typed t").fetchone()[0]:
        return
    failed_rows(con, staged, any_flag)
    for flag, c, reason in checks:
        con.execute(f"INSERT INTO rej SELECT f.file_row, ?, ?, {reason} FROM failed_rows f "
                    f"JOIN typed t ON {file_row('t.')} = f.file_row WHERE {flag}",
                    [c.label, c.name])
    rejected = con.execute("SELECT count(DISTINCT file_row) FROM rej").fetchone()[0]
    result.rows_rejected = rejected
    result.reject_reasons = [
        {"column": col, "reason": reason, "rows": n} for col, reason, n in con.execute(
            "SELECT \"column\", regexp_replace(reason, '^cannot read ''.*'' as ', "
            "'cannot read as '), count(*) FROM rej GROUP BY ALL ORDER BY 3 DESC").fetchall()]
    limit = plan.opts.get("max_rejected_share", MAX_REJECTED_SHARE)
    if rejected > limit * result.rows_read:
        examples = con.execute("SELECT file_row, \"column\", reason FROM rej ORDER BY file_row "
                               "LIMIT 3").fetchall()
        detail = "; ".join(f"row {r}, column '{c}': {why}" for r, c, why in examples)
        raise ImportRefused(
            f"{file_name}: {rejected:,} of {result.rows_read:,} rows would be rejected, so the "
            f"mapping or the formats are probably wrong. First problems: {detail}. Nothing was "
            "imported.", issues=examples)
    result.rejects_preview = [
        {"file_row": r, "column": c, "reason": why}
        for r, c, why in con.execute("SELECT file_row, \"column\", reason FROM rej "
                                     "ORDER BY file_row LIMIT 20").fetchall()]
    con.execute(f"DELETE FROM typed WHERE {file_row()} IN (SELECT file_row FROM rej)")


def write_rejects(con, plan):
    staged, result = plan.staged, plan.result
    if not result.rows_rejected:
        return
    headers = _dedupe_keys([h or f"column {i + 1}" for i, h in enumerate(staged.headers)])
    pairs = ", ".join(f"?, f.c{i}" for i in range(len(staged.headers)))
    con.execute(
        f"INSERT INTO rejects SELECT ?, r.file_row, r.\"column\", r.reason, "
        f"json_object({pairs})::VARCHAR FROM rej r JOIN failed_rows f USING (file_row)",
        [result.import_id] + headers)


def _dedupe_keys(headers):
    seen, out = {}, []
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


def collect_warnings(con, plan):
    """row_warnings: every warning of every kept row, found in one pass over the records."""
    kind, cols, result, source = plan.kind, plan.cols, plan.result, plan.source
    jurisdiction, import_id = plan.jurisdiction, plan.import_id
    idf = ID_FIELD[kind]
    labels = {c.name: c.label for c in cols}
    main = MAIN_TIME[kind]
    ts = [c for c in cols if c.type == "timestamp"]
    row = file_row() if source == "typed" else "file_row"
    # Each check is an item of a row's list of warnings and a term of the scan's WHERE.
    items, item_params, hits, hit_params = [], [], [], []

    def check(cond, label, warning, value="NULL", cond_params=()):
        hit = f"coalesce({cond}, false)"
        items.append(f"{{'col': ?::VARCHAR, 'warning': ?::VARCHAR, 'value': {value}, "
                     f"'hit': {hit}}}")
        item_params.extend([label, warning, *cond_params])
        hits.append(hit)
        hit_params.extend(cond_params)

    if main:  # a file without the main time column misses it on every row
        check(f'"{main}" IS NULL' if main in labels else "true", labels.get(main, main),
              "missing_time")
    for c in ts:
        # A time of exactly 0:00 is how several exports write "time unknown".
        check(f'"p_{c.name}"', c.label, "time_placeholder", f'"{c.name}"::VARCHAR')
        check(f'"h_{c.name}"', c.label, "hour_24", f'"{c.name}"::VARCHAR')
    if main in labels:
        # The file's own range, robust to a few stray values: the median plus or minus four
        # median absolute deviations and a margin (a 2005 date in a 2024 file stands out).
        # Over a large file, every k-th row is as good and a fraction of the sort: the bounds
        # carry a margin of months, and the same file always gives the same rows.
        step = result.records // _RANGE_SAMPLE_ROWS if source in ("typed", "collapsed") else 0
        sample, sample_params = ((f"WHERE ({file_row()} - 2) % ? = 0", [step]) if step > 1
                                 else ("", []))
        lo, hi = con.execute(
            f"SELECT m - 4 * d - INTERVAL {_PLAUSIBLE_MARGIN_DAYS} DAY, "
            f"m + 4 * d + INTERVAL {_PLAUSIBLE_MARGIN_DAYS} DAY FROM "
            f"(SELECT median({main}) AS m, mad({main}) AS d FROM {source} {sample})",
            sample_params).fetchone()
        if lo is not None:
            hi = min(hi, datetime.now(timezone.utc))
            for c in ts:
                check(f'("{c.name}" < ? OR "{c.name}" > ?)', c.label, "implausible_date",
                      f'"{c.name}"::VARCHAR', (lo, hi))
    order = [n for n in TIME_ORDER[kind] if n in labels]
    for j in range(1, len(order)):
        latest = f"greatest({', '.join(order[:j])})" if j > 1 else order[0]
        check(f"{order[j]} < {latest}", labels[order[j]], "out_of_order",
              f"{order[j]}::VARCHAR")
    if items:
        # One scan: each row's list of the warnings it has, unnested; most rows have none
        # and are passed over by the WHERE.
        con.execute(
            f"INSERT INTO row_warnings SELECT ?, ?, ?, id, file_row, w.col, w.warning, w.value "
            f"FROM (SELECT {idf} AS id, {row} AS file_row, unnest(list_filter([{', '.join(items)}"
            f"], lambda x: x.hit)) AS w FROM {source} WHERE {' OR '.join(hits)})",
            [import_id, kind, jurisdiction] + item_params + hit_params)
    rows = con.execute("SELECT warning, count(*) FROM row_warnings WHERE import_id = ? GROUP BY 1",
                       [import_id]).fetchall()
    result.warnings_by_type = dict(rows)
    result.rows_warned = con.execute("SELECT count(DISTINCT file_row) FROM row_warnings "
                                     "WHERE import_id = ?", [import_id]).fetchone()[0]
