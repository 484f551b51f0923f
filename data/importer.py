"""The import pipeline: read -> map -> validate -> stage -> commit, in one transaction.

Every step runs in DuckDB over the staged text table; Python only handles headers, formats and
the distinct values of coded columns. Either the whole import commits or nothing does; the
database is never left half-written, and a killed process rolls back on the next open.
"""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from . import timestamps, values
from .errors import AmbiguousDates, DataError, ImportRefused, MappingError, ProfileError
from .profiles import (Profile, header_signature, load_profile, normalise_value,
                       resolve_columns, suggest, suggested_profile)
from .readers import sha256_of, stage_file
from .schema import (FIELDS, ID_FIELD, KINDS, MAIN_TIME, TIME_ORDER, history_table,
                     record_columns)

MAX_REJECTED_SHARE = 0.5  # beyond this the mapping is wrong, not the rows: refuse the file
_PLAUSIBLE_MARGIN_DAYS = 90


@dataclass
class ImportResult:
    kind: str
    jurisdiction: str
    file_name: str
    sha256: str
    status: str  # committed | dry_run | already_imported
    import_id: int | None = None
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_merged: int = 0
    rows_rejected: int = 0
    rows_warned: int = 0
    records: int = 0
    unit_rows: tuple[int, int] | None = None  # (rows, calls) when unit rows were collapsed
    fingerprint_merged: int | None = None
    value_mappings: list[dict] = field(default_factory=list)
    warnings_by_type: dict[str, int] = field(default_factory=dict)
    reject_reasons: list[dict] = field(default_factory=list)
    rejects_preview: list[dict] = field(default_factory=list)
    profile: Profile | None = None
    profile_source: str | None = None  # given | stored | suggested
    profile_path: str | None = None
    notes: list[str] = field(default_factory=list)
    previous_import: int | None = None

    def summary_lines(self) -> list[str]:
        if self.status == "already_imported":
            return [f"{self.file_name} was already imported as import #{self.previous_import} "
                    f"for {self.jurisdiction} ({self.kind}); nothing changed."]
        verb = "Would import" if self.status == "dry_run" else f"Import #{self.import_id}:"
        lines = [f"{verb} {self.file_name} as {self.kind} for {self.jurisdiction}",
                 f"  rows read {self.rows_read:,}; inserted {self.rows_inserted:,}; "
                 f"updated {self.rows_updated:,}; unchanged {self.rows_unchanged:,}; "
                 f"merged {self.rows_merged:,}; rejected {self.rows_rejected:,}; "
                 f"with warnings {self.rows_warned:,}"]
        if self.unit_rows:
            lines.append(f"  unit rows: {self.unit_rows[0]:,} rows became {self.unit_rows[1]:,} "
                         f"calls")
        if self.fingerprint_merged is not None:
            lines.append(f"  row fingerprints used as identifiers; {self.fingerprint_merged:,} "
                         "identical rows merged")
        for w, n in sorted(self.warnings_by_type.items()):
            lines.append(f"  warning {w}: {n:,}")
        for r in self.reject_reasons[:10]:
            lines.append(f"  rejected {r['rows']:,} row(s): {r['column']}: {r['reason']}")
        unrecognised = [m for m in self.value_mappings if m["how"] == "not recognised"]
        for m in unrecognised[:10]:
            lines.append(f"  value not recognised in {m['field']}: {m['raw']!r} -> {m['code']} "
                         f"({m['rows']:,} rows); map it under [values.{m['field']}]")
        lines += [f"  note: {n}" for n in self.notes]
        return lines


@dataclass
class _Column:
    """A mapped field: its source positions and the header label used in messages."""

    name: str
    type: str
    positions: list[int]
    label: str
    value_set: str | None = None


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------

def preview(con, path, *, kind: str, file_name: str | None = None, work_dir=None,
            limit: int = 20, encoding: str | None = None, sheet=None):
    """Headers, suggestions and the first rows of a file, without writing anything."""
    _check_kind(kind)
    try:
        staged = stage_file(con, path, file_name=file_name, work_dir=_work_dir(con, work_dir),
                            encoding=encoding, sheet=sheet)
        cols = ", ".join(f"c{i}" for i in range(len(staged.headers)))
        rows = con.execute(f"SELECT {cols} FROM staged_raw ORDER BY file_row LIMIT ?",
                           [limit]).fetchall()
        return {"headers": staged.headers, "rows": rows, "row_count": staged.rows,
                "suggestions": suggest(kind, staged.headers), "format": staged.format,
                "encoding": staged.encoding, "delimiter": staged.delimiter}
    finally:
        _drop_temporaries(con)


