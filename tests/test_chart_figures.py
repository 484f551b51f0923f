"""charts/maps.py (bounds, view, hidden areas) and the parts of charts/figures.py that are not
about where bar labels sit: funnel steps, heatmap cells, tooltips, stacked shares, series."""
import json
import math
from datetime import date

import pandas as pd
import pytest

import metrics
from charts import figures, maps
from charts.frames import frame
from charts.theme import PALETTE

B1, C2, A4 = metrics.BY_ID["B1"], metrics.BY_ID["C2"], metrics.BY_ID["A4"]
SMALL = "hidden (fewer than 11)"
DERIVED = "hidden (built on a hidden count)"


def _row(metric, group, value, reliability="ok", suppressed=None, **more):
    return {"metric": metric, "group": group, "value": value, "reliability": reliability,
            "suppressed": suppressed, **more}


# --------------------------------------------------------------------------------------------
# maps: bounds, fit_view, area_map
# --------------------------------------------------------------------------------------------

def _square(fid, west, south, east, north):
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Feature", "id": fid, "properties": {"area": fid},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def _town():
    # Three areas side by side, 1 degree each; East is a MultiPolygon with an island.
    east = _square("East", 2, 0, 3, 1)
    east["geometry"] = {"type": "MultiPolygon",
                        "coordinates": [east["geometry"]["coordinates"],
                                        [[[3.5, -0.5], [3.6, -0.5], [3.6, -0.4], [3.5, -0.5]]]]}
    return {"type": "FeatureCollection",
            "features": [_square("North", 0, 0, 1, 1), _square("South", 1, 0, 2, 1), east]}


def test_bounds_cover_every_position_of_every_geometry():
    # West 0 (North), east 3.6 and south -0.5 (the island), north 1.
    assert maps.bounds(_town()) == (0.0, -0.5, 3.6, 1.0)
    point = {"features": [{"geometry": {"type": "Point", "coordinates": [-73.9, 40.7]}}]}
    assert maps.bounds(point) == (-73.9, 40.7, -73.9, 40.7)
    with pytest.raises(ValueError, match="no positions"):
        maps.bounds({"type": "FeatureCollection", "features": []})


def test_fit_view_on_the_equator_is_set_by_the_width():
    line = {"features": [{"geometry": {"type": "LineString",
                                       "coordinates": [[0, 0], [3.6, 0]]}}]}
    center, zoom = maps.fit_view(line)
    # 3.6 degrees = 1% of the world: 640 px / (512 px * 0.01) = 125 = 2^6.9658; minus the
    # 0.15 margin = 6.8158 -> 6.82. No height (0 latitude span) to fit.
    assert center == {"lon": 1.8, "lat": pytest.approx(0.0, abs=1e-9)}
    assert zoom == 6.82


def test_fit_view_centres_latitude_in_mercator():
    shape = {"features": [_square("A", -10, 0, 10, 60)]}
    center, zoom = maps.fit_view(shape)
    # y(60) = ln tan(75 deg) = ln 3.7321 = 1.31696; the middle y 0.65848 is latitude
    # 2 atan(e^0.65848) - 90 deg = 2 atan(1.93185) - 90 = 2 * 62.632 - 90 = 35.26 deg, not
    # the plain average 30.
    assert center["lon"] == 0
    assert center["lat"] == pytest.approx(35.26, abs=0.01)
    # Width: 20/360 = 0.05556 -> log2(640 / 28.44) = 4.492. Height: 1.31696 / 2 pi =
    # 0.20960 -> log2(460 / 107.3) = 2.100, the smaller: 2.100 - 0.15 = 1.95.
    assert zoom == pytest.approx(1.95, abs=0.01)


def test_fit_view_of_one_point_is_the_closest_zoom():
    point = {"features": [{"geometry": {"type": "Point", "coordinates": [-73.9, 40.7]}}]}
    center, zoom = maps.fit_view(point)
    assert center["lon"] == -73.9 and center["lat"] == pytest.approx(40.7)
    assert zoom == 15


