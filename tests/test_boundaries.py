"""Area boundaries: GeoJSON upload, checks, undo, and the choropleth drawn with no tile server.

tests/fixtures/three_districts.geojson is written by hand: three districts (North and Central
Polygons, South a two-part MultiPolygon) with properties DISTRICT ('North'...), DIST_NUM ('01'...)
and OBJECTID. The calls written here have areas North, Central and River.
"""
from __future__ import annotations

import copy
import functools
import http.server
import json
import math
import threading
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import plotly.colors
import pytest
from click.testing import CliRunner

from data import (DataError, ImportRefused, MappingError, ReadError, import_file, parse_profile,
                  undo_import)
from data import boundaries
from data.boundaries import feature_collection, import_boundaries
from data.cli import cli
from charts.maps import OFFLINE_STYLE, area_map, bounds, fit_view

from conftest import table_contents

GEOJSON = Path(__file__).resolve().parent / "fixtures" / "three_districts.geojson"
CALLS = """kind = "calls"
[columns]
call_id = "Call"
received_at = "Received"
call_type = "Type"
area = "Area"
[options]
timezone = "America/Los_Angeles"
"""


def _calls(con, tmp_path, areas=("North", "Central", "River"), jurisdiction="Springfield"):
    lines = ["Call,Received,Type,Area"] + [f"C{i},2024-05-0{i + 1} 10:00,WELFARE,{a}"
                                           for i, a in enumerate(areas)]
    path = tmp_path / f"calls-{jurisdiction}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_file(con, path, kind="calls", jurisdiction=jurisdiction, profile=parse_profile(CALLS))


def _doc():
    return json.loads(GEOJSON.read_text(encoding="utf-8"))


