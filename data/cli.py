"""Command line for the data layer: import, imports, undo, suggest, crosswalk (suggest),
settings, refresh, demo, audit.

Each command opens the database, calls one function of the library and turns a DataError into a
one-paragraph message with a non-zero exit code (never a traceback).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .connection import connect, default_db_path
from .errors import DataError
from .importer import preview
from .ledger import list_imports
from .profiles import Profile, suggested_profile
from .schema import IMPORT_KINDS, KINDS, VALUE_SETS

db_option = click.option("--db", "db_path", type=click.Path(dir_okay=False),
                         help="DuckDB file (default: data/cohort.duckdb or $A911_DB).")


def _db(db_path):
    return Path(db_path) if db_path else default_db_path()


def _profiles_dir(db_path):
    return _db(db_path).resolve().parent / "profiles"


@click.group()
def cli():
    """Load exports into the outcome-tracking database."""


@cli.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", type=click.Choice(IMPORT_KINDS), required=True,
              help="What the file holds (boundaries: a GeoJSON of the areas; costs: "
                   "period, stream, amount and fte columns).")
@click.option("--jurisdiction", required=True,
              help="Whose data this is (never read from the file).")
@click.option("--profile", "profile_path", type=click.Path(exists=True, dir_okay=False),
              help="Mapping profile (TOML). Default: a saved profile matching the headers.")
@click.option("--timezone", "tz", help="Time zone of a new jurisdiction, e.g. America/Chicago.")
@click.option("--dayfirst/--monthfirst", default=None, help="Order of day and month in dates.")
@click.option("--encoding", help="The file's text encoding, if detection gets it wrong.")
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--area-property", help="Boundaries: the GeoJSON property naming the areas "
                                      "(default: the one matching the calls' areas).")
@db_option
def import_(file, kind, jurisdiction, profile_path, tz, encoding, dayfirst, dry_run, as_json,
            area_property, db_path):
    """Import FILE (CSV, CSV.gz or XLSX; GeoJSON for boundaries) in one transaction.

    Example: python -m data import calls.csv --kind calls --jurisdiction Springfield
    """
    from .profiles import load_profile

    if kind == "boundaries":
        _import_boundaries(file, jurisdiction, area_property, dry_run, as_json, db_path)
        return
    if kind == "costs":
        given = [name for name, v in (("--profile", profile_path), ("--timezone", tz),
                                      ("--dayfirst/--monthfirst", dayfirst),
                                      ("--encoding", encoding), ("--area-property",
                                                                 area_property)) if v is not None]
        if given:
            raise click.UsageError(f"{', '.join(given)} do(es) not apply to a costs file: its "
                                   "columns are found by their headers (period, stream, "
                                   "amount, fte).")
        _import_costs(file, jurisdiction, dry_run, as_json, db_path)
        return
    try:
        profile = load_profile(profile_path) if profile_path else None
        if dayfirst is not None or encoding:
            profile = profile or _suggest_for(file, kind, db_path, encoding)
            if dayfirst is not None:
                profile.options["dayfirst"] = dayfirst
            if encoding:
                profile.options["encoding"] = encoding
    except DataError as e:
        raise click.ClickException(str(e)) from None
    con = _connect(db_path, file)
    bar = _progress() if sys.stderr.isatty() and not as_json else None
    try:
        # Through the guarded facade as the local principal: a shell import is audited too.
        result = _guarded().import_file(con, _local(), file, kind=kind,
                                        jurisdiction=jurisdiction, profile=profile,
                                        dry_run=dry_run, profile_dir=_profiles_dir(db_path),
                                        timezone_name=tz, progress=bar)
        steps = _next_steps(con, result)
    except DataError as e:
        raise click.ClickException(str(e)) from None
    finally:
        con.close()
    if as_json:
        out = {k: v for k, v in result.__dict__.items() if k not in ("profile",)}
        click.echo(json.dumps({**out, "next_steps": steps}, default=str, indent=2))
    else:
        click.echo("\n".join(result.summary_lines()))
        if result.profile_path:
            click.echo(f"  mapping suggested from the headers; saved to {result.profile_path} "
                       "(edit it to change the mapping; the next export reuses it)")
        if steps:
            click.echo(f"What still keeps {result.jurisdiction}'s pages empty or wrong:")
            click.echo("\n".join(f"  - {s['text']} Fix: {s['where']}." for s in steps))


def _next_steps(con, result) -> list[dict]:
    """After a committed import of records: what still keeps the pages empty or wrong."""
    from .program import next_steps

    if result.status != "committed" or result.kind == "population":
        return []
    return next_steps(con, result.jurisdiction)


def _import_boundaries(file, jurisdiction, area_property, dry_run, as_json, db_path):
    con = _connect(db_path, file)
    try:
        # Through the guarded facade, as every import: audited as the local principal.
        result = _guarded().import_boundaries(con, _local(), file, jurisdiction=jurisdiction,
                                              area_property=area_property, dry_run=dry_run)
    except DataError as e:
        raise click.ClickException(str(e)) from None
    finally:
        con.close()
    if as_json:
        click.echo(json.dumps({k: v for k, v in result.__dict__.items() if k != "profile"},
                              default=str, indent=2))
    else:
        click.echo("\n".join(result.summary_lines()))


def _import_costs(file, jurisdiction, dry_run, as_json, db_path):
    con = _connect(db_path, file)
    try:
        # Through the guarded facade, as every import: audited as the local principal.
        result = _guarded().import_costs(con, _local(), file, jurisdiction=jurisdiction,
                                         dry_run=dry_run)
    except DataError as e:
        raise click.ClickException(str(e)) from None
    finally:
        con.close()
    _print_result(result, as_json)


def _print_result(result, as_json):
    if as_json:
        click.echo(json.dumps({k: v for k, v in result.__dict__.items() if k != "profile"},
                              default=str, indent=2))
    elif result.status == "unchanged":
        click.echo(f"Nothing changed: {result.jurisdiction} already has these costs.")
    else:
        click.echo("\n".join(result.summary_lines()))


@cli.command(name="costs")
@click.option("--jurisdiction", required=True, help="Whose costs these are.")
@click.option("--period", help="2025-Q1, 2025-03, 2025 or 2024-07..2025-06 (whole months). "
                               "May be left out for --police-hourly-cost alone.")
@click.option("--stream", type=click.Choice(VALUE_SETS["funding_stream"]),
              help="Funding stream of --amount.")
@click.option("--amount", help="Program cost in dollars for the period and stream.")
@click.option("--fte", help="Full-time equivalents paid from it (optional).")
@click.option("--police-hourly-cost", "police_hourly",
              help="The police department's fully loaded cost per unit-hour, in dollars.")
@click.option("--list", "show", is_flag=True, help="Print the costs stored, change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@db_option
def costs_cmd(jurisdiction, period, stream, amount, fte, police_hourly, show, as_json, db_path):
    """Enter program costs (per period and funding stream) or the police cost per unit-hour.

    Recorded like an import (python -m data imports lists it; python -m data undo N undoes
    it). A file of many periods: python -m data import costs.csv --kind costs.

    Example: python -m data costs --jurisdiction Riverton --period 2025-Q1 --stream arpa_slfrf
    --amount 250000 --fte 4
    """
    entries = _cost_entries(period, stream, amount, fte, police_hourly, show)
    con = _connect(db_path)
    try:
        if show:
            from .costs import stored_costs

            _print_costs(stored_costs(con, jurisdiction), as_json)
            return
        result = _guarded().enter_costs(con, _local(), jurisdiction, entries,
                                        source="the command line")
    except DataError as e:
        raise click.ClickException(str(e)) from None
    finally:
        con.close()
    _print_result(result, as_json)


def _cost_entries(period, stream, amount, fte, police_hourly, show) -> list[dict]:
    """The entries the options describe; a UsageError for options that do not go together."""
    if show:
        return []
    if (stream is None) != (amount is None):
        raise click.UsageError("--stream and --amount go together (a cost of one stream).")
    if stream is None and police_hourly is None:
        raise click.UsageError("Give --stream with --amount, or --police-hourly-cost (or "
                               "--list to see what is stored).")
    if stream is not None and not period:
        raise click.UsageError("--amount needs --period (e.g. 2025-Q1).")
    if fte is not None and stream is None:
        raise click.UsageError("--fte goes with --stream and --amount.")
    entries = []
    if stream is not None:
        entries.append({"period": period, "stream": stream, "amount": amount, "fte": fte})
    if police_hourly is not None:
        entries.append({"period": period, "stream": "police_hourly_cost",
                        "amount": police_hourly})
    return entries


def _print_costs(rows, as_json):
    if as_json:
        click.echo(json.dumps(rows, default=str, indent=2))
        return
    if not rows:
        click.echo("No costs stored for this jurisdiction.")
        return
    for r in rows:
        fte = f"  {r['fte']:g} FTE" if r["fte"] is not None else ""
        click.echo(f"{r['period'] or 'every period':<18} {r['stream']:<20} "
                   f"${r['amount']:>14,.2f}{fte}  (import #{r['import_id']})")


def _guarded():
    from service import guarded  # imports the metrics package: only for the commands that write

    return guarded


def _local():
    from service.access import LOCAL  # whoever runs the shell has the database file: every right

    return LOCAL


def _suggest_for(file, kind, db_path, encoding=None) -> Profile:
    con = _connect(db_path, file)
    try:
        info = preview(con, file, kind=kind, limit=1, encoding=encoding)
    finally:
        con.close()
    return suggested_profile(kind, info["headers"])


def _progress():
    def report(step, frac):
        click.echo(f"\r{step:<20} {int(frac * 100):3d}%", nl=False, err=True)
        if frac >= 1:
            click.echo("", err=True)
    return report


def _connect(db_path, file=None):
    dirs = (Path(file).resolve().parent,) if file else ()
    try:
        return connect(_db(db_path), readable_dirs=dirs)
    except Exception as e:  # a locked or corrupt database file: say so plainly
        raise click.ClickException(f"cannot open the database {_db(db_path)}: "
                                   f"{str(e).splitlines()[0]}") from None


@cli.command(name="suggest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", type=click.Choice(KINDS), required=True)
@db_option
def suggest_cmd(file, kind, db_path):
    """Print a draft mapping profile (TOML) for FILE, with a confidence per field.

    Example: python -m data suggest calls.csv --kind calls > calls.toml
    """
    con = _connect(db_path, file)
    try:
        info = preview(con, file, kind=kind, limit=1)
    except DataError as e:
        raise click.ClickException(str(e)) from None
    finally:
        con.close()
    for s in info["suggestions"].values():  # from the headers and the values (data/columns.py)
        cols = ", ".join(s.headers) or "which one? " + " or ".join(s.alternatives)
        click.echo(f"# {s.field}: {cols} (confidence {s.confidence:.2f}, from the {s.how})")
    click.echo(Profile(kind, {k: list(s.headers) for k, s in info["suggestions"].items()
                              if s.headers}, headers=info["headers"]).to_toml())


@cli.command(name="imports")
@click.option("--jurisdiction", help="Only this jurisdiction.")
@db_option
def imports_cmd(jurisdiction, db_path):
    """List the imports ledger.

    Example: python -m data imports --jurisdiction Springfield
    """
    con = _connect(db_path)
    rows = list_imports(con, jurisdiction)
    con.close()
    if not rows:
        click.echo("No imports yet.")
        return
    click.echo(f"{'id':>4}  {'status':<9} {'kind':<10} {'jurisdiction':<18} {'read':>9} "
               f"{'inserted':>9} {'updated':>8} {'rejected':>8}  file")
    for r in rows:
        click.echo(f"{r['import_id']:>4}  {r['status']:<9} {r['kind']:<10} "
                   f"{r['jurisdiction'][:18]:<18} {r['rows_read']:>9,} {r['rows_inserted']:>9,} "
                   f"{r['rows_updated']:>8,} {r['rows_rejected']:>8,}  {r['file_name']}")


@cli.command(name="undo")
@click.argument("import_id", type=int)
@db_option
def undo_cmd(import_id, db_path):
    """Undo an import, restoring exactly the state before it.

    Example: python -m data undo 7
    """
    con = _connect(db_path)
    try:
        out = _guarded().undo_import(con, _local(), import_id)
    except DataError as e:
        raise click.ClickException(str(e)) from None
    finally:
        con.close()
    click.echo(f"Undid import #{import_id} ({out['kind']}, {out['jurisdiction']}): removed "
               f"{out['rows_removed']:,} rows, restored {out['rows_restored']:,}.")


@cli.group(name="crosswalk", invoke_without_command=True)
@click.option("--jurisdiction", help="Add starter rows for this jurisdiction's call types.")
@db_option
@click.pass_context
def crosswalk_group(ctx, jurisdiction, db_path):
    """The call-type crosswalk. Without a sub-command: add starter rows for a jurisdiction's
    call types that have none (a confident suggestion's category, else none).

    Example: python -m data crosswalk --jurisdiction Springfield
             python -m data crosswalk suggest --types-file types.txt --json
    """
    if ctx.invoked_subcommand is not None:
        return
    if not jurisdiction:
        raise click.UsageError("Give --jurisdiction NAME (or a sub-command such as suggest).")
    con = _connect(db_path)
    try:
        out = _guarded().apply_starter_crosswalk(con, _local(), jurisdiction)
    finally:
        con.close()
    click.echo(f"Added {out['added']:,} call types: {out['categorised']:,} given a category by "
               f"a confident suggestion, {out['uncategorised']:,} left unmapped for you to map.")


@crosswalk_group.command(name="suggest")
@click.option("--jurisdiction", help="Suggest for this jurisdiction's call types (most calls "
                                     "first), learning from the other jurisdictions only.")
@click.option("--types-file", type=click.Path(exists=True, dir_okay=False),
              help="A text file with one call type per line (instead of the database's).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@db_option
def crosswalk_suggest_cmd(jurisdiction, types_file, as_json, db_path):
    """Suggest a standard category, with a confidence (0-1), for each call type. Changes
    nothing: the database is opened read-only (and not created when it does not exist).

    Example: python -m data crosswalk suggest --jurisdiction Springfield --json
    """
    from .call_types import suggest_for

    if not (jurisdiction or types_file):
        raise click.UsageError("Give --jurisdiction NAME, --types-file FILE, or both.")
    types = None
    if types_file:
        text = Path(types_file).read_text(encoding="utf-8-sig", errors="replace")
        types = list(dict.fromkeys(t.strip() for t in text.splitlines() if t.strip()))
    con, calls = _read_only(db_path, need=bool(jurisdiction) and not types_file), {}
    try:
        if jurisdiction and _has_table(con, "calls"):
            calls = dict(con.execute("SELECT call_type, count(*) FROM calls WHERE jurisdiction "
                                     "= ? GROUP BY 1", [jurisdiction]).fetchall())
            if types is None and not calls:
                raise click.ClickException(f"{jurisdiction} has no calls in {_db(db_path)}.")
        found = suggest_for(con, jurisdiction, types)
    finally:
        con.close()
    rows = [{**s.as_dict(), **({"calls": calls.get(s.call_type, 0)} if jurisdiction else {})}
            for s in found]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(f"{r['confidence']:4.2f} {'*' if r['confident'] else ' '} "
                   f"{r['category'] or '-':<16} {r['call_type']}  ({r['reason']})")
    sure = sum(r["confident"] for r in rows)
    click.echo(f"{sure:,} of {len(rows):,} call types have a confident suggestion (*).")


def _read_only(db_path, need: bool):
    """The database read-only; an empty in-memory one when the file does not exist."""
    path = _db(db_path)
    if not path.exists():
        if need:
            raise click.ClickException(f"There is no database {path}.")
        return connect(":memory:")
    try:
        return connect(path, read_only=True)
    except DataError as e:
        raise click.ClickException(str(e)) from None
    except Exception as e:
        raise click.ClickException(f"cannot open the database {path}: "
                                   f"{str(e).splitlines()[0]}") from None


def _has_table(con, name) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [name]).fetchone()[0])


@cli.command(name="settings")
@click.option("--jurisdiction", required=True)
@click.option("--launch-date", help="Program launch, YYYY-MM-DD ('none' to clear).")
@click.option("--coverage-hours", help="Local hours on duty, e.g. 8-20 or 19-7; 24h = always.")
@click.option("--coverage-days", help="Weekdays covered: 12345, Mon-Fri, Mon,Wed,Fri; all.")
@click.option("--coverage-areas", help="Areas covered, comma-separated; all = everywhere.")
@click.option("--target-categories", help="Categories the program targets, comma-separated.")
@click.option("--population", type=click.IntRange(min=0), help="Residents (0 clears it).")
@click.option("--program-name", help="The program's name.")
@db_option
def settings_cmd(jurisdiction, launch_date, coverage_hours, coverage_days, coverage_areas,
                 target_categories, population, program_name, db_path):
    """Show a jurisdiction's program settings, or change them (audited, as on the Admin page);
    eligibility of its calls is worked out again at once.

    Example: python -m data settings --jurisdiction Springfield --launch-date 2024-06-01
             --coverage-hours 8-20 --coverage-days Mon-Fri --target-categories MENTAL_HEALTH
    """
    from . import program
    from .crosswalk import category_options

    con = _connect(db_path)
    try:
        before = program.current(con, jurisdiction)
        if before is None:
            raise click.ClickException(f"There is no jurisdiction {jurisdiction} in "
                                       f"{_db(db_path)}.")
        changes = {}
        if launch_date is not None:
            changes["launch_date"] = program.parse_date(launch_date)
        if coverage_hours is not None:
            changes["coverage_start_hour"], changes["coverage_end_hour"] = \
                program.parse_hours(coverage_hours)
        if coverage_days is not None:
            changes["coverage_days"] = program.parse_days(coverage_days)
        if coverage_areas is not None:
            changes["coverage_areas"] = program.parse_list(coverage_areas)
        if target_categories is not None:
            changes["target_categories"] = program.parse_categories(
                target_categories, category_options(con, jurisdiction))
        if population is not None:
            changes["population"] = population or None
        if program_name is not None:
            changes["program_name"] = program_name.strip() or None
        eligible = _eligible_calls(con, jurisdiction)
        if changes:
            _guarded().update_jurisdiction(con, _local(), jurisdiction, **changes)
        after = program.current(con, jurisdiction)
        now = _eligible_calls(con, jurisdiction)
    except DataError as e:
        raise click.ClickException(str(e)) from None
    finally:
        con.close()
    click.echo(f"Settings of {jurisdiction}" + (" (changed)" if changes else "") + ":")
    click.echo("\n".join(f"  {line}" for line in program.describe(after)))
    if changes:
        click.echo(f"Eligible calls: {now:,} (were {eligible:,}).")


def _eligible_calls(con, jurisdiction) -> int:
    return con.execute("SELECT count(*) FILTER (WHERE effective_eligible) FROM calls "
                       "WHERE jurisdiction = ?", [jurisdiction]).fetchone()[0]


@cli.command(name="refresh")
@db_option
def refresh_cmd(db_path):
    """Work out again every call's category and eligibility (the derived columns of calls)
    and the monthly tables of counts.

    Imports, undo and the crosswalk and settings editors keep them current; run this after
    changing the calls, responses, crosswalk or jurisdictions tables by hand.

    Example: python -m data refresh
    """
    from . import aggregates, facts
    from .importer import one_transaction

    con = _connect(db_path)
    try:
        stale = facts.stale_rows(con)
        with one_transaction(con):
            facts.refresh(con)  # with the calls' monthly tables
            aggregates.refresh(con, source="responses")
        n = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    finally:
        con.close()
    click.echo(f"Worked out {n:,} calls again; {stale:,} had been out of date.")


@cli.command(name="docs")
@click.option("--readme", type=click.Path(exists=True, dir_okay=False), default="README.md",
              show_default=True)
def docs_cmd(readme):
    """Rewrite the README's data-model section from data/schema.py.

    Example: python -m data docs --readme README.md
    """
    from .docs import replace_data_model

    path = Path(readme)
    path.write_text(replace_data_model(path.read_text(encoding="utf-8")), encoding="utf-8")
    click.echo(f"updated the data model in {readme}")


@cli.command(name="demo")
@click.option("--seed", default=0, show_default=True)
@click.option("--if-empty", is_flag=True, help="Only when the database has no calls yet.")
@db_option
def demo_cmd(seed, if_empty, db_path):
    """Load the demo cohort (five fictional jurisdictions).

    Example: python -m data demo --if-empty
    """
    from .costs import load_demo_costs
    from .demo import populate_demo

    con = _connect(db_path)
    try:
        if if_empty and con.execute("SELECT count(*) FROM calls").fetchone()[0]:
            click.echo("The database already holds calls; demo not loaded.")
            return
        counts = populate_demo(con, seed=seed)
        # The demo's program costs, through the costs import kind (data/demo_costs.csv).
        counts["cost rows"] = load_demo_costs(con)
    except DataError as e:
        raise click.ClickException(str(e)) from None
    finally:
        con.close()
    click.echo("Loaded the demo cohort: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@cli.group(name="audit")
def audit_group():
    """Check and export the audit trail (sign-ins, refusals, imports, undos, role changes).

    Example: python -m data audit verify
    """


@audit_group.command(name="verify")
@click.option("--anchor", metavar="SEQ:HASH",
              help="The last entry an earlier verify printed: also proves that nothing was cut "
                   "off the end since.")
@db_option
def audit_verify_cmd(anchor, db_path):
    """Check the audit log's hash chain; exit 1 naming the first broken entry.

    Example: python -m data audit verify --db data/cohort.duckdb
    """
    from . import audit

    mark = _anchor(anchor)
    con = _connect(db_path)
    try:
        broken, n, head = audit.check(con, mark), audit.count(con), audit.head(con)
    finally:
        con.close()
    if broken:
        raise click.ClickException(f"chain broken at {broken}")
    click.echo(f"chain intact, {n} {'entry' if n == 1 else 'entries'}")
    if head:
        click.echo(f"last entry #{head[0]}, hash {head[1]}; keep it elsewhere and pass "
                   f"--anchor {head[0]}:{head[1]} next time to prove nothing was cut off the end")


def _anchor(text):
    if not text:
        return None
    seq, _, digest = text.partition(":")
    if not (seq.isdigit() and len(digest) == 64):
        raise click.BadParameter("use SEQ:HASH as printed by `python -m data audit verify`",
                                 param_hint="--anchor")
    return int(seq), digest.lower()


@audit_group.command(name="export")
@click.option("--out", type=click.Path(dir_okay=False, writable=True),
              help="CSV file to write (default: print the CSV).")
@db_option
def audit_export_cmd(out, db_path):
    """Export the whole audit log as CSV (the export is itself recorded, as 'local').

    Example: python -m data audit export --out audit.csv
    """
    from . import audit
    from service.access import LOCAL
    from service.guarded import audit_csv

    con = _connect(db_path)
    try:
        n = audit.count(con)
        text = audit_csv(con, LOCAL)
    finally:
        con.close()
    if out is None:
        click.echo(text, nl=False)
        return
    Path(out).write_text(text, encoding="utf-8")
    click.echo(f"exported {n} {'entry' if n == 1 else 'entries'} to {out}")
