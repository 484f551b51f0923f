"""The Equity page on a planted disparity: it shows the gap with an interval excluding 1, and an
equal-rate group with an interval including 1 (issue 5). AppTest, a hand-built database."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.connection import connect

DASHBOARD = str(Path(__file__).resolve().parent.parent / "dashboard.py")

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
    table = at.get_by_key("card-equity-rri").dataframe[0].value.set_index("Race ethnicity")
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
    table = at.get_by_key("card-equity-pop").dataframe[0].value.set_index("Race ethnicity")
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


def test_areas_on_the_jurisdictions_own_map(monkeypatch, tmp_path):
    """Coverage by area drawn over uploaded boundaries, with no tile server in the figure."""
    import json

    from data.boundaries import import_boundaries

    path = tmp_path / "areas.duckdb"
    con = connect(path, readable_dirs=(Path(__file__).parent / "fixtures",))
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone, target_categories) VALUES "
                "('Mapton', 'America/Chicago', ['MENTAL_HEALTH'])")
    con.execute("INSERT INTO crosswalk VALUES ('Mapton', 'MENTAL', 'MENTAL_HEALTH', true)")
    n = 0
    for area, calls, team in (("North", 100, 60), ("Central", 100, 30), ("South", 40, 20)):
        for i in range(calls):
            n += 1
            con.execute(
                "INSERT INTO calls (jurisdiction, call_id, received_at, received_local, "
                "call_type, responder, area, import_id) VALUES ('Mapton', ?, "
                "TIMESTAMPTZ '2025-03-01 18:00:00+00', TIMESTAMP '2025-03-01 12:00:00', "
                "'MENTAL', ?, ?, 1)", [f"c{n}", "alternative" if i < team else "police", area])
    import_boundaries(con, Path(__file__).parent / "fixtures" / "three_districts.geojson",
                      jurisdiction="Mapton")
    con.close()
    at = _equity(monkeypatch, path, "Eligible call → team responded")
    spec = json.loads(at.get_by_key("chart-equity-map").proto.spec)
    traces = [t for t in spec["data"] if t["type"] == "choroplethmap"]
    values = dict(zip(traces[0]["locations"], traces[0]["z"]))
    assert values == {"North": pytest.approx(0.6), "Central": pytest.approx(0.3),
                      "South": pytest.approx(0.5)}
    assert "http" not in json.dumps(spec["layout"].get("map", {}))  # no tiles, fonts, sprites
