"""DataFrame -> plotly Figure: pure functions, no Streamlit, no SQL, no metric arithmetic.

Each takes the frame of engine rows (``charts.frames.frame``) and the registry's ``Metric`` for
labels and units. Rates carry their numerator and denominator in the tooltip; rates built on
too few events (metrics.MIN_EVENTS) are hatched and faded (``theme.INSUFFICIENT_PATTERN``). A
number that disclosure control hid is None in the frame: its bar is absent and the words
("hidden (fewer than 11)") stand at the bar's base and in the tooltip instead; no hidden number
is ever drawn.
"""
from __future__ import annotations

import html
import math
from datetime import date

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from metrics.registry import COUNTS, Metric

from .frames import cell, count_text, group_label, hidden, hidden_rows, value_text
from .grid import grid
from .labels import WEEKDAYS, month_start, weekday_hour
from .memo import kept
from .theme import (HIDDEN_INK, INK, INSUFFICIENT_NOTE, INSUFFICIENT_PATTERN, NO_DATA, PALETTE,
                    SEQUENTIAL, fmt_value, layout, layout_dict, series_style, text_on, tick_format)

_ROW_PX = 34  # height per bar, so that long category lists stay readable


# --------------------------------------------------------------------------------------------
# Bars: one metric (or several side by side) per group
# --------------------------------------------------------------------------------------------

def bar_by_group(df: pd.DataFrame, dim: str, metric: Metric, names: dict | None = None,
                 highlight: str | None = None, sort: bool = True) -> go.Figure:
    """Horizontal bars of one metric per group, with 95% intervals (or p90 for times)."""
    return panels(df, dim, [metric], names=names, highlight=highlight, sort=sort)


@kept
def panels(df: pd.DataFrame, dim: str, metrics: list[Metric], names: dict | None = None,
           highlight: str | None = None, cols: int | None = None, sort: bool = True,
           titles: dict[str, str] | None = None, same_scale: bool = False) -> go.Figure:
    """Small multiples: one panel per metric, the same groups in the same order in each.

    ``highlight`` (a group value) is drawn in the second palette colour, the rest in the first;
    ``titles`` gives short panel titles by metric id (the label otherwise); ``same_scale``
    gives every panel one axis range, for measures that are meant to be compared by eye.
    """
    cols = cols or len(metrics)
    rows = math.ceil(len(metrics) / cols)
    # Groups with no value in any panel (e.g. categories with no eligible calls) are left out;
    # the takeaway sentence says how many. Hidden ones stay, labelled as hidden.
    df = df[df[dim].isin(df.loc[df["value"].notna() | hidden_rows(df), dim])]
    order = _order(df[df["metric"] == metrics[0].id], dim, sort, names)
    # Built as dictionaries and made into a figure once (charts/grid.py says why).
    cells = grid(rows, cols, ([(titles or {}).get(m.id, m.label) for m in metrics]
                              if len(metrics) > 1 else None),
                 horizontal_spacing=0.06 if cols > 1 else 0.02,
                 vertical_spacing=0.5 / rows if rows > 1 else 0.02)
    data, axes = [], cells.layout
    for i, m in enumerate(metrics):
        r, c = i // cols + 1, i % cols + 1
        part = df[df["metric"] == m.id].set_index(dim).reindex(order).reset_index()
        scope = df[df["metric"].isin([x.id for x in metrics])] if same_scale else part
        top = pd.concat([scope["value"], scope["ci_high"], scope["p90"]]).max()
        top = top if top == top and top else 1
        x, y = cells.cells[r - 1][c - 1]
        for trace in _bar_traces(part, dim, m, names, highlight, (i == 0), top, cols > 2):
            data.append({**trace, "xaxis": x, "yaxis": y})
        # A value printed beyond the longest bar's (or whisker's) end needs room on the axis;
        # more in a narrow panel, where a label is a larger share of the width.
        outside = _values_outside(part, m, top)
        room = (1.45 if cols > 2 else 1.3) if outside else 1.15
        x_key, y_key = cells.axes(r, c)
        axes[x_key].update(tickformat=tick_format(m.unit, top), range=[0, top * room],
                           nticks=4 if cols >= 4 else None,
                           title=_axis_title(m) if len(metrics) == 1 else None)
        axes[y_key].update(showticklabels=(c == 1), categoryorder="array",
                           categoryarray=[group_label(dim, v, names) for v in order])
    base = layout_dict()
    # Subplot titles need room above; the legend (median / 90th percentile) goes below.
    fig = go.Figure({"data": data, "layout": {
        **axes, **base,
        "height": max(260, rows * (len(order) * _ROW_PX + 110)), "barmode": "overlay",
        "showlegend": any(t.get("showlegend") for t in data),
        "uniformtext": dict(minsize=12, mode="show"),
        "legend": {**base["legend"], "orientation": "h", "yanchor": "top",
                   "y": -0.08 * (3 / rows), "x": 0},
        "margin": {**base["margin"], "t": 44 if len(metrics) > 1 else 10}}})
    cells.place(fig)
    return fig