def import_file(con, path, *, kind: str, jurisdiction: str, profile: Profile | str | Path | None
                = None, file_name: str | None = None, dry_run: bool = False, work_dir=None,
                profile_dir=None, timezone_name: str | None = None, progress=None
                ) -> ImportResult:
    """Import one export. Raises a DataError subclass (nothing written) or returns the summary."""
    _check_kind(kind)
    jurisdiction = (jurisdiction or "").strip()
    if not jurisdiction:
        raise DataError("Say which jurisdiction the file belongs to (--jurisdiction NAME); "
                        "it is never read from the file.")
    file_name = file_name or Path(path).name
    report = progress or (lambda step, frac: None)
    if isinstance(profile, (str, Path)):
        profile = load_profile(profile)
    if profile is not None and profile.kind != kind:
        raise MappingError(f"The profile is for {profile.kind}, but the file is being imported "
                           f"as {kind}.")
    sha = sha256_of(path) if Path(path).exists() else ""
    prior = con.execute("SELECT import_id FROM imports WHERE file_sha256 = ? AND jurisdiction = ?"
                        " AND kind = ? AND status = 'committed'", [sha, jurisdiction, kind]
                        ).fetchone()
    if prior and sha:
        return ImportResult(kind, jurisdiction, file_name, sha, "already_imported",
                            previous_import=prior[0])
    opts = profile.options if profile else {}
    report("reading", 0.05)
    try:
        # Staging only fills temp tables of this connection (never the database file), so it
        # runs before the transaction: a failed parallel read can then be retried.
        staged = stage_file(con, path, file_name=file_name, work_dir=_work_dir(con, work_dir),
                            sheet=opts.get("sheet"), encoding=opts.get("encoding"))
        con.begin()
        try:
            result = _run(con, staged, kind, jurisdiction, profile, file_name, profile_dir,
                          timezone_name, report, dry_run)
            if dry_run:
                con.rollback()
            else:
                con.commit()
        except BaseException:
            con.rollback()
            raise
    finally:
        _drop_temporaries(con)
    if not dry_run and result.profile_source == "suggested" and profile_dir is not None:
        result.profile_path = str(save_profile(result.profile, jurisdiction, profile_dir))
    report("done", 1.0)
    return result


def save_profile(profile: Profile, jurisdiction: str, profile_dir) -> Path:
    """Store a confirmed profile so the next export with the same headers reuses it."""
    profile_dir = Path(profile_dir)
    profile_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(ch if ch.isalnum() else "-" for ch in jurisdiction.lower()).strip("-")
    path = profile_dir / f"{safe}-{profile.kind}-{header_signature(profile.headers or [])}.toml"
    path.write_text(profile.to_toml(), encoding="utf-8")
    return path


def find_stored_profile(profile_dir, kind: str, headers: list[str]) -> Path | None:
    if profile_dir is None or not Path(profile_dir).is_dir():
        return None
    sig = header_signature(headers)
    for p in sorted(Path(profile_dir).glob(f"*-{kind}-{sig}.toml")):
        return p
    return None


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------

def _drop_temporaries(con) -> None:
    """Free the staging tables at once: the dashboard's connection lives for a long time."""
    for name, kind in con.execute("SELECT table_name, table_type FROM information_schema.tables "
                                  "WHERE table_catalog = 'temp'").fetchall():
        con.execute(f'DROP {"VIEW" if kind == "VIEW" else "TABLE"} IF EXISTS temp."{name}"')


def _run(con, staged, kind, jurisdiction, profile, file_name, profile_dir, tz_name,
         report, dry_run) -> ImportResult:
    if staged.rows == 0:
        raise ImportRefused(f"{file_name} has a header but no data rows; nothing to import.")
    profile, source = _choose_profile(profile, kind, staged.headers, file_name, profile_dir)
    opts = profile.options
    positions = resolve_columns(profile, staged.headers, file_name)
    cols = _columns(kind, positions, staged.headers)
    tz, created = _jurisdiction_zone(con, jurisdiction, tz_name or opts.get("timezone"))
    import_id = con.execute("SELECT nextval('import_seq')").fetchone()[0]
    result = ImportResult(kind, jurisdiction, file_name, staged.sha256,
                          "dry_run" if dry_run else "committed", import_id=import_id,
                          rows_read=staged.rows, profile=profile, profile_source=source,
                          notes=list(staged.notes))
    if created:
        result.notes.append(f"new jurisdiction '{jurisdiction}' (time zone {tz})")
    report("detecting formats", 0.2)
    formats, order = _timestamp_formats(con, cols, profile, file_name)
    report("mapping values", 0.3)
    result.value_mappings = _value_tables(con, cols, profile)
    report("validating", 0.4)
    _build_typed(con, kind, cols, formats, tz, opts)
    if "timestamp_format" not in opts:
        _reparse_failures(con, cols, formats, order, tz)
    _collect_rejects(con, cols, staged, result, opts, file_name)
    con.execute("DROP TABLE staged_raw")  # free the text copy before building records
    report("collapsing", 0.6)
    _build_records(con, kind, cols, jurisdiction, import_id, tz, opts, result, file_name)
    _collect_warnings(con, kind, cols, jurisdiction, import_id, result)
    report("writing", 0.8)
    _merge(con, kind, jurisdiction, import_id, result)
    _write_ledger(con, result, created)
    return result


