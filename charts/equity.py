"""Equity charts: relative rate indices on a log axis, with 95% whiskers and a line at 1.

Pure functions from ``metrics.equity.GroupRate`` lists to Plotly figures. A ratio of 2 and a
ratio of 0.5 are the same distance from 1 on a log axis, which is why it is used. Groups whose
ratio cannot be estimated (zero cells, hidden small counts, no reference) are listed on the
axis with the reason instead of a marker: never drawn as 0 or infinity.
"""
from __future__ import annotations

import html
import math
from typing import NamedTuple

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from metrics.stats import FEW_EVENTS

from .frames import group_label
from .memo import kept
from .theme import HIDDEN_INK, INK, PALETTE, fmt_value, layout

_ROW_PX = 38


class PanelView(NamedTuple):
    """One jurisdiction's panel as drawn: its title (the reference and how it was chosen),
    its groups' rates, the reference group's label and the jurisdiction's name."""

    title: str | None
    rates: list
    reference: str
    name: str | None = None
_PANEL_PX = 64  # a panel's title and gap


def ratio_chart(rates, dim: str, unit: str, reference_label: str,
                count_word: str = "records") -> go.Figure:
    """One row per group: the RRI against the reference group, whiskers = 95% interval."""
    return ratio_panels([PanelView(None, rates, reference_label)], dim, unit, count_word)


@kept
def ratio_panels(panels, dim: str, unit: str, count_word: str = "records") -> go.Figure:
    """Small multiples, one panel per jurisdiction: (title or None, rates, reference label).

    Every panel compares its groups with its own reference group (named in its title and in
    the tooltips), on one shared log axis so that the jurisdictions can be read side by side.
    """
    fig, rows = _stack(panels, [[r for r in rates if not r.is_reference]
                                for _, rates, *_ in panels], shared=True)
    values, estimates = [], []
    for i, ((_, rates, ref_label, _), part) in enumerate(zip(panels, rows), start=1):
        shown = [r for r in part if r.ratio.estimable]
        values += [x for r in shown for x in (r.ratio.low, r.ratio.high)]
        estimates += [r.ratio.estimate for r in shown]
        fig.add_trace(go.Scatter(
            x=[r.ratio.estimate for r in shown], y=[group_label(dim, r.group) for r in shown],
            mode="markers", marker=dict(size=13, color=[_colour(r) for r in shown],
                                        symbol=[_symbol(r) for r in shown],
                                        line=dict(width=1, color=INK)),
            error_x=dict(type="data", symmetric=False,
                         array=[r.ratio.high - r.ratio.estimate for r in shown],
                         arrayminus=[r.ratio.estimate - r.ratio.low for r in shown],
                         color="#444", thickness=1.8, width=6),
            hovertext=[_hover(r, dim, unit, ref_label, count_word) for r in shown],
            hoverinfo="text", showlegend=False), row=i, col=1)
        gone = [r for r in part if not r.ratio.estimable]
        if gone:  # the reason where the dot would be: never drawn as 0 or infinity
            fig.add_trace(_reasons(gone, dim, [_short(r.ratio.reason) for r in gone]),
                          row=i, col=1)
        fig.add_vline(x=1, line_width=2, line_color=INK, row=i, col=1)
        _categories(fig, i, [group_label(dim, r.group) for r in part])
    lo, hi = _range(values, estimates)
    _pin_reasons(fig, lo)
    ticks = _ticks(lo, hi)
    one_ref = len({p.reference for p in panels}) == 1
    title = (f"Rate relative to {panels[0].reference}" if one_ref else
             "Rate relative to the jurisdiction's reference group") + \
        " (log scale; 1 = same rate)"
    fig.update_xaxes(type="log", range=[math.log10(lo), math.log10(hi)], tickvals=ticks,
                     ticktext=[f"{t:g}" for t in ticks], showticklabels=True)
    fig.update_xaxes(title=title, row=len(panels), col=1)
    layout(fig)
    _top_room(fig, panels)
    return fig


