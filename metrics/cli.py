"""Command line for metrics: list, report, equity, docs."""
from __future__ import annotations

import json
from contextlib import contextmanager, nullcontext
from datetime import date
from pathlib import Path

import click

from . import disclosure, rollup
from .disclosure import DisclosurePolicy, describe, public_report
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


def iso_date(ctx, param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2025-01-31") from None


def database_path(db_path) -> Path:
    """The DuckDB file a command reads (--db, else the default); refused when it is missing."""
    from data.connection import default_db_path

    path = Path(db_path) if db_path else default_db_path()
    if not path.exists():
        raise click.ClickException(f"no database at {path}; import data first.")
    return path


@contextmanager
def _reading(path: Path):
    """A read-only connection to ``path``, closed when the command's work is done."""
    from data.connection import connect

    con = connect(path, read_only=True)
    try:
        yield con
    finally:
        con.close()


@cli.command(name="report")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="DuckDB file.")
@click.option("--jurisdiction", "jurisdictions", multiple=True, help="Repeat for several.")
@click.option("--from", "date_from", callback=iso_date, help="First day (YYYY-MM-DD), local time.")
@click.option("--to", "date_to", callback=iso_date, help="Last day, inclusive.")
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
@click.option("--rows", "rows_only", is_flag=True,
              help="Count over the calls themselves, not the maintained monthly tables "
              "(the same numbers, slower: to check them).")
def report_cmd(db_path, jurisdictions, date_from, date_to, categories, areas, origins, teams,
               by, metric_ids, as_json, show_sql, public, drb, threshold, rows_only):
    """Compute metrics for the filters, grouped by the chosen dimensions.

    With --public, rows are what a viewer may see (metrics.disclosure): hidden numbers are
    null and each row's "suppressed" says why.

    Example: python -m metrics report --metric B1 --by jurisdiction --by month --json
    """
    if (drb or threshold != 10) and not public:
        raise click.UsageError("--drb and --threshold go with --public.")
    filters = Filters(tuple(jurisdictions), date_from, date_to, tuple(categories), tuple(areas),
                      tuple(origins), tuple(teams))
    request = MetricRequest(tuple(metric_ids), tuple(by), filters)
    policy = DisclosurePolicy(threshold, drb) if public else None
    with rollup.rows_only() if rows_only else nullcontext():
        doc = _report(db_path, request, policy, show_sql)
    if doc is None:
        return
    if as_json:
        click.echo(json.dumps(doc, default=str, indent=1))
        return
    if policy is not None:
        click.echo(disclosure.rule(policy))
    for note in doc.get("disclosure", {}).get("notes", []):
        click.echo(note)
    for r in doc["rows"]:
        click.echo(_text_row(r, policy))


def _report(db_path, request, policy, show_sql) -> dict | None:
    """The report's document (None after printing the SQL, with --explain)."""
    from data.errors import DataError

    public = policy is not None
    try:
        if show_sql:  # what runs: under --public the widened view, its margins and partners
            click.echo(disclosure.explain(request, policy) if public else explain(request))
            return None
        path = database_path(db_path)
        if public:
            disclosure.checked_request(request, policy)  # refuse before opening the database
        with _reading(path) as con:
            return public_report(con, request, policy) if public else report(con, request)
    except MetricError as e:
        raise click.ClickException(str(e)) from None
    except DataError as e:  # e.g. the dashboard holds the database file
        raise click.ClickException(str(e)) from None


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
@click.option("--from", "date_from", callback=iso_date, help="First day (YYYY-MM-DD), local time.")
@click.option("--to", "date_to", callback=iso_date, help="Last day, inclusive.")
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
    from data.errors import DataError

    from .cost import NoCosts, report as cost_report
    from .disclosure import VIEWER, disclose, disclose_counts, public_request

    path = database_path(db_path)
    filters = Filters((jurisdiction,), date_from, date_to)
    try:
        with _reading(path) as con:
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


@cli.command(name="equity")
@click.option("--point", required=True, type=click.Choice(
    ["backup", "arrest", "hospital", "connected", "served", "response_time"]),
    help="Decision point: back-up, arrest, hospital, connected to care, served, response time.")
@click.option("--by", "dim", required=True,
              type=click.Choice(["race_ethnicity", "age_group", "gender", "area"]),
              help="Group by.")
@click.option("--reference", help="Reference group code (default: white for race/ethnicity, "
                                  "else the group with the most records in each jurisdiction).")
@click.option("--jurisdiction", "jurisdictions", multiple=True,
              help="Repeat for several; default all. Ratios are always within a jurisdiction.")
@click.option("--from", "date_from", callback=iso_date, help="First day (YYYY-MM-DD), local time.")
@click.option("--to", "date_to", callback=iso_date, help="Last day, inclusive.")
@click.option("--public", is_flag=True,
              help="Exactly what a viewer sees: small counts hidden, counts rounded.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="DuckDB file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def equity_cmd(point, dim, reference, jurisdictions, date_from, date_to, public, db_path,
               as_json):
    """Compare groups at a decision point within each jurisdiction; pool them stratified.

    Each row is one group in one jurisdiction against that jurisdiction's reference group.
    With several jurisdictions, "pooled" gives the Mantel-Haenszel ratio stratified by
    jurisdiction and, beside it, the crude ratio of the records added up.

    Example: python -m metrics equity --point backup --by race_ethnicity --public --json
    """
    from data.errors import DataError

    from .equity_report import equity_report

    filters = Filters(tuple(jurisdictions), date_from, date_to)
    policy = DisclosurePolicy() if public else None
    path = database_path(db_path)
    try:
        with _reading(path) as con:
            doc = equity_report(con, point, dim, filters, reference, policy)
    except (MetricError, DataError) as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(doc, default=str, indent=1))
        return
    for line in _equity_lines(doc):
        click.echo(line)


