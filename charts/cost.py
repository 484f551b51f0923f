"""The Cost page's tables, figures and sentences, from a cost report (``metrics.cost.report``).

Pure: a report dict in, a DataFrame, a plotly Figure or a sentence out; no Streamlit, no SQL,
no arithmetic beyond what the report carries (every figure it shows is in the report, beside
its inputs). A number disclosure control hid is None in the report and its reason is in the
row's ``hidden``; ``words`` turns a reason into what a reader sees ("hidden (fewer than
11)"), and nothing hidden is drawn. Funding streams differ by pattern and by colour, and each
is named in the legend and the tooltip, never by colour alone.
"""
from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from metrics.cost import STREAM_LABELS, quarter_bounds

from .memo import kept
from .theme import HIDDEN_INK, NO_DATA, PALETTE, layout

Words = Callable[[str], str]
# One pattern per stream (with its colour): streams stay apart in greyscale and for readers
# who do not see the colours apart.
_PATTERNS = {"general_fund": "", "arpa_slfrf": "/", "medicaid": "x", "opioid_settlement": ".",
             "fees_988": "-", "grant": "\\", "other": "+"}
_COLOURS = {"general_fund": PALETTE[0], "arpa_slfrf": PALETTE[1], "medicaid": PALETTE[2],
            "opioid_settlement": PALETTE[3], "fees_988": PALETTE[4], "grant": PALETTE[5],
            "other": "#7f7f7f"}
_END_NAMES = {"arpa_slfrf": "ARPA SLFRF spent by", "medicaid": "Medicaid 85% match ends by"}


def money(x, cents: bool = False) -> str:
    if x is None or x != x:
        return "—"
    return f"${x:,.2f}" if cents else f"${x:,.0f}"


def short_money(x) -> str:
    """$1.2M, $250k, $412: for bar labels and sentences where the exact figure is beside."""
    if x is None:
        return "—"
    if abs(x) >= 1e6:
        return f"${x / 1e6:,.2f}M"
    if abs(x) >= 1e4:
        return f"${x / 1e3:,.0f}k"
    return f"${x:,.0f}"


def count_shown(q: dict, field: str, words: Words) -> str:
    """A count of a report row as printed ("1,240"), or the words standing in for it."""
    reason = (q.get("hidden") or {}).get(field)
    if reason:
        return words(reason)
    v = q.get(field)
    return "—" if v is None else f"{int(v):,}"


def value_shown(q: dict, field: str, words: Words, fmt=money) -> str:
    """A figure of a report row formatted by ``fmt``, or the words standing in for it."""
    reason = (q.get("hidden") or {}).get(field)
    if reason:
        return words(reason)
    return fmt(q.get(field))


def stream_label(code: str) -> str:
    return STREAM_LABELS.get(code, code)


# --------------------------------------------------------------------------------------------
# Tables ("Show data"): each figure beside its inputs
# --------------------------------------------------------------------------------------------

def per_unit_table(report: dict, words: Words) -> pd.DataFrame:
    rows = []
    for q in report["quarters"]:
        if q.get("ahead"):
            continue
        rows.append({"Quarter": q["quarter"], "Program cost": money(q["cost"], True),
                     "Team responses": count_shown(q, "responses", words),
                     "Cost per response": value_shown(q, "cost_per_response", words,
                                                 lambda x: money(x, True)),
                     "People served": count_shown(q, "people", words),
                     "Cost per person": value_shown(q, "cost_per_person", words,
                                               lambda x: money(x, True)),
                     "FTE": "—" if q["fte"] is None else f"{q['fte']:g}",
                     "Whole quarter": "yes" if q["complete"] else
                     "no: records or period cover part of it"})
    return pd.DataFrame(rows)


def stream_table(report: dict) -> pd.DataFrame:
    streams = [s["stream"] for s in report["streams"]]
    rows = []
    for q in report["quarters"]:
        row = {"Quarter": q["quarter"]}
        row.update({stream_label(s): money(q["streams"].get(s), True) if s in q["streams"]
                    else "—" for s in streams})
        row["Total"] = money(q["cost"], True)
        row["Records"] = "none yet (budget)" if q.get("ahead") else (
            "whole quarter" if q["complete"] else "part of the quarter")
        rows.append(row)
    return pd.DataFrame(rows)


def capacity_table(report: dict, words: Words) -> pd.DataFrame:
    p = report["police"]
    mean = value_shown(p, "mean_hours", words, lambda x: "—" if x is None else f"{x:.3f}")
    rows = []
    for q in report["quarters"]:
        if q.get("ahead"):
            continue
        rows.append({"Quarter": q["quarter"],
                     "Target-type calls the team took alone": count_shown(q, "team_target_calls",
                                                                    words),
                     "Mean police busy hours per call": mean,
                     "Police hours returned": value_shown(q, "hours_returned", words,
                                                     lambda x: "—" if x is None else f"{x:,.1f}"),
                     "Police cost per unit-hour": money(q["police_hourly_cost"], True),
                     "Value of the capacity": value_shown(q, "capacity_value", words,
                                                     lambda x: money(x, True))})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------

