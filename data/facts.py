"""Every call's category and eligibility, worked out once, stored on the call, kept current.

Eligibility depends on the call (type, time, area), the jurisdiction's crosswalk and its
program settings (launch date, coverage hours, days and areas). Working it out at query time
means joining every call with the crosswalk on each page view: over ten million calls that
join is most of a page's time. So it is worked out once per call and stored in the derived
columns of ``calls`` (``DERIVED``), and every change to any of its inputs refreshes the calls
it touches, in the same transaction as the change:

- an import of calls writes them with the rows it adds (``derived_select``, in the import's
  own statement: no second pass over the calls);
- an undo, a crosswalk edit, the starter crosswalk and a settings edit refresh the
  jurisdiction (or just the edited call types) with ``refresh``.

The calls metrics read them through ``metrics.sources.CALLS`` (``source_select``).
``stale_rows`` compares the stored columns with a fresh derivation; the tests run it after
every kind of write, and ``python -m data refresh`` works them out again after hand edits.
"""
from __future__ import annotations

# Coverage hours may wrap past midnight (e.g. 19 -> 7). Weekdays are a bitmask per jurisdiction
# so that each call costs a shift and an AND, not a string search.
_JURISDICTIONS = """(SELECT *, list_reduce(list_transform(string_split(coverage_days, ''),
      lambda d: 1 << TRY_CAST(d AS INTEGER)), lambda a, b: a | b) AS days_mask
    FROM jurisdictions)"""

def month_number(ts: str) -> str:
    """SQL: the month of timestamp ``ts`` as a number (2025 * 100 + 3 for March 2025), the
    form every source groups months, quarters and years by (metrics.sources.DIMENSIONS)."""
    return f"year({ts}) * 100 + month({ts})"


# The columns the calls metrics count over (metrics.sources.CALLS), in order: columns of
# ``calls``, some read under another name (the derived ones mean what DERIVED says).
SOURCE_COLUMNS = (
    "jurisdiction", "call_id", "call_type", "local_ts", "received_at", "dispatched_at",
    "arrived_at", "cleared_at", "area", "responder", "origin", "category", "not_served_reason",
    "type_unmapped", "is_target", "eligible", "out_of_hours", "ar_responded", "public_initiated",
    "local_month",
)
_FROM_CALLS = {
    "local_ts": "received_local",  # months, weekdays and hours are local
    "category": "effective_category",
    "not_served_reason": "coalesce(not_served_reason, 'not recorded')",
    "eligible": "effective_eligible",
    "local_month": "received_month",
}


def source_select() -> str:
    """The SELECT the calls metrics read: every call with its derived columns."""
    cols = ", ".join(f'{_FROM_CALLS[n]} AS "{n}"' if n in _FROM_CALLS else f'"{n}"'
                     for n in SOURCE_COLUMNS)
    return f"SELECT {cols} FROM calls"


# The derived columns of ``calls``: (column, SQL type, expression over the call ``c``, its
# jurisdiction's settings ``j`` (with ``days_mask``) and its crosswalk row ``cw``, meaning).
_TYPE_ELIGIBLE = "cw.eligible"
_AFTER_LAUNCH = "(j.launch_date IS NULL OR c.received_local >= j.launch_date)"
_IN_AREA = "(j.coverage_areas IS NULL OR list_contains(j.coverage_areas, c.area))"
_IN_HOURS = """(CASE
       WHEN j.coverage_start_hour IS NULL OR j.coverage_end_hour IS NULL THEN true
       WHEN j.coverage_start_hour < j.coverage_end_hour
         THEN hour(c.received_local) >= j.coverage_start_hour
              AND hour(c.received_local) < j.coverage_end_hour
       ELSE hour(c.received_local) >= j.coverage_start_hour
            OR hour(c.received_local) < j.coverage_end_hour
     END AND (j.days_mask IS NULL OR (j.days_mask >> isodow(c.received_local)) & 1 = 1))"""
DERIVED = [
    ("effective_category", "VARCHAR", "coalesce(cw.category, c.category)",
     "The crosswalk's category of the call type, else the export's `category`"),
    ("type_unmapped", "BOOLEAN", "(cw.category IS NULL AND c.category IS NULL)",
     "Neither the crosswalk nor the export gives a category"),
    ("is_target", "BOOLEAN",
     "coalesce(list_contains(j.target_categories, coalesce(cw.category, c.category)), false)",
     "The category is one the program targets"),
    ("effective_eligible", "BOOLEAN", f"""CASE
       WHEN c.eligible IS NOT NULL THEN c.eligible
       WHEN {_TYPE_ELIGIBLE} IS NULL THEN NULL
       ELSE {_TYPE_ELIGIBLE} AND {_AFTER_LAUNCH} AND {_IN_HOURS} AND {_IN_AREA}
     END""", "The export's own `eligible` if it has one; else the crosswalk's, and the call was "
             "after launch, in coverage hours and days and in a covered area; NULL = the type "
             "was never triaged (unknown)"),
    ("out_of_hours", "BOOLEAN",
     f"coalesce({_TYPE_ELIGIBLE} AND {_AFTER_LAUNCH} AND {_IN_AREA} AND NOT {_IN_HOURS}, false)",
     "An eligible type, after launch, in a covered area, outside coverage hours"),
    ("ar_responded", "BOOLEAN", "c.responder IN ('alternative', 'co_response')",
     "The responder was the team or a co-response"),
    ("public_initiated", "BOOLEAN", "coalesce(c.origin, '') <> 'officer_initiated'",
     "Not officer-initiated"),
    # Stored, not worked out per query: at 100 million calls, the year and month of every
    # call's local time were a third of a monthly chart's query.
    ("received_month", "INTEGER", month_number("c.received_local"),
     "Local month of receipt as a number (2025 * 100 + 3 for March 2025): the month, quarter "
     "and year the dashboard groups by"),
]


