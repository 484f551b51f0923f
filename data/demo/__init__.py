"""The demo cohort: five fictional jurisdictions, generated into the canonical tables.

The jurisdictions are data (``cohort.toml``, read by ``spec``); ``generate`` draws two and a
half years of calls, team responses, referrals and population denominators from
``numpy.random.default_rng(seed)`` in whole arrays; ``arrow`` hands them to DuckDB and
``canonical`` shapes them into canonical rows in SQL (DuckDB converts wall-clock times to
instants in each jurisdiction's time zone). ``populate_demo`` writes it all in one
transaction: one import per (jurisdiction, kind), whose row warnings and ledger row are
written by the importer's own steps (``validate.collect_warnings``, ``commit.write_ledger``),
so that every row has an import id like imported data and each demo import can be undone.
The same seed gives the same tables.

The rows are not read from files through the whole importer: that path would change what
the demo's tests pin (the ledger's file hashes, the call types left out of the crosswalk,
which the importer adds as starter rows, person keys hashed with each database's own secret,
and one transaction for the whole cohort).

The rates differ between jurisdictions on purpose, so that the charts tell a story: two
programs launch inside the data window, one is a co-response model with a high hospital share,
coverage is lower in one area with more Black residents, a few call types are left out of the
crosswalk ("unmapped") and a few are not triaged (eligibility unknown). Each program has a
number of teams, and a team takes a call only when one is free: its "no unit available"
misses and its coverage come from its capacity, so the capacity model (metrics/capacity/) can
be calibrated on the demo as on a real program.

``generate_calls_csv`` (``export``) writes a raw CAD export of any size for the import
benchmark. Nothing here is real data: names, places, people and figures are invented.
"""
from __future__ import annotations

import hashlib

import numpy as np

from .. import facts
from ..errors import DataError
from ..importer import ImportResult, Plan, write_ledger
from ..importer.raw import Column
from ..importer.validate import collect_warnings
from ..links import refresh_links
from ..schema import ID_FIELD, TIME_ORDER
from . import arrow, canonical
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


def populate_demo(con, seed: int = 0, scale: float = 1.0) -> dict[str, int]:
    """Write the demo cohort into the canonical tables of ``con``; return rows per table.

    One transaction: all of it or nothing. Refuses (DataError) when a demo jurisdiction is
    already in the database. ``scale`` multiplies the call volume (1.0: about 520,000 calls).
    """
    if scale <= 0:
        raise DataError("scale must be positive.")
    _refuse_if_loaded(con, DEMOS)
    rng = np.random.default_rng(seed)
    gens = [generate(d, rng, scale) for d in DEMOS]
    con.begin()
    registered = []
    try:
        ids = {(d.name, kind): con.execute("SELECT nextval('import_seq')").fetchall()[0][0]
               for d in DEMOS for kind in KINDS}
        registered = arrow.register(con, gens, ids)
        canonical.write(con, DEMOS, seed)
        results = _results(ids, seed)
        _warnings(con, results)
        _ledger(con, results)
        canonical.drop_temporaries(con)
        counts = _counts(con, DEMOS, ids)
        refresh_links(con)
        facts.refresh(con)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        for name in registered:
            try:
                con.unregister(name)
            except Exception:  # pragma: no cover - the view is gone with the transaction
                pass
    return counts


def _refuse_if_loaded(con, demos) -> None:
    names = [d.name for d in demos]
    present = [r[0] for r in con.execute(
        "SELECT jurisdiction FROM jurisdictions WHERE list_contains(?::VARCHAR[], jurisdiction)"
        " UNION SELECT DISTINCT jurisdiction FROM calls "
        "WHERE list_contains(?::VARCHAR[], jurisdiction) ORDER BY 1", [names, names]).fetchall()]
    if present:
        raise DataError(f"The demo cohort is already loaded (found {', '.join(present)}); use "
                        "a fresh database file (--db) to load it again.")


def _counts(con, demos, ids) -> dict[str, int]:
    names, import_ids = [d.name for d in demos], list(ids.values())
    counts = {}
    for t in _COUNTED:
        if t in ("jurisdictions", "crosswalk"):
            where, params = "list_contains(?::VARCHAR[], jurisdiction)", [names]
        else:
            where, params = "import_id IN (SELECT unnest(?::BIGINT[]))", [import_ids]
        counts[t] = con.execute(f"SELECT count(*) FROM {t} WHERE {where}", params).fetchone()[0]
    return counts


def _results(ids, seed) -> dict:
    """The summary of each demo import, as the importer keeps it (the file: the generator)."""
    slug = {d.name: d.slug for d in DEMOS}
    return {(name, kind): ImportResult(
        kind, name, f"demo:{slug[name]}-{kind}",
        hashlib.sha256(f"demo|{seed}|{name}|{kind}".encode()).hexdigest(), "committed",
        import_id=import_id, notes=[f"demo data (fictional), generated with seed {seed}"])
        for (name, kind), import_id in ids.items()}


def _warnings(con, results) -> None:
    """Row warnings by the importer's own check (validate.collect_warnings) over each demo
    import's rows, read as a file whose headers are the field names would be."""
    zones = dict(con.execute("SELECT jurisdiction, time_zone FROM jurisdictions").fetchall())
    for (name, kind), result in results.items():
        order = TIME_ORDER[kind]
        if not order:
            continue
        idf = ID_FIELD[kind]
        # The p_ flag: a local time of exactly 0:00, as the importer flags it while parsing.
        flags = ", ".join(f"{c}, coalesce(timezone(?, {c})::TIME = TIME '00:00', false) AS p_{c}"
                          f", false AS h_{c}" for c in order)
        con.execute(f"CREATE OR REPLACE TEMP TABLE demo_import AS SELECT {idf}, file_row, "
                    f"{flags} FROM {kind} WHERE import_id = ?",
                    [zones[name]] * len(order) + [result.import_id])
        cols = [Column(c, "timestamp", [], c) for c in order]
        plan = Plan(None, kind, name, result.file_name, None, cols, zones[name], False,
                    result, source="demo_import")
        collect_warnings(con, plan)
    con.execute("DROP TABLE IF EXISTS demo_import")


def _ledger(con, results) -> None:
    """One committed ledger row per demo import, written by the importer's ledger step."""
    for result in results.values():
        rows = con.execute(f"SELECT count(*) FROM {result.kind} WHERE import_id = ?",
                           [result.import_id]).fetchone()[0]
        result.rows_read = result.rows_inserted = result.records = rows
        write_ledger(con, result, created_jurisdiction=True)
