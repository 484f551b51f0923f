"""Impact methods (metrics/impact.py) on series generated here with a planted change.

Synthetic monthly series: Poisson (or over-dispersed) counts with a trend and seasonality, and
a level change at launch of a known size. The interrupted time series must find it (its 95%
interval holds the planted ratio and excludes 1), find nothing when nothing was planted,
agree with a statsmodels GLM the test fits itself, flag a drop larger than the team handled,
and refuse series that are too short. WDD and year over year are checked against arithmetic
done by hand, and the SQL aggregation against a ten-call table counted by hand.
"""
from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from data import facts
from metrics import impact
from metrics.disclosure import VIEWER
from metrics.engine import Filters
from metrics.impact_series import Program, monthly_series, publish

Z = 1.959963984540054


def _month(i: int) -> date:
    return date(2021 + i // 12, i % 12 + 1, 1)


def _days(m: date) -> int:
    nxt = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return (nxt - m).days


def synthetic(seed: int, pre: int = 24, post: int = 12, base: float = 400, ratio: float = 0.8,
              trend: float = 0.004, season: float = 0.12, dispersion: float | None = None,
              team_share: float = 1.0) -> tuple[pd.DataFrame, Program]:
    """A whole-jurisdiction monthly series starting Jan 2021, launch on the 1st of month
    ``pre``; the team takes ``team_share`` of the calls police lost (plus its own noise)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(pre + post):
        m = _month(i)
        after = i >= pre
        mu_cf = base * _days(m) / 30 * math.exp(trend * i + season * math.sin(2 * math.pi *
                                                                              m.month / 12))
        mu = mu_cf * (ratio if after else 1.0)
        if dispersion:  # gamma-Poisson: variance mu + mu^2 / dispersion
            mu = rng.gamma(dispersion, mu / dispersion)
        police = int(rng.poisson(mu))
        team = int(rng.poisson(team_share * (mu_cf - mu_cf * ratio))) if after else 0
        rows.append({"month": m, "idx": m.year * 12 + m.month - 1, "days": _days(m),
                     "phase": "post" if after else "pre", "target_calls": police + team,
                     "police_calls": police, "team_calls": team, "phone_calls": 0,
                     "timed_dispatch": police, "timed_scene": 0, "untimed": 0,
                     "police_hours": police * 1.25})
    program = Program("Synthetic", _month(pre), ("WELFARE",), None, None, None)
    return pd.DataFrame(rows), program


def run_its(series, program, outcome="police_calls"):
    return impact.its(program, outcome, series, series.assign(group="program"))


# --------------------------------------------------------------------------------------------
# Interrupted time series: planted change, no change, agreement with statsmodels
# --------------------------------------------------------------------------------------------

# Every seed is counted, none chosen. Over 200 seeds per setting the intervals held the
# planted value in 91-96% of series (nominal 95%); 50 of 60 is 83%.
SEEDS = range(60)
ENOUGH = 50
SIZES = [dict(pre=24, post=12, base=400), dict(pre=14, post=8, base=400)]


@pytest.mark.parametrize("size", SIZES, ids=["24+12 months", "14+8 months"])
def test_its_finds_a_planted_drop_of_a_fifth(size):
    holds, excludes_one = 0, 0
    for seed in SEEDS:
        est = run_its(*synthetic(seed, ratio=0.8, **size))
        holds += est.ci_low <= 0.8 <= est.ci_high
        excludes_one += est.ci_high < 1
    assert holds >= ENOUGH, holds
    assert excludes_one >= len(SEEDS) - 1, excludes_one


@pytest.mark.parametrize("size", SIZES, ids=["24+12 months", "14+8 months"])
def test_its_finds_nothing_when_nothing_was_planted(size):
    ests = [run_its(*synthetic(seed, ratio=1.0, **size)) for seed in SEEDS]
    includes_one = sum(e.ci_low <= 1 <= e.ci_high for e in ests)
    assert includes_one >= ENOUGH, includes_one


def test_its_with_overdispersed_counts_still_covers():
    ests = [run_its(*synthetic(seed, ratio=0.8, dispersion=80)) for seed in SEEDS]
    assert sum(e.ci_low <= 0.8 <= e.ci_high for e in ests) >= ENOUGH
    est = run_its(*synthetic(0, ratio=0.8, dispersion=80))
    assert est.details["quasi_poisson_scale"] > 1.5  # the over-dispersion is seen


@pytest.mark.parametrize("pre", [24, 14])
def test_its_equals_a_glm_fitted_here(pre):
    series, program = synthetic(3, pre=pre, post=12, ratio=0.8)
    est = run_its(series, program)
    # The test's own model, written as a formula: month-of-year terms with 24 months before
    # launch, one Fourier pair with fewer.
    df = series.assign(t=np.arange(len(series)), post=(series["phase"] == "post").astype(int),
                       moy=[m.month for m in series["month"]])
    df["since"] = np.where(df["post"] == 1, df["t"] - pre, 0)
    season = ("C(moy)" if pre >= 24
              else "np.sin(2 * np.pi * moy / 12) + np.cos(2 * np.pi * moy / 12)")
    lags = int(math.floor(4 * (len(df) / 100) ** (2 / 9)))
    fit = smf.glm(f"police_calls ~ t + post + since + {season}", df,
                  family=sm.families.Poisson(), offset=np.log(df["days"])).fit(
        scale="X2", cov_type="HAC", cov_kwds={"maxlags": lags})
    assert est.details["hac_maxlags"] == lags
    qp = smf.glm(f"police_calls ~ t + post + since + {season}", df,
                 family=sm.families.Poisson(), offset=np.log(df["days"])).fit(scale="X2")
    np.testing.assert_allclose(qp.params, fit.params)  # one fit, two covariances
    b, se = fit.params["post"], max(fit.bse["post"], qp.bse["post"])
    assert est.details["level_ratio"] == pytest.approx(math.exp(b), rel=1e-6)
    assert est.details["level_ci_low"] == pytest.approx(math.exp(b - Z * se), rel=1e-6)
    assert est.details["level_ci_high"] == pytest.approx(math.exp(b + Z * se), rel=1e-6)
    assert est.details["quasi_poisson_scale"] == pytest.approx(fit.scale, rel=1e-6)
    # The counterfactual: the same fit with the launch terms set to zero.
    cf = fit.predict(df.assign(post=0, since=0), offset=np.log(df["days"]))
    after = df["post"] == 1
    assert est.expected_post == pytest.approx(cf[after].sum(), rel=1e-6)
    assert est.observed_post == df.loc[after, "police_calls"].sum()
    assert est.rate_ratio == pytest.approx(est.observed_post / est.expected_post, rel=1e-6)
    # Its interval, by simulation from the fit's parameters under each covariance; the
    # wider one is reported.
    rng = np.random.default_rng(0)
    design = fit.model.exog
    design_cf = fit.model.data.orig_exog.assign(post=0, since=0).to_numpy()
    off = np.log(df["days"].to_numpy())[after]
    bounds = []
    for cov in (fit.cov_params(), qp.cov_params()):
        draws = rng.multivariate_normal(fit.params, cov, size=100_000)
        ratio = (np.exp(design[after] @ draws.T + off[:, None]).sum(axis=0)
                 / np.exp(design_cf[after] @ draws.T + off[:, None]).sum(axis=0))
        bounds.append(np.quantile(ratio, [0.025, 0.975]))
    assert est.ci_low == pytest.approx(min(b[0] for b in bounds), rel=0.01)
    assert est.ci_high == pytest.approx(max(b[1] for b in bounds), rel=0.01)
    # The chart's band: exp(eta ± z se) of the counterfactual, month by month, the wider of
    # the two fits' prediction intervals of the mean.
    new = df.assign(post=0, since=0)
    bands = [f.get_prediction(new, offset=np.log(df["days"])).summary_frame(alpha=0.05)
             for f in (fit, qp)]
    chart = est.chart[est.chart["phase"] == "post"]
    np.testing.assert_allclose(chart["cf_low"],
                               np.minimum(*(b["mean_ci_lower"] for b in bands))[after],
                               rtol=1e-6)
    np.testing.assert_allclose(chart["cf_high"],
                               np.maximum(*(b["mean_ci_upper"] for b in bands))[after],
                               rtol=1e-6)


def test_seasonality_is_named():
    assert "month-of-year" in run_its(*synthetic(1, pre=24)).details["seasonality"]
    assert "Fourier" in run_its(*synthetic(1, pre=14)).details["seasonality"]


# --------------------------------------------------------------------------------------------
# Plausibility and refusals
# --------------------------------------------------------------------------------------------

def test_a_drop_larger_than_the_team_handled_is_implausible():
    series, program = synthetic(5, ratio=0.8, team_share=0.3)  # team took 30% of the drop
    est = run_its(series, program)
    assert est.ci_high < 1
    assert est.expected_post - est.observed_post > est.team_handled_post
    assert est.plausible is False
    (words,) = [c for c in est.caveats if c.startswith("Implausible")]
    assert f"{est.team_handled_post:,.0f} calls the team took" in words
    plausible = run_its(*synthetic(5, ratio=0.8, team_share=1.3))
    assert plausible.plausible is True
    assert not [c for c in plausible.caveats if c.startswith("Implausible")]


def test_hours_are_checked_against_the_teams_calls_at_police_time_per_call():
    series, program = synthetic(5, ratio=0.8, team_share=0.3)
    est = run_its(series, program, "police_hours")
    assert est.details["team_limit"] == pytest.approx(est.team_handled_post * 1.25)
    assert est.plausible is False


@pytest.mark.parametrize("pre, post, said", [(11, 12, "11 before and 12 after"),
                                             (24, 5, "24 before and 5 after")])
def test_too_little_history_is_refused(pre, post, said):
    with pytest.raises(impact.ImpactRefused, match="at least 12 months before launch and 6 "
                                                   f"after; this period has {said}"):
        run_its(*synthetic(0, pre=pre, post=post))


def test_hidden_months_refuse_an_estimate_in_public_mode():
    series, program = synthetic(0, base=400)
    series.loc[3, "police_calls"] = 7  # a month of 1-10: hidden when published
    shown = publish(series, VIEWER)
    assert pd.isna(shown.loc[3, "police_calls"]) and pd.isna(shown.loc[3, "police_hours"])
    assert all(v % 5 == 0 for v in shown["police_calls"].dropna())
    with pytest.raises(impact.ImpactRefused, match="hidden to protect privacy"):
        run_its(shown, program)
    assert run_its(series, program).rate_ratio  # the exact series is estimated


def test_hidden_team_months_count_at_their_highest():
    """A month in which the team took 1-10 calls is hidden; the estimate still runs, the
    team's total is not shown, and the plausibility check takes each hidden month at 10."""
    series, program = synthetic(5, ratio=0.8, team_share=0.3)
    series.loc[24, "team_calls"] = 4  # the first month after launch
    shown = publish(series, VIEWER)
    assert pd.isna(shown.loc[24, "team_calls"])
    est = impact.its(program, "police_calls", shown, shown.assign(group="program"),
                     VIEWER.hidden_up_to)
    after = shown.loc[24:, "team_calls"]
    assert est.team_handled_post is None and est.details["team_hidden_months"] == 1
    assert est.details["team_limit"] == after.sum() + 10
    assert est.plausible is False  # still: 30% of the drop plus 10 explains too little
    (words,) = [c for c in est.caveats if c.startswith("Implausible")]
    assert f"the at most {after.sum() + 10:,.0f} calls the team took" in words


# --------------------------------------------------------------------------------------------
# Year over year and WDD, by hand
# --------------------------------------------------------------------------------------------

def _two_groups(t: dict, c: dict, team_after: int) -> tuple[pd.DataFrame, pd.DataFrame, Program]:
    """13 months Jan 2023 - Jan 2024, launch 1 Jan 2024; ``t``/``c``: month index -> count
    (others 80 and 40)."""
    rows = []
    for i in range(13):
        m = date(2023 + i // 12, i % 12 + 1, 1)
        for group, values, other in (("program", t, 80), ("comparison", c, 40)):
            n = values.get(i, other)
            rows.append({"month": m, "idx": m.year * 12 + m.month - 1, "days": _days(m),
                         "phase": "post" if i == 12 else "pre", "group": group,
                         "target_calls": n, "police_calls": n,
                         "team_calls": team_after if (i == 12 and group == "program") else 0,
                         "phone_calls": 0, "timed_dispatch": n, "timed_scene": 0, "untimed": 0,
                         "police_hours": float(n)})
    groups = pd.DataFrame(rows)
    program = Program("Twin", date(2024, 1, 1), ("WELFARE",), ("North",), None, None)
    from metrics.impact_series import whole
    return whole(groups), groups, program


def test_wdd_by_hand():
    series, groups, program = _two_groups({0: 100, 12: 70}, {0: 50, 12: 55}, team_after=30)
    est = impact.wdd(program, "police_calls", series, groups)
    d = est.details
    assert (d["t0"], d["t1"], d["c0"], d["c1"]) == (100, 70, 50, 55)
    assert d["wdd"] == (70 - 100) - (55 - 50) == -35
    assert d["wdd_variance"] == 100 + 70 + 50 + 55 == 275
    assert d["wdd_z"] == pytest.approx(-35 / math.sqrt(275))  # -2.1106
    assert d["wdd_z"] == pytest.approx(-2.1106, abs=1e-4)
    assert est.rate_ratio == pytest.approx((70 / 100) / (55 / 50))  # 0.6364
    se = math.sqrt(1 / 100 + 1 / 70 + 1 / 50 + 1 / 55)
    assert est.ci_low == pytest.approx(0.63636 * math.exp(-Z * se), rel=1e-4)
    assert est.expected_post == pytest.approx(100 * 55 / 50)  # 110: T0 moved as C did
    # A drop of 40 against 30 team calls: implausible; 50 team calls would explain it.
    assert est.plausible is False
    assert impact.wdd(program, "police_calls", *_two_groups({0: 100, 12: 70}, {0: 50, 12: 55},
                                                            50)[:2]).plausible


def test_wdd_refusals():
    series, groups, program = _two_groups({}, {}, 0)
    with pytest.raises(impact.ImpactRefused, match="for counts of calls"):
        impact.wdd(program, "police_hours", series, groups)
    everywhere = Program("All", date(2024, 1, 1), ("WELFARE",), None, (0, 24), "1234567")
    with pytest.raises(impact.ImpactRefused, match="covers every area around the clock"):
        impact.wdd(everywhere, "police_calls", series, groups)
    assert Program("H", None, (), None, (8, 20), "1234567").comparison == "hours"
    assert Program("D", None, (), None, None, "12345").comparison == "hours"


def test_pre_trends_that_diverge_are_said():
    # The comparison grows 5% a month before launch, the program's series is flat.
    series, groups, program = _two_groups({}, {i: round(40 * 1.05 ** i) for i in range(13)}, 0)
    est = impact.wdd(program, "police_calls", series, groups)
    assert est.details["pre_trend_ci_low"] > 1
    assert any("did not move in step" in c for c in est.caveats)


def test_year_over_year_by_hand():
    series, groups, program = _two_groups({0: 100, 12: 70}, {0: 50, 12: 55}, team_after=30)
    est = impact.yoy(program, "police_calls", series, groups)
    assert (est.observed_post, est.expected_post) == (125, 150)  # both groups added
    assert est.rate_ratio == pytest.approx(125 / 150)
    se = math.sqrt(1 / 125 + 1 / 150)
    assert (est.ci_low, est.ci_high) == pytest.approx(
        (125 / 150 * math.exp(-Z * se), 125 / 150 * math.exp(Z * se)))
    assert est.details["months_after"] == ["2024-01-01"]
    assert est.details["months_before"] == ["2023-01-01"]
    assert any("not an estimate of what the program caused" in c for c in est.caveats)
    hours = impact.yoy(program, "police_hours", series, groups)
    assert hours.ci_low is None  # hours are not counts


def test_year_over_year_needs_a_year_before():
    # 8 months before launch, 3 after: no month after launch has its twin a year before.
    series, program = synthetic(0, pre=8, post=3)
    with pytest.raises(impact.ImpactRefused, match="a year before"):
        impact.yoy(program, "police_calls", series, series.assign(group="program"))
    # With 12 after, the last 8 months after launch have twins: the 8 months before launch.
    series, program = synthetic(0, pre=8, post=12)
    est = impact.yoy(program, "police_calls", series, series.assign(group="program"))
    assert est.details["months_before"] == [f"2021-{m:02d}-01" for m in range(1, 9)]
    assert est.details["months_after"] == [f"2022-{m:02d}-01" for m in range(1, 9)]


# --------------------------------------------------------------------------------------------
# The SQL: a table of ten calls, counted by hand
# --------------------------------------------------------------------------------------------

# call_id, local received, type, responder, origin, area, dispatched, arrived, cleared
CALLS = [
    ("t1", "2024-01-03 10:00", "WELFARE", "police", "911", "North",
     "2024-01-03 10:05", "2024-01-03 10:15", "2024-01-03 11:05"),  # 1 h from dispatch
    ("t2", "2024-01-10 12:00", "WELFARE", "police", "911", "South",
     None, "2024-01-10 12:30", "2024-01-10 13:00"),                # 0.5 h from on scene
    ("t3", "2024-01-20 09:00", "WELFARE", "police", "911", "North",
     None, None, "2024-01-20 10:00"),                              # neither: untimed
    ("t4", "2024-01-21 09:00", "WELFARE", "police", "officer_initiated", "North",
     None, None, None),                                            # officer-initiated: out
    ("t5", "2024-01-22 09:00", "THEFT", "police", "911", "North",
     None, None, None),                                            # not a target type: out
    ("t6", "2024-01-25 09:00", "WELFARE", "police", "911", "North",
     "2024-01-25 09:10", None, "2024-01-25 09:05"),                # negative: untimed
    ("t7", "2024-03-02 09:00", "WELFARE", "alternative", "911", "North", None, None, None),
    ("t8", "2024-03-03 08:00", "WELFARE", "police", "911", "North",
     "2024-03-03 08:00", None, "2024-03-03 10:30"),                # 2.5 h
    ("t9", "2024-03-04 08:00", "WELFARE", "phone", "911", "North", None, None, None),
    ("t10", "2024-03-05 08:00", "WELFARE", "police", "911", "North",
     None, "2024-03-05 08:30", "2024-03-06 09:00"),                # 24.5 h: untimed
]


@pytest.fixture
def tiny(con):
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone, launch_date, "
                "coverage_areas, target_categories) VALUES ('Tiny', 'UTC', DATE '2024-02-15', "
                "['North'], ['WELFARE'])")
    con.executemany("INSERT INTO crosswalk VALUES ('Tiny', ?, ?, true)",
                    [("WELFARE", "WELFARE"), ("THEFT", "THEFT")])
    for cid, rec, ctype, resp, origin, area, disp, arr, clr in CALLS:
        ts = [None if v is None else f"timezone('UTC', TIMESTAMP '{v}')" for v in (disp, arr, clr)]
        con.execute(
            "INSERT INTO calls (jurisdiction, call_id, received_at, received_local, "
            "dispatched_at, arrived_at, cleared_at, call_type, responder, origin, area, "
            f"import_id) VALUES ('Tiny', ?, timezone('UTC', TIMESTAMP '{rec}'), "
            f"TIMESTAMP '{rec}', {ts[0] or 'NULL'}, {ts[1] or 'NULL'}, {ts[2] or 'NULL'}, "
            "?, ?, ?, ?, 1)", [cid, ctype, resp, origin, area])
    facts.refresh(con)
    return con


def test_monthly_aggregation_by_hand(tiny):
    program = impact.load_program(tiny, "Tiny")
    assert program.comparison == "areas"
    groups = monthly_series(tiny, program, Filters())
    series = impact.whole(groups).set_index("month")
    jan, feb, mar = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
    assert list(series.index) == [jan, feb, mar]  # February has no calls: a row of zeros
    assert list(series["phase"]) == ["pre", "launch", "post"]  # launch on the 15th
    assert list(series["days"]) == [29, 29, 5]  # the data runs 3 Jan - 5 Mar 2024
    cols = ["target_calls", "police_calls", "team_calls", "phone_calls", "timed_dispatch",
            "timed_scene", "untimed"]
    assert series.loc[jan, cols].tolist() == [4, 4, 0, 0, 1, 1, 2]   # t1 t2 t3 t6
    assert series.loc[feb, cols].tolist() == [0, 0, 0, 0, 0, 0, 0]
    assert series.loc[mar, cols].tolist() == [4, 2, 1, 1, 1, 0, 1]   # t7 t8 t9 t10
    assert series.loc[jan, "police_hours"] == pytest.approx(1.5)
    assert series.loc[mar, "police_hours"] == pytest.approx(2.5)
    g = groups.set_index(["group", "month"])
    assert g.loc[("program", jan), "police_calls"] == 3       # t1 t3 t6 (North)
    assert g.loc[("comparison", jan), "police_calls"] == 1    # t2 (South)
    assert g.loc[("comparison", jan), "police_hours"] == pytest.approx(0.5)
    # Filters: the period, and a category outside the targets is refused.
    feb_on = monthly_series(tiny, program, Filters(date_from=date(2024, 2, 1)))
    assert impact.whole(feb_on)["month"].tolist() == [feb, mar]
    with pytest.raises(impact.ImpactRefused, match="None of the chosen call categories"):
        impact.analyse(tiny, "Tiny", "police_calls", Filters(categories=("THEFT",)))


def test_calls_alone_need_no_second_scan(tiny):
    """Police hours are counted (a second scan, of police calls) only when asked for."""
    program = impact.load_program(tiny, "Tiny")
    calls = impact.whole(monthly_series(tiny, program, Filters(), hours=False))
    assert calls["police_calls"].tolist() == [4, 0, 2]
    assert calls["police_hours"].isna().all() and calls["untimed"].isna().all()
    shown = publish(calls, VIEWER)  # nothing to publish for the hours, and no error
    assert shown["police_hours"].isna().all() and shown["police_calls"].isna().tolist() == [
        True, False, True]  # 4 and 2 are hidden (1-10), 0 is shown
    a = impact.analyse(tiny, "Tiny", "police_calls")
    assert a.timing == {"timed_dispatch": None, "timed_scene": None, "untimed": None}
    hours = impact.analyse(tiny, "Tiny", "police_hours")
    assert hours.timing == {"timed_dispatch": 2, "timed_scene": 1, "untimed": 3}
    assert not any(isinstance(r, impact.Estimate) for r in hours.results.values())  # 3 months


def test_a_missing_launch_date_is_refused(tiny):
    tiny.execute("UPDATE jurisdictions SET launch_date = NULL")
    with pytest.raises(impact.ImpactRefused, match="Tiny has no launch date"):
        impact.estimate(tiny, "Tiny", "police_calls", "yoy")


def test_a_launch_before_the_data_is_refused_for_every_method(tiny):
    tiny.execute("UPDATE jurisdictions SET launch_date = DATE '2023-06-01'")
    a = impact.analyse(tiny, "Tiny", "police_calls")
    for method, refusal in a.results.items():
        assert isinstance(refusal, impact.ImpactRefused), method
        assert "before the first month of calls" in str(refusal)
