"""call_facts: every call with its category and eligibility worked out, kept current on write.

Eligibility depends on the call (type, time, area), the jurisdiction's crosswalk and its
program settings (launch date, coverage hours, days and areas). Working it out at query time
means joining every call with the crosswalk on each page view: over ten million calls that
join is most of a page's time. So it is worked out once per call, here, and every change to
any of its inputs refreshes the calls it touches, in the same transaction as the change:

- an import of calls adds the rows it wrote (and drops the versions it replaced);
- an undo, a crosswalk edit, the starter crosswalk and a settings edit refresh the
  jurisdiction (or just the edited call types).

``stale_rows`` compares the table with a fresh derivation; the tests run it after every kind
of write, and ``python -m data refresh`` rebuilds it after hand edits of the database.
"""
from __future__ import annotations

# Coverage hours may wrap past midnight (e.g. 19 -> 7). Weekdays are a bitmask per jurisdiction
# so that each call costs a shift and an AND, not a string search.
_JURISDICTIONS = """(SELECT *, list_reduce(list_transform(string_split(coverage_days, ''),
      lambda d: 1 << TRY_CAST(d AS INTEGER)), lambda a, b: a | b) AS days_mask
    FROM jurisdictions)"""

# The columns of call_facts, in order, with what each means (README data model).
COLUMNS = [
    ("jurisdiction", "VARCHAR NOT NULL", ""),
    ("call_id", "VARCHAR NOT NULL", "As in `calls`"),
    ("call_type", "VARCHAR", "As in `calls`"),
    ("local_ts", "TIMESTAMP", "`calls.received_local`: months, weekdays and hours are local"),
    ("received_at", "TIMESTAMPTZ", ""),
    ("dispatched_at", "TIMESTAMPTZ", ""),
    ("arrived_at", "TIMESTAMPTZ", ""),
    ("cleared_at", "TIMESTAMPTZ", ""),
    ("area", "VARCHAR", ""),
    ("responder", "VARCHAR", ""),
    ("origin", "VARCHAR", ""),
    ("category", "VARCHAR", "The crosswalk's category of the call type, else the export's"),
    ("not_served_reason", "VARCHAR", "As exported, or `not recorded`"),
    ("type_unmapped", "BOOLEAN", "Neither the crosswalk nor the export gives a category"),
    ("is_target", "BOOLEAN", "The category is one the program targets"),
    ("eligible", "BOOLEAN", "The export's own flag if it has one; else the crosswalk's, and the "
                            "call was after launch, in coverage hours and days and in a covered "
                            "area; NULL = the type was never triaged (unknown)"),
    ("out_of_hours", "BOOLEAN", "An eligible type, after launch, in a covered area, outside "
                                "coverage hours"),
    ("ar_responded", "BOOLEAN", "The responder was the team or a co-response"),
    ("public_initiated", "BOOLEAN", "Not officer-initiated"),
]

