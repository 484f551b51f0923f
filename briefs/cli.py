"""``python -m briefs``: the brief of one jurisdiction (or the masked cohort) as a PDF.

Public rules unless ``--exact``, which needs the rights of the dashboard's exact view (an
analyst of the jurisdiction, or the local principal). The shell runs as the local principal
(whoever holds the database file has every right, as for ``python -m data``) unless ``--as``
names a person of the deployment, whose roles then apply.
"""
from __future__ import annotations

from pathlib import Path

import click

from metrics.cli import database_path, iso_date
from metrics.disclosure import DisclosurePolicy


@click.command()
@click.option("--jurisdiction", help="Whose brief; without it, every jurisdiction in view.")
@click.option("--from", "date_from", callback=iso_date, help="First day (YYYY-MM-DD), local time.")
@click.option("--to", "date_to", callback=iso_date, help="Last day, inclusive.")
@click.option("--mask", is_flag=True, help="Jurisdictions' names as 'Jurisdiction A, B ...'.")
@click.option("--exact", is_flag=True,
              help="Exact figures (needs the analyst role of the jurisdiction; not public).")
@click.option("--drb", is_flag=True, help="Census DRB public-release rounding.")
@click.option("--as", "as_email", help="Make it with this person's rights (default: local).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="DuckDB file.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The PDF to write.")
def cli(jurisdiction, date_from, date_to, mask, exact, drb, as_email, db_path, out):
    """Write a brief: headline figures, the funnel, coverage by month, on-scene outcomes,
    connections, the equity highlight, impact and cost where available, each chart with its
    takeaway, definitions, data as of, and the disclosure rules applied.

    Example: python -m briefs --jurisdiction Riverton --from 2025-01-01 --out riverton.pdf
    """
    import metrics
    from data.connection import connect
    from data.errors import DataError
    from service import access

    from . import BriefRefused, make_brief, render

    if exact and drb:
        raise click.UsageError("--drb is a public rule; it does not go with --exact.")
    path = database_path(db_path)
    filters = metrics.Filters((jurisdiction,) if jurisdiction else (), date_from, date_to)
    policy = DisclosurePolicy(enabled=False) if exact else DisclosurePolicy(rounding=drb)
    render.start()  # chromium comes up (a few seconds) while the figures are asked for
    try:
        con = connect(path, read_only=True)
        try:
            principal = _principal(con, access, as_email)
            pdf = make_brief(con, principal, filters, policy=policy, mask=mask)
        finally:
            con.close()
    except access.AccessDenied as e:
        raise click.ClickException(f"no rights: {e}") from None
    except (BriefRefused, metrics.MetricError, DataError, render.RenderError) as e:
        raise click.ClickException(str(e)) from None
    Path(out).write_bytes(pdf)
    click.echo(f"wrote {out} ({len(pdf) // 1024:,} KB, {'exact' if exact else 'public'} "
               "figures)")


def _principal(con, access, email):
    if not email:
        return access.LOCAL
    principal = access.load_principal(con, email)
    if principal is None:
        raise click.ClickException(f"{email} is not a person of this deployment (or is not "
                                   "active).")
    return principal