def _map_frame():
    # North 50%; South's rate hidden (1-10 events); East not in the results at all.
    return frame([_row("B1", {"area": "North"}, 0.5, numerator=20, denominator=40),
                  _row("B1", {"area": "South"}, None, None,
                       {"numerator": "small", "value": "derived"}, denominator=40)],
                 ("area",))


def test_area_map_draws_hidden_and_missing_areas_without_numbers():
    fig = maps.area_map(_map_frame(), B1, _town())
    value, hidden, no_data = fig.data
    assert list(value.locations) == ["North"] and list(value.z) == [0.5]
    assert list(value.customdata) == ["50.0%"]
    assert list(hidden.locations) == ["South"]
    assert maps.HIDDEN_NOTE in hidden.hovertemplate
    assert list(no_data.locations) == ["East"]
    assert maps.NO_DATA_NOTE in no_data.hovertemplate
    key = fig.layout.annotations[0].text
    assert maps.HIDDEN_NOTE in key and maps.NO_DATA_NOTE in key
    assert fig.layout.map.style == maps.OFFLINE_STYLE  # nothing to fetch


def test_a_hidden_area_never_shows_its_value():
    # A value flagged hidden (as ui/equity_view.py flags them) stays out of the figure even
    # when the frame still carries it: 0.37 -> "37.0%" appears nowhere.
    df = pd.DataFrame({"area": ["North", "South"], "rate": [0.5, 0.37],
                       "hidden": [False, True]})
    fig = maps.area_map(df, "rate", _town(), unit="share", label="Coverage")
    text = json.dumps(fig.to_plotly_json(), default=str)
    assert "37.0%" not in text and "0.37" not in text
    assert [list(t.locations) for t in fig.data] == [["North"], ["South"], ["East"]]


def test_area_map_by_a_named_property_and_no_notes_when_all_shown():
    geo = _town()
    for f in geo["features"]:
        del f["id"]
    df = pd.DataFrame({"area": ["North", "South", "East"], "calls": [10, 30, 20]})
    fig = maps.area_map(df, "calls", geo, id_property="area")
    assert len(fig.data) == 1 and fig.data[0].featureidkey == "properties.area"
    assert (fig.data[0].zmin, fig.data[0].zmax) == (10.0, 30.0)
    assert list(fig.data[0].customdata) == ["10", "30", "20"]
    assert not fig.layout.annotations


# --------------------------------------------------------------------------------------------
# funnel
# --------------------------------------------------------------------------------------------

def test_funnel_steps_hidden_words_and_axis():
    steps = [("All calls", 41273, "calls for service"),
             ("Eligible", 33000, "in coverage"),
             ("Team responded", SMALL, "eligible calls answered"),
             ("Contact made", None, "contacts")]
    fig = figures.funnel(steps, "Calls", second_colour_from=2)
    bars = fig.data[0]
    assert list(bars.x) == [41273, 33000, None, 0]  # hidden: no bar; None: 0
    assert list(bars.text) == ["41,273", "33,000", SMALL, "0"]
    assert list(bars.marker.color) == [PALETTE[0], PALETTE[0], PALETTE[2], PALETTE[2]]
    assert bars.hovertext[2] == f"<b>Team responded</b>: {SMALL}<br>eligible calls answered"
    words = fig.data[1]  # the words stand at the base of the missing bar
    assert list(words.y) == ["Team responded"] and list(words.x) == [0]
    assert list(words.text) == [SMALL]
    # 41,273 * 1.25 = 51,591.25; 60 px * 4 steps + 90 = 330.
    assert fig.layout.xaxis.range == pytest.approx((0, 51591.25))
    assert fig.layout.height == 330
    assert list(fig.layout.yaxis.categoryarray) == [s[0] for s in reversed(steps)]


