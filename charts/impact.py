"""Impact charts and their sentences: pure functions of the frames metrics.impact returns.

Series differ by line style and marker as well as colour (solid observed, dashed model,
dotted launch), so nothing rests on colour alone. A hidden month (None) is a gap, and its
tooltip says why. ``relative=True`` (peers' names masked) puts months since launch on the
time axis instead of calendar months: a launch month can name a jurisdiction.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go

from .memo import kept
from .theme import PALETTE, layout_dict

OBSERVED, MODEL, TEAM, COMPARISON = PALETTE[0], PALETTE[5], PALETTE[2], PALETTE[1]
BAND = "rgba(213, 94, 0, 0.18)"  # the model's colour, faint: the 95% band
BEFORE = "#8c8c8c"
UNITS = {"police_calls": "calls", "police_hours": "hours"}
LABELS = {"police_calls": "Calls handled by police", "police_hours": "Police busy hours"}


def month_axis(months, launch: date, relative: bool) -> list:
    """Calendar months, or months since the first whole month after launch."""
    if not relative:
        return [pd.Timestamp(m) for m in months]
    first = launch.year * 12 + launch.month - 1 + (launch.day != 1)
    return [m.year * 12 + m.month - 1 - first for m in months]


def month_names(months, launch: date, relative: bool) -> list[str]:
    """How tooltips name months: "Mar 2024", or "month +3 after launch" when masked."""
    if not relative:
        return [f"{m:%b %Y}" for m in months]
    return [f"month {x + 1 if x >= 0 else x:+d} {'after' if x >= 0 else 'before'} launch"
            for x in month_axis(months, launch, True)]


def _launch_marks(launch: date, relative: bool) -> tuple[dict, dict]:
    """The launch's dotted line and its label (what ``add_vline`` and ``add_annotation`` put
    in a layout). Where a month's point sits (its first day), the launch sits at its own day."""
    x = pd.Timestamp(launch)
    if relative:
        x = (month_axis([launch], launch, True)[0]
             + (launch.day - 1) / pd.Timestamp(launch).days_in_month)
    line = {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain",
            "line": {"color": "#000000", "dash": "dot", "width": 2}}
    label = {"x": x, "y": 1, "yref": "paper", "text": "launch", "showarrow": False,
             "xanchor": "left", "yanchor": "top", "bgcolor": "rgba(255,255,255,0.8)"}
    return line, label