def rate_bars(rates, dim: str, unit: str) -> go.Figure:
    """The rate itself per group (reference included), with its interval: the raw picture."""
    return rate_panels([PanelView(None, rates, "")], dim, unit)


@kept
def rate_panels(panels, dim: str, unit: str) -> go.Figure:
    """Each jurisdiction's rates per group (its reference in orange), 95% whiskers, one
    shared axis. The value is printed just beyond the whisker's end, never under it."""
    fig, rows = _stack(panels, [p.rates for p in panels], shared=True)
    top = max([x for p in panels for r in p.rates for x in (r.rate, r.ci_high)
               if x is not None] or [1]) or 1
    for i, rates in enumerate(rows, start=1):
        labels = [group_label(dim, r.group) for r in rates]
        err = None
        if any(r.ci_low is not None for r in rates):
            err = dict(type="data", symmetric=False, color="#444", thickness=1.5,
                       array=[_gap(r.ci_high, r.rate) for r in rates],
                       arrayminus=[_gap(r.rate, r.ci_low) for r in rates])
        fig.add_trace(go.Bar(
            x=[v if v is not None else 0 for v in (r.rate for r in rates)], y=labels,
            orientation="h", error_x=err, showlegend=False,
            marker_color=[PALETTE[1] if r.is_reference else PALETTE[0] for r in rates],
            hovertext=[_rate_hover(r, dim, unit) for r in rates], hoverinfo="text"),
            row=i, col=1)
        fig.add_trace(value_labels([r.rate for r in rates], [r.ci_high for r in rates],
                                   labels, unit, ["reference" if r.is_reference else ""
                                                  for r in rates]), row=i, col=1)
        _categories(fig, i, labels)
    fig.update_xaxes(tickformat=".0%" if unit == "share" else ",", range=[0, top * LABEL_ROOM])
    layout(fig)
    _top_room(fig, panels)
    return fig


# The axis runs this far beyond the longest whisker, so that the value printed at its end
# has room (a value of "12.3% · reference" is about a fifth of a full-width chart).
LABEL_ROOM = 1.4


def value_labels(values, ends, labels, unit, notes=None, prefix="") -> go.Scatter:
    """Values printed just right of each bar's whisker end (or the bar's end when it has no
    whisker): a label drawn at the bar's end sits under the whisker and cannot be read."""
    notes = notes or [""] * len(values)
    xs = [max(x for x in (v, e, 0) if x is not None) for v, e in zip(values, ends)]
    text = [("hidden" if v is None else prefix + fmt_value(v, unit)) + (f" · {n}" if n else "")
            for v, n in zip(values, notes)]
    return go.Scatter(x=xs, y=labels, mode="text", text=[f"  {t}" for t in text],
                      textposition="middle right", cliponaxis=False, hoverinfo="skip",
                      showlegend=False, textfont=dict(color=INK))