def _bar_marker(colors: list[str], weak: list[bool]) -> dict:
    """One colour when every bar has it, a pattern only when a bar is too weak to read:
    Plotly.js parses a per-bar colour list as one colour wherever a pattern is set (a console
    warning per bar, each with a stack trace, on every draw)."""
    marker = dict(color=colors[0] if len(set(colors)) == 1 else colors)
    if any(weak):
        marker.update(opacity=[0.45 if w else 1 for w in weak],
                      pattern=dict(shape=[INSUFFICIENT_PATTERN if w else "" for w in weak],
                                   fgcolor="#333"))
    return marker


def _long_bars_hold_values(part: pd.DataFrame, m: Metric) -> bool:
    """Durations print a long bar's median inside it, at its base (the 90th percentile's tick
    is beyond its end); every other bar prints its value beyond its end or its whisker's."""
    return m.kind == "duration"


def _inside(part: pd.DataFrame, m: Metric, top: float) -> list[bool]:
    long_hold = _long_bars_hold_values(part, m)
    return [long_hold and not pd.isna(v) and v >= 0.25 * top for v in part["value"]]


def _values_outside(part: pd.DataFrame, m: Metric, top: float) -> bool:
    """Whether any value is printed beyond a bar (so the axis needs room for it)."""
    shown = part["value"].notna()
    return bool((shown & ~pd.Series(_inside(part, m, top), index=part.index)).any())


def _label_ends(part: pd.DataFrame) -> list:
    """Where a value printed beyond its bar starts: past the whisker (95% interval) or the
    90th percentile's tick, whichever reaches further, so that neither covers it."""
    ends = []
    for v, hi, p90 in zip(part["value"], part["ci_high"], part["p90"]):
        ends.append(max((float(x) for x in (v, hi, p90) if x is not None and not pd.isna(x)),
                        default=0.0))
    return ends


