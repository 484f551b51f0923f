"""The Impact page (app_pages/impact.py) through the real router, on the demo cohort.

The demo has one jurisdiction with a year of calls before its launch (Millbrook: launch
15 Apr 2024, calls from Jan 2023, so 15 whole months before and 14 after); the others launched
before the data starts or less than a year into it, and the page must refuse their time
series in words.
"""
from __future__ import annotations

import json

import pytest

from metrics import impact
from metrics.disclosure import VIEWER
from metrics.engine import Filters

from conftest import open_tables
from test_pages import (ANALYST, HIDE, PRESENTER_FONT_SIZE, VIEWER as VIEWER_EMAIL,  # noqa: F401
                        _flat, assert_clean, card_table, demo_db, empty_db, plain, roles_db,
                        run_app, signed_in, sql)

PAGE = "impact"


def _open(monkeypatch, db, query=None, exact=True, outcome=None):
    at = run_app(monkeypatch, db, PAGE, query=query, exact=exact)
    if outcome:  # a page's own bound widget: AppTest keeps only the router's across a switch
        at.session_state["impact_outcome"] = outcome
        # The address holds the option's label, as for every bound widget with format_func.
        at.query_params["impact_outcome"] = {"police_hours": "Police busy hours"}[outcome]
        at.run()
        assert_clean(at)
    return at


def _charts(at) -> list[str]:
    return sorted(c.key for c in at.get("plotly_chart"))


def _warnings(at, key) -> list[str]:
    return [plain(w.value) for w in at.get_by_key(f"card-{key}").warning]


def test_one_jurisdiction_is_asked_for(monkeypatch, demo_db):
    at = _open(monkeypatch, demo_db)
    assert [t.value for t in at.main.title] == ["Is it working? What changed after launch"]
    (info,) = at.main.info
    assert "Choose **one** jurisdiction" in info.value and not _charts(at)
    at = _open(monkeypatch, demo_db, {"j": ["Millbrook", "Riverton"]})
    assert "(2 are chosen now)" in at.main.info[0].value and not _charts(at)


def test_an_empty_database_asks_for_the_calls_export(monkeypatch, empty_db):
    at = _open(monkeypatch, empty_db)
    assert "911/CAD calls export" in at.main.info[0].value and not _charts(at)


def test_millbrook_estimates_are_the_methods_own(monkeypatch, demo_db, sql):
    at = _open(monkeypatch, demo_db, {"j": "Millbrook"})
    assert _charts(at) == ["chart-impact-its", "chart-impact-month", "chart-impact-wdd",
                           "chart-impact-yoy"]
    f = Filters(("Millbrook",))
    its = impact.estimate(sql, "Millbrook", "police_calls", "its", f)
    said = plain(at.get_by_key("card-impact-its").markdown[0].value)
    assert (f"({its.observed_post:,.0f} against {its.expected_post:,.0f} calls; rate ratio "
            f"{its.rate_ratio:.2f}, 95% interval {its.ci_low:.2f}-{its.ci_high:.2f})") in said
    assert f"In the {its.post_months} months after launch" in said
    # The plausibility verdict under the chart is the estimate's.
    implausible = [w for w in _warnings(at, "impact-its") if w.startswith("Implausible")] + [
        plain(w.value) for w in at.main.warning if plain(w.value).startswith("Implausible")]
    assert bool(implausible) is (not its.plausible)
    # The chart: observed months, the model with its band, the launch line.
    spec = json.loads(at.get_by_key("chart-impact-its").proto.spec)
    names = [t.get("name") for t in spec["data"]]
    assert names == ["95% interval of the model", "Model: no program after launch", "Observed"]
    assert ([v for v in _flat(spec["data"][2]["y"]) if v is not None]
            == its.chart["observed"].tolist())
    assert None in _flat(spec["data"][2]["y"])  # the line breaks at launch
    assert spec["layout"]["shapes"][0]["line"]["dash"] == "dot"  # launch
    assert spec["data"][1]["line"]["dash"] == "dash"  # the model differs by style, not colour
    # The month table: one row a month, exact counts (local mode, switched off).
    table = card_table(at, "impact-month")
    months = sql.execute("SELECT count(DISTINCT received_month) FROM calls WHERE jurisdiction "
                         "= 'Millbrook'").fetchone()[0]
    assert len(table) == months == 30
    police = sql.execute(
        "SELECT count(*) FROM calls WHERE jurisdiction = 'Millbrook' AND is_target AND "
        "public_initiated AND responder = 'police' AND received_month = 202301").fetchone()[0]
    assert table.iloc[0]["Handled by police"] == f"{police:,}"
    assert table.iloc[15]["Period"] == "launch month (left out)"
    wdd = plain(at.get_by_key("card-impact-wdd").markdown[0].value)
    assert "Weighted displacement difference" in wdd
    panel = at.get_by_key("impact-caveats")
    text = " ".join(plain(m.value) for m in panel.markdown)
    assert "Before and after is not cause and effect" in text
    assert "Fourier terms" in text and "moved in step" in text


