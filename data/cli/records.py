"""The ledger, the crosswalk, settings and upkeep: suggest, imports, undo, crosswalk, settings,
refresh, docs, demo."""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..connection import connect
from ..errors import DataError
from ..importer import preview
from ..ledger import list_imports
from ..profiles import Profile
from ..schema import KINDS
from .base import _connect, _db, _guarded, _local, cli, db_option


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
    from ..call_types import suggest_for

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
    from .. import program
    from ..crosswalk import category_options

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
    from .. import aggregates, facts
    from ..importer import one_transaction

    con = _connect(db_path)
    try:
        stale = facts.stale_rows(con)
        with one_transaction(con):
            facts.refresh(con)  # with the calls' monthly tables
            aggregates.refresh(con, source="responses")
            aggregates.refresh(con, source="referrals")
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
    from ..docs import replace_data_model

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
    from ..costs import load_demo_costs
    from ..demo import populate_demo

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