def _bar_traces(part: pd.DataFrame, dim: str, m: Metric, names, highlight, legend: bool,
                top: float, narrow: bool = False):
    labels = [group_label(dim, v, names) for v in part[dim]]
    colors = [PALETTE[1] if highlight is not None and v == highlight else PALETTE[0]
              for v in part[dim]]
    weak = [r == "insufficient" for r in part["reliability"]]
    hover = [hover_text(row, m, label) for row, label in zip(part.itertuples(), labels)]
    error = None
    if part["ci_low"].notna().any():
        error = dict(type="data", symmetric=False, array=(part["ci_high"] - part["value"]),
                     arrayminus=(part["value"] - part["ci_low"]), color="#444", thickness=1.5)
    # A long duration bar holds its median at its base (its 90th percentile's tick is beyond
    # its end). Every other value is printed just past the end of its whisker or tick (a
    # separate text trace: Plotly puts a bar's "outside" text at the bar's end, under the
    # whisker), or past the bar's end when it has neither.
    inside = _inside(part, m, top)
    texts = [_bar_text(v, m) + (" · too few" if w else "") for w, v in zip(weak, part["value"])]
    whiskered = part["ci_high"].notna().any() or part["p90"].notna().any()
    beside = [not i and not pd.isna(v) for i, v in zip(inside, part["value"])] if whiskered \
        else [False] * len(inside)
    bars = dict(type="bar", x=part["value"], y=labels, orientation="h", error_x=error,
                marker=_bar_marker(colors, weak),
                text=["" if b else t for b, t in zip(beside, texts)],
                textposition=["inside" if i else "outside" for i in inside],
                insidetextanchor="start", constraintext="none", textangle=0,
                # Inside a bar: ink or white, whichever reads on the bar's colour.
                textfont=dict(color=[text_on(c) if i and not w else "#000"
                                     for i, w, c in zip(inside, weak, colors)]),
                cliponaxis=False, hovertext=hover, hoverinfo="text",
                name="Median" if m.kind == "duration" else m.label, showlegend=False)
    traces = [bars]
    if any(beside):
        prefix = "median " if m.kind == "duration" else ""
        ends = _label_ends(part)
        traces.append(dict(
            type="scatter", x=[e for e, b in zip(ends, beside) if b],
            y=[lab for lab, b in zip(labels, beside) if b],
            mode="text", text=[f" {prefix}{t}" for t, b in zip(texts, beside) if b],
            textposition="middle right", textfont=dict(color="#000"), cliponaxis=False,
            hoverinfo="skip", showlegend=False, name="values"))
    gone = [hidden(r, "value") for r in part.itertuples()]
    if any(gone):  # no bar: the words at its base (short in a narrow panel), the tooltip why
        traces.append(dict(
            type="scatter", x=[0] * sum(map(bool, gone)),
            y=[lab for lab, g in zip(labels, gone) if g],
            mode="text", text=["hidden" if narrow else g for g in gone if g],
            textposition="middle right",
            textfont=dict(color=HIDDEN_INK), hovertext=[h for h, g in zip(hover, gone) if g],
            hoverinfo="text", showlegend=False, name="hidden", cliponaxis=False))
    if m.kind == "duration" and part["p90"].notna().any():
        traces.append(dict(type="scatter", x=part["p90"], y=labels, mode="markers",
                           marker=dict(symbol="line-ns", size=22, color="#000",
                                       line=dict(width=3, color="#000")),
                           name="90th percentile", hovertext=hover, hoverinfo="text",
                           showlegend=legend))
        bars["showlegend"] = legend
    return traces


@kept
def stacked_shares(df: pd.DataFrame, dim: str, metrics: list[Metric],
                   names: dict | None = None, short: dict | None = None) -> go.Figure:
    """Several shares of the same denominator stacked per group (e.g. transport destinations)."""
    order = _order(df[df["metric"] == metrics[0].id], dim, False, names)
    fig = go.Figure()
    for i, m in enumerate(metrics):
        part = df[df["metric"] == m.id].set_index(dim).reindex(order).reset_index()
        labels = [group_label(dim, v, names) for v in part[dim]]
        weak = [r == "insufficient" for r in part["reliability"]]
        fig.add_trace(go.Bar(
            x=part["value"], y=labels, orientation="h", name=(short or {}).get(m.id, m.label),
            marker=_bar_marker([PALETTE[i % len(PALETTE)]], weak),
            hovertext=[hover_text(r, m, lab) for r, lab in zip(part.itertuples(), labels)],
            hoverinfo="text"))
    fig.update_layout(barmode="stack", height=max(260, len(order) * 44 + 150),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, x=0,
                                  traceorder="normal"))
    fig.update_xaxes(tickformat=".0%", title=None)
    fig.update_yaxes(categoryorder="array",
                     categoryarray=[group_label(dim, v, names) for v in order])
    return layout(fig)


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------