@pytest.mark.parametrize("jurisdiction, its_says, wdd_says, charts", [
    ("Cedar Falls", "this period has 8 before and 21 after", "covers every area around the "
     "clock", ["chart-impact-month", "chart-impact-yoy"]),
    ("Riverton", "before the first month of calls in this period (Jan 2023)",
     "before the first month of calls", ["chart-impact-month"]),
])
def test_too_little_history_is_refused_in_words(monkeypatch, demo_db, jurisdiction, its_says,
                                                wdd_says, charts):
    at = _open(monkeypatch, demo_db, {"j": jurisdiction})
    assert _charts(at) == charts  # the months are still drawn
    assert any(its_says in w for w in _warnings(at, "impact-its"))
    assert any(wdd_says in w for w in _warnings(at, "impact-wdd"))


def test_police_hours(monkeypatch, demo_db, sql):
    at = _open(monkeypatch, demo_db, {"j": "Millbrook"}, outcome="police_hours")
    said = plain(at.get_by_key("card-impact-its").markdown[0].value)
    its = impact.estimate(sql, "Millbrook", "police_hours", "its", Filters(("Millbrook",)))
    assert said.startswith("In the 14 months after launch, police busy hours were")
    assert f"rate ratio {its.rate_ratio:.2f}" in said
    assert any("neither" in plain(m.value) for m in at.get_by_key("impact-caveats").markdown)
    assert any("for counts of calls" in w for w in _warnings(at, "impact-wdd"))


def _number(v) -> float | None:
    try:
        return float(str(v).replace(",", ""))
    except ValueError:
        return None  # words: "hidden (fewer than 11)"


def _counts_shown(at) -> list:
    """Every monthly count the page shows: chart points of counts and the month table."""
    out = []
    month = json.loads(at.get_by_key("chart-impact-month").proto.spec)
    for trace in month["data"]:
        out += [v for v in _flat(trace.get("y")) if v is not None]
    open_tables(at, "impact-month")
    table = card_table(at, "impact-month")
    for col in ("Target-type calls", "Handled by police", "Handled by the team"):
        out += list(table[col])
    return out


def test_public_view_hides_small_months_and_refuses_models_on_them(monkeypatch, demo_db, sql):
    # A corner of Millbrook with small monthly counts: the area outside coverage, one type.
    query = {"j": "Millbrook", "area": "Brookside Township", "cat": "Noise"}
    exact = [_number(v) for v in _counts_shown(_open(monkeypatch, demo_db, query))]
    assert [n for n in exact if n is not None and 1 <= n <= 10], \
        "the control: the exact view has counts from 1 to 10"
    at = _open(monkeypatch, demo_db, query, exact=False)
    shown = _counts_shown(at)
    numbers = [n for n in map(_number, shown) if n is not None]
    assert len(numbers) > 30
    assert all(n == 0 or (n > 10 and n % 5 == 0) for n in numbers), numbers
    assert any(str(v).startswith("hidden (fewer than 11)") for v in shown)
    assert any("hidden to protect privacy" in w for w in _warnings(at, "impact-its"))


