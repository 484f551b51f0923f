"""Numbers that say what was done to them (issue 24): the rule sentence, the rounded and hidden
marks on tables and tooltips, and every chart card of the pages in public mode against the
same card with exact figures (a withheld cell is never a number, nor blank without its reason).
"""
from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import pytest

from charts.frames import data_table, frame
from charts.marks import rounded_table, rounded_tooltips
from conftest import each_section, open_tables
from metrics.disclosure import (ANALYST, VIEWER, DisclosurePolicy, published_count,
                                rounded_label, rule)
from test_pages import _flat, assert_clean, demo_db, run_app  # noqa: F401

# --------------------------------------------------------------------------------------------
# The rule sentence and the label
# --------------------------------------------------------------------------------------------


def test_rule_is_one_sentence_that_follows_the_policy():
    assert rule(VIEWER) == ("Privacy rule: counts from 1 to 10, and any figure that would "
                            "reveal one, are hidden; other counts are rounded to the nearest 5 "
                            "and rates are worked out from them.")
    drb = rule(DisclosurePolicy(rounding=True))
    assert "from 1 to 14" in drb and "Census DRB" in drb
    assert "from 1 to 5," in rule(DisclosurePolicy(threshold=5))
    assert rule(ANALYST) == "Exact figures: no count is rounded or hidden."
    assert all(s.count(". ") == 0 and s.endswith(".") for s in (rule(VIEWER), drb))
    assert rounded_label(VIEWER) == "rounded (nearest 5)"
    assert rounded_label(DisclosurePolicy(rounding=True)) == "rounded (Census DRB)"
    assert rounded_label(ANALYST) is None


def test_public_report_json_carries_the_rule(tmp_path):
    from data.connection import connect
    from data.demo import populate_demo
    from metrics import MetricRequest
    from metrics.disclosure import public_report

    con = connect(tmp_path / "demo.duckdb")
    populate_demo(con, seed=0, scale=0.02)
    doc = public_report(con, MetricRequest(("B1",), ("area",)), VIEWER)
    con.close()
    assert doc["disclosure"]["rule"] == rule(VIEWER)


# --------------------------------------------------------------------------------------------
# Tables and tooltips
# --------------------------------------------------------------------------------------------

def _public_rows():
    """Coverage by area as disclosure returns it: north shown, west's numerator small."""
    return [{"metric": "B1", "group": {"area": "north"}, "numerator": 40, "denominator": 200,
             "value": 0.2, "ci_low": 0.15, "ci_high": 0.26, "reliability": "ok",
             "suppressed": {}},
            {"metric": "B1", "group": {"area": "west"}, "numerator": None, "denominator": 60,
             "value": None, "ci_low": None, "ci_high": None, "reliability": None,
             "suppressed": {"numerator": "small", "value": "derived", "ci_low": "derived",
                            "ci_high": "derived", "reliability": "derived"}},
            {"metric": "B1", "group": {"area": "east"}, "numerator": None, "denominator": None,
             "value": None, "ci_low": None, "ci_high": None, "reliability": None,
             "suppressed": {"numerator": "protect", "denominator": "protect",
                            "value": "derived", "ci_low": "derived", "ci_high": "derived",
                            "reliability": "derived"}}]


def test_table_says_rounded_per_row_and_hidden_cells_give_their_reason():
    table = rounded_table(data_table(frame(_public_rows(), ("area",)), ("area",)),
                          "rounded (nearest 5)")
    rows = {r["Area"]: r for _, r in table.iterrows()}
    assert rows["north"]["Counts"] == "rounded (nearest 5)"
    assert rows["west"]["Counts"] == "rounded (nearest 5)"  # its denominator is shown
    assert rows["east"]["Counts"] == "none shown"
    assert rows["west"]["Numerator"] == "hidden (fewer than 11)"
    assert rows["east"]["Denominator"] == "hidden (protects a small count elsewhere in the table)"
    assert rows["west"]["Value"] == "hidden (built on a hidden count)"
    zero = pd.DataFrame({"Metric": ["Coverage"], "Numerator": [0], "Denominator": [0]})
    assert list(rounded_table(zero, "rounded (nearest 5)")["Counts"]) == ["exact (zero)"]
    # Exact figures: nothing added.
    exact = data_table(frame(_public_rows(), ("area",)), ("area",))
    assert rounded_table(exact, None) is exact
    # A table without counts (a side-by-side grid of rates) gets no column.
    grid = pd.DataFrame({"Measure": ["Coverage"], "North": ["20.0%"]})
    assert list(rounded_table(grid, "rounded (nearest 5)").columns) == ["Measure", "North"]


def test_tooltips_end_with_the_rounding_and_the_figure_is_not_changed():
    fig = go.Figure([go.Bar(x=[1, 2], y=["a", "b"], hovertext=["<b>a</b>", "<b>b</b>"],
                            hoverinfo="text"),
                     go.Scatter(x=[0], y=["a"], hovertext=["skip me"], hoverinfo="skip"),
                     go.Heatmap(z=[[1, None]], hovertext=[["x", ""]], hoverinfo="text"),
                     go.Scatter(x=[1], y=[1], hovertemplate="%{y}<extra>name</extra>")])
    out = rounded_tooltips(fig, "rounded (nearest 5)")
    tail = "<br><i>counts rounded (nearest 5)</i>"
    assert list(out.data[0].hovertext) == ["<b>a</b>" + tail, "<b>b</b>" + tail]
    assert list(out.data[1].hovertext) == ["skip me"]
    assert [list(r) for r in out.data[2].hovertext] == [["x" + tail, ""]]
    assert out.data[3].hovertemplate == "%{y}" + tail + "<extra>name</extra>"
    assert list(fig.data[0].hovertext) == ["<b>a</b>", "<b>b</b>"]  # a cached figure: a copy
    assert rounded_tooltips(fig, None) is fig


