"""The referrals as the metrics count them: each with its month, the people columns of the
response it was made during, and whether it connected, and is old enough to judge ("mature"),
within 30 and 90 days.

Defined here, below the metrics (metrics/sources.py reads it as its referrals source), because
the maintained ``referrals_monthly`` table (data/aggregates.py) counts the same rows: one
definition for both.
"""
from __future__ import annotations

from . import facts

# A referral made in the last 30 days of the data cannot have connected within 30 days yet:
# E2 counts only referrals old enough to judge ("mature"), measured against the latest time in
# the jurisdiction's referral records (a lower bound of when they were exported). That time
# changes only with an import or undo of the jurisdiction's referrals (data/links.py then
# counts its referrals again).
# Days are counted on instants (microseconds since the epoch): the same as adding an INTERVAL
# in the sessions data.connection opens, which are on UTC, and several times faster than
# calendar arithmetic on TIMESTAMPTZ.
_DAY_US = 86_400_000_000
REFERRALS = f"""
SELECT
  f.jurisdiction, f.referred_local AS local_ts, f.service_type, f.status,
  -- Who was referred, from the response during which the referral was made (equity view).
  r.race_ethnicity, r.age_group, r.gender, r.area,
  f.status = 'connected' AND f.connected_at IS NOT NULL
    AND epoch_us(f.connected_at) <= epoch_us(f.referred_at) + {30 * _DAY_US} AS connected_30,
  f.status = 'connected' AND f.connected_at IS NOT NULL
    AND epoch_us(f.connected_at) <= epoch_us(f.referred_at) + {90 * _DAY_US} AS connected_90,
  epoch_us(f.referred_at) <= a.as_of_us - {30 * _DAY_US} AS mature_30,
  epoch_us(f.referred_at) <= a.as_of_us - {90 * _DAY_US} AS mature_90,
  {facts.month_number("f.referred_local")} AS local_month
FROM {{from_clause}}
"""
REFERRALS_FROM = """referrals f
JOIN (SELECT jurisdiction,
        epoch_us(max(greatest(referred_at, coalesce(connected_at, referred_at)))) AS as_of_us
      FROM referrals GROUP BY jurisdiction) a ON a.jurisdiction = f.jurisdiction"""
# The response's people columns need a join with every response: only when grouped by them.
PEOPLE_COLUMNS = ("race_ethnicity", "age_group", "gender", "area")
_PEOPLE_JOIN = ("{from_clause}\nLEFT JOIN responses r ON r.jurisdiction = f.jurisdiction "
                "AND r.response_id = f.response_id")
_NO_PEOPLE = ", ".join(f"NULL::VARCHAR AS {c}" for c in PEOPLE_COLUMNS)


def referrals_select(people: bool = True) -> str:
    """The referrals' rows; with ``people``, the people columns joined from their response
    (else NULL, without the join)."""
    if people:
        return REFERRALS.format(from_clause=_PEOPLE_JOIN.format(from_clause=REFERRALS_FROM))
    return REFERRALS.format(from_clause=REFERRALS_FROM).replace(
        "r.race_ethnicity, r.age_group, r.gender, r.area", _NO_PEOPLE)