def _check_kind(kind):
    if kind not in KINDS:
        raise DataError(f"Unknown kind '{kind}': use one of {', '.join(KINDS)}.")


def _work_dir(con, work_dir):
    if work_dir is not None:
        return Path(work_dir)
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                     ).fetchone()[0]
    return (Path(db).resolve().parent if db else Path.cwd()) / ".staging"


def _choose_profile(profile, kind, headers, file_name, profile_dir):
    if profile is not None:
        return profile, "given"
    stored = find_stored_profile(profile_dir, kind, headers)
    if stored:
        return load_profile(stored), "stored"
    prof = suggested_profile(kind, headers)
    sugg = suggest(kind, headers)
    weak = [f.name for f in FIELDS[kind] if f.required
            and (f.name not in sugg or sugg[f.name].confidence < 0.9)]
    if weak:
        raise MappingError(
            f"{file_name}: no saved profile matches these headers, and the required field(s) "
            f"{', '.join(weak)} could not be matched with confidence. Write a profile "
            f"(python -m data suggest {file_name} --kind {kind} prints a draft) and pass it "
            "with --profile.")
    return prof, "suggested"


def _columns(kind, positions, headers) -> list[_Column]:
    cols = []
    for f in FIELDS[kind]:
        if f.name in positions:
            pos = positions[f.name]
            cols.append(_Column(f.name, f.type, pos, " + ".join(headers[i] for i in pos),
                                f.value_set))
    return cols


def _jurisdiction_zone(con, jurisdiction, tz_name):
    row = con.execute("SELECT time_zone FROM jurisdictions WHERE jurisdiction = ?",
                      [jurisdiction]).fetchone()
    if tz_name:
        if not con.execute("SELECT count(*) FROM pg_timezone_names() WHERE name = ?",
                           [tz_name]).fetchone()[0]:
            raise DataError(f"Unknown time zone '{tz_name}': use a name such as "
                            "America/Los_Angeles.")
    if row:
        return row[0], False
    if not tz_name:
        raise DataError(f"Jurisdiction '{jurisdiction}' is new: give its time zone "
                        "(--timezone America/Chicago, or timezone under [options] in the profile).")
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone) VALUES (?, ?)",
                [jurisdiction, tz_name])
    return tz_name, True


# --------------------------------------------------------------------------------------------
# Raw text expressions (positional columns only: no header ever reaches SQL)
# --------------------------------------------------------------------------------------------

def _raw_expr(col: _Column) -> str:
    parts = [f"nullif(trim(c{i}), '')" for i in col.positions]
    if col.type == "list":
        if len(parts) == 1:
            return (f"list_filter(list_transform(string_split_regex({parts[0]}, '[;|]'), "
                    "lambda x: trim(x)), lambda x: x <> '')")
        return f"list_filter([{', '.join(parts)}], lambda x: x IS NOT NULL)"
    if len(parts) == 1:
        return parts[0]
    sep = "' '" if col.type == "timestamp" else "', '"
    return f"nullif(concat_ws({sep}, {', '.join(parts)}), '')"


# --------------------------------------------------------------------------------------------
# Timestamps
# --------------------------------------------------------------------------------------------

# Shapes are read from the first rows plus a seeded random sample; rows the chosen formats do
# not parse get a second detection pass of their own (see _reparse_failures), so a format seen
# once in a million rows is still found without scanning every value twice.
_SAMPLE = "staged_sample"


def _make_sample(con) -> None:
    con.execute("DROP TABLE IF EXISTS staged_sample")
    con.execute("CREATE TEMP TABLE staged_sample AS SELECT * FROM staged_raw WHERE file_row <= "
                "5001 UNION ALL SELECT * FROM staged_raw USING SAMPLE reservoir(20000 ROWS) "
                "REPEATABLE (7)")


def _timestamp_formats(con, cols, profile, file_name):
    """(formats per timestamp field, day order) for the mapped timestamp columns."""
    ts_cols = [c for c in cols if c.type == "timestamp"]
    given = profile.options.get("timestamp_format")
    if given:
        fmts = tuple([given] if isinstance(given, str) else given)
        local = tuple(f for f in fmts if "%z" not in f and not f.endswith("Z"))
        utc = tuple(f for f in fmts if f not in local)
        return {c.name: timestamps.ColumnFormats(local, utc) for c in ts_cols}, None
    if ts_cols:
        _make_sample(con)
    shapes = {c.name: _shapes(con, c, _SAMPLE) for c in ts_cols}
    order = _day_order(con, ts_cols, shapes, profile, file_name)
    out = {}
    for c in ts_cols:
        out[c.name] = _formats_for(shapes[c.name], order)
        if shapes[c.name] and not (out[c.name].local or out[c.name].utc):
            raise MappingError(
                f"{file_name}: column '{c.label}' ({c.name}) holds values that are not dates and "
                f"times, e.g. {', '.join(repr(x) for x in shapes[c.name][:3])}. Map another "
                "column, or give timestamp_format under [options].")
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


