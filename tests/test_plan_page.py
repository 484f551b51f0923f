"""The Plan page (app_pages/plan.py) under AppTest on the demo cohort, and the demo's calibration.

The page's figures are compared with ``metrics.capacity.plan`` run by the test on a copy of the
same database with the same choices (the model is seeded, so they must agree exactly), and the
calibration gap of every running demo program is checked (the demo's teams' capacity is what
produces its coverage: data/demo/generate.py ``_free_team``).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.demo import DEMOS
from metrics import capacity

from conftest import demo_database, each_section, expected_connection
from ui import sections

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = str(ROOT / "dashboard.py")
TIMEOUT = 120  # the first run imports plotly and runs the model (the machine is shared)
A, B = "1x8-20x1234567", "2x8-20x1234567"
# The address holds a choice as the words the page shows for it (Streamlit binds a selectbox
# to the query parameter by its label).
A_URL, B_URL = "1 team 8-20 every day", "2 teams 8-20 every day"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    return demo_database(tmp_path_factory.mktemp("plan"))


@pytest.fixture(scope="module")
def sql(demo_db):
    con = expected_connection(demo_db)
    yield con
    con.close()


def run_plan(monkeypatch, db, query: dict, exact: bool = True) -> AppTest:
    monkeypatch.setenv("A911_DB", str(db))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    if exact:
        at.session_state["privacy_hide"] = False
    at.run()
    at.switch_page("app_pages/plan.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def plain(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def tile(at, slot: str):
    box = at.get_by_key(f"tile-plan-{slot}")
    (m,) = box.metric
    return plain(box.markdown[0].value).strip("*"), m.value, [plain(c.value) for c in box.caption]


def test_page_compares_two_schedules_as_the_model_does(monkeypatch, demo_db, sql):
    at = run_plan(monkeypatch, demo_db, {"plan_j": "Millbrook", "plan_a": A_URL,
                                         "plan_b": B_URL})
    assert at.title[0].value == "How many teams for what coverage?"
    doc = capacity.plan(sql, capacity.CapacityRequest("Millbrook"), (A, B), extra_minutes=10.0,
                        max_wait_minutes=0.0, runs=12)
    for slot, s in zip("AB", doc["schedules"]):
        name, value, captions = tile(at, slot)
        assert name == f"{slot}: {s['schedule']}"
        assert value == f"{s['coverage']:.0%}"
        assert f"{s['team_hours_per_week']:,} team-hours a week" in captions[-1]
        assert f"served {s['served']:,.0f}" in captions[-1]
    a, b = doc["schedules"]
    assert b["coverage"] > a["coverage"]
    assert b["team_hours_per_week"] == 2 * a["team_hours_per_week"]
    # Five sections (ui/sections.py PLAN), each drawn only when its tab is open.
    tables = {}
    for label in each_section(at, "app_pages/plan.py"):
        assert not at.exception, [e.value for e in at.exception]
        charts = sorted(c.key for c in at.main.get("plotly_chart"))
        assert charts == sorted(f"chart-{k}" for k in sections.PLAN.cards[label]), label
        tables[label] = [t.value for t in at.main.table]
    assert tables["Coverage by hour"] == tables["Calls missed by hour"] == []
    assert tables["Teams on duty"] == []
    (needed,) = tables["Team-hours needed"]
    calibration, erlang = tables["Model check"]
    assert list(needed["Target coverage"]) == ["60%", "70%", "80%"]
    assert list(needed["Team-hours a week"]) == [
        f"{n['team_hours_per_week']:,}" for n in doc["needed"]]
    cal = doc["calibration"]
    assert list(calibration["Measured"]) == [f"{cal['measured_coverage']:.1%}",
                                             f"{cal['measured_no_team_share']:.1%}"]
    assert cal["reliable"] and at.success and "can be relied on" in at.success[0].value
    assert list(erlang["Erlang by hour"]) == [f"{s['erlang_coverage']:.1%}"
                                              for s in doc["schedules"]]


def test_a_schedule_of_ones_own_comes_from_the_address(monkeypatch, demo_db):
    at = run_plan(monkeypatch, demo_db, {"plan_j": "Millbrook", "plan_a": "A schedule of my own",
                                         "plan_a_teams": "4"})
    name, _, captions = tile(at, "A")
    assert name == "A: 4 teams 8-20 every day"
    assert "336 team-hours a week" in captions[-1]
    assert at.number_input(key="plan_a_teams").value == 4


def test_a_viewer_sees_rounded_counts(monkeypatch, demo_db, sql):
    at = run_plan(monkeypatch, demo_db, {"plan_j": "Harbor County", "plan_a": A_URL,
                                         "plan_b": B_URL},
                  exact=False)
    lead = plain(at.main.caption[0].value)
    calls = int(re.search(r"Harbor County: ([\d,]+) eligible-type calls", lead)[1].replace(",", ""))
    assert calls % 5 == 0
    _, _, captions = tile(at, "A")
    served = int(re.search(r"served ([\d,]+)", captions[-1])[1].replace(",", ""))
    assert served % 5 == 0


def test_masking_hides_the_jurisdictions_name(monkeypatch, demo_db):
    at = run_plan(monkeypatch, demo_db, {"own": "Riverton", "mask": "true",
                                         "plan_j": "Millbrook"})
    assert "Jurisdiction" in plain(at.main.caption[0].value)
    for label in each_section(at, "app_pages/plan.py"):  # the calibration's notes name it
        shown = " ".join([plain(m.value) for m in at.main.markdown]
                         + [plain(c.value) for c in at.main.caption]
                         + [w.value for w in at.main.warning]
                         + [s.value for s in at.main.success])
        assert "Millbrook" not in shown, label
    assert at.main.success or at.main.warning  # the Model check's verdict was read


def test_every_demo_program_is_reproduced_by_the_model(sql):
    """The calibration gap of each running demo program, within five points."""
    gaps = {}
    for d in DEMOS:
        cal = capacity.calibrate(sql, capacity.CapacityRequest(d.name), runs=0)
        assert cal.schedule.max_teams == d.teams, d.name  # read from its records
        gaps[d.name] = round(cal.gap * 100, 1)
        assert cal.reliable, (d.name, cal.as_dict())
    print("calibration gaps (points):", gaps)
