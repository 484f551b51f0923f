"""``python -m data audit``: check the audit log's hash chain and export it."""
from __future__ import annotations

from pathlib import Path

import click

from .base import _connect, cli, db_option


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
    from .. import audit

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
    from .. import audit
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
