"""AppTest: the Cost page, the Data page's costs tab and wizard path, and Compare's cost row.

The demo cohort with its costs (data/demo_costs.csv, loaded through the costs import kind as
`python -m data demo` does). Figures on the page are compared with ``metrics.cost.report`` on
a copy of the database, and with the costs file itself.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from data.connection import connect
from data.costs import DEMO_COSTS
from data.demo import populate_demo
from metrics import Filters
from metrics import cost as mcost

from conftest import demo_database, expected_connection

from test_pages import (HIDE, assert_clean, card_table, chart_spec, plain, run_app, sentence,
                        signed_in, tile)

RIVERTON = "Riverton"


@pytest.fixture(scope="module")
def cost_db(tmp_path_factory) -> Path:
    return demo_database(tmp_path_factory.mktemp("cost"), costs=True)


@pytest.fixture(scope="module")
def expected(cost_db):
    con = expected_connection(cost_db)
    yield con
    con.close()


@pytest.fixture(scope="module")
def bare_db(tmp_path_factory) -> Path:
    """The demo cohort without costs."""
    path = tmp_path_factory.mktemp("nocost") / "demo.duckdb"
    con = connect(path)
    populate_demo(con, seed=0, scale=0.05)
    con.close()
    return path


def _file_total(jurisdiction: str, quarter: str) -> float:
    with open(DEMO_COSTS, newline="") as f:
        return sum(float(r["amount"]) for r in csv.DictReader(f)
                   if r["jurisdiction"] == jurisdiction and r["period"] == quarter
                   and r["stream"] != "police_hourly_cost")


def test_cost_page_shows_each_figure_with_its_inputs(monkeypatch, cost_db, expected):
    at = run_app(monkeypatch, cost_db, "cost", query={"j": RIVERTON})
    assert [t.value for t in at.main.title] == ["What does it cost?"]
    rep = mcost.report(expected, RIVERTON, Filters())
    t = rep["totals"]
    # The exact figures (small counts shown: a local user switched hiding off).
    metric, captions = tile(at, "cost-cost-response")
    assert metric.value == f"${t['cost_per_response']:,.2f}"
    assert captions == [f"${t['cost']:,.0f} ÷ {t['responses']:,} responses"]
    assert t["cost_per_response"] == round(t["cost"] / t["responses"], 2)
    # By hand from the costs file: Riverton's 2024-Q2 is $400,000 + $300,000 + $80,000.
    q = next(q for q in rep["quarters"] if q["quarter"] == "2024-Q2")
    assert q["cost"] == _file_total(RIVERTON, "2024-Q2") == 780_000
    table = card_table(at, "cost-per-unit").set_index("Quarter")
    assert table.loc["2024-Q2", "Program cost"] == "$780,000.00"
    assert table.loc["2024-Q2", "Team responses"] == f"{q['responses']:,}"
    assert table.loc["2024-Q2", "Cost per response"] == f"${780_000 / q['responses']:,.2f}"
    # Capacity: worded as capacity, never as money saved.
    words = sentence(at, "capacity")
    assert "hours of police capacity returned" in words and "not cash saved" in words
    assert "saved $" not in words and "savings" not in words.lower()
    cap = card_table(at, "capacity").set_index("Quarter")
    assert cap.loc["2024-Q2", "Police cost per unit-hour"] == "$150.00"  # 2023-01..2024-12
    assert cap.loc["2025-Q2", "Police cost per unit-hour"] == "$158.00"  # the 2025 rate
    # The funding cliff: ARPA SLFRF's end is drawn, and the sentence names it.
    spec = chart_spec(at, "funding-streams")
    assert any("ARPA SLFRF spent by 31 Dec 2026" in a.get("text", "")
               for a in spec["layout"]["annotations"])
    assert {tr["name"] for tr in spec["data"]} == {"General fund", "ARPA SLFRF", "Medicaid"}
    assert len({tr["marker"]["pattern"]["shape"] for tr in spec["data"]}) == 3  # not colour alone
    assert "ARPA SLFRF $300,000 (ends by 31 Dec 2026)" in sentence(at, "funding-streams")


def test_viewer_sees_published_counts_and_costs_worked_out_from_them(monkeypatch, cost_db,
                                                                     expected):
    from service import access
    from metrics.disclosure import published_count

    path = cost_db.parent / "roles.duckdb"
    shutil.copyfile(cost_db.parent / "expected.duckdb", path)
    con = connect(path)
    access.add_person(con, access.LOCAL, "vera@example.org", "Vera")
    access.grant(con, access.LOCAL, "vera@example.org", "viewer", None)
    con.close()
    at = signed_in(monkeypatch, path, "vera@example.org", "cost",
                   query={"j": "Harbor County"}, session={HIDE: False})
    assert at.toggle(key=HIDE).value  # always on for a viewer
    exact = mcost.report(expected, "Harbor County", Filters())
    table = card_table(at, "cost-per-unit").set_index("Quarter")
    q = next(q for q in exact["quarters"] if q["quarter"] == "2024-Q1")
    shown = published_count(q["responses"])
    assert table.loc["2024-Q1", "Team responses"] == f"{shown:,}"
    assert table.loc["2024-Q1", "Cost per response"] == f"${q['cost'] / shown:,.2f}"
    assert "worked out from the published count" in " ".join(
        c.value for c in at.get_by_key("card-cost-per-unit").caption)


def test_no_costs_says_where_to_enter_them(monkeypatch, bare_db):
    at = run_app(monkeypatch, bare_db, "cost", query={"j": "Millbrook"})
    (info,) = at.main.info
    assert plain(info.value).startswith("No program costs are entered for Millbrook. Enter them "
                                        "on the Data page (Program costs)")
    assert [p.value for p in at.main.page_link] == ["Go to the Data page"]
    assert not at.get("plotly_chart")
    # A peer's name is masked in the sentence too.
    masked = run_app(monkeypatch, bare_db, "cost",
                     query={"j": "Millbrook", "mask": "true", "own": "Riverton"})
    (info,) = masked.main.info
    assert "Millbrook" not in info.value and "Jurisdiction " in info.value


def test_presenter_mode_and_masking(monkeypatch, cost_db):
    at = run_app(monkeypatch, cost_db, "cost",
                 query={"present": "1", "mask": "true", "own": "Millbrook",
                        "cost_j": "Riverton"})
    text = " ".join([c.value for c in at.main.caption] + [m.value for m in at.main.markdown])
    assert "Riverton" not in text and "Jurisdiction " in text
    assert at.selectbox(key="cost_j").format_func("Riverton").startswith("Jurisdiction ")
    assert len(at.get("plotly_chart")) == 3


def test_data_page_form_enters_a_cost_audited_and_undoable(monkeypatch, bare_db, tmp_path):
    path = tmp_path / "form.duckdb"
    shutil.copyfile(bare_db, path)
    at = run_app(monkeypatch, path, "data", query={"data_tab": "Program costs"})
    assert at.selectbox(key="costs_jur").value == "Cedar Falls"
    at.selectbox(key="costs_jur").select("Millbrook").run()
    at.text_input(key="costs_period").input("2025-Q1")
    at.selectbox(key="costs_stream").select("arpa_slfrf")
    at.number_input(key="costs_amount").set_value(250000.0)
    at.number_input(key="costs_fte").set_value(4.0)
    next(b for b in at.button if b.label == "Save the cost").click().run()
    assert_clean(at)
    assert any("Saved as import #" in plain(s.value) for s in at.success), (
        [e.value for e in at.error], [w.value for w in at.warning])
    (stored,) = [d.value for d in at.main.dataframe]
    assert stored.to_dict("records") == [{"Period": "2025-Q1", "Stream": "ARPA SLFRF",
                                          "Amount": "$250,000.00", "FTE": "4",
                                          "Import": stored["Import"][0]}]
    from ui import cache  # the app's own connection (one process holds one configuration)

    cur = cache.cursor()
    try:
        assert cur.execute("SELECT period, stream, amount, fte FROM costs").fetchall() == [
            ("2025-Q1", "arpa_slfrf", 250000.0, 4.0)]
        assert cur.execute("SELECT action, jurisdiction FROM audit_log ORDER BY seq DESC "
                           "LIMIT 1").fetchone() == ("import", "Millbrook")
        # Undo (as the Import history's button does) restores the state before the entry.
        import_id = int(stored["Import"][0].lstrip("#"))
        from service import guarded
        from service.access import LOCAL

        guarded.undo_import(cur, LOCAL, import_id)
        assert cur.execute("SELECT count(*) FROM costs").fetchone()[0] == 0
    finally:
        cur.close()


def test_wizard_offers_costs(monkeypatch, bare_db):
    at = run_app(monkeypatch, bare_db, "data")
    radio = at.radio(key="upload_kind")
    assert "Program costs" in radio.options
    radio.set_value("costs").run()
    assert_clean(at)
    assert "2. Choose the costs file" in [s.value for s in at.main.header]


def test_compare_shows_cost_per_response_per_jurisdiction(monkeypatch, cost_db, expected):
    at = run_app(monkeypatch, cost_db, "compare")
    (table,) = [t.value for t in at.main.table]
    row = table.set_index("Measure").loc["Cost per team response"]
    t = mcost.report(expected, RIVERTON, Filters())["totals"]
    assert plain(row[RIVERTON]).startswith(f"${t['cost_per_response']:,.0f}")
