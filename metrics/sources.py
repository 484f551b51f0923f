"""The base relations metrics count over: canonical tables enriched with eligibility and links.

Each source is one SELECT over the canonical model with derived *flags* (booleans) and
*dimensions*; every count in the registry is ``count_if(<flag>)`` over one
source. The calls' flags (eligible, out of hours, target type ...) are stored on the calls
(data/facts.py), kept current by every import, undo and crosswalk or settings edit.
"""
from __future__ import annotations

from dataclasses import dataclass

from data import facts, referral_source

# Calls with their category and eligibility already worked out: data/facts.py derives them
# from the crosswalk and the program settings, and every write that changes either refreshes
# them, so a crosswalk edit applies to every call already imported. Deriving them here, per
# query, would join every call with the crosswalk on every page view.
CALLS = facts.source_select()

RESPONSES = f"""
SELECT
  r.jurisdiction, r.requested_local AS local_ts, r.team, r.area, r.race_ethnicity, r.age_group,
  r.gender, r.outcome, r.transport_destination, r.person_key, r.contact_made, r.police_backup,
  r.arrest, r.injury, r.dispatched_at, r.arrived_at, r.cleared_at,
  -- C2 starts at the linked call's receipt, or the team's own request time when unlinked.
  coalesce(r.call_received_at, r.requested_at) AS request_received_at,
  -- Stored on the response (data/links.py): a join with every referral per query cost most
  -- of the Overview's time at 100 million calls.
  r.has_referral,
  {facts.month_number("r.requested_local")} AS local_month
FROM responses r
"""


# The referrals with their maturity flags and their response's people columns: defined in
# data/referral_source.py, which the maintained referrals_monthly table counts too.
_REFERRAL_PEOPLE = referral_source.PEOPLE_COLUMNS


def render_referrals(needed: bool) -> str:
    return referral_source.referrals_select(people=needed)


@dataclass(frozen=True)
class Source:
    name: str
    sql: str  # with every optional column (documentation, tests)
    dimensions: tuple[str, ...]  # the dimensions a metric over this source can be grouped by
    filters: tuple[str, ...]  # the filters that apply to it

    def render(self, used_text: str) -> str:
        """The SQL with only the optional columns that ``used_text`` mentions."""
        if self.name == "referrals":
            words = set(used_text.replace("(", " ").replace(")", " ").split())
            return render_referrals(bool(words & set(_REFERRAL_PEOPLE)))
        return self.sql


_TIME_DIMS = ("month", "quarter", "year", "weekday", "hour", "weekday_hour")
SOURCES = {
    "calls": Source("calls", CALLS,
                    ("jurisdiction", *_TIME_DIMS, "area", "category", "responder", "origin",
                     "not_served_reason"),
                    ("jurisdictions", "date_from", "date_to", "categories", "areas", "origins")),
    "responses": Source("responses", RESPONSES,
                        ("jurisdiction", *_TIME_DIMS, "area", "team", "race_ethnicity",
                         "age_group", "gender", "outcome", "transport_destination"),
                        ("jurisdictions", "date_from", "date_to", "areas", "teams")),
    "referrals": Source("referrals", render_referrals(True),
                        ("jurisdiction", "month", "quarter", "year", "service_type",
                         "race_ethnicity", "age_group", "gender", "area"),
                        ("jurisdictions", "date_from", "date_to")),
}

# Dimension -> SQL over a source's columns. An allowlist: nothing else can be grouped by.
DIMENSIONS = {
    "jurisdiction": "jurisdiction",
    # Months and quarters as numbers (2025 * 100 + 3): cheaper to compute and group than a
    # truncated timestamp; DIMENSION_FORMATS turns them into the same labels. Every source
    # has its local month as ``local_month`` (the calls' is stored: data/facts.py).
    "month": "local_month",
    "quarter": "(local_month // 100) * 10 + (local_month % 100 + 2) // 3",
    "year": "local_month // 100",
    "weekday": "isodow(local_ts)",
    "hour": "hour(local_ts)",
    "weekday_hour": "isodow(local_ts) * 100 + hour(local_ts)",
    "area": "area",
    "category": "category",
    "responder": "responder",
    "origin": "origin",
    "not_served_reason": "not_served_reason",
    "team": "team",
    "race_ethnicity": "race_ethnicity",
    "age_group": "age_group",
    "gender": "gender",
    "outcome": "outcome",
    "transport_destination": "transport_destination",
    "service_type": "service_type",
}

# Grouping uses the cheap expressions above; these turn the few resulting groups into labels.
DIMENSION_FORMATS = {
    "month": "lpad(({g} // 100)::VARCHAR, 4, '0') || '-' || lpad(({g} % 100)::VARCHAR, 2, '0')",
    "quarter": "lpad(({g} // 10)::VARCHAR, 4, '0') || '-Q' || ({g} % 10)::VARCHAR",
    "year": "{g}::VARCHAR",
    "weekday_hour": "({g} // 100)::VARCHAR || '-' || lpad(({g} % 100)::VARCHAR, 2, '0')",
}

DIMENSION_LABELS = {
    "jurisdiction": "Jurisdiction", "month": "Month", "quarter": "Quarter", "year": "Year",
    "weekday": "Weekday (1 = Monday)", "hour": "Hour of day", "weekday_hour": "Weekday × hour",
    "area": "Area", "category": "Call category", "responder": "Responder", "origin": "Origin",
    "not_served_reason": "Reason not served", "team": "Team", "race_ethnicity": "Race/ethnicity",
    "age_group": "Age group", "gender": "Gender", "outcome": "Outcome",
    "transport_destination": "Transport destination", "service_type": "Service type",
}
