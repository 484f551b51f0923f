"""AppTest tests of every dashboard page: titles, charts and tiles, and the figures they show.

Each test runs the real router (dashboard.py) in-process with ``AppTest`` against a demo
database built once per session, then compares what the page shows with figures this file
computes itself, with its own SQL on a byte-for-byte copy of the same database (or, for the
registry's derived metrics, with ``metrics.compute``). The copy is needed because one process
can hold a DuckDB file through one configuration only, and the app's cached connection locks
its configuration.

Widgets and cards are found by key (``card-<chart>``, ``chart-<chart>``, ``tile-<id>-<field>``,
the sidebar's ``j`` / ``from`` / ``to``), never by position.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import metrics
from charts.theme import PRESENTER_FONT_SIZE
from data.connection import connect
from data.schema import create_schema
from metrics.registry import REGISTRY
from ui import sections

from conftest import demo_database, each_section, expected_connection, open_tables, show_card

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = str(ROOT / "dashboard.py")
TIMEOUT = 30  # seconds per run: the first run imports plotly and fills the metric cache
HIDE = "privacy_hide"  # the sidebar's "Hide small counts" switch (ui/privacy.py)

TITLES = {
    "overview": "How is the program performing?",
    "reach": "What percentage of eligible calls is the team handling?",
    "on_scene": "What happens on scene?",
    "connections": "Are people being connected to services?",
    "compare": "How do the jurisdictions compare?",
    "data": "Data",
}
# The chart cards each page draws with the demo data (every one has data to draw).
CARDS = {
    "overview": ["funnel", "coverage-trend"],
    "reach": ["b1-month", "b1-hours", "b1-category", "b1-area", "b3-reason", "a4-month"],
    "on_scene": ["outcomes", "transports", "safety", "times", "team-vs-police"],
    "connections": ["referrals", "connected", "connected-j", "repeat"],
    "compare": ["compare"],
}
TILES = ["A1-value", "A3-value", "B1-numerator", "B1-value", "C2-value", "D2-value",
         "E2_30-value"]
# What each page's first-run message asks for (ui/messages.py UPLOAD).
ASKS = {
    "overview": ["911/CAD calls export", "response records", "referral records"],
    "reach": ["911/CAD calls export"],
    "on_scene": ["response records"],
    "connections": ["referral records", "response records"],
    "compare": ["911/CAD calls export", "response records", "referral records"],
}
NAMES = ["Cedar Falls", "Harbor County", "Millbrook", "Port Avalon", "Riverton"]

# Referrals with the latest time in their jurisdiction's referral data (referral or connection).
MATURE = ("WITH r AS (SELECT *, max(greatest(referred_at, coalesce(connected_at, referred_at))) "
          "OVER (PARTITION BY jurisdiction) AS as_of FROM referrals) ")


# --------------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo cohort (seed 0), for the app; a copy of it sits beside it for the checks."""
    return demo_database(tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="session")
def sql(demo_db):
    """A read-only connection to the copy of the demo database: the test's own queries."""
    con = expected_connection(demo_db)
    yield con
    con.close()


@pytest.fixture(scope="session")
def empty_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    con = connect(path)
    create_schema(con)  # the schema only (connect already made it; idempotent)
    con.close()
    return path


def scalar(con, query: str, params=()):
    return con.execute(query, list(params)).fetchone()[0]


def metric(con, mid: str, filters: metrics.Filters = metrics.Filters()) -> metrics.MetricRow:
    (row,) = metrics.compute(con, metrics.MetricRequest((mid,), (), filters))
    return row


def count_calls(con, jurisdictions=(), start: date | None = None, end: date | None = None) -> int:
    """Calls by local receipt day, ``end`` inclusive: the page filters' meaning."""
    return scalar(con, "SELECT count(*) FROM calls WHERE (len(?::VARCHAR[]) = 0 OR "
                       "list_contains(?::VARCHAR[], jurisdiction)) "
                       "AND (?::DATE IS NULL OR received_local >= ?::DATE) "
                       "AND (?::DATE IS NULL OR received_local < ?::DATE + 1)",
                  [list(jurisdictions)] * 2 + [start] * 2 + [end] * 2)


# --------------------------------------------------------------------------------------------
# Running the app
# --------------------------------------------------------------------------------------------

def run_app(monkeypatch, db: Path, page: str = "overview", query: dict | None = None,
            exact: bool = True) -> AppTest:
    """The dashboard on ``db``, opened on ``page`` (the router runs first, as in a browser).

    Local mode. ``exact``: with "Hide small counts" switched off, as a local user may, so that
    the figures can be compared with the test's own SQL; ``exact=False`` leaves the default
    (small counts hidden, counts rounded).
    """
    monkeypatch.setenv("A911_DB", str(db))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if exact:
        at.session_state[HIDE] = False
    at.run()
    if page != "overview":
        at.switch_page(f"app_pages/{page}.py").run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def plain(text: str) -> str:
    """Markdown text without the backslash escapes ui.components.escape adds."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u2060", "")  # and the autolink breaks


def texts(node) -> list[str]:
    return [plain(m.value) for m in node.markdown]


def tile(at: AppTest, key: str):
    """The st.metric of a headline tile, and the captions under it."""
    box = at.get_by_key(f"tile-{key}")
    (m,) = box.metric
    return m, [plain(c.value) for c in box.caption]


def chart_spec(at: AppTest, key: str) -> dict:
    return json.loads(show_card(at, key).get_by_key(f"chart-{key}").proto.spec)


def sentence(at: AppTest, key: str) -> str:
    """The takeaway under a card's title (its section opened first, if the page has them)."""
    return plain(show_card(at, key).get_by_key(f"card-{key}").markdown[0].value)


def card_table(at: AppTest, key: str):
    if not show_card(at, key).get_by_key(f"data-{key}").dataframe:
        open_tables(at, key)
    (df,) = at.get_by_key(f"data-{key}").dataframe
    return df.value


def keys_in(node) -> set:
    return {getattr(e, "key", None) for e in node} - {None}


def main_titles(at: AppTest) -> list[str]:
    return [t.value for t in at.main.title]


# --------------------------------------------------------------------------------------------
# Every analysis page: title, cards, takeaways, data tables
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", list(CARDS))
def test_page_draws_its_cards(monkeypatch, demo_db, page):
    at = run_app(monkeypatch, demo_db, page)
    assert main_titles(at) == [TITLES[page]]
    drawn = []
    for label in each_section(at, f"app_pages/{page}.py"):
        assert_clean(at)
        assert not at.error and not at.main.info  # no empty states with the demo data
        # A page with sections draws only the open one's cards (ui/sections.py).
        cards = (sections.BY_PAGE[f"app_pages/{page}.py"].cards[label] if label
                 else CARDS[page])
        charts = at.get("plotly_chart")
        assert sorted(c.key for c in charts) == sorted(f"chart-{k}" for k in cards), label
        for key in cards:
            card = at.get_by_key(f"card-{key}")
            assert f"chart-{key}" in keys_in(card)
            said = sentence(at, key)
            assert said.endswith(".") and len(said) > 20, said  # a computed takeaway sentence
            assert not said.startswith("No "), said
            table = card_table(at, key)
            assert len(table) > 0
            download = at.get_by_key(f"download-{key}")
            assert download.proto.label == "Download CSV"
        drawn += cards
    assert sorted(drawn) == sorted(CARDS[page])  # the sections draw every card once
    if page == "overview":
        assert sorted(k for k in keys_in(at.main) if k.startswith("tile-")) == sorted(
            f"tile-{t}" for t in TILES)
    else:
        assert not at.metric