def test_funnel_with_everything_hidden_keeps_an_axis():
    fig = figures.funnel([("All calls", SMALL, "")])
    assert fig.layout.xaxis.range == (0, 1.25)  # max of nothing shown: 1
    assert len(fig.data) == 2


# --------------------------------------------------------------------------------------------
# heatmap
# --------------------------------------------------------------------------------------------

def test_heatmap_cells_marks_and_tooltips():
    cells = frame([_row("B1", {"weekday_hour": "1-08"}, 0.2, numerator=4, denominator=20),
                   _row("B1", {"weekday_hour": "3-14"}, 0.9, "insufficient", numerator=9,
                        denominator=10),
                   _row("B1", {"weekday_hour": "7-23"}, None, None,
                        {"numerator": "small", "value": "derived"}, denominator=30)],
                  ("weekday_hour",))
    extra = frame([{"metric": "A4", "group": {"weekday_hour": "1-08"}, "value": 12}],
                  ("weekday_hour",))
    fig = figures.heatmap_weekday_hour(cells, B1, extra=(A4, extra))
    h = fig.data[0]
    z, hover = h.z, h.hovertext
    assert len(z) == 7 and all(len(row) == 24 for row in z)
    assert z[0][8] == 0.2 and z[2][14] == 0.9 and z[6][23] is None  # Mon, Wed, Sun
    assert sum(v is not None for row in z for v in row) == 2
    # The marks are a text layer over the cells (each in ink or white by its cell's colour).
    (marks,) = [t for t in fig.data if t.name == "marks"]
    assert dict(zip(zip(marks.x, marks.y), marks.text)) == {("14", "Wed"): "×",
                                                            ("23", "Sun"): "–"}
    assert hover[1][5] == "Tue 05:00<br>no eligible calls"
    assert hover[0][8].startswith("<b>Mon 08:00</b><br>Coverage of eligible calls: 20.0%")
    assert hover[0][8].endswith("<br>Out-of-hours eligible-type calls: 12")
    assert DERIVED in hover[6][23] and SMALL in hover[6][23]
    assert h.zmax == 1 and h.zmin == 0  # a share: the full 0-100% scale


# --------------------------------------------------------------------------------------------
# hover_text
# --------------------------------------------------------------------------------------------

def _first(rows, by=()):
    return next(frame(rows, by).itertuples())


def test_hover_text_for_a_rate():
    r = _first([_row("B1", {}, 0.5, numerator=20, denominator=40, ci_low=0.35,
                     ci_high=0.65)])
    assert figures.hover_text(r, B1, "North") == (
        "<b>North</b><br>Coverage of eligible calls: 50.0%<br>20 eligible calls the team "
        "responded to<br>of 40 eligible calls<br>95% interval 35.0%–65.0%")


def test_hover_text_for_a_hidden_weak_rate_names_no_number():
    r = _first([_row("B1", {}, None, "insufficient", {"numerator": "small", "value": "derived",
                                                      "ci_low": "derived"},
                     denominator=40)])
    text = figures.hover_text(r, B1, "<South>")
    assert text == ("<b>&lt;South&gt;</b><br>Coverage of eligible calls: "
                    f"{DERIVED}<br>{SMALL} eligible calls the team responded to<br>of 40 "
                    "eligible calls<br>⚠ insufficient data: fewer than 20 events")


def test_hover_text_for_a_count_and_a_time():
    r = _first([_row("A4", {}, 1240)])
    assert figures.hover_text(r, A4, "Jan 2024") == (
        "<b>Jan 2024</b><br>Out-of-hours eligible-type calls: 1,240 calls")
    t = _first([_row("C2", {}, 12.0, n=1200, p90=30.0, missing=5)])
    assert figures.hover_text(t, C2, "Riverton") == (
        "<b>Riverton</b><br>Team response time: 12.0 min<br>median of 1,200 timed records; "
        "90% within 30.0 min<br>5 records without both times left out")
    gone = _first([_row("C2", {}, None, None, {"value": "small", "n": "small",
                                               "missing": "small", "p90": "small"})])
    assert figures.hover_text(gone, C2, "Ashby") == (
        f"<b>Ashby</b><br>Team response time: {SMALL}<br>timed records: {SMALL}<br>"
        f"records without both times: {SMALL}")