def _x(label: str) -> date:
    return quarter_bounds(label)[0]


@kept
def per_unit_figure(report: dict, words: Words) -> go.Figure:
    """Cost per team response and per person served, per whole quarter: two lines that differ
    in dash and marker as well as colour."""
    fig = go.Figure()
    done = [q for q in report["quarters"] if q["complete"] and not q.get("ahead")]
    for field, name, color, dash, symbol in (
            ("cost_per_response", "Cost per team response", PALETTE[0], "solid", "circle"),
            ("cost_per_person", "Cost per person served", PALETTE[1], "dash", "diamond")):
        x = [_x(q["quarter"]) for q in done]
        y = [q[field] for q in done]
        hover = [f"{q['quarter']}: {value_shown(q, field, words, lambda v: money(v, True))}<br>"
                 f"= {money(q['cost'])} ÷ "
                 f"{count_shown(q, 'responses' if 'response' in field else 'people', words)} "
                 f"{'responses' if 'response' in field else 'people'}" for q in done]
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines+markers",
                                 line=dict(color=color, width=3, dash=dash),
                                 marker=dict(symbol=symbol, size=9), hovertext=hover,
                                 hoverinfo="text"))
        gone = [q for q in done if field in (q.get("hidden") or {})]
        if gone:
            fig.add_trace(go.Scatter(
                x=[_x(q["quarter"]) for q in gone], y=[0] * len(gone), mode="markers+text",
                marker=dict(symbol="x-thin-open", size=10, color=HIDDEN_INK),
                text=["hidden"] * len(gone), textposition="top center",
                textfont=dict(color=HIDDEN_INK), showlegend=False,
                hovertext=[f"{q['quarter']}: {words(q['hidden'][field])}" for q in gone],
                hoverinfo="text"))
    fig.update_yaxes(title="Dollars", tickprefix="$", tickformat=",", rangemode="tozero")
    fig.update_xaxes(title=None, tickformat="Q%q %Y", dtick="M3")
    fig.update_layout(height=420, legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return layout(fig)


@kept
def stream_figure(report: dict) -> go.Figure:
    """Cost per quarter stacked by funding stream (colour and pattern), with each stream's
    known end as a dashed line; quarters budgeted beyond the records are shaded."""
    fig = go.Figure()
    quarters = report["quarters"]
    x = [_x(q["quarter"]) for q in quarters]
    # Quarters budgeted beyond the records are drawn faded (and shaded, and labelled).
    faded = [0.45 if q.get("ahead") else 1.0 for q in quarters]
    for s in report["streams"]:
        code = s["stream"]
        y = [q["streams"].get(code) for q in quarters]
        fig.add_trace(go.Bar(
            x=x, y=y, name=stream_label(code), xperiod="M3", xperiodalignment="middle",
            marker=dict(color=_COLOURS.get(code, PALETTE[7]), line=dict(color="#ffffff", width=1),
                        opacity=faded,
                        pattern=dict(shape=_PATTERNS.get(code, ""), fgcolor="#1a1a1a",
                                     fgopacity=0.55, size=8)),
            hovertext=[f"{q['quarter']}: {stream_label(code)} {money(v)} of {money(q['cost'])}"
                       for q, v in zip(quarters, y)], hoverinfo="text"))
    ahead = [q for q in quarters if q.get("ahead")]
    if ahead:
        fig.add_vrect(x0=_x(ahead[0]["quarter"]), x1=quarter_bounds(ahead[-1]["quarter"])[1],
                      fillcolor=NO_DATA, opacity=0.35, line_width=0, layer="below")
        fig.add_annotation(x=_x(ahead[0]["quarter"]), y=1.0, yref="paper", xanchor="left",
                           yanchor="bottom", showarrow=False, font=dict(color=HIDDEN_INK),
                           text="budgeted ahead: no records yet (faded)")
    present = {s["stream"] for s in report["streams"]}
    first, last = (_x(quarters[0]["quarter"]), quarter_bounds(quarters[-1]["quarter"])[1]) \
        if quarters else (None, None)
    for i, (code, end) in enumerate(sorted(report["stream_ends"].items())):
        day = date.fromisoformat(end["date"])
        if code not in present or not (first <= day <= last):
            continue
        fig.add_vline(x=day, line_dash="dash", line_color="#000000", line_width=2)
        fig.add_annotation(x=day, y=0.99 - 0.08 * i, yref="paper", xanchor="right", xshift=-4,
                           yanchor="top", showarrow=False, bgcolor="rgba(255,255,255,0.85)",
                           text=html.escape(f"{_END_NAMES.get(code, code)} {day:%d %b %Y}"))
    # Headroom above the highest quarter: the streams' ends are labelled there, not on bars.
    top = max([q["cost"] for q in quarters] or [0])
    fig.update_yaxes(title="Program cost per quarter", tickprefix="$", tickformat=",.0f",
                     range=[0, top * 1.3 if top else 1])
    fig.update_xaxes(title=None, tickformat="Q%q %Y", dtick="M6")
    # The legend below: the band above the plot holds the labels of the budget and the ends.
    fig.update_layout(barmode="stack", height=500, bargap=0.15,
                      legend=dict(orientation="h", yanchor="top", y=-0.1, x=0))
    return layout(fig).update_layout(margin_t=40)


@kept
def capacity_figure(report: dict, words: Words) -> go.Figure:
    """Police hours returned per quarter (bars), each labelled with its hours and value."""
    qs = [q for q in report["quarters"] if not q.get("ahead")]
    text = []
    for q in qs:
        if "hours_returned" in (q.get("hidden") or {}):
            text.append("hidden")
        elif q["hours_returned"] is None:
            text.append("")
        else:
            text.append(f"{q['hours_returned']:,.0f} h")
    hover = [f"{q['quarter']}: {count_shown(q, 'team_target_calls', words)} calls × "
             f"{value_shown(report['police'], 'mean_hours', words, lambda v: f'{v:.3f}')} h = "
             f"{value_shown(q, 'hours_returned', words, lambda v: f'{v:,.1f}')} h; × "
             f"{money(q['police_hourly_cost'], True)}/h = "
             f"{value_shown(q, 'capacity_value', words)}" for q in qs]
    fig = go.Figure(go.Bar(x=[_x(q["quarter"]) for q in qs],
                           y=[q["hours_returned"] for q in qs], xperiod="M3",
                           xperiodalignment="middle", marker_color=PALETTE[2], text=text,
                           textposition="outside", cliponaxis=False, hovertext=hover,
                           hoverinfo="text", name="Police hours returned"))
    top = max([q["hours_returned"] or 0 for q in qs] or [0])
    fig.update_yaxes(title="Police hours returned", tickformat=",",
                     range=[0, top * 1.18 if top else 1])
    fig.update_xaxes(title=None, tickformat="Q%q %Y", dtick="M3")
    fig.update_layout(height=400, showlegend=False)
    return layout(fig)


# --------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------

def per_unit_sentence(report: dict, words: Words) -> str:
    t = report["totals"]
    if not t.get("quarters"):
        return t.get("note", "No whole quarter has costs entered yet.")
    span = f"{t['quarters'][0]} to {t['quarters'][-1]}"
    if t["cost_per_response"] is None:
        why = words(t["hidden"].get("cost_per_response", "")) or "no team responses"
        return f"Over {span} the program cost {money(t['cost'])}; cost per response: {why}."
    text = (f"Over {span} the program cost {money(t['cost'])} for "
            f"{count_shown(t, 'responses', words)} team responses: {money(t['cost_per_response'])} "
            "per response")
    if t["cost_per_person"] is not None:
        text += (f", or {money(t['cost_per_person'])} per person served "
                 f"({count_shown(t, 'people', words)} people)")
    return text + "."


def stream_sentence(report: dict) -> str:
    """How much of the latest quarter with records rests on streams that end, and when."""
    have = [q for q in report["quarters"] if not q.get("ahead")] or report["quarters"]
    latest = have[-1]
    ending = {code: end for code, end in report["stream_ends"].items()
              if latest["streams"].get(code)}
    if not ending:
        return (f"In {latest['quarter']} the program cost {money(latest['cost'])}, from "
                f"{_list(stream_label(s) for s in latest['streams'])}; none of these streams "
                "has a known end date.")
    part = sum(latest["streams"][c] for c in ending)
    names = "; ".join(f"{stream_label(c)} {money(latest['streams'][c])} (ends by "
                      f"{date.fromisoformat(e['date']):%d %b %Y})" for c, e in ending.items())
    return (f"In {latest['quarter']}, {part / latest['cost']:.0%} of the program's "
            f"{money(latest['cost'])} came from streams with a known end: {names}. Plan the "
            "replacement before then.")


def capacity_sentence(report: dict, words: Words) -> str:
    t, p = report["totals"], report["police"]
    if p["hidden"]:
        return ("Police busy time on these call types rests on too few calls to show: "
                f"{words(next(iter(p['hidden'].values())))}.")
    if p["mean_hours"] is None:
        return ("The CAD export has no police-handled calls of the target categories with both "
                "a start and a clear time, so police busy time cannot be worked out.")
    if not t.get("quarters") or t.get("hours_returned") is None:
        return (f"Police spend a mean of {p['mean_hours']:.2f} hours (median "
                f"{p['median_hours']:.2f}) on a target-type call.")
    if not t["team_target_calls"]:
        return ("The team took no target-type call alone in these quarters (co-responses send "
                "an officer too), so it returned no police capacity on them.")
    value = (f", worth {money(t['capacity_value'])} at {money(t['police_hourly_cost'], True)} "
             "per unit-hour" if t.get("capacity_value") is not None else "")
    calls = count_shown(t, "team_target_calls", words)
    return (f"The team took {calls} target-type calls alone; at "
            f"the police mean of {p['mean_hours']:.2f} hours each, that is "
            f"{t['hours_returned']:,.0f} hours of police capacity returned{value}. Capacity, not "
            "cash saved: salaries do not fall.")


def _list(items) -> str:
    items = list(items)
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1] if items \
        else "no stream"