def test_sections_run_only_the_open_tab_and_follow_the_address(monkeypatch, demo_db):
    """Reach opens on its first section; ?reach_view= opens another, as a copied link does,
    and only that one's cards (and requests) run."""
    import ui.cache

    at = run_app(monkeypatch, demo_db, "reach")
    tabs = at.get_by_key("reach_view")
    assert [t.label for t in tabs.tabs] == sections.REACH.labels
    assert sorted(c.key for c in at.get("plotly_chart")) == ["chart-b1-month"]
    asked = []
    real = ui.cache.compute
    monkeypatch.setattr(ui.cache, "compute", lambda request, *a, **k: (
        asked.append(request.by), real(request, *a, **k))[1])
    at = run_app(monkeypatch, demo_db, "reach", query={"reach_view": "Calls missed"})
    assert sorted(c.key for c in at.get("plotly_chart")) == ["chart-a4-month",
                                                              "chart-b3-reason"]
    assert ("month",) in asked  # the open section's requests are seen ...
    assert ("weekday_hour",) not in asked and ("area",) not in asked  # ... and only those
    assert at.query_params["reach_view"] == "Calls missed"


# --------------------------------------------------------------------------------------------
# Overview
# --------------------------------------------------------------------------------------------

def test_rounded_tiles_say_so_where_they_are_shown(monkeypatch, demo_db, sql):
    """Small counts hidden (the default): a count on a tile is rounded, and says so on the
    tile; a share says its counts are; exact figures (the switch off) say nothing of it."""
    at = run_app(monkeypatch, demo_db, exact=False)
    calls = scalar(sql, "SELECT count(*) FROM calls")
    m, notes = tile(at, "A1-value")
    assert m.value == f"{(calls + 2) // 5 * 5:,}"  # to the nearest 5 (halves up)
    assert notes == ["rounded (nearest 5)"]
    m, notes = tile(at, "B1-value")
    assert " of " in notes[0] and notes[0].endswith("; counts rounded (nearest 5)")
    exact = run_app(monkeypatch, demo_db)
    assert tile(exact, "A1-value")[1] == []


def test_overview_tiles_match_the_database(monkeypatch, demo_db, sql):
    at = run_app(monkeypatch, demo_db)
    calls = scalar(sql, "SELECT count(*) FROM calls")
    b1 = metric(sql, "B1")
    a3 = metric(sql, "A3")
    assert b1.denominator == a3.value  # coverage rests on the eligible calls

    m, _ = tile(at, "A1-value")
    assert (m.label, m.value) == ("Calls for service", f"{calls:,}")
    assert tile(at, "A3-value")[0].value == f"{int(a3.value):,}"
    m, notes = tile(at, "B1-numerator")
    assert (m.label, m.value) == ("Handled by the team", f"{int(b1.numerator):,}")
    m, notes = tile(at, "B1-value")
    assert (m.label, m.value) == ("Coverage of eligible calls", f"{b1.value:.1%}")
    assert notes == [f"{int(b1.numerator):,} of {int(b1.denominator):,}"]

    # Police back-up: share of responses with back-up recorded.
    backup, known = sql.execute("SELECT count(*) FILTER (WHERE police_backup), "
                                "count(police_backup) FROM responses").fetchone()
    m, notes = tile(at, "D2-value")
    assert m.value == f"{backup / known:.1%}"
    assert notes == [f"{backup:,} of {known:,}"]

    # Connected to care within 30 days, over referrals made 30+ days before the jurisdiction's
    # latest referral data (younger ones cannot have connected yet).
    made, connected = sql.execute(
        MATURE + "SELECT count(*), count(*) FILTER (WHERE status = 'connected' AND "
        "connected_at <= referred_at + INTERVAL 30 DAY) FROM r "
        "WHERE referred_at <= as_of - INTERVAL 30 DAY").fetchone()
    m, notes = tile(at, "E2_30-value")
    assert m.value == f"{connected / made:.1%}"
    assert notes == [f"{connected:,} of {made:,}"]

    # Median team response: request received (the linked call's, else the team's) to on scene.
    median, timed = sql.execute(
        "WITH t AS (SELECT epoch(arrived_at - coalesce(call_received_at, requested_at)) / 60.0 "
        "AS m FROM responses) SELECT quantile_cont(m, 0.5), count(*) FROM t WHERE m >= 0"
    ).fetchone()
    m, notes = tile(at, "C2-value")
    assert m.value == f"{median:,.1f} min"
    assert notes[0].endswith(f"; {timed:,} timed")

    # The whole period: no change to show, and the page says how to get one.
    assert all(not tile(at, t)[0].delta for t in TILES)
    assert any("previous period" in c.value for c in at.main.caption)

    # The funnel: all calls, target types, eligible, team responded, contact, resolved.
    bars = chart_spec(at, "funnel")["data"][0]["x"]
    assert bars[0] == calls and bars[2] == a3.value and bars[3] == b1.numerator
    assert bars[0] >= bars[1] >= bars[2] >= bars[3]
    assert sentence(at, "funnel") == (
        f"Of {calls:,} calls, {int(a3.value):,} were eligible for the team and it responded to "
        f"{int(b1.numerator):,} of them ({b1.value:.1%}).")
    trend = {t["name"] for t in chart_spec(at, "coverage-trend")["data"] if t.get("name")}
    assert set(NAMES) <= trend


def test_jurisdiction_filter_changes_the_tiles_and_follows_page_switches(monkeypatch, demo_db,
                                                                         sql):
    at = run_app(monkeypatch, demo_db)
    chooser = at.multiselect(key="j")
    assert chooser.options == NAMES and chooser.value == []
    chooser.set_value(["Millbrook"]).run()
    assert_clean(at)
    only = metrics.Filters(jurisdictions=("Millbrook",))
    b1 = metric(sql, "B1", only)
    assert tile(at, "A1-value")[0].value == f"{count_calls(sql, ['Millbrook']):,}"
    assert tile(at, "B1-value")[0].value == f"{b1.value:.1%}"
    assert tile(at, "B1-numerator")[0].value == f"{int(b1.numerator):,}"
    assert count_calls(sql, ["Millbrook"]) < scalar(sql, "SELECT count(*) FROM calls")
    names = {t["name"] for t in chart_spec(at, "coverage-trend")["data"] if t.get("name")}
    assert "Millbrook" in names and not names & (set(NAMES) - {"Millbrook"})

    # The sidebar belongs to the router: the choice holds on the next page.
    at.switch_page("app_pages/reach.py").run()
    assert_clean(at)
    assert at.multiselect(key="j").value == ["Millbrook"]
    unserved = int(b1.denominator - b1.numerator)
    assert f"({unserved:,} of {int(b1.denominator):,})" in sentence(at, "b3-reason")


