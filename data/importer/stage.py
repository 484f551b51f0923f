"""Stage: one record per identifier (unit rows collapsed, fingerprints, person keys hashed),
ready to merge."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


from ..connection import migrate_person_key
from ..errors import DataError, ImportRefused
from ..schema import (ID_FIELD, MAIN_TIME, record_columns)
from .codes import mapped_value, vmap_joins
from .raw import file_row
from .zones import fast_zones, zone_sql


def _stored(c) -> str:
    """The column of typed that holds a field (its raw text when it is mapped later)."""
    return f'"r_{c.name}"' if c.mapped or c.type == "code" else f'"{c.name}"'


def build_records(con, plan) -> str:
    """The relation with one row per record: ``typed`` itself, or ``collapsed``."""
    kind, cols, opts, result = plan.kind, plan.cols, plan.opts, plan.result
    idf = ID_FIELD[kind]
    if kind == "population":
        _population_key(con, cols, opts)
    # Distinct hashes first: when no two ids share a hash they are all distinct, which is
    # the usual case and much cheaper to establish than distinct text over millions of rows.
    good_rows, keyed, hashes = con.execute(
        f"SELECT count(*), count({idf}), count(DISTINCT hash({idf})) FILTER "
        f"(WHERE {idf} IS NOT NULL) FROM typed").fetchone()
    ids = keyed if hashes == keyed else con.execute(
        f"SELECT count(DISTINCT {idf}) FROM typed").fetchone()[0]
    units = bool(opts.get("unit_rows")) and kind == "calls"
    result.records = ids
    result.rows_merged = good_rows - ids
    if units:
        result.unit_rows = (good_rows, ids)
    if opts.get("fingerprint_ids") and idf not in {c.name for c in cols}:
        result.fingerprint_merged = good_rows - ids
    if good_rows == ids:
        return "typed"
    fields = [c for c in cols if c.name != idf]
    if not units:
        _refuse_conflicting_duplicates(con, fields, idf, plan.file_name)
    keep = [_aggregate(c, units) for c in fields]
    keep += [f'bool_or("{f}_{c.name}") AS "{f}_{c.name}"' for c in fields
             if c.type == "timestamp" for f in ("p", "h")]
    con.execute("DROP TABLE IF EXISTS collapsed")
    con.execute(f"CREATE TEMP TABLE collapsed AS SELECT {idf}, "
                f"{''.join(k + ', ' for k in keep)}min({file_row()}) AS file_row "
                f"FROM typed GROUP BY {idf}")
    return "collapsed"


def _aggregate(c, units):
    """Unit rows become one call: earliest dispatch and arrival, latest clear, first row's rest."""
    col = _stored(c)
    if units and c.name in ("received_at", "dispatched_at", "enroute_at", "arrived_at"):
        return f"min({col}) AS {col}"
    if units and c.name == "cleared_at":
        return f"max({col}) AS {col}"
    return f"arg_min({col}, rowid) AS {col}"


_POPULATION_DEFAULTS = {"dimension": "race_ethnicity", "source": ""}


def _value_sql(c, alias: str) -> str:
    return mapped_value(c, alias) if c.mapped else f'{alias}."{c.name}"'


def _population_key(con, cols, opts):
    """geography|dimension|group|source, with mapped values: population rows have no id."""
    by = {c.name: c for c in cols}
    parts, params = [], []
    for name in ("geography", "dimension", "group", "source"):
        if name in by:
            parts.append(_value_sql(by[name], "t"))
        else:
            parts.append("?::VARCHAR")
            params.append(opts.get(name, _POPULATION_DEFAULTS[name]))
    con.execute("ALTER TABLE typed ADD COLUMN population_key VARCHAR")
    con.execute(f"UPDATE typed SET population_key = k.key FROM (SELECT t.rowid AS rid, "
                f"concat_ws('|', {', '.join(parts)}) AS key FROM typed t "
                f"{vmap_joins(cols, 't')}) k WHERE typed.rowid = k.rid", params)