@kept
def pooled_chart(rows, dim: str, reference_label: str) -> go.Figure:
    """Each group against the reference across jurisdictions: the Mantel–Haenszel ratio
    (dot, 95% whisker) and, where it differs materially, the crude ratio of the records added
    up (open diamond, no whisker: it answers a confounded question)."""
    fig = go.Figure()
    shown = [g for g in rows if g.pooled.ratio.estimable]
    labels = [group_label(dim, g.group) for g in rows]
    fig.add_trace(go.Scatter(
        x=[g.pooled.ratio.estimate for g in shown], y=[group_label(dim, g.group) for g in shown],
        mode="markers", name="Compared within each jurisdiction (Mantel–Haenszel)",
        marker=dict(size=13, color=PALETTE[0], line=dict(width=1, color=INK)),
        error_x=dict(type="data", symmetric=False,
                     array=[g.pooled.ratio.high - g.pooled.ratio.estimate for g in shown],
                     arrayminus=[g.pooled.ratio.estimate - g.pooled.ratio.low for g in shown],
                     color="#444", thickness=1.8, width=6),
        hovertext=[_pooled_hover(g, dim, reference_label) for g in shown], hoverinfo="text"))
    crude = [g for g in shown if g.pooled.crude.estimable and g.pooled.confounded]
    if crude:
        fig.add_trace(go.Scatter(
            x=[g.pooled.crude.estimate for g in crude],
            y=[group_label(dim, g.group) for g in crude], mode="markers",
            name="All records added up (crude: confounded by jurisdiction)",
            marker=dict(size=12, symbol="diamond-open", color=PALETTE[5], line_width=2.5),
            hovertext=[_pooled_hover(g, dim, reference_label) for g in crude],
            hoverinfo="text"))
    gone = [g for g in rows if not g.pooled.ratio.estimable]
    if gone:
        fig.add_trace(_reasons(gone, dim, [_short(g.pooled.ratio.reason) for g in gone]))
    lo, hi = _range([x for g in shown for x in (g.pooled.ratio.low, g.pooled.ratio.high)]
                    + [g.pooled.crude.estimate for g in crude],
                    [g.pooled.ratio.estimate for g in shown]
                    + [g.pooled.crude.estimate for g in crude])
    _pin_reasons(fig, lo)
    fig.add_vline(x=1, line_width=2, line_color=INK)
    fig.update_xaxes(type="log", range=[math.log10(lo), math.log10(hi)],
                     title=f"Rate relative to {reference_label} (log scale; 1 = same rate)",
                     tickvals=_ticks(lo, hi), ticktext=[f"{t:g}" for t in _ticks(lo, hi)])
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], title=None)
    height = max(260, _ROW_PX * len(rows) + 170)
    # The legend below the axis title, in pixels (a fraction of a short chart sat on it).
    fig.update_layout(height=height, showlegend=True,
                      legend=dict(orientation="h", yanchor="top", y=-95 / height, x=0))
    layout(fig)
    fig.update_layout(margin_b=70)
    return fig


def _stack(panels, rows, shared: bool):
    """A figure with one row-panel per jurisdiction, each as tall as its groups need."""
    sizes = [max(len(r), 1) for r in rows]
    titled = any(p.title for p in panels)
    total = sum(_ROW_PX * n + (_PANEL_PX if titled else 0) for n in sizes) + 90
    fig = make_subplots(rows=len(panels), cols=1, shared_xaxes=shared,
                        row_heights=[n / sum(sizes) for n in sizes],
                        vertical_spacing=min(0.3 / max(len(panels) - 1, 1),
                                             _PANEL_PX / total) if len(panels) > 1 else 0.02,
                        subplot_titles=[html.escape(p.title or "") for p in panels]
                        if titled else None)
    fig.update_annotations(xanchor="left", x=0, font_size=15)  # panel titles, left-aligned
    fig.update_layout(height=max(240, total))
    return fig, rows


def _top_room(fig, panels) -> None:
    """Room above the first panel for its title (``layout`` sets a 10 px top margin)."""
    if any(p.title for p in panels):
        fig.update_layout(margin_t=36)


def _reasons(items, dim: str, texts: list[str]) -> go.Scatter:
    """Groups without a ratio: their reason, at the left edge of the axis (x domain 0 would
    need the category to exist; a text trace makes it so, in every panel)."""
    return go.Scatter(x=[1] * len(items), y=[group_label(dim, r.group) for r in items],
                      mode="text", text=texts, textposition="middle right", cliponaxis=False,
                      textfont=dict(color=HIDDEN_INK), hoverinfo="skip", showlegend=False,
                      name=_NO_RATIO)


_NO_RATIO = "no ratio"


def _pin_reasons(fig, lo: float) -> None:
    """Put the reasons at the left edge, once the axis's range is known."""
    for t in fig.data:
        if t.name == _NO_RATIO:
            t.x = [lo * 1.03] * len(t.y)