def test_period_filter_and_change_against_the_previous_period(monkeypatch, demo_db, sql):
    at = run_app(monkeypatch, demo_db)
    first, last = date(2023, 1, 1), date(2025, 6, 30)  # the demo's window
    assert (at.date_input(key="from").value, at.date_input(key="to").value) == (first, last)
    start = date(2025, 1, 1)
    at.date_input(key="from").set_value(start).run()
    assert_clean(at)
    days = (last - start).days + 1
    now = count_calls(sql, (), start, last)
    before = count_calls(sql, (), start - timedelta(days=days), start - timedelta(days=1))
    m, _ = tile(at, "A1-value")
    assert m.value == f"{now:,}"
    assert m.delta == f"{(now - before) / before:+.1%}"
    assert m.proto.delta_description == f"vs previous {days} days"
    b1 = metric(sql, "B1", metrics.Filters(date_from=start, date_to=last))
    assert tile(at, "B1-value")[0].value == f"{b1.value:.1%}"
    assert not any("previous period" in c.value for c in at.main.caption)

    # 'From' after 'To': a sentence, and the whole period again.
    at.date_input(key="to").set_value(date(2024, 12, 31)).run()
    assert_clean(at)
    assert any("'From' is after 'To'" in e.value for e in at.sidebar.error)
    assert tile(at, "A1-value")[0].value == f"{scalar(sql, 'SELECT count(*) FROM calls'):,}"


def test_filters_come_from_the_url(monkeypatch, demo_db, sql):
    chosen, start, end = ["Riverton", "Port Avalon"], date(2025, 1, 1), date(2025, 3, 31)
    at = run_app(monkeypatch, demo_db, query={"j": chosen, "from": start.isoformat(),
                                             "to": end.isoformat()})
    assert at.multiselect(key="j").value == chosen
    assert at.date_input(key="from").value == start and at.date_input(key="to").value == end
    assert tile(at, "A1-value")[0].value == f"{count_calls(sql, chosen, start, end):,}"
    b1 = metric(sql, "B1", metrics.Filters(jurisdictions=tuple(chosen), date_from=start,
                                           date_to=end))
    assert tile(at, "B1-value")[0].value == f"{b1.value:.1%}"


# --------------------------------------------------------------------------------------------
# Reach, On scene, Connections
# --------------------------------------------------------------------------------------------

def test_reach_figures(monkeypatch, demo_db, sql):
    at = run_app(monkeypatch, demo_db, "reach")
    b1, b3, a4 = metric(sql, "B1"), metric(sql, "B3"), metric(sql, "A4")
    unserved = int(b1.denominator - b1.numerator)
    assert b3.numerator == unserved
    assert sentence(at, "b3-reason").startswith(
        f"{b3.value:.1%} of eligible calls ({unserved:,} of {int(b1.denominator):,})")
    assert sentence(at, "a4-month").startswith(f"{int(a4.value):,} out-of-hours")
    # The monthly and per-category tables add up to the whole.
    month = card_table(at, "b1-month")
    assert month["Numerator"].sum() == b1.numerator
    assert month["Denominator"].sum() == b1.denominator
    categories = card_table(at, "b1-category")
    assert categories["Denominator"].sum() == b1.denominator
    reasons = card_table(at, "b3-reason")
    assert reasons.select_dtypes("number").iloc[:, 0].sum() == unserved


def test_a_cards_table_is_drawn_once_opened(monkeypatch, demo_db):
    """Tables and downloads wait for "Show data": a page's first drawing has none of them."""
    at = run_app(monkeypatch, demo_db, "reach", query={"reach_view": "By category and area"})
    cards = [e.key for e in at.expander if (e.key or "").startswith("show-data-")]
    own = [b for b in at.get("download_button") if b.key != "download-brief"]  # the page's
    assert len(cards) == 2 and not at.main.dataframe and not own
    open_tables(at, "b1-category")
    assert_clean(at)
    (table,) = at.main.dataframe
    assert "Numerator" in table.value.columns
    assert [b.key for b in at.get("download_button") if b.key != "download-brief"] == [
        "download-b1-category", "image-b1-category"]
    assert len(at.get("plotly_chart")) == 2  # the rest of the section is drawn as before


def test_on_scene_counts_every_response(monkeypatch, demo_db, sql):
    at = run_app(monkeypatch, demo_db, "on_scene")
    total = scalar(sql, "SELECT count(*) FROM responses")
    top, n = sql.execute("SELECT outcome, count(*) FROM responses GROUP BY 1 "
                         "ORDER BY 2 DESC LIMIT 1").fetchone()
    assert sentence(at, "outcomes") == (
        f"The largest group of team responses is {top.replace('_', ' ')}: "
        f"{n:,} of {total:,} ({n / total:.1%}).")
    outcomes = card_table(at, "outcomes")
    assert outcomes.select_dtypes("number").iloc[:, 0].sum() == total
    times = card_table(at, "times")
    assert set(times["Jurisdiction"]) == set(NAMES)


def test_a_filter_that_cannot_apply_says_so(monkeypatch, demo_db):
    # A bound multiselect keeps its options' labels in the address (format_func).
    at = run_app(monkeypatch, demo_db, "on_scene", query={"cat": "Mental health"})
    assert at.multiselect(key="cat").value == ["MENTAL_HEALTH"]
    assert any("call category filter does not apply to responses" in c.value
               for c in at.main.caption)


def test_connections_figures(monkeypatch, demo_db, sql):
    at = run_app(monkeypatch, demo_db, "connections")
    counts = {}
    for days in (30, 90):
        counts[days] = sql.execute(
            MATURE + f"SELECT count(*), count(*) FILTER (WHERE status = 'connected' AND "
            f"connected_at <= referred_at + INTERVAL {days} DAY) FROM r "
            f"WHERE referred_at <= as_of - INTERVAL {days} DAY").fetchone()
    (old30, in30), (old90, in90) = counts[30], counts[90]
    assert sentence(at, "connected") == (
        f"Of {old30:,} referrals made 30 days or more before the latest data, {in30:,} "
        f"({in30 / old30:.1%}) connected within 30 days; of {old90:,} made 90 days or more "
        f"before, {in90:,} ({in90 / old90:.1%}) within 90 days.")
    made = sql.execute("SELECT count(*) FROM referrals").fetchone()[0]
    top, n = sql.execute("SELECT service_type, count(*) FROM referrals GROUP BY 1 "
                         "ORDER BY 2 DESC LIMIT 1").fetchone()
    assert sentence(at, "referrals").endswith(f": {n:,} of {made:,} ({n / made:.1%}).")
    assert top.replace("_", " ") in sentence(at, "referrals")
    people = dict(sql.execute("SELECT jurisdiction, count(DISTINCT person_key) FROM responses "
                              "GROUP BY 1").fetchall())
    repeat = card_table(at, "repeat")
    served = repeat[repeat["Metric"] == metrics.BY_ID["F1"].label]
    assert dict(zip(served["Jurisdiction"], served["Value"])) == people


