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

import pytest
from streamlit.testing.v1 import AppTest

import metrics
from charts.theme import PRESENTER_FONT_SIZE
from data.connection import connect
from data.demo import populate_demo
from data.schema import create_schema
from metrics.registry import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = str(ROOT / "dashboard.py")
TIMEOUT = 30  # seconds per run: the first run imports plotly and fills the metric cache

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
    folder = tmp_path_factory.mktemp("pages")
    path = folder / "demo.duckdb"
    con = connect(path)
    populate_demo(con, seed=0)
    con.close()  # checkpointed: the copy below is the same database
    shutil.copyfile(path, folder / "expected.duckdb")
    return path


@pytest.fixture(scope="session")
def sql(demo_db):
    """A read-only connection to the copy of the demo database: the test's own queries."""
    con = connect(demo_db.parent / "expected.duckdb", read_only=True)
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

def run_app(monkeypatch, db: Path, page: str = "overview", query: dict | None = None
            ) -> AppTest:
    """The dashboard on ``db``, opened on ``page`` (the router runs first, as in a browser)."""
    monkeypatch.setenv("A911_DB", str(db))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page != "overview":
        at.switch_page(f"app_pages/{page}.py").run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def plain(text: str) -> str:
    """Markdown text without the backslash escapes ui.components.escape adds."""
    return re.sub(r"\\(.)", r"\1", text)


def texts(node) -> list[str]:
    return [plain(m.value) for m in node.markdown]


def tile(at: AppTest, key: str):
    """The st.metric of a headline tile, and the captions under it."""
    box = at.get_by_key(f"tile-{key}")
    (m,) = box.metric
    return m, [plain(c.value) for c in box.caption]


def chart_spec(at: AppTest, key: str) -> dict:
    return json.loads(at.get_by_key(f"chart-{key}").proto.spec)


def sentence(at: AppTest, key: str) -> str:
    """The takeaway under a card's title."""
    return plain(at.get_by_key(f"card-{key}").markdown[0].value)


def card_table(at: AppTest, key: str):
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
    assert not at.error and not at.main.info  # no empty states with the demo data
    charts = at.get("plotly_chart")
    assert sorted(c.key for c in charts) == sorted(f"chart-{k}" for k in CARDS[page])
    for key in CARDS[page]:
        card = at.get_by_key(f"card-{key}")
        assert f"chart-{key}" in keys_in(card)
        said = sentence(at, key)
        assert said.endswith(".") and len(said) > 20, said  # a computed takeaway sentence
        assert not said.startswith("No "), said
        table = card_table(at, key)
        assert len(table) > 0
        download = at.get_by_key(f"download-{key}")
        assert download.proto.label == "Download CSV"
    if page == "overview":
        assert sorted(k for k in keys_in(at.main) if k.startswith("tile-")) == sorted(
            f"tile-{t}" for t in TILES)
    else:
        assert not at.metric


# --------------------------------------------------------------------------------------------
# Overview
# --------------------------------------------------------------------------------------------

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
    """The comparison table: the page's one dataframe outside a chart card."""
    inside = {id(e) for e in at.get_by_key("card-compare")}
    (table,) = [d for d in at.main.dataframe if id(d) not in inside]
    return table.value


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


def test_compare_masks_peer_names(monkeypatch, demo_db):
    at = run_app(monkeypatch, demo_db, "compare")
    at.selectbox(key="own").select("Riverton").run()
    at.toggle(key="mask").set_value(True).run()
    assert_clean(at)
    table = side_by_side(at)
    assert list(table.columns) == ["Measure", "Riverton", "Jurisdiction A", "Jurisdiction B",
                                   "Jurisdiction C", "Jurisdiction D"]
    assert all(re.fullmatch(r"\d{4}", v) for v in table.iloc[0, 1:])  # launch years only
    shown = " ".join(texts(at.main) + [c.value for c in at.main.caption]
                     + [at.get_by_key("chart-compare").proto.spec]
                     + [d.value.to_csv() for d in at.main.dataframe])
    assert "Riverton" in shown
    for peer in set(NAMES) - {"Riverton"}:
        assert peer not in shown, peer


# --------------------------------------------------------------------------------------------
# Presenter mode
# --------------------------------------------------------------------------------------------

def test_masking_holds_on_every_page(monkeypatch, demo_db):
    """A presenter who masks peers on one page must not unmask them by switching page."""
    at = run_app(monkeypatch, demo_db, "overview", query={"own": "Riverton", "mask": "true"})
    for page in ("overview", "reach", "on_scene", "connections", "compare"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert_clean(at)
        shown = " ".join(texts(at.main) + [c.value for c in at.main.caption]
                         + [c.proto.spec for c in at.get("plotly_chart")]
                         + [d.value.to_csv() for d in at.main.dataframe])
        for peer in set(NAMES) - {"Riverton"}:
            assert peer not in shown, (page, peer)
    assert "Jurisdiction A" in shown and "Riverton" in shown


def test_presenter_mode_from_the_url(monkeypatch, demo_db):
    normal = run_app(monkeypatch, demo_db, "reach")
    assert not normal.html and not normal.toggle(key="present").value
    with pytest.raises(KeyError):
        normal.get_by_key("leave-presenter")
    # Side by side: category and area share a row, reason and out-of-hours another.
    assert len(normal.main.columns) == 4
    assert any({"card-b1-category"} <= keys_in(c) for c in normal.main.columns)
    assert json.loads(normal.get_by_key("chart-b1-month").proto.config)["displayModeBar"]

    at = run_app(monkeypatch, demo_db, "reach", query={"present": "1"})
    assert at.toggle(key="present").value
    (style,) = at.html
    for hidden in ('[data-testid="stSidebar"]', '[class*="st-key-controls"]',
                   '[class*="st-key-data-"]'):
        assert hidden in style.value  # sidebar, controls and "Show data" are not shown
    assert not at.main.columns  # one chart per screen width
    assert set(f"card-{k}" for k in CARDS["reach"]) <= keys_in(at.main)
    for key in CARDS["reach"]:
        spec = json.loads(at.get_by_key(f"chart-{key}").proto.spec)
        assert spec["layout"]["font"]["size"] == PRESENTER_FONT_SIZE
        assert not json.loads(at.get_by_key(f"chart-{key}").proto.config)["displayModeBar"]

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
                                           "Call-type crosswalk", "Data quality"]
    # Import: the wizard's first steps and the file drop.
    assert [s.value for s in at.main.subheader][:2] == ["1. What are you importing?",
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
    assert not at.get("plotly_chart") and not at.metric and not at.error
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
