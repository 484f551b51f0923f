"""The Plan page's figures and sentences: pure functions of metrics.capacity.plan's results.

Two schedules are told apart by colour *and* by line dash, marker shape and name, never by
colour alone.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .memo import kept
from .theme import NO_DATA, PALETTE, SEQUENTIAL, layout

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DASH = ("solid", "dash")
_SYMBOL = ("circle", "diamond")


def by_hour_frame(schedules: list[dict], names: list[str]) -> pd.DataFrame:
    """One row per schedule and hour of day: calls, expected served and missed, coverage."""
    rows = []
    for name, s in zip(names, schedules):
        for h in s["by_hour"]:
            missed = h["missed"] if "missed" in h else (  # published, or exact figures
                None if h["calls"] is None or h["served"] is None
                else max(h["calls"] - h["served"], 0))
            rows.append({"schedule": name, "hour": h["hour"], "calls": h["calls"],
                         "expected served": h["served"], "expected missed": missed,
                         "coverage": h["coverage"]})
    return pd.DataFrame(rows)


@kept
def coverage_by_hour(df: pd.DataFrame) -> go.Figure:
    """Expected coverage by hour of day, one line per schedule (hours with hidden counts
    left out: a gap in the line)."""
    fig = go.Figure()
    for i, (name, part) in enumerate(df.groupby("schedule", sort=False)):
        fig.add_trace(go.Scatter(
            x=part["hour"], y=part["coverage"], name=name, mode="lines+markers",
            line=dict(color=PALETTE[i % len(PALETTE)], dash=_DASH[i % 2], width=3),
            marker=dict(symbol=_SYMBOL[i % 2], size=8),
            customdata=part[["calls"]].astype(object).where(part[["calls"]].notna(), "hidden"),
            hovertemplate=f"{name}<br>%{{x:02d}}:00: %{{y:.0%}} of %{{customdata[0]:,}} "
                          "calls<extra></extra>"))
    fig.update_yaxes(title="Expected coverage", tickformat=".0%", range=[0, 1.02])
    fig.update_xaxes(title="Hour of day (local time)", dtick=2, range=[-0.5, 23.5])
    fig.update_layout(height=380, legend=dict(orientation="h", y=1.12, x=0))
    return layout(fig)


@kept
def missed_by_hour(df: pd.DataFrame) -> go.Figure:
    """Expected calls missed by hour of day over the modelled weeks, bars side by side."""
    fig = go.Figure()
    for i, (name, part) in enumerate(df.groupby("schedule", sort=False)):
        fig.add_trace(go.Bar(
            x=part["hour"], y=part["expected missed"], name=name,
            marker=dict(color=PALETTE[i % len(PALETTE)],
                        pattern_shape="" if i == 0 else "/"),
            hovertemplate=f"{name}<br>%{{x:02d}}:00: %{{y:,.0f}} calls missed<extra></extra>"))
    fig.update_yaxes(title="Calls missed (expected)", tickformat=",")
    fig.update_xaxes(title="Hour of day (local time)", dtick=2)
    fig.update_layout(height=360, barmode="group", legend=dict(orientation="h", y=1.12, x=0))
    return layout(fig)


@kept
def schedule_grid(grid: list[list[int]], title: str | None = None) -> go.Figure:
    """Teams on duty by weekday x hour, the number written in each cell."""
    top = max(max(row) for row in grid) or 1
    text = [[str(v) if v else "" for v in row] for row in grid]
    z = [[v or None for v in row] for row in grid]  # no team: the grey background
    fig = go.Figure(go.Heatmap(
        z=z, x=[f"{h:02d}" for h in range(24)], y=list(WEEKDAYS), text=text,
        texttemplate="%{text}", textfont=dict(size=13), colorscale=SEQUENTIAL,
        zmin=0 if top > 1 else 0.5, zmax=top, xgap=1, ygap=1, showscale=False,
        hoverongaps=False, hovertemplate="%{y} %{x}:00: %{z} teams on duty<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title=None)
    fig.update_xaxes(title="Hour of day (local time)", dtick=2)
    fig.update_layout(height=250, plot_bgcolor=NO_DATA)
    return layout(fig, title)


def compare_sentence(a: dict, b: dict, names: list[str]) -> str:
    """The one-sentence finding: coverage of each, and what the difference costs in hours."""
    if a["coverage"] is None or b["coverage"] is None:
        return ("Too few eligible-type calls in this view to show the coverage; widen the "
                "period or clear a filter.")
    diff = (b["coverage"] - a["coverage"]) * 100
    hours = b["team_hours_per_week"] - a["team_hours_per_week"]
    if abs(diff) < 0.5:
        return (f"{names[0]} and {names[1]} serve about the same share of eligible-type "
                f"calls ({a['coverage']:.0%}).")
    better, worse = (names[1], names[0]) if diff > 0 else (names[0], names[1])
    cost = (f"{abs(hours):,} more team-hours a week" if hours * diff > 0 else
            f"{abs(hours):,} fewer team-hours a week" if hours else "the same team-hours")
    return (f"{better} serves {max(a['coverage'], b['coverage']):.0%} of eligible-type calls "
            f"against {min(a['coverage'], b['coverage']):.0%} for {worse}: {abs(diff):.0f} "
            f"points more, for {cost}.")


def needed_table(needed: list[dict]) -> pd.DataFrame:
    rows = []
    for n in needed:
        if n.get("reached"):
            rows.append({"Target coverage": f"{n['target']:.0%}",
                         "Team-hours a week": f"{n['team_hours_per_week']:,}",
                         "Schedule": n["schedule"],
                         "Expected coverage": f"{n['coverage']:.1%}"})
        else:
            rows.append({"Target coverage": f"{n['target']:.0%}",
                         "Team-hours a week": "not reached",
                         "Schedule": "none of the patterns tried (8-20, 7-23, around the "
                                     "clock, up to 40 teams)",
                         "Expected coverage": "—"})
    return pd.DataFrame(rows)