# --------------------------------------------------------------------------------------------
# Compare
# --------------------------------------------------------------------------------------------

def side_by_side(at: AppTest):
    """The comparison table: the page's one static table (the chart card's is a dataframe),
    as read: st.table renders each cell as Markdown, so the page escapes them (issue 27)."""
    (table,) = at.main.table
    shown = table.value.rename(columns=lambda c: plain(c) if isinstance(c, str) else c)
    return shown.apply(lambda col: col.map(lambda v: plain(v) if isinstance(v, str) else v))


def test_compare_side_by_side(monkeypatch, demo_db, sql):
    at = run_app(monkeypatch, demo_db, "compare")
    table = side_by_side(at).set_index("Measure")
    assert list(table.columns) == NAMES
    by_j = {r.group["jurisdiction"]: r for r in metrics.compute(
        sql, metrics.MetricRequest(("B1",), ("jurisdiction",)))}
    per_1000 = dict(sql.execute(
        "SELECT j.jurisdiction, count(*) * 1000.0 / j.population FROM calls c "
        "JOIN jurisdictions j USING (jurisdiction) GROUP BY j.jurisdiction, j.population"
    ).fetchall())
    launches = dict(sql.execute("SELECT jurisdiction, launch_date FROM jurisdictions").fetchall())
    for name in NAMES:
        r = by_j[name]
        assert table.loc["Coverage (B1)", name] == (
            f"{r.value:.1%} ({int(r.numerator):,} of {int(r.denominator):,})")
        assert table.loc["Calls /1,000 residents", name] == f"{per_1000[name]:,.1f}"
        assert table.loc["Program launch", name] == launches[name].isoformat()

    # The chosen jurisdictions only.
    at.multiselect(key="j").set_value(["Millbrook", "Riverton"]).run()
    assert_clean(at)
    assert list(side_by_side(at).columns) == ["Measure", "Millbrook", "Riverton"]


def test_compare_cell_of_a_hidden_share_gives_its_reason_once():
    from charts.frames import HIDDEN, side_by_side as table_of

    d2 = metrics.BY_ID["D2"]
    df = pd.DataFrame([
        {"metric": "D2", "jurisdiction": "A", "value": 0.018, "numerator": 30.0,
         "denominator": 1710.0, "reliability": "ok", HIDDEN: {}},
        {"metric": "D2", "jurisdiction": "B", "value": None, "numerator": None,
         "denominator": 2930.0, "reliability": "ok",
         HIDDEN: {"value": "hidden (built on a hidden count)", "numerator": "hidden (fewer "
                  "than 11)"}}])
    row = table_of(df, [d2], {}).set_index("Measure").loc[d2.label]
    assert row["A"] == "1.8% (30 of 1,710)"
    assert row["B"] == "hidden (built on a hidden count), of 2,930"


def test_compare_masks_peer_names(monkeypatch, demo_db):
    at = run_app(monkeypatch, demo_db, "compare")
    at.selectbox(key="own").select("Riverton").run()
    at.toggle(key="mask").set_value(True).run()
    assert_clean(at)
    table = side_by_side(at)
    assert list(table.columns) == ["Measure", "Riverton", "Jurisdiction A", "Jurisdiction B",
                                   "Jurisdiction C", "Jurisdiction D"]
    assert all(re.fullmatch(r"\d{4}", v) for v in table.iloc[0, 1:])  # launch years only
    open_tables(at)
    shown = " ".join(texts(at.main) + [c.value for c in at.main.caption]
                     + [at.get_by_key("chart-compare").proto.spec]
                     + [d.value.to_csv() for d in at.main.dataframe])
    assert "Riverton" in shown
    for peer in set(NAMES) - {"Riverton"}:
        assert peer not in shown, peer


# --------------------------------------------------------------------------------------------
# Presenter mode
# --------------------------------------------------------------------------------------------

@pytest.mark.slow  # over 10 s: left out of make test-fast
def test_masking_holds_on_every_page(monkeypatch, demo_db):
    """A presenter who masks peers on one page must not unmask them by switching page."""
    at = run_app(monkeypatch, demo_db, "overview", query={"own": "Riverton", "mask": "true"})
    for page in ("overview", "reach", "on_scene", "connections", "compare"):
        at.switch_page(f"app_pages/{page}.py").run()
        for section in each_section(at, f"app_pages/{page}.py"):
            open_tables(at)
            assert_clean(at)
            shown = " ".join(texts(at.main) + [c.value for c in at.main.caption]
                             + [c.proto.spec for c in at.get("plotly_chart")]
                             + [d.value.to_csv() for d in at.main.dataframe])
            for peer in set(NAMES) - {"Riverton"}:
                assert peer not in shown, (page, section, peer)
    assert "Jurisdiction A" in shown and "Riverton" in shown


def test_presenter_mode_from_the_url(monkeypatch, demo_db):
    side_by_side = {"reach_view": "By category and area"}
    normal = run_app(monkeypatch, demo_db, "reach", query=side_by_side)
    assert not normal.html and not normal.toggle(key="present").value
    with pytest.raises(KeyError):
        normal.get_by_key("leave-presenter")
    # Side by side: category and area share a row.
    assert len(normal.main.columns) == 2
    assert any({"card-b1-category"} <= keys_in(c) for c in normal.main.columns)
    assert json.loads(normal.get_by_key("chart-b1-area").proto.config)["displayModeBar"] == "hover"

    at = run_app(monkeypatch, demo_db, "reach", query={"present": "1", **side_by_side})
    assert at.toggle(key="present").value
    (style,) = at.html
    for hidden in ('[data-testid="stSidebar"]', '[class*="st-key-controls"]',
                   '[class*="st-key-data-"]'):
        assert hidden in style.value  # sidebar, controls and "Show data" are not shown
    for section in each_section(at, "app_pages/reach.py"):
        assert not at.main.columns  # one chart per screen width
        cards = sections.REACH.cards[section]
        assert set(f"card-{k}" for k in cards) <= keys_in(at.main)
        for key in cards:
            spec = json.loads(at.get_by_key(f"chart-{key}").proto.spec)
            assert spec["layout"]["font"]["size"] == PRESENTER_FONT_SIZE
            assert json.loads(at.get_by_key(f"chart-{key}").proto.config)["displayModeBar"] is False

    # The peer controls sit in the (hidden) sidebar; the mode survives a page switch.
    at.switch_page("app_pages/compare.py").run()
    assert_clean(at)
    assert {"own", "mask"} <= keys_in(at.sidebar)
    assert at.html  # still on after a page switch

    at.button(key="leave-presenter").click().run()
    assert_clean(at)
    assert not at.toggle(key="present").value and not at.html
    assert "present" not in at.query_params


# --------------------------------------------------------------------------------------------
# Data and Methodology
# --------------------------------------------------------------------------------------------