@kept
def line_by_month(df: pd.DataFrame, series: str | None, metric: Metric,
                  markers: list[tuple[str, date]] | None = None) -> go.Figure:
    """A metric per month, one line per series; dotted vertical lines mark ``markers``.

    Series differ by dash and marker shape as well as colour (``theme.series_style``).

    Months whose rate rests on too few events (metrics.MIN_EVENTS) are drawn as open circles.
    """
    fig = go.Figure()
    groups = [(None, df)] if series is None else list(df.groupby(series, sort=True))
    colors = {}
    for i, (name, part) in enumerate(groups):
        part = part.sort_values("month")
        color = PALETTE[i % len(PALETTE)]
        colors[name] = color
        x = [month_start(v) for v in part["month"]]
        label = str(name) if name is not None else metric.label
        hover = [hover_text(r, metric, group_label("month", r.month)) for r in part.itertuples()]
        # Several lines: each its own dash and marker too, never told apart by colour alone.
        style = series_style(i, color) if series is not None else dict(
            line=dict(color=color, width=3))
        fig.add_trace(go.Scatter(x=x, y=part["value"], name=label,
                                 mode="lines+markers" if series is not None else "lines",
                                 hovertext=hover, hoverinfo="text+name", **style))
        weak = part["reliability"].eq("insufficient").to_numpy()
        if weak.any():
            fig.add_trace(go.Scatter(
                x=[d for d, w in zip(x, weak) if w], y=part["value"][weak], mode="markers",
                marker=dict(symbol="circle-open", size=11, color=color, line_width=2),
                name=f"{label}: {INSUFFICIENT_NOTE}", showlegend=False, hoverinfo="skip"))
    if any(t.mode == "markers" for t in fig.data):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=INSUFFICIENT_NOTE,
                                 marker=dict(symbol="circle-open", size=11, color="#555")))
    _launch_lines(fig, df, markers or [], colors)
    fig.update_yaxes(title=_axis_title(metric), tickformat=tick_format(metric.unit),
                     rangemode="tozero")
    fig.update_xaxes(title=None, tickformat="%b %Y")
    fig.update_layout(height=440, legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return layout(fig)


LAUNCH_LABEL_STEP = 0.07  # of the plot's height: one launch label's line


def _launch_lines(fig, df, markers, colors):
    if df.empty:
        return
    first = min(month_start(v) for v in df["month"])
    last = max(month_start(v) for v in df["month"])
    shown = sorted((day, name) for name, day in markers
                   if day is not None and first <= day.replace(day=1) <= last)
    for i, (day, name) in enumerate(shown):
        color = colors.get(name, "#555")
        fig.add_vline(x=day, line_dash="dot", line_color=color, line_width=2)
        # One line lower per launch: launches months apart would print over each other.
        # The words in ink (the series colour was as low as 2.3:1 on white); the name says
        # whose launch it is, the line beside it keeps the series colour.
        fig.add_annotation(x=day, y=1 - LAUNCH_LABEL_STEP * i, yref="paper",
                           text=f"{html.escape(name)} launch",
                           showarrow=False, xanchor="left", yanchor="top", font_color=INK,
                           bgcolor="rgba(255,255,255,0.8)")
    if shown:
        # The labels get a band of their own above the highest value: written over the line,
        # they hid its most recent (often highest) months on a shared screen.
        top = df["value"].max()
        if top == top and top:  # not NaN (every value hidden) nor 0
            free = max(0.5, 1 - LAUNCH_LABEL_STEP * len(shown) - 0.04)  # many: some overlap
            fig.update_yaxes(range=[0, top / free])


@kept
def heatmap_weekday_hour(df: pd.DataFrame, metric: Metric,
                         extra: tuple[Metric, pd.DataFrame] | None = None) -> go.Figure:
    """Weekday x hour of one metric (Cividis); blank cells had no denominator at all.

    ``extra`` adds a second metric's value per cell to the tooltip (e.g. out-of-hours calls).
    Cells whose rate rests on too few events (metrics.MIN_EVENTS) are marked with a ×.
    """
    z = [[None] * 24 for _ in range(7)]
    text = [[""] * 24 for _ in range(7)]
    hover = [[f"{WEEKDAYS[d]} {h:02d}:00<br>no {_den_label(metric)}" for h in range(24)]
             for d in range(7)]
    for r in df.itertuples():
        d, h = weekday_hour(r.weekday_hour)
        z[d - 1][h] = None if pd.isna(r.value) else r.value
        text[d - 1][h] = ("×" if r.reliability == "insufficient" else
                          "–" if hidden(r, "value") else "")
        hover[d - 1][h] = hover_text(r, metric, f"{WEEKDAYS[d - 1]} {h:02d}:00")
    if extra is not None:
        other, odf = extra
        for r in odf.itertuples():
            d, h = weekday_hour(r.weekday_hour)
            hover[d - 1][h] += f"<br>{other.label}: {value_text(r, other.unit)}"
    hours = [f"{h:02d}" for h in range(24)]
    top = 1 if metric.unit == "share" else max([v for row in z for v in row if v is not None]
                                                 or [1])
    fig = go.Figure(go.Heatmap(
        z=z, x=hours, y=list(WEEKDAYS), hovertext=hover,
        hoverinfo="text", colorscale=SEQUENTIAL, zmin=0, zmax=top, xgap=1, ygap=1,
        colorbar=dict(title=dict(text=_axis_title(metric), side="right"),
                      tickformat=tick_format(metric.unit))))
    fig.add_trace(_cell_marks(z, text, hours, top))
    # Every hour and day on the axes, also when every cell is hidden (the heat map then has no
    # value and the marks alone would set the axes to the hours they fall on).
    fig.update_yaxes(title=None, categoryorder="array", categoryarray=list(WEEKDAYS),
                     range=[6.5, -0.5])  # Monday on top
    fig.update_xaxes(title="Hour of day (local time)", dtick=1, categoryorder="array",
                     categoryarray=hours, range=[-0.5, 23.5])
    fig.update_layout(height=380, plot_bgcolor=NO_DATA)
    return layout(fig)


def _cell_marks(z, text, hours, top) -> go.Scatter:
    """The × and – of a heat map's cells, each in ink or white by its cell's colour: one white
    for all was 1.2:1 on Cividis' light yellow cells and on the grey of empty ones."""
    marks = [(hours[h], WEEKDAYS[d], text[d][h],
              text_on(NO_DATA if z[d][h] is None else
                      sample_colorscale(SEQUENTIAL, [min(max(z[d][h] / top, 0), 1)])[0]))
             for d in range(7) for h in range(24) if text[d][h]]
    return go.Scatter(x=[m[0] for m in marks], y=[m[1] for m in marks], mode="text",
                      text=[m[2] for m in marks], textfont=dict(color=[m[3] for m in marks],
                                                                size=14),
                      hoverinfo="skip", showlegend=False, name="marks")


# --------------------------------------------------------------------------------------------
# Funnel
# --------------------------------------------------------------------------------------------

@kept
def funnel(steps: list[tuple[str, float | str | None, str]], axis_title: str | None = None,
           second_colour_from: int | None = None) -> go.Figure:
    """Steps (label, count, tooltip note) as bars from zero, top to bottom.

    A count may be the words disclosure control put in its place (``frames.cell``): that
    step has no bar, only the words. Steps from index ``second_colour_from`` on count
    something else (e.g. team responses after calls) and take the third palette colour.
    """
    labels = [s[0] for s in steps]
    counts = [s[1] for s in steps]
    values = [None if isinstance(c, str) else 0 if c is None or c != c else c for c in counts]
    shown = [c if isinstance(c, str) else f"{v:,.0f}" for c, v in zip(counts, values)]
    hover = [f"<b>{label}</b>: {text}<br>{note}" for label, text, note in
             zip(labels, shown, [s[2] for s in steps])]
    split = len(steps) if second_colour_from is None else second_colour_from
    colors = [PALETTE[0] if i < split else PALETTE[2] for i in range(len(steps))]
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", marker_color=colors,
                           text=shown, textposition="outside",
                           cliponaxis=False, hovertext=hover, hoverinfo="text"))
    gone = [i for i, v in enumerate(values) if v is None]
    if gone:  # a bar with no length shows no text: the words stand at its base
        fig.add_trace(go.Scatter(x=[0] * len(gone), y=[labels[i] for i in gone], mode="text",
                                 text=[shown[i] for i in gone], textposition="middle right",
                                 textfont=dict(color=HIDDEN_INK), showlegend=False,
                                 hovertext=[hover[i] for i in gone], hoverinfo="text"))
    top = max([v for v in values if v is not None] or [1])
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], title=None)
    fig.update_xaxes(tickformat=",", title=axis_title, range=[0, top * 1.25])
    fig.update_layout(height=60 * len(steps) + 90, bargap=0.25)
    return layout(fig)


