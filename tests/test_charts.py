"""Figures from metric results: what a reader sees that the numbers alone do not say."""
from datetime import date

import pandas as pd
import pytest

import metrics
from charts import figures


def _months(values):
    return pd.DataFrame({"month": [f"2024-{i + 1:02d}" for i in range(len(values))],
                         "value": values, "reliability": ["ok"] * len(values)})


def test_launch_labels_sit_above_the_highest_month():
    # Peak 835 calls; two launches inside the months shown, one without a date: two labels,
    # at 1.00 and 0.93 of the plot's height, each 0.07 tall, so the lowest ends at 0.86.
    df = _months([400.0, 835.0, 700.0])
    fig = figures.line_by_month(df, None, metrics.BY_ID["A4"],
                                [("Riverton", date(2024, 1, 5)), ("Millbrook", date(2024, 2, 1)),
                                 ("Cedar Falls", None)])
    labels = [a for a in fig.layout.annotations if a.text.endswith("launch")]
    assert [a.text for a in labels] == ["Riverton launch", "Millbrook launch"]
    low, high = fig.layout.yaxis.range
    assert low == 0
    assert round(high, 1) == round(835 / (1 - 2 * 0.07 - 0.04), 1)  # 1,018.3
    lowest_label_bottom = min(a.y for a in labels) - figures.LAUNCH_LABEL_STEP
    assert 835 / high < lowest_label_bottom  # 0.82 < 0.86


def test_without_launches_the_axis_is_left_to_plotly():
    fig = figures.line_by_month(_months([400.0, 835.0]), None, metrics.BY_ID["A4"], [])
    assert fig.layout.yaxis.range is None
    # A launch before the months shown is not drawn, and makes no room either.
    fig = figures.line_by_month(_months([400.0, 835.0]), None, metrics.BY_ID["A4"],
                                [("Riverton", date(2021, 10, 1))])
    assert fig.layout.yaxis.range is None


def _groups(metric_id, values, ci=False):
    return pd.DataFrame({
        "metric": metric_id, "area": [f"Area {i}" for i in range(len(values))],
        "value": values, "ci_low": [v * 0.9 if ci else None for v in values],
        "ci_high": [v * 1.1 if ci else None for v in values], "p90": None,
        "reliability": "ok", "numerator": values, "denominator": None})


def test_a_count_bar_leaves_room_for_its_value_beyond_its_end():
    # Counts print beyond the bar: the longest (20,590) gets 30% more axis.
    counts = figures.bar_by_group(_groups("A1", [20590.0, 9190.0]), "area",
                                  metrics.BY_ID["A1"])
    assert counts.data[0].textposition == ("outside", "outside")
    assert counts.layout.xaxis.range == pytest.approx((0, 20590 * 1.3))


def test_a_rate_prints_its_value_past_its_whisker_never_under_it():
    # Issue 26 (changed on purpose: a long rate bar printed its value inside, a short one at
    # the bar's end, where the whisker crossed it). Now every rate's value starts at the end
    # of its whisker (ci_high 0.55 and 0.33), and the axis leaves 30% beyond the longest.
    rates = figures.bar_by_group(_groups("B1", [0.5, 0.3], ci=True), "area",
                                 metrics.BY_ID["B1"])
    assert rates.data[0].text == ("", "")  # nothing drawn at the bar's own end
    labels = next(t for t in rates.data if t.name == "values")
    # Bars bottom to top by value: 0.3 (whisker to 0.33), then 0.5 (to 0.55).
    assert list(labels.x) == pytest.approx([0.33, 0.55])
    assert list(labels.text) == [" 30.0%", " 50.0%"] and labels.textposition == "middle right"
    assert rates.layout.xaxis.range == pytest.approx((0, 0.55 * 1.3))


def test_a_short_time_bar_says_its_label_is_the_median():
    # Durations: a long bar holds its median at its base; a short one (under a quarter of the
    # axis) prints it past the 90th percentile's tick, named, so it is not read as the p90.
    df = _groups("C2", [20.0, 3.0]).assign(p90=[30.0, 12.0], ci_low=None, ci_high=None)
    fig = figures.bar_by_group(df, "area", metrics.BY_ID["C2"])
    assert fig.data[0].textposition == ("outside", "inside")  # 3 minutes, then 20
    labels = next(t for t in fig.data if t.name == "values")
    assert list(labels.x) == [12.0] and list(labels.text) == [" median 3.0"]
