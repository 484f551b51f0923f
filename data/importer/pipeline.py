"""The pipeline's entry points and its steps in order: read -> map -> validate -> stage ->
commit, in one transaction (the plan, ``Plan``, carries what the steps share)."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path


from .. import acs, aggregates, columns, crosswalk, facts
from ..errors import DataError, ImportRefused, MappingError
from ..links import refresh_links
from ..profiles import (Profile, header_signature, load_profile, resolve_columns)
from ..readers import stage_file
from ..schema import (FIELDS, KINDS)
from .codes import is_mapped, value_tables
from .commit import merge_records, write_ledger
from .detect import note_midnight_only, recheck_failed_times, timestamp_formats
from .population import (acs_file_rows, acs_rejects, acs_reshape, population_totals,
                         write_acs_rejects)
from .raw import Column, read_file
from .stage import build_records, final_records
from .validate import build_typed, collect_warnings, find_rejects, write_rejects
from .zones import fast_zones


def _shown(n) -> str:
    """A count, or why it is missing: a check's New/Updated are an analyst's (service.guarded)."""
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
    midnight_only: list[str] = field(default_factory=list)  # time fields read as dates alone
    # Calls: the crosswalk rows added for call types new to the jurisdiction (added,
    # categorised, uncategorised, call_types).
    crosswalk: dict | None = None

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
        if self.crosswalk and self.crosswalk["added"]:
            x = self.crosswalk
            lines.append(f"  crosswalk: {x['added']:,} new call type(s), {x['categorised']:,} "
                         f"given a category by a confident suggestion, {x['uncategorised']:,} "
                         "left to map (python -m data crosswalk suggest)")
        lines += [f"  {n}" if n.startswith("warning: ") else f"  note: {n}" for n in self.notes]
        return lines


def preview(con, path, *, kind: str, file_name: str | None = None, work_dir=None,
            limit: int = 20, encoding: str | None = None, sheet=None):
    """Headers, suggestions and the first rows of a file, without writing anything."""
    _check_kind(kind)
    staged = stage_file(con, path, file_name=file_name, work_dir=_work_dir(con, work_dir),
                        encoding=encoding, sheet=sheet)
    try:
        acs_reshape(con, staged, kind)  # an ACS table export: preview its long rows
        cols = ", ".join(f"c{i}" for i in range(len(staged.headers)))
        rows = read_file(con, staged, f"SELECT {cols} FROM staged_raw LIMIT ?", [limit]).fetchall()
        count = read_file(con, staged, "SELECT count(*) FROM staged_raw").fetchone()[0]
        # Suggestions judge a bounded sample of the values, not the headers alone.
        return {"headers": staged.headers, "rows": rows, "row_count": count,
                "suggestions": _suggestions(con, staged, kind),
                "duplicates": columns.duplicate_headers(staged.headers),
                "format": staged.format, "encoding": staged.encoding,
                "delimiter": staged.delimiter}
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
        acs_file = acs_reshape(con, staged, kind, opts.get("source"))
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
                                          jurisdiction, lambda: _suggestions(con, staged, kind))
    opts = profile.options
    positions = resolve_columns(profile, staged.headers, file_name)
    cols = _columns(kind, positions, staged.headers, profile)
    tz, tz_is_new = _jurisdiction_zone(con, jurisdiction, tz_name or opts.get("timezone"))
    result = ImportResult(kind, jurisdiction, file_name, "", "committed", profile=profile,
                          profile_source=source, notes=list(staged.notes))
    report("detecting formats", 0.15)
    formats, order = timestamp_formats(con, staged, cols, profile, file_name)
    report("parsing", 0.25)
    build_typed(con, staged, kind, cols, formats, tz, opts)
    result.rows_read = con.execute("SELECT count(*) FROM typed").fetchone()[0]
    if result.rows_read == 0:
        raise ImportRefused(f"{file_name} has a header but no data rows; nothing to import.")
    recheck_failed_times(con, staged, cols, order, tz,
                          detect="timestamp_format" not in opts)
    note_midnight_only(con, cols, tz, result)
    report("mapping values", 0.5)
    result.value_mappings = value_tables(con, cols, profile)
    report("validating", 0.6)
    find_rejects(con, staged, cols, result, opts, file_name)
    if acs_file is not None:
        acs_rejects(acs_file, result, opts, file_name)
    report("collapsing", 0.7)
    plan = _Plan(staged, kind, jurisdiction, cols, tz, tz_is_new, result, acs=acs_file)
    plan.source = build_records(con, kind, cols, opts, result, file_name)
    if acs_file is not None:
        plan.source = acs_file_rows(con, plan.source)
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
    final_records(con, plan.kind, plan.cols, plan.jurisdiction, result.import_id, plan.tz,
                   plan.source, result.profile.options, fast_zones(plan.staged))
    if plan.kind == "population":
        population_totals(con, plan.cols, result)
    if plan.acs is not None:
        write_acs_rejects(con, plan.acs, result.import_id)
    else:
        write_rejects(con, plan.staged, result)
    collect_warnings(con, plan.kind, plan.cols, plan.jurisdiction, result.import_id, result,
                      plan.source)
    if plan.kind == "calls":
        _starter_crosswalk(con, plan.jurisdiction, result)
    merge_records(con, plan.kind, plan.jurisdiction, result.import_id, result)
    if result.crosswalk and result.crosswalk["added"] and result.crosswalk["had_calls"]:
        # Calls of earlier imports with a type new to the crosswalk (a database from before
        # types were added at import): their category and eligibility change too.
        facts.refresh(con, plan.jurisdiction, result.crosswalk["call_types"])
    refresh_links(con, plan.jurisdiction, plan.kind)
    aggregates.after_import(con, plan.jurisdiction, plan.kind, result.import_id)
    write_ledger(con, result, plan.tz_is_new)
    return result


def _starter_crosswalk(con, jurisdiction, result) -> None:
    """Crosswalk rows for the call types new to the jurisdiction, before the calls are merged
    (so that the merge derives their category and eligibility in the same statement)."""
    types = [r[0] for r in con.execute(
        "SELECT DISTINCT call_type FROM incoming n WHERE call_type IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM crosswalk w WHERE w.jurisdiction = ? AND w.call_type = n.call_type)",
        [jurisdiction]).fetchall()]
    had = con.execute("SELECT count(*) > 0 FROM (SELECT 1 FROM calls WHERE jurisdiction = ? "
                      "LIMIT 1)", [jurisdiction]).fetchone()[0]
    result.crosswalk = {**crosswalk.add_starter_rows(con, jurisdiction, types,
                                                     result.import_id), "had_calls": had}


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


def _choose_profile(profile, kind, headers, file_name, profile_dir, jurisdiction, suggestions):
    """The given profile, else the jurisdiction's saved one for these headers (never another
    jurisdiction's), else a confident suggestion from the headers and the values
    (``suggestions()``, read only when needed)."""
    if profile is not None:
        return profile, "given"
    stored = find_stored_profile(profile_dir, kind, headers, jurisdiction)
    if stored:
        return load_profile(stored), "stored"
    sugg = suggestions()
    weak = [f.name for f in FIELDS[kind] if f.required
            and (f.name not in sugg or not sugg[f.name].headers
                 or sugg[f.name].confidence < 0.9)]
    if weak:
        asked = [f"{n}: {' or '.join(repr(a) for a in sugg[n].alternatives)}" for n in weak
                 if n in sugg and sugg[n].alternatives]
        raise MappingError(
            f"{file_name}: no saved profile matches these headers, and the required field(s) "
            f"{', '.join(weak)} could not be matched with confidence"
            + (f" (several columns fit: {'; '.join(asked)})" if asked else "")
            + f". Write a profile (python -m data suggest {file_name} --kind {kind} prints a "
            "draft) and pass it with --profile.")
    prof = Profile(kind, {k: list(x.headers) for k, x in sugg.items() if x.headers},
                   headers=list(headers))
    return prof, "suggested"


def _suggestions(con, staged, kind) -> dict:
    """Suggestions from the headers and a bounded sample of the values (data/columns.py)."""
    cols = ", ".join(f"c{i}" for i in range(len(staged.headers)))
    sample = read_file(con, staged, f"SELECT {cols} FROM staged_raw LIMIT ?",
                   [columns.SAMPLE_ROWS]).fetchall()
    values = [list(v) for v in zip(*sample)] if sample else [[] for _ in staged.headers]
    return columns.suggest(kind, staged.headers, values)


def _columns(kind, positions, headers, profile) -> list[Column]:
    cols = []
    for f in FIELDS[kind]:
        if f.name in positions:
            pos = positions[f.name]
            c = Column(f.name, f.type, pos, " + ".join(headers[i] for i in pos), f.value_set)
            c.mapped = is_mapped(c, profile)
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
