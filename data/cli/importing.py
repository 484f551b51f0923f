"""``python -m data import`` and ``python -m data costs``: files and entries in one transaction.

While the dashboard holds the database, ``import`` hands its file to the running server
(``data/handover.py``) and waits for the same summary; with no server it imports directly.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..connection import connect
from ..errors import DataError
from ..importer import preview
from ..profiles import Profile, suggested_profile
from ..schema import IMPORT_KINDS, VALUE_SETS
from .base import _connect, _db, _guarded, _local, _progress, cli, db_option


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
    if kind == "costs":
        given = [name for name, v in (("--profile", profile_path), ("--timezone", tz),
                                      ("--dayfirst/--monthfirst", dayfirst),
                                      ("--encoding", encoding), ("--area-property",
                                                                 area_property)) if v is not None]
        if given:
            raise click.UsageError(f"{', '.join(given)} do(es) not apply to a costs file: its "
                                   "columns are found by their headers (period, stream, "
                                   "amount, fte).")
    profile = _profile(file, kind, profile_path, dayfirst, encoding)
    request = {"file": str(Path(file).resolve()), "file_name": Path(file).name, "kind": kind,
               "jurisdiction": jurisdiction, "dry_run": dry_run, "timezone": tz,
               "area_property": area_property}
    bar = _progress() if sys.stderr.isatty() and not as_json else None
    try:
        out = _through_server(request, profile, db_path, bar)
        if out is None:  # no dashboard holds the database: import here, as the server would
            out = _import_here(request, profile, db_path, bar)
    except DataError as e:
        raise click.ClickException(str(e)) from None
    _print_outcome(out, kind, as_json)


def _profile(file, kind, profile_path, dayfirst, encoding) -> Profile | None:
    """The profile given (``--profile``), with ``--dayfirst``/``--encoding`` applied."""
    from ..profiles import load_profile

    if kind in ("boundaries", "costs"):
        return None
    try:
        profile = load_profile(profile_path) if profile_path else None
        if dayfirst is not None or encoding:
            profile = profile or _suggest_for(file, kind, encoding)
            if dayfirst is not None:
                profile.options["dayfirst"] = dayfirst
            if encoding:
                profile.options["encoding"] = encoding
    except DataError as e:
        raise click.ClickException(str(e)) from None
    return profile


def _through_server(request, profile, db_path, bar) -> dict | None:
    """The outcome of the import run by the dashboard server holding the database; None when
    no server takes imports for it (``data/handover.py``)."""
    from .. import handover

    wire = {**request, "profile": profile.to_toml() if profile else None}
    try:
        return handover.hand_over(_db(db_path), wire, progress=bar)
    except handover.NoServer:
        return None


def _import_here(request, profile, db_path, bar) -> dict:
    from service.handover import next_steps, run_import

    from .. import handover

    con = _connect(db_path, request["file"])
    try:
        # Through the guarded facade as the local principal: a shell import is audited too.
        result = run_import(con, request["file"], _db(db_path), bar, profile=profile,
                            **{k: v for k, v in request.items() if k != "file"})
        return handover.outcome(result, next_steps(con, result))
    finally:
        con.close()


def _print_outcome(out: dict, kind: str, as_json: bool) -> None:
    result, steps = out["result"], out["next_steps"]
    if as_json:
        extra = {} if kind in ("boundaries", "costs") else {"next_steps": steps}
        click.echo(json.dumps({**result, **extra}, indent=2))
        return
    if result["status"] == "unchanged":
        click.echo(f"Nothing changed: {result['jurisdiction']} already has these costs.")
        return
    click.echo("\n".join(out["summary"]))
    if result.get("profile_path"):
        click.echo(f"  mapping suggested from the headers; saved to {result['profile_path']} "
                   "(edit it to change the mapping; the next export reuses it)")
    if steps:
        click.echo(f"What still keeps {result['jurisdiction']}'s pages empty or wrong:")
        click.echo("\n".join(f"  - {s['text']} Fix: {s['where']}." for s in steps))


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
            from ..costs import stored_costs

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


def _suggest_for(file, kind, encoding=None) -> Profile:
    """A profile suggested from the file's headers alone: read on a private in-memory
    database, so that it works while the dashboard holds the database file."""
    con = connect(":memory:", readable_dirs=(Path(file).resolve().parent,))
    try:
        info = preview(con, file, kind=kind, limit=1, encoding=encoding)
    finally:
        con.close()
    return suggested_profile(kind, info["headers"])