# --------------------------------------------------------------------------------------------
# Every chart card of the analysis pages, public against exact
# --------------------------------------------------------------------------------------------

COUNT_COLUMNS = ("Numerator", "Denominator", "Records timed", "Records without both times")
VALUE_COLUMNS = COUNT_COLUMNS + ("Value", "95% CI low", "95% CI high", "Reliability",
                                 "Median (min)", "90th percentile (min)")
# Millbrook in June 2025: many counts from 1 to 10 (a whole month, so the public period is it).
QUERY = {"j": "Millbrook", "from": "2025-06-01", "to": "2025-06-30"}
PAGES = ["overview", "reach", "on_scene", "connections", "equity"]


def _cards(monkeypatch, db, exact: bool) -> dict:
    """card key -> (table, chart spec, captions) of every card on PAGES, each section open."""
    at = run_app(monkeypatch, db, "overview", query=QUERY, exact=exact)
    cards = {}
    for page in PAGES:
        if page != "overview":
            at.switch_page(f"app_pages/{page}.py").run()
        for _ in each_section(at, f"app_pages/{page}.py"):
            assert_clean(at)
            open_tables(at)
            for chart in at.get("plotly_chart"):
                key = chart.key.removeprefix("chart-")
                card = at.get_by_key(f"card-{key}")
                frames = card.dataframe
                cards[key] = (frames[0].value if len(frames) else None,
                              json.loads(chart.proto.spec), [c.value for c in card.caption])
    return cards


def _is_blank(v) -> bool:
    return (not v.strip()) if isinstance(v, str) else bool(pd.isna(v))


def _key_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in VALUE_COLUMNS and c != "Counts"]


@pytest.mark.slow  # about a minute: every section of five pages, twice
def test_every_card_says_what_was_done_to_its_numbers(monkeypatch, demo_db):  # noqa: F811
    public = _cards(monkeypatch, demo_db, exact=False)
    exact = _cards(monkeypatch, demo_db, exact=True)
    assert set(public) == set(exact) and len(public) >= 10
    hidden_seen = rounded_seen = 0
    for key, (table, spec, captions) in public.items():
        e_table, e_spec, e_captions = exact[key]
        # The rule beside every card in public mode; nothing of it with exact figures.
        assert any(c.startswith("Privacy rule: ") for c in captions), key
        assert not any("Privacy rule" in c or "rounded" in c for c in e_captions), key
        tips = [t for trace in spec["data"] if trace.get("hoverinfo") != "skip"
                for t in _flat(trace.get("hovertext")) if isinstance(t, str) and t]
        assert all(t.endswith("counts rounded (nearest 5)</i>") for t in tips), key
        assert not any("rounded" in t for trace in e_spec["data"]
                       for t in _flat(trace.get("hovertext")) if isinstance(t, str)), key
        if table is None or "Metric" not in table.columns:
            continue  # a grid of text cells (Compare, cost): the rule caption says it
        keys = _key_columns(table)
        shown = {tuple(r[k] for k in keys): r for _, r in table.iterrows()}
        for _, truth in e_table.iterrows():
            row = shown[tuple(truth[k] for k in keys)]  # every exact row is in the public table
            for col in [c for c in VALUE_COLUMNS if c in e_table.columns]:
                true, cell = truth[col], row.get(col)
                if _is_blank(true):
                    continue
                where = (key, tuple(truth[k] for k in keys), col)
                # A figure the public table does not show is never blank: it gives its reason.
                assert not _is_blank(cell), where
                if isinstance(cell, str) and cell.startswith("hidden ("):
                    hidden_seen += 1
                    continue
                if col in COUNT_COLUMNS:  # a shown count: the published one, marked rounded
                    assert int(cell) == published_count(int(true), VIEWER), where
                    assert row["Counts"] == "rounded (nearest 5)" or (
                        int(cell) == 0 and row["Counts"] == "exact (zero)"), where
                    rounded_seen += 1
        if any(c in table.columns for c in COUNT_COLUMNS):
            assert "Counts" in table.columns and "Counts" not in e_table.columns, key
    assert hidden_seen > 10 and rounded_seen > 100, (hidden_seen, rounded_seen)


def test_compare_table_outside_a_card_has_the_rule_beneath(monkeypatch, demo_db):  # noqa: F811
    public = run_app(monkeypatch, demo_db, "compare", exact=False)
    rules = [c.value for c in public.main.caption if c.value.startswith("Privacy rule: ")]
    # One under the side-by-side table (its cells hold hidden shares), one in the chart card.
    assert len(rules) == 2 and all("Hidden figures read" in r for r in rules)
    exact = run_app(monkeypatch, demo_db, "compare", exact=True)
    assert not [c for c in exact.main.caption if "Privacy rule" in c.value]
