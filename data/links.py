"""Derived links between tables, refreshed after every change to calls, responses or referrals.

Each is kept on the response so that no dashboard query joins every response with every call
or referral: at 100 million calls, joining the responses with the referrals for "contacts with
a referral" (E1) was most of the Overview's time.
"""
from __future__ import annotations

# Which links a change to each kind of record can alter (other kinds alter none).
_LINKS_OF = {"calls": ("call",), "responses": ("call", "referral"),
             "referrals": ("referral",)}
_ALL = ("call", "referral")


def refresh_links(con, jurisdiction: str | None = None, changed: str | None = None
                  ) -> None:
    """Work out again the responses' links (all of them, or those ``changed`` records alter).

    - ``call_received_at``: the linked call's receipt (NULL when there is none); team response
      time (C2) starts there.
    - ``has_referral``: whether any referral was made during the response (E1).
    Only rows whose value differs are written. The responses' monthly counts
    (data/aggregates.py) are counted again with them, and the jurisdiction's referrals: their
    maturity reads its latest referral, their people columns its responses.
    """
    from . import aggregates, duration_tables  # counts over the responses and links

    where, params = ("r.jurisdiction = ?", [jurisdiction]) if jurisdiction else ("true", [])
    links = _ALL if changed is None else _LINKS_OF.get(changed, ())
    if "call" in links:
        con.execute(
            "UPDATE responses SET call_received_at = l.received_at FROM ("
            "SELECT r.rowid AS rid, c.received_at FROM calls c RIGHT JOIN responses r "
            "ON c.jurisdiction = r.jurisdiction AND c.call_id = r.call_id "
            f"WHERE {where}) l WHERE responses.rowid = l.rid "
            "AND responses.call_received_at IS DISTINCT FROM l.received_at", params)
    if "referral" in links:
        con.execute(
            "UPDATE responses SET has_referral = l.has_referral FROM ("
            "SELECT r.rowid AS rid, f.response_id IS NOT NULL AS has_referral FROM responses r "
            "LEFT JOIN (SELECT DISTINCT jurisdiction, response_id FROM referrals) f "
            "ON f.jurisdiction = r.jurisdiction AND f.response_id = r.response_id "
            f"WHERE {where}) l WHERE responses.rowid = l.rid "
            "AND responses.has_referral IS DISTINCT FROM l.has_referral", params)
    if changed in (None, "responses", "referrals"):  # the responses or has_referral changed
        aggregates.refresh(con, jurisdiction, "responses")
        aggregates.refresh(con, jurisdiction, "referrals")
    elif "call" in links:  # new or undone calls move C2's start: its histogram follows
        duration_tables.refresh_source(con, "responses", jurisdiction)
