"""The Cost page's parts: which jurisdiction, the headline figures and the three chart cards.

Figures come from ``ui.cache.cost_report`` (``service.guarded.cost_report`` for the signed-in
principal, under the sidebar's disclosure policy); tables, figures and sentences from
``charts.cost``. Names are masked like everywhere else (``ui.presenter``).
"""
from __future__ import annotations

import streamlit as st

import metrics
from charts import cost as charts
from metrics.cost import CAPACITY_WORDING
from ui import auth, cache, components, messages, presenter, privacy
from ui.text import escape

KEY = "cost_j"  # URL: ?cost_j=Riverton, the jurisdiction shown when the filter holds several


def choose_jurisdiction(f: metrics.Filters) -> str | None:
    """One jurisdiction: the sidebar's, when it names one; else a choice among those in view."""
    if len(f.jurisdictions) == 1:
        return f.jurisdictions[0]
    options = list(f.jurisdictions) or cache.filter_options()["jurisdictions"]
    if not options:
        return None
    names = presenter.peer_names() or {}
    # In a container keyed "controls": presenter mode hides it (the caption names the choice).
    with st.container(key="controls"):
        return st.selectbox("Jurisdiction", options, key=KEY, bind="query-params",
                            format_func=lambda j: names.get(j, j),
                            help="Costs are per jurisdiction; choose one in the sidebar or "
                                 "here.")


def report(jurisdiction: str, f: metrics.Filters) -> dict:
    """The figures for the period chosen in the sidebar (costs are the whole program's: the
    category and area filters do not apply, and the page says so)."""
    period = metrics.Filters((jurisdiction,), f.date_from, f.date_to)
    if f.categories or f.areas:
        st.caption("The call category and area filters do not apply here: costs are the whole "
                   "program's. Police busy time uses the program's target categories.")
    return cache.cost_report(jurisdiction, period, auth.current(), privacy.current())


def no_costs(message: str, jurisdiction: str) -> None:
    shown = (presenter.peer_names() or {}).get(jurisdiction, jurisdiction)
    components.empty("cost", "No costs to show", escape(message.replace(jurisdiction, shown)))
    messages.data_page_link()


def headline(rep: dict) -> None:
    t, words = rep["totals"], privacy.words
    if not t.get("quarters"):
        st.info(escape(t.get("note", "")), icon=":material/info:")
        return
    span = f"{t['quarters'][0]} to {t['quarters'][-1]}"
    tiles = [
        ("Cost per team response", _shown(t, "cost_per_response", words),
         f"{charts.money(t['cost'])} ÷ {charts.count_shown(t, 'responses', words)} responses"),
        ("Cost per person served", _shown(t, "cost_per_person", words),
         f"{charts.money(t['cost'])} ÷ {charts.count_shown(t, 'people', words)} people"),
        ("Police capacity returned", _hours(t, words),
         _capacity_detail(t, rep["police"], words)),
        ("Program cost", charts.short_money(t["cost"]),
         f"{charts.money(t['cost'])} over {len(t['quarters'])} whole quarters, {span}"),
    ]
    for (label, value, detail), col in zip(tiles, components.columns(4)):
        with col.container(border=True, key=f"tile-cost-{label.split()[0].lower()}-"
                                             f"{label.split()[-1].lower()}"):
            st.metric(label, value)
            st.caption(escape(detail))


def _shown(t, field, words) -> str:
    return charts.value_shown(t, field, words, lambda x: charts.money(x, True))


def _hours(t, words) -> str:
    reason = t["hidden"].get("hours_returned")
    if reason:
        return words(reason)
    return "—" if t.get("hours_returned") is None else f"{t['hours_returned']:,.0f} h"


def _capacity_detail(t, police, words) -> str:
    mean = police.get("mean_hours")
    if mean is None:
        return "no police busy time in the CAD export"
    calls = charts.count_shown(t, "team_target_calls", words)
    text = (f"{calls} calls × {mean:.3f} h mean police "
            "busy time")
    if t.get("capacity_value") is not None:
        text += (f"; × {charts.money(t['police_hourly_cost'], True)}/h = "
                 f"{charts.money(t['capacity_value'])} of capacity (not cash)")
    return text