# --------------------------------------------------------------------------------------------
# Tooltips
# --------------------------------------------------------------------------------------------

def hover_text(r, m: Metric, group: str) -> str:
    """Group, value, and what it rests on: numerator of denominator, interval, times."""
    unit = "" if m.unit in ("share", "minutes") or hidden(r, "value") else " " + m.unit
    lines = [f"<b>{html.escape(str(group))}</b>",
             f"{html.escape(m.label)}: {value_text(r, m.unit)}{unit}"]
    if m.kind == "duration":
        if hidden(r, "n"):
            lines.append(f"timed records: {hidden(r, 'n')}")
        elif cell(r, "n") is not None:
            lines.append(f"median of {int(r.n):,} timed records; 90% within "
                         f"{value_text(r, 'minutes', 'p90')}")
        if hidden(r, "missing"):
            lines.append(f"records without both times: {hidden(r, 'missing')}")
        elif cell(r, "missing"):
            lines.append(f"{int(r.missing):,} records without both times left out")
    elif cell(r, "denominator") is not None:
        lines.append(f"{count_text(r, 'numerator')} {_num_label(m)}<br>of "
                     f"{count_text(r, 'denominator')} {_den_label(m)}")
        if cell(r, "ci_low") is not None and not hidden(r, "ci_low"):
            lines.append(f"95% interval {fmt_value(r.ci_low, m.unit)}–"
                         f"{fmt_value(r.ci_high, m.unit)}")
    if getattr(r, "reliability", None) == "insufficient":
        lines.append(f"⚠ {INSUFFICIENT_NOTE}")
    return "<br>".join(lines)


def _bar_text(value, m: Metric) -> str:
    """The value printed on a bar: short, the axis carries the unit."""
    if value is None or value != value:
        return ""
    return f"{value:,.1f}" if m.unit == "minutes" else fmt_value(value, m.unit)


def _num_label(m: Metric) -> str:
    if m.kind == "repeat":
        return f"people with {m.numerator}+ contacts"
    return COUNTS[m.numerator].label if m.numerator in COUNTS else m.unit


def _den_label(m: Metric) -> str:
    if m.kind == "repeat":
        return "people served"
    if m.kind == "per_capita":
        return "residents"
    return COUNTS[m.denominator].label if m.denominator in COUNTS else "records"


def _axis_title(m: Metric) -> str:
    if m.unit == "share":
        return m.label
    if m.kind == "count":
        return m.unit[:1].upper() + m.unit[1:]
    return f"{m.label} ({m.unit})"


def _order(part: pd.DataFrame, dim: str, sort: bool, names: dict | None = None) -> list:
    """Groups bottom to top: by value (largest on top), or by label (A on top)."""
    if sort:
        return list(part.sort_values("value", ascending=True, na_position="first")[dim])
    return sorted(part[dim], key=lambda v: group_label(dim, v, names), reverse=True)
