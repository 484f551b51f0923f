"""Interval formulas against DOMAIN.md §5 worked by hand, and against statsmodels' same methods.

The dashboard does this arithmetic itself (statsmodels, a requirement since the Impact page's
time series, is used only there), and these tests show that it agrees with an independent
implementation to three decimals. statsmodels uses z = 1.959964 where we use 1.96; the
difference is below 1e-5 here.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson_2indep

from metrics.stats import Ratio, rate_ratio, rate_ratio_per_resident, reliability, wilson


def test_wilson_domain_example_by_hand():
    # p = 0.3, z² = 3.8416, 1 + z²/n = 1.009604
    # centre = (0.3 + 3.8416/800) / 1.009604 = 0.304802 / 1.009604 = 0.301903
    # half = 1.96/1.009604 · √(0.21/400 + 3.8416/640000) = 1.941355 · 0.0230435 = 0.044735
    low, high = wilson(120, 400)
    assert (round(low, 3), round(high, 3)) == (0.257, 0.347)
    assert low == pytest.approx(0.301903 - 0.044735, abs=1e-5)
    assert high == pytest.approx(0.301903 + 0.044735, abs=1e-5)


@pytest.mark.parametrize("x,n", [(120, 400), (0, 25), (25, 25), (3, 1000), (480, 500)])
def test_wilson_matches_statsmodels(x, n):
    ours = wilson(x, n)
    theirs = proportion_confint(x, n, alpha=0.05, method="wilson")
    assert ours == pytest.approx(theirs, abs=5e-4)


def test_wilson_zero_denominator_is_none():
    assert wilson(0, 0) == (None, None)


def test_rate_ratio_domain_example_by_hand():
    # RR = (120/400) / (300/700) = 0.3 / 0.428571 = 0.70
    # se² = 1/120 - 1/400 + 1/300 - 1/700 = 0.0083333 - 0.0025 + 0.0033333 - 0.0014286
    #     = 0.0077381;  se = 0.0879665;  1.96·se = 0.172414;  ln 0.7 = -0.356675
    # low = exp(-0.529089) = 0.589141;  high = exp(-0.184261) = 0.831719
    r = rate_ratio(120, 400, 300, 700)
    assert r.estimable and r.reason is None
    assert (round(r.estimate, 2), round(r.low, 2), round(r.high, 2)) == (0.70, 0.59, 0.83)
    assert r.low == pytest.approx(0.589141, abs=5e-6)
    assert r.high == pytest.approx(0.831719, abs=5e-6)


@pytest.mark.parametrize("a,n1,c,n2", [(120, 400, 300, 700), (12, 40, 9, 90),
                                       (450, 500, 20, 25), (7, 7000, 30, 6000)])
def test_rate_ratio_matches_statsmodels_katz(a, n1, c, n2):
    table = Table2x2(np.array([[a, n1 - a], [c, n2 - c]]))
    low, high = table.riskratio_confint(alpha=0.05, method="normal")  # the log (Katz) interval
    r = rate_ratio(a, n1, c, n2)
    assert round(r.estimate, 3) == round(table.riskratio, 3)
    assert (round(r.low, 3), round(r.high, 3)) == (round(low, 3), round(high, 3))


def test_rate_ratio_per_resident_domain_example_by_hand():
    # IRR = (900/60000) / (1500/250000) = 0.015 / 0.006 = 2.50
    # se² = 1/900 + 1/1500 = 0.0011111 + 0.0006667 = 0.0017778;  se = 0.0421637
    # 1.96·se = 0.0826408;  ln 2.5 = 0.916291
    # low = exp(0.833650) = 2.301704;  high = exp(0.998932) = 2.715379
    r = rate_ratio_per_resident(900, 60000, 1500, 250000)
    assert (round(r.estimate, 2), round(r.low, 2), round(r.high, 2)) == (2.50, 2.30, 2.72)
    assert r.low == pytest.approx(2.301704, abs=5e-6)
    assert r.high == pytest.approx(2.715379, abs=5e-6)


def test_rate_ratio_per_resident_carries_acs_margin_of_error():
    # MOE 1,645 on 60,000 -> SE 1,000 -> (1000/60000)² = 0.00027778
    # MOE 3,290 on 250,000 -> SE 2,000 -> (2000/250000)² = 0.000064
    # se² = 0.0017778 + 0.00027778 + 0.000064 = 0.0021196;  se = 0.0460387
    # 1.96·se = 0.0902359;  low = 2.5·exp(-0.0902359) = 2.284289;  high = 2.736081
    r = rate_ratio_per_resident(900, 60000, 1500, 250000, moe1=1645, moe2=3290)
    assert r.estimate == pytest.approx(2.5)
    assert r.low == pytest.approx(2.284289, abs=5e-6)
    assert r.high == pytest.approx(2.736081, abs=5e-6)
    exact = rate_ratio_per_resident(900, 60000, 1500, 250000)
    assert r.low < exact.low and r.high > exact.high  # uncertainty in N only widens it


@pytest.mark.parametrize("x1,N1,x2,N2", [(900, 60000, 1500, 250000), (14, 3000, 40, 21000),
                                         (3, 800, 250, 90000)])
def test_rate_ratio_per_resident_matches_statsmodels_wald_log(x1, N1, x2, N2):
    low, high = confint_poisson_2indep(x1, N1, x2, N2, method="wald-log", compare="ratio")
    r = rate_ratio_per_resident(x1, N1, x2, N2)
    assert round(r.estimate, 3) == round((x1 / N1) / (x2 / N2), 3)
    assert (round(r.low, 3), round(r.high, 3)) == (round(low, 3), round(high, 3))


@pytest.mark.parametrize("args", [(0, 400, 300, 700), (120, 400, 0, 700), (0, 400, 0, 700),
                                  (0, 0, 300, 700), (120, 400, 0, 0)])
def test_rate_ratio_zero_cells_are_not_estimable(args):
    r = rate_ratio(*args)
    assert r == Ratio(None, None, None, r.reason)
    assert not r.estimable
    assert "zero" in r.reason


@pytest.mark.parametrize("args,word", [((0, 60000, 1500, 250000), "zero"),
                                       ((900, 60000, 0, 250000), "zero"),
                                       ((900, 0, 1500, 250000), "zero"),
                                       ((900, None, 1500, 250000), "unknown")])
def test_rate_ratio_per_resident_zero_cells_are_not_estimable(args, word):
    r = rate_ratio_per_resident(*args)
    assert (r.estimate, r.low, r.high) == (None, None, None)
    assert word in r.reason


def test_ratios_never_return_inf_or_nan():
    for r in (rate_ratio(1, 1, 1, 10**9), rate_ratio(10**9, 10**9, 1, 10**9),
              rate_ratio_per_resident(1, 1, 1, 10**12)):
        assert all(math.isfinite(v) for v in (r.estimate, r.low, r.high))


def test_equal_rates_give_ratio_one_with_interval_around_it():
    r = rate_ratio(50, 500, 100, 1000)
    assert r.estimate == pytest.approx(1.0)
    assert r.low < 1 < r.high


def test_all_events_in_both_groups_is_a_point_interval():
    r = rate_ratio(5, 5, 3, 3)
    assert (r.estimate, r.low, r.high) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("args", [(-1, 10, 1, 10), (11, 10, 1, 10), (1, 10, 5, 4)])
def test_rate_ratio_rejects_impossible_counts(args):
    with pytest.raises(ValueError):
        rate_ratio(*args)


def test_rate_ratio_per_resident_rejects_negative_margin():
    with pytest.raises(ValueError, match="moe1"):
        rate_ratio_per_resident(900, 60000, 1500, 250000, moe1=-5)


@pytest.mark.parametrize("events,flag", [(None, None), (0, "insufficient"), (19, "insufficient"),
                                         (20, "ok"), (400, "ok")])
def test_reliability(events, flag):
    assert reliability(events) == flag