def _write(tmp_path, doc, name="areas.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


def _stored(con, jurisdiction="Springfield"):
    return {a: json.loads(g) for a, g in con.execute(
        "SELECT area, geometry FROM area_boundaries WHERE jurisdiction = ?",
        [jurisdiction]).fetchall()}


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------

def test_import_finds_the_area_property_and_reports_coverage(con, tmp_path):
    _calls(con, tmp_path)
    r = import_boundaries(con, GEOJSON, jurisdiction="Springfield")
    assert (r.kind, r.status, r.rows_read, r.rows_inserted, r.rows_rejected) == (
        "boundaries", "committed", 3, 3, 0)
    assert r.notes[0] == ("area property 'DISTRICT' (found: its values match 2 of the 3 areas "
                          "in the calls and responses)")
    assert "1 area in the calls and responses has no boundary ('River'); the map leaves them " \
           "out" in r.notes
    assert "1 boundary has no calls or responses ('South')" in r.notes
    got = _stored(con)
    assert set(got) == {"North", "Central", "South"}
    assert got["North"] == _doc()["features"][0]["geometry"]
    assert got["South"]["type"] == "MultiPolygon" and len(got["South"]["coordinates"]) == 2
    ledger = con.execute("SELECT kind, jurisdiction, file_name, rows_read, rows_inserted, "
                         "status FROM imports WHERE import_id = ?", [r.import_id]).fetchone()
    assert ledger == ("boundaries", "Springfield", "three_districts.geojson", 3, 3, "committed")


def test_numbers_match_however_they_are_written(con, tmp_path):
    _calls(con, tmp_path, areas=("1", "2", "3"))
    r = import_boundaries(con, GEOJSON, jurisdiction="Springfield")
    # OBJECTID (1, 2, 3) matches as well, but a GIS row number is the weaker guess.
    assert r.notes[0].startswith("area property 'DIST_NUM' (found: its values match 3 of the 3")
    assert r.notes[1] == ("'OBJECTID' match as many; name the right one with --area-property "
                          "if it is not 'DIST_NUM'")
    assert set(_stored(con)) == {"1", "2", "3"}  # as the calls write them, not '01'


def test_a_named_property_wins(con, tmp_path):
    _calls(con, tmp_path)
    r = import_boundaries(con, GEOJSON, jurisdiction="Springfield", area_property="OBJECTID")
    assert r.notes[0].startswith("area property 'OBJECTID' (given: its values match 0 of the 3")
    assert set(_stored(con)) == {"1", "2", "3"}


def test_unknown_property_and_no_match_are_explained(con, tmp_path):
    _calls(con, tmp_path, areas=("Uptown", "Harbor"))
    before = table_contents(con)
    with pytest.raises(MappingError, match="no feature has the property 'BEAT'; its properties "
                                           "are OBJECTID \\(e.g. '1', '2', '3'\\); DISTRICT"):
        import_boundaries(con, GEOJSON, jurisdiction="Springfield", area_property="BEAT")
    with pytest.raises(MappingError, match="none of its properties has values matching the areas "
                                           "in the calls and responses \\(e.g. 'Harbor', "
                                           "'Uptown'\\).*--area-property"):
        import_boundaries(con, GEOJSON, jurisdiction="Springfield")
    assert table_contents(con) == before


def test_unknown_jurisdiction_is_refused(con):
    with pytest.raises(DataError, match="no jurisdiction 'Nowhere' yet"):
        import_boundaries(con, GEOJSON, jurisdiction="Nowhere")


def test_features_of_one_area_are_merged(con, tmp_path):
    _calls(con, tmp_path)
    doc = _doc()
    extra = copy.deepcopy(doc["features"][1])
    extra["properties"]["OBJECTID"] = 4
    doc["features"].append(extra)
    r = import_boundaries(con, _write(tmp_path, doc), jurisdiction="Springfield")
    assert (r.rows_read, r.rows_inserted, r.rows_merged) == (4, 3, 1)
    assert _stored(con)["Central"]["type"] == "MultiPolygon"
    assert any(n.startswith("1 area had several features") for n in r.notes)


# --------------------------------------------------------------------------------------------
# Checks: the file is refused, or single features are rejected
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("doc, message", [
    ({"type": "Feature", "geometry": None, "properties": {}},
     "not a GeoJSON FeatureCollection \\(its type is 'Feature'\\)"),
    ([1, 2], "not a GeoJSON FeatureCollection \\(its type is 'list'\\)"),
    ({"type": "FeatureCollection", "features": []}, "has no features"),
    ("{\"type\": \"FeatureCollection\", \"features\": [", "is not valid JSON \\(line 1"),
    ('{"type": "FeatureCollection", "features": [], "x": NaN}', "is not valid JSON"),
    ({"type": "FeatureCollection", "features": [{}], "crs": {"type": "name", "properties": {
        "name": "urn:ogc:def:crs:EPSG::2913"}}}, "declares the coordinate system "
                                                 "'urn:ogc:def:crs:EPSG::2913'"),
])
def test_files_that_are_not_area_layers_are_refused(con, tmp_path, doc, message):
    _calls(con, tmp_path)
    before = table_contents(con)
    with pytest.raises(ReadError, match=message):
        import_boundaries(con, _write(tmp_path, doc), jurisdiction="Springfield")
    assert table_contents(con) == before


def _scaled(doc, fn):
    for f in doc["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        for poly in polys:
            for ring in poly:
                for pos in ring:
                    pos[:] = fn(pos)
    return doc


def test_projected_coordinates_are_refused_with_the_fix(con, tmp_path):
    _calls(con, tmp_path)
    feet = _scaled(_doc(), lambda p: [4_250_000 + p[0] * 1000, 870_000 + p[1] * 1000])
    with pytest.raises(ReadError, match="projected coordinate system.*WGS 84 \\(EPSG:4326\\)"):
        import_boundaries(con, _write(tmp_path, feet), jurisdiction="Springfield")
    swapped = _scaled(_doc(), lambda p: [p[1], p[0]])
    with pytest.raises(ReadError, match="look like latitude, longitude; GeoJSON puts longitude"):
        import_boundaries(con, _write(tmp_path, swapped), jurisdiction="Springfield")


def test_limits(con, tmp_path, monkeypatch):
    _calls(con, tmp_path)
    monkeypatch.setattr(boundaries, "MAX_FEATURES", 2)
    with pytest.raises(ReadError, match="has 3 features; at most 2 areas"):
        import_boundaries(con, GEOJSON, jurisdiction="Springfield")
    monkeypatch.setattr(boundaries, "MAX_FEATURES", 5000)
    monkeypatch.setattr(boundaries, "MAX_POSITIONS", 10)
    with pytest.raises(ReadError, match="has 21 vertices; at most 10"):
        import_boundaries(con, GEOJSON, jurisdiction="Springfield")
    monkeypatch.setattr(boundaries, "MAX_BYTES", 1000)
    with pytest.raises(ReadError, match="boundaries may be at most 0 MB|at most"):
        import_boundaries(con, GEOJSON, jurisdiction="Springfield")


def test_unusable_features_are_rejected_with_their_number(con, tmp_path):
    _calls(con, tmp_path)
    doc = _doc()
    doc["features"][1]["geometry"] = {"type": "Point", "coordinates": [-123.1, 44.05]}
    doc["features"][2]["geometry"]["coordinates"][1][0].pop()  # a ring no longer closed
    doc["features"].append({"type": "Feature", "properties": {"DISTRICT": " "},
                            "geometry": doc["features"][0]["geometry"]})
    doc["features"].append({"type": "Feature", "properties": {"DISTRICT": "East"}, "geometry": {
        "type": "Polygon", "coordinates": [[[-123, 44], [-122.9, 44], [-122.9, "44.1"],
                                            [-123, 44]]]}})
    for name in ("A", "B", "C", "D"):  # usable ones, so that the file is not refused outright
        doc["features"].append({"type": "Feature", "properties": {"DISTRICT": name},
                                "geometry": doc["features"][0]["geometry"]})
    r = import_boundaries(con, _write(tmp_path, doc), jurisdiction="Springfield")
    assert (r.rows_read, r.rows_inserted, r.rows_rejected) == (9, 5, 4)
    rejects = con.execute('SELECT file_row, "column", reason, raw_values FROM rejects ORDER BY 1'
                          ).fetchall()
    assert [(n, c, why) for n, c, why, _ in rejects] == [
        (2, "geometry", "geometry is Point, not a Polygon or MultiPolygon"),
        (3, "geometry", "a ring is not closed (its first and last positions differ)"),
        (4, "DISTRICT", "no value for the area property 'DISTRICT'"),
        (5, "geometry", 'position [-122.9, "44.1"] is not [longitude, latitude]')]
    assert json.loads(rejects[0][3])["DISTRICT"] == "Central"
    assert set(_stored(con)) == {"North", "A", "B", "C", "D"}


def test_mostly_unusable_file_is_refused(con, tmp_path):
    _calls(con, tmp_path)
    doc = _doc()
    for f in doc["features"][:2]:
        f["geometry"] = {"type": "LineString", "coordinates": [[-123, 44], [-123.1, 44.1]]}
    before = table_contents(con)
    with pytest.raises(ImportRefused, match="2 of 3 features cannot be used \\(feature 1: geometry "
                                        "is LineString"):
        import_boundaries(con, _write(tmp_path, doc), jurisdiction="Springfield")
    assert table_contents(con) == before


# --------------------------------------------------------------------------------------------
# Re-import, replacement and undo
# --------------------------------------------------------------------------------------------

def test_reimport_changes_nothing_and_undo_restores_exactly(con, tmp_path):
    _calls(con, tmp_path)
    first = import_boundaries(con, GEOJSON, jurisdiction="Springfield")
    state = table_contents(con)
    again = import_boundaries(con, GEOJSON, jurisdiction="Springfield")
    assert again.status == "already_imported" and again.previous_import == first.import_id
    assert table_contents(con) == state

    doc = _doc()
    doc["features"][0]["geometry"]["coordinates"][0][3] = [-123.1, 44.14]  # North redrawn
    del doc["features"][1]                                                # Central dropped
    second = import_boundaries(con, _write(tmp_path, doc), jurisdiction="Springfield")
    assert (second.rows_inserted, second.rows_updated, second.rows_unchanged) == (0, 1, 1)
    assert "1 earlier boundary not in this file removed (undo brings them back)" in second.notes
    assert set(_stored(con)) == {"North", "South"}
    assert _stored(con)["North"]["coordinates"][0][3] == [-123.1, 44.14]

    undo_import(con, second.import_id)
    assert table_contents(con) == {**state, "imports": table_contents(con)["imports"],
                                   "_sequence": table_contents(con)["_sequence"]}
    assert _stored(con)["North"] == _doc()["features"][0]["geometry"]
    undo_import(con, first.import_id)
    assert _stored(con) == {}


def test_dry_run_writes_nothing(con, tmp_path):
    _calls(con, tmp_path)
    before = table_contents(con)
    r = import_boundaries(con, GEOJSON, jurisdiction="Springfield", dry_run=True)
    assert (r.status, r.rows_inserted) == ("dry_run", 3)
    assert {k: v for k, v in table_contents(con).items() if k != "_sequence"} == \
        {k: v for k, v in before.items() if k != "_sequence"}


def test_boundaries_are_per_jurisdiction(con, tmp_path):
    _calls(con, tmp_path)
    _calls(con, tmp_path, areas=("North",), jurisdiction="Shelbyville")
    import_boundaries(con, GEOJSON, jurisdiction="Springfield")
    import_boundaries(con, GEOJSON, jurisdiction="Shelbyville")
    assert len(_stored(con, "Springfield")) == len(_stored(con, "Shelbyville")) == 3
    assert feature_collection(con, "Nowhere") is None
    fc = feature_collection(con, "Shelbyville")
    assert [f["id"] for f in fc["features"]] == ["Central", "North", "South"]


def test_command_line(tmp_path, con, db_path):
    _calls(con, tmp_path)
    con.close()
    bad = CliRunner().invoke(cli, ["import", str(GEOJSON), "--kind", "boundaries",
                                   "--jurisdiction", "Springfield", "--area-property", "BEAT",
                                   "--db", str(db_path)])
    assert bad.exit_code == 1
    assert "Error: three_districts.geojson: no feature has the property 'BEAT'" in bad.output
    run = CliRunner().invoke(cli, ["import", str(GEOJSON), "--kind", "boundaries",
                                   "--jurisdiction", "Springfield", "--db", str(db_path)])
    assert run.exit_code == 0, run.output
    assert "Import #2: three_districts.geojson as boundaries for Springfield" in run.output
    assert "rows read 3; inserted 3" in run.output
    assert "note: 1 boundary has no calls or responses ('South')" in run.output
    undo = CliRunner().invoke(cli, ["undo", "2", "--db", str(db_path)])
    assert undo.exit_code == 0 and "removed 3 rows" in undo.output


# --------------------------------------------------------------------------------------------
# The map
# --------------------------------------------------------------------------------------------

def _collection():
    """The fixture as data.boundaries.feature_collection returns it: id = the area."""
    doc = _doc()
    for f in doc["features"]:
        f["id"] = f["properties"]["DISTRICT"]
    return doc


def _frame():
    return pd.DataFrame({"area": ["North", "Central", "South"], "rate": [0.42, 0.18, None],
                         "hidden": [False, False, True]})


def test_map_uses_no_tile_server_and_no_url(con, tmp_path):
    fig = area_map(_frame(), "rate", _collection(), unit="share",
                   label="Team responded")
    spec = fig.to_plotly_json()
    text = fig.to_json()
    assert "http" not in text and "mapbox" not in text.lower() and "tiles" not in text
    assert {t["type"] for t in spec["data"]} == {"choroplethmap"}
    style = spec["layout"]["map"]["style"]
    assert style == OFFLINE_STYLE and style["sources"] == {}
    assert "glyphs" not in style and "sprite" not in style
    assert "layers" not in spec["layout"]["map"]  # no extra (tile or raster) layers


def test_map_colours_values_cividis_and_hidden_grey(con):
    fig = area_map(_frame(), "rate", _collection(), unit="share",
                   label="Team responded")
    values, hidden = fig.data
    assert list(values.locations) == ["North", "Central"] and list(values.z) == [0.42, 0.18]
    assert [c for _, c in values.colorscale] == list(plotly.colors.sequential.Cividis)
    assert list(values.customdata) == ["42.0%", "18.0%"]
    assert list(hidden.locations) == ["South"] and hidden.showscale is False
    assert {c for _, c in hidden.colorscale} == {"#8c8c8c"}
    assert "hidden" in hidden.hovertemplate and "%{z" not in hidden.hovertemplate
    assert "customdata" not in hidden.to_plotly_json()
    assert "hidden: too few to show" in fig.layout.annotations[0].text


def test_map_marks_areas_with_no_value_as_no_data(con):
    df = pd.DataFrame({"area": ["North"], "rate": [0.3]})
    fig = area_map(df, "rate", _collection())
    assert [list(t.locations) for t in fig.data] == [["North"], ["Central", "South"]]
    assert "no data" in fig.data[1].hovertemplate


def test_map_takes_engine_rows_of_a_metric(con):
    metric = SimpleNamespace(id="ar_share", label="Share answered by the team", unit="share")
    rows = pd.DataFrame({"metric": ["ar_share", "ar_share", "other"], "area": ["North", "South",
                                                                              "North"],
                         "value": [0.5, 0.25, 99.0]})
    fig = area_map(rows, metric, _collection())
    assert list(fig.data[0].z) == [0.5, 0.25]
    assert fig.data[0].colorbar.title.text == "Share answered by the team"


def test_view_fits_the_boundaries_tightly():
    doc = _collection()
    west, south, east, north = bounds(doc)
    assert (west, south, east, north) == (-123.15, 44.0, -123.01, 44.135)
    center, zoom = fit_view(doc, (640, 460))
    assert center["lon"] == pytest.approx((west + east) / 2)
    assert south < center["lat"] < north

    def px(z):  # the boundaries' size on screen at zoom z (Web Mercator, 512 px tiles)
        y = lambda lat: math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))  # noqa: E731
        world = 512 * 2 ** z
        return (east - west) / 360 * world, (y(north) - y(south)) / (2 * math.pi) * world
    assert px(zoom)[0] <= 640 and px(zoom)[1] <= 460          # everything is visible
    assert px(zoom + 0.5)[0] > 640 or px(zoom + 0.5)[1] > 460  # and not needlessly small
    fig = area_map(_frame(), "rate", doc)
    assert fig.layout.map.center.lon == pytest.approx(center["lon"])
    assert fig.layout.map.zoom == zoom and fig.layout.map.fitbounds is False


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.playwright
def test_map_draws_in_a_browser_without_any_request(tmp_path):
    """The real check: chromium draws the polygons and asks no other host for anything.

    Served over HTTP on a free port, as Streamlit serves it: from file:// MapLibre's worker
    cannot load the shapes. The tile-server styles fail this test (they fetch
    tile.openstreetmap.org), which is how it was checked to be able to fail.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    area_map(_frame(), "rate", _collection()).write_html(
        tmp_path / "map.html", include_plotlyjs=True, full_html=True)
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}/"
    requests, result = [], {}

    def drive():
        # Its own thread: the browser tests' session-wide Playwright runs an asyncio loop in
        # the main thread, and the sync API refuses to start inside a running loop.
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
                "--use-gl=swiftshader", "--enable-unsafe-swiftshader", "--no-sandbox",
                "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto(origin + "map.html")
            page.wait_for_function("() => { const gd = document.querySelector('.js-plotly-plot');"
                                   " const m = gd && gd._fullLayout.map && gd._fullLayout.map."
                                   "_subplot && gd._fullLayout.map._subplot.map;"
                                   " return m && m.loaded(); }", timeout=30000)
            result["drawn"] = page.evaluate(
                "() => document.querySelector('.js-plotly-plot')._fullLayout"
                ".map._subplot.map.queryRenderedFeatures().length")
            page.wait_for_timeout(1000)  # anything MapLibre would still fetch, it asks for now
            browser.close()

    try:
        worker = threading.Thread(target=drive)
        worker.start()
        worker.join(timeout=120)
    finally:
        server.shutdown()
    drawn = result.get("drawn", 0)
    assert drawn >= 3  # North, Central and South (its two parts) are on screen
    assert [u for u in requests if not u.startswith((origin, "blob:", "data:"))] == []


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


def test_map_of_a_raw_geojson_names_its_area_property(con, tmp_path):
    fig = area_map(_frame(), "rate", _doc(), id_property="DISTRICT")
    assert fig.data[0].featureidkey == "properties.DISTRICT"
    assert [list(t.locations) for t in fig.data] == [["North", "Central"], ["South"]]


def test_map_of_stored_boundaries(con, tmp_path):
    _calls(con, tmp_path)
    import_boundaries(con, GEOJSON, jurisdiction="Springfield")
    fig = area_map(_frame(), "rate", feature_collection(con, "Springfield"))
    assert fig.data[0].featureidkey == "id"
    assert sorted(fig.data[0].locations) == ["Central", "North"]
