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
  gender, outcome, destination, and contact, back-up, arrest, injury and referral flags;
- ``people_monthly``: month × jurisdiction × person (a number, data/people_numbers.py): the
  distinct people and their repeat contacts are counted from it (metrics/people.py);
- ``referrals_monthly``: month × jurisdiction × service type, status, the referred person's
  columns (from the response) and the connection and maturity flags
  (data/referral_source.py). Maturity is measured against the jurisdiction's latest referral
  data, which only an import or undo of its referrals moves.

Every write counts again, in its own transaction, what it changed: ``facts.refresh`` (undo,
crosswalk and settings edits, the demo, ``python -m data refresh``) the calls it works out
again, an import of calls its months (``after_import``), and ``links.refresh_links`` (every
import and undo of responses or referrals) the jurisdiction's responses and referrals
(the referrals read their response's columns). ``stale_groups``
compares the tables with a fresh count (the tests run it after every kind of write).
The histograms of durations (data/duration_tables.py) are counted again with them, by the
same calls.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import duration_tables, facts, impact_tables, people_numbers
from .referral_source import referrals_select
from .table_checks import differing_rows

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
    rows: str | None = None  # the rows it groups, when not all of its source's (_ROWS)

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
    # After responses_monthly, which answers every count of responses it can (choose takes
    # the first): this one serves the distinct people (metrics/people.py).
    Rollup("people_monthly", "responses", (
        _JURISDICTION, _MONTH,
        ("person", "person", "INTEGER", "The person's number (data/people_numbers.py); NULL: "
         "responses without a person key")),
        "Team responses per month, jurisdiction and person", rows=people_numbers.ROWS),
    # The same over all time (no month): what a request with no period asks, the pages'
    # default, with one row per person and jurisdiction and nothing to sum first.
    Rollup("people_total", "responses", (
        _JURISDICTION,
        ("person", "person", "INTEGER", "As in people_monthly")),
        "Team responses per jurisdiction and person, over all time", rows=people_numbers.ROWS),
    Rollup("referrals_monthly", "referrals", (
        _JURISDICTION, _MONTH,
        *((c, c, "VARCHAR", "") for c in ("service_type", "status", "race_ethnicity",
                                          "age_group", "gender", "area")),
        *((c, c, "BOOLEAN", m) for c, m in (
            ("connected_30", "Connected within 30 days of the referral"),
            ("connected_90", "Connected within 90 days of the referral"),
            ("mature_30", "Made at least 30 days before the jurisdiction's latest referral "
                          "data"),
            ("mature_90", "Made at least 90 days before it")))),
        "Referrals per month, jurisdiction, service type, status, the referred person's "
        "columns (from the response) and the connection and maturity flags"),
)
# With the histograms of durations (data/duration_tables.py), the numbers of people
# (data/people_numbers.py) and the Impact and Plan pages' tables (data/impact_tables.py),
# maintained by the same writes.
TABLES = (tuple(r.table for r in ROLLUPS) + duration_tables.TABLES
          + (people_numbers.TABLE,) + impact_tables.TABLES)

# The rows each source's tables count: the calls with their derived columns, the responses
# with their local month.
_ROWS = {"calls": facts.source_select(),
         "responses": f"SELECT *, {facts.month_number('requested_local')} AS local_month "
                      "FROM responses",
         "referrals": referrals_select(people=True)}


def ddl() -> list[str]:
    """CREATE TABLE statements of the maintained tables (data/schema.py runs them)."""
    out = [people_numbers.DDL]
    for r in ROLLUPS:
        cols = ",\n  ".join(f'"{n}" {t}' for n, _, t, _ in r.columns)
        out.append(f"CREATE TABLE IF NOT EXISTS {r.table} (\n  {cols},\n  {r.count} BIGINT "
                   "NOT NULL\n)")
    # the histograms of durations; police busy time, first and last calls (Impact, Plan)
    return out + duration_tables.ddl() + impact_tables.ddl()


def _fresh(r: Rollup, where: str) -> str:
    cols = ", ".join(f'{expr} AS "{name}"' for name, expr, _, _ in r.columns)
    return (f"SELECT {cols}, count(*) AS {r.count} FROM ({r.rows or _ROWS[r.source]}) "
            f"WHERE {where} "
            "GROUP BY ALL")


def refresh(con, jurisdiction: str | None = None, source: str = "calls",
            months: tuple[list[int], bool] | None = None, table: str | None = None) -> None:
    """Count again a source's groups of a jurisdiction (all when None), or with ``months``
    (the months, and whether records without a time count too) only those; in all its
    tables, or only ``table``.

    The caller holds the transaction. ``facts.refresh`` calls it for the calls it works out
    again, ``links.refresh_links`` for the responses and the referrals, the import for its
    months of calls.
    """
    clauses, params = [], []
    if jurisdiction is not None:
        clauses.append("jurisdiction = ?")
        params.append(jurisdiction)
    whole = (" AND ".join(clauses) or "true", list(params))  # the jurisdiction's every month
    if months is not None:
        clauses.append("(list_contains(?::INTEGER[], local_month)"
                       f"{' OR local_month IS NULL' if months[1] else ''})")
        params.append(months[0])
    where = " AND ".join(clauses) or "true"
    if source == "responses":
        people_numbers.number_new(con, jurisdiction)  # before people_monthly reads them
    for r in ROLLUPS:
        if r.source == source and table in (None, r.table):
            # A table over all time (no month) is counted again for the whole jurisdiction.
            w, p = (where, params) if "local_month" in r.names else whole
            con.execute(f"DELETE FROM {r.table} WHERE {w}", p)
            con.execute(f"INSERT INTO {r.table} {_fresh(r, w)}", p)
    if table is None:  # the source's histograms of durations and Impact and Plan tables too
        duration_tables.refresh(con, source, where, params)
        impact_tables.refresh(con, where, params, source)


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
    total = sum(differing_rows(con, r.table, ", ".join(f'"{n}"' for n in (*r.names, r.count)),
                               _fresh(r, "true")) for r in ROLLUPS)
    return (total + duration_tables.stale_groups(con) + people_numbers.unnumbered(con)
            + impact_tables.stale_groups(con))


def ensure_current(con) -> None:
    """A database from an earlier version (or tables created empty beside existing records):
    each maintained table left empty is counted once, on its own (a table added by a newer
    version fills in a database whose other tables are already counted)."""
    for r in ROLLUPS:
        empty = con.execute(f"SELECT count(*) = 0 FROM {r.table}").fetchone()[0]
        if empty and con.execute(f"SELECT count(*) > 0 FROM {r.source}").fetchone()[0]:
            refresh(con, source=r.source, table=r.table)
    for t in duration_tables.DURATION_TABLES:
        empty = con.execute(f"SELECT count(*) = 0 FROM {t.table}").fetchone()[0]
        if empty and con.execute(f"SELECT count(*) > 0 FROM {t.source}").fetchone()[0]:
            duration_tables.refresh_table(con, t)
    impact_tables.ensure_current(con)


def columns_doc() -> dict[str, list[tuple[str, str]]]:
    """README data model rows of each maintained table (data/docs.py)."""
    out = {r.table: [(n, m or f"As in the {r.source} source") for n, _, _, m in r.columns]
           + [(r.count, f"{r.count.capitalize()} in the group")] for r in ROLLUPS}
    out[people_numbers.TABLE] = people_numbers.COLUMNS_DOC
    return out | duration_tables.columns_doc() | impact_tables.columns_doc()
