"""Relative rate indices per group, worked by hand (DOMAIN.md §5)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from metrics.equity import per_resident_rates, relative_rates, unknown_share
from metrics.stats import wilson


def _row(group, x, n, dim="race_ethnicity"):
    lo, hi = wilson(x, n) if n else (None, None)
    return SimpleNamespace(group={dim: group}, numerator=x, denominator=n,
                           value=(x / n if n else None), ci_low=lo, ci_high=hi,
                           reliability="ok", n=None, missing=None)


ROWS = [_row("black", 120, 400), _row("white", 300, 700), _row("asian", 45, 105),
        _row("unknown", 30, 95), _row("nhpi", 0, 12)]


def test_rri_against_the_reference_group():
    rates = {r.group: r for r in relative_rates(ROWS, "race_ethnicity", "white")}
    black = rates["black"]
    # 0.30 / 0.4286 = 0.70; Katz: exp(ln 0.7 ± 1.96 √(1/120 − 1/400 + 1/300 − 1/700))
    assert round(black.ratio.estimate, 2) == 0.70
    assert (round(black.ratio.low, 2), round(black.ratio.high, 2)) == (0.59, 0.83)
    assert black.differs is True
    # Asian: 45/105 = 0.4286, the same rate as the reference: the interval includes 1.
    assert rates["asian"].ratio.estimate == pytest.approx(1.0)
    assert rates["asian"].differs is False
    assert rates["white"].is_reference and rates["white"].ratio.estimate == 1.0
    # A zero cell is not estimable, never infinite or zero with an interval.
    assert rates["nhpi"].ratio.estimate is None and rates["nhpi"].differs is None
    assert "unknown" not in rates  # unknown is a share, not a group


def test_reference_missing_or_hidden_counts_give_no_ratio():
    rates = relative_rates(ROWS, "race_ethnicity", "mena")
    assert all(r.ratio.estimate is None for r in rates)
    hidden = [_row("white", 300, 700), _row("black", None, None)]
    black = {r.group: r for r in relative_rates(hidden, "race_ethnicity", "white")}["black"]
    assert black.ratio.estimate is None and "hidden" in black.ratio.reason


def test_unknown_share_counts_the_denominators():
    assert unknown_share(ROWS, "race_ethnicity") == (95, 400 + 700 + 105 + 95 + 12)
    assert unknown_share([_row("white", 3, 7), _row(None, None, None)],
                         "race_ethnicity") == (None, None)


def test_per_resident_ratio_carries_the_acs_margin_of_error():
    counts = {"black": 900, "white": 1500}
    exact = per_resident_rates(counts, {"black": (60_000, None), "white": (250_000, None)},
                               "white")
    black = {r.group: r for r in exact}["black"]
    assert black.rate == pytest.approx(15.0)          # per 1,000 residents
    assert round(black.ratio.estimate, 2) == 2.50
    assert (round(black.ratio.low, 2), round(black.ratio.high, 2)) == (2.30, 2.72)
    # With margins of error the interval widens, the estimate does not move.
    moe = per_resident_rates(counts, {"black": (60_000, 3_000), "white": (250_000, 5_000)},
                             "white")
    wide = {r.group: r for r in moe}["black"].ratio
    assert wide.estimate == pytest.approx(black.ratio.estimate)
    assert wide.low < black.ratio.low and wide.high > black.ratio.high


def test_population_by_group_sums_jurisdictions_and_combines_margins(con):
    from metrics.catalog import population_by_group

    con.execute("""INSERT INTO population (jurisdiction, population_key, geography, dimension,
        "group", population, moe, source, import_id) VALUES
        ('A', 'k1', 'A', 'race_ethnicity', 'black', 3000, 300, 'ACS', 1),
        ('B', 'k2', 'B', 'race_ethnicity', 'black', 1000, 400, 'ACS', 1),
        ('A', 'k3', 'A', 'race_ethnicity', 'white', 5000, NULL, 'ACS', 1),
        ('A', 'k4', 'A', 'race_ethnicity', 'hispanic_latino', 2000, 100, 'ACS', 1),
        ('A', 'k5', 'North', 'total', 'total', 700, 70, 'ACS', 1),
        ('A', 'k6', 'A', 'total', 'total', 9000, 90, 'ACS', 1)""")
    both = population_by_group(con, (), "race_ethnicity")
    assert both["black"] == (4000, 500.0)          # √(300² + 400²)
    assert both["white"] == (5000, None)           # no margin published: treated as exact
    assert "total" not in both                     # the total is not a group
    assert population_by_group(con, ("B",), "race_ethnicity") == {"black": (1000, 400.0)}
    assert population_by_group(con, ("A",), "area") == {"North": (700, 70.0)}