# The columns of calls the derivation reads (a refresh selects only these, not the stored
# derived columns, whose names the derivation gives its results).
_INPUTS = "jurisdiction, call_type, category, eligible, received_local, area, responder, origin"


_NAMES = [name for name, _, _, _ in DERIVED]


def _differs(stored: str, fresh: str) -> str:
    """True where any derived column of ``stored`` differs from ``fresh``."""
    return " OR ".join(f'{stored}."{n}" IS DISTINCT FROM {fresh}."{n}"' for n in _NAMES)


def columns() -> list[tuple[str, str]]:
    """(column, SQL type) of the derived columns, in table order (after the imported ones)."""
    return [(name, sql_type) for name, sql_type, _, _ in DERIVED]


def derived_select(calls: str) -> str:
    """The derived columns of the rows of relation ``calls`` (with the columns of the calls
    table), as ``SELECT c.*, <derived> FROM ...``: one row per row of ``calls``."""
    exprs = ",\n  ".join(f'{expr} AS "{name}"' for name, _, expr, _ in DERIVED)
    return (f"SELECT c.*,\n  {exprs}\nFROM {calls} c\n"
            f"LEFT JOIN {_JURISDICTIONS} j ON j.jurisdiction = c.jurisdiction\n"
            "LEFT JOIN crosswalk cw ON cw.jurisdiction = c.jurisdiction "
            "AND cw.call_type = c.call_type")


def _where(jurisdiction, call_types) -> tuple[str, list] | None:
    clauses, params = [], []
    if jurisdiction is not None:
        clauses.append("c.jurisdiction = ?")
        params.append(jurisdiction)
    if call_types is not None:
        if not call_types:
            return None
        clauses.append("list_contains(?::VARCHAR[], c.call_type)")
        params.append(list(call_types))
    return " AND ".join(clauses) or "true", params


def refresh(con, jurisdiction: str | None = None, call_types: list[str] | None = None) -> None:
    """Work out again the derived columns of a jurisdiction's calls (all when None), and
    its monthly counts (data/aggregates.py), which read them.

    With ``call_types``, only the calls of those types (a crosswalk edit of a few rows).
    The caller holds the transaction: the change is seen with the edit or not at all.
    """
    from . import aggregates  # counts over these columns (it reads the calls through here)

    where = _where(jurisdiction, call_types)
    if where is None:
        return
    clause, params = where
    sets = ", ".join(f'"{n}" = d."{n}"' for n in _NAMES)
    # Only rows whose stored values differ are rewritten (an edit of one rule touches few).
    derived = derived_select(f"(SELECT rowid AS rid, {_INPUTS} FROM calls c WHERE {clause})")
    con.execute(f"UPDATE calls SET {sets} FROM ({derived}) d "
                f"WHERE calls.rowid = d.rid AND ({_differs('calls', 'd')})", params)
    aggregates.refresh(con, jurisdiction)  # the monthly counts follow the derived columns


def stale_rows(con) -> int:
    """Calls whose stored derived columns differ from a fresh derivation (0 when current)."""
    fresh = derived_select(f"(SELECT rowid AS rid, {_INPUTS} FROM calls)")
    return con.execute(f"SELECT count(*) FROM calls c JOIN ({fresh}) d ON c.rowid = d.rid "
                       f"WHERE {_differs('c', 'd')}").fetchone()[0]


def ensure_current(con) -> None:
    """A database from an earlier version: its calls gain the derived columns, worked out once.

    Versions before this one kept them in a separate table, ``call_facts``; it is dropped.
    """
    present = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'calls' "
        "AND table_schema = 'main'").fetchall()}
    missing = [(n, t) for n, t in columns() if n not in present]
    for name, sql_type in missing:
        con.execute(f'ALTER TABLE calls ADD COLUMN "{name}" {sql_type}')
    if missing and con.execute("SELECT count(*) FROM calls").fetchone()[0] > 0:
        refresh(con)
    con.execute("DROP TABLE IF EXISTS call_facts")
