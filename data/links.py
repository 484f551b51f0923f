"""Derived links between tables, refreshed after every change to calls or responses."""
from __future__ import annotations


def refresh_call_links(con, jurisdiction: str | None = None) -> None:
    """Set ``responses.call_received_at`` from the linked call (NULL when there is none).

    Team response time (C2) starts at the linked call's receipt; keeping it on the response
    spares every dashboard query a join of all responses with all calls.
    """
    where, params = ("r.jurisdiction = ?", [jurisdiction]) if jurisdiction else ("true", [])
    con.execute(
        "UPDATE responses SET call_received_at = l.received_at FROM ("
        "SELECT r.rowid AS rid, c.received_at FROM calls c RIGHT JOIN responses r "
        "ON c.jurisdiction = r.jurisdiction AND c.call_id = r.call_id "
        f"WHERE {where}) l WHERE responses.rowid = l.rid "
        "AND responses.call_received_at IS DISTINCT FROM l.received_at", params)
