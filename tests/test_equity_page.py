"""The Equity page on a planted disparity: it shows the gap with an interval excluding 1, and an
equal-rate group with an interval including 1 (issue 5). AppTest, a hand-built database."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import metrics
from charts import maps
from charts.frames import frame
from data import facts
from data.connection import connect
from ui import equity_view

from conftest import open_tables

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")
FIXTURES = Path(__file__).parent / "fixtures"

# Police back-up requested per 1,000 team responses, by race/ethnicity:
# White 20/1,000 (reference), Black 60/1,000 (3×: planted), Asian 20/1,000 (the same rate),
# 150 with race unknown (2 back-ups).
GROUPS = {"white": (1000, 20), "black": (1000, 60), "asian": (1000, 20), "unknown": (150, 2)}
POPULATION = {"white": 100_000, "black": 50_000, "asian": 20_000}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    path = tmp_path_factory.mktemp("equity") / "planted.duckdb"
    con = connect(path)
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone, population) VALUES "
                "('Plantville', 'America/Chicago', 170000)")
    n = 0
    for group, (responses, backups) in GROUPS.items():
        for i in range(responses):
            n += 1
            con.execute(
                "INSERT INTO responses (jurisdiction, response_id, requested_at, requested_local,"
                " police_backup, race_ethnicity, import_id) VALUES ('Plantville', ?, "
                "TIMESTAMPTZ '2025-03-01 12:00:00+00' + to_minutes(?), "
                "TIMESTAMP '2025-03-01 06:00:00' + to_minutes(?), ?, ?, 1)",
                [f"r{n}", n, n, i < backups, group])
    for group, residents in POPULATION.items():
        con.execute("INSERT INTO population (jurisdiction, population_key, geography, "
                    "dimension, \"group\", population, moe, source, import_id) VALUES "
                    "('Plantville', ?, 'Plantville', 'race_ethnicity', ?, ?, NULL, 'test', 2)",
                    [group, group, residents])
    con.close()
    return path


def _equity(monkeypatch, db, point_label):
    monkeypatch.setenv("A911_DB", str(db))
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.query_params["equity_point"] = point_label
    # Local mode may switch "Hide small counts" off (ui/privacy.py): the planted figures exact.
    at.session_state["privacy_hide"] = False
    at.run()
    at.switch_page("app_pages/equity.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _plain(text):
    return re.sub(r"\\(.)", r"\1", text)


def test_planted_disparity_is_shown_with_its_interval(monkeypatch, planted):
    at = _equity(monkeypatch, planted, "Team response → police back-up requested")
    card = at.get_by_key("card-equity-rri")
    sentence = _plain(card.markdown[0].value)
    # Black: (60/1000) / (20/1000) = 3.00; Katz: 3·exp(±1.96·√(1/60 − 1/1000 + 1/20 − 1/1000))
    # = 3·exp(±0.4984) = 1.82 to 4.94.
    assert sentence.startswith("Team response → police back-up requested: Black 3.00× the "
                               "rate of White (95% CI 1.82–4.94), a clear difference")
    assert "for 1 group the interval includes 1" in sentence
    card = open_tables(at, "equity-rri").get_by_key("card-equity-rri")
    table = card.dataframe[0].value.set_index("Race ethnicity")
    asian = table.loc["Asian"]
    assert asian["Relative rate"] == pytest.approx(1.0)
    assert asian["RR 95% CI low"] < 1 < asian["RR 95% CI high"]
    assert "Unknown" not in table.index  # unknown is a share beside the ratios, not a group


def test_unknown_share_is_shown_beside_the_ratios(monkeypatch, planted):
    at = _equity(monkeypatch, planted, "Team response → police back-up requested")
    (m,) = [m for m in at.main.metric if "unknown race/ethnicity" in m.label]
    assert m.value == f"{150 / 3150:.1%}"


def test_per_resident_benchmark_uses_population(monkeypatch, planted):
    at = _equity(monkeypatch, planted, "Team response → police back-up requested")
    card = open_tables(at, "equity-pop").get_by_key("card-equity-pop")
    table = card.dataframe[0].value.set_index("Race ethnicity")
    # Black 60 per 50,000 = 1.2 per 1,000; White 20 per 100,000 = 0.2: ratio 6.
    assert table.loc["Black", "Rate per 1,000 residents"] == pytest.approx(1.2)
    assert table.loc["Black", "Relative rate"] == pytest.approx(6.0)
    assert table.loc["Black", "RR 95% CI low"] > 1


def test_times_decision_point_shows_medians_not_ratios(monkeypatch, planted):
    at = _equity(monkeypatch, planted, "Team response time (median minutes)")
    with pytest.raises(KeyError):
        at.get_by_key("card-equity-rri")
    # No arrival times in this database: the page says so instead of drawing.
    empty = at.get_by_key("card-equity")
    assert "No records at this decision point" in empty.info[0].value


MAPTON = (("North", 100, 60), ("Central", 100, 30), ("South", 40, 20))


def _mapton(tmp_path, with_boundaries: bool, areas=MAPTON):
    """Calls in three areas (area, calls, team responses): by default team share 60/100
    North, 30/100 Central, 20/40 South."""
    from data.boundaries import import_boundaries

    path = tmp_path / "areas.duckdb"
    con = connect(path, readable_dirs=(FIXTURES,))
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone, target_categories) VALUES "
                "('Mapton', 'America/Chicago', ['MENTAL_HEALTH'])")
    con.execute("INSERT INTO crosswalk VALUES ('Mapton', 'MENTAL', 'MENTAL_HEALTH', true)")
    n = 0
    for area, calls, team in areas:
        for i in range(calls):
            n += 1
            con.execute(
                "INSERT INTO calls (jurisdiction, call_id, received_at, received_local, "
                "call_type, responder, area, import_id) VALUES ('Mapton', ?, "
                "TIMESTAMPTZ '2025-03-01 18:00:00+00', TIMESTAMP '2025-03-01 12:00:00', "
                "'MENTAL', ?, ?, 1)", [f"c{n}", "alternative" if i < team else "police", area])
    facts.refresh(con)  # calls written by hand: derive what an import derives
    if with_boundaries:
        import_boundaries(con, FIXTURES / "three_districts.geojson", jurisdiction="Mapton")
    con.close()
    return path


def _map_values(at) -> dict:
    spec = json.loads(at.get_by_key("chart-equity-map").proto.spec)
    traces = [t for t in spec["data"] if t["type"] == "choroplethmap"]
    return dict(zip(traces[0]["locations"], traces[0]["z"]))


def test_areas_on_the_jurisdictions_own_map(monkeypatch, tmp_path):
    """Coverage by area drawn over uploaded boundaries, with no tile server in the figure."""
    path = _mapton(tmp_path, with_boundaries=True)
    at = _equity(monkeypatch, path, "Eligible call → team responded")
    spec = json.loads(at.get_by_key("chart-equity-map").proto.spec)
    assert _map_values(at) == {"North": pytest.approx(0.6), "Central": pytest.approx(0.3),
                      "South": pytest.approx(0.5)}
    assert "http" not in json.dumps(spec["layout"].get("map", {}))  # no tiles, fonts, sprites


def test_a_hidden_rate_is_drawn_hidden_not_no_data(monkeypatch, tmp_path):
    """South: 5 team responses of 40 eligible calls. With small counts hidden its numerator
    (5) and so its rate are hidden while its denominator (40) is shown: the map must draw South
    as hidden, not as an area with no data (the frame's own per-field hidden marks decide)."""
    path = _mapton(tmp_path, with_boundaries=True,
                   areas=(("North", 100, 60), ("Central", 100, 30), ("South", 40, 5)))
    monkeypatch.setenv("A911_DB", str(path))
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.query_params["equity_point"] = "Eligible call → team responded"
    at.session_state["privacy_hide"] = True
    at.run()
    at.switch_page("app_pages/equity.py").run()
    assert not at.exception, [e.value for e in at.exception]
    spec = json.loads(at.get_by_key("chart-equity-map").proto.spec)
    # Central's rate may be hidden too, to protect South (complementary suppression).
    assert _map_values(at)["North"] == pytest.approx(0.6)
    assert "South" not in _map_values(at)
    hidden = [t for t in spec["data"] if maps.HIDDEN_NOTE in t.get("hovertemplate", "")]
    no_data = [t for t in spec["data"] if maps.NO_DATA_NOTE in t.get("hovertemplate", "")]
    assert len(hidden) == 1 and "South" in hidden[0]["locations"]
    assert not no_data  # every area has eligible calls
    assert "0.125" not in json.dumps(spec) and "12.5%" not in json.dumps(spec)


def test_map_frame_marks_hidden_rates_from_the_frames_own_marks():
    """A unit test of the frame the map draws: a rate hidden beside a shown denominator is
    hidden; a row with no value and nothing hidden (no eligible calls) is no data."""
    df = frame([{"metric": "B1", "group": {"area": "North"}, "value": 0.5, "reliability": "ok",
                 "suppressed": None, "numerator": 20, "denominator": 40},
                {"metric": "B1", "group": {"area": "South"}, "value": None, "reliability": None,
                 "suppressed": {"numerator": "small", "value": "derived"}, "denominator": 40},
                {"metric": "B1", "group": {"area": "East"}, "value": None, "reliability": None,
                 "suppressed": None, "numerator": 0, "denominator": 0}], ("area",))
    shown = equity_view.map_frame(df)
    assert shown.set_index("area")["hidden"].to_dict() == {
        "North": False, "South": True, "East": False}
    fig = maps.area_map(shown, metrics.BY_ID["B1"], _three_areas())
    assert [list(t.locations) for t in fig.data] == [["North"], ["South"], ["East"]]
    assert maps.HIDDEN_NOTE in fig.data[1].hovertemplate
    assert maps.NO_DATA_NOTE in fig.data[2].hovertemplate


def _three_areas():
    ring = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "id": a, "properties": {},
                          "geometry": {"type": "Polygon",
                                       "coordinates": [[[x + i, y] for x, y in ring]]}}
                         for i, a in enumerate(("North", "South", "East"))]}


