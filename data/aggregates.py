"""Monthly tables of call and team-response counts, kept current by every write, so that
pages need not count 100 million calls one by one (issue 25).

Each maintained table groups a source's records (the calls: ``facts.source_select``, every
call with its derived category and eligibility; the team responses) by local month, the
jurisdiction, the dimensions the pages group and filter by, and *every column a count's
condition reads* (eligible, out of hours, contact made ...), with the number of records in
each group (``calls``, ``responses``). A count of the registry, ``count_if(<condition>)``
over the rows, is then exactly ``sum(calls) FILTER (WHERE <condition>)`` over a table: the
condition reads the same columns with the same values, so no count is defined twice
(metrics/rollup.py reads them).

- ``calls_monthly``: month × jurisdiction × area, category, responder, origin, reason not
  served, and the flags;
- ``calls_hourly``: month × jurisdiction × local weekday and hour, responder and the flags
  (apart, since weekday × hour would multiply the first by 168);
- ``responses_monthly``: month × jurisdiction × area, team, race/ethnicity, age group,
  gender, outcome, destination, and contact, back-up, arrest, injury and referral flags.

Every write counts again, in its own transaction, what it changed: ``facts.refresh`` (undo,
crosswalk and settings edits, the demo, ``python -m data refresh``) the calls it works out
again, an import of calls its months (``after_import``), and ``links.refresh_links`` (every
import and undo of responses or referrals) the jurisdiction's responses. ``stale_groups``
compares the tables with a fresh count (the tests run it after every kind of write).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import facts, impact_tables

# The columns of the calls source a count's condition reads (metrics.registry.COUNTS):
# stored in both tables, so that every count can be read from either.
FLAGS = ("type_unmapped", "is_target", "eligible", "out_of_hours", "ar_responded",
         "public_initiated", "responder")


@dataclass(frozen=True)
class Rollup:
    """A maintained table: the records of ``source`` (calls or responses) grouped by
    ``columns`` (name, SQL over the source's rows, SQL type, meaning), with their number in
    the column named after the source."""

    table: str
    source: str
    columns: tuple[tuple[str, str, str, str], ...]
    doc: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c[0] for c in self.columns)

    @property
    def count(self) -> str:
        return self.source  # calls_monthly.calls, responses_monthly.responses


_FLAG_COLUMNS = tuple((f, f, "VARCHAR" if f == "responder" else "BOOLEAN",
                       "") for f in FLAGS)
_MONTH = ("local_month", "local_month", "INTEGER",
          "Local month of receipt (calls) or request (responses) as a number (2025 * 100 + 3); "
          "NULL: no time")
_JURISDICTION = ("jurisdiction", "jurisdiction", "VARCHAR", "")
# The responses' columns a count's condition reads (metrics.registry.COUNTS), named as the
# responses source (metrics/sources.py) names them: the table's own columns.
_RESPONSE_COLUMNS = tuple((c, c, t, "") for c, t in (
    ("area", "VARCHAR"), ("team", "VARCHAR"), ("race_ethnicity", "VARCHAR"),
    ("age_group", "VARCHAR"), ("gender", "VARCHAR"), ("outcome", "VARCHAR"),
    ("transport_destination", "VARCHAR"), ("contact_made", "BOOLEAN"),
    ("police_backup", "BOOLEAN"), ("arrest", "BOOLEAN"), ("injury", "BOOLEAN"),
    ("has_referral", "BOOLEAN")))

ROLLUPS = (
    Rollup("calls_monthly", "calls", (
        _JURISDICTION, _MONTH,
        ("area", "area", "VARCHAR", ""),
        ("category", "category", "VARCHAR", "The effective category (crosswalk, else export)"),
        ("origin", "origin", "VARCHAR", ""),
        ("not_served_reason", "not_served_reason", "VARCHAR", "'not recorded' when blank"),
        *_FLAG_COLUMNS), "Calls per month, jurisdiction, area, category, origin, reason not "
        "served and the counted flags"),
    Rollup("calls_hourly", "calls", (
        _JURISDICTION, _MONTH,
        ("local_weekday", "isodow(local_ts)", "INTEGER", "ISO weekday of receipt, local"),
        ("local_hour", "hour(local_ts)", "INTEGER", "Hour of receipt, local"),
        *_FLAG_COLUMNS), "Calls per month, jurisdiction, local weekday and hour and the "
        "counted flags"),
    Rollup("responses_monthly", "responses", (_JURISDICTION, _MONTH, *_RESPONSE_COLUMNS),
           "Team responses per month, jurisdiction, the grouping dimensions and the counted "
           "flags"),
)
TABLES = tuple(r.table for r in ROLLUPS) + impact_tables.TABLES

# The rows each source's tables count: the calls with their derived columns, the responses
# with their local month.
_ROWS = {"calls": facts.source_select(),
         "responses": f"SELECT *, {facts.month_number('requested_local')} AS local_month "
                      "FROM responses"}


def ddl() -> list[str]:
    """CREATE TABLE statements of the maintained tables (data/schema.py runs them)."""
    out = []
    for r in ROLLUPS:
        cols = ",\n  ".join(f'"{n}" {t}' for n, _, t, _ in r.columns)
        out.append(f"CREATE TABLE IF NOT EXISTS {r.table} (\n  {cols},\n  {r.count} BIGINT "
                   "NOT NULL\n)")
    return out + impact_tables.ddl()  # police busy time, first and last calls: the Impact page


def _fresh(r: Rollup, where: str) -> str:
    cols = ", ".join(f'{expr} AS "{name}"' for name, expr, _, _ in r.columns)
    return (f"SELECT {cols}, count(*) AS {r.count} FROM ({_ROWS[r.source]}) WHERE {where} "
            "GROUP BY ALL")


def refresh(con, jurisdiction: str | None = None, source: str = "calls",
            months: tuple[list[int], bool] | None = None) -> None:
    """Count again a source's groups of a jurisdiction (all when None), or with ``months``
    (the months, and whether records without a time count too) only those.

    The caller holds the transaction. ``facts.refresh`` calls it for the calls it works out
    again, ``links.refresh_links`` for the responses, the import for its months of calls.
    """
    clauses, params = [], []
    if jurisdiction is not None:
        clauses.append("jurisdiction = ?")
        params.append(jurisdiction)
    if months is not None:
        clauses.append("(list_contains(?::INTEGER[], local_month)"
                       f"{' OR local_month IS NULL' if months[1] else ''})")
        params.append(months[0])
    where = " AND ".join(clauses) or "true"
    for r in ROLLUPS:
        if r.source == source:
            con.execute(f"DELETE FROM {r.table} WHERE {where}", params)
            con.execute(f"INSERT INTO {r.table} {_fresh(r, where)}", params)
    impact_tables.refresh(con, where, params, source)  # the Impact and Plan pages' tables


def after_import(con, jurisdiction: str, kind: str, import_id: int) -> None:
    """An import of calls: count again the months its calls (new or replaced) fall in, or the
    whole jurisdiction when it also changed older calls. (An import of responses or
    referrals is counted by ``links.refresh_links``, which it runs.)"""
    if kind != "calls":
        return
    whole = _touches_older_calls(con, jurisdiction, import_id)
    refresh(con, jurisdiction, "calls", None if whole else _months_of(con, import_id))


def _months_of(con, import_id: int) -> tuple[list[int], bool]:
    """The local months of the calls an import wrote or replaced, and whether any has none."""
    rows = con.execute(
        "SELECT DISTINCT received_month FROM calls WHERE import_id = ? UNION "
        f"SELECT DISTINCT {facts.month_number('received_local')} FROM calls_replaced "
        "WHERE replaced_by = ?", [import_id, import_id]).fetchall()
    return [m for (m,) in rows if m is not None], any(m is None for (m,) in rows)


def _touches_older_calls(con, jurisdiction, import_id: int) -> bool:
    """Whether the import added crosswalk rows for call types earlier imports already had:
    then their calls' eligibility changed too, in any month (data/importer/pipeline.py)."""
    return con.execute(
        "SELECT count(*) > 0 FROM (SELECT 1 FROM calls c JOIN crosswalk_auto a "
        "ON a.jurisdiction = c.jurisdiction AND a.call_type = c.call_type "
        "WHERE a.import_id = ? AND c.import_id <> ? AND c.jurisdiction = ? LIMIT 1)",
        [import_id, import_id, jurisdiction]).fetchone()[0]


def stale_groups(con) -> int:
    """Groups of the maintained tables that differ from a fresh count of the records (0 when
    current): rows in one and not the other, counted with their multiplicity."""
    total = 0
    for r in ROLLUPS:
        fresh = _fresh(r, "true")
        names = ", ".join(f'"{n}"' for n in r.names) + f", {r.count}"
        total += con.execute(
            f"SELECT count(*) FROM ((SELECT {names} FROM {r.table} EXCEPT ALL {fresh}) "
            f"UNION ALL ({fresh} EXCEPT ALL SELECT {names} FROM {r.table}))").fetchone()[0]
    return total + impact_tables.stale_groups(con)


def ensure_current(con) -> None:
    """A database from an earlier version (or tables created empty beside existing records):
    each source's maintained tables are counted once."""
    for source in dict.fromkeys(r.source for r in ROLLUPS):
        tables = [r.table for r in ROLLUPS if r.source == source]
        empty = all(con.execute(f"SELECT count(*) = 0 FROM {t}").fetchone()[0] for t in tables)
        if empty and con.execute(f"SELECT count(*) > 0 FROM {source}").fetchone()[0]:
            refresh(con, source=source)
    impact_tables.ensure_current(con)


def columns_doc() -> dict[str, list[tuple[str, str]]]:
    """README data model rows of each maintained table (data/docs.py)."""
    return {r.table: [(n, m or "As in the calls source") for n, _, _, m in r.columns]
            + [(r.count, f"{r.count.capitalize()} in the group")] for r in ROLLUPS
            } | impact_tables.columns_doc()
