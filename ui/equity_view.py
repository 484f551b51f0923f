"""The Equity page's controls and cards: a decision point by group, against a reference group.

Numbers come from the metric engine through ``ui.components`` frames (so disclosure control and
name masking apply as on every other page); ratios and intervals from ``metrics.equity``.
"""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pandas as pd
import streamlit as st

import metrics
from charts import equity as charts
from charts.frames import data_table, group_label, has_values, hidden_rows, only
from metrics import equity
from ui import auth, cache, components, messages
from ui.text import escape

DIM_WORDS = {"race_ethnicity": "race/ethnicity", "age_group": "age group", "gender": "gender",
             "area": "area"}


def controls(key: str) -> tuple[equity.DecisionPoint, str]:
    """Decision point and grouping, kept in the URL (?point=backup&by=race_ethnicity)."""
    with st.container(key="controls", horizontal=True, vertical_alignment="bottom"):
        point = st.selectbox("Decision point", [d.key for d in equity.DECISION_POINTS],
                             format_func=lambda k: equity.BY_KEY[k].label, key=f"{key}_point",
                             bind="query-params", width=420,
                             help="Each rate uses the previous stage as its denominator "
                                  "(OJJDP relative rate index).")
        p = equity.BY_KEY[point]
        dim = st.selectbox("Compare by", list(p.dimensions), format_func=DIM_WORDS.get,
                           key=f"{key}_by_{point}", width=220,
                           help="Calls record only the area; team responses and referrals "
                                "also record race/ethnicity, age group and gender.")
    return p, dim


def in_view(filters: metrics.Filters) -> tuple[metrics.Filters, str]:
    """The jurisdictions compared, and a sentence saying which and why.

    The ones chosen in the sidebar; with none chosen, the reader's own jurisdiction when they
    have exactly one (an analyst's or a viewer's grant); otherwise every jurisdiction, each in
    its own panel. Never one pool of records: ratios are within a jurisdiction (issue 26).
    """
    if filters.jurisdictions:
        return filters, _scope_words(filters.jurisdictions)
    principal = auth.current()
    own = principal.analyst_jurisdictions or principal.viewable_jurisdictions() or ()
    if len(own) == 1:
        (name,) = own
        return replace(filters, jurisdictions=(name,)), (
            f"Your jurisdiction, {escape(name)}. Choose others in the sidebar's Jurisdictions "
            "filter to see them side by side, each compared within itself.")
    return filters, _scope_words(())


def _scope_words(chosen) -> str:
    if len(chosen) == 1:
        name = escape(chosen[0])  # a caption is Markdown; names come from data
        return f"Within {name}: every group is compared with a group of {name}."
    return ("One panel per jurisdiction: each compares its groups with its own reference group. "
            "Records of different jurisdictions are never added together to make a ratio.")


_EACH = ""  # the reference control's "each jurisdiction's default" choice


def reference_choice(key: str, dim: str, rows: list) -> str | None:
    """The reference group, or None for each jurisdiction's default (White for race/ethnicity,
    else the group with the most records in that jurisdiction)."""
    groups = sorted({equity._group(r, dim) for r in rows} - set(equity.UNKNOWN_GROUPS),
                    key=lambda g: group_label(dim, g))
    several = len(equity.by_jurisdiction(rows)) > 1
    if dim == "area" and several:
        st.caption("Areas are compared within their own jurisdiction, each against its area "
                   "with the most records.")
        return None
    standard = equity.DEFAULT_REFERENCE.get(dim)
    if standard in groups:
        default_words = f"{group_label(dim, standard)} (the standard reference)"
    elif several:
        default_words = "the largest group in each jurisdiction"
    else:
        ref, _ = equity.default_reference(rows, dim)
        default_words = f"{group_label(dim, ref)} (the most records)"
    options = [_EACH] + groups
    k = f"{key}_ref_{dim}"
    if st.session_state.get(k) not in options:  # a group of another selection: the default
        st.session_state[k] = _EACH
    chosen = st.selectbox("Reference group", options, key=k, width=340,
                          format_func=lambda g: default_words if g == _EACH
                          else group_label(dim, g),
                          help="Every other group's rate is divided by this group's rate, "
                               "within the same jurisdiction.")
    return chosen or None


def group_frame(p: equity.DecisionPoint, dim: str, filters: metrics.Filters) -> pd.DataFrame:
    """The decision point's metric by jurisdiction and group (one table, one disclosure)."""
    return only(components.metric_frame((p.metric,), ("jurisdiction", dim), filters), p.metric)


def as_rows(df: pd.DataFrame, dim: str) -> list:
    """Frame rows as the light objects ``metrics.equity`` reads (hidden counts stay None)."""
    def num(v):
        return None if pd.isna(v) else (int(v) if float(v).is_integer() else float(v))
    return [SimpleNamespace(group={"jurisdiction": r["jurisdiction"],
                                   dim: None if pd.isna(r[dim]) else r[dim]},
                            numerator=num(r["numerator"]), denominator=num(r["denominator"]),
                            value=num(r["value"]), ci_low=num(r["ci_low"]),
                            ci_high=num(r["ci_high"]), reliability=r["reliability"],
                            n=num(r["n"]), missing=num(r["missing"]),
                            p90=num(r["p90"]) if "p90" in r else None)
            for _, r in df.iterrows()]


