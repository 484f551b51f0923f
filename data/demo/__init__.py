"""The demo cohort: five fictional jurisdictions, generated into the canonical tables.

The jurisdictions are data (``cohort.toml``, read by ``spec``); ``generate`` draws two and a
half years of calls, team responses, referrals and population denominators from
``numpy.random.default_rng(seed)`` in whole arrays; ``arrow`` hands them to DuckDB,
``canonical`` shapes them into each export's rows in SQL and ``files`` writes them as CSV
exports (with the profile that maps each). ``populate_demo`` then imports every file through
the importer (data/importer/), the path of every real export, in one transaction: the
program settings and the crosswalk first, then one import per (jurisdiction, kind). Every
row has an import id, row warnings and a ledger row like imported data, each demo import can
be undone, and the demo exercises the importer. The same seed gives the same tables (person
keys are hashed with the database's own secret, as on import).

The rates differ between jurisdictions on purpose, so that the charts tell a story: two
programs launch inside the data window, one is a co-response model with a high hospital share,
coverage is lower in one area with more Black residents, a few call types have no category in
the crosswalk ("unmapped") and a few are not triaged (eligibility unknown). Each program has a
number of teams, and a team takes a call only when one is free: its "no unit available"
misses and its coverage come from its capacity, so the capacity model (metrics/capacity/) can
be calibrated on the demo as on a real program.

``generate_calls_csv`` (``export``) writes a raw CAD export of any size for the import
benchmark. Nothing here is real data: names, places, people and figures are invented.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..importer import import_held, staging_folder
from . import arrow, canonical, files
from .export import generate_calls_csv
from .generate import generate
from .spec import (AGE_GROUPS, CATEGORIES, DEMOS, NOT_SERVED, POPULATION_SOURCE, RACE_GROUPS,
                   WINDOW_END, WINDOW_START, Area, Demo, load_cohort)

KINDS = ("calls", "responses", "referrals", "population")
# The tables populate_demo reports, and how their demo rows are found.
_COUNTED = ("jurisdictions", "crosswalk", "calls", "responses", "referrals", "population",
            "row_warnings", "imports")

__all__ = ["AGE_GROUPS", "CATEGORIES", "DEMOS", "NOT_SERVED", "POPULATION_SOURCE",
           "RACE_GROUPS", "WINDOW_END", "WINDOW_START", "Area", "Demo", "generate_calls_csv",
           "load_cohort", "populate_demo"]


def populate_demo(con, seed: int = 0, scale: float = 1.0, folder=None) -> dict[str, int]:
    """Write the demo cohort into the canonical tables of ``con``; return rows per table.

    The cohort is generated as export files (in ``folder`` when given, a folder the
    connection may read such as one beside the database; else in a temporary folder under
    the importer's staging folder, removed afterwards) and each is imported by the importer,
    all in one transaction: all of it or nothing. Refuses (DataError) when a demo
    jurisdiction is already in the database. ``scale`` multiplies the call volume (1.0:
    about 520,000 calls).
    """
    if scale <= 0:
        raise DataError("scale must be positive.")
    _refuse_if_loaded(con, DEMOS)
    rng = np.random.default_rng(seed)
    gens = [generate(d, rng, scale) for d in DEMOS]
    staging = staging_folder(con)  # the locked connection reads only the database's folder
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="demo-", dir=staging) as tmp:
        where = Path(folder) if folder is not None else Path(tmp)
        exports = _write_files(con, gens, where)
        con.begin()
        try:
            _settings(con, DEMOS)
            ids = [_import(con, e, where).import_id for e in exports]
            counts = _counts(con, DEMOS, ids)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return counts


def _write_files(con, gens, folder) -> list:
    """The cohort's export files (shaped in temp tables, then written)."""
    registered = []
    try:
        registered = arrow.register(con, gens)
        canonical.shape(con)
        return files.write_exports(con, DEMOS, folder)
    finally:
        canonical.drop_temporaries(con)
        for name in registered:
            con.unregister(name)


def _settings(con, demos) -> None:
    """Each program's settings and its crosswalk, before its calls: an import of calls works
    out their category and eligibility from them."""
    settings, crosswalk = files.settings_rows(demos)
    con.executemany("INSERT INTO jurisdictions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    settings)
    con.executemany("INSERT INTO crosswalk VALUES (?, ?, ?, ?)", crosswalk)


def _import(con, export, work_dir):
    """One demo export through the importer, in the caller's transaction."""
    result = import_held(con, export.path, kind=export.kind, jurisdiction=export.jurisdiction,
                         profile=export.profile, file_name=export.file_name,
                         work_dir=work_dir)
    if result.status != "committed" or result.rows_rejected:
        raise DataError(f"demo {export.file_name}: {' '.join(result.summary_lines())}")
    return result


def _refuse_if_loaded(con, demos) -> None:
    names = [d.name for d in demos]
    present = [r[0] for r in con.execute(
        "SELECT jurisdiction FROM jurisdictions WHERE list_contains(?::VARCHAR[], jurisdiction)"
        " UNION SELECT DISTINCT jurisdiction FROM calls "
        "WHERE list_contains(?::VARCHAR[], jurisdiction) ORDER BY 1", [names, names]).fetchall()]
    if present:
        raise DataError(f"The demo cohort is already loaded (found {', '.join(present)}); use "
                        "a fresh database file (--db) to load it again.")


def _counts(con, demos, import_ids) -> dict[str, int]:
    names = [d.name for d in demos]
    counts = {}
    for t in _COUNTED:
        if t in ("jurisdictions", "crosswalk"):
            where, params = "list_contains(?::VARCHAR[], jurisdiction)", [names]
        else:
            where, params = "import_id IN (SELECT unnest(?::BIGINT[]))", [import_ids]
        counts[t] = con.execute(f"SELECT count(*) FROM {t} WHERE {where}", params).fetchone()[0]
    return counts
