"""Equity charts: relative rate indices on a log axis, with 95% whiskers and a line at 1.

Pure functions from ``metrics.equity.GroupRate`` lists to Plotly figures. A ratio of 2 and a
ratio of 0.5 are the same distance from 1 on a log axis, which is why it is used. Groups whose
ratio cannot be estimated (zero cells, hidden small counts, no reference) are listed on the
axis with the reason instead of a marker: never drawn as 0 or infinity.
"""
from __future__ import annotations

import html
import math

import plotly.graph_objects as go

from metrics.stats import FEW_EVENTS

from .frames import group_label
from .theme import INK, NO_DATA, PALETTE, fmt_value, layout

_ROW_PX = 38


def ratio_chart(rates, dim: str, unit: str, reference_label: str,
                count_word: str = "records") -> go.Figure:
    """One row per group: the RRI against the reference group, whiskers = 95% interval."""
    rows = [r for r in rates if not r.is_reference]
    labels = [group_label(dim, r.group) for r in rows]
    shown = [r for r in rows if r.ratio.estimable]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[r.ratio.estimate for r in shown], y=[group_label(dim, r.group) for r in shown],
        mode="markers", marker=dict(size=13, color=[_colour(r) for r in shown],
                                    line=dict(width=1, color=INK)),
        error_x=dict(type="data", symmetric=False,
                     array=[r.ratio.high - r.ratio.estimate for r in shown],
                     arrayminus=[r.ratio.estimate - r.ratio.low for r in shown],
                     color="#444", thickness=1.8, width=6),
        hovertext=[_hover(r, dim, unit, reference_label, count_word) for r in shown],
        hoverinfo="text", showlegend=False))
    for r in rows:
        if not r.ratio.estimable:
            fig.add_annotation(x=0, xref="x domain", xanchor="left", y=group_label(dim, r.group),
                               text=f"not estimable: {html.escape(r.ratio.reason or '')}",
                               showarrow=False, font=dict(color="#555"))
    lo, hi = _range([x for r in shown for x in (r.ratio.low, r.ratio.high)])
    fig.add_vline(x=1, line_width=2, line_color=INK)
    fig.update_xaxes(type="log", range=[math.log10(lo), math.log10(hi)],
                     title=f"Rate relative to {reference_label} (log scale; 1 = same rate)",
                     tickvals=_ticks(lo, hi), ticktext=[f"{t:g}" for t in _ticks(lo, hi)])
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], title=None)
    fig.update_layout(height=max(220, _ROW_PX * len(rows) + 110))
    return layout(fig)


def rate_bars(rates, dim: str, unit: str) -> go.Figure:
    """The rate itself per group (reference included), with its interval: the raw picture."""
    labels = [group_label(dim, r.group) for r in rates]
    values = [r.rate for r in rates]
    err = None
    if any(r.ci_low is not None for r in rates):
        err = dict(type="data", symmetric=False, color="#444", thickness=1.5,
                   array=[(r.ci_high - r.rate) if r.ci_high is not None else 0 for r in rates],
                   arrayminus=[(r.rate - r.ci_low) if r.ci_low is not None else 0
                               for r in rates])
    fig = go.Figure(go.Bar(
        x=[v if v is not None else 0 for v in values], y=labels, orientation="h",
        error_x=err, marker_color=[PALETTE[1] if r.is_reference else
                                   (NO_DATA if r.rate is None else PALETTE[0]) for r in rates],
        text=[fmt_value(v, unit) if v is not None else "hidden" for v in values],
        textposition="outside", cliponaxis=False,
        hovertext=[_rate_hover(r, dim, unit) for r in rates], hoverinfo="text"))
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], title=None)
    fig.update_xaxes(tickformat=".0%" if unit == "share" else ",")
    fig.update_layout(height=max(220, _ROW_PX * len(rates) + 90))
    return layout(fig)


def _colour(r) -> str:
    if r.differs:
        return PALETTE[5]  # vermillion: the interval excludes 1
    return PALETTE[0]


def _hover(r, dim, unit, reference_label, count_word) -> str:
    return (f"<b>{html.escape(group_label(dim, r.group))}</b><br>"
            f"{r.ratio.estimate:.2f}× the rate of {html.escape(reference_label)} "
            f"(95% CI {r.ratio.low:.2f}–{r.ratio.high:.2f})<br>"
            + _counts(r, unit, count_word))


