"""One cohort-level ratio from several jurisdictions, pooled by stratification, never by adding.

Adding every jurisdiction's records together and dividing (the *crude* ratio) mixes programs of
different scale, model and back-up practice whose people differ too: a crude ratio can show a
disparity that exists in no jurisdiction, or hide one that exists in each (Simpson's paradox).
The Mantel–Haenszel estimate compares each group with the reference group *within* each
jurisdiction and then averages those comparisons (DOMAIN.md §5; issue 26).

Which estimator, and why
------------------------
The decision points are proportions (back-up requested ÷ team responses), and the page's ratio
is a ratio of two proportions (a risk ratio), so the pooled figure is the Mantel–Haenszel
**risk ratio**, not the odds ratio: for common outcomes (coverage of eligible calls, ~50%) the
odds ratio would not be the same quantity as the per-jurisdiction ratios beside it.

- Estimate: RR_MH = Σ aᵢ·n0ᵢ/Nᵢ ÷ Σ cᵢ·n1ᵢ/Nᵢ (a: group events of n1 records; c: reference
  events of n0; N = n1 + n0), as statsmodels' ``StratifiedTable.riskratio_pooled``.
- Interval: the Greenland–Robins (1985) variance of ln RR_MH, valid both for a few large strata
  and many sparse ones: Σ (n1ᵢ·n0ᵢ·mᵢ − aᵢ·cᵢ·Nᵢ)/Nᵢ² ÷ (Σ aᵢ·n0ᵢ/Nᵢ · Σ cᵢ·n1ᵢ/Nᵢ), with
  mᵢ = aᵢ + cᵢ. statsmodels 0.15 gives the MH risk ratio but no interval for it (its
  Robins–Breslow–Greenland variance is for the odds ratio), so the variance is written out
  here and checked against a hand-worked example in tests/test_equity_stratified.py.
- Homogeneity: Cochran's Q on the per-jurisdiction ln RR (Katz variances, inverse-variance
  weights), χ² with k − 1 degrees of freedom; the same Q as statsmodels'
  ``meta_analysis.combine_effects``, against which the tests check it. A test on the risk-
  ratio scale, the scale we report (Breslow–Day tests the odds ratios). Jurisdictions whose
  own ratio is not estimable (a zero count) add to the MH estimate but not to Q.

Pure arithmetic on a few counts per jurisdiction: no statsmodels/scipy at run time.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .stats import Z95, Ratio, not_estimable, rate_ratio

# "Materially different" crude and stratified ratios: more than 10% apart (either way), the
# usual change-in-estimate rule for confounding (Greenland 1989; Rothman, Modern Epidemiology).
MATERIAL_CHANGE = 0.10
HOMOGENEITY_ALPHA = 0.05


@dataclass(frozen=True)
class Stratum:
    """One jurisdiction's 2×2 table: the group's a events of n1, the reference's c of n0."""

    name: str
    a: int
    n1: int
    c: int
    n0: int


@dataclass(frozen=True)
class Pooled:
    """A group against the reference across jurisdictions: stratified, crude, and homogeneity."""

    ratio: Ratio           # Mantel–Haenszel risk ratio, Greenland–Robins 95% interval
    crude: Ratio           # all records added up (Katz interval): confounded by jurisdiction
    homogeneity_p: float | None  # Cochran's Q; None with fewer than two estimable strata
    strata: tuple[str, ...]      # the jurisdictions it rests on

    method = "Mantel-Haenszel risk ratio stratified by jurisdiction (Greenland-Robins interval)"

    @property
    def confounded(self) -> bool:
        """True when the crude ratio is more than 10% away from the stratified one."""
        if not (self.ratio.estimable and self.crude.estimable):
            return False
        change = self.crude.estimate / self.ratio.estimate
        return max(change, 1 / change) > 1 + MATERIAL_CHANGE

    @property
    def heterogeneous(self) -> bool:
        """True when the ratios differ between jurisdictions (homogeneity rejected, p < 0.05)."""
        return self.homogeneity_p is not None and self.homogeneity_p < HOMOGENEITY_ALPHA