# --------------------------------------------------------------------------------------------
# stacked_shares, line_by_month
# --------------------------------------------------------------------------------------------

def test_stacked_shares_add_up_per_group():
    ids = ["D5ED", "D5CC", "D5OT"]
    shares = {"Riverton": [0.5, 0.3, 0.2], "Millbrook": [0.1, 0.6, 0.25]}
    rows = [_row(m, {"jurisdiction": j}, v[i]) for j, v in shares.items()
            for i, m in enumerate(ids)]
    df = frame(rows, ("jurisdiction",))
    dest = [metrics.BY_ID[m] for m in ids]
    fig = figures.stacked_shares(df, "jurisdiction", dest, {"Millbrook": "Jurisdiction A"},
                                 short={"D5ED": "ED"})
    assert len(fig.data) == 3
    assert [t.name for t in fig.data] == ["ED", dest[1].label, dest[2].label]
    # By label, A on top: y runs bottom to top, so Riverton then Jurisdiction A.
    assert list(fig.data[0].y) == ["Riverton", "Jurisdiction A"]
    totals = [sum(t.x[i] for t in fig.data) for i in range(2)]
    # Riverton 0.5 + 0.3 + 0.2 = 1.0; Millbrook 0.1 + 0.6 + 0.25 = 0.95.
    assert totals == pytest.approx([1.0, 0.95])
    assert [t.marker.color for t in fig.data] == PALETTE[:3]
    assert fig.layout.barmode == "stack"
    assert "Millbrook" not in json.dumps(fig.to_plotly_json(), default=str)


def test_line_by_month_a_line_per_series_and_open_circles_for_weak_months():
    rows = [_row("B1", {"jurisdiction": j, "month": m}, v, rel) for j, m, v, rel in [
        ("Riverton", "2024-02", 0.45, "ok"), ("Riverton", "2024-01", 0.40, "ok"),
        ("Ashby", "2024-01", 0.60, "insufficient"), ("Ashby", "2024-02", 0.30, "ok"),
        ("Cedar Falls", "2024-01", 0.20, "ok")]]
    df = frame(rows, ("jurisdiction", "month"))
    fig = figures.line_by_month(df, "jurisdiction", B1)
    lines = [t for t in fig.data if "lines" in t.mode]
    # Three series, sorted by name, coloured in palette order; months in time order.
    assert [t.name for t in lines] == ["Ashby", "Cedar Falls", "Riverton"]
    assert [t.line.color for t in lines] == PALETTE[:3]
    assert list(lines[2].x) == [date(2024, 1, 1), date(2024, 2, 1)]
    assert list(lines[2].y) == [0.40, 0.45]
    # One open circle (Ashby, January) and one legend entry explaining them: 3 + 1 + 1.
    assert len(fig.data) == 5
    circles = [t for t in fig.data if t.mode == "markers" and t.showlegend is False]
    assert len(circles) == 1 and list(circles[0].x) == [date(2024, 1, 1)]
    assert list(circles[0].y) == [0.60]


def test_line_by_month_one_series_takes_the_metric_label():
    rows = [_row("A4", {"month": m}, v) for m, v in [("2024-01", 100), ("2024-02", 250)]]
    fig = figures.line_by_month(frame(rows, ("month",)), None, A4)
    assert len(fig.data) == 1 and fig.data[0].name == A4.label
    assert fig.data[0].hovertext[1] == ("<b>Feb 2024</b><br>Out-of-hours eligible-type calls: "
                                        "250 calls")
    assert math.isclose(max(fig.data[0].y), 250)
