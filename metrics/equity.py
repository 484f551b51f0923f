"""Equity: a decision point's rate per group, and each group's relative rate index (RRI).

Following OJJDP's disproportionate-contact method (DOMAIN.md §5): a group's rate at a decision
point divided by the reference group's rate, where each rate uses the previous stage as its
denominator (AR-responded ÷ eligible, back-up ÷ AR responses, connected ÷ referred). Intervals:
Katz log for the ratio of two proportions; log interval with ACS margins of error for rates
per resident. Pure arithmetic on metric results (a few rows): DuckDB did the counting.

Like with like (issue 26): ratios are computed *within* a jurisdiction (``within_jurisdictions``:
one panel each, each with its own reference group), and a cohort-level figure is the
Mantel–Haenszel ratio stratified by jurisdiction (``pooled``, ``metrics.stratified``), never the
ratio of records added up across jurisdictions, which is reported only as the crude figure.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .registry import BY_ID
from .stats import Ratio, not_estimable, rate_ratio, rate_ratio_per_resident, reliability
from .stratified import Pooled, Stratum, pool

# Groups that are not a group: they are reported as the unknown share, never as a ratio.
UNKNOWN_GROUPS = (None, "", "unknown")
# The standard reference (OJJDP: White non-Hispanic); other dimensions have none, and take the
# group with the most records within the jurisdiction (the most precise rate).
DEFAULT_REFERENCE = {"race_ethnicity": "white"}
STANDARD, LARGEST, CHOSEN = "standard", "most records", "chosen"
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
    p90: float | None = None  # a time's 90th percentile (``relative_medians``)

    @property
    def differs(self) -> bool | None:
        """True when the 95% interval of the ratio excludes 1; None when not estimable."""
        if not self.ratio.estimable or self.ratio.low is None:
            return None  # not estimable, or a ratio of medians (no interval)
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


# --------------------------------------------------------------------------------------------
# Like with like: within each jurisdiction, and pooled across them by stratification
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Panel:
    """One jurisdiction's groups against that jurisdiction's own reference group."""

    jurisdiction: str
    reference: str | None
    rule: str  # STANDARD, LARGEST or CHOSEN: how the reference was picked (said on the chart)
    rates: list[GroupRate]

    @property
    def reference_words(self) -> str:
        return {STANDARD: "the standard reference", LARGEST: "the group with the most records "
                "in this jurisdiction", CHOSEN: "chosen"}[self.rule]


def default_reference(rows: list, dim: str) -> tuple[str | None, str]:
    """(reference group, rule): White for race/ethnicity when present, else the group with the
    most records at this decision point (its denominator; for a time, its timed records)."""
    named = [r for r in rows if _group(r, dim) not in UNKNOWN_GROUPS]
    if not named:
        return None, LARGEST
    standard = DEFAULT_REFERENCE.get(dim)
    if standard in {_group(r, dim) for r in named}:
        return standard, STANDARD
    # Ties (and hidden counts, taken as 0) go to the first group in label order: stable.
    best = max(sorted(named, key=lambda r: str(_group(r, dim))),
               key=lambda r: _base(r) or 0)
    return _group(best, dim), LARGEST


def by_jurisdiction(rows: list) -> dict[str, list]:
    """Rows grouped by their jurisdiction, in name order."""
    out: dict[str, list] = {}
    for r in rows:
        out.setdefault(_group(r, "jurisdiction"), []).append(r)
    return dict(sorted(out.items(), key=lambda kv: str(kv[0])))


def within_jurisdictions(rows: list, dim: str, reference: str | None = None,
                         times: bool = False) -> list[Panel]:
    """One panel per jurisdiction: its groups' rates and ratios against its own reference.

    ``reference`` (a group code) is used in every jurisdiction that has it; None picks each
    jurisdiction's default (``default_reference``). ``times``: rows of a duration metric,
    compared as ratios of medians (``relative_medians``).
    """
    panels = []
    for jurisdiction, part in by_jurisdiction(rows).items():
        ref, rule = (reference, CHOSEN) if reference else default_reference(part, dim)
        compare = relative_medians if times else relative_rates
        panels.append(Panel(jurisdiction, ref, rule, compare(part, dim, ref)))
    return panels


def relative_medians(rows: list, dim: str, reference: str | None) -> list[GroupRate]:
    """A time per group: its median minutes, and the ratio of its median to the reference's.

    There is no interval: a median's interval needs the records, and the metric results hold
    the median and 90th percentile only. ``differs`` is then None (not judged).
    """
    known = [r for r in rows if _group(r, dim) not in UNKNOWN_GROUPS]
    ref = next((r for r in known if _group(r, dim) == reference), None)
    ref_median = None if ref is None else ref.value
    out = []
    for r in known:
        g = _group(r, dim)
        if g == reference:
            ratio = Ratio(1.0, None, None, "the reference group")
        elif r.value is None or not ref_median:
            ratio = Ratio(None, None, None, "hidden or no median on one side")
        else:
            ratio = Ratio(r.value / ref_median, None, None, "ratio of medians (no interval)")
        out.append(GroupRate(g, getattr(r, "n", None), _base(r), r.value, None, None,
                             r.reliability, g == reference, ratio, getattr(r, "p90", None)))
    return sorted(out, key=lambda x: (not x.is_reference, str(x.group)))


@dataclass(frozen=True)
class PooledGroup:
    group: str
    pooled: Pooled
    left_out: tuple[str, ...]  # jurisdictions whose counts are hidden, or lack either group


def pooled_reference(rows: list, dim: str, reference: str | None = None
                     ) -> tuple[str | None, str]:
    """One reference for every stratum: the chosen one, White, or the group with the most
    records across the jurisdictions (a pooled ratio needs the same comparison in each)."""
    if reference:
        return reference, CHOSEN
    totals: dict = {}
    for r in rows:
        g = _group(r, dim)
        if g not in UNKNOWN_GROUPS:
            totals[g] = totals.get(g, 0) + (_base(r) or 0)
    if DEFAULT_REFERENCE.get(dim) in totals:
        return DEFAULT_REFERENCE[dim], STANDARD
    if not totals:
        return None, LARGEST
    return max(sorted(totals, key=str), key=lambda g: totals[g]), LARGEST


def pooled(rows: list, dim: str, reference: str | None) -> list[PooledGroup]:
    """Each group against ``reference``, Mantel–Haenszel across the jurisdictions in ``rows``.

    Only jurisdictions where both groups' counts are shown enter (a hidden count cannot be
    pooled); the others are listed in ``left_out``. Areas are never pooled (each jurisdiction
    has its own), nor times (medians do not pool): both return [].
    """
    if dim == "area" or reference is None:
        return []
    tables = {j: {_group(r, dim): r for r in part}
              for j, part in by_jurisdiction(rows).items()}
    groups = sorted({g for t in tables.values() for g in t
                     if g not in UNKNOWN_GROUPS and g != reference}, key=str)
    out = []
    for g in groups:
        strata, left_out = [], []
        for j, t in tables.items():
            row, ref = t.get(g), t.get(reference)
            counts = None if row is None or ref is None else (
                row.numerator, row.denominator, ref.numerator, ref.denominator)
            if counts is None or None in counts:
                left_out.append(j)
                continue
            strata.append(Stratum(j, *(int(c) for c in counts)))
        result = pool(strata)
        if left_out and not result.ratio.estimable:
            # Not "no events" when the events may sit in the jurisdictions left out.
            why = not_estimable(f"not estimable from the counts shown (hidden or absent in "
                                f"{', '.join(map(str, left_out))})")
            result = replace(result, ratio=why)
        out.append(PooledGroup(g, result, tuple(left_out)))
    return out