def _short(reason: str | None) -> str:
    """The chart's words for why there is no ratio (the table keeps the full reason)."""
    reason = reason or ""
    if "hidden" in reason:
        return "hidden (a small count)"
    if "no events" in reason or "zero count" in reason:
        return "no ratio: no events in a group"
    if "no reference" in reason or "both groups" in reason:
        return "no ratio: the reference group is absent"
    return "no ratio: " + reason


def _categories(fig, i: int, labels: list[str]) -> None:
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], title=None,
                     row=i, col=1)


def _gap(a, b) -> float:
    return 0 if a is None or b is None else a - b


def _symbol(r) -> str:
    return "diamond" if r.differs else "circle"  # not by colour alone (WCAG 1.4.1)


def _pooled_hover(g, dim, reference_label) -> str:
    p = g.pooled
    lines = [f"<b>{html.escape(group_label(dim, g.group))}</b>",
             f"within each jurisdiction: {p.ratio.estimate:.2f}× {html.escape(reference_label)}"
             f" (95% CI {p.ratio.low:.2f}–{p.ratio.high:.2f})"]
    if p.crude.estimable:
        lines.append(f"all records added up: {p.crude.estimate:.2f}×")
    if p.homogeneity_p is not None:
        lines.append(f"same ratio in every jurisdiction? p = {p.homogeneity_p:.3f}")
    lines.append(f"rests on {', '.join(html.escape(str(s)) for s in p.strata)}")
    return "<br>".join(lines)


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


def _range(values, estimates=()) -> tuple[float, float]:
    """The log axis: every whisker, but a whisker reaching past 4× the farthest estimate (a
    ratio resting on 1 or 2 events: 0.2 to 200) is cut at the edge, not allowed to squeeze
    every other panel into a sliver."""
    values = [v for v in values if v]
    est = [e for e in estimates if e] or [1.0]
    lo = max(min(values + [1.0]), min(est + [1.0]) / 4) / 1.3
    hi = min(max(values + [1.0]), max(est + [1.0]) * 4) * 1.3
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


# --------------------------------------------------------------------------------------------
# Several jurisdictions: sentences and tables
# --------------------------------------------------------------------------------------------

def panels_takeaway(panels, dim: str, point_label: str, dim_word: str) -> str:
    """One jurisdiction: ``takeaway``. Several: where a group differs clearly, each within its
    own jurisdiction ('Riverton: 0-17 2.41× 25-34 (95% CI 1.34–4.34)'), and where none does."""
    if len(panels) == 1:
        return takeaway(panels[0].rates, dim, point_label, panels[0].reference, dim_word)
    clear, none, blank = [], [], []
    for title, rates, ref, name in panels:
        if not has_ratio(rates):
            blank.append(name)
            continue
        hits = sorted([r for r in rates if not r.is_reference and r.differs],
                      key=lambda r: -abs(math.log(r.ratio.estimate)))
        if not hits:
            none.append(name)
            continue
        top = hits[0]
        more = f", and {len(hits) - 1} more" if len(hits) > 1 else ""
        clear.append(f"{name}: {group_label(dim, top.group)} {top.ratio.estimate:.2f}× "
                     f"{ref} (95% CI {top.ratio.low:.2f}–{top.ratio.high:.2f}){more}")
    parts = [f"{point_label}, each jurisdiction against its own reference group"]
    if clear:
        parts.append("a clear difference in " + "; ".join(clear))
    if none:
        parts.append(f"no clear difference in {_names(none)}")
    text = ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if len(parts) > 2 else "") + "."
    if blank:
        text += (f" No ratio can be shown for {_names(blank)} (counts hidden to protect "
                 "privacy, or no events).")
    return text


def has_ratio(rates) -> bool:
    """Whether a panel has any ratio to draw (else it is named in words, not drawn)."""
    return any(r.ratio.estimable for r in rates if not r.is_reference)