def _refuse_conflicting_duplicates(con, fields, idf, file_name):
    content = ", ".join(_stored(c) for c in fields) or "1"
    rows = con.execute(
        f"SELECT {idf}, list({file_row()} ORDER BY rowid)[:3] FROM typed WHERE {idf} IN "
        f"(SELECT {idf} FROM typed GROUP BY {idf} HAVING count(*) > 1) GROUP BY {idf} "
        f"HAVING count(DISTINCT hash({content})) > 1 ORDER BY min(rowid) LIMIT 3").fetchall()
    if rows:
        where = "; ".join(f"'{i}' on rows {', '.join(map(str, r))}" for i, r in rows)
        raise ImportRefused(
            f"{file_name}: the same {idf} appears on rows with different values ({where}). "
            "If each row is one unit of a call, set unit_rows = true under [options]; if the "
            "export has no real identifier, set fingerprint_ids = true. Nothing was imported.")


def final_records(con, plan):
    """The view ``incoming``: rows shaped as the target table, computed on the fly.

    A view, not a table, to avoid one more full copy of a large file; the import's constants
    come from a one-row table because views cannot take parameters.
    """
    kind, cols, tz, opts, source = plan.kind, plan.cols, plan.tz, plan.opts, plan.source
    fast = fast_zones(plan.staged)
    by_name = {c.name: c for c in cols}
    idf = ID_FIELD[kind]
    main = MAIN_TIME[kind]
    con.execute("CREATE OR REPLACE TEMP TABLE import_ctx AS SELECT ?::VARCHAR AS j, "
                "?::BIGINT AS id, ?::VARCHAR AS tz, ?::VARCHAR AS secret, ?::VARCHAR AS dim, "
                "?::VARCHAR AS src",
                [plan.jurisdiction, plan.import_id, tz,
                 person_secret(con) if "person_key" in by_name else "", opts.get(
                     "dimension", _POPULATION_DEFAULTS["dimension"]),
                 opts.get("source", _POPULATION_DEFAULTS["source"])])
    row = file_row("src.") if source == "typed" else "src.file_row"
    select = []
    for name, sql_type in record_columns(kind):
        base_type = sql_type.replace(" NOT NULL", "")
        c = by_name.get(name)
        if name == "jurisdiction":
            expr = "ctx.j"
        elif name == "import_id":
            expr = "ctx.id"
        elif name == "file_row":
            expr = row
        elif name == idf:
            expr = f"src.{idf}"
        elif main and name == main.replace("_at", "_local"):
            expr = (zone_sql(con, tz, fast, False, f"src.{main}", "ctx.tz")
                    if main in by_name else "NULL::TIMESTAMP")
        elif name.endswith("_raw") and name[:-4] in by_name:
            expr = f'src."r_{name[:-4]}"'
        elif c is None and kind == "population" and name in ("dimension", "source"):
            expr = "ctx.dim" if name == "dimension" else "ctx.src"
        elif c is None:
            expr = f"NULL::{base_type}"
        elif name == "person_key":
            expr = f"left(sha256(ctx.secret || src.{_stored(c)}), 20)"
        elif c.mapped:
            expr = f"({mapped_value(c, 'src')})::{base_type}"
        elif c.type == "code":
            expr = f'src."r_{name}"'
        else:
            expr = f'src."{name}"::{base_type}'
        select.append(f'{expr} AS "{name}"')
    if "total_population" in by_name:  # becomes total rows (population_totals), not a column
        select.append('src."total_population" AS "_total"')
    con.execute("DROP VIEW IF EXISTS incoming")
    con.execute(f"CREATE TEMP VIEW incoming AS SELECT {', '.join(select)} FROM {source} src "
                f"{vmap_joins(cols, 'src')}, import_ctx ctx")


def person_secret(con) -> str:
    """Key for hashing person identifiers: never in the database, nor in a folder its
    locked connection may read (``connection.person_key_path``)."""
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                     ).fetchone()[0]
    if not db:
        return "in-memory-test-key"
    key_file = migrate_person_key(db)
    # The database's folder is what the dashboard's long-lived connection may read. (A
    # command-line import may also read its file's folder; refusing a key under that would
    # stop imports run from a parent folder, and that process runs no free-form SQL.)
    if str(key_file).startswith(str(Path(db).resolve().parent) + os.sep):
        raise DataError(f"The person-key secret {key_file} is in the database's folder, which "
                        "the database may read. Set A911_PERSON_KEY to a file outside it.")
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.parent.chmod(0o700)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()
