"""The import pipeline: read -> map -> validate -> stage -> commit, in one transaction.

Every step runs in DuckDB over the staged text table; Python only handles headers, formats and
the distinct values of coded columns. Either the whole import commits or nothing does; the
database is never left half-written, and a killed process rolls back on the next open.
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from . import acs, facts, timestamps, values
from .connection import migrate_person_key
from .errors import AmbiguousDates, DataError, ImportRefused, MappingError, ProfileError
from .links import refresh_links
from .profiles import (Profile, header_signature, load_profile, normalise_value,
                       resolve_columns, suggest, suggested_profile)
from .readers import create_csv_view, is_quoted_newline_error, read_error, stage_file
from .schema import (DERIVED_LINKS, FIELDS, ID_FIELD, KINDS, MAIN_TIME, TIME_ORDER,
                     history_table, record_columns, table_columns)

MAX_REJECTED_SHARE = 0.5  # beyond this the mapping is wrong, not the rows: refuse the file
_PLAUSIBLE_MARGIN_DAYS = 90
_RANGE_SAMPLE_ROWS = 200_000  # rows the plausible range is estimated from


def _shown(n) -> str:
    """A count, or why it is missing: a check's New/Updated are an analyst's (data.guarded)."""
    return "not shown" if n is None else f"{n:,}"


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
                 f"  rows read {self.rows_read:,}; inserted {_shown(self.rows_inserted)}; "
                 f"updated {_shown(self.rows_updated)}; unchanged {_shown(self.rows_unchanged)}; "
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
        lines += [f"  {n}" if n.startswith("warning: ") else f"  note: {n}" for n in self.notes]
        return lines


@dataclass
class _Column:
    """A mapped field: its source positions and the header label used in messages."""

    name: str
    type: str
    positions: list[int]
    label: str
    value_set: str | None = None
    mapped: bool = False  # coded, yes/no or value-mapped text: kept raw, mapped on distinct values
    x_marks: bool = False  # a yes/no column of X marks, where blank means no


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------

def preview(con, path, *, kind: str, file_name: str | None = None, work_dir=None,
            limit: int = 20, encoding: str | None = None, sheet=None):
    """Headers, suggestions and the first rows of a file, without writing anything."""
    _check_kind(kind)
    staged = stage_file(con, path, file_name=file_name, work_dir=_work_dir(con, work_dir),
                        encoding=encoding, sheet=sheet)
    try:
        _acs_reshape(con, staged, kind)  # an ACS table export: preview its long rows
        cols = ", ".join(f"c{i}" for i in range(len(staged.headers)))
        rows = _read(con, staged, f"SELECT {cols} FROM staged_raw LIMIT ?", [limit]).fetchall()
        count = _read(con, staged, "SELECT count(*) FROM staged_raw").fetchone()[0]
        return {"headers": staged.headers, "rows": rows, "row_count": count,
                "suggestions": suggest(kind, staged.headers), "format": staged.format,
                "encoding": staged.encoding, "delimiter": staged.delimiter}
    finally:
        staged.close()
        _drop_temporaries(con)


@contextmanager
def one_transaction(con, dry_run: bool = False):
    """All of it or nothing: commit at the end (roll back for a dry run or any error)."""
    con.begin()
    try:
        yield
        if dry_run:
            con.rollback()
        else:
            con.commit()
    except BaseException:
        con.rollback()
        raise


def import_file(con, path, *, kind: str, jurisdiction: str, profile: Profile | str | Path | None
                = None, file_name: str | None = None, dry_run: bool = False, work_dir=None,
                profile_dir=None, timezone_name: str | None = None, progress=None,
                saved_by: str | None = None) -> ImportResult:
    """Import one export. Raises a DataError subclass (nothing written) or returns the summary.

    All reading, parsing and checking fills temp tables of this connection; only the final
    merge, the rejects, the warnings and the ledger row touch the database file, in one
    transaction.
    """
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
    opts = profile.options if profile else {}
    report("reading", 0.05)
    staged = stage_file(con, path, file_name=file_name, work_dir=_work_dir(con, work_dir),
                        sheet=opts.get("sheet"), encoding=opts.get("encoding"))
    try:
        acs_file = _acs_reshape(con, staged, kind, opts.get("source"))
        plan = _prepare(con, staged, kind, jurisdiction, profile, file_name, profile_dir,
                        timezone_name, report, acs_file)
        prior = con.execute("SELECT import_id FROM imports WHERE file_sha256 = ? AND "
                            "jurisdiction = ? AND kind = ? AND status = 'committed'",
                            [staged.sha256, jurisdiction, kind]).fetchone()
        if prior:
            return ImportResult(kind, jurisdiction, file_name, staged.sha256, "already_imported",
                                previous_import=prior[0])
        report("writing", 0.8)
        with one_transaction(con, dry_run):
            result = _commit(con, plan, dry_run)
    finally:
        staged.close()
        _drop_temporaries(con)
    if not dry_run and result.profile_source == "suggested" and profile_dir is not None:
        result.profile_path = str(save_profile(result.profile, jurisdiction, profile_dir,
                                               saved_by))
    report("done", 1.0)
    return result


def save_profile(profile: Profile, jurisdiction: str, profile_dir,
                 saved_by: str | None = None) -> Path:
    """Store a confirmed profile so the jurisdiction's next export with the same headers
    reuses it; the file records the jurisdiction and who saved it."""
    profile_dir = Path(profile_dir)
    profile_dir.mkdir(parents=True, exist_ok=True)
    path = _profile_path(profile_dir, jurisdiction, profile.kind, profile.headers or [])
    mine = replace(profile, jurisdiction=jurisdiction, saved_by=saved_by or profile.saved_by)
    path.write_text(mine.to_toml(), encoding="utf-8")
    return path


def _profile_path(profile_dir, jurisdiction: str, kind: str, headers) -> Path:
    safe = "".join(ch if ch.isalnum() else "-" for ch in jurisdiction.lower()).strip("-")
    return Path(profile_dir) / f"{safe}-{kind}-{header_signature(headers)}.toml"


def find_stored_profile(profile_dir, kind: str, headers: list[str], jurisdiction: str
                        ) -> Path | None:
    """The profile ``jurisdiction`` saved for these headers, never another's (issue 27).

    A profile records its jurisdiction under [saved]; one saved before that (no [saved]) is
    the jurisdiction's whose name its file begins with, as save_profile named it.
    """
    if profile_dir is None or not Path(profile_dir).is_dir() or not jurisdiction:
        return None
    path = _profile_path(profile_dir, jurisdiction, kind, headers)
    if not path.is_file():
        return None
    owner = load_profile(path).jurisdiction
    return path if owner is None or owner == jurisdiction else None


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------

@dataclass
class _Plan:
    """What the temp work produced, for the commit step."""

    staged: object
    kind: str
    jurisdiction: str
    cols: list
    tz: str
    tz_is_new: bool
    result: ImportResult
    source: str = "typed"
    acs: acs.Reshaped | None = None  # the file was an ACS table export, read as long rows


def _prepare(con, staged, kind, jurisdiction, profile, file_name, profile_dir, tz_name,
             report, acs_file=None) -> _Plan:
    if acs_file is not None:
        profile, source = acs.profile_for(profile, acs_file.layout, file_name), "acs"
    else:
        profile, source = _choose_profile(profile, kind, staged.headers, file_name, profile_dir,
                                          jurisdiction)
    opts = profile.options
    positions = resolve_columns(profile, staged.headers, file_name)
    cols = _columns(kind, positions, staged.headers, profile)
    tz, tz_is_new = _jurisdiction_zone(con, jurisdiction, tz_name or opts.get("timezone"))
    result = ImportResult(kind, jurisdiction, file_name, "", "committed", profile=profile,
                          profile_source=source, notes=list(staged.notes))
    report("detecting formats", 0.15)
    formats, order = _timestamp_formats(con, staged, cols, profile, file_name)
    report("parsing", 0.25)
    _build_typed(con, staged, kind, cols, formats, tz, opts)
    result.rows_read = con.execute("SELECT count(*) FROM typed").fetchone()[0]
    if result.rows_read == 0:
        raise ImportRefused(f"{file_name} has a header but no data rows; nothing to import.")
    _recheck_failed_times(con, staged, cols, order, tz,
                          detect="timestamp_format" not in opts)
    report("mapping values", 0.5)
    result.value_mappings = _value_tables(con, cols, profile)
    report("validating", 0.6)
    _find_rejects(con, staged, cols, result, opts, file_name)
    if acs_file is not None:
        _acs_rejects(acs_file, result, opts, file_name)
    report("collapsing", 0.7)
    plan = _Plan(staged, kind, jurisdiction, cols, tz, tz_is_new, result, acs=acs_file)
    plan.source = _build_records(con, kind, cols, opts, result, file_name)
    if acs_file is not None:
        plan.source = _acs_file_rows(con, plan.source)
    return plan


def _commit(con, plan: _Plan, dry_run: bool) -> ImportResult:
    result = plan.result
    result.status = "dry_run" if dry_run else "committed"
    result.sha256 = plan.staged.sha256
    if plan.tz_is_new:
        con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone) VALUES (?, ?)",
                    [plan.jurisdiction, plan.tz])
        result.notes.append(f"new jurisdiction '{plan.jurisdiction}' (time zone {plan.tz})")
    result.import_id = con.execute("SELECT nextval('import_seq')").fetchone()[0]
    _final_records(con, plan.kind, plan.cols, plan.jurisdiction, result.import_id, plan.tz,
                   plan.source, result.profile.options, _fast_zones(plan.staged))
    if plan.kind == "population":
        _population_totals(con, plan.cols, result)
    if plan.acs is not None:
        _write_acs_rejects(con, plan.acs, result.import_id)
    else:
        _write_rejects(con, plan.staged, result)
    _collect_warnings(con, plan.kind, plan.cols, plan.jurisdiction, result.import_id, result,
                      plan.source)
    _merge(con, plan.kind, plan.jurisdiction, result.import_id, result)
    refresh_links(con, plan.jurisdiction, plan.kind)
    _write_ledger(con, result, plan.tz_is_new)
    return result


def _read(con, staged, sql, params=None):
    """Run a query that reads the file, turning reader errors into sentences."""
    try:
        return con.execute(sql, params or [])
    except duckdb.Error as e:
        err = read_error(con, staged.file_name, e, len(staged.headers))
        if err is None:
            raise
        raise err from None


def _drop_temporaries(con) -> None:
    """Free the staging tables at once: the dashboard's connection lives for a long time."""
    for name, kind in con.execute("SELECT table_name, table_type FROM information_schema.tables "
                                  "WHERE table_catalog = 'temp'").fetchall():
        con.execute(f'DROP {"VIEW" if kind == "VIEW" else "TABLE"} IF EXISTS temp."{name}"')


