"""Timestamps: each mapped column's formats detected from its value shapes, parsed in SQL,
with hour 24 and date-only columns (every time at 0:00) noticed."""
from __future__ import annotations



from .. import timestamps
from ..errors import AmbiguousDates, MappingError
from .raw import NUMBERED, file_row, parsed_untrimmed, raw_expr, read_file


# Formats are detected on the first rows; values they do not parse get a detection pass of
# their own (recheck_failed_times), so a second format deep in the file is still found
# without reading every value twice.
_SAMPLE_ROWS = 25000


_SHAPE_EXAMPLES = 8  # values per shape tried beside its smallest and largest


def timestamp_formats(con, plan):
    """(formats per timestamp field, day order) for the mapped timestamp columns."""
    staged, cols, profile, file_name = plan.staged, plan.cols, plan.profile, plan.file_name
    ts_cols = [c for c in cols if c.type == "timestamp"]
    given = profile.options.get("timestamp_format")
    if given:
        fmts = tuple([given] if isinstance(given, str) else given)
        local = tuple(f for f in fmts if "%z" not in f and not f.endswith("Z"))
        utc = tuple(f for f in fmts if f not in local)
        return {c.name: timestamps.ColumnFormats(local, utc) for c in ts_cols}, None
    if not ts_cols:
        return {}, None
    con.execute("DROP TABLE IF EXISTS staged_sample")
    read_file(con, staged, "CREATE TEMP TABLE staged_sample AS SELECT * FROM staged_raw LIMIT "
          f"{_SAMPLE_ROWS}")
    shapes = {c.name: _shapes(con, c, "staged_sample") for c in ts_cols}
    order = _day_order(con, staged, ts_cols, shapes, profile, file_name)
    out = {}
    for c in ts_cols:
        out[c.name] = _formats_for(shapes[c.name], order)
        if shapes[c.name] and not (out[c.name].local or out[c.name].utc):
            raise MappingError(
                f"{file_name}: column '{c.label}' ({c.name}) holds values that are not dates and "
                f"times, e.g. {', '.join(repr(x) for x in shapes[c.name][:3])}. Map another "
                "column, or give timestamp_format under [options] (in the wizard: 'Dates and "
                "times' in step 4).")
    return out, order


def _formats_for(examples, order) -> timestamps.ColumnFormats:
    """Formats for the example values that parse; the others become row rejects."""
    try:
        return timestamps.detect(examples, order)
    except timestamps.UnparsedValues:
        ok = []
        for ex in examples:
            try:
                timestamps.detect([ex], order)
                ok.append(ex)
            except timestamps.UnparsedValues:
                pass
        return timestamps.detect(ok, order) if ok else timestamps.ColumnFormats()


def _shapes(con, col, relation) -> list[str]:
    """A few example values per shape (digits -> 9): impossible dates such as 2024-02-30 or
    a time 25:10 must not hide the format of the valid values that share their shape."""
    raw = raw_expr(col)
    rows = con.execute(
        f"SELECT min(v), max(v), arbitrary(v), list(v)[:{_SHAPE_EXAMPLES}] FROM (SELECT {raw} "
        f"AS v FROM {relation}) WHERE v IS NOT NULL GROUP BY regexp_replace(v, '[0-9]', '9', "
        "'g') ORDER BY count(*) DESC LIMIT 200").fetchall()
    return list(dict.fromkeys(v for row in rows for v in [*row[:3], *row[3]]))


def _max_date_parts(con, staged, cols, relation):
    first = second = None
    for c in cols:
        raw = raw_expr(c)
        a, b = read_file(con, staged,
                     f"SELECT max(TRY_CAST(regexp_extract(v, '^(\\d{{1,2}})[/.-]', 1) AS "
                     "INTEGER)), "
                     f"max(TRY_CAST(regexp_extract(v, '^\\d{{1,2}}[/.-](\\d{{1,2}})[/.-]', 1) AS "
                     f"INTEGER)) FROM (SELECT {raw} AS v FROM {relation})").fetchone()
        first = max(x for x in (first, a) if x is not None) if a is not None else first
        second = max(x for x in (second, b) if x is not None) if b is not None else second
    return first, second


def _day_order(con, staged, ts_cols, shapes, profile, file_name) -> str | None:
    if "dayfirst" in profile.options:
        return "dmy" if profile.options["dayfirst"] else "mdy"
    slashy = [c for c in ts_cols if timestamps.needs_day_order(shapes[c.name])]
    if not slashy:
        return None
    order = timestamps.day_order(*_max_date_parts(con, staged, slashy, "staged_sample"))
    if order is None:  # the first rows cannot tell: look at every value before asking
        order = timestamps.day_order(*_max_date_parts(con, staged, slashy, "staged_raw"))
    if order is None:
        names = ", ".join(f"'{c.label}'" for c in slashy)
        example = shapes[slashy[0].name][0]
        raise AmbiguousDates(
            f"{file_name}: every date in {names} has day and month both 12 or less (e.g. "
            f"{example!r}), so month-first and day-first both fit. Say which: dayfirst = true "
            "or false under [options] in the profile (or --dayfirst / --monthfirst).")
    profile.options["dayfirst"] = order == "dmy"  # saved with a suggested profile
    return order


