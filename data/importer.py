"""The import pipeline: read -> map -> validate -> stage -> commit, in one transaction.

Every step runs in DuckDB over the staged text table; Python only handles headers, formats and
the distinct values of coded columns. Either the whole import commits or nothing does; the
database is never left half-written, and a killed process rolls back on the next open.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import timestamps, values
from .errors import AmbiguousDates, DataError, ImportRefused, MappingError
from .profiles import (Profile, header_signature, load_profile, normalise_value,
                       resolve_columns, suggest, suggested_profile)
from .readers import sha256_of, stage_file
from .schema import (FIELDS, ID_FIELD, KINDS, MAIN_TIME, TIME_ORDER, history_table,
                     record_columns)

MAX_REJECTED_SHARE = 0.5  # beyond this the mapping is wrong, not the rows: refuse the file
_PLAUSIBLE_MARGIN_DAYS = 365


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
    con.begin()
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
        con.rollback()


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
    con.begin()
    try:
        result = _run(con, path, kind, jurisdiction, profile, file_name, work_dir, profile_dir,
                      timezone_name, report, dry_run)
        if dry_run:
            con.rollback()
        else:
            con.commit()
    except BaseException:
        con.rollback()
        raise
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

def _run(con, path, kind, jurisdiction, profile, file_name, work_dir, profile_dir, tz_name,
         report, dry_run) -> ImportResult:
    opts = profile.options if profile else {}
    report("reading", 0.05)
    staged = stage_file(con, path, file_name=file_name, work_dir=_work_dir(con, work_dir),
                        sheet=opts.get("sheet"), encoding=opts.get("encoding"))
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
    formats = _timestamp_formats(con, cols, profile, file_name)
    report("mapping values", 0.3)
    result.value_mappings = _value_tables(con, cols, profile)
    report("validating", 0.4)
    _build_typed(con, kind, cols, formats, tz, opts)
    _collect_rejects(con, cols, staged, result, opts, file_name)
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

def _timestamp_formats(con, cols, profile, file_name) -> dict[str, timestamps.ColumnFormats]:
    ts_cols = [c for c in cols if c.type == "timestamp"]
    given = profile.options.get("timestamp_format")
    if given:
        fmts = tuple([given] if isinstance(given, str) else given)
        local = tuple(f for f in fmts if "%z" not in f and not f.endswith("Z"))
        utc = tuple(f for f in fmts if f not in local)
        return {c.name: timestamps.ColumnFormats(local, utc) for c in ts_cols}
    shapes = {c.name: _shapes(con, c) for c in ts_cols}
    order = _day_order(con, ts_cols, shapes, profile, file_name)
    out = {}
    for c in ts_cols:
        try:
            out[c.name] = timestamps.detect(shapes[c.name], order)
        except timestamps.UnparsedValues as e:
            out[c.name] = _partial_formats(shapes[c.name], order)
            if not out[c.name].local and not out[c.name].utc:
                raise MappingError(
                    f"{file_name}: column '{c.label}' ({c.name}) holds values that are not dates "
                    f"and times, e.g. {', '.join(repr(x) for x in e.examples[:3])}. Map another "
                    "column, or give timestamp_format under [options].") from None
    return out


def _partial_formats(examples, order):
    """Formats for the values that parse; the rest become row rejects, with their values."""
    ok = []
    for ex in examples:
        try:
            timestamps.detect([ex], order)
            ok.append(ex)
        except timestamps.UnparsedValues:
            pass
    return timestamps.detect(ok, order) if ok else timestamps.ColumnFormats()


def _shapes(con, col) -> list[str]:
    """One example value per shape (digits -> 9) over the whole column."""
    raw = _raw_expr(col)
    rows = con.execute(
        f"SELECT min(v) FROM (SELECT {raw} AS v FROM staged_raw) WHERE v IS NOT NULL "
        "GROUP BY regexp_replace(v, '[0-9]', '9', 'g') ORDER BY count(*) DESC LIMIT 200"
    ).fetchall()
    return [r[0] for r in rows]


def _day_order(con, ts_cols, shapes, profile, file_name) -> str | None:
    if "dayfirst" in profile.options:
        return "dmy" if profile.options["dayfirst"] else "mdy"
    slashy = [c for c in ts_cols if timestamps.needs_day_order(shapes[c.name])]
    if not slashy:
        return None
    first = second = None
    for c in slashy:
        raw = _raw_expr(c)
        a, b = con.execute(
            f"SELECT max(TRY_CAST(regexp_extract(v, '^(\\d{{1,2}})[/.-]', 1) AS INTEGER)), "
            f"max(TRY_CAST(regexp_extract(v, '^\\d{{1,2}}[/.-](\\d{{1,2}})[/.-]', 1) AS INTEGER)) "
            f"FROM (SELECT {raw} AS v FROM staged_raw)").fetchone()
        first = max(x for x in (first, a) if x is not None) if a is not None else first
        second = max(x for x in (second, b) if x is not None) if b is not None else second
    order = timestamps.day_order(first, second)
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
        x_marks = bool(distinct) and {normalise_value(v) for v, _ in distinct} <= {"x"}
        rows = []
        for raw_value, n in distinct:
            if c.type == "code":
                std, how = values.standard_code(c.value_set, raw_value, pmap)
            elif c.type == "bool":
                b, how = values.boolean(raw_value, pmap, x_marks)
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
        c.x_marks = x_marks
    mappings.sort(key=lambda m: (m["field"], -m["rows"]))
    return mappings


# --------------------------------------------------------------------------------------------
# Typed rows, rejects, records
# --------------------------------------------------------------------------------------------

def _build_typed(con, kind, cols, formats, tz, opts):
    """typed: file_row, r_<field> (raw text) and <field> (parsed) for every mapped field."""
    params, select, joins = [], ["s.file_row"], []
    for c in cols:
        raw = _qualify(_raw_expr(c))
        select.append(f"{raw} AS r_{c.name}")
        if c.type == "timestamp":
            select.append(f'{_ts_expr(raw, formats[c.name], params, tz)} AS "{c.name}"')
        elif c.type in ("code", "bool") or (c.type == "text" and _has_vmap(con, c)):
            joins.append(f"LEFT JOIN vmap_{c.name} ON vmap_{c.name}.raw = {raw}")
            std = f"vmap_{c.name}.std"
            if c.type == "bool":
                blank = "false" if getattr(c, "x_marks", False) else "NULL"
                std = f"CASE WHEN {raw} IS NULL THEN {blank} ELSE {std}::BOOLEAN END"
            select.append(f'{std} AS "{c.name}"')
        elif c.type == "number":
            select.append(f'TRY_CAST({raw} AS DOUBLE) AS "{c.name}"')
        elif c.type == "integer":
            select.append(f'TRY_CAST(replace({raw}, \',\', \'\') AS BIGINT) AS "{c.name}"')
        else:
            select.append(f'{raw} AS "{c.name}"')
    if opts.get("fingerprint_ids") and ID_FIELD[kind] not in {c.name for c in cols}:
        n = con.execute("SELECT count(*) FROM (DESCRIBE staged_raw)").fetchone()[0] - 1
        fp = ", ".join(f"coalesce(s.c{i}, chr(0))" for i in range(n))
        select.append(f"md5(concat_ws(chr(31), {fp})) AS {ID_FIELD[kind]}")
    con.execute("DROP TABLE IF EXISTS typed")
    con.execute(f"CREATE TEMP TABLE typed AS SELECT {', '.join(select)} FROM staged_raw s "
                f"{' '.join(joins)}", params)


def _qualify(expr: str) -> str:
    import re
    return re.sub(r"\bc(\d+)\b", r"s.c\1", expr)


def _has_vmap(con, c):
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?",
                       [f"vmap_{c.name}"]).fetchone()[0] > 0


_LAT_LON_RANGE = {"lat": 90, "lon": 180}


def _reject_checks(kind, cols):
    """(condition on typed, field, reason SQL) for every way a row can be rejected."""
    checks = []
    for c in cols:
        r, v = f"r_{c.name}", c.name
        if c.type == "id":
            checks.append((f"{r} IS NULL", c, "'blank identifier'"))
        elif c.type == "timestamp":
            checks.append((f"{r} IS NOT NULL AND {v} IS NULL", c,
                           f"'cannot read ' || {r} || ' as a date and time'"))
        elif c.type == "bool":
            checks.append((f"{r} IS NOT NULL AND {v} IS NULL", c,
                           f"'cannot read ' || {r} || ' as yes/no (map it under [values.{v}])'"))
        elif c.type in ("number", "integer"):
            cond = f"{r} IS NOT NULL AND {v} IS NULL"
            if c.name in _LAT_LON_RANGE:
                cond = f"({cond}) OR abs({v}) > {_LAT_LON_RANGE[c.name]}"
            checks.append((cond, c, f"'cannot read ' || {r} || ' as a number in range'"))
        if c.type == "integer" and c.name in ("population", "moe"):
            checks.append((f"{v} < 0", c, f"'negative count ' || {r}"))
    return checks


def _collect_rejects(con, cols, staged, result, opts, file_name):
    checks = _reject_checks(result.kind, cols)
    con.execute("DROP TABLE IF EXISTS rej")
    con.execute("CREATE TEMP TABLE rej (file_row BIGINT, \"column\" VARCHAR, field VARCHAR, "
                "reason VARCHAR)")
    for cond, c, reason in checks:
        con.execute(f"INSERT INTO rej SELECT file_row, ?, ?, {reason} FROM typed WHERE {cond}",
                    [c.label, c.name])
    rejected = con.execute("SELECT count(DISTINCT file_row) FROM rej").fetchone()[0]
    result.rows_rejected = rejected
    result.reject_reasons = [
        {"column": col, "reason": reason, "rows": n} for col, reason, n in con.execute(
            "SELECT \"column\", regexp_replace(reason, '^cannot read .* as ', 'cannot read as '),"
            " count(*) FROM rej GROUP BY ALL ORDER BY 3 DESC").fetchall()]
    limit = opts.get("max_rejected_share", MAX_REJECTED_SHARE)
    if rejected and rejected > limit * staged.rows:
        examples = con.execute("SELECT file_row, \"column\", reason FROM rej ORDER BY file_row "
                               "LIMIT 3").fetchall()
        detail = "; ".join(f"row {r}, column '{c}': {why}" for r, c, why in examples)
        raise ImportRefused(
            f"{file_name}: {rejected:,} of {staged.rows:,} rows would be rejected, so the mapping "
            f"or the formats are probably wrong. First problems: {detail}. Nothing was imported.",
            issues=examples)
    header_args = []
    for i, h in enumerate(staged.headers):
        header_args += [h if h else f"column {i + 1}"]
    pairs = ", ".join(f"?, s.c{i}" for i in range(len(staged.headers)))
    con.execute(
        f"INSERT INTO rejects SELECT ?, r.file_row, r.\"column\", r.reason, "
        f"json_object({pairs})::VARCHAR FROM rej r JOIN staged_raw s USING (file_row)",
        [result.import_id] + _dedupe_keys(header_args))
    result.rejects_preview = [
        {"file_row": r, "column": c, "reason": why}
        for r, c, why in con.execute("SELECT file_row, \"column\", reason FROM rej "
                                     "ORDER BY file_row LIMIT 20").fetchall()]


def _dedupe_keys(headers):
    seen, out = {}, []
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out


def _build_records(con, kind, cols, jurisdiction, import_id, tz, opts, result, file_name):
    idf = ID_FIELD[kind]
    con.execute("DROP TABLE IF EXISTS good")
    con.execute("CREATE TEMP TABLE good AS SELECT * FROM typed WHERE file_row NOT IN "
                "(SELECT file_row FROM rej)")
    if kind == "population":
        _population_key(con, opts)
    present = {r[0] for r in con.execute("DESCRIBE good").fetchall()}
    fields = [f for f in FIELDS[kind] if f.name in present]
    good_rows = con.execute("SELECT count(*) FROM good").fetchone()[0]
    units = bool(opts.get("unit_rows")) and kind == "calls"
    if not units:
        _refuse_conflicting_duplicates(con, fields, idf, file_name)
    agg = [_aggregate(f.name, idf, units) for f in fields if f.name != idf]
    agg += [f'arg_min("r_{f.name}", file_row) AS "r_{f.name}"' for f in fields
            if f.type == "code"]
    con.execute("DROP TABLE IF EXISTS collapsed")
    con.execute(f"CREATE TEMP TABLE collapsed AS SELECT {idf}, {', '.join(agg + [''])}"
                f"min(file_row) AS file_row FROM good GROUP BY {idf}")
    result.records = con.execute("SELECT count(*) FROM collapsed").fetchone()[0]
    result.rows_merged = good_rows - result.records
    if units:
        result.unit_rows = (good_rows, result.records)
    if opts.get("fingerprint_ids") and idf not in {c.name for c in cols}:
        result.fingerprint_merged = good_rows - result.records
    _final_records(con, kind, fields, jurisdiction, import_id, tz)


def _aggregate(name, idf, units):
    """Unit rows become one call: earliest dispatch and arrival, latest clear, first row's rest."""
    if units and name in ("received_at", "dispatched_at", "enroute_at", "arrived_at"):
        return f'min("{name}") AS "{name}"'
    if units and name == "cleared_at":
        return f'max("{name}") AS "{name}"'
    return f'arg_min("{name}", file_row) AS "{name}"'


