"""The demo cohort: five fictional jurisdictions, generated into the canonical tables.

The jurisdictions are data (``cohort.toml``, read by ``spec``); ``generate`` draws two and a
half years of calls, team responses, referrals and population denominators from
``numpy.random.default_rng(seed)`` in whole arrays; ``arrow`` hands them to DuckDB and
``canonical`` shapes them into canonical rows in SQL (DuckDB converts wall-clock times to
instants in each jurisdiction's time zone). ``populate_demo`` writes it all in one
transaction, with one ``imports`` ledger row per (jurisdiction, kind) written by the
importer's own ledger step, so that every row has an import id like imported data and each
demo import can be undone. The same seed gives the same tables.

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
from ..importer import ImportResult, write_ledger
from ..links import refresh_links
from ..schema import ID_FIELD, MAIN_TIME, TIME_ORDER
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
        _warnings(con)
        _ledger(con, ids, seed)
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
def _warnings(con):
    """Row warnings as the importer would record them (missing main time, 0:00, order)."""
    for kind in ("calls", "responses", "referrals"):
        idf, main = ID_FIELD[kind], MAIN_TIME[kind]
        base = (f"INSERT INTO row_warnings SELECT t.import_id, '{kind}', t.jurisdiction, "
                f"t.{idf}, t.file_row, ")
        demo = (f" AND t.import_id IN (SELECT id_{kind} FROM demo_meta)")
        con.execute(base + f"'{main}', 'missing_time', NULL FROM {kind} t "
                    f"WHERE t.{main} IS NULL" + demo)
        tz = "(SELECT tz FROM demo_meta m WHERE m.jurisdiction = t.jurisdiction)"
        for c in TIME_ORDER[kind]:
            con.execute(base + f"'{c}', 'time_placeholder', "
                        f"strftime(timezone({tz}, t.{c}), '%Y-%m-%d %H:%M') FROM {kind} t "
                        f"WHERE t.{c} IS NOT NULL AND timezone({tz}, t.{c})::TIME = '00:00:00'"
                        + demo)
        order = TIME_ORDER[kind]
        for j in range(1, len(order)):
            earlier = ", ".join(f"t.{x}" for x in order[:j])
            latest = f"greatest({earlier})" if j > 1 else f"t.{order[0]}"
            con.execute(base + f"'{order[j]}', 'out_of_order', t.{order[j]}::VARCHAR "
                        f"FROM {kind} t WHERE t.{order[j]} < {latest}" + demo)




def _ledger(con, ids, seed) -> None:
    """One committed ledger row per demo import, written by the importer's ledger step."""
    for (name, kind), import_id in ids.items():
        slug = next(d.slug for d in DEMOS if d.name == name)
        rows = con.execute(f"SELECT count(*) FROM {kind} WHERE import_id = ?",
                           [import_id]).fetchone()[0]
        warned = con.execute("SELECT count(DISTINCT file_row) FROM row_warnings "
                             "WHERE import_id = ?", [import_id]).fetchone()[0]
        by_type = dict(con.execute("SELECT warning, count(*) FROM row_warnings WHERE "
                                   "import_id = ? GROUP BY 1 ORDER BY 1", [import_id]).fetchall())
        result = ImportResult(
            kind, name, f"demo:{slug}-{kind}",
            hashlib.sha256(f"demo|{seed}|{name}|{kind}".encode()).hexdigest(), "committed",
            import_id=import_id, rows_read=rows, rows_inserted=rows, records=rows,
            rows_warned=warned, warnings_by_type=by_type,
            notes=[f"demo data (fictional), generated with seed {seed}"])
        write_ledger(con, result, created_jurisdiction=True)