def strptime_sql(raw: str, sql_type: str, fmts: list, params: list) -> str:
    """try_strptime with ``fmts``; a value with hour 24 is read again as 0:MM plus a day
    (coalesce reads the second only where the first failed, so the rest pay nothing)."""
    params += [fmts, fmts]
    return (f"coalesce(try_strptime({raw}, ?::VARCHAR[])::{sql_type}, try_strptime("
            f"regexp_replace({raw}, '{timestamps.HOUR_24_SQL}', '\\100:\\2'), "
            f"?::VARCHAR[])::{sql_type} + INTERVAL 24 HOUR)")


def hour_24_sql(raw: str, parsed: str) -> str:
    """SQL: the value was read through hour 24 (a row warning).

    A CASE, not ``contains(...) AND regexp_matches(...)``: DuckDB evaluates both sides of an
    AND in a select list for every row, and the regular expression over four timestamp columns
    (twice each, with the midnight flag) was a third of a 10-million-call import's parsing;
    a CASE runs it only on the values with "24:" in them."""
    return (f"CASE WHEN contains({raw}, '24:') THEN coalesce(regexp_matches({raw}, "
            f"'{timestamps.HOUR_24_SQL}') AND {parsed} IS NOT NULL, false) ELSE false END")


def note_midnight_only(con, plan) -> None:
    """Fields whose every time of day is 0:00: a date column mapped alone, the time lost.

    The first rows decide whether to look at all of them, so a normal file pays for a sample.
    """
    cols, tz, result = plan.cols, plan.tz, plan.result
    for c in (c for c in cols if c.type == "timestamp"):
        n, midnight = _midnight_counts(con, c, tz, f"LIMIT {_SAMPLE_ROWS}")
        if n and n == midnight and (n < _SAMPLE_ROWS
                                    or len(set(_midnight_counts(con, c, tz, ""))) == 1):
            result.midnight_only.append(c.name)
            result.notes.append(
                f"warning: every time in '{c.label}' ({c.name}) reads 0:00, so hours of the "
                "day and response times cannot be worked out; if the file has a time column, "
                f"map it beside the date ({c.name}: the date column, then the time column)")


def _midnight_counts(con, c, tz, limit: str) -> tuple[int, int]:
    """(times, times at 0:00 local) of a field over ``typed`` (``limit``: its first rows)."""
    return con.execute(
        f"SELECT count(v), count(*) FILTER (WHERE timezone(?, v)::TIME = TIME '00:00') "
        f'FROM (SELECT "{c.name}" AS v FROM typed {limit})', [tz]).fetchone()


def _ts_expr(raw: str, fmts: timestamps.ColumnFormats, params: list, tz: str) -> str:
    parts = []
    if fmts.utc:
        parts.append(strptime_sql(raw, "TIMESTAMPTZ", list(fmts.utc), params))
    if fmts.local:
        params.append(tz)
        parts.append(f"timezone(?, {strptime_sql(raw, 'TIMESTAMP', list(fmts.local), params)})")
    if not parts:
        return "NULL::TIMESTAMPTZ"
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def failed_rows(con, staged, flag: str):
    """(file_row, raw columns...) of the rows of ``typed t`` where ``flag`` holds."""
    con.execute("DROP TABLE IF EXISTS failed_rows")
    read_file(con, staged, f"CREATE TEMP TABLE failed_rows AS SELECT n.* FROM {NUMBERED} n "
          f"WHERE n.file_row IN (SELECT {file_row('t.')} FROM typed t WHERE {flag})")


def recheck_failed_times(con, plan, order):
    """Times that did not parse, read again from the file: spaces alone are a blank; with
    ``detect``, values the detected formats missed get formats of their own, parsed in place."""
    staged, cols, tz = plan.staged, plan.cols, plan.tz
    detect = "timestamp_format" not in plan.opts  # a given format is never second-guessed
    ts_cols = [c for c in cols if c.type == "timestamp"]
    if not ts_cols:
        return
    counts = con.execute("SELECT " + ", ".join(f'count(*) FILTER (WHERE "e_{c.name}")'
                                               for c in ts_cols) + " FROM typed").fetchone()
    for c, failures in zip(ts_cols, counts):
        if not failures:
            continue
        failed_rows(con, staged, f't."e_{c.name}"')
        raw = raw_expr(c, "f.")
        if parsed_untrimmed(c):
            con.execute(f'UPDATE typed SET "e_{c.name}" = false FROM failed_rows f '
                        f"WHERE {file_row('typed.')} = f.file_row AND {raw} IS NULL")
        extra = _formats_for(_shapes(con, c, "failed_rows"), order) if detect else None
        if not (extra and (extra.local or extra.utc)):
            continue
        params = []
        expr = _ts_expr(raw, extra, params, tz)
        con.execute(f'UPDATE typed SET "{c.name}" = {expr}, "e_{c.name}" = ({expr}) IS NULL '
                    f"FROM failed_rows f WHERE {file_row('typed.')} = f.file_row AND {raw} IS NOT "
                    "NULL", params + params)