def _shapes(con, col, relation="staged_raw") -> list[str]:
    """Up to three example values per shape (digits -> 9): one impossible date such as
    2024-02-30 must not hide the format of the valid values that share its shape."""
    raw = _raw_expr(col)
    rows = con.execute(
        f"SELECT min(v), max(v), arbitrary(v) FROM (SELECT {raw} AS v FROM {relation}) "
        "WHERE v IS NOT NULL GROUP BY regexp_replace(v, '[0-9]', '9', 'g') "
        "ORDER BY count(*) DESC LIMIT 200").fetchall()
    return list(dict.fromkeys(v for row in rows for v in row))


def _max_date_parts(con, cols, relation):
    first = second = None
    for c in cols:
        raw = _raw_expr(c)
        a, b = con.execute(
            f"SELECT max(TRY_CAST(regexp_extract(v, '^(\\d{{1,2}})[/.-]', 1) AS INTEGER)), "
            f"max(TRY_CAST(regexp_extract(v, '^\\d{{1,2}}[/.-](\\d{{1,2}})[/.-]', 1) AS INTEGER)) "
            f"FROM (SELECT {raw} AS v FROM {relation})").fetchone()
        first = max(x for x in (first, a) if x is not None) if a is not None else first
        second = max(x for x in (second, b) if x is not None) if b is not None else second
    return first, second


def _day_order(con, ts_cols, shapes, profile, file_name) -> str | None:
    if "dayfirst" in profile.options:
        return "dmy" if profile.options["dayfirst"] else "mdy"
    slashy = [c for c in ts_cols if timestamps.needs_day_order(shapes[c.name])]
    if not slashy:
        return None
    order = timestamps.day_order(*_max_date_parts(con, slashy, _SAMPLE))
    if order is None:  # the sample cannot tell: look at every value before asking
        order = timestamps.day_order(*_max_date_parts(con, slashy, "staged_raw"))
    if order is None:
        names = ", ".join(f"'{c.label}'" for c in slashy)
        example = shapes[slashy[0].name][0]
        raise AmbiguousDates(
            f"{file_name}: every date in {names} has day and month both 12 or less (e.g. "
            f"{example!r}), so month-first and day-first both fit. Say which: dayfirst = true "
            "or false under [options] in the profile (or --dayfirst / --monthfirst).")
    return order


def _ts_expr(raw: str, fmts: timestamps.ColumnFormats, params: list, tz: str) -> str:
    parts = []
    if fmts.utc:
        params.append(list(fmts.utc))
        parts.append(f"try_strptime({raw}, ?::VARCHAR[])::TIMESTAMPTZ")
    if fmts.local:
        params += [tz, list(fmts.local)]
        parts.append(f"timezone(?, try_strptime({raw}, ?::VARCHAR[])::TIMESTAMP)")
    if not parts:
        return "NULL::TIMESTAMPTZ"
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def _reparse_failures(con, cols, formats, order, tz):
    """Values the sampled formats missed: detect their own formats and parse them in place."""
    ts_cols = [c for c in cols if c.type == "timestamp"]
    if not ts_cols or order == "given":
        return
    counts = con.execute("SELECT " + ", ".join(f'count(*) FILTER (WHERE "e_{c.name}")'
                                               for c in ts_cols) + " FROM typed").fetchone()
    for c, failures in zip(ts_cols, counts):
        if not failures:
            continue
        raw = _qualify(_raw_expr(c))
        failing = f"(SELECT s.* FROM staged_raw s JOIN typed t USING (file_row) WHERE t.\"e_{c.name}\")"
        extra = _formats_for(_shapes(con, c, failing), order)
        if not (extra.local or extra.utc):
            continue
        params = []
        expr = _ts_expr(raw, extra, params, tz)
        con.execute(f'UPDATE typed SET "{c.name}" = {expr}, "e_{c.name}" = ({expr}) IS NULL '
                    f'FROM staged_raw s WHERE typed.file_row = s.file_row AND typed."e_{c.name}"',
                    params + params)


# --------------------------------------------------------------------------------------------
# Coded values, booleans and text replacements: mapped on distinct values
# --------------------------------------------------------------------------------------------

def _value_tables(con, cols, profile) -> list[dict]:
    mappings = []
    for c in cols:
        pmap = profile.value_map(c.name)
        if c.type not in ("code", "bool") and not (c.type == "text" and pmap):
            continue
        raw = _raw_expr(c)
        distinct = con.execute(f"SELECT v, count(*) FROM (SELECT {raw} AS v FROM staged_raw) "
                               "WHERE v IS NOT NULL GROUP BY v").fetchall()
        # A column holding only 'X' marks means blank = no.
        c.x_marks = bool(distinct) and {normalise_value(v) for v, _ in distinct} <= {"x"}
        c.mapped = True
        rows = []
        for raw_value, n in distinct:
            if c.type == "code":
                std, how = values.standard_code(c.value_set, raw_value, pmap)
            elif c.type == "bool":
                b, how = values.boolean(raw_value, pmap, c.x_marks)
                std = None if b is None else str(b).lower()
            else:
                std, how = values.text_replacement(raw_value, pmap), "profile"
            rows.append((raw_value, std, how))
            mappings.append({"field": c.name, "raw": raw_value, "code": std, "how": how,
                             "rows": n})
        con.execute(f"DROP TABLE IF EXISTS vmap_{c.name}")
        con.execute(f"CREATE TEMP TABLE vmap_{c.name} (raw VARCHAR, std VARCHAR, how VARCHAR)")
        if rows:
            con.executemany(f"INSERT INTO vmap_{c.name} VALUES (?, ?, ?)", rows)
    mappings.sort(key=lambda m: (m["field"], -m["rows"]))
    return mappings