def _figure(traces: list[dict], y_title: str, relative: bool, launch: date | None, *,
            shapes: tuple[dict, ...] = (), xaxis: dict | None = None,
            yaxis: dict | None = None, **extra) -> go.Figure:
    """One time chart from dictionaries, made (and checked by Plotly) once: building it call by
    call (``update_yaxes``, ``add_vline``, ...) took four times as long (charts/grid.py)."""
    base = layout_dict()
    marks = _launch_marks(launch, relative) if launch else None
    shapes = [*shapes, *([marks[0]] if marks else [])]
    return go.Figure({"data": traces, "layout": {
        **base, "height": 440,
        "legend": {**base["legend"], "orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "yaxis": {"title": y_title, "rangemode": "tozero", "tickformat": ",", **(yaxis or {})},
        "xaxis": {"title": "Months since launch" if relative else None,
                  "tickformat": None if relative else "%b %Y", **(xaxis or {})},
        **({"shapes": shapes} if shapes else {}),
        **({"annotations": [marks[1]]} if marks else {}), **extra}})


def _y_title(outcome: str) -> str:
    return "Hours per month" if outcome == "police_hours" else "Calls per month"


def _tips(values, words: str, unit: str, names) -> list[str]:
    return [f"{m}: " + (words if pd.isna(v) else f"{v:,.0f} {unit}")
            for m, v in zip(names, values)]


def _numbers(values) -> list:
    return [None if pd.isna(v) else float(v) for v in values]


@kept
def monthly(series: pd.DataFrame, outcome: str, launch: date, hidden_words: str,
            relative: bool = False) -> go.Figure:
    """Police-handled (solid) and team-handled (dashed) target calls, or police hours, per
    month, with the launch marked."""
    part = series.sort_values("month")
    x, names = month_axis(part["month"], launch, relative), month_names(part["month"], launch,
                                                                        relative)
    traces = [dict(
        type="scatter", x=x, y=_numbers(part[outcome]), mode="lines+markers",
        name=LABELS[outcome], line=dict(color=OBSERVED, width=3),
        marker=dict(symbol="circle", size=7),
        hovertext=_tips(part[outcome], hidden_words, UNITS[outcome], names), hoverinfo="text")]
    if outcome == "police_calls":
        traces.append(dict(
            type="scatter", x=x, y=_numbers(part["team_calls"]), mode="lines+markers",
            name="Handled by the team", line=dict(color=TEAM, width=3, dash="dash"),
            marker=dict(symbol="diamond", size=8),
            hovertext=_tips(part["team_calls"], hidden_words, "calls", names),
            hoverinfo="text"))
    return _figure(traces, _y_title(outcome), relative, launch)


@kept
def its(chart: pd.DataFrame, outcome: str, launch: date, relative: bool = False) -> go.Figure:
    """Observed months (solid, dots) against the model without the program (dashed) and its
    95% band after launch."""
    part = chart.sort_values("month")
    x, names = month_axis(part["month"], launch, relative), month_names(part["month"], launch,
                                                                        relative)
    post = part["phase"].eq("post").to_numpy()
    xp = [v for v, p in zip(x, post) if p]
    # The model line: the fit before launch, then the counterfactual it carries on.
    model = [f if not p else c for f, c, p in zip(part["fitted"], part["counterfactual"], post)]
    traces = [dict(type="scatter", x=xp + xp[::-1], y=list(part["cf_high"][post])
                   + list(part["cf_low"][post])[::-1], fill="toself",
                   fillcolor=BAND, line=dict(width=0, color="rgba(0,0,0,0)"),
                   hoverinfo="skip", name="95% interval of the model"),
              dict(type="scatter", x=x, y=model, mode="lines",
                   name="Model: no program after launch",
                   line=dict(color=MODEL, width=3, dash="dash"),
                   hovertext=_tips(model, "", UNITS[outcome], names), hoverinfo="text")]
    # No line across the launch: the months before and after are two segments.
    gap = [xv for xv, p, q in zip(x[1:], post[1:], post[:-1]) if p and not q]
    xs, ys = list(x), _numbers(part["observed"])
    if gap:
        at = list(x).index(gap[0])
        xs.insert(at, None)
        ys.insert(at, None)
    traces.append(dict(type="scatter", x=xs, y=ys, mode="lines+markers",
                       name="Observed", line=dict(color=OBSERVED, width=3),
                       marker=dict(size=7),
                       hovertext=_tips(ys, "", UNITS[outcome],
                                       names[:len(ys)] if not gap else
                                       names[:at] + [""] + names[at:]),
                       hoverinfo="text"))
    return _figure(traces, _y_title(outcome), relative, launch)


@kept
def yoy(pairs: pd.DataFrame, outcome: str, launch: date, relative: bool = False) -> go.Figure:
    """The same months a year apart: before launch (grey, hatched) beside after (solid)."""
    labels = ([f"+{i + 1}" for i in range(len(pairs))] if relative
              else [f"{m:%b}" for m in pairs["month"]])
    traces = [dict(type="bar", x=labels, y=_numbers(pairs["before"]),
                   name="A year earlier (before launch)",
                   marker=dict(color=BEFORE, pattern=dict(shape="/", fgcolor="#ffffff")),
                   hovertext=_tips(pairs["before"], "", UNITS[outcome],
                                   month_names(pairs["month_before"], launch, relative)),
                   hoverinfo="text"),
              dict(type="bar", x=labels, y=_numbers(pairs["after"]), name="After launch",
                   marker=dict(color=OBSERVED),
                   hovertext=_tips(pairs["after"], "", UNITS[outcome],
                                   month_names(pairs["month"], launch, relative)),
                   hoverinfo="text")]
    # No launch line: the months are categories, a year apart.
    return _figure(traces, _y_title(outcome), False, None, barmode="group",
                   xaxis={"title": "Month after launch" if relative else None,
                          "tickformat": None, "type": "category"})


@kept
def comparison(chart: pd.DataFrame, launch: date, where: str, relative: bool = False
               ) -> go.Figure:
    """Program and comparison series as an index (pre-launch mean = 100), side by side."""
    traces = []
    styles = {"program": ("Where and when the team works", OBSERVED, "solid", "circle"),
              "comparison": (f"Comparison: {where}", COMPARISON, "dash", "square")}
    for group, (name, color, dash, symbol) in styles.items():
        part = chart[chart["group"] == group].sort_values("month")
        traces.append(dict(
            type="scatter", x=month_axis(part["month"], launch, relative),
            y=_numbers(part["index"]), mode="lines+markers", name=name,
            line=dict(color=color, width=3, dash=dash), marker=dict(symbol=symbol, size=7),
            hovertext=[f"{m}: " + ("hidden" if v is None else f"{v:.0f}") for m, v in
                       zip(month_names(part["month"], launch, relative), _numbers(part["index"]))],
            hoverinfo="text"))
    hundred = {"type": "line", "x0": 0, "x1": 1, "xref": "x domain", "y0": 100, "y1": 100,
               "yref": "y", "line": {"color": "#595959", "width": 1}}
    return _figure(traces, "Index (mean before launch = 100)", relative, launch,
                   shapes=(hundred,), yaxis={"rangemode": "normal"})


# --------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------

def _pct(ratio: float) -> str:
    change = (ratio - 1) * 100
    return f"{abs(change):.0f}% {'lower' if change < 0 else 'higher'}"


def its_sentence(est, outcome: str) -> str:
    unit = UNITS[outcome]
    includes = est.ci_low is not None and est.ci_low <= 1 <= est.ci_high
    verdict = (" The interval includes 1 (no change): the data cannot tell a change from "
               "chance." if includes else "")
    return (f"In the {est.post_months} months after launch, {LABELS[outcome].lower()} were "
            f"{_pct(est.rate_ratio)} than the model of the {est.pre_months} months before "
            f"launch expected ({est.observed_post:,.0f} against {est.expected_post:,.0f} {unit}; "
            f"rate ratio {est.rate_ratio:.2f}, 95% interval {est.ci_low:.2f}-{est.ci_high:.2f})."
            + verdict)


def yoy_sentence(est, outcome: str) -> str:
    unit = UNITS[outcome]
    return (f"Over {est.post_months} months after launch, {LABELS[outcome].lower()} were "
            f"{est.observed_post:,.0f} {unit} against {est.expected_post:,.0f} in the same "
            f"months a year earlier ({_pct(est.rate_ratio)}). A description, not an estimate "
            "of the program's effect.")


def wdd_sentence(est) -> str:
    d = est.details
    return (f"Where and when the team works, police-handled calls went from {d['t0']:,.0f} to "
            f"{d['t1']:,.0f}; in the comparison series from {d['c0']:,.0f} to {d['c1']:,.0f}. "
            f"Weighted displacement difference {d['wdd']:+,.0f} calls (z = {d['wdd_z']:.1f}); "
            f"rate ratio {est.rate_ratio:.2f}, 95% interval {est.ci_low:.2f}-{est.ci_high:.2f}.")