def mantel_haenszel_rr(strata: list[Stratum], z: float = Z95) -> Ratio:
    """RR_MH with the Greenland–Robins interval; not estimable when either sum is zero.

    Example (two strata, worked in tests/test_equity_stratified.py): 10/100 vs 20/400 and
    30/200 vs 10/100 give RR_MH 1.69, 95% CI 1.03-2.77 (crude, added up: 2.22).
    """
    _check(strata)
    r = s = v = 0.0
    for t in strata:
        n = t.n1 + t.n0
        if not n:
            continue
        r += t.a * t.n0 / n
        s += t.c * t.n1 / n
        v += (t.n1 * t.n0 * (t.a + t.c) - t.a * t.c * n) / n ** 2
    if not r or not s:
        return not_estimable("no events in the group or the reference group in any "
                             "jurisdiction: the pooled ratio is not estimable")
    rr = r / s
    se = math.sqrt(v / (r * s))
    return Ratio(rr, math.exp(math.log(rr) - z * se), math.exp(math.log(rr) + z * se))


def crude_rr(strata: list[Stratum]) -> Ratio:
    """Every jurisdiction's records added up: the figure stratification corrects."""
    _check(strata)
    return rate_ratio(sum(t.a for t in strata), sum(t.n1 for t in strata),
                      sum(t.c for t in strata), sum(t.n0 for t in strata))


def homogeneity_p(strata: list[Stratum]) -> float | None:
    """Cochran's Q test that the per-jurisdiction risk ratios are equal; None if < 2 ratios."""
    logs, weights = [], []
    for t in strata:
        rr = rate_ratio(t.a, t.n1, t.c, t.n0) if t.n1 and t.n0 else None
        if rr is None or not rr.estimable:
            continue
        var = 1 / t.a - 1 / t.n1 + 1 / t.c - 1 / t.n0
        if var <= 0:  # every record an event on both sides: no information on the ratio
            continue
        logs.append(math.log(rr.estimate))
        weights.append(1 / var)
    if len(logs) < 2:
        return None
    centre = sum(w * x for w, x in zip(weights, logs)) / sum(weights)
    q = sum(w * (x - centre) ** 2 for w, x in zip(weights, logs))
    return chi2_sf(q, len(logs) - 1)


def pool(strata: list[Stratum]) -> Pooled:
    """The stratified ratio, the crude one, and the homogeneity test, for one group."""
    used = [t for t in strata if t.n1 and t.n0]  # a jurisdiction without both groups: no
    if not used:
        none = not_estimable("no jurisdiction has both groups with their counts shown")
        return Pooled(none, none, None, ())
    return Pooled(mantel_haenszel_rr(used), crude_rr(used), homogeneity_p(used),
                  tuple(t.name for t in used))


def chi2_sf(x: float, df: int) -> float:
    """P(χ²_df ≥ x) for a whole number of degrees of freedom (closed forms; checked against
    scipy.stats.chi2.sf in the tests)."""
    if df < 1:
        raise ValueError(f"df must be at least 1, got {df!r}")
    if x <= 0:
        return 1.0
    half = x / 2
    if df % 2 == 0:  # Q(k, x/2) = e^(−x/2) Σ_{j<k} (x/2)^j / j!
        term = total = 1.0
        for j in range(1, df // 2):
            term *= half / j
            total += term
        return min(1.0, math.exp(-half) * total)
    # odd: erfc(√(x/2)) + e^(−x/2) Σ_{j=1}^{(df−1)/2} (x/2)^(j−½) / Γ(j + ½)
    total = math.erfc(math.sqrt(half))
    term = math.sqrt(half) / math.gamma(1.5)
    for j in range(1, (df + 1) // 2):
        total += math.exp(-half) * term
        term *= half / (j + 1.5 - 1)
    return min(1.0, total)


def _check(strata: list[Stratum]) -> None:
    for t in strata:
        if min(t.a, t.n1, t.c, t.n0) < 0 or t.a > t.n1 or t.c > t.n0:
            raise ValueError(f"impossible counts in stratum {t.name!r}: {t}")