def test_data_page_tabs(monkeypatch, demo_db, sql):
    at = run_app(monkeypatch, demo_db, "data")
    assert main_titles(at) == ["Data"]
    tabs = at.get_by_key("data_tab")
    assert [t.label for t in tabs.tabs] == ["Import a file", "Import history",
                                           "Call-type crosswalk", "Data quality",
                                           "Program costs"]
    # Import: the wizard's first steps and the file drop.
    assert [s.value for s in at.main.header][:2] == ["1. What are you importing?",
                                                        "2. Choose the export"]
    assert at.get("file_uploader")

    # History: one row per demo import, each with its Undo button.
    at.session_state["data_tab"] = "Import history"
    at.run()
    assert_clean(at)
    imports = sql.execute("SELECT import_id, file_name, rows_read FROM imports "
                          "WHERE status = 'committed' ORDER BY 1").fetchall()
    assert len(imports) == 20
    shown = texts(at.main)
    for import_id, file_name, rows_read in imports:
        assert at.get_by_key(f"history_undo_{import_id}").proto.label == "Undo"
        assert file_name in shown
        assert f"{rows_read:,} read, {rows_read:,} new" in shown
    with pytest.raises(KeyError):
        at.get_by_key("history_undo_21")

    # Crosswalk: a jurisdiction's call types, and the share of its calls left unmapped.
    at.session_state["data_tab"] = "Call-type crosswalk"
    at.run()
    assert_clean(at)
    assert at.selectbox(key="crosswalk_jur").options == NAMES
    at.selectbox(key="crosswalk_jur").select("Riverton").run()
    assert_clean(at)
    unmapped, calls = sql.execute(
        "SELECT count(*) FILTER (WHERE cw.category IS NULL AND c.category IS NULL), count(*) "
        "FROM calls c LEFT JOIN crosswalk cw USING (jurisdiction, call_type) "
        "WHERE jurisdiction = 'Riverton'").fetchone()
    (share,) = at.main.metric
    assert share.value == f"{unmapped / calls:.1%}" and unmapped > 0  # the demo leaves some out
    types = scalar(sql, "SELECT count(*) FROM (SELECT call_type FROM calls WHERE jurisdiction "
                        "= 'Riverton' UNION SELECT call_type FROM crosswalk WHERE "
                        "jurisdiction = 'Riverton')")
    (editor,) = at.data_editor
    assert len(editor.value) == types and editor.value["calls"].sum() == calls

    # Quality: one row per jurisdiction with its calls and responses.
    at.session_state["data_tab"] = "Data quality"
    at.run()
    assert_clean(at)
    (quality,) = [d.value for d in at.main.dataframe if "unmapped_share" in d.value.columns]
    expected = dict(sql.execute("SELECT jurisdiction, count(*) FROM calls GROUP BY 1").fetchall())
    assert dict(zip(quality["jurisdiction"], quality["calls"])) == expected
    responses = dict(sql.execute("SELECT jurisdiction, count(*) FROM responses GROUP BY 1"
                                 ).fetchall())
    assert dict(zip(quality["jurisdiction"], quality["responses"])) == responses


def test_data_tab_deep_link(monkeypatch, demo_db):
    at = run_app(monkeypatch, demo_db, "data", query={"data_tab": "Data quality"})
    assert any("unmapped_share" in d.value.columns for d in at.main.dataframe)
    assert not at.get("file_uploader")  # the lazy tabs run only the open one


def test_methodology_lists_every_metric(monkeypatch, demo_db):
    at = run_app(monkeypatch, demo_db, "methodology")
    (doc,) = at.main.markdown
    assert doc.value.startswith("# Metric definitions")
    for m in REGISTRY:
        assert m.id in doc.value and m.label in doc.value, m.id
    assert not at.get("plotly_chart") and not at.error


def test_a_chart_page_first_sends_the_chart_library_once_per_tab(monkeypatch, demo_db):
    """ui/preload.py: the first chart page of a session sends a tiny chart before anything else
    (the browser starts loading Plotly beside the queries) and removes it when the run ends; a
    page without charts sends none, and later pages none (the tab has Plotly)."""
    from ui import preload

    monkeypatch.setenv("A911_DB", str(demo_db))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)
    at.switch_page("app_pages/methodology.py").run()
    assert preload.SENT not in at.session_state
    at.switch_page("app_pages/equity.py").run()
    assert not at.exception
    assert at.session_state[preload.SENT]
    assert not at.sidebar.get("plotly_chart")  # removed: only the page's own charts remain
    assert len(at.main.get("plotly_chart")) == len(at.get("plotly_chart")) > 0
    sent = [box for box in at.sidebar if box.type == "empty"]
    assert len(sent) == 1  # where the tiny chart was, emptied
    at.switch_page("app_pages/overview.py").run()
    assert not [box for box in at.sidebar if box.type == "empty"]  # not sent again


# --------------------------------------------------------------------------------------------
# Empty database, unreadable database, and the cache across databases
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("page", list(ASKS))
def test_empty_database_explains_what_to_upload(monkeypatch, empty_db, page):
    at = run_app(monkeypatch, empty_db, page)
    assert main_titles(at) == [TITLES[page]]
    (message,) = at.main.info
    assert message.value.startswith("No data to show yet. Upload")
    asked = message.value.split(" on the Data page")[0]
    assert [w for w in ASKS[page] if w in asked] == ASKS[page]
    assert asked.count(" or the team's ") == len(ASKS[page]) - 1  # any one of them will do
    assert "Data page" in message.value
    assert [p.value for p in at.main.page_link] == ["Go to the Data page"]
    assert not at.main.get("plotly_chart") and not at.metric and not at.error
    # The page stopped early: the hidden chart that starts the browser's chart library
    # (ui/preload.py) could not be removed by this run; nothing else is drawn outside the page.
    assert [c.key for c in at.sidebar.get("plotly_chart")] in (
        [], ["plotly-preload-figure"]), page
    assert "Filters appear once data is loaded." in [c.value for c in at.sidebar.caption]


def test_empty_database_data_page(monkeypatch, empty_db):
    at = run_app(monkeypatch, empty_db, "data")
    assert main_titles(at) == ["Data"]
    assert at.get("file_uploader")  # the way in is open
    expected = {"Import history": "Nothing has been imported yet",
                "Call-type crosswalk": "No jurisdiction yet: import a calls export first",
                "Data quality": "No data yet"}
    for tab, text in expected.items():
        at.session_state["data_tab"] = tab
        at.run()
        assert_clean(at)
        (message,) = at.main.info
        assert message.value.startswith(text), (tab, message.value)
    at.switch_page("app_pages/methodology.py").run()
    assert_clean(at)
    assert at.main.markdown[0].value.startswith("# Metric definitions")


def test_cache_follows_the_database(monkeypatch, demo_db, empty_db, sql):
    """The cached connection and results are per database file: nothing leaks across."""
    calls = f"{scalar(sql, 'SELECT count(*) FROM calls'):,}"
    assert tile(run_app(monkeypatch, demo_db), "A1-value")[0].value == calls
    empty = run_app(monkeypatch, empty_db)
    assert not empty.metric and empty.main.info
    assert tile(run_app(monkeypatch, demo_db), "A1-value")[0].value == calls