# --------------------------------------------------------------------------------------------
# Typed rows: parsed values plus one error flag per field that can fail
# --------------------------------------------------------------------------------------------

_LAT_LON_RANGE = {"lat": 90, "lon": 180}


def _parsed_expr(c, raw) -> str:
    if getattr(c, "mapped", False):
        std = f"vmap_{c.name}.std"
        if c.type == "bool":
            blank = "false" if c.x_marks else "NULL"
            return f"CASE WHEN {raw} IS NULL THEN {blank} ELSE {std}::BOOLEAN END"
        return std
    if c.type == "number":
        return f"TRY_CAST({raw} AS DOUBLE)"
    if c.type == "integer":
        return f"TRY_CAST(replace({raw}, ',', '') AS BIGINT)"
    return raw


def _timestamp_parts(c, raw, fmts: timestamps.ColumnFormats, inner, inner_params, outer,
                     outer_params, tz):
    """Parse once into a wall-clock value (nv_) and an instant (uv_), then combine outside.

    The wall-clock value also gives the 0:00 placeholder flag without a second parse.
    """
    n = c.name
    if fmts.local:
        inner_params.append(list(fmts.local))
        inner.append(f'try_strptime({raw}, ?::VARCHAR[])::TIMESTAMP AS "nv_{n}"')
    else:
        inner.append(f'NULL::TIMESTAMP AS "nv_{n}"')
    if fmts.utc:
        inner_params.append(list(fmts.utc))
        inner.append(f'try_strptime({raw}, ?::VARCHAR[])::TIMESTAMPTZ AS "uv_{n}"')
    else:
        inner.append(f'NULL::TIMESTAMPTZ AS "uv_{n}"')
    outer_params.append(tz)
    outer.append(f'coalesce("uv_{n}", timezone(?, "nv_{n}")) AS "{n}"')
    outer.append(f'"r_{n}" IS NOT NULL AND "uv_{n}" IS NULL AND "nv_{n}" IS NULL AS "e_{n}"')
    # Only formats with a time of day can carry a "0:00 = unknown time" placeholder.
    if fmts.local and all(("%H" in f or "%I" in f) for f in fmts.local):
        outer.append(f'coalesce("nv_{n}"::TIME = TIME \'00:00:00\', false) AS "p_{n}"')
    else:
        outer.append(f'false AS "p_{n}"')


def _error_flag(c) -> str | None:
    r, v = f'"r_{c.name}"', f'"{c.name}"'
    if c.type == "id":
        return f"{v} IS NULL"
    if c.type == "timestamp":
        return f'"e_{c.name}"'  # computed with the parse, see _timestamp_parts
    if c.type == "bool":
        return f"{r} IS NOT NULL AND {v} IS NULL"
    if c.type == "number":
        limit = _LAT_LON_RANGE.get(c.name)
        bound = f" OR abs({v}) > {limit}" if limit else ""
        return f"({r} IS NOT NULL AND {v} IS NULL){bound}"
    if c.type == "integer":
        return f"({r} IS NOT NULL AND {v} IS NULL) OR {v} < 0"
    return None


def _reason_sql(c, raw) -> str:
    if c.type == "id":
        return "'blank identifier'"
    what = {"timestamp": "a date and time", "bool": f"yes/no (map it under [values.{c.name}])",
            "number": "a number in range", "integer": "a count (a whole number, not negative)"}
    return f"'cannot read ''' || {raw} || ''' as {what[c.type]}'"