def unknown_note(rows: list, dim: str, p: equity.DecisionPoint) -> None:
    unknown, total = equity.unknown_share(rows, dim)
    word = DIM_WORDS[dim]
    parts = equity.by_jurisdiction(rows)
    if total is None and len(parts) > 1:
        pass  # the jurisdictions' own shares follow
    elif total is None:
        st.caption(f"Share of records with unknown {word}: hidden (it rests on small counts).")
    elif total:
        st.metric(f"Records with unknown {word}", f"{unknown / total:.1%}",
                  help=f"{unknown:,} of {total:,} records at this decision point have no "
                       f"{word} recorded. They are left out of the ratios; if they are not "
                       "missing at random, the ratios can mislead.", width=260)
    if len(parts) > 1:  # recording differs between jurisdictions: say where it is missing
        shares = []
        for j, part in parts.items():
            u, t = equity.unknown_share(part, dim)
            shares.append(f"{j} " + ("hidden" if t is None else "no records" if not t
                                     else f"{u / t:.1%}"))
        st.caption(escape(f"Records with unknown {word}, by jurisdiction (left out of the "
                          "ratios): " + "; ".join(shares) + "."))


def _titled(panels: list[equity.Panel], dim: str) -> list[tuple]:
    """(panel title, rates, reference label) for the charts: the reference and how it was
    chosen are stated on every panel."""
    return [charts.PanelView(f"{p.jurisdiction}: against {group_label(dim, p.reference)}, "
                             f"{p.reference_words}" if p.reference is not None else
                             f"{p.jurisdiction}: no reference group", p.rates,
                             group_label(dim, p.reference), p.jurisdiction) for p in panels]


def ratio_card(key: str, p: equity.DecisionPoint, dim: str, panels: list) -> None:
    m = equity.metric_of(p)
    titled = _titled(panels, dim)
    one = len(panels) == 1
    title = (f"{p.label}: relative to {escape(titled[0][2])}" if one else
             f"{p.label}: each jurisdiction relative to its own reference group")
    drawn = [v for v in titled if charts.has_ratio(v.rates)] or titled[:1]
    components.chart(
        f"{key}-rri", title,
        charts.panels_takeaway(titled, dim, p.label, DIM_WORDS[dim]),
        charts.ratio_panels(drawn, dim, m.unit), charts.panels_table(titled, dim, m.unit),
        note="Each dot: the group's rate divided by the reference group's rate in the same "
             "jurisdiction; whiskers: 95% interval (Katz log). Vermillion diamond: the interval "
             "excludes 1 (a clear difference); blue circle: it includes 1. A ratio is not "
             "estimable when a group has no events or its counts are hidden.")


def pooled_card(key: str, p: equity.DecisionPoint, dim: str, rows: list,
                reference: str | None, panels: list) -> None:
    """Across the jurisdictions: Mantel–Haenszel, stratified by jurisdiction, never added up."""
    ref, rule = equity.pooled_reference(rows, dim, reference)
    groups = equity.pooled(rows, dim, ref)
    if not groups:
        return
    ref_label = group_label(dim, ref)
    differs = [q.jurisdiction for q in panels if q.reference not in (None, ref)]
    note = ("Dot: each group's rate relative to " + ref_label + " within each jurisdiction, "
            "combined across them (Mantel–Haenszel, stratified by jurisdiction; whiskers: 95% "
            "interval, Greenland–Robins). Open diamond: the same ratio from all records added "
            "up, drawn only where it differs by more than 10% — it is confounded by "
            "jurisdiction, do not quote it.")
    if differs:
        note += (f" Here every jurisdiction is compared against {ref_label} ("
                 f"{'the most records across them' if rule == equity.LARGEST else rule}), "
                 f"though {', '.join(map(str, differs))} use another reference in the panels "
                 "above.")
    components.chart(
        f"{key}-pooled", f"Combined across the jurisdictions: relative to {ref_label}, "
        "compared within each jurisdiction",
        charts.pooled_takeaway(groups, dim, ref_label, p.label),
        charts.pooled_chart(groups, dim, ref_label), charts.pooled_table(groups, dim),
        note=note)
    for warning in charts.pooled_warnings(groups, dim):
        st.warning(escape(warning), icon=":material/warning:")


