"""One palette and one set of number formats for every chart."""
from __future__ import annotations

import plotly.io as pio

from metrics.stats import FEW_EVENTS

# Every figure starts from plotly_white. Set once as the default: naming the template on each
# figure copies the whole template every time, about 10 ms a chart.
pio.templates.default = "plotly_white"

# Okabe-Ito, safe for the common colour-vision deficiencies (also in .streamlit/config.toml).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000"]
SEQUENTIAL = "Cividis"
FONT_SIZE = 15
PRESENTER_FONT_SIZE = 22
NO_DATA = "#d9d9d9"  # cells and bars with nothing to show
INK = "#1a1a1a"
HIDDEN_INK = "#595959"  # the words standing in for a hidden number (7:1 on white)
# Rates built on too few events (reliability "insufficient") are hatched and faded.
INSUFFICIENT_PATTERN = "/"
INSUFFICIENT_NOTE = f"insufficient data: {FEW_EVENTS}"


def fmt_value(value, unit: str) -> str:
    if value is None or value != value:  # None or NaN
        return "—"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "minutes":
        return f"{value:,.1f} min"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def tick_format(unit: str, top: float | None = None) -> str:
    """Axis ticks: whole percents, or tenths when the axis ends below 10%."""
    if unit == "share":
        return ".1%" if top is not None and top < 0.1 else ".0%"
    return ","


def layout(fig, title: str | None = None):
    fig.update_layout(font_size=FONT_SIZE, font_color=INK,
                      colorway=PALETTE, title=title,
                      margin=dict(l=10, r=10, t=50 if title else 10, b=10),
                      legend_title_text="", hoverlabel=dict(font_size=FONT_SIZE))
    return fig


def presenter(fig):
    """The same figure for a shared screen: larger type, thicker marks, darker grid, taller."""
    height = fig.layout.height or 420
    fig.update_layout(font_size=PRESENTER_FONT_SIZE, font_color="#000000",
                      height=int(height * 1.3), hoverlabel=dict(font_size=PRESENTER_FONT_SIZE),
                      legend=dict(font_size=PRESENTER_FONT_SIZE))
    fig.update_xaxes(gridcolor="#8c8c8c", linecolor="#000000", tickfont_size=PRESENTER_FONT_SIZE)
    fig.update_yaxes(gridcolor="#8c8c8c", linecolor="#000000", tickfont_size=PRESENTER_FONT_SIZE)
    fig.update_annotations(font_size=PRESENTER_FONT_SIZE - 2)
    fig.update_traces(selector=dict(type="scatter"), line_width=5)
    return fig