def test_public_view_takes_one_category_or_all(monkeypatch, demo_db):
    at = _open(monkeypatch, demo_db, {"j": "Millbrook", "cat": ["Noise", "Trespass"]},
               exact=False)
    assert at.main.error[0].value.startswith("With small counts hidden, a figure covers one "
                                             "jurisdiction (one category, one area)")
    assert not _charts(at)


def test_public_view_of_millbrook_is_from_published_counts(monkeypatch, demo_db, sql):
    at = _open(monkeypatch, demo_db, {"j": "Millbrook"}, exact=False)
    its = impact.estimate(sql, "Millbrook", "police_calls", "its", Filters(("Millbrook",)),
                          VIEWER)
    said = plain(at.get_by_key("card-impact-its").markdown[0].value)
    assert f"({its.observed_post:,.0f} against" in said and its.observed_post % 5 == 0
    assert any("published monthly counts" in plain(m.value)
               for m in at.get_by_key("impact-caveats").markdown)


def test_masked_names_and_months_since_launch(monkeypatch, demo_db):
    at = _open(monkeypatch, demo_db, {"j": "Millbrook", "mask": "true"})
    open_tables(at)
    shown = " ".join([plain(m.value) for m in at.main.markdown]
                     + [c.value for c in at.main.caption]
                     + [c.proto.spec for c in at.get("plotly_chart")]
                     + [d.value.to_csv() for d in at.main.dataframe])
    assert "Millbrook" not in shown and "April 2024" not in shown
    assert "Jurisdiction " in shown
    spec = json.loads(at.get_by_key("chart-impact-its").proto.spec)
    x = _flat(spec["data"][2]["x"])
    # Months since the first whole month after launch (May 2024 = 0), not calendar months:
    # Jan 2023 is -16, Jun 2025 is 13; the launch line sits at 15 April, -1 + 14/30.
    assert x[0] == -16 and x[-1] == 13
    assert spec["layout"]["shapes"][0]["x0"] == pytest.approx(-1 + 14 / 30)
    assert "Months since launch" in card_table(at, "impact-month").columns


def test_presenter_mode(monkeypatch, demo_db):
    at = _open(monkeypatch, demo_db, {"j": "Millbrook", "present": "1"})
    assert at.html  # the presenter stylesheet
    for key in ("impact-month", "impact-its", "impact-yoy", "impact-wdd"):
        chart = at.get_by_key(f"chart-{key}")
        assert json.loads(chart.proto.spec)["layout"]["font"]["size"] == PRESENTER_FONT_SIZE
        assert json.loads(chart.proto.config)["displayModeBar"] is False


@pytest.mark.parametrize("who, public", [(VIEWER_EMAIL, True), (ANALYST, False)])
def test_a_viewer_always_gets_published_figures_an_analyst_may_not(monkeypatch, roles_db, sql,
                                                                   who, public):
    # Both start with "Hide small counts" off: only the analyst of Millbrook may have it so.
    at = signed_in(monkeypatch, roles_db, who, PAGE, query={"j": "Millbrook"},
                   session={HIDE: False})
    f = Filters(("Millbrook",))
    its = impact.estimate(sql, "Millbrook", "police_calls", "its", f, VIEWER if public else None)
    said = plain(at.get_by_key("card-impact-its").markdown[0].value)
    assert f"({its.observed_post:,.0f} against {its.expected_post:,.0f} calls" in said
    exact = impact.estimate(sql, "Millbrook", "police_calls", "its", f)
    assert (its.observed_post != exact.observed_post) is public  # 3,928 is not a multiple of 5