def test_unreadable_database_is_a_sentence(monkeypatch, tmp_path):
    junk = tmp_path / "not-a-database.duckdb"
    junk.write_text("these are not the bytes of a DuckDB file\n" * 50)
    monkeypatch.setenv("A911_DB", str(junk))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT).run()
    assert_clean(at)
    (error,) = at.error
    assert error.value.startswith("The database file could not be read.")


def test_database_held_by_another_program_is_a_sentence(monkeypatch, tmp_path):
    """E.g. a command-line import running when the dashboard starts: DuckDB's file lock."""
    path = tmp_path / "busy.duckdb"
    connect(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('holding', flush=True); sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        monkeypatch.setenv("A911_DB", str(path))
        at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT).run()
        assert_clean(at)
        (error,) = at.error
        assert error.value.startswith("Another program (such as a command-line import) is "
                                      "using the database file.")
    finally:
        holder.communicate("", timeout=10)  # closing its stdin lets it exit


# --------------------------------------------------------------------------------------------
# Disclosure control: small counts hidden by default, everywhere a figure is shown
# --------------------------------------------------------------------------------------------
# What "a count in a count position" is, for the scans below (each a place a record count is
# printed; a hidden one must never hold a number from 1 to 10):
# - tables (every card's "Show data" table and the page's other tables, and the CSV built from
#   them): the count columns, and the Value of a count metric;
# - headline tiles: the count tiles' values, and the "n of N" / "n timed" under a rate;
# - chart specs: every number of a data array whose numbers are all whole (a count series:
#   shares, minutes and rates are not whole), every bar label that is a whole number, and in
#   tooltips and sentences the numbers in the COUNT_PATTERNS below.
# A hidden figure is words ("hidden (fewer than 11)"), so it holds no such number.

SMALL = range(1, 11)
_N = r"(\d{1,3}(?:,\d{3})+|\d+)"
_GROUPS = r"(?! (?:jurisdictions?|areas?|months?|groups?|categor(?:y|ies)|weekday-hours))"
COUNT_PATTERNS = [re.compile(p) for p in (
    rf"(?<![\d.,]){_N} of {_N}(?![\d.,%]){_GROUPS}",           # "220 of 335", "9 of 1,240"
    rf"(?<![\d.,]){_N} [^<>\d]*?<br>of {_N}(?![\d.,%])",        # tooltip: "9 calls<br>of 335"
    rf"median of {_N} timed", rf"(?<![\d.,]){_N} timed",        # durations
    rf"(?<![\d.,]){_N} records without both times",
    rf"</b>: {_N}(?:<br>|$)",                                   # funnel tooltip
    rf": {_N} (?:calls|referrals|responses|people|team responses)(?:<br>|$)",  # a count's value
    rf"\({_N}\)",                                               # "most common reason: x (85)"
    rf"(?<![\d.,]){_N} (?:calls|were eligible|of them|referrals|out-of-hours)",  # sentences
    rf"in one month: {_N},",
)]
COUNT_COLUMNS = {"Numerator", "Denominator", "Records timed", "Records without both times",
                 "Events"}
COUNT_KINDS = {m.label for m in REGISTRY if m.kind in ("count", "distinct")} | {
    metrics.count_metric(k).label for k in ("responses", "calls_eligible_not_served")}
COUNT_TILES = ["A1-value", "A3-value", "B1-numerator"]


def _number(text) -> int | None:
    text = str(text).strip().replace(",", "")
    return int(text) if re.fullmatch(r"\d+", text) else None


class Scan:
    """Every count found in a count position, and those from 1 to 10 (with where)."""

    def __init__(self):
        self.seen, self.small = 0, []

    def count(self, where: str, value) -> None:
        if value is None or (isinstance(value, float) and value != value):
            return
        n = value if isinstance(value, int) else _number(value)
        if n is None and isinstance(value, float) and value.is_integer():
            n = int(value)
        if n is None:
            return
        self.seen += 1
        if n in SMALL:
            self.small.append((where, n))

    def text(self, where: str, text) -> None:
        if not isinstance(text, str):
            return
        for pattern in COUNT_PATTERNS:
            for match in pattern.finditer(plain(text)):
                for group in match.groups():
                    self.count(f"{where}: {match.group(0)!r}", group)

    def table(self, where: str, df) -> None:
        for col in df.columns:
            if col in COUNT_COLUMNS:
                for v in df[col]:
                    self.count(f"{where}[{col}]", v)
        if "Value" in df.columns and "Metric" in df.columns:
            for label, v in zip(df["Metric"], df["Value"]):
                if label in COUNT_KINDS:
                    self.count(f"{where}[Value of {label}]", v)
        for v in df.astype(str).to_numpy().ravel():  # "(12 of 1,240)" cells (Compare)
            self.text(where, v)

    def csv(self, where: str, data: bytes) -> None:
        import io

        import pandas as pd

        self.table(where, pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str))

    def spec(self, where: str, spec: dict) -> None:
        for i, trace in enumerate(spec["data"]):
            for axis in ("x", "y", "z"):
                values = _flat(trace.get(axis))
                numbers = [v for v in values if isinstance(v, (int, float))
                           and not isinstance(v, bool)]
                if numbers and all(float(v).is_integer() for v in numbers):
                    for v in numbers:
                        self.count(f"{where} trace {i} {axis}", int(v))
            for label in _flat(trace.get("text")):
                if isinstance(label, str):
                    self.count(f"{where} trace {i} label", label)
            for tip in _flat(trace.get("hovertext")):
                if isinstance(tip, str):
                    self.text(f"{where} trace {i} tooltip", tip)


def _flat(values) -> list:
    """The values of a spec array: a list, or Plotly's typed array {dtype, bdata[, shape]}."""
    if isinstance(values, dict) and "bdata" in values:
        import base64

        import numpy as np

        array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        return [None if v != v else v for v in array.ravel().tolist()]  # NaN: nothing drawn
    if values is None or isinstance(values, (str, int, float, dict)):
        return [values] if isinstance(values, (str, int, float)) else []
    out = []
    for v in values:
        out.extend(_flat(v) if isinstance(v, list) else [v])
    return out


def scan_page(at: AppTest, scan: Scan, page: str) -> None:
    from ui.export import safe_csv

    open_tables(at)
    for chart in at.get("plotly_chart"):
        scan.spec(f"{page} {chart.key}", json.loads(chart.proto.spec))
    for df in at.main.dataframe:
        scan.table(f"{page} table", df.value)
        scan.csv(f"{page} CSV", safe_csv(df.value))  # what the download button returns
    for m in at.main.markdown:
        scan.text(f"{page} text", m.value)
    for c in at.main.caption:
        scan.text(f"{page} caption", c.value)
    for key in COUNT_TILES:
        try:
            m, notes = tile(at, key)
        except KeyError:
            continue
        scan.count(f"{page} tile {key}", m.value)
    for m in at.main.metric:
        scan.text(f"{page} tile {m.label}", f"{m.value} {m.proto.body}")
    for c in [c for k in TILES for c in _tile_captions(at, k)]:
        scan.text(f"{page} tile caption", c)


