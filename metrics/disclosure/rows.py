"""Public rows: each count a metric's row shows, published or hidden, and every other number
derived again from the published counts only (G2)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from ..engine import VALUE_FIELDS, count_metric, derive
from ..request import MetricRow
from ..registry import BY_ID, COUNTS, Kind, Metric
from ..stats import Ratio, not_estimable, rate_ratio
from .policy import DERIVED, DisclosurePolicy
from .rounding import published_count, sig4


@dataclass
class PublicRow(MetricRow):
    """A MetricRow as a reader sees it: hidden fields are None, ``suppressed`` says why."""

    suppressed: dict = field(default_factory=dict)


def as_public(r) -> PublicRow:
    r = as_row(r)
    return PublicRow(**{f.name: getattr(r, f.name) for f in fields(MetricRow)})


def as_row(r) -> MetricRow:
    if isinstance(r, MetricRow):
        return r
    names = {f.name for f in fields(MetricRow)}
    return MetricRow(**{k: v for k, v in dict(r).items() if k in names})


def metric_of(metric_id: str) -> Metric:
    if metric_id in BY_ID:
        return BY_ID[metric_id]
    if metric_id in COUNTS:
        return count_metric(metric_id)
    raise ValueError(f"unknown metric or count {metric_id!r}")


def count_fields(m: Metric) -> list[tuple[str, tuple, bool]]:
    """(row field, table key, additive) for each count a metric's row shows.

    Rows of different metrics that show the same count share one table, so the count has one
    status wherever it appears.
    """
    if m.kind == Kind.COUNT:
        return [("numerator", ("k", m.numerator), True)]
    if m.kind in (Kind.PROPORTION, Kind.RATE_PER_1000):
        return [("numerator", ("k", m.numerator), True),
                ("denominator", ("k", m.denominator), True)]
    if m.kind == Kind.PER_CAPITA:
        return [("numerator", ("k", m.numerator), True)]  # residents are public
    if m.kind == Kind.DURATION:
        return [("n", ("n", m.id), True), ("missing", ("missing", m.id), True)]
    if m.kind == Kind.DISTINCT:
        return [("numerator", ("people",), False)]
    if m.kind == Kind.REPEAT:
        return [("numerator", ("repeat", m.numerator), False),
                ("denominator", ("people",), False)]
    raise ValueError(f"no disclosure rule for metric kind {m.kind!r}")


def group_key(row: MetricRow, dims: tuple[str, ...]) -> tuple:
    return tuple(row.group.get(d) for d in dims)


def public_row(r: MetricRow, m: Metric, top: tuple, status: dict, policy: DisclosurePolicy
                ) -> PublicRow:
    out = as_public(r)
    g = group_key(r, top)
    for name, key, _ in count_fields(m):
        true = getattr(r, name)
        if true is None:
            continue
        reason = status[key][top].get(g)
        if reason:
            setattr(out, name, None)
            out.suppressed[name] = reason
        else:
            setattr(out, name, _shown(int(true), policy))
    recompute(out, m, policy)
    return out


def _shown(c: int, policy: DisclosurePolicy) -> int:
    shown = published_count(c, policy)
    if shown is None:  # the tables hide every small count first; never publish one anyway
        raise RuntimeError(f"a count of {c} reached publication unprotected")
    return shown


_BUILT_ON = {Kind.DURATION: ("n",), Kind.PER_CAPITA: ("numerator",)}


_BUILT = {Kind.DURATION: ("value", "median", "p90", "reliability"),
          "per_capita": ("value", "reliability")}


def recompute(row: PublicRow, m: Metric, policy: DisclosurePolicy) -> None:
    """Values from the published counts only (G2); hidden when a count they use is hidden."""
    hidden = any(c in row.suppressed for c in _BUILT_ON.get(m.kind, ("numerator",
                                                                      "denominator")))
    if m.kind in (Kind.COUNT, Kind.DISTINCT):
        derive(row, m)  # the value is the count: hidden for the same reason
        if hidden:
            row.suppressed["value"] = row.suppressed["numerator"]
    else:
        if not hidden:
            derive(row, m)
        _derived(row, hidden, _BUILT.get(m.kind, ("value", "ci_low", "ci_high", "reliability")))
    if policy.rounding:
        for name in VALUE_FIELDS:
            setattr(row, name, sig4(getattr(row, name)))


def _derived(row: PublicRow, hidden: bool, names) -> None:
    if hidden:
        for name in names:
            setattr(row, name, None)
            row.suppressed[name] = DERIVED


def public_rate_ratio(row: PublicRow, reference: PublicRow) -> Ratio:
    """The Katz ratio of two public proportion rows; not estimable when a count is hidden."""
    counts = (row.numerator, row.denominator, reference.numerator, reference.denominator)
    if any(c is None for c in counts):
        return not_estimable("a count behind it is hidden to protect privacy")
    return rate_ratio(*counts)