def cards(rep: dict) -> None:
    words = privacy.words
    components.chart(
        "cost-per-unit", "Cost per team response and per person served",
        charts.per_unit_sentence(rep, words), charts.per_unit_figure(rep, words),
        charts.per_unit_table(rep, words),
        note="Whole quarters only: a quarter the records or the chosen period cover in part "
             "(a launch, the latest month) would divide a whole quarter's cost by part of its "
             "work. A cost entered for a longer period is spread evenly over its months. "
             "People are distinct within each quarter (and within the whole span above)."
             + (_DISCLOSURE if rep.get("disclosure") else ""))
    components.chart(
        "funding-streams", "Cost by funding stream", charts.stream_sentence(rep),
        charts.stream_figure(rep), charts.stream_table(rep),
        note=" ".join(e["rule"] for code, e in rep["stream_ends"].items()
                      if code in {s["stream"] for s in rep["streams"]})
             + " Each stream has its own colour and pattern; quarters budgeted beyond the "
               "records are faded.")
    p = rep["police"]
    busy = (f"Police busy time on target-type calls: mean {p['mean_hours']:.2f} h, median "
            f"{p['median_hours']:.2f} h, over {_n(p, 'timed')} police-handled calls "
            f"({p['start']}; {_n(p, 'no_times')} without times, {_n(p, 'out_of_order')} cleared "
            f"before they started and {_n(p, 'over_limit')} open longer than 24 h left out). "
            if p["mean_hours"] is not None and not p["hidden"] else "")
    t = rep["totals"]
    if t.get("team_target_calls") == 0 and not t["hidden"]:
        components.empty("capacity", "Police capacity returned",
                         escape(charts.capacity_sentence(rep, words)) + " " + escape(busy))
        return
    components.chart(
        "capacity", "Police capacity returned", charts.capacity_sentence(rep, words),
        charts.capacity_figure(rep, words), charts.capacity_table(rep, words),
        note=busy + "Calls the team took alone of the program's target categories, each "
             "counted at the police mean; co-responses send an officer too and are not "
             "counted. One police unit per call is assumed. " + CAPACITY_WORDING)


def _n(police: dict, field: str) -> str:
    """A count of police calls as shown: its words when disclosure control hid it."""
    reason = police.get("hidden_counts", {}).get(field)
    return privacy.words(reason) if reason else f"{police[field]:,}"


_DISCLOSURE = (" Counts of responses and people are published rounded, and 1 to 10 hidden; "
               "each cost per response or per person is worked out from the published count "
               "beside it, and hidden when that count is hidden (it would give the count back).")


def compare_row(table, f: metrics.Filters):
    """Compare's side-by-side table with a row "Cost per team response": each jurisdiction's
    whole quarters in the period, with the inputs (cost ÷ responses), from the Cost page's
    own figures (so the two pages agree)."""
    import pandas as pd

    names = presenter.peer_names() or {}
    cells = {}
    for j in list(f.jurisdictions) or cache.filter_options()["jurisdictions"]:
        rep = cache.cost_report(j, metrics.Filters((j,), f.date_from, f.date_to),
                                auth.current(), privacy.current(), True)  # per response alone
        cells[names.get(j, j)] = _compare_cell(rep)
    row = {"Measure": "Cost per team response",
           **{col: cells.get(col, "—") for col in table.columns if col != "Measure"}}
    return pd.concat([table, pd.DataFrame([row])], ignore_index=True)


def _compare_cell(rep: dict) -> str:
    if "no_costs" in rep:
        return "no costs entered"
    t, words = rep["totals"], privacy.words
    if not t.get("quarters"):
        return "no whole quarter"
    value = charts.value_shown(t, "cost_per_response", words, charts.money)
    if "cost_per_response" in t["hidden"]:
        return value
    responses = charts.count_shown(t, "responses", words)
    return (f"{value} ({charts.short_money(t['cost'])} ÷ {responses},"
            f" {t['quarters'][0]}–{t['quarters'][-1]})")
