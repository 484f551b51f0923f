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


@cli.command(name="cost")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="DuckDB file.")
@click.option("--jurisdiction", required=True, help="Whose costs.")
@click.option("--from", "date_from", callback=_date, help="First day (YYYY-MM-DD), local time.")
@click.option("--to", "date_to", callback=_date, help="Last day, inclusive.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--public", is_flag=True,
              help="What a viewer sees: small counts hidden, counts rounded, and any cost per "
                   "response or person built on a hidden count hidden too.")
def cost_cmd(db_path, jurisdiction, date_from, date_to, as_json, public):
    """Cost per team response and per person served, police capacity returned, cost by
    funding stream: each figure with the inputs it is worked out from.

    Exits with status 2 and a sentence when no program costs are entered.

    Example: python -m metrics cost --jurisdiction Riverton --from 2024-01-01 --json
    """
    from data.connection import connect, default_db_path
    from data.errors import DataError

    from .cost import NoCosts, report as cost_report
    from .disclosure import VIEWER, disclose, disclose_counts, public_request

    path = Path(db_path) if db_path else default_db_path()
    if not path.exists():
        raise click.ClickException(f"no database at {path}; import data first.")
    filters = Filters((jurisdiction,), date_from, date_to)
    try:
        con = connect(path, read_only=True)
        try:
            if not con.execute("SELECT count(*) FROM jurisdictions WHERE jurisdiction = ?",
                               [jurisdiction]).fetchone()[0]:
                raise click.ClickException(f"there is no jurisdiction {jurisdiction!r} in {path}.")
            if public:
                filters = public_request(MetricRequest((), (), filters), VIEWER)[0].filters
                doc = cost_report(con, jurisdiction, filters, policy=VIEWER,
                                  compute=lambda r: disclose(con, r, VIEWER).rows,
                                  compute_counts=lambda r: disclose_counts(con, r, VIEWER).rows)
            else:
                doc = cost_report(con, jurisdiction, filters)
        finally:
            con.close()
    except NoCosts as e:
        click.echo(str(e), err=True)
        raise SystemExit(2) from None
    except (MetricError, DataError) as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(doc, default=str, indent=1))
        return
    for line in _cost_lines(doc):
        click.echo(line)


def _money(x) -> str:
    return "—" if x is None else f"${x:,.2f}"


def _cost_lines(doc: dict) -> list[str]:
    t = doc["totals"]
    lines = [f"{doc['jurisdiction']}: quarter, cost, responses, cost per response, people, "
             "cost per person, team's target-type calls, police hours returned, value"]
    for q in doc["quarters"]:
        mark = "" if q["complete"] else "  (not a complete quarter: no per-unit figures)"
        lines.append(f"{q['quarter']}  {_money(q['cost'])}  {q['responses']}  "
                     f"{_money(q['cost_per_response'])}  {q['people']}  "
                     f"{_money(q['cost_per_person'])}  {q['team_target_calls']}  "
                     f"{q['hours_returned']}  {_money(q['capacity_value'])}{mark}")
    if t.get("quarters"):
        lines.append(f"Complete quarters {t['quarters'][0]} to {t['quarters'][-1]}: "
                     f"{_money(t['cost'])} / {t['responses']} responses = "
                     f"{_money(t['cost_per_response'])} per response; / {t['people']} people = "
                     f"{_money(t['cost_per_person'])} per person.")
    p = doc["police"]
    if p["mean_hours"] is None:
        lines.append("Police busy time on target-type calls: none to show (no timed calls, or "
                     "too few to show).")
    else:
        lines.append(f"Police busy time on target-type calls: mean {p['mean_hours']:.3f} h, "
                     f"median {p['median_hours']:.3f} h over {p['timed']} calls "
                     f"({p['start']}).")
    lines.append(doc["capacity_wording"])
    return lines


@cli.command(name="docs")
@click.option("--out", type=click.Path(dir_okay=False), default="METRICS.md", show_default=True)
def docs_cmd(out):
    """Write the methodology (METRICS.md) from the registry.

    Example: python -m metrics docs --out METRICS.md
    """
    from .methodology import methodology_markdown

    Path(out).write_text(methodology_markdown(), encoding="utf-8")
    click.echo(f"wrote {out}")
