"""bench/paired.py: two checkouts, the same views, paired visits. The summary's figures are
checked by hand and against scipy; one slow run serves this checkout as both A and B on a tiny
cohort (no timing asserted: every visit drew, and the pairs are complete)."""
from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import bench_module


def test_view_spec_parsed_and_refused():
    paired = bench_module("paired")
    assert paired.parse_view("compare|How do|1") == {
        "path": "compare", "heading": "How do", "charts": 1, "tab": None}
    assert paired.parse_view("plan?plan_view=Teams+on+duty|How many|2|Teams on duty")["tab"] \
        == "Teams on duty"
    for bad in ("compare", "compare|How do|one", "a|b|1|c|d"):
        with pytest.raises(argparse.ArgumentTypeError):
            paired.parse_view(bad)
    for spec in paired.DEFAULT_VIEWS:
        assert paired.parse_view(spec)["charts"] >= 1


def test_summary_pairs_by_hand():
    paired = bench_module("paired")
    a = [2.0, 2.5, 3.0, 2.2, 2.4, 2.6]
    b = [1.9, 2.3, 2.7, 2.1, 2.5, 2.2]
    s = paired.summary(a, b)
    # Differences B - A: -0.1, -0.2, -0.3, -0.1, +0.1, -0.4; sorted -0.4 -0.3 -0.2 -0.1 -0.1 0.1
    assert s["b_minus_a_median_s"] == pytest.approx(-0.15)
    assert s["a_median_s"] == pytest.approx(2.45) and s["b_median_s"] == pytest.approx(2.25)
    # Wilcoxon by hand: |d| ranks 0.1, 0.1, 0.1 -> 2 each; 0.2 -> 4; 0.3 -> 5; 0.4 -> 6.
    # The one positive difference has rank 2: W = min(2, 19) = 2. Exactly, over the 2**6 = 64
    # equally likely sign patterns of these ranks: a positive rank sum of at most 2 comes from
    # none positive or one of the three tied 2s positive, 4 patterns; two-sided 8 / 64.
    from scipy.stats import wilcoxon
    assert wilcoxon([y - x for x, y in zip(a, b)]).statistic == 2
    assert s["wilcoxon_p"] == 0.125
    assert s["a_s"] == a and s["b_s"] == b


def test_summary_refuses_unpaired_and_withholds_p_for_few_pairs():
    paired = bench_module("paired")
    with pytest.raises(ValueError):
        paired.summary([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        paired.summary([], [])
    assert paired.summary([1.0] * 5, [0.5] * 5)["wilcoxon_p"] is None  # five pairs: p >= 0.0625
    assert paired.summary([1.0] * 6, [1.0] * 6)["wilcoxon_p"] is None  # no difference at all


@pytest.mark.slow
def test_this_checkout_against_itself(tmp_path, tiny_cohort):
    paired = bench_module("paired")
    db = tiny_cohort
    root = Path(__file__).resolve().parent.parent
    views = [paired.parse_view("compare|How do the jurisdictions compare?|1")]
    # On a thread of its own: sync Playwright may have left an event loop on this one.
    with ThreadPoolExecutor(1) as pool:
        r = pool.submit(paired.run, db, root, root, views, 2, {"A911_PAIRED_TEST": "1"}).result()
    s = r["views"]["compare"]
    assert len(s["a_s"]) == len(s["b_s"]) == 2 and all(t > 0 for t in s["a_s"] + s["b_s"])
    assert s["wilcoxon_p"] is None and r["b_env"] == {"A911_PAIRED_TEST": "1"}
    assert r["offsite_requests"] == []
    assert db.exists() and not list(tmp_path.glob("*.log"))  # copies and logs in their own folder