def _build_typed(con, kind, cols, formats, tz, opts):
    """typed: file_row, every parsed field, raw text of coded fields, and flags.

    ``e_<field>`` marks a value that cannot be read (the row will be rejected) and ``p_<field>``
    a 0:00 placeholder time (a warning). Raw text is not kept for other fields, to halve memory.
    """
    inner, inner_params, joins = ["s.file_row"], [], []
    outer, outer_params = ["file_row"], []
    for c in cols:
        raw = _qualify(_raw_expr(c))
        inner.append(f'{raw} AS "r_{c.name}"')
        if c.type == "timestamp":
            _timestamp_parts(c, raw, formats[c.name], inner, inner_params, outer, outer_params,
                             tz)
            continue
        inner.append(f'{_parsed_expr(c, raw)} AS "{c.name}"')
        if getattr(c, "mapped", False):
            joins.append(f"LEFT JOIN vmap_{c.name} ON vmap_{c.name}.raw = {raw}")
        outer.append(f'"{c.name}"')
        if c.type == "code":
            outer.append(f'"r_{c.name}"')
        flag = _error_flag(c)
        if flag:
            outer.append(f'({flag}) AS "e_{c.name}"')
    idf = ID_FIELD[kind]
    if opts.get("fingerprint_ids") and idf not in {c.name for c in cols}:
        n = con.execute("SELECT count(*) FROM (DESCRIBE staged_raw)").fetchone()[0] - 1
        fp = ", ".join(f"coalesce(s.c{i}, chr(0))" for i in range(n))
        inner.append(f'md5(concat_ws(chr(31), {fp})) AS "{idf}"')
        outer.append(f'"{idf}"')
    con.execute("DROP TABLE IF EXISTS typed")
    try:
        con.execute(f"CREATE TEMP TABLE typed AS SELECT {', '.join(outer)} FROM (SELECT "
                    f"{', '.join(inner)} FROM staged_raw s {' '.join(joins)})",
                    outer_params + inner_params)
    except duckdb.InvalidInputException as e:
        if "format" in str(e).lower() and opts.get("timestamp_format"):
            raise ProfileError(f"timestamp_format {opts['timestamp_format']!r} in the profile is "
                               "not a valid format (use strftime codes such as %m/%d/%Y %H:%M)."
                               ) from None
        raise


def _qualify(expr: str) -> str:
    return re.sub(r"\bc(\d+)\b", r"s.c\1", expr)


# --------------------------------------------------------------------------------------------
# Rejects
# --------------------------------------------------------------------------------------------

def _collect_rejects(con, cols, staged, result, opts, file_name):
    con.execute("DROP TABLE IF EXISTS rej")
    con.execute("CREATE TEMP TABLE rej (file_row BIGINT, \"column\" VARCHAR, field VARCHAR, "
                "reason VARCHAR)")
    flagged = [c for c in cols if _error_flag(c)]
    if flagged:
        any_flag = " OR ".join(f'"e_{c.name}"' for c in flagged)
        if con.execute(f"SELECT count(*) FILTER (WHERE {any_flag}) FROM typed").fetchone()[0]:
            for c in flagged:
                raw = _qualify(_raw_expr(c))
                con.execute(f"INSERT INTO rej SELECT t.file_row, ?, ?, {_reason_sql(c, raw)} "
                            f"FROM typed t JOIN staged_raw s USING (file_row) "
                            f'WHERE t."e_{c.name}"', [c.label, c.name])
    rejected = con.execute("SELECT count(DISTINCT file_row) FROM rej").fetchone()[0]
    result.rows_rejected = rejected
    if not rejected:
        return
    result.reject_reasons = [
        {"column": col, "reason": reason, "rows": n} for col, reason, n in con.execute(
            "SELECT \"column\", regexp_replace(reason, '^cannot read ''.*'' as ', "
            "'cannot read as '), count(*) FROM rej GROUP BY ALL ORDER BY 3 DESC").fetchall()]
    limit = opts.get("max_rejected_share", MAX_REJECTED_SHARE)
    if rejected > limit * staged.rows:
        examples = con.execute("SELECT file_row, \"column\", reason FROM rej ORDER BY file_row "
                               "LIMIT 3").fetchall()
        detail = "; ".join(f"row {r}, column '{c}': {why}" for r, c, why in examples)
        raise ImportRefused(
            f"{file_name}: {rejected:,} of {staged.rows:,} rows would be rejected, so the mapping "
            f"or the formats are probably wrong. First problems: {detail}. Nothing was imported.",
            issues=examples)
    headers = _dedupe_keys([h or f"column {i + 1}" for i, h in enumerate(staged.headers)])
    pairs = ", ".join(f"?, s.c{i}" for i in range(len(staged.headers)))
    con.execute(
        f"INSERT INTO rejects SELECT ?, r.file_row, r.\"column\", r.reason, "
        f"json_object({pairs})::VARCHAR FROM rej r JOIN staged_raw s USING (file_row)",
        [result.import_id] + headers)
    result.rejects_preview = [
        {"file_row": r, "column": c, "reason": why}
        for r, c, why in con.execute("SELECT file_row, \"column\", reason FROM rej "
                                     "ORDER BY file_row LIMIT 20").fetchall()]
    con.execute("DELETE FROM typed WHERE file_row IN (SELECT file_row FROM rej)")


def _dedupe_keys(headers):
    seen, out = {}, []
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


# --------------------------------------------------------------------------------------------
# Records: one row per identifier
# --------------------------------------------------------------------------------------------