_DERIVATION = f"""
SELECT jurisdiction, call_id, call_type, local_ts, received_at, dispatched_at, arrived_at,
  cleared_at, area, responder, origin, category, not_served_reason, type_unmapped, is_target,
  CASE
    WHEN eligible_in_file IS NOT NULL THEN eligible_in_file
    WHEN type_eligible IS NULL THEN NULL
    ELSE type_eligible AND after_launch AND in_hours AND in_area
  END AS eligible,
  coalesce(type_eligible AND after_launch AND in_area AND NOT in_hours, false) AS out_of_hours,
  ar_responded, public_initiated
FROM (
  SELECT
    c.jurisdiction, c.call_id, c.call_type, c.received_local AS local_ts, c.received_at,
    c.dispatched_at, c.arrived_at, c.cleared_at, c.area, c.responder, c.origin,
    coalesce(cw.category, c.category) AS category,
    coalesce(c.not_served_reason, 'not recorded') AS not_served_reason,
    (cw.category IS NULL AND c.category IS NULL) AS type_unmapped,
    coalesce(list_contains(j.target_categories, coalesce(cw.category, c.category)), false)
      AS is_target,
    c.eligible AS eligible_in_file,
    cw.eligible AS type_eligible,
    (j.launch_date IS NULL OR c.received_local >= j.launch_date) AS after_launch,
    (CASE
       WHEN j.coverage_start_hour IS NULL OR j.coverage_end_hour IS NULL THEN true
       WHEN j.coverage_start_hour < j.coverage_end_hour
         THEN hour(c.received_local) >= j.coverage_start_hour
              AND hour(c.received_local) < j.coverage_end_hour
       ELSE hour(c.received_local) >= j.coverage_start_hour
            OR hour(c.received_local) < j.coverage_end_hour
     END AND (j.days_mask IS NULL OR (j.days_mask >> isodow(c.received_local)) & 1 = 1))
      AS in_hours,
    (j.coverage_areas IS NULL OR list_contains(j.coverage_areas, c.area)) AS in_area,
    c.responder IN ('alternative', 'co_response') AS ar_responded,
    coalesce(c.origin, '') <> 'officer_initiated' AS public_initiated
  FROM calls c
  JOIN {_JURISDICTIONS} j ON j.jurisdiction = c.jurisdiction
  LEFT JOIN crosswalk cw ON cw.jurisdiction = c.jurisdiction AND cw.call_type = c.call_type
  WHERE {{where}}
)
"""


def derivation(where: str = "true") -> str:
    """The SELECT that computes call_facts rows for the calls matching ``where`` (alias c)."""
    return _DERIVATION.format(where=where)


def ddl() -> str:
    body = ",\n  ".join(f'"{c}" {t}' for c, t, _ in COLUMNS)
    return f"CREATE TABLE IF NOT EXISTS call_facts (\n  {body}\n)"


def refresh(con, jurisdiction: str | None = None, call_types: list[str] | None = None) -> None:
    """Work out again the facts of a jurisdiction's calls (all jurisdictions when None).

    With ``call_types``, only the calls of those types (a crosswalk edit of a few rows).
    The caller holds the transaction; the delete and insert are seen together or not at all.
    """
    clauses, params = [], []
    if jurisdiction is not None:
        clauses.append("{t}jurisdiction = ?")
        params.append(jurisdiction)
    if call_types is not None:
        if not call_types:
            return
        clauses.append("list_contains(?::VARCHAR[], {t}call_type)")
        params.append(list(call_types))
    where = " AND ".join(clauses) or "true"
    con.execute(f"DELETE FROM call_facts WHERE {where.format(t='')}", params)
    con.execute(f"INSERT INTO call_facts {derivation(where.format(t='c.'))}", params)


def add_import(con, jurisdiction: str, import_id: int, replaced_ids: str | None) -> None:
    """After an import of calls: facts for the rows it wrote, none for the rows it replaced.

    ``replaced_ids`` names a relation with a column ``id`` of the call ids whose stored version
    the import replaced (or None when it replaced nothing).
    """
    if replaced_ids:
        con.execute(f"DELETE FROM call_facts WHERE jurisdiction = ? AND call_id IN "
                    f"(SELECT id FROM {replaced_ids})", [jurisdiction])
    con.execute(f"INSERT INTO call_facts {derivation('c.jurisdiction = ? AND c.import_id = ?')}",
                [jurisdiction, import_id])


def stale_rows(con) -> int:
    """Rows that differ between call_facts and a fresh derivation (0 when current)."""
    fresh = derivation()
    return con.execute(f"SELECT (SELECT count(*) FROM (SELECT * FROM call_facts EXCEPT ALL "
                       f"{fresh})) + (SELECT count(*) FROM ({fresh} EXCEPT ALL "
                       f"SELECT * FROM call_facts))").fetchone()[0]


def ensure_current(con) -> None:
    """A database from before call_facts existed: fill it once (empty facts, calls present)."""
    if (con.execute("SELECT count(*) FROM call_facts").fetchone()[0] == 0
            and con.execute("SELECT count(*) FROM calls").fetchone()[0] > 0):
        refresh(con)
