"""Command line for metrics: list, report, docs."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from .disclosure import DisclosurePolicy, describe, public_report, public_request
from .engine import Filters, MetricRequest, explain, report
from .errors import MetricError
from .registry import REGISTRY
from .sources import DIMENSIONS


@click.group()
def cli():
    """Compute the outcome metrics from the database."""


@cli.command(name="list")
def list_cmd():
    """List every metric with its id, label and unit.

    Example: python -m metrics list
    """
    for m in REGISTRY:
        click.echo(f"{m.id:<6} {m.label:<45} {m.unit}")


def _date(ctx, param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2025-01-31") from None


@cli.command(name="report")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="DuckDB file.")
@click.option("--jurisdiction", "jurisdictions", multiple=True, help="Repeat for several.")
@click.option("--from", "date_from", callback=_date, help="First day (YYYY-MM-DD), local time.")
@click.option("--to", "date_to", callback=_date, help="Last day, inclusive.")
@click.option("--category", "categories", multiple=True)
@click.option("--area", "areas", multiple=True)
@click.option("--origin", "origins", multiple=True)
@click.option("--team", "teams", multiple=True)
@click.option("--by", multiple=True, type=click.Choice(list(DIMENSIONS)), help="Group by.")
@click.option("--metric", "metric_ids", multiple=True, help="Metric id; default all.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--explain", "show_sql", is_flag=True, help="Print the SQL instead.")
@click.option("--public", is_flag=True,
              help="Print exactly what a viewer sees: small counts hidden, counts rounded.")
@click.option("--drb", is_flag=True, help="With --public: Census DRB public-release rounding.")
@click.option("--threshold", type=click.IntRange(min=0), default=10, show_default=True,
              help="With --public: hide counts from 1 to this.")
def report_cmd(db_path, jurisdictions, date_from, date_to, categories, areas, origins, teams,
               by, metric_ids, as_json, show_sql, public, drb, threshold):
    """Compute metrics for the filters, grouped by the chosen dimensions.

    With --public, rows are what a viewer may see (metrics.disclosure): hidden numbers are
    null and each row's "suppressed" says why.

    Example: python -m metrics report --metric B1 --by jurisdiction --by month --json
    """
    if (drb or threshold != 10) and not public:
        raise click.UsageError("--drb and --threshold go with --public.")
    from data.connection import connect, default_db_path
    from data.errors import DataError

    filters = Filters(tuple(jurisdictions), date_from, date_to, tuple(categories), tuple(areas),
                      tuple(origins), tuple(teams))
    request = MetricRequest(tuple(metric_ids), tuple(by), filters)
    try:
        if show_sql:
            click.echo(explain(request))
            return
        path = Path(db_path) if db_path else default_db_path()
        if not path.exists():
            raise click.ClickException(f"no database at {path}; import data first.")
        policy = DisclosurePolicy(threshold, drb) if public else None
        if public:
            public_request(request, policy)  # refuse before opening the database
        con = connect(path, read_only=True)
        try:
            doc = public_report(con, request, policy) if public else report(con, request)
        finally:
            con.close()
    except MetricError as e:
        raise click.ClickException(str(e)) from None
    except DataError as e:  # e.g. the dashboard holds the database file
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(doc, default=str, indent=1))
        return
    for note in doc.get("disclosure", {}).get("notes", []):
        click.echo(note)
    for r in doc["rows"]:
        click.echo(_text_row(r, policy))


def _text_row(r: dict, policy) -> str:
    """One row as text; hidden numbers in words (metrics.disclosure.describe)."""
    group = ", ".join(f"{k}={v}" for k, v in r["group"].items())
    hidden = r.get("suppressed", {})
    if r["value"] is None and "value" in hidden:
        # Say why the count behind it is hidden ("fewer than 11"), not just that it is derived.
        why = next((hidden[k] for k in ("numerator", "denominator", "n") if k in hidden),
                   hidden["value"])
        value = describe(why, policy)
    else:
        value = "—" if r["value"] is None else f"{r['value']:.4g}"
    frac = ""
    if r["denominator"] is not None or "denominator" in hidden:
        num = "hidden" if "numerator" in hidden else r["numerator"]
        den = "hidden" if "denominator" in hidden else r["denominator"]
        frac = f" ({num}/{den})"
    return f"{r['metric']:<6} {group:<40} {value}{frac}"


@cli.command(name="docs")
@click.option("--out", type=click.Path(dir_okay=False), default="METRICS.md", show_default=True)
def docs_cmd(out):
    """Write the methodology (METRICS.md) from the registry.

    Example: python -m metrics docs --out METRICS.md
    """
    from .methodology import methodology_markdown

    Path(out).write_text(methodology_markdown(), encoding="utf-8")
    click.echo(f"wrote {out}")


@cli.command(name="capacity")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="DuckDB file.")
@click.option("--jurisdiction", required=True, help="The jurisdiction whose calls to model.")
@click.option("--teams", type=click.IntRange(min=0), help="Teams on duty in --hours on --days.")
@click.option("--schedule", "schedule_file", type=click.Path(dir_okay=False, exists=True),
              help="A TOML file of [[shift]] tables (teams, hours, days); shifts add up.")
@click.option("--hours", default="0-24", show_default=True,
              help="Local hours the teams work, e.g. 8-20 (19-7 wraps past midnight).")
@click.option("--days", default="1234567", show_default=True,
              help="ISO weekdays the teams work (1 = Monday).")
@click.option("--max-wait", "max_wait", type=click.FloatRange(min=0), default=0.0,
              show_default=True, help="Minutes a call may wait for a team; 0: missed at once.")
@click.option("--extra-minutes", "extra_minutes", type=click.FloatRange(min=0),
              default=10.0, show_default=True,
              help="Minutes added to every call's dispatch-to-clear time (wrap-up, notes).")
@click.option("--target", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Find the fewest teams on --hours/--days reaching this coverage (0.7).")
@click.option("--from", "date_from", callback=_date, help="First day (YYYY-MM-DD), local time.")
@click.option("--to", "date_to", callback=_date, help="Last day, inclusive.")
@click.option("--runs", type=click.IntRange(2, 200), default=20, show_default=True,
              help="Runs over resampled weeks, for the 95% interval.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def capacity_cmd(ctx, db_path, jurisdiction, teams, schedule_file, hours, days, max_wait,
                 extra_minutes, target, date_from, date_to, runs, seed, as_json):
    """How many teams for what coverage: simulate a schedule over the jurisdiction's own
    eligible-type calls (metrics/capacity/), or find the smallest one for --target.

    Without --teams, --schedule or --target, the program's own schedule is modelled (its
    coverage hours and the teams its records show at work at once). Exit status 2 when the
    data cannot support the question.

    Example: python -m metrics capacity --jurisdiction Riverton --teams 2 --hours 8-20 --json
    """
    from . import capacity as cap
    from data.connection import connect, default_db_path
    from data.errors import DataError

    if sum(x is not None for x in (teams, schedule_file, target)) > 1:
        raise click.UsageError("Use one of --teams, --schedule or --target.")
    path = Path(db_path) if db_path else default_db_path()
    if not path.exists():
        raise click.ClickException(f"no database at {path}; import data first.")
    try:
        request = cap.CapacityRequest(jurisdiction, date_from, date_to)
        con = connect(path, read_only=True)
        try:
            doc = _capacity(con, cap, request, teams, schedule_file, cap.parse_hours(hours),
                            cap.parse_days(days), target,
                            dict(extra_minutes=extra_minutes, max_wait_minutes=max_wait,
                                 runs=runs, seed=seed))
        finally:
            con.close()
    except cap.CapacityError as e:
        click.echo(f"Error: {e}", err=True)
        ctx.exit(2)
    except DataError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(doc, default=str, indent=1))
        return
    click.echo(f"{doc['jurisdiction']}: {doc['schedule']} ({doc['team_hours_per_week']:,} "
               f"team-hours a week) would serve {doc['coverage']:.1%} of {doc['calls']:,} "
               f"eligible-type calls (95% interval {doc['ci_low']:.1%}-{doc['ci_high']:.1%}); "
               f"Erlang B by hour: {doc['erlang']['coverage']:.1%}.")
    if doc.get("calibration") and "gap" in doc["calibration"]:
        for note in doc["calibration"]["notes"]:
            click.echo(note)


def _capacity(con, cap, request, teams, schedule_file, hours, days, target, kw) -> dict:
    workload = cap.load_workload(con, request)
    found = None
    if target is not None:
        found = cap.smallest_schedule(workload, target, hours, days, **kw)
        if found.schedule is None:
            raise cap.CapacityError(
                f"No number of teams up to {cap.MAX_TEAMS} on hours {hours[0]}-{hours[1]}, days "
                f"{days} reaches {target:.0%}: {found.reachable_share:.0%} of the eligible-type "
                "calls arrive in those hours. Widen --hours or --days, or lower --target.")
        schedule = found.schedule
    elif schedule_file:
        schedule = cap.schedule_from_toml(Path(schedule_file).read_text(encoding="utf-8"),
                                          schedule_file)
    elif teams is not None:
        schedule = cap.Schedule.uniform(teams, hours, days)
    else:
        schedule, _ = cap.actual_schedule(con, request)
    result = found.coverage if found else cap.simulate(workload, [schedule], **kw)[0]
    doc = {"jurisdiction": request.jurisdiction, "first_day": workload.first_day,
           "last_day": workload.last_day, "weeks": workload.weeks,
           **result.as_dict(), "schedule_grid": schedule.grid(),
           "service_minutes_mean": workload.service_minutes_mean + kw["extra_minutes"],
           "service_source": workload.service_source, "durations": workload.durations,
           "extra_minutes": kw["extra_minutes"], "max_wait_minutes": kw["max_wait_minutes"],
           "erlang": {"coverage": cap.erlang_by_hour(
               workload, schedule, extra_minutes=kw["extra_minutes"],
               max_wait_minutes=kw["max_wait_minutes"])["coverage"]}}
    if found:
        doc.update(target=target, teams=schedule.max_teams)
    try:
        doc["calibration"] = cap.calibrate(con, request, workload=workload,
                                           **{**kw, "runs": 0}).as_dict()
    except cap.CapacityError as e:
        doc["calibration"] = {"unavailable": str(e)}
    return doc