def rate_card(key: str, p: equity.DecisionPoint, dim: str, panels: list) -> None:
    m = equity.metric_of(p)
    titled = _titled(panels, dim)
    sentences = [charts.rate_sentence(rates, dim, m.label, m.unit) for _, rates, *_ in titled]
    sentence = sentences[0] if len(titled) == 1 else (
        f"{m.label} per group within each jurisdiction, its reference group in orange. Read "
        "each panel on its own: jurisdictions differ in scale, program and practice, so a "
        "group's rate in one is not comparable with another group's rate in the next.")
    components.chart(f"{key}-rate", f"{m.label} by {DIM_WORDS[dim]}", sentence,
                     charts.rate_panels(titled, dim, m.unit),
                     charts.panels_table(titled, dim, m.unit),
                     note="Bars: the rate; whiskers: 95% Wilson interval; orange, marked "
                          "'reference': the jurisdiction's reference group.")


def times_card(key: str, p: equity.DecisionPoint, dim: str, rows: list) -> None:
    """Medians per group within each jurisdiction, and each as a ratio of the reference's."""
    m = equity.metric_of(p)
    panels = equity.within_jurisdictions(rows, dim, times=True)
    titled = _titled(panels, dim)
    components.chart(f"{key}-times", f"{m.label} by {DIM_WORDS[dim]}",
                     charts.times_takeaway(titled, dim, m.label),
                     charts.time_panels(titled, dim),
                     charts.panels_table(titled, dim, "minutes"),
                     note="Bars: median minutes; tick: 90th percentile (9 in 10 arrivals were "
                          "within it). 'Relative rate' in the data: the group's median "
                          "divided by the reference group's, in the same jurisdiction (no "
                          "interval). Records without both times are left out.")


def per_resident_card(key: str, p: equity.DecisionPoint, dim: str, panels: list,
                      filters: metrics.Filters) -> None:
    """Events per 1,000 residents: the census benchmark, labelled as such (DOMAIN §5).
    Within one jurisdiction only: residents of several are not added together either."""
    if len(panels) != 1:
        st.caption("Events per resident, the census benchmark: choose one jurisdiction in the "
                   "sidebar (residents of several jurisdictions are not added together).")
        return
    rows, reference = panels[0].rates, panels[0].reference
    pop = cache.population(tuple(filters.jurisdictions), dim)
    m = equity.metric_of(p)
    counts = {r.group: r.numerator for r in rows}
    rates = equity.per_resident_rates(counts, pop["groups"], reference)
    title = f"{m.label}: events per 1,000 residents"
    if len(rates) < 2:
        components.empty(f"{key}-pop", title, "No population figures for these groups. "
                         "Upload population denominators (for example an ACS table from "
                         "data.census.gov) on the Data page.")
        return
    ref_label = group_label(dim, reference)
    source = "; ".join(pop["sources"]) or "population figures"
    components.chart(
        f"{key}-pop", title,
        charts.takeaway(rates, dim, f"{m.label} per resident", ref_label, DIM_WORDS[dim]),
        charts.ratio_chart(rates, dim, "per 1,000 residents", ref_label, "events"),
        charts.rates_table(rates, dim, "per 1,000 residents"),
        note=f"A second benchmark, not the main one: residents ({escape(source)}) are not the "
             "people who call, nor who the census misses. Intervals include the census margins of "
             "error.")


def area_map_card(key: str, p: equity.DecisionPoint, df: pd.DataFrame,
                  filters: metrics.Filters) -> None:
    """The rate per area on the jurisdiction's own boundaries (drawn with no tile server)."""
    # The real name (the frame's may be masked for a presentation).
    shown_j = filters.jurisdictions or tuple(cache.filter_options()["jurisdictions"])
    if len(shown_j) != 1:
        st.caption("Choose one jurisdiction to see its areas on a map (when it has uploaded "
                   "its area boundaries).")
        return
    shapes = cache.boundaries(shown_j[0])
    if shapes is None:
        st.caption(f"{escape(shown_j[0])} has no area boundaries yet: upload a GeoJSON "
                   "of its areas (`python -m data import FILE.geojson --kind boundaries`) to "
                   "see this on a map.")
        return
    from charts.maps import area_map

    m = equity.metric_of(p)
    shown = map_frame(df)
    components.chart(f"{key}-map", f"{m.label} by area, on the map",
                     charts.rate_sentence(as_rates(shown), "area", m.label, m.unit),
                     area_map(shown, m, shapes), data_table(df, ("area",), {m.id: m.label}),
                     note="Darker: higher. Grey: hidden (too few to show) or no data.")


def map_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The frame the map draws: ``hidden`` true where disclosure control hid the rate.

    A rate can be hidden while its denominator is shown (a small numerator): that area is
    "hidden", not "no data". No value and nothing hidden (no eligible calls) is "no data".
    """
    return df.assign(hidden=hidden_rows(df))


def as_rates(df: pd.DataFrame) -> list:
    rows = as_rows(df, "area")
    return equity.relative_rates(rows, "area", None)


def empty(key: str, p: equity.DecisionPoint) -> None:
    components.empty(key, p.label, messages.nothing_selected(
        "records at this decision point", "responses"))


__all__ = ["controls", "in_view", "reference_choice", "group_frame", "as_rows", "unknown_note",
           "ratio_card", "pooled_card", "rate_card", "times_card", "per_resident_card",
           "area_map_card", "map_frame", "empty", "has_values"]
