"""The one place that opens DuckDB, and locks it down before anyone else gets the handle."""
from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from .errors import DatabaseBusy, DataError
from .schema import create_schema

# The embedded default: a DuckDB file beside this package.
DEFAULT_DB = Path(__file__).resolve().parent / "cohort.duckdb"
# DuckDB's share of a command-line process; it spills to disk beyond it. Below 2 GB so that the
# whole process (Python, DuckDB's allocations outside its buffer pool) stays under 2 GB: a
# 10-million-call import peaked at 1.63 GB with this and at 1.97-2.02 GB with 2GB, in the same
# time (20.6 s and 20.8 s on one machine, one hour apart).
MEMORY_LIMIT = os.environ.get("A911_MEMORY_LIMIT", "1536MB")
# The dashboard server keeps its connection for as long as it runs, beside the sessions' own
# memory: DuckDB's share is kept smaller there (it spills or evicts cached blocks beyond it).
SERVER_MEMORY_LIMIT = os.environ.get("A911_SERVER_MEMORY_LIMIT", "1GB")


def default_db_path() -> Path:
    return Path(os.environ.get("A911_DB", DEFAULT_DB))


def person_key_path(db_path: str | Path) -> Path:
    """Where the person-key secret of a database lives: outside every folder DuckDB may read.

    ``A911_PERSON_KEY`` names the file; by default it is ``<folder>.keys/<database>.person_key``
    beside the database's folder (``data.keys/cohort.duckdb.person_key`` for
    ``data/cohort.duckdb``). The database's folder is readable by the locked connection, so the
    key no longer lives there (issue 27; ``migrate_person_key`` moves an earlier one).
    """
    if os.environ.get("A911_PERSON_KEY"):
        return Path(os.environ["A911_PERSON_KEY"]).resolve()
    db = Path(db_path).resolve()
    return db.parent.with_name(db.parent.name + ".keys") / f"{db.name}.person_key"


def migrate_person_key(db_path: str | Path) -> Path:
    """Move a key kept beside the database (versions before issue 27) to ``person_key_path``."""
    old, new = Path(db_path).resolve().parent / ".person_key", person_key_path(db_path)
    if not old.exists():
        return new
    if new.exists():
        if new.read_text().strip() != old.read_text().strip():
            raise DataError(f"Two person-key secrets: {old} (the old place) and {new}. Keep the "
                            "one earlier imports used (compare with your backup), delete the "
                            "other, and start again.")
        old.unlink()
        return new
    new.parent.mkdir(parents=True, exist_ok=True)
    new.parent.chmod(0o700)
    tmp = new.with_suffix(".moving")
    tmp.write_text(old.read_text())
    tmp.chmod(0o600)
    tmp.replace(new)
    old.unlink()
    return new


def connect(path: str | Path | None = None, *, read_only: bool = False,
            readable_dirs: tuple[str | Path, ...] = (), memory_limit: str | None = None
            ) -> duckdb.DuckDBPyConnection:
    """Open the database, create the schema if needed, and lock the configuration.

    Only folders in ``readable_dirs`` (plus the database's own folder) can be read by SQL;
    extensions never auto-install or auto-load (nothing is fetched from the internet).
    ``path=":memory:"`` gives a private in-memory database (tests).
    """
    path = default_db_path() if path is None else path
    in_memory = str(path) == ":memory:"
    if not in_memory:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    try:
        con = duckdb.connect(str(path), read_only=read_only and not in_memory, config=config)
    except duckdb.IOException as e:
        if "lock" not in str(e).lower():
            raise
        holder = re.search(r"\(PID (\d+)\)", str(e))
        raise DatabaseBusy(
            f"The database {path} is in use by another program"
            f"{f' (process {holder.group(1)})' if holder else ''}, most likely the dashboard. "
            "DuckDB lets one program open a database file for writing at a time: stop the "
            "dashboard and run the command again, or import through the dashboard's Data "
            "page.") from None
    if not con.execute("SELECT current_setting('lock_configuration')").fetchone()[0]:
        # The CLI and pages show their own progress. Off before the schema: creating it may
        # derive eligibility for a database from an earlier version, and DuckDB would draw its
        # bar on the terminal or the server's log.
        con.execute("SET enable_progress_bar = false")
    if not (read_only and not in_memory):
        create_schema(con)
        if not in_memory:
            migrate_person_key(path)
    _lock_down(con, path, readable_dirs, memory_limit or MEMORY_LIMIT)
    return con


def _lock_down(con, path, readable_dirs, memory_limit) -> None:
    allowed = [str(Path(d).resolve()) + os.sep for d in readable_dirs]
    if str(path) != ":memory:":
        allowed.append(str(Path(path).resolve().parent) + os.sep)
    if con.execute("SELECT current_setting('lock_configuration')").fetchone()[0]:
        # This process opened the file before: DuckDB hands out the same, already locked,
        # database instance, whose settings hold for this connection too.
        _check_locked(con, path, allowed)
        return
    # GLOBAL: the pages use cursors of this connection, and a cursor starts from the global
    # settings, not this session's (a server whose clock is not on UTC would otherwise
    # change every date a cursor computes).
    con.execute("SET GLOBAL TimeZone = 'UTC'")
    con.execute("SET memory_limit = ?", [memory_limit])  # a parameter, even from the environment
    # Spill folder for large imports; keep it inside an allowed folder.
    con.execute("SET allowed_directories = ?", [allowed])
    con.execute("SET enable_external_access = false")
    # Loading is already off (no external access, no autoload); this closes the community
    # repository too, so no setting left unlocked could bring an extension in (DOMAIN §7).
    con.execute("SET allow_community_extensions = false")
    con.execute("SET lock_configuration = true")


def _check_locked(con, path, allowed) -> None:
    current = set(con.execute("SELECT current_setting('allowed_directories')").fetchone()[0])
    extra = sorted(set(allowed) - current)
    if extra:
        raise DatabaseBusy(f"The database {path} is already open in this program with other "
                           f"readable folders; {', '.join(extra)} cannot be added to a locked "
                           "database. Close the other connection first.")