def _population_key(con, opts):
    dim = opts.get("dimension", "race_ethnicity")
    src = opts.get("source", "")
    con.execute("ALTER TABLE good ADD COLUMN population_key VARCHAR")
    cols = {r[0] for r in con.execute("DESCRIBE good").fetchall()}
    for name, default in (("dimension", dim), ("source", src)):
        if name not in cols:
            con.execute(f"ALTER TABLE good ADD COLUMN {name} VARCHAR")
        con.execute(f"UPDATE good SET {name} = coalesce({name}, ?)", [default])
    con.execute("UPDATE good SET population_key = concat_ws('|', geography, dimension, \"group\","
                " source)")


def _refuse_conflicting_duplicates(con, fields, idf, file_name):
    content = ", ".join(f'"{f.name}"' for f in fields if f.name != idf) or "1"
    rows = con.execute(
        f"SELECT {idf}, list(file_row ORDER BY file_row)[:3] FROM good GROUP BY {idf} "
        f"HAVING count(DISTINCT hash({content})) > 1 LIMIT 3").fetchall()
    if rows:
        where = "; ".join(f"'{i}' on rows {', '.join(map(str, r))}" for i, r in rows)
        raise ImportRefused(
            f"{file_name}: the same {idf} appears on rows with different values ({where}). "
            "If each row is one unit of a call, set unit_rows = true under [options]; if the "
            "export has no real identifier, set fingerprint_ids = true. Nothing was imported.")