def _build_records(con, kind, cols, jurisdiction, import_id, tz, opts, result, file_name):
    idf = ID_FIELD[kind]
    if kind == "population":
        _population_key(con, opts)
    present = {r[0] for r in con.execute("DESCRIBE typed").fetchall()}
    fields = [f for f in FIELDS[kind] if f.name in present and f.name != idf]
    good_rows, ids = con.execute(f"SELECT count(*), count(DISTINCT {idf}) FROM typed").fetchone()
    units = bool(opts.get("unit_rows")) and kind == "calls"
    source = "typed"
    if good_rows != ids:
        if not units:
            _refuse_conflicting_duplicates(con, fields, idf, file_name)
        agg = [_aggregate(f.name, units) for f in fields]
        agg += [f'arg_min("r_{f.name}", file_row) AS "r_{f.name}"' for f in fields
                if f.type == "code"]
        con.execute("DROP TABLE IF EXISTS collapsed")
        con.execute(f"CREATE TEMP TABLE collapsed AS SELECT {idf}, {', '.join(agg)}, "
                    f"min(file_row) AS file_row FROM typed GROUP BY {idf}")
        source = "collapsed"
    result.records = ids
    result.rows_merged = good_rows - ids
    if units:
        result.unit_rows = (good_rows, ids)
    if opts.get("fingerprint_ids") and idf not in {c.name for c in cols}:
        result.fingerprint_merged = good_rows - ids
    _final_records(con, kind, fields, jurisdiction, import_id, tz, source)


def _aggregate(name, units):
    """Unit rows become one call: earliest dispatch and arrival, latest clear, first row's rest."""
    if units and name in ("received_at", "dispatched_at", "enroute_at", "arrived_at"):
        return f'min("{name}") AS "{name}"'
    if units and name == "cleared_at":
        return f'max("{name}") AS "{name}"'
    return f'arg_min("{name}", file_row) AS "{name}"'


def _population_key(con, opts):
    dim = opts.get("dimension", "race_ethnicity")
    src = opts.get("source", "")
    cols = {r[0] for r in con.execute("DESCRIBE typed").fetchall()}
    for name, default in (("dimension", dim), ("source", src)):
        if name not in cols:
            con.execute(f"ALTER TABLE typed ADD COLUMN {name} VARCHAR")
        con.execute(f"UPDATE typed SET {name} = coalesce({name}, ?)", [default])
    con.execute("ALTER TABLE typed ADD COLUMN population_key VARCHAR")
    con.execute("UPDATE typed SET population_key = concat_ws('|', geography, dimension, \"group\","
                " source)")


def _refuse_conflicting_duplicates(con, fields, idf, file_name):
    content = ", ".join(f'"{f.name}"' for f in fields) or "1"
    rows = con.execute(
        f"SELECT {idf}, list(file_row ORDER BY file_row)[:3] FROM typed WHERE {idf} IN "
        f"(SELECT {idf} FROM typed GROUP BY {idf} HAVING count(*) > 1) GROUP BY {idf} "
        f"HAVING count(DISTINCT hash({content})) > 1 ORDER BY min(file_row) LIMIT 3").fetchall()
    if rows:
        where = "; ".join(f"'{i}' on rows {', '.join(map(str, r))}" for i, r in rows)
        raise ImportRefused(
            f"{file_name}: the same {idf} appears on rows with different values ({where}). "
            "If each row is one unit of a call, set unit_rows = true under [options]; if the "
            "export has no real identifier, set fingerprint_ids = true. Nothing was imported.")


def _final_records(con, kind, fields, jurisdiction, import_id, tz, source):
    """The view ``incoming``: rows shaped as the target table, computed on the fly.

    A view, not a table, to avoid one more full copy of a large file; the import's constants
    come from a one-row table because views cannot take parameters.
    """
    have = {f.name for f in fields} | {ID_FIELD[kind]}
    codes = {f.name for f in fields if f.type == "code"}
    main = MAIN_TIME[kind]
    con.execute("DROP TABLE IF EXISTS import_ctx")
    con.execute("CREATE TEMP TABLE import_ctx AS SELECT ?::VARCHAR AS j, ?::BIGINT AS id, "
                "?::VARCHAR AS tz, ?::VARCHAR AS secret",
                [jurisdiction, import_id, tz, _person_secret(con) if "person_key" in have else ""])
    select = []
    for name, sql_type in record_columns(kind):
        base_type = sql_type.replace(" NOT NULL", "")
        if name == "jurisdiction":
            expr = "ctx.j"
        elif name == "import_id":
            expr = "ctx.id"
        elif name == "file_row":
            expr = "src.file_row"
        elif main and name == main.replace("_at", "_local"):
            expr = f"timezone(ctx.tz, src.{main})" if main in have else "NULL::TIMESTAMP"
        elif name.endswith("_raw") and name[:-4] in codes:
            expr = f'src."r_{name[:-4]}"'
        elif name == "person_key" and name in have:
            expr = "left(sha256(ctx.secret || src.person_key), 20)"
        elif name in have:
            expr = f'src."{name}"::{base_type}'
        else:
            expr = f"NULL::{base_type}"
        select.append(f'{expr} AS "{name}"')
    con.execute("DROP VIEW IF EXISTS incoming")
    con.execute(f"CREATE TEMP VIEW incoming AS SELECT {', '.join(select)} FROM {source} src, "
                "import_ctx ctx")


