"""WCAG 2.1 AA in the charts and the theme: text contrast (1.4.3) and no series by colour alone
(1.4.1). axe-core (tests/browser/test_accessibility.py) checks the page's HTML text; it cannot
see Plotly's SVG text, so every text colour a figure sets is checked here against what it is
drawn on."""
from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from plotly.colors import sample_colorscale

import metrics
from charts import capacity, figures, impact
from charts.frames import frame
from charts.theme import (AA_TEXT, BLACK, HIDDEN_INK, INK, NO_DATA, PALETTE, SEQUENTIAL, WHITE,
                          contrast_ratio, relative_luminance, text_on)

ROOT = Path(__file__).resolve().parents[1]
B1 = metrics.BY_ID["B1"]
SIDEBAR_GREY = "#f0f2f6"  # Streamlit's light theme secondary background (the sidebar)


# --------------------------------------------------------------------------------------------
# The formula, checked by hand
# --------------------------------------------------------------------------------------------

def test_relative_luminance_and_contrast_by_hand():
    # #777777: 119/255 = 0.46667 > 0.04045, so ((0.46667 + 0.055) / 1.055) ** 2.4
    # = 0.494471 ** 2.4 = exp(2.4 * -0.704176) = exp(-1.690022) = 0.184475 (the same in every
    # channel, and the weights add up to 1). Against white: (1 + 0.05) / (0.184475 + 0.05)
    # = 4.478, just under AA; #767676 is the lightest grey that passes (4.54).
    assert relative_luminance("#777777") == pytest.approx(0.184475, abs=1e-6)
    assert contrast_ratio("#777777", WHITE) == pytest.approx(4.478, abs=1e-3)
    assert contrast_ratio(WHITE, "#777777") == contrast_ratio("#777777", WHITE)
    assert contrast_ratio("#767676", WHITE) >= AA_TEXT > contrast_ratio("#777777", WHITE)
    # The ends: black on white is 21:1; a colour on itself 1:1.
    assert relative_luminance("#000000") == 0 and relative_luminance(WHITE) == 1
    assert contrast_ratio("#000000", WHITE) == pytest.approx(21)
    # A dark channel uses the linear part: 10/255 = 0.0392 <= 0.04045 -> 0.0392 / 12.92,
    # times green's weight 0.7152 = 0.0021705.
    assert relative_luminance("#000a00") == pytest.approx(0.7152 * (10 / 255) / 12.92)
    # Plotly's rgb() strings read as the same colour as their hex.
    assert relative_luminance("rgb(0, 114, 178)") == relative_luminance("#0072B2")


# --------------------------------------------------------------------------------------------
# The theme's text colours
# --------------------------------------------------------------------------------------------

