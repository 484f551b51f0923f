"""The Equity page's controls and cards: a decision point by group, against a reference group.

Numbers come from the metric engine through ``ui.components`` frames (so disclosure control and
name masking apply as on every other page); ratios and intervals from ``metrics.equity``.
"""
from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import streamlit as st

import metrics
from charts import equity as charts
from charts import figures
from charts.frames import data_table, group_label, has_values, only
from metrics import equity
from ui import cache, components, messages
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


def reference_choice(key: str, dim: str, rows: list) -> str | None:
    """The reference group: the standard one (White, for race/ethnicity) when present, else
    the group with the most records, whose rate is the most precise."""
    named = [r for r in rows if r.group[dim] not in equity.UNKNOWN_GROUPS]
    if not named:
        return None
    groups = [r.group[dim] for r in named]
    default = equity.DEFAULT_REFERENCE.get(dim)
    if default not in groups:
        default = max(named, key=lambda r: r.denominator or r.n or 0).group[dim]
    index = groups.index(default)
    named = groups
    return st.selectbox("Reference group", named, index=index, key=f"{key}_ref_{dim}",
                        format_func=lambda g: group_label(dim, g), width=320,
                        help="Every other group's rate is divided by this group's rate.")


def group_frame(p: equity.DecisionPoint, dim: str, filters: metrics.Filters) -> pd.DataFrame:
    return only(components.metric_frame((p.metric,), (dim,), filters), p.metric)


def as_rows(df: pd.DataFrame, dim: str) -> list:
    """Frame rows as the light objects ``metrics.equity`` reads (hidden counts stay None)."""
    def num(v):
        return None if pd.isna(v) else (int(v) if float(v).is_integer() else float(v))
    return [SimpleNamespace(group={dim: None if pd.isna(r[dim]) else r[dim]},
                            numerator=num(r["numerator"]), denominator=num(r["denominator"]),
                            value=num(r["value"]), ci_low=num(r["ci_low"]),
                            ci_high=num(r["ci_high"]), reliability=r["reliability"],
                            n=num(r["n"]), missing=num(r["missing"]))
            for _, r in df.iterrows()]


def unknown_note(rows: list, dim: str, p: equity.DecisionPoint) -> None:
    unknown, total = equity.unknown_share(rows, dim)
    word = DIM_WORDS[dim]
    if total is None:
        st.caption(f"Share of records with unknown {word}: hidden (it rests on small counts).")
    elif total:
        st.metric(f"Records with unknown {word}", f"{unknown / total:.1%}",
                  help=f"{unknown:,} of {total:,} records at this decision point have no "
                       f"{word} recorded. They are left out of the ratios; if they are not "
                       "missing at random, the ratios can mislead.", width=260)


def ratio_card(key: str, p: equity.DecisionPoint, dim: str, rates, reference) -> None:
    m = equity.metric_of(p)
    ref_label = group_label(dim, reference)
    components.chart(
        f"{key}-rri", f"{p.label}: relative to {escape(ref_label)}",
        charts.takeaway(rates, dim, p.label, ref_label, DIM_WORDS[dim]),
        charts.ratio_chart(rates, dim, m.unit, ref_label),
        charts.rates_table(rates, dim, m.unit),
        note="Each dot: the group's rate divided by the reference group's rate; whiskers: 95% "
             "interval (Katz log). Vermillion: the interval excludes 1 (a clear difference). "
             "A ratio is not estimable when a group has no events or its counts are hidden.")


def rate_card(key: str, p: equity.DecisionPoint, dim: str, rates) -> None:
    m = equity.metric_of(p)
    components.chart(f"{key}-rate", f"{m.label} by {DIM_WORDS[dim]}",
                     charts.rate_sentence(rates, dim, m.label, m.unit),
                     charts.rate_bars(rates, dim, m.unit), charts.rates_table(rates, dim, m.unit),
                     note="Bars: the rate; whiskers: 95% Wilson interval; orange: the "
                          "reference group.")


def times_card(key: str, p: equity.DecisionPoint, dim: str, df: pd.DataFrame) -> None:
    m = equity.metric_of(p)
    from charts import takeaways
    components.chart(f"{key}-times", f"{m.label} by {DIM_WORDS[dim]}",
                     takeaways.durations(df, dim, m), figures.panels(df, dim, [m]),
                     data_table(df, (dim,), {m.id: m.label}),
                     note="Bars: median minutes; tick: 90th percentile. Records without both "
                          "times are left out.")


def per_resident_card(key: str, p: equity.DecisionPoint, dim: str, rows, reference,
                      filters: metrics.Filters) -> None:
    """Events per 1,000 residents: the census benchmark, labelled as such (DOMAIN §5)."""
    pop = cache.population(tuple(filters.jurisdictions), dim)
    m = equity.metric_of(p)
    counts = {r.group[dim]: r.numerator for r in rows if r.group[dim] not in
              equity.UNKNOWN_GROUPS}
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
        note=f"A second benchmark, not the main one: residents ({escape(source)}) are not the people "
             "who call, nor who the census misses. Intervals include the census margins of "
             "error.")


def area_map_card(key: str, p: equity.DecisionPoint, df: pd.DataFrame,
                  filters: metrics.Filters) -> None:
    """The rate per area on the jurisdiction's own boundaries (drawn with no tile server)."""
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
    shown = df.assign(hidden=df["value"].isna() & df["denominator"].isna())
    components.chart(f"{key}-map", f"{m.label} by area, on the map",
                     charts.rate_sentence(as_rates(shown), "area", m.label, m.unit),
                     area_map(shown, m, shapes), data_table(df, ("area",), {m.id: m.label}),
                     note="Darker: higher. Grey: hidden (too few to show) or no data.")


def as_rates(df: pd.DataFrame) -> list:
    rows = as_rows(df, "area")
    return equity.relative_rates(rows, "area", None)


def empty(key: str, p: equity.DecisionPoint) -> None:
    components.empty(key, p.label, messages.nothing_selected(
        "records at this decision point", "responses"))


__all__ = ["controls", "reference_choice", "group_frame", "as_rows", "unknown_note",
           "ratio_card", "rate_card", "times_card", "per_resident_card", "area_map_card", "empty",
           "has_values"]
