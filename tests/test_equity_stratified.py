"""Pooling across jurisdictions by stratification (issue 26): Mantel–Haenszel risk ratio with
the Greenland–Robins interval and Cochran's Q, worked by hand and checked against statsmodels;
then the generated cohort where adding jurisdictions up invents a disparity."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2
from statsmodels.stats.contingency_tables import StratifiedTable, Table2x2
from statsmodels.stats.meta_analysis import combine_effects

from metrics.equity_report import equity_report
from metrics.stratified import (Stratum, chi2_sf, crude_rr, homogeneity_p,
                                mantel_haenszel_rr, pool)
from metrics.disclosure import VIEWER

from equity_cohort import CRUDE_BLACK, write_confounded

# Two jurisdictions: the group 10 of 100 vs the reference 20 of 400; then 30 of 200 vs 10 of 100.
HAND = [Stratum("A", 10, 100, 20, 400), Stratum("B", 30, 200, 10, 100)]


def _tables(strata):
    return [np.array([[t.a, t.n1 - t.a], [t.c, t.n0 - t.c]]) for t in strata]


def test_mantel_haenszel_risk_ratio_worked_by_hand():
    # A: N=500, a·n0/N = 10·400/500 = 8,   c·n1/N = 20·100/500 = 4,
    #    (n1·n0·m − a·c·N)/N² = (100·400·30 − 10·20·500)/500² = 4.4
    # B: N=300, a·n0/N = 30·100/300 = 10,  c·n1/N = 10·200/300 = 6.667,
    #    (200·100·40 − 30·10·300)/300² = 7.8889
    # RR = 18 / 10.667 = 1.6875; Var ln RR = 12.2889 / (18 · 10.667) = 0.064005, SE 0.25299
    # 95% CI = 1.6875 · exp(±1.96 · 0.25299) = 1.0278 to 2.7707
    rr = mantel_haenszel_rr(HAND)
    assert rr.estimate == pytest.approx(1.6875)
    assert (round(rr.low, 3), round(rr.high, 3)) == (1.028, 2.771)
    # statsmodels has the estimate (not its variance): the same number.
    assert rr.estimate == pytest.approx(StratifiedTable(_tables(HAND)).riskratio_pooled)
    # Added up: 40/300 vs 30/500 = 2.22, not what either jurisdiction shows (1.25 and 1.5).
    assert crude_rr(HAND).estimate == pytest.approx((40 / 300) / (30 / 500))


def test_one_jurisdiction_reduces_to_the_katz_interval_of_statsmodels():
    """With one stratum the Greenland–Robins variance is exactly Katz's 1/a − 1/n1 + 1/c − 1/n0."""
    one = [Stratum("A", 120, 400, 300, 700)]
    rr = mantel_haenszel_rr(one)
    table = Table2x2(_tables(one)[0])
    assert rr.estimate == pytest.approx(table.riskratio)
    # The same standard error (statsmodels' interval uses z = 1.95996, ours DOMAIN's 1.96).
    se = (math.log(rr.high) - math.log(rr.low)) / (2 * 1.96)
    assert se == pytest.approx(table.log_riskratio_se)
    low, high = table.riskratio_confint()
    assert (rr.low, rr.high) == (pytest.approx(low, rel=1e-4), pytest.approx(high, rel=1e-4))
    assert (round(rr.estimate, 2), round(rr.low, 2), round(rr.high, 2)) == (0.70, 0.59, 0.83)


def test_homogeneity_is_cochrans_q_as_statsmodels_computes_it():
    strata = HAND + [Stratum("C", 60, 300, 15, 300)]   # ratios 2.0, 1.5, 4.0
    logs = [math.log((t.a / t.n1) / (t.c / t.n0)) for t in strata]
    var = [1 / t.a - 1 / t.n1 + 1 / t.c - 1 / t.n0 for t in strata]
    q = combine_effects(np.array(logs), np.array(var)).q
    assert homogeneity_p(strata) == pytest.approx(chi2.sf(q, 2))
    # Equal ratios in every jurisdiction: nothing to reject.
    same = [Stratum("A", 10, 100, 20, 200), Stratum("B", 30, 100, 60, 200)]
    assert homogeneity_p(same) == pytest.approx(1.0)
    # A jurisdiction with a zero count has no ratio of its own: it leaves Q (one left: None).
    assert homogeneity_p([HAND[0], Stratum("Z", 0, 50, 3, 50)]) is None


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 8, 9])
def test_chi_square_tail_matches_scipy(df):
    for x in (0.0, 0.2, 1.0, 3.84, 7.5, 20.0):
        assert chi2_sf(x, df) == pytest.approx(chi2.sf(x, df), rel=1e-10, abs=1e-15)


