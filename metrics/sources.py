"""The base relations metrics count over: canonical tables enriched with eligibility and links.

Each source is one SELECT over the canonical model with derived *flags* (booleans) and
*dimensions*; every count in the registry is ``count(*) FILTER (WHERE <flag>)`` over one
source. Eligibility is derived here, at query time, so that a crosswalk edit applies to every
call already imported.
"""
from __future__ import annotations

from dataclasses import dataclass

# Coverage hours may wrap past midnight (e.g. 19 -> 7).
_IN_HOURS = """CASE
      WHEN j.coverage_start_hour IS NULL OR j.coverage_end_hour IS NULL THEN true
      WHEN j.coverage_start_hour < j.coverage_end_hour
        THEN hour(c.received_local) >= j.coverage_start_hour AND hour(c.received_local) < j.coverage_end_hour
      ELSE hour(c.received_local) >= j.coverage_start_hour OR hour(c.received_local) < j.coverage_end_hour
    END AND (j.coverage_days IS NULL OR contains(j.coverage_days, isodow(c.received_local)::VARCHAR))"""

CALLS = f"""
SELECT
  c.jurisdiction, c.received_local AS local_ts, c.received_at, c.dispatched_at, c.arrived_at,
  c.cleared_at, c.area, c.responder, c.origin,
  coalesce(cw.category, c.category) AS category,
  coalesce(c.not_served_reason, 'not recorded') AS not_served_reason,
  (cw.category IS NULL AND c.category IS NULL) AS type_unmapped,
  coalesce(list_contains(j.target_categories, coalesce(cw.category, c.category)), false) AS is_target,
  CASE
    WHEN c.eligible IS NOT NULL THEN c.eligible
    WHEN cw.eligible IS NULL THEN NULL
    ELSE cw.eligible
         AND (j.launch_date IS NULL OR c.received_local >= j.launch_date)
         AND ({_IN_HOURS})
         AND (j.coverage_areas IS NULL OR list_contains(j.coverage_areas, c.area))
  END AS eligible,
  (cw.eligible AND (j.launch_date IS NULL OR c.received_local >= j.launch_date)
     AND NOT ({_IN_HOURS})
     AND (j.coverage_areas IS NULL OR list_contains(j.coverage_areas, c.area))) AS out_of_hours,
  c.responder IN ('alternative', 'co_response') AS ar_responded,
  coalesce(c.origin, '') <> 'officer_initiated' AS public_initiated
FROM calls c
JOIN jurisdictions j ON j.jurisdiction = c.jurisdiction
LEFT JOIN crosswalk cw ON cw.jurisdiction = c.jurisdiction AND cw.call_type = c.call_type
"""

RESPONSES = """
SELECT
  r.jurisdiction, r.requested_local AS local_ts, r.team, r.area, r.race_ethnicity, r.age_group,
  r.gender, r.outcome, r.transport_destination, r.person_key, r.contact_made, r.police_backup,
  r.arrest, r.injury, r.dispatched_at, r.arrived_at, r.cleared_at,
  -- C2 starts at the linked call's receipt, or the team's own request time when unlinked.
  coalesce(c.received_at, r.requested_at) AS request_received_at,
  EXISTS (SELECT 1 FROM referrals f WHERE f.jurisdiction = r.jurisdiction
          AND f.response_id = r.response_id) AS has_referral
FROM responses r
LEFT JOIN calls c ON c.jurisdiction = r.jurisdiction AND c.call_id = r.call_id
"""

REFERRALS = """
SELECT
  f.jurisdiction, f.referred_local AS local_ts, f.service_type, f.status,
  f.status = 'connected' AND f.connected_at IS NOT NULL
    AND f.connected_at <= f.referred_at + INTERVAL 30 DAY AS connected_30,
  f.status = 'connected' AND f.connected_at IS NOT NULL
    AND f.connected_at <= f.referred_at + INTERVAL 90 DAY AS connected_90
FROM referrals f
"""


@dataclass(frozen=True)
class Source:
    name: str
    sql: str
    dimensions: tuple[str, ...]  # the dimensions a metric over this source can be grouped by
    filters: tuple[str, ...]  # the filters that apply to it


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
    "referrals": Source("referrals", REFERRALS,
                        ("jurisdiction", "month", "quarter", "year", "service_type"),
                        ("jurisdictions", "date_from", "date_to")),
}

# Dimension -> SQL over a source's columns. An allowlist: nothing else can be grouped by.
DIMENSIONS = {
    "jurisdiction": "jurisdiction",
    "month": "strftime(local_ts, '%Y-%m')",
    "quarter": "strftime(local_ts, '%Y') || '-Q' || quarter(local_ts)::VARCHAR",
    "year": "year(local_ts)::VARCHAR",
    "weekday": "isodow(local_ts)",
    "hour": "hour(local_ts)",
    "weekday_hour": "isodow(local_ts)::VARCHAR || '-' || lpad(hour(local_ts)::VARCHAR, 2, '0')",
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

DIMENSION_LABELS = {
    "jurisdiction": "Jurisdiction", "month": "Month", "quarter": "Quarter", "year": "Year",
    "weekday": "Weekday (1 = Monday)", "hour": "Hour of day", "weekday_hour": "Weekday × hour",
    "area": "Area", "category": "Call category", "responder": "Responder", "origin": "Origin",
    "not_served_reason": "Reason not served", "team": "Team", "race_ethnicity": "Race/ethnicity",
    "age_group": "Age group", "gender": "Gender", "outcome": "Outcome",
    "transport_destination": "Transport destination", "service_type": "Service type",
}