def _rate_hover(r, dim, unit) -> str:
    return f"<b>{html.escape(group_label(dim, r.group))}</b><br>" + _counts(r, unit, "records")


def _counts(r, unit, count_word) -> str:
    if r.numerator is None or r.denominator is None:
        return "counts hidden (small numbers)"
    if unit == "per 1,000 residents":
        return f"{r.numerator:,.0f} {count_word}; {r.denominator:,.0f} residents"
    return f"{r.numerator:,.0f} of {r.denominator:,.0f} {count_word} ({fmt_value(r.rate, unit)})"


def _range(values) -> tuple[float, float]:
    values = [v for v in values if v]
    lo = min(values + [1.0]) / 1.3
    hi = max(values + [1.0]) * 1.3
    return max(lo, 1e-3), min(hi, 1e3)


def _ticks(lo: float, hi: float) -> list[float]:
    candidates = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.67, 1, 1.5, 2, 4, 5, 10, 20, 50, 100]
    return [t for t in candidates if lo <= t <= hi]


def takeaway(rates, dim: str, point_label: str, reference_label: str, dim_word: str) -> str:
    """'Black: 1.62× the rate of White (95% CI 1.21–2.17). For 4 other groups ...'."""
    others = [r for r in rates if not r.is_reference]
    clear = sorted([r for r in others if r.differs], key=lambda r: -abs(math.log(r.ratio.estimate)))
    unclear = [r for r in others if r.differs is False]
    unknown = [r for r in others if r.differs is None]
    if not others:
        return f"Only one {dim_word} group in this selection: nothing to compare."
    parts = []
    if clear:
        top = clear[0]
        parts.append(f"{point_label}: {group_label(dim, top.group)} "
                     f"{top.ratio.estimate:.2f}× the rate of {reference_label} (95% CI "
                     f"{top.ratio.low:.2f}–{top.ratio.high:.2f}), a clear difference")
        if len(clear) > 1:
            parts.append(f"{len(clear) - 1} more group{'s' if len(clear) > 2 else ''} "
                         "differ clearly")
    else:
        parts.append(f"{point_label}: no group's rate differs clearly from {reference_label}'s")
    if unclear:
        parts.append(f"for {len(unclear)} group{'s' if len(unclear) > 1 else ''} the interval "
                     "includes 1 (no clear difference)")
    if unknown:
        parts.append(f"{len(unknown)} not estimable")
    return "; ".join(parts) + "."


def rate_sentence(rates, dim: str, label: str, unit: str) -> str:
    sure = [r for r in rates if r.rate is not None and r.reliability != "insufficient"]
    if len(sure) < 2:
        return f"Too few records to compare {label.lower()} between groups."
    hi = max(sure, key=lambda r: r.rate)
    lo = min(sure, key=lambda r: r.rate)
    return (f"{label} was highest for {group_label(dim, hi.group)} ({fmt_value(hi.rate, unit)}) "
            f"and lowest for {group_label(dim, lo.group)} ({fmt_value(lo.rate, unit)}); groups "
            f"with {FEW_EVENTS} are left out of this comparison.")


def rates_table(rates, dim: str, unit: str):
    """The data behind both equity charts, for "Show data" and the CSV download."""
    import pandas as pd

    per_resident = unit == "per 1,000 residents"
    return pd.DataFrame({
        dim.replace("_", " ").capitalize(): [group_label(dim, r.group) for r in rates],
        "Events" if per_resident else "Numerator": [r.numerator for r in rates],
        "Residents" if per_resident else "Denominator": [r.denominator for r in rates],
        "Rate" + (" per 1,000 residents" if per_resident else ""): [r.rate for r in rates],
        "95% CI low": [r.ci_low for r in rates], "95% CI high": [r.ci_high for r in rates],
        "Relative rate": [r.ratio.estimate for r in rates],
        "RR 95% CI low": [r.ratio.low for r in rates],
        "RR 95% CI high": [r.ratio.high for r in rates],
        "Note": ["reference group" if r.is_reference else (r.ratio.reason or "") for r in rates],
    }).dropna(axis=1, how="all")