def _faded(text: str, alpha: float, background: str) -> str:
    """Text drawn at ``alpha`` opacity on ``background``, as the colour the eye gets."""
    t = [int(text[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(background[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(alpha * x + (1 - alpha) * y):02x}" for x, y in zip(t, b))


def test_captions_reach_aa_on_white_and_on_the_sidebar():
    """Streamlit draws captions, tile details and help text in the theme's text colour at 60%
    opacity. From its default (#31333F) that fails AA; from the shipped textColor it passes."""
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    assert contrast_ratio(_faded("#31333f", 0.6, WHITE), WHITE) < AA_TEXT  # the finding
    for background in (WHITE, SIDEBAR_GREY):
        for colour in (theme["textColor"], theme["codeTextColor"]):  # words, `code` in them
            caption = _faded(colour, 0.6, background)
            assert contrast_ratio(caption, background) >= AA_TEXT, (caption, background)


def test_the_primary_colour_reads_as_text_and_under_white_text():
    """The selected tab's label is drawn in it; a chosen filter's chip and a primary button
    carry white text on it. Streamlit's default red (#FF4B4B) fails both (3.1:1)."""
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    assert contrast_ratio("#ff4b4b", WHITE) < AA_TEXT  # the default, were it left
    assert contrast_ratio(theme["primaryColor"], WHITE) >= AA_TEXT


def test_text_colours_of_the_charts_reach_aa_on_white():
    for colour in (INK, HIDDEN_INK, "#000000"):
        assert contrast_ratio(colour, WHITE) >= AA_TEXT, colour
    # Values printed inside a bar: white on the first palette colour (5.2:1).
    assert text_on(PALETTE[0]) == WHITE and contrast_ratio(WHITE, PALETTE[0]) >= AA_TEXT


def test_text_on_picks_whichever_reads_better():
    # Cividis' light yellow end (#fee838): black 16.8:1, white 1.2:1.
    assert text_on("rgb(254, 232, 56)") == BLACK
    # Its dark blue end (#00224e): white 15.7:1.
    assert text_on("rgb(0, 34, 78)") == WHITE
    assert text_on(NO_DATA) == BLACK
    # The highlight orange (#E69F00): white would be 2.3:1.
    assert text_on(PALETTE[1]) == BLACK
    # Cividis' middle grey (#7d7c76): black 5.0:1; ink (#1a1a1a) would be 4.2:1, white 4.2:1.
    assert text_on("rgb(125, 124, 118)") == BLACK
    assert contrast_ratio(INK, "rgb(125, 124, 118)") < AA_TEXT
    cividis = sample_colorscale(SEQUENTIAL, [i / 20 for i in range(21)])
    for colour in PALETTE + [NO_DATA] + cividis:
        assert contrast_ratio(text_on(colour), colour) >= AA_TEXT, colour


# --------------------------------------------------------------------------------------------
# Figures: every text colour they set, against what it is drawn on
# --------------------------------------------------------------------------------------------

def _row(group, value, reliability="ok", suppressed=None):
    return {"metric": "B1", "group": group, "value": value, "reliability": reliability,
            "suppressed": suppressed}


def test_launch_labels_are_ink_not_the_series_colour():
    rows = [_row({"jurisdiction": j, "month": m}, v) for j, m, v in [
        ("Ashby", "2024-01", 0.4), ("Ashby", "2024-02", 0.5),
        ("Riverton", "2024-01", 0.3), ("Riverton", "2024-02", 0.35)]]
    fig = figures.line_by_month(frame(rows, ("jurisdiction", "month")), "jurisdiction", B1,
                                [("Riverton", date(2024, 2, 1))])
    (label,) = [a for a in fig.layout.annotations if a.text == "Riverton launch"]
    assert label.font.color == INK  # was PALETTE[1], orange: 2.3:1 on white
    assert contrast_ratio(label.font.color, WHITE) >= AA_TEXT
    # The line still carries the series colour, so the label and line belong together.
    (line,) = [s for s in fig.layout.shapes if s.line.dash == "dot"]
    assert line.line.color == PALETTE[1]


def test_heat_map_marks_read_on_their_own_cells():
    # Three marked cells: Monday 00:00 too few events on a light cell (0.95, yellow), Monday
    # 01:00 too few on a dark one (0.02, dark blue), Tuesday 00:00 hidden (no value: grey).
    hidden = {"value": "small", "numerator": "small", "denominator": "small"}
    rows = [_row({"weekday_hour": "1-00"}, 0.95, "insufficient"),
            _row({"weekday_hour": "1-01"}, 0.02, "insufficient"),
            _row({"weekday_hour": "2-00"}, None, "ok", hidden),
            _row({"weekday_hour": "1-02"}, 0.5)]
    fig = figures.heatmap_weekday_hour(frame(rows, ("weekday_hour",), lambda r: "hidden"), B1)
    (marks,) = [t for t in fig.data if t.name == "marks"]
    got = {(x, y): (text, colour) for x, y, text, colour
           in zip(marks.x, marks.y, marks.text, marks.textfont.color)}
    assert got == {("00", "Mon"): ("×", BLACK), ("01", "Mon"): ("×", WHITE),
                   ("00", "Tue"): ("–", BLACK)}
    cells = {("00", "Mon"): sample_colorscale(SEQUENTIAL, [0.95])[0],
             ("01", "Mon"): sample_colorscale(SEQUENTIAL, [0.02])[0], ("00", "Tue"): NO_DATA}
    for key, (_, colour) in got.items():
        assert contrast_ratio(colour, cells[key]) >= AA_TEXT, key
    heat = fig.data[0]
    assert heat.type == "heatmap" and heat.text is None  # no white text of its own left


# --------------------------------------------------------------------------------------------
# No series told apart by colour alone
# --------------------------------------------------------------------------------------------

def _series(fig):
    """The legend's line series of a figure: (name, colour, dash, marker symbol)."""
    return [(t.name, t.line.color, t.line.dash or "solid",
             t.marker.symbol if "markers" in (t.mode or "") else None)
            for t in fig.data if t.type == "scatter" and "lines" in (t.mode or "")
            and t.showlegend is not False and t.line.width != 0]


def _apart_without_colour(series):
    styles = [(dash, symbol) for _, _, dash, symbol in series]
    return len(series) >= 2 and len(set(styles)) == len(styles)


def _months_by_jurisdiction(names):
    rows = [_row({"jurisdiction": j, "month": m}, 0.1 * (i + 1))
            for i, j in enumerate(names) for m in ("2024-01", "2024-02")]
    return frame(rows, ("jurisdiction", "month"))


@pytest.mark.parametrize("n", [2, 5, 8])
def test_monthly_lines_differ_by_dash_and_marker(n):
    names = [f"J{i}" for i in range(n)]
    series = _series(figures.line_by_month(_months_by_jurisdiction(names), "jurisdiction", B1))
    assert [s[0] for s in series] == names
    assert _apart_without_colour(series), series
    assert all(s[3] is not None for s in series)  # markers drawn, shown in the legend too
    assert all(s[2] != "dot" for s in series)  # dotted: the launch lines' style


def test_other_multi_series_line_charts_differ_by_dash_and_marker():
    months = [pd.Timestamp(2024, m, 1).date() for m in (1, 2, 3)]
    launch = date(2024, 2, 1)
    police = pd.DataFrame({"month": months, "police_calls": [30, 20, 10],
                           "team_calls": [0, 12, 18]})
    index = pd.DataFrame({"month": months * 2, "group": ["program"] * 3 + ["comparison"] * 3,
                          "index": [100, 90, 80, 100, 101, 99]})
    hours = pd.DataFrame({"schedule": ["A"] * 2 + ["B"] * 2, "hour": [8, 9, 8, 9],
                          "coverage": [0.5, 0.6, 0.7, 0.8], "calls": [10, 12, 10, 12]})
    for fig in (impact.monthly(police, "police_calls", launch, "hidden"),
                impact.comparison(index, launch, "areas the team does not cover"),
                capacity.coverage_by_hour(hours)):
        series = _series(fig)
        assert _apart_without_colour(series), series


def test_the_style_check_itself_fails_on_colour_alone():
    # Two solid lines with the same (no) marker, told apart only by colour.
    assert not _apart_without_colour([("a", PALETTE[0], "solid", None),
                                      ("b", PALETTE[1], "solid", None)])
