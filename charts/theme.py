"""One palette and one set of number formats for every chart."""
from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

from metrics.stats import FEW_EVENTS

# The trace types the charts draw (tests/test_chart_template.py keeps the list whole).
TRACE_TYPES = ("bar", "scatter", "heatmap", "choroplethmap")
# Every figure starts from plotly_white's layout and its defaults for the trace types above,
# set once as the default (naming a template on each figure copies it every time). Plotly
# copies and checks the template whenever a figure is built or copied (disclosure marks and
# escaping copy it again): with the defaults of all 24 trace types plotly_white carries, that
# was a fifth of a cached page's server time, and 7 KB of every chart sent to the browser.
_WHITE = pio.templates["plotly_white"]
pio.templates["a911"] = go.layout.Template(
    layout=_WHITE.layout, data={t: _WHITE.data[t] for t in TRACE_TYPES})


def use_template() -> None:
    """Make ours the default. Importing Streamlit's Plotly element sets its own ("streamlit",
    whose colours are placeholders its front end fills in, and our charts are drawn with
    theme=None): ui/warmup.py sets ours again once Streamlit is loaded."""
    pio.templates.default = "a911"


use_template()

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
WHITE, BLACK = "#ffffff", "#000000"
# Series of one chart differ by line dash and marker as well as colour (WCAG 1.4.1): the i-th
# series takes the i-th of each, so a reader who cannot tell the colours apart still can.
# No "dot": dotted vertical lines mark launches on the same charts.
DASHES = ("solid", "dash", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star", "cross", "hexagon")
AA_TEXT = 4.5  # WCAG 2.1 AA: the least contrast of normal-size text with its background


def series_style(i: int, color: str) -> dict:
    """Line and marker of the i-th series of a chart: colour, dash and marker shape."""
    return dict(line=dict(color=color, width=3, dash=DASHES[i % len(DASHES)]),
                marker=dict(color=color, size=8, symbol=SYMBOLS[i % len(SYMBOLS)]))


def _rgb(colour: str) -> tuple[int, int, int]:
    """"#rrggbb" or Plotly's "rgb(r, g, b)" as three 0-255 channels."""
    colour = colour.strip()
    if colour.startswith("#"):
        return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    r, g, b = (float(v) for v in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])
    return round(r), round(g), round(b)


def relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance: each sRGB channel linearised, then weighted."""
    def linear(c8: int) -> float:
        c = c8 / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio (L1 + 0.05) / (L2 + 0.05), the lighter colour on top: 1 to 21."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (e.g. a heat map's cell).

    One of the two always reaches 4.58:1 (√21), the worst case being a mid grey such as the
    middle of Cividis, where even ink (#1a1a1a) would be 4.2:1.
    """
    return max((BLACK, WHITE), key=lambda c: contrast_ratio(c, background))


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
    fig.update_layout(layout_dict(title))
    return fig


def layout_dict(title: str | None = None) -> dict:
    """Our type, colours and margins, for a figure made from dictionaries (``layout`` puts the
    same on a built one)."""
    return {"font": {"size": FONT_SIZE, "color": INK}, "colorway": PALETTE, "title": title,
            "margin": {"l": 10, "r": 10, "t": 50 if title else 10, "b": 10},
            "legend": {"title": {"text": ""}}, "hoverlabel": {"font": {"size": FONT_SIZE}}}


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