def test_the_data_page_imports_a_map_and_the_equity_page_draws_it(monkeypatch, tmp_path):
    """Kind 'Area boundaries' in the wizard: upload, check (which property, how many areas
    match), import; then the Equity page shows the areas on that map."""
    path = _mapton(tmp_path, with_boundaries=False)
    monkeypatch.setenv("A911_DB", str(path))
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.session_state["privacy_hide"] = False
    at.run()
    at.switch_page("app_pages/data.py").run()
    at.radio(key="upload_kind").set_value("boundaries").run()
    assert not at.exception, [e.value for e in at.exception]
    uploader = at.get("file_uploader")[0]
    assert set(uploader.proto.type) == {".geojson", ".json"}
    uploader.upload("districts.geojson", (FIXTURES / "three_districts.geojson").read_bytes(),
                    "application/geo+json").run()
    at.button(key="upload_bcheck").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    notes = " ".join(c.value for c in at.caption)
    assert "match 3 of the 3 areas" in notes, notes
    con = connect(path)
    assert con.execute("SELECT count(*) FROM area_boundaries").fetchone()[0] == 0  # a check
    con.close()
    at.button(key="upload_bimport").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "area map of Mapton" in at.success[0].value
    con = connect(path)
    assert con.execute("SELECT count(*) FROM area_boundaries").fetchone()[0] == 3
    assert con.execute("SELECT count(*) FROM audit_log WHERE action = 'import'").fetchone()[0] == 1
    con.close()
    at.query_params["equity_point"] = "Eligible call → team responded"
    at.switch_page("app_pages/equity.py").run()
    assert _map_values(at) == {"North": pytest.approx(0.6), "Central": pytest.approx(0.3),
                               "South": pytest.approx(0.5)}