def _tile_captions(at, key) -> list[str]:
    try:
        return tile(at, key)[1]
    except KeyError:
        return []


ANALYSIS = ["overview", "reach", "on_scene", "connections", "compare", "equity"]
# Small counts exist in the demo for the whole cohort (arrests, repeat contacts) and many more
# for one jurisdiction in one month.
SELECTIONS = {"cohort": {}, "Millbrook, June 2025": {"j": "Millbrook", "from": "2025-06-01",
                                                     "to": "2025-06-30"}}


def scan_pages(monkeypatch, db, query, exact: bool) -> Scan:
    scan = Scan()
    at = run_app(monkeypatch, db, "overview", query=query, exact=exact)
    for page in ANALYSIS:
        if page != "overview":
            at.switch_page(f"app_pages/{page}.py").run()
        for section in each_section(at, f"app_pages/{page}.py"):
            assert_clean(at)
            assert not at.error, (page, section, [e.value for e in at.error])
            scan_page(at, scan, f"{page} {section or ''}".strip())
    return scan


@pytest.mark.slow  # over 10 s: left out of make test-fast
@pytest.mark.parametrize("selection", list(SELECTIONS))
def test_no_small_count_anywhere_by_default(monkeypatch, demo_db, selection):
    query = SELECTIONS[selection]
    # The control: with exact figures (switched off, as local mode may) the same scan finds
    # counts from 1 to 10, so the scan below can fail.
    exact = scan_pages(monkeypatch, demo_db, query, exact=True)
    assert exact.small, "the exact figures hold no small count: the scan proves nothing"
    shown = scan_pages(monkeypatch, demo_db, query, exact=False)
    assert shown.seen > 50  # it did read the pages' counts
    assert shown.small == [], shown.small[:10]


def test_hidden_figures_are_words_and_none(monkeypatch, demo_db, sql):
    """Where a count is hidden: the words in the table, the tooltip and the CSV, no number in
    the chart, a caption saying why; the takeaway names no hidden group."""
    at = run_app(monkeypatch, demo_db, "on_scene", exact=False)
    assert at.toggle(key=HIDE).value and not at.toggle(key=HIDE).proto.disabled
    # Arrests in Millbrook: 2 in the demo (exact), so hidden in the public view.
    arrests = dict(sql.execute("SELECT jurisdiction, count(*) FILTER (WHERE arrest) FROM "
                               "responses GROUP BY 1").fetchall())
    assert arrests["Millbrook"] in SMALL
    table = card_table(at, "safety")
    row = table[(table["Metric"] == metrics.BY_ID["D3"].label)
                & (table["Jurisdiction"] == "Millbrook")].iloc[0]
    assert row["Numerator"] == "hidden (fewer than 11)"
    assert row["Value"].startswith("hidden (")
    spec = chart_spec(at, "safety")
    panel = [t for t in spec["data"] if t.get("type") == "bar" and t.get("xaxis") == "x2"]
    (bars,) = panel
    at_millbrook = _flat(bars["y"]).index("Millbrook")
    assert _flat(bars["x"])[at_millbrook] is None  # no bar, no number
    tips = [h for t in spec["data"] for h in _flat(t.get("hovertext")) if "Millbrook" in str(h)]
    assert any("hidden (fewer than 11) responses ending in an arrest" in h for h in tips)
    labels = [t for t in spec["data"] if t.get("mode") == "text"]
    assert labels and "Millbrook" in _flat([t["y"] for t in labels])
    card = at.get_by_key("card-safety")
    assert any(c.value.startswith("Privacy rule: counts from 1 to 10") and
               "Hidden figures read" in c.value for c in card.caption)
    # Shown counts are published ones: rounded to 5.
    outcomes = card_table(at, "outcomes")
    assert all(int(v) % 5 == 0 for v in outcomes.select_dtypes("number").iloc[:, 0])


def test_local_mode_may_switch_it_off_for_exact_figures(monkeypatch, demo_db, sql):
    from metrics.disclosure import published_count

    calls = scalar(sql, "SELECT count(*) FROM calls")
    at = run_app(monkeypatch, demo_db, exact=False)  # the default: on
    switch = at.toggle(key=HIDE)
    assert switch.label == "Hide small counts (1–10)" and switch.value
    assert not switch.proto.disabled  # local mode: every right
    assert tile(at, "A1-value")[0].value == f"{published_count(calls):,}"
    assert published_count(calls) != calls  # the demo's total is not a multiple of 5
    switch.set_value(False).run()
    assert_clean(at)
    assert tile(at, "A1-value")[0].value == f"{calls:,}"
    at.switch_page("app_pages/on_scene.py").run()  # the switch holds across pages
    table = card_table(at, "safety")
    d3 = table[table["Metric"] == metrics.BY_ID["D3"].label].set_index("Jurisdiction")
    assert int(d3.loc["Millbrook", "Numerator"]) == scalar(
        sql, "SELECT count(*) FILTER (WHERE arrest) FROM responses WHERE jurisdiction = "
             "'Millbrook'")
    # Public-release rounding (Census DRB): 1-14 hidden, counts to the DRB schedule.
    at.toggle(key=HIDE).set_value(True).run()
    at.toggle(key="privacy_round").set_value(True).run()
    assert_clean(at)
    at.switch_page("app_pages/overview.py").run()
    assert tile(at, "A1-value")[0].value == f"{published_count(calls, _drb()):,}"


def test_a_public_view_compares_whole_months(monkeypatch, demo_db, sql):
    """With small counts hidden a period is widened to whole months (said in the sidebar), and
    the tiles compare it with as many whole months before."""
    from metrics.disclosure import published_count

    at = run_app(monkeypatch, demo_db, query={"from": "2025-01-10", "to": "2025-06-30"},
                 exact=False)
    assert any("Period widened to whole months" in c.value for c in at.sidebar.caption)
    now = published_count(count_calls(sql, (), date(2025, 1, 1), date(2025, 6, 30)))
    before = published_count(count_calls(sql, (), date(2024, 7, 1), date(2024, 12, 31)))
    m, _ = tile(at, "A1-value")
    assert m.value == f"{now:,}"
    assert m.delta == f"{(now - before) / before:+.1%}"


def _drb():
    from metrics.disclosure import DisclosurePolicy

    return DisclosurePolicy(rounding=True)


def test_several_jurisdictions_under_disclosure(monkeypatch, demo_db):
    """A public figure covers one jurisdiction or all: a sum over two is refused with a
    sentence, while charts by jurisdiction show the two side by side."""
    query = {"j": ["Millbrook", "Riverton"]}
    at = run_app(monkeypatch, demo_db, "overview", query=query, exact=False)
    assert any("not a selection of several" in w.value for w in at.sidebar.warning)
    (error,) = at.main.error
    assert error.value.startswith("With small counts hidden, a figure covers one jurisdiction")
    at.switch_page("app_pages/compare.py").run()
    assert_clean(at)
    assert not at.main.error
    assert list(side_by_side(at).columns) == ["Measure", "Millbrook", "Riverton"]


