"""The pipeline's entry points and its steps in order: read -> map -> validate -> stage ->
commit, in one transaction (the plan, ``Plan``, carries what the steps share)."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
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
from .plan import ImportResult, Plan
from .raw import Column, read_file
from .stage import build_records, final_records
from .validate import build_typed, collect_warnings, find_rejects, write_rejects


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
    return run_import(con, path, kind=kind, jurisdiction=jurisdiction, profile=profile,
                      file_name=file_name, dry_run=dry_run, work_dir=work_dir,
                      profile_dir=profile_dir, timezone_name=timezone_name, progress=progress,
                      saved_by=saved_by)


def import_held(con, path, **kwargs) -> ImportResult:
    """``import_file`` inside a transaction the caller holds and commits (or rolls back): the
    same steps, so several imports can be all or nothing (the demo cohort's twenty). Every
    temp table of the connection is dropped at the end, as ``import_file`` does."""
    return run_import(con, path, held=True, **kwargs)


def run_import(con, path, *, kind: str, jurisdiction: str, profile=None, file_name=None,
               dry_run: bool = False, work_dir=None, profile_dir=None, timezone_name=None,
               progress=None, saved_by=None, held: bool = False) -> ImportResult:
    """The one import path: ``held`` when the caller holds the transaction."""
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
        plan = _plan(con, staged, acs_file, kind=kind, jurisdiction=jurisdiction,
                     profile=profile, file_name=file_name, profile_dir=profile_dir,
                     tz_name=timezone_name)
        _prepare(con, plan, report)
        prior = con.execute("SELECT import_id FROM imports WHERE file_sha256 = ? AND "
                            "jurisdiction = ? AND kind = ? AND status = 'committed'",
                            [staged.sha256, jurisdiction, kind]).fetchone()
        if prior:
            return ImportResult(kind, jurisdiction, file_name, staged.sha256, "already_imported",
                                previous_import=prior[0])
        report("writing", 0.8)
        if held:
            result = _commit(con, plan, dry_run)
        else:
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


def _plan(con, staged, acs_file, *, kind, jurisdiction, profile, file_name, profile_dir,
          tz_name) -> Plan:
    """The plan of one import: its profile (given, stored or suggested), the fields' columns
    and the jurisdiction's zone. Nothing is written here."""
    if acs_file is not None:
        profile, source = acs.profile_for(profile, acs_file.layout, file_name), "acs"
    else:
        profile, source = _choose_profile(profile, kind, staged.headers, file_name, profile_dir,
                                          jurisdiction, lambda: _suggestions(con, staged, kind))
    positions = resolve_columns(profile, staged.headers, file_name)
    cols = _columns(kind, positions, staged.headers, profile)
    tz, tz_is_new = _jurisdiction_zone(con, jurisdiction,
                                       tz_name or profile.options.get("timezone"))
    result = ImportResult(kind, jurisdiction, file_name, "", "committed", profile=profile,
                          profile_source=source, notes=list(staged.notes))
    return Plan(staged, kind, jurisdiction, file_name, profile, cols, tz, tz_is_new, result,
                acs=acs_file)


def _prepare(con, plan: Plan, report) -> None:
    """The temp work, in order: formats, typed rows, values, rejects, one row per record."""
    result = plan.result
    report("detecting formats", 0.15)
    formats, order = timestamp_formats(con, plan)
    report("parsing", 0.25)
    build_typed(con, plan, formats)
    result.rows_read = con.execute("SELECT count(*) FROM typed").fetchone()[0]
    if result.rows_read == 0:
        raise ImportRefused(f"{plan.file_name} has a header but no data rows; nothing to "
                            "import.")
    recheck_failed_times(con, plan, order)
    note_midnight_only(con, plan)
    report("mapping values", 0.5)
    result.value_mappings = value_tables(con, plan)
    report("validating", 0.6)
    find_rejects(con, plan)
    if plan.acs is not None:
        acs_rejects(plan)
    report("collapsing", 0.7)
    plan.source = build_records(con, plan)
    if plan.acs is not None:
        plan.source = acs_file_rows(con, plan.source)


def _commit(con, plan: Plan, dry_run: bool) -> ImportResult:
    result = plan.result
    result.status = "dry_run" if dry_run else "committed"
    result.sha256 = plan.staged.sha256
    if plan.tz_is_new:
        con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone) VALUES (?, ?)",
                    [plan.jurisdiction, plan.tz])
        result.notes.append(f"new jurisdiction '{plan.jurisdiction}' (time zone {plan.tz})")
    result.import_id = con.execute("SELECT nextval('import_seq')").fetchone()[0]
    final_records(con, plan)
    if plan.kind == "population":
        population_totals(con, plan)
    if plan.acs is not None:
        write_acs_rejects(con, plan)
    else:
        write_rejects(con, plan)
    collect_warnings(con, plan)
    if plan.kind == "calls":
        _starter_crosswalk(con, plan.jurisdiction, result)
    merge_records(con, plan)
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
    return Path(work_dir) if work_dir is not None else staging_folder(con)


def staging_folder(con) -> Path:
    """The folder for an import's private files: inside the database's folder, which the
    locked connection may read."""
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                     ).fetchall()[0][0]
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
