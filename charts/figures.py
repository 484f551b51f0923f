"""DataFrame -> plotly Figure. Each takes rows of one metric and returns a figure."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .theme import PALETTE, layout


def bar_by_group(df: pd.DataFrame, dim: str, label: str, unit: str) -> go.Figure:
    """Horizontal bars of a metric's value per group, with intervals where there are any."""
    df = df.sort_values("value", ascending=True, na_position="first")
    error = None
    if "ci_low" in df and df["ci_low"].notna().any():
        error = dict(type="data", symmetric=False, array=df["ci_high"] - df["value"],
                     arrayminus=df["value"] - df["ci_low"], color="#444")
    hover = [_hover(r, unit) for r in df.itertuples()]
    fig = go.Figure(go.Bar(x=df["value"], y=df[dim].astype(str), orientation="h",
                           marker_color=PALETTE[0], error_x=error, hovertext=hover,
                           hoverinfo="text"))
    fig.update_xaxes(title=label, tickformat=".0%" if unit == "share" else ",")
    return layout(fig)


def line_by_month(df: pd.DataFrame, series: str | None, label: str, unit: str,
                  markers: dict[str, str] | None = None) -> go.Figure:
    """A metric per month, one line per series; vertical markers (e.g. program launches)."""
    fig = go.Figure()
    groups = [(None, df)] if series is None else list(df.groupby(series, sort=True))
    for i, (name, part) in enumerate(groups):
        part = part.sort_values("month")
        fig.add_trace(go.Scatter(x=part["month"], y=part["value"], mode="lines",
                                 name=str(name) if name is not None else label,
                                 line=dict(color=PALETTE[i % len(PALETTE)], width=3)))
    for text, month in (markers or {}).items():
        fig.add_vline(x=month, line_dash="dot", line_color="#555")
        fig.add_annotation(x=month, y=1, yref="paper", text=text, showarrow=False,
                           xanchor="left", yanchor="top", font_size=12)
    fig.update_yaxes(title=label, tickformat=".0%" if unit == "share" else ",",
                     rangemode="tozero")
    fig.update_xaxes(title=None)
    return layout(fig)


def _hover(r, unit) -> str:
    if getattr(r, "denominator", None) is not None and not pd.isna(r.denominator):
        return f"{r.numerator:,} of {int(r.denominator):,}"
    return f"{r.value:,}" if r.value is not None else "—"