def _check_kind(kind):
    if kind not in KINDS:
        raise DataError(f"Unknown kind '{kind}': use one of {', '.join(KINDS)}.")


def _work_dir(con, work_dir):
    if work_dir is not None:
        return Path(work_dir)
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                     ).fetchone()[0]
    return (Path(db).resolve().parent if db else Path.cwd()) / ".staging"


def _choose_profile(profile, kind, headers, file_name, profile_dir, jurisdiction):
    if profile is not None:
        return profile, "given"
    stored = find_stored_profile(profile_dir, kind, headers, jurisdiction)
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


def _columns(kind, positions, headers, profile) -> list[_Column]:
    cols = []
    for f in FIELDS[kind]:
        if f.name in positions:
            pos = positions[f.name]
            c = _Column(f.name, f.type, pos, " + ".join(headers[i] for i in pos), f.value_set)
            c.mapped = _is_mapped(c, profile)
            cols.append(c)
    return cols


def _jurisdiction_zone(con, jurisdiction, tz_name):
    """(time zone, is the jurisdiction new). Nothing is written here."""
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
    return tz_name, True


# --------------------------------------------------------------------------------------------
# Raw text expressions (positional columns only: no header ever reaches SQL)
# --------------------------------------------------------------------------------------------

def _trimmed(value: str) -> str:
    """The value without surrounding spaces, '' as NULL. trim() is the slow part of reading a
    file (it copies every value); most values have no space to trim, so they skip it."""
    return (f"nullif(CASE WHEN starts_with({value}, ' ') OR ends_with({value}, ' ') "
            f"THEN trim({value}) ELSE {value} END, '')")


