"""The ``python -m data`` group and what its commands share: the database they open (``--db``
or ``$A911_DB``), its connection, the local principal and the progress line."""
from __future__ import annotations

from pathlib import Path

import click

from ..connection import connect, default_db_path

db_option = click.option("--db", "db_path", type=click.Path(dir_okay=False),
                         help="DuckDB file (default: data/cohort.duckdb or $A911_DB).")


def _db(db_path):
    return Path(db_path) if db_path else default_db_path()


def _profiles_dir(db_path):
    return _db(db_path).resolve().parent / "profiles"


@click.group()
def cli():
    """Load exports into the outcome-tracking database."""


def _guarded():
    from service import guarded  # imports the metrics package: only for the commands that write

    return guarded


def _local():
    from service.access import LOCAL  # whoever runs the shell has the database file: every right

    return LOCAL

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


