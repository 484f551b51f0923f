"""Equity: a decision point's rate per group, and each group's relative rate index (RRI).

Following OJJDP's disproportionate-contact method (DOMAIN.md §5): a group's rate at a decision
point divided by the reference group's rate, where each rate uses the previous stage as its
denominator (AR-responded ÷ eligible, back-up ÷ AR responses, connected ÷ referred). Intervals:
Katz log for the ratio of two proportions; log interval with ACS margins of error for rates
per resident. Pure arithmetic on metric results (a few rows): DuckDB did the counting.
"""
from __future__ import annotations

from dataclasses import dataclass

from .registry import BY_ID
from .stats import Ratio, rate_ratio, rate_ratio_per_resident, reliability

# Groups that are not a group: they are reported as the unknown share, never as a ratio.
UNKNOWN_GROUPS = (None, "", "unknown")
DEFAULT_REFERENCE = {"race_ethnicity": "white", "gender": "female", "age_group": None,
                     "area": None}
DEMOGRAPHICS = ("race_ethnicity", "age_group", "gender", "area")


@dataclass(frozen=True)
class DecisionPoint:
    key: str
    label: str
    metric: str  # a proportion (RRI) or a duration (medians only) in the registry
    dimensions: tuple[str, ...]  # the groupings its source records


DECISION_POINTS = (
    DecisionPoint("served", "Eligible call → team responded", "B1", ("area",)),
    DecisionPoint("backup", "Team response → police back-up requested", "D2", DEMOGRAPHICS),
    DecisionPoint("arrest", "Team response → arrest", "D3", DEMOGRAPHICS),
    DecisionPoint("hospital", "Team response → taken to an emergency department", "D5ED",
                  DEMOGRAPHICS),
    DecisionPoint("connected", "Referral → connected to care within 30 days", "E2_30",
                  DEMOGRAPHICS),
    DecisionPoint("response_time", "Team response time (median minutes)", "C2", DEMOGRAPHICS),
)
BY_KEY = {d.key: d for d in DECISION_POINTS}


@dataclass(frozen=True)
class GroupRate:
    """One group at one decision point, and how it compares with the reference group."""

    group: str
    numerator: int | None
    denominator: int | None
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    reliability: str | None
    is_reference: bool
    ratio: Ratio  # the RRI against the reference group (not estimable for the reference)

    @property
    def differs(self) -> bool | None:
        """True when the 95% interval of the ratio excludes 1; None when not estimable."""
        if not self.ratio.estimable:
            return None
        return not (self.ratio.low <= 1 <= self.ratio.high)


def relative_rates(rows: list, dim: str, reference: str | None) -> list[GroupRate]:
    """Per-group rates and RRIs from ``metrics.compute`` rows of one proportion metric.

    ``rows`` may carry hidden (None) counts from disclosure control: their ratios are then not
    estimable. Unknown groups are left out (see ``unknown_share``).
    """
    known = [r for r in rows if _group(r, dim) not in UNKNOWN_GROUPS]
    ref = next((r for r in known if _group(r, dim) == reference), None)
    out = []
    for r in known:
        g = _group(r, dim)
        if g == reference:
            ratio = Ratio(1.0, None, None, "the reference group")
        elif ref is None:
            ratio = Ratio(None, None, None, "no reference group in this selection")
        elif None in (r.numerator, r.denominator, ref.numerator, ref.denominator):
            ratio = Ratio(None, None, None, "hidden: rests on a small count")
        else:
            ratio = rate_ratio(int(r.numerator), int(r.denominator), int(ref.numerator),
                               int(ref.denominator))
        out.append(GroupRate(g, r.numerator, r.denominator, r.value, r.ci_low, r.ci_high,
                             r.reliability, g == reference, ratio))
    return sorted(out, key=lambda x: (not x.is_reference, str(x.group)))


def per_resident_rates(counts: dict, population: dict, reference: str | None
                       ) -> list[GroupRate]:
    """Events per 1,000 residents per group, and the ratio to the reference group.

    ``counts``: group -> events; ``population``: group -> (residents, 90% MOE or None).
    Groups without a population figure are left out (there is nothing to divide by).
    """
    ref_x = counts.get(reference)
    ref_n, ref_moe = population.get(reference, (None, None))
    out = []
    for g in sorted(set(counts) & set(population), key=str):
        if g in UNKNOWN_GROUPS:
            continue
        x = counts[g]
        n, moe = population[g]
        rate = None if x is None or not n else 1000 * x / n
        if g == reference:
            ratio = Ratio(1.0, None, None, "the reference group")
        elif x is None or ref_x is None:
            ratio = Ratio(None, None, None, "hidden: rests on a small count")
        else:
            ratio = rate_ratio_per_resident(x, n, ref_x, ref_n, moe, ref_moe)
        out.append(GroupRate(g, x, n, rate, None, None, reliability(x), g == reference, ratio))
    return sorted(out, key=lambda r: (not r.is_reference, str(r.group)))


def unknown_share(rows, dim: str) -> tuple[int | None, int | None]:
    """(records whose group is unknown, all records) at this decision point's denominator."""
    total = unknown = 0
    for r in rows:
        base = _base(r)
        if base is None:
            return None, None  # a hidden count: the share cannot be shown exactly
        total += base
        if _group(r, dim) in UNKNOWN_GROUPS:
            unknown += base
    return unknown, total


def _base(row) -> int | None:
    """The records a row rests on: its denominator, or for a time, timed plus missing."""
    if row.denominator is not None:
        return int(row.denominator)
    n = getattr(row, "n", None)
    if n is not None:
        return int(n) + int(getattr(row, "missing", 0) or 0)
    return None


def metric_of(point: DecisionPoint):
    return BY_ID[point.metric]


def _group(row, dim: str):
    return row.group.get(dim) if isinstance(row.group, dict) else getattr(row, dim, None)