def pooled_takeaway(rows, dim: str, reference_label: str, point_label: str) -> str:
    """The stratified figure in words, for the group furthest from 1 (or none)."""
    shown = [g for g in rows if g.pooled.ratio.estimable]
    if not shown:
        return (f"{point_label}: no group can be compared with {reference_label} across the "
                "jurisdictions (too few shown counts).")
    clear = [g for g in shown if not (g.pooled.ratio.low <= 1 <= g.pooled.ratio.high)]
    if not clear:
        return (f"{point_label}, compared within each jurisdiction and combined: no group's "
                f"rate differs clearly from {reference_label}'s.")
    top = max(clear, key=lambda g: abs(math.log(g.pooled.ratio.estimate)))
    r = top.pooled.ratio
    more = f"; {len(clear) - 1} more group{'s' if len(clear) > 2 else ''} differ clearly" \
        if len(clear) > 1 else ""
    return (f"{point_label}, compared within each jurisdiction and combined: "
            f"{group_label(dim, top.group)} {r.estimate:.2f}× the rate of {reference_label} "
            f"(95% CI {r.low:.2f}–{r.high:.2f}){more}.")


def pooled_warnings(rows, dim: str) -> list[str]:
    """What a reader must know before quoting the pooled figure: where adding the
    jurisdictions up would mislead (confounding), and where they disagree (heterogeneity)."""
    out = []
    confounded = [g for g in rows if g.pooled.confounded]
    if confounded:
        out.append("Adding every jurisdiction's records together would mislead here: "
                   + "; ".join(f"{group_label(dim, g.group)} {g.pooled.crude.estimate:.2f}× "
                               f"added up, {g.pooled.ratio.estimate:.2f}× compared within "
                               "each jurisdiction" for g in confounded)
                   + ". The added-up (crude) figure is confounded by jurisdiction: the "
                   "jurisdictions differ in their rates and in whom they serve.")
    mixed = [g for g in rows if g.pooled.heterogeneous]
    if mixed:
        out.append("The jurisdictions disagree about "
                   + _names([group_label(dim, g.group) for g in mixed])
                   + " (test of equal ratios across jurisdictions: p "
                   + ", ".join(_p(g.pooled.homogeneity_p) for g in mixed)
                   + "): a single combined figure hides that. Read each jurisdiction's panel "
                   "above.")
    partial = [g for g in rows if g.pooled.ratio.estimable and g.left_out]
    if partial:
        out.append("Combined over only some jurisdictions: " + "; ".join(
            f"{group_label(dim, g.group)} over {_names(g.pooled.strata)}" for g in partial)
            + ". In the others a count is hidden to protect privacy, or the group or the "
            "reference group has no records there.")
    return out


def panels_table(panels, dim: str, unit: str):
    """The data behind the small multiples: one row per group per jurisdiction."""
    import pandas as pd

    parts = [rates_table(p.rates, dim, unit).assign(Jurisdiction=p.name, Reference=p.reference)
             for p in panels]
    df = pd.concat(parts, ignore_index=True)
    return df[["Jurisdiction", "Reference"] + [c for c in df.columns
                                               if c not in ("Jurisdiction", "Reference")]]


def pooled_table(rows, dim: str):
    import pandas as pd

    return pd.DataFrame({
        dim.replace("_", " ").capitalize(): [group_label(dim, g.group) for g in rows],
        "Within jurisdictions (MH)": [g.pooled.ratio.estimate for g in rows],
        "MH 95% CI low": [g.pooled.ratio.low for g in rows],
        "MH 95% CI high": [g.pooled.ratio.high for g in rows],
        "Equal across jurisdictions? (p)": [g.pooled.homogeneity_p for g in rows],
        "Added up (crude, confounded)": [g.pooled.crude.estimate for g in rows],
        "Jurisdictions": [", ".join(map(str, g.pooled.strata)) for g in rows],
        "Left out": [", ".join(map(str, g.left_out)) for g in rows],
        "Note": [g.pooled.ratio.reason or "" for g in rows]})