def _equity_lines(doc: dict) -> list[str]:
    """The document as text: a line per group per jurisdiction, then the pooled ratios."""
    lines = [f"{doc['label']} by {doc['by']} ({doc['compared']})"] + doc["notes"]
    for r in doc["rows"]:
        ratio = ("reference" if r["is_reference"] else
                 r["note"] if r["ratio"] is None else
                 f"{r['ratio']:.2f}" + ("" if r["ci_low"] is None else
                                        f" ({r['ci_low']:.2f}-{r['ci_high']:.2f})"))
        num = "hidden" if r["numerator"] is None else f"{r['numerator']:,}"
        den = "hidden" if r["denominator"] is None else f"{r['denominator']:,}"
        lines.append(f"{r['jurisdiction']:<16} {str(r['group']):<22} {num:>8}/{den:<8} "
                     f"{ratio}")
    for g in doc["pooled"] or ():
        lines.append(_pooled_line(g))
    return lines


def _pooled_line(g: dict) -> str:
    if g["ratio"] is None:
        return f"pooled {g['group']}: {g['note']}"
    text = (f"pooled {g['group']} vs {g['reference']}: {g['ratio']:.2f} "
            f"({g['ci_low']:.2f}-{g['ci_high']:.2f}), stratified by jurisdiction")
    if g["homogeneity_p"] is not None:
        text += f"; homogeneity p={g['homogeneity_p']:.3f}"
    if g["crude_ratio"] is not None:
        text += f"; crude {g['crude_ratio']:.2f}"
        if g["confounded_by_jurisdiction"]:
            text += " (confounded by jurisdiction)"
    if g["left_out"]:
        text += f"; left out (counts hidden or a group absent): {', '.join(g['left_out'])}"
    return text
@cli.command(name="impact")
@click.option("--jurisdiction", required=True, help="One jurisdiction (with a launch date).")
@click.option("--outcome", type=click.Choice(["police_calls", "police_hours"]), required=True,
              help="Calls handled by police, or police busy hours, on the target call types.")
@click.option("--method", type=click.Choice(["its", "yoy", "wdd"]), required=True,
              help="Interrupted time series, year over year, or weighted displacement "
                   "difference against uncovered areas or hours.")
@click.option("--from", "date_from", callback=iso_date, help="First day (YYYY-MM-DD), local time.")
@click.option("--to", "date_to", callback=iso_date, help="Last day, inclusive.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="DuckDB file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--public", is_flag=True,
              help="Estimate from what a viewer sees: the published monthly counts.")
@click.option("--drb", is_flag=True, help="With --public: Census DRB public-release rounding.")
@click.option("--threshold", type=click.IntRange(min=0), default=10, show_default=True,
              help="With --public: hide counts from 1 to this.")
def impact_cmd(jurisdiction, outcome, method, date_from, date_to, db_path, as_json, public, drb,
               threshold):
    """What changed after launch, for the program's target call types (metrics.impact).

    Exits with status 2 and a sentence when the data cannot support the method (no launch
    date, too little history, no comparison areas or hours). Exact figures unless --public.

    Example: python -m metrics impact --jurisdiction Millbrook --outcome police_calls
    --method its --json
    """
    if (drb or threshold != 10) and not public:
        raise click.UsageError("--drb and --threshold go with --public.")
    from data.errors import DataError

    from .impact import ImpactRefused, estimate

    path = database_path(db_path)
    policy = DisclosurePolicy(threshold, drb) if public else None
    filters = Filters((jurisdiction,), date_from, date_to)
    try:
        with _reading(path) as con:
            result = estimate(con, jurisdiction, outcome, method, filters, policy)
    except ImpactRefused as e:
        click.echo(str(e), err=True)
        raise SystemExit(2) from None
    except (MetricError, DataError) as e:
        raise click.ClickException(str(e)) from None
    doc = result.as_json()
    if as_json:
        click.echo(json.dumps(doc, default=str, indent=1))
        return
    click.echo(_impact_text(doc))


def _impact_text(doc: dict) -> str:
    ratio = ("not estimable" if doc["rate_ratio"] is None else f"{doc['rate_ratio']:.3f}"
             + (f" (95% CI {doc['ci_low']:.3f}-{doc['ci_high']:.3f})"
                if doc["ci_low"] is not None else ""))
    lines = [f"{doc['jurisdiction']}: {doc['outcome']} by {doc['method']}, launch "
             f"{doc['launch_date']}, {doc['pre_months']} months before, {doc['post_months']} "
             "after",
             f"rate ratio {ratio}; observed {doc['observed_post']:,.0f} against expected "
             f"{doc['expected_post']:,.0f}; the team took "
             + ("(hidden)" if doc["team_handled_post"] is None
                else f"{doc['team_handled_post']:,.0f}"),
             "plausible" if doc["plausible"] else "IMPLAUSIBLE"]
    return "\n".join(lines + [f"- {c}" for c in doc["caveats"]])


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
@click.option("--from", "date_from", callback=iso_date, help="First day (YYYY-MM-DD), local time.")
@click.option("--to", "date_to", callback=iso_date, help="Last day, inclusive.")
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
    from data.errors import DataError

    if sum(x is not None for x in (teams, schedule_file, target)) > 1:
        raise click.UsageError("Use one of --teams, --schedule or --target.")
    path = database_path(db_path)
    try:
        request = cap.CapacityRequest(jurisdiction, date_from, date_to)
        with _reading(path) as con:
            doc = _capacity(con, cap, request, teams, schedule_file, cap.parse_hours(hours),
                            cap.parse_days(days), target,
                            dict(extra_minutes=extra_minutes, max_wait_minutes=max_wait,
                                 runs=runs, seed=seed))
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