# Viewers and analysts: signed in through an identity provider (AppTest.user stands in for it),
# with people and roles in the database; the data layer decides.

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 40,
        "client_id": "dashboard", "client_secret": "secret",
        "server_metadata_url": "http://localhost:9400/.well-known/openid-configuration"}
VIEWER, ANALYST = "vera@example.org", "ann@example.org"


@pytest.fixture(scope="module")
def roles_db(demo_db):
    """The demo cohort with a cohort viewer and an analyst of Millbrook."""
    from service import access

    path = demo_db.parent / "roles.duckdb"
    shutil.copyfile(demo_db.parent / "expected.duckdb", path)
    con = connect(path)
    access.add_person(con, access.LOCAL, VIEWER, "Vera Viewer")
    access.grant(con, access.LOCAL, VIEWER, "viewer", None)
    access.add_person(con, access.LOCAL, ANALYST, "Ann Analyst")
    access.grant(con, access.LOCAL, ANALYST, "analyst", "Millbrook")
    con.close()
    return path


def signed_in(monkeypatch, db, email, page="overview", query=None, session=None) -> AppTest:
    import time

    monkeypatch.setenv("A911_DB", str(db))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": email, "email_verified": True, "iat": time.time()}
    for k, v in (query or {}).items():
        at.query_params[k] = v
    for k, v in (session or {}).items():
        at.session_state[k] = v
    at.run()
    if page != "overview":
        at.switch_page(f"app_pages/{page}.py").run()
    assert_clean(at)
    return at


def test_a_viewer_cannot_switch_it_off(monkeypatch, roles_db, sql):
    from metrics.disclosure import published_count

    # Even a session that starts with the switch off (as a crafted state would) is on.
    at = signed_in(monkeypatch, roles_db, VIEWER, "on_scene", session={HIDE: False})
    switch = at.toggle(key=HIDE)
    assert switch.value and switch.proto.disabled
    assert "Always on for viewers" in switch.proto.help
    table = card_table(at, "safety")
    d3 = table[table["Metric"] == metrics.BY_ID["D3"].label].set_index("Jurisdiction")
    assert d3.loc["Millbrook", "Numerator"] == "hidden (fewer than 11)"
    # Forcing the switch's state off (a browser cannot: it is disabled) changes nothing.
    at.session_state[HIDE] = False
    at.run()
    assert_clean(at)
    assert at.toggle(key=HIDE).value
    table = card_table(at, "safety")
    d3 = table[table["Metric"] == metrics.BY_ID["D3"].label].set_index("Jurisdiction")
    assert d3.loc["Millbrook", "Numerator"] == "hidden (fewer than 11)"
    at.switch_page("app_pages/overview.py").run()
    calls = scalar(sql, "SELECT count(*) FROM calls")
    assert tile(at, "A1-value")[0].value == f"{published_count(calls):,}"
    scan = Scan()
    scan_page(at, scan, "overview")
    assert scan.seen and not scan.small

    # The menu has no Data or Admin page for a viewer; by link, the data layer refuses.
    at.switch_page("app_pages/data.py").run()
    assert_clean(at)
    assert any("may not import a file" in plain(i.value) for i in at.main.info)
    at.session_state["data_tab"] = "Import history"
    at.run()
    assert any("may not see the imports ledger" in plain(i.value) for i in at.main.info)
    with pytest.raises(KeyError):
        at.get_by_key("history_undo_1")
    at.session_state["data_tab"] = "Data quality"
    at.run()
    assert any("may not see the data-quality figures" in plain(i.value) for i in at.main.info)
    assert not any("unmapped_share" in d.value.columns for d in at.main.dataframe)


def test_an_analyst_may_switch_it_off_for_own_jurisdiction_only(monkeypatch, roles_db, sql):
    at = signed_in(monkeypatch, roles_db, ANALYST, "on_scene")
    switch = at.toggle(key=HIDE)
    assert switch.value and switch.proto.disabled  # the whole cohort: not only their own
    assert "only your own jurisdictions (Millbrook)" in switch.proto.help
    at.multiselect(key="j").set_value(["Millbrook"]).run()
    assert_clean(at)
    switch = at.toggle(key=HIDE)
    assert switch.value and not switch.proto.disabled
    switch.set_value(False).run()
    assert_clean(at)
    exact = scalar(sql, "SELECT count(*) FILTER (WHERE arrest) FROM responses "
                        "WHERE jurisdiction = 'Millbrook'")
    table = card_table(at, "safety")
    d3 = table[table["Metric"] == metrics.BY_ID["D3"].label].set_index("Jurisdiction")
    assert int(d3.loc["Millbrook", "Numerator"]) == exact and exact in SMALL
    # Adding a jurisdiction that is not theirs turns it back on, and keeps it on.
    at.multiselect(key="j").set_value([]).run()
    assert_clean(at)
    assert at.toggle(key=HIDE).value and at.toggle(key=HIDE).proto.disabled
    table = card_table(at, "safety")
    d3 = table[table["Metric"] == metrics.BY_ID["D3"].label].set_index("Jurisdiction")
    assert d3.loc["Millbrook", "Numerator"] == "hidden (fewer than 11)"
    # Their Data page: their own jurisdiction only.
    at.switch_page("app_pages/data.py").run()
    assert at.selectbox(key="upload_jur").options == ["Millbrook"]
    at.session_state["data_tab"] = "Import history"
    at.run()
    assert_clean(at)
    mine = [r[0] for r in sql.execute("SELECT import_id FROM imports WHERE jurisdiction = "
                                      "'Millbrook' AND status = 'committed'").fetchall()]
    assert mine
    for import_id in mine:
        assert at.get_by_key(f"history_undo_{import_id}").proto.label == "Undo"
    others = scalar(sql, "SELECT min(import_id) FROM imports WHERE jurisdiction <> 'Millbrook'")
    with pytest.raises(KeyError):
        at.get_by_key(f"history_undo_{others}")


def test_a_viewer_of_two_jurisdictions_sees_both_together(monkeypatch, roles_db, sql):
    """Granted two of the three: with nothing chosen, the tiles cover those two (their "all"),
    not a refusal, and never the third."""
    import shutil as _shutil

    from service import access
    from metrics.disclosure import published_count

    path = roles_db.parent / "two.duckdb"
    _shutil.copyfile(roles_db, path)
    con = connect(path)
    email = "tess@example.org"
    access.add_person(con, access.LOCAL, email, "Tess Two")
    for j in ("Millbrook", "Riverton"):
        access.grant(con, access.LOCAL, email, "viewer", j)
    con.close()
    at = signed_in(monkeypatch, path, email)
    assert not at.main.error, [e.value for e in at.main.error]
    assert not any("not a selection of several" in w.value for w in at.sidebar.warning)
    two = scalar(sql, "SELECT count(*) FROM calls WHERE jurisdiction IN ('Millbrook', 'Riverton')")
    assert two < scalar(sql, "SELECT count(*) FROM calls")
    assert tile(at, "A1-value")[0].value == f"{published_count(two):,}"