def test_the_wizard_refuses_a_csv_as_a_map(monkeypatch, tmp_path):
    path = _mapton(tmp_path, with_boundaries=False)
    monkeypatch.setenv("A911_DB", str(path))
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.run()
    at.switch_page("app_pages/data.py").run()
    at.radio(key="upload_kind").set_value("boundaries").run()
    at.get("file_uploader")[0].upload("areas.geojson", b"area,name\n1,North\n",
                                      "application/geo+json").run()
    at.button(key="upload_bcheck").click().run()
    assert not at.exception
    shown = at.error[0].value.replace("\\", "").replace("\u2060", "")  # markdown escapes
    assert shown.startswith("areas.geojson is not valid JSON (line 1, column 1)"), shown


# --------------------------------------------------------------------------------------------
# Like with like (issue 26): one jurisdiction, several, all; the Simpson cohort
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def confounded(tmp_path_factory):
    from equity_cohort import write_confounded

    path = tmp_path_factory.mktemp("equity_simpson") / "simpson.duckdb"
    write_confounded(path)
    return path


BACKUP = "Team response → police back-up requested"


def _ratio_titles(at) -> list[str]:
    spec = json.loads(at.get_by_key("chart-equity-rri").proto.spec)
    return [a["text"] for a in spec["layout"]["annotations"]]