def _parsed_untrimmed(col: _Column) -> bool:
    """A time read from one column is parsed untrimmed: strptime skips surrounding spaces
    itself, and leaving out the trim takes a sixth off reading a large file. A value of
    spaces alone then fails to parse; _recheck_failed_times makes it the blank it is."""
    return col.type == "timestamp" and len(col.positions) == 1


def _raw_expr(col: _Column, prefix: str = "", trim: bool = True) -> str:
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
    sep = "' '" if col.type == "timestamp" else "', '"
    return f"nullif(concat_ws({sep}, {', '.join(parts)}), '')"


# The staged rows numbered as a spreadsheet shows them. Numbering forces an ordered read, so it
# is used only to fetch the few rows that failed (reasons, raw values, re-parsing).
_NUMBERED = "(SELECT (row_number() OVER () + 1)::BIGINT AS file_row, * FROM staged_raw)"


# --------------------------------------------------------------------------------------------
# Timestamps
# --------------------------------------------------------------------------------------------

# Formats are detected on the first rows; values they do not parse get a detection pass of
# their own (_recheck_failed_times), so a second format deep in the file is still found
# without reading every value twice.
_SAMPLE_ROWS = 25000


def _timestamp_formats(con, staged, cols, profile, file_name):
    """(formats per timestamp field, day order) for the mapped timestamp columns."""
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
    _read(con, staged, "CREATE TEMP TABLE staged_sample AS SELECT * FROM staged_raw LIMIT "
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


def _shapes(con, col, relation) -> list[str]:
    """Up to three example values per shape (digits -> 9): one impossible date such as
    2024-02-30 must not hide the format of the valid values that share its shape."""
    raw = _raw_expr(col)
    rows = con.execute(
        f"SELECT min(v), max(v), arbitrary(v) FROM (SELECT {raw} AS v FROM {relation}) "
        "WHERE v IS NOT NULL GROUP BY regexp_replace(v, '[0-9]', '9', 'g') "
        "ORDER BY count(*) DESC LIMIT 200").fetchall()
    return list(dict.fromkeys(v for row in rows for v in row))


def _max_date_parts(con, staged, cols, relation):
    first = second = None
    for c in cols:
        raw = _raw_expr(c)
        a, b = _read(con, staged,
                     f"SELECT max(TRY_CAST(regexp_extract(v, '^(\\d{{1,2}})[/.-]', 1) AS INTEGER)), "
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


def _failed_rows(con, staged, flag: str):
    """(file_row, raw columns...) of the rows of ``typed t`` where ``flag`` holds."""
    con.execute("DROP TABLE IF EXISTS failed_rows")
    _read(con, staged, f"CREATE TEMP TABLE failed_rows AS SELECT n.* FROM {_NUMBERED} n "
          f"WHERE n.file_row IN (SELECT t.rowid + 2 FROM typed t WHERE {flag})")


def _recheck_failed_times(con, staged, cols, order, tz, detect: bool):
    """Times that did not parse, read again from the file: spaces alone are a blank; with
    ``detect``, values the detected formats missed get formats of their own, parsed in place."""
    ts_cols = [c for c in cols if c.type == "timestamp"]
    if not ts_cols:
        return
    counts = con.execute("SELECT " + ", ".join(f'count(*) FILTER (WHERE "e_{c.name}")'
                                               for c in ts_cols) + " FROM typed").fetchone()
    for c, failures in zip(ts_cols, counts):
        if not failures:
            continue
        _failed_rows(con, staged, f't."e_{c.name}"')
        raw = _raw_expr(c, "f.")
        if _parsed_untrimmed(c):
            con.execute(f'UPDATE typed SET "e_{c.name}" = false FROM failed_rows f '
                        f"WHERE typed.rowid + 2 = f.file_row AND {raw} IS NULL")
        extra = _formats_for(_shapes(con, c, "failed_rows"), order) if detect else None
        if not (extra and (extra.local or extra.utc)):
            continue
        params = []
        expr = _ts_expr(raw, extra, params, tz)
        con.execute(f'UPDATE typed SET "{c.name}" = {expr}, "e_{c.name}" = ({expr}) IS NULL '
                    f"FROM failed_rows f WHERE typed.rowid + 2 = f.file_row AND {raw} IS NOT "
                    "NULL", params + params)


# --------------------------------------------------------------------------------------------
# Coded values, booleans and text replacements: mapped on distinct values
# --------------------------------------------------------------------------------------------

def _is_mapped(c, profile) -> bool:
    return c.type in ("code", "bool") or (c.type == "text" and bool(profile.value_map(c.name)))


def _value_tables(con, cols, profile) -> list[dict]:
    """vmap_<field>(raw, std) for every coded field, from the distinct values in ``typed``."""
    mappings = []
    for c in cols:
        if not c.mapped:
            continue
        pmap = profile.value_map(c.name)
        distinct = con.execute(f'SELECT "r_{c.name}", count(*) FROM typed WHERE "r_{c.name}" '
                               "IS NOT NULL GROUP BY 1").fetchall()
        # A column holding only 'X' marks means blank = no.
        c.x_marks = bool(distinct) and {normalise_value(v) for v, _ in distinct} <= {"x"}
        rows = []
        for raw_value, n in distinct:
            if c.type == "code":
                std, how = values.standard_code(c.value_set, raw_value, pmap)
            elif c.type == "bool":
                b, how = values.boolean(raw_value, pmap, c.x_marks, c.name)
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


def _mapped_value(c, src: str) -> str:
    """The standard value of a mapped field, given its vmap is joined as vmap_<field>."""
    std = f"vmap_{c.name}.std"
    if c.type == "bool":
        blank = "false" if getattr(c, "x_marks", False) else "NULL"
        return f'CASE WHEN {src}."r_{c.name}" IS NULL THEN {blank} ELSE {std}::BOOLEAN END'
    return std


def _vmap_joins(cols, src: str) -> str:
    return " ".join(f'LEFT JOIN vmap_{c.name} ON vmap_{c.name}.raw = {src}."r_{c.name}"'
                    for c in cols if c.mapped)


# --------------------------------------------------------------------------------------------
# Time zones: local wall-clock time <-> instants, fast for large files
# --------------------------------------------------------------------------------------------

# timezone() (ICU) costs about 100 ns a value: with four time columns and the local time it was a
# quarter of a 10-million-row import. A zone's offset only changes at its transitions, so for
# large files the offset is looked up in a binary tree of constant ranges (about a hundred over
# 1990-2040 for a zone with daylight saving), built once per zone from timezone() itself. Hours
# holding a transition and values outside the range still go through timezone(), so every value
# is exactly what timezone() gives.
_ZONE_RANGE = ("1990-01-01", "2040-01-01")
_ZONE_TREE_MIN_BYTES = 16_000_000  # below this the tree costs more than it saves
_HOUR_US = 3_600_000_000
_zone_segments: dict[tuple[str, bool], list] = {}


def _fast_zones(staged) -> bool:
    try:
        return Path(staged.source).stat().st_size >= _ZONE_TREE_MIN_BYTES
    except (OSError, TypeError):
        return False


def _segments(con, tz: str, to_utc: bool) -> list[tuple[int | None, int | None]]:
    """[(from microsecond, offset in microseconds or None)], sorted; None = ask timezone()."""
    key = (tz, to_utc)
    if key not in _zone_segments:
        make = "make_timestamp" if to_utc else "make_timestamptz"
        h, d = _HOUR_US, 24 * _HOUR_US

        def offset(us: str) -> str:  # the offset timezone() applies at microsecond ``us``
            return f"epoch_us(timezone($1, {make}({us}))) - ({us})"

        # A day whose two ends have the same offset is one piece (no zone changes its offset
        # twice in a day); only the few days with a transition are looked at hour by hour,
        # where an hour holding the transition itself is left to timezone(). A fortieth of
        # the timezone() calls of going hour by hour over fifty years.
        rows = con.execute(
            f"WITH days AS (SELECT day, {offset(f'day * {d}')} AS a, "
            f"{offset(f'day * {d} + {d - 1}')} AS b FROM range(($2::DATE - DATE '1970-01-01'), "
            f"($3::DATE - DATE '1970-01-01')) t(day)), "
            f"pieces AS (SELECT day * {d} AS start, a AS off FROM days WHERE a = b "
            f"UNION ALL SELECT hr * {h}, CASE WHEN ha = hb THEN ha END FROM (SELECT hr, "
            f"{offset(f'hr * {h}')} AS ha, {offset(f'hr * {h} + {h - 1}')} AS hb "
            f"FROM days, range(day * 24, day * 24 + 24) t(hr) WHERE a IS DISTINCT FROM b)) "
            f"SELECT start, off FROM (SELECT start, off, lag(off) OVER (ORDER BY start) AS "
            f"prev, lag(start) OVER (ORDER BY start) AS ps FROM pieces) "
            f"WHERE ps IS NULL OR off IS DISTINCT FROM prev ORDER BY start",
            [tz, *_ZONE_RANGE]).fetchall()
        end = con.execute("SELECT ($1::DATE - DATE '1970-01-01') * 24",
                          [_ZONE_RANGE[1]]).fetchone()[0] * h
        _zone_segments[key] = [(None, None)] + rows + [(end, None)]
    return _zone_segments[key]


def _offset_tree(x: str, segs) -> str:
    if len(segs) == 1:
        return "NULL" if segs[0][1] is None else str(int(segs[0][1]))
    mid = len(segs) // 2
    return (f"CASE WHEN {x} < {int(segs[mid][0])} THEN {_offset_tree(x, segs[:mid])} "
            f"ELSE {_offset_tree(x, segs[mid:])} END")


def _zone_sql(con, tz: str, fast: bool, to_utc: bool, x: str, zone: str) -> str:
    """``x`` converted: a local TIMESTAMP to its TIMESTAMPTZ (to_utc) or an instant to local.

    ``zone`` is the SQL giving the zone name to timezone() (a parameter or a column).
    """
    icu = f"timezone({zone}, {x})"
    if not fast:
        return icu
    us = f"epoch_us({x})"
    make = "make_timestamptz" if to_utc else "make_timestamp"
    return f"coalesce({make}({us} + {_offset_tree(us, _segments(con, tz, to_utc))}), {icu})"


# --------------------------------------------------------------------------------------------
# Typed rows: one parallel pass over the file; parsed values plus error flags
# --------------------------------------------------------------------------------------------

_LAT_LON_RANGE = {"lat": 90, "lon": 180}


def _timestamp_parts(c, raw, fmts: timestamps.ColumnFormats, inner, inner_params, outer,
                     outer_params, tz, to_utc=None):
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
    local = to_utc(f'"nv_{n}"') if to_utc else f'timezone(?, "nv_{n}")'
    outer.append(f'coalesce("uv_{n}", {local}) AS "{n}"')
    outer.append(f'"r_{n}" IS NOT NULL AND "uv_{n}" IS NULL AND "nv_{n}" IS NULL AS "e_{n}"')
    # Only formats with a time of day can carry a "0:00 = unknown time" placeholder.
    if fmts.local and all(("%H" in f or "%I" in f) for f in fmts.local):
        outer.append(f'coalesce("nv_{n}"::TIME = TIME \'00:00:00\', false) AS "p_{n}"')
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


def _build_typed(con, staged, kind, cols, formats, tz, opts):
    """typed: one row per file row, in file order (rowid + 2 = spreadsheet row number).

    Holds every parsed field, the raw text of coded fields (mapped later, on distinct values),
    ``e_<field>`` flags for values that cannot be read and ``p_<field>`` for 0:00 times.
    """
    inner, inner_params, outer, outer_params = [], [], [], []
    fast = _fast_zones(staged)

    def to_utc(x):
        return _zone_sql(con, tz, fast, True, x, "?")

    for c in cols:
        raw = _raw_expr(c, trim=not _parsed_untrimmed(c))
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
            _read(con, staged, sql, outer_params + inner_params)
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


# --------------------------------------------------------------------------------------------
# Rejects
# --------------------------------------------------------------------------------------------

def _reject_checks(cols):
    """(flag over typed t, column, reason SQL over the failed row f) per way a row can fail."""
    out = []
    for c in cols:
        raw = _raw_expr(c, "f.")
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


def _find_rejects(con, staged, cols, result, opts, file_name):
    """rej(file_row, column, field, reason): every unreadable value, read back from the file."""
    con.execute("CREATE OR REPLACE TEMP TABLE rej (file_row BIGINT, \"column\" VARCHAR, "
                "field VARCHAR, reason VARCHAR)")
    checks = _reject_checks(cols)
    if not checks:
        return
    any_flag = " OR ".join(f"({flag})" for flag, _, _ in checks)
    if not con.execute(f"SELECT count(*) FILTER (WHERE {any_flag}) FROM typed t").fetchone()[0]:
        return
    _failed_rows(con, staged, any_flag)
    for flag, c, reason in checks:
        con.execute(f"INSERT INTO rej SELECT f.file_row, ?, ?, {reason} FROM failed_rows f "
                    f"JOIN typed t ON t.rowid + 2 = f.file_row WHERE {flag}", [c.label, c.name])
    rejected = con.execute("SELECT count(DISTINCT file_row) FROM rej").fetchone()[0]
    result.rows_rejected = rejected
    result.reject_reasons = [
        {"column": col, "reason": reason, "rows": n} for col, reason, n in con.execute(
            "SELECT \"column\", regexp_replace(reason, '^cannot read ''.*'' as ', "
            "'cannot read as '), count(*) FROM rej GROUP BY ALL ORDER BY 3 DESC").fetchall()]
    limit = opts.get("max_rejected_share", MAX_REJECTED_SHARE)
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
    con.execute("DELETE FROM typed WHERE rowid + 2 IN (SELECT file_row FROM rej)")


def _write_rejects(con, staged, result):
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


# --------------------------------------------------------------------------------------------
# Records: one row per identifier
# --------------------------------------------------------------------------------------------

def _stored(c) -> str:
    """The column of typed that holds a field (its raw text when it is mapped later)."""
    return f'"r_{c.name}"' if c.mapped or c.type == "code" else f'"{c.name}"'


def _build_records(con, kind, cols, opts, result, file_name) -> str:
    """The relation with one row per record: ``typed`` itself, or ``collapsed``."""
    idf = ID_FIELD[kind]
    if kind == "population":
        _population_key(con, cols, opts)
    # Distinct hashes first: when no two ids share a hash they are all distinct, which is
    # the usual case and much cheaper to establish than distinct text over millions of rows.
    good_rows, keyed, hashes = con.execute(
        f"SELECT count(*), count({idf}), count(DISTINCT hash({idf})) FILTER "
        f"(WHERE {idf} IS NOT NULL) FROM typed").fetchone()
    ids = keyed if hashes == keyed else con.execute(
        f"SELECT count(DISTINCT {idf}) FROM typed").fetchone()[0]
    units = bool(opts.get("unit_rows")) and kind == "calls"
    result.records = ids
    result.rows_merged = good_rows - ids
    if units:
        result.unit_rows = (good_rows, ids)
    if opts.get("fingerprint_ids") and idf not in {c.name for c in cols}:
        result.fingerprint_merged = good_rows - ids
    if good_rows == ids:
        return "typed"
    fields = [c for c in cols if c.name != idf]
    if not units:
        _refuse_conflicting_duplicates(con, fields, idf, file_name)
    keep = [_aggregate(c, units) for c in fields]
    keep += [f'bool_or("p_{c.name}") AS "p_{c.name}"' for c in fields if c.type == "timestamp"]
    con.execute("DROP TABLE IF EXISTS collapsed")
    con.execute(f"CREATE TEMP TABLE collapsed AS SELECT {idf}, "
                f"{''.join(k + ', ' for k in keep)}min(rowid) + 2 AS file_row "
                f"FROM typed GROUP BY {idf}")
    return "collapsed"


def _aggregate(c, units):
    """Unit rows become one call: earliest dispatch and arrival, latest clear, first row's rest."""
    col = _stored(c)
    if units and c.name in ("received_at", "dispatched_at", "enroute_at", "arrived_at"):
        return f"min({col}) AS {col}"
    if units and c.name == "cleared_at":
        return f"max({col}) AS {col}"
    return f"arg_min({col}, rowid) AS {col}"


_POPULATION_DEFAULTS = {"dimension": "race_ethnicity", "source": ""}


def _value_sql(c, alias: str) -> str:
    return _mapped_value(c, alias) if c.mapped else f'{alias}."{c.name}"'


def _population_key(con, cols, opts):
    """geography|dimension|group|source, with mapped values: population rows have no id."""
    by = {c.name: c for c in cols}
    parts, params = [], []
    for name in ("geography", "dimension", "group", "source"):
        if name in by:
            parts.append(_value_sql(by[name], "t"))
        else:
            parts.append("?::VARCHAR")
            params.append(opts.get(name, _POPULATION_DEFAULTS[name]))
    con.execute("ALTER TABLE typed ADD COLUMN population_key VARCHAR")
    con.execute(f"UPDATE typed SET population_key = k.key FROM (SELECT t.rowid AS rid, "
                f"concat_ws('|', {', '.join(parts)}) AS key FROM typed t "
                f"{_vmap_joins(cols, 't')}) k WHERE typed.rowid = k.rid", params)


def _refuse_conflicting_duplicates(con, fields, idf, file_name):
    content = ", ".join(_stored(c) for c in fields) or "1"
    rows = con.execute(
        f"SELECT {idf}, list(rowid + 2 ORDER BY rowid)[:3] FROM typed WHERE {idf} IN "
        f"(SELECT {idf} FROM typed GROUP BY {idf} HAVING count(*) > 1) GROUP BY {idf} "
        f"HAVING count(DISTINCT hash({content})) > 1 ORDER BY min(rowid) LIMIT 3").fetchall()
    if rows:
        where = "; ".join(f"'{i}' on rows {', '.join(map(str, r))}" for i, r in rows)
        raise ImportRefused(
            f"{file_name}: the same {idf} appears on rows with different values ({where}). "
            "If each row is one unit of a call, set unit_rows = true under [options]; if the "
            "export has no real identifier, set fingerprint_ids = true. Nothing was imported.")


def _final_records(con, kind, cols, jurisdiction, import_id, tz, source, opts,
                   fast_zones=False):
    """The view ``incoming``: rows shaped as the target table, computed on the fly.

    A view, not a table, to avoid one more full copy of a large file; the import's constants
    come from a one-row table because views cannot take parameters.
    """
    by_name = {c.name: c for c in cols}
    idf = ID_FIELD[kind]
    main = MAIN_TIME[kind]
    con.execute("CREATE OR REPLACE TEMP TABLE import_ctx AS SELECT ?::VARCHAR AS j, "
                "?::BIGINT AS id, ?::VARCHAR AS tz, ?::VARCHAR AS secret, ?::VARCHAR AS dim, "
                "?::VARCHAR AS src",
                [jurisdiction, import_id, tz,
                 _person_secret(con) if "person_key" in by_name else "", opts.get(
                     "dimension", _POPULATION_DEFAULTS["dimension"]),
                 opts.get("source", _POPULATION_DEFAULTS["source"])])
    file_row = "src.rowid + 2" if source == "typed" else "src.file_row"
    select = []
    for name, sql_type in record_columns(kind):
        base_type = sql_type.replace(" NOT NULL", "")
        c = by_name.get(name)
        if name == "jurisdiction":
            expr = "ctx.j"
        elif name == "import_id":
            expr = "ctx.id"
        elif name == "file_row":
            expr = file_row
        elif name == idf:
            expr = f"src.{idf}"
        elif main and name == main.replace("_at", "_local"):
            expr = (_zone_sql(con, tz, fast_zones, False, f"src.{main}", "ctx.tz")
                    if main in by_name else "NULL::TIMESTAMP")
        elif name.endswith("_raw") and name[:-4] in by_name:
            expr = f'src."r_{name[:-4]}"'
        elif c is None and kind == "population" and name in ("dimension", "source"):
            expr = "ctx.dim" if name == "dimension" else "ctx.src"
        elif c is None:
            expr = f"NULL::{base_type}"
        elif name == "person_key":
            expr = f"left(sha256(ctx.secret || src.{_stored(c)}), 20)"
        elif c.mapped:
            expr = f"({_mapped_value(c, 'src')})::{base_type}"
        elif c.type == "code":
            expr = f'src."r_{name}"'
        else:
            expr = f'src."{name}"::{base_type}'
        select.append(f'{expr} AS "{name}"')
    if "total_population" in by_name:  # becomes total rows (_population_totals), not a column
        select.append('src."total_population" AS "_total"')
    con.execute("DROP VIEW IF EXISTS incoming")
    con.execute(f"CREATE TEMP VIEW incoming AS SELECT {', '.join(select)} FROM {source} src "
                f"{_vmap_joins(cols, 'src')}, import_ctx ctx")


def _person_secret(con) -> str:
    """Key for hashing person identifiers: never in the database, nor in a folder its
    locked connection may read (``connection.person_key_path``)."""
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                     ).fetchone()[0]
    if not db:
        return "in-memory-test-key"
    key_file = migrate_person_key(db)
    # The database's folder is what the dashboard's long-lived connection may read. (A
    # command-line import may also read its file's folder; refusing a key under that would
    # stop imports run from a parent folder, and that process runs no free-form SQL.)
    if str(key_file).startswith(str(Path(db).resolve().parent) + os.sep):
        raise DataError(f"The person-key secret {key_file} is in the database's folder, which "
                        "the database may read. Set A911_PERSON_KEY to a file outside it.")
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.parent.chmod(0o700)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


# --------------------------------------------------------------------------------------------
# Population: a geography's total is its `total` row, never a sum of its groups
# --------------------------------------------------------------------------------------------

# Published tables round their figures: groups may add up to a little more than the total
# without overlapping. Beyond this share, some people are counted in more than one group.
_OVERLAP_TOLERANCE = 0.01


def _population_totals(con, cols, result) -> None:
    """Total rows from a total column, then a warning when the groups overlap.

    Long-format city tables count Hispanic or Latino beside the races, so their race rows add
    up to more than the city; only a `total` row may serve as the total (README data model).
    """
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


# --------------------------------------------------------------------------------------------
# ACS table exports (data/acs.py): the wide file becomes long rows in ``staged_raw``
# --------------------------------------------------------------------------------------------

def _acs_reshape(con, staged, kind, source=None) -> acs.Reshaped | None:
    """For a data.census.gov table export, replace ``staged_raw`` by its long rows.

    None (and nothing changed) for any other file. ``staged.headers`` become the long rows'
    headers, so profiles, suggestions and the preview all see the long form; the file's own
    headers stay on the result for the rejects.
    """
    if kind != "population":
        return None
    first = _read(con, staged, "SELECT * FROM staged_raw LIMIT 1").fetchall()
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


def _acs_rejects(shaped, result, opts, file_name) -> None:
    """The rows ``acs.reshape`` could not read, counted like the pipeline's own rejects."""
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
            f"{file_name}: {len(rows):,} of {shaped.geographies:,} rows would be rejected, so "
            f"the file is probably not what it seems. First problems: {detail}. Nothing was "
            "imported.", issues=[(r.file_row, r.column, r.reason) for r in shaped.rejects[:3]])


