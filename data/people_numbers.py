"""People as numbers: each pseudonymous person key gets an integer, once and for good, so that
distinct people (F1) and repeat contacts (F2) group integers instead of strings, and the
maintained ``people_monthly`` table (data/aggregates.py) counts each person's team responses
per month and jurisdiction in a few bytes (issue 25).

The numbering is exact (one number per key, one key per number: no hashing, no collisions).
Numbers are never reused or removed: a key whose responses an undo removed keeps its number,
which no table then mentions. Keys are numbered across jurisdictions, as the rows are counted:
the same key in two jurisdictions is one person in a count over both.
"""
from __future__ import annotations

from . import facts

TABLE = "person_numbers"
DDL = (f"CREATE TABLE IF NOT EXISTS {TABLE} (\n  person_key VARCHAR NOT NULL,\n"
       "  person INTEGER NOT NULL\n)")
COLUMNS_DOC = [("person_key", "A person key of the responses"),
               ("person", "Its number (1, 2, ...), given when the key was first imported")]

# The rows people_monthly groups: each response with its month and person number (NULL: no
# person key, kept so that every response is counted and F1 can tell "no keys recorded").
ROWS = (f"SELECT r.jurisdiction, {facts.month_number('r.requested_local')} AS local_month, "
        f"p.person FROM responses r LEFT JOIN {TABLE} p ON p.person_key = r.person_key")


def number_new(con, jurisdiction: str | None = None) -> None:
    """Number the person keys of a jurisdiction's responses (all when None) that have none.
    The caller holds the transaction."""
    where, params = ("jurisdiction = ? AND ", [jurisdiction]) if jurisdiction else ("", [])
    con.execute(
        f"INSERT INTO {TABLE} SELECT k, (SELECT coalesce(max(person), 0) FROM {TABLE}) "
        "+ row_number() OVER (ORDER BY k) FROM (SELECT DISTINCT person_key AS k FROM "
        f"responses WHERE {where}person_key IS NOT NULL) n "
        f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} p WHERE p.person_key = n.k)", params)


def unnumbered(con) -> int:
    """Person keys of the responses without a number, plus numbers given twice (0 when
    current): ``aggregates.stale_groups`` adds them to its count."""
    return con.execute(
        f"SELECT (SELECT count(DISTINCT person_key) FROM responses r WHERE person_key IS NOT "
        f"NULL AND NOT EXISTS (SELECT 1 FROM {TABLE} p WHERE p.person_key = r.person_key)) + "
        f"(SELECT count(*) - count(DISTINCT person_key) FROM {TABLE}) + "
        f"(SELECT count(*) - count(DISTINCT person) FROM {TABLE})").fetchone()[0]