def test_all_jurisdictions_one_panel_each_and_an_honest_pooled_figure(monkeypatch, confounded):
    at = _equity(monkeypatch, confounded, BACKUP)
    # One panel per jurisdiction, each naming its own reference and why.
    assert _ratio_titles(at) == ["Eastport: against White, the standard reference",
                                 "Westfield: against White, the standard reference"]
    table = open_tables(at, "equity-rri").get_by_key("card-equity-rri").dataframe[0].value
    black = table[table["Race ethnicity"] == "Black"].set_index("Jurisdiction")
    assert black.loc["Eastport", "Relative rate"] == pytest.approx(1.0)   # 300/3000 ÷ 30/300
    assert black.loc["Westfield", "Relative rate"] == pytest.approx(1.0)  # 20/1000 ÷ 100/5000
    # The combined figure: Mantel–Haenszel 1.00 with an interval around 1, and in words that
    # the added-up ratio (320/4000 ÷ 130/5300 = 3.26) is confounded by jurisdiction.
    card = at.get_by_key("card-equity-pooled")
    assert _plain(card.markdown[0].value) == (
        "Team response → police back-up requested, compared within each jurisdiction and "
        "combined: no group's rate differs clearly from White's.")
    pooled = open_tables(at, "equity-pooled").get_by_key(
        "card-equity-pooled").dataframe[0].value.set_index("Race ethnicity")
    assert pooled.loc["Black", "Within jurisdictions (MH)"] == pytest.approx(1.0)
    assert pooled.loc["Black", "MH 95% CI low"] < 1 < pooled.loc["Black", "MH 95% CI high"]
    assert pooled.loc["Black", "Added up (crude, confounded)"] == pytest.approx(3.26, abs=0.01)
    warnings = [_plain(w.value) for w in at.warning]
    assert any(w.startswith("Adding every jurisdiction's records together would mislead "
                            "here: Black 3.26× added up, 1.00× compared within each "
                            "jurisdiction. The added-up (crude) figure is confounded by "
                            "jurisdiction") for w in warnings), warnings
    # The crude ratio is drawn only as the labelled open diamond, never as the main estimate.
    spec = json.loads(at.get_by_key("chart-equity-pooled").proto.spec)
    names = [t.get("name") for t in spec["data"]]
    assert "All records added up (crude: confounded by jurisdiction)" in names


def test_one_jurisdiction_has_no_pooled_figure(monkeypatch, confounded):
    monkeypatch.setenv("A911_DB", str(confounded))
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.query_params["equity_point"] = BACKUP
    at.session_state["privacy_hide"] = False
    at.run()
    at.switch_page("app_pages/equity.py").run()
    at.multiselect(key="j").set_value(["Westfield"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _ratio_titles(at) == ["Westfield: against White, the standard reference"]
    assert "Within Westfield" in " ".join(c.value for c in at.caption)
    with pytest.raises(KeyError):
        at.get_by_key("card-equity-pooled")
    sentence = _plain(at.get_by_key("card-equity-rri").markdown[0].value)
    assert sentence.startswith(f"{BACKUP}: no group's rate differs clearly from White's")


def test_several_jurisdictions_and_the_largest_group_as_reference(monkeypatch, confounded):
    """Gender has no standard reference: each jurisdiction's own largest group (female, two
    thirds of the records in each), stated on its panel."""
    monkeypatch.setenv("A911_DB", str(confounded))
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.query_params["equity_point"] = BACKUP
    at.session_state["privacy_hide"] = False
    at.run()
    at.switch_page("app_pages/equity.py").run()
    at.multiselect(key="j").set_value(["Eastport", "Westfield"]).run()
    at.selectbox(key="equity_by_backup").set_value("gender").run()
    assert not at.exception, [e.value for e in at.exception]
    assert _ratio_titles(at) == [
        "Eastport: against Female, the group with the most records in this jurisdiction",
        "Westfield: against Female, the group with the most records in this jurisdiction"]
    assert at.get_by_key("card-equity-pooled") is not None
    # Choosing a reference applies it in every jurisdiction, and says it was chosen.
    at.selectbox(key="equity_ref_gender").set_value("male").run()
    assert _ratio_titles(at) == ["Eastport: against Male, chosen",
                                 "Westfield: against Male, chosen"]


def test_viewers_see_their_own_jurisdiction_first(monkeypatch, confounded):
    """A viewer of Westfield alone, with no jurisdiction chosen: Westfield within itself."""
    from service.access import Grant, Principal
    from ui import auth

    viewer = Principal("v@westfield.gov", (Grant("viewer", "Westfield"),))
    monkeypatch.setattr(auth, "current", lambda: viewer)
    at = _equity(monkeypatch, confounded, BACKUP)
    assert _ratio_titles(at) == ["Westfield: against White, the standard reference"]
    assert any("Your jurisdiction, Westfield" in c.value for c in at.caption)