def _final_records(con, kind, fields, jurisdiction, import_id, tz):
    have = {f.name for f in fields} | {ID_FIELD[kind]}
    codes = {f.name for f in fields if f.type == "code"}
    main = MAIN_TIME[kind]
    select, params = [], []
    for name, sql_type in record_columns(kind):
        base_type = sql_type.replace(" NOT NULL", "")
        if name == "jurisdiction":
            select.append("?::VARCHAR"); params.append(jurisdiction)
        elif name == "import_id":
            select.append("?::BIGINT"); params.append(import_id)
        elif name == "file_row":
            select.append("file_row")
        elif main and name == main.replace("_at", "_local"):
            select.append(f"timezone(?, {main})" if main in have else "NULL::TIMESTAMP")
            if main in have:
                params.append(tz)
        elif name.endswith("_raw") and name[:-4] in codes:
            select.append(f'"r_{name[:-4]}"')
        elif name == "person_key" and name in have:
            select.append("left(sha256(? || person_key), 20)"); params.append(_person_secret(con))
        elif name in have:
            select.append(f'"{name}"::{base_type}')
        else:
            select.append(f"NULL::{base_type}")
    named = [f'{expr} AS "{name}"' for expr, (name, _) in zip(select, record_columns(kind))]
    con.execute("DROP TABLE IF EXISTS incoming")
    con.execute(f"CREATE TEMP TABLE incoming AS SELECT {', '.join(named)} FROM collapsed",
                params)


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
    ts = [c for c in cols if c.type == "timestamp"]
    labels = {c.name: c.label for c in cols}
    main = MAIN_TIME[kind]
    base = (f"INSERT INTO row_warnings SELECT ?, ?, ?, {idf}, file_row, ?, ?, ")
    if main:
        if main in labels:
            con.execute(base + f"NULL FROM incoming WHERE {main} IS NULL",
                        [import_id, kind, jurisdiction, labels[main], "missing_time"])
        else:
            con.execute(base + "NULL FROM incoming",
                        [import_id, kind, jurisdiction, main, "missing_time"])
    lo = hi = None
    if main in labels:
        lo, hi = con.execute(
            f"SELECT quantile_disc({main}, 0.01) - INTERVAL {_PLAUSIBLE_MARGIN_DAYS} DAY, "
            f"quantile_disc({main}, 0.99) + INTERVAL {_PLAUSIBLE_MARGIN_DAYS} DAY FROM incoming"
        ).fetchone()
    now = datetime.now(timezone.utc)
    for c in ts:
        # A time of exactly 0:00 is how several exports write "time unknown".
        con.execute(base + f"strftime(timezone(?, {c.name}), '%Y-%m-%d %H:%M') FROM incoming "
                    f"WHERE {c.name} IS NOT NULL AND timezone(?, {c.name})::TIME = '00:00:00'",
                    [import_id, kind, jurisdiction, c.label, "time_placeholder",
                     _tz(con, jurisdiction), _tz(con, jurisdiction)])
        if lo is not None:
            con.execute(base + f"{c.name}::VARCHAR FROM incoming WHERE {c.name} < ? OR "
                        f"{c.name} > ? OR {c.name} > ?",
                        [import_id, kind, jurisdiction, c.label, "implausible_date", lo, hi, now])
    order = [n for n in TIME_ORDER[kind] if n in labels]
    for j in range(1, len(order)):
        earlier = ", ".join(order[:j])
        latest = f"greatest({earlier})" if j > 1 else order[0]
        con.execute(base + f"{order[j]}::VARCHAR FROM incoming WHERE {order[j]} < {latest}",
                    [import_id, kind, jurisdiction, labels[order[j]], "out_of_order"])
    rows = con.execute("SELECT warning, count(*) FROM row_warnings WHERE import_id = ? GROUP BY 1",
                       [import_id]).fetchall()
    result.warnings_by_type = dict(rows)
    result.rows_warned = con.execute("SELECT count(DISTINCT file_row) FROM row_warnings "
                                     "WHERE import_id = ?", [import_id]).fetchone()[0]


def _tz(con, jurisdiction):
    return con.execute("SELECT time_zone FROM jurisdictions WHERE jurisdiction = ?",
                       [jurisdiction]).fetchone()[0]


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
    con.execute(f"INSERT INTO {kind} SELECT * FROM incoming WHERE {idf} NOT IN "
                "(SELECT id FROM existing WHERE unchanged)")
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
