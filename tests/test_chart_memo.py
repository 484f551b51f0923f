"""charts/memo.py: a figure builder's result is kept by its arguments' content, each caller gets
its own copy, and a page drawn again from the same results builds no figure and sends the same
charts as the first time."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.subplots import make_subplots
from streamlit.testing.v1 import AppTest

from charts import cost, equity, figures, memo
from charts.equity import PanelView
from metrics.equity import GroupRate
from metrics.stats import Ratio

from conftest import demo_database

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")
STEPS = [("Calls for service", 1200, "all calls"), ("Eligible", 400, "a third"),
         ("Handled by the team", 300, "three in four")]


@pytest.fixture(autouse=True)
def empty_memo():
    memo.clear()
    yield
    memo.clear()


def spec(fig: go.Figure) -> dict:
    """The figure as sent to the browser, without empty objects (``title: {}`` after
    ``title=None``, which a copy leaves out: the same chart)."""
    return _no_empty(json.loads(pio.to_json(fig, validate=False)))


def _no_empty(value):
    if isinstance(value, dict):
        return {k: _no_empty(v) for k, v in value.items() if v != {}}
    if isinstance(value, list):
        return [_no_empty(v) for v in value]
    return value


def test_equal_arguments_build_once_and_match_a_fresh_build():
    first = figures.funnel([tuple(s) for s in STEPS])
    again = figures.funnel([tuple(s) for s in STEPS])  # equal content, other objects
    assert (memo.stats.misses, memo.stats.hits) == (1, 1)
    assert spec(first) == spec(again) == spec(figures.funnel.uncached(STEPS))


def test_other_arguments_are_another_figure():
    a = figures.funnel(STEPS)
    b = figures.funnel(STEPS[:2] + [("Handled by the team", 301, "three in four")])
    assert memo.stats.misses == 2
    assert spec(a) != spec(b)
    assert 301 in spec(b)["data"][0]["x"] and 301 not in spec(a)["data"][0]["x"]


def test_another_default_template_is_another_figure(monkeypatch):
    ours = figures.funnel(STEPS)
    monkeypatch.setattr(pio.templates, "default", "plotly")  # as Streamlit's import sets its own
    plain = figures.funnel(STEPS)
    assert memo.stats.misses == 2
    assert spec(ours)["layout"]["template"] != spec(plain)["layout"]["template"]


def test_each_caller_changes_its_own_copy():
    mine = figures.funnel(STEPS)
    mine.update_layout(title="changed by one page")
    mine.data[0].x = [1, 2, 3]
    theirs = figures.funnel(STEPS)
    assert memo.stats.hits == 1
    assert theirs.layout.title.text is None
    assert list(theirs.data[0].x) == [1200, 400, 300]


def test_a_copy_is_checked_when_changed_and_keeps_its_subplot_grid():
    fig = make_subplots(rows=2, cols=1)
    fig.add_trace(go.Bar(x=[1], y=["a"]), row=1, col=1)
    fig.add_trace(go.Bar(x=[2], y=["b"]), row=2, col=1)
    copy = memo.copy(fig)
    copy.update_yaxes(title="second panel", row=2, col=1)  # needs the grid
    assert copy.layout.yaxis2.title.text == "second panel"
    assert fig.layout.yaxis2.title.text is None
    with pytest.raises(ValueError):
        copy.update_layout(not_a_plotly_property=1)
    with pytest.raises(ValueError):
        copy.data[0].update(not_a_bar_property=1)


def test_a_copy_keeps_numbers_as_numbers():
    # to_dict() would send them as base64 objects, which escaping would read as labels.
    fig = go.Figure(go.Scatter(x=np.array([1.5, 2.5]), y=np.array([3, 4]), text=["a", "b"]))
    copy = memo.copy(fig)
    assert list(copy.data[0].x) == [1.5, 2.5] and list(copy.data[0].y) == [3, 4]
    assert list(copy.data[0].text) == ["a", "b"]


def test_subplot_figures_are_kept_and_copied_whole():
    rates = [GroupRate(g, n, 100, n / 100, n / 120, n / 80, None, g == "A",
                       Ratio(None, None, None, "reference") if g == "A" else Ratio(1.3, 1.1, 1.6))
             for g, n in (("A", 30), ("B", 40))]
    panels = [PanelView("Riverton", rates, "A"), PanelView("Lakeside", rates, "B")]
    built = equity.rate_panels.uncached(panels, "race", "share")
    kept = equity.rate_panels(panels, "race", "share")
    kept_again = equity.rate_panels(panels, "race", "share")
    assert spec(built) == spec(kept) == spec(kept_again)
    assert memo.stats.hits == 1
    kept_again.update_xaxes(title="changed", row=2, col=1)
    assert spec(equity.rate_panels(panels, "race", "share")) == spec(built)


def test_arguments_that_cannot_be_pickled_are_built_every_time():
    report = {"quarters": []}
    def words(s: str) -> str:  # a local function cannot be pickled, so it cannot be a key
        return s

    first = cost.per_unit_figure(report, words)
    second = cost.per_unit_figure(report, words)
    assert memo.stats.unkeyable == 2 and memo.stats.hits == 0
    assert spec(first) == spec(second)


def test_the_least_recently_used_figures_go_past_the_budget(monkeypatch):
    monkeypatch.setattr(memo, "BUDGET_BYTES", 1)  # room for one figure
    figures.funnel(STEPS)
    figures.funnel(STEPS[:2])
    figures.funnel(STEPS)
    assert (memo.stats.misses, memo.stats.hits) == (3, 0)
    assert len(memo._kept) == 1


# --------------------------------------------------------------------------------------------
# Pages drawn again from cached results
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    return demo_database(tmp_path_factory.mktemp("memo"), costs=True)


def _charts(at: AppTest) -> dict[str, dict]:
    return {e.proto.id or str(i): json.loads(e.proto.spec)
            for i, e in enumerate(at.get("plotly_chart"))}


@pytest.mark.parametrize("page", ["overview", "reach", "on_scene", "connections", "equity",
                                  "cost", "plan"])
def test_a_page_drawn_again_builds_no_figure_and_sends_the_same_charts(monkeypatch, demo_db,
                                                                        page):
    monkeypatch.setenv("A911_DB", str(demo_db))
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    first = _charts(at)
    assert first, f"{page} drew no chart on the demo"
    before = (memo.stats.misses, memo.stats.unkeyable, memo.stats.hits)
    at.run()
    assert (memo.stats.misses, memo.stats.unkeyable) == before[:2]
    assert memo.stats.hits > before[2]
    assert _charts(at) == first