def _names(names) -> str:
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


# --------------------------------------------------------------------------------------------
# Times: medians, within each jurisdiction
# --------------------------------------------------------------------------------------------

@kept
def time_panels(panels, dim: str) -> go.Figure:
    """Median minutes per group (bar) and the 90th percentile (tick), one panel per
    jurisdiction; the median is printed beyond the tick, where nothing covers it."""
    fig, rows = _stack(panels, [p.rates for p in panels], shared=True)
    top = max([x for p in panels for r in p.rates for x in (r.rate, r.p90)
               if x is not None] or [1]) or 1
    for i, rates in enumerate(rows, start=1):
        labels = [group_label(dim, r.group) for r in rates]
        fig.add_trace(go.Bar(
            x=[r.rate or 0 for r in rates], y=labels, orientation="h", showlegend=False,
            name="Median", marker_color=[PALETTE[1] if r.is_reference else PALETTE[0]
                                         for r in rates],
            hovertext=[_time_hover(r, dim) for r in rates], hoverinfo="text"), row=i, col=1)
        fig.add_trace(go.Scatter(
            x=[r.p90 for r in rates], y=labels, mode="markers", name="90th percentile",
            showlegend=i == 1, marker=dict(symbol="line-ns", size=20, color="#000",
                                           line=dict(width=3, color="#000")),
            hovertext=[_time_hover(r, dim) for r in rates], hoverinfo="text"), row=i, col=1)
        # At the tick's end, so the label says which number it is: both, in words.
        fig.add_trace(value_labels([r.rate for r in rates], [r.p90 for r in rates], labels,
                                   "minutes", [_time_note(r) for r in rates], "median "),
                      row=i, col=1)
        _categories(fig, i, labels)
    fig.update_xaxes(range=[0, top * 1.9])
    fig.update_xaxes(title="Minutes from request to arrival", row=len(panels), col=1)
    layout(fig)
    _top_room(fig, panels)
    # The legend (median, 90th percentile) below the axis title: above, it sat on a title.
    fig.update_layout(legend=dict(orientation="h", yanchor="top", x=0,
                                  y=-80 / fig.layout.height), margin_b=60)
    return fig


def times_takeaway(panels, dim: str, label: str) -> str:
    """The largest gap in median time within any jurisdiction, as a ratio of medians."""
    gaps = [(name, r, ref) for _, rates, ref, name in panels for r in rates
            if not r.is_reference and r.ratio.estimable and r.reliability != "insufficient"]
    if not gaps:
        return f"Too few timed records to compare {label.lower()} between groups."
    name, r, ref = max(gaps, key=lambda g: abs(math.log(g[1].ratio.estimate)))
    where = "" if len(panels) == 1 else f"in {name}, "
    return (f"{label}: the largest gap is {where}{group_label(dim, r.group)}, whose median "
            f"({fmt_value(r.rate, 'minutes')}) is {r.ratio.estimate:.2f}× {ref}'s; groups with "
            "fewer than 20 timed records are left out of this comparison.")


def _time_note(r) -> str:
    p90 = "" if r.p90 is None else f"90% within {r.p90:,.1f}"
    return " · ".join(x for x in (p90, "reference" if r.is_reference else "") if x)


def _time_hover(r, dim) -> str:
    lines = [f"<b>{html.escape(group_label(dim, r.group))}</b>"]
    if r.rate is None:
        return lines[0] + "<br>median hidden (small numbers)"
    lines.append(f"median {fmt_value(r.rate, 'minutes')}"
                 + ("" if r.p90 is None else f"; 90% within {fmt_value(r.p90, 'minutes')}"))
    if r.numerator is not None:
        lines.append(f"{r.numerator:,.0f} timed records")
    return "<br>".join(lines)