def _person_secret(con) -> str:
    """Key for hashing person identifiers, kept beside the database file, never inside it."""
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                     ).fetchone()[0]
    if not db:
        return "in-memory-test-key"
    key_file = Path(db).resolve().parent / ".person_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


# --------------------------------------------------------------------------------------------
# Row warnings
# --------------------------------------------------------------------------------------------

def _collect_warnings(con, kind, cols, jurisdiction, import_id, result):
    idf = ID_FIELD[kind]
    labels = {c.name: c.label for c in cols}
    main = MAIN_TIME[kind]
    head = [import_id, kind, jurisdiction]
    base = f"INSERT INTO row_warnings SELECT ?, ?, ?, {idf}, file_row, ?, ?, "
    if main:
        con.execute(base + f"NULL FROM incoming WHERE {main} IS NULL",
                    head + [labels.get(main, main), "missing_time"])
    ts = [c for c in cols if c.type == "timestamp"]
    for c in ts:
        # A time of exactly 0:00 is how several exports write "time unknown".
        con.execute(base + f'"{c.name}"::VARCHAR FROM typed WHERE "p_{c.name}"',
                    head + [c.label, "time_placeholder"])
    if main in labels:
        # The file's own range, robust to a few stray values: the median plus or minus four
        # median absolute deviations and a margin (a 2005 date in a 2024 file stands out).
        lo, hi = con.execute(
            f"SELECT m - 4 * d - INTERVAL {_PLAUSIBLE_MARGIN_DAYS} DAY, "
            f"m + 4 * d + INTERVAL {_PLAUSIBLE_MARGIN_DAYS} DAY FROM "
            f"(SELECT median({main}) AS m, mad({main}) AS d FROM incoming)").fetchone()
        if lo is not None:
            hi = min(hi, datetime.now(timezone.utc))
            for c in ts:
                con.execute(base + f"{c.name}::VARCHAR FROM incoming WHERE {c.name} < ? OR "
                            f"{c.name} > ?", head + [c.label, "implausible_date", lo, hi])
    order = [n for n in TIME_ORDER[kind] if n in labels]
    for j in range(1, len(order)):
        latest = f"greatest({', '.join(order[:j])})" if j > 1 else order[0]
        con.execute(base + f"{order[j]}::VARCHAR FROM incoming WHERE {order[j]} < {latest}",
                    head + [labels[order[j]], "out_of_order"])
    rows = con.execute("SELECT warning, count(*) FROM row_warnings WHERE import_id = ? GROUP BY 1",
                       [import_id]).fetchall()
    result.warnings_by_type = dict(rows)
    result.rows_warned = con.execute("SELECT count(DISTINCT file_row) FROM row_warnings "
                                     "WHERE import_id = ?", [import_id]).fetchone()[0]


# --------------------------------------------------------------------------------------------
# Merge into the canonical table, keeping what is replaced for undo
# --------------------------------------------------------------------------------------------

def _merge(con, kind, jurisdiction, import_id, result):
    idf = ID_FIELD[kind]
    data_cols = [c for c, _ in record_columns(kind) if c not in ("import_id", "file_row")]
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
    if updated:
        con.execute(f"INSERT INTO {hist} SELECT t.*, ? FROM {kind} t WHERE t.jurisdiction = ? "
                    f"AND t.{idf} IN (SELECT id FROM existing WHERE NOT unchanged)",
                    [import_id, jurisdiction])
        con.execute(f"DELETE FROM {kind} WHERE jurisdiction = ? AND {idf} IN "
                    "(SELECT id FROM existing WHERE NOT unchanged)", [jurisdiction])
    if unchanged:
        con.execute(f"INSERT INTO {kind} SELECT * FROM incoming WHERE {idf} NOT IN "
                    "(SELECT id FROM existing WHERE unchanged)")
    else:
        con.execute(f"INSERT INTO {kind} SELECT * FROM incoming")
    result.rows_unchanged = unchanged
    result.rows_updated = updated
    result.rows_inserted = result.records - unchanged - updated


def _write_ledger(con, result, created_jurisdiction):
    summary = {"value_mappings": result.value_mappings, "notes": result.notes,
               "unit_rows": result.unit_rows, "fingerprint_merged": result.fingerprint_merged,
               "warnings": result.warnings_by_type, "reject_reasons": result.reject_reasons,
               "created_jurisdiction": created_jurisdiction}
    con.execute(
        "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, "
        "'committed', NULL)",
        [result.import_id, result.kind, result.jurisdiction, result.file_name, result.sha256,
         result.profile.to_toml() if result.profile else None, result.rows_read,
         result.rows_inserted, result.rows_updated, result.rows_unchanged, result.rows_merged,
         result.rows_rejected, result.rows_warned, json.dumps(summary, default=str)])