def _acs_file_rows(con, source: str) -> str:
    """The records with the file row each came from (one file row gives several records)."""
    if source == "collapsed":  # its file_row is a long row's number: map it to the file's
        con.execute("UPDATE collapsed SET file_row = s.acs_row FROM (SELECT rowid + 2 AS r, "
                    "acs_row FROM staged_raw) s WHERE collapsed.file_row = s.r")
        return source
    con.execute("DROP VIEW IF EXISTS acs_records")
    con.execute("CREATE TEMP VIEW acs_records AS SELECT t.*, s.acs_row AS file_row "
                "FROM typed t JOIN (SELECT rowid AS rid, acs_row FROM staged_raw) s "
                "ON t.rowid = s.rid")
    return "acs_records"


def _write_acs_rejects(con, shaped, import_id) -> None:
    if not shaped.rejects:
        return
    con.executemany("INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
                    [[import_id, r.file_row, r.column, r.reason,
                      json.dumps(r.values)]
                     for r in shaped.rejects])


# --------------------------------------------------------------------------------------------
# Row warnings
# --------------------------------------------------------------------------------------------

def _collect_warnings(con, kind, cols, jurisdiction, import_id, result, source):
    """row_warnings: every warning of every kept row, found in one pass over the records."""
    idf = ID_FIELD[kind]
    labels = {c.name: c.label for c in cols}
    main = MAIN_TIME[kind]
    ts = [c for c in cols if c.type == "timestamp"]
    row = "rowid + 2" if source == "typed" else "file_row"
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
    if main in labels:
        # The file's own range, robust to a few stray values: the median plus or minus four
        # median absolute deviations and a margin (a 2005 date in a 2024 file stands out).
        # Over a large file, every k-th row is as good and a fraction of the sort: the bounds
        # carry a margin of months, and the same file always gives the same rows.
        step = result.records // _RANGE_SAMPLE_ROWS if source in ("typed", "collapsed") else 0
        sample, sample_params = ("WHERE rowid % ? = 0", [step]) if step > 1 else ("", [])
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


# --------------------------------------------------------------------------------------------
# Merge into the canonical table, keeping what is replaced for undo
# --------------------------------------------------------------------------------------------

def _merge(con, kind, jurisdiction, import_id, result):
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