def test_mh_odds_ratio_is_close_for_a_rare_outcome():
    """A sanity check on the estimator against statsmodels' MH odds ratio: for a rare outcome
    (back-up ≈ 1%) the risk ratio and the odds ratio nearly agree."""
    rare = [Stratum("A", 12, 2000, 8, 1500), Stratum("B", 30, 4000, 14, 2600)]
    assert mantel_haenszel_rr(rare).estimate == pytest.approx(
        StratifiedTable(_tables(rare)).oddsratio_pooled, rel=0.01)


def test_pooled_flags_confounding_and_heterogeneity():
    simpson = pool([Stratum("East", 300, 3000, 30, 300), Stratum("West", 20, 1000, 100, 5000)])
    assert simpson.ratio.estimate == pytest.approx(1.0)
    assert simpson.crude.estimate == pytest.approx(CRUDE_BLACK)
    assert simpson.confounded and not simpson.heterogeneous
    opposite = pool([Stratum("A", 100, 500, 50, 500), Stratum("B", 50, 500, 100, 500)])
    assert opposite.heterogeneous and opposite.homogeneity_p < 0.001
    nothing = pool([Stratum("A", 3, 0, 4, 10)])
    assert not nothing.ratio.estimable and "no jurisdiction" in nothing.ratio.reason


@pytest.fixture(scope="module")
def confounded(tmp_path_factory):
    path = tmp_path_factory.mktemp("confounded") / "c.duckdb"
    write_confounded(path)
    return path


def _report(path, **kw):
    from data.connection import connect

    con = connect(path, read_only=True)
    try:
        return equity_report(con, "backup", "race_ethnicity", **kw)
    finally:
        con.close()


def test_the_generated_cohort_same_rate_within_each_jurisdiction(confounded):
    doc = _report(confounded)
    black = {r["jurisdiction"]: r for r in doc["rows"] if r["group"] == "black"}
    assert black["Eastport"]["ratio"] == pytest.approx(1.0)   # 300/3000 vs 30/300
    assert black["Westfield"]["ratio"] == pytest.approx(1.0)  # 20/1000 vs 100/5000
    assert all(r["ci_low"] < 1 < r["ci_high"] for r in black.values())
    (pooled,) = [p for p in doc["pooled"] if p["group"] == "black"]
    assert pooled["ratio"] == pytest.approx(1.0)
    assert pooled["ci_low"] < 1 < pooled["ci_high"]
    assert pooled["crude_ratio"] == pytest.approx(CRUDE_BLACK, abs=1e-6)  # 3.26
    assert pooled["confounded_by_jurisdiction"] is True
    assert pooled["jurisdictions"] == ["Eastport", "Westfield"]
    # The same tables through statsmodels give the same pooled estimate.
    tables = [np.array([[300, 2700], [30, 270]]), np.array([[20, 980], [100, 4900]])]
    assert pooled["ratio"] == pytest.approx(StratifiedTable(tables).riskratio_pooled)


def test_one_jurisdiction_has_no_pooled_figure(confounded):
    from metrics import Filters

    doc = _report(confounded, filters=Filters(("Westfield",)))
    assert doc["pooled"] is None
    assert {r["jurisdiction"] for r in doc["rows"]} == {"Westfield"}


def test_public_report_pools_only_shown_counts(confounded):
    doc = _report(confounded, policy=VIEWER)
    asian = next(r for r in doc["rows"] if r["group"] == "asian")
    assert asian["numerator"] is None and asian["suppressed"]["numerator"] == "small"
    # Eastport's White count is hidden to protect it: Eastport cannot enter the pooled figure.
    (black,) = [p for p in doc["pooled"] if p["group"] == "black"]
    assert black["left_out"] == ["Eastport"] and black["jurisdictions"] == ["Westfield"]
    assert black["ratio"] == pytest.approx(1.0)


def test_a_pooled_ratio_that_rests_on_hidden_counts_says_so(confounded):
    """Asian residents' 3 back-ups in Eastport are hidden: the combined figure is not
    estimable, and the reason names where the counts are hidden (not 'no events')."""
    doc = _report(confounded, policy=VIEWER)
    (asian,) = [p for p in doc["pooled"] if p["group"] == "asian"]
    assert asian["ratio"] is None
    assert asian["note"] == ("not estimable from the counts shown (hidden or absent in "
                             "Eastport, Westfield)")
