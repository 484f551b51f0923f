"""Compare: jurisdictions side by side on the same definitions, with peers' names maskable."""
import streamlit as st

import metrics
from charts import figures, takeaways
from charts.frames import data_table, has_values, side_by_side
from ui import brief, components, cost_view, filters, messages, presenter
from ui.text import escape_table

COMPARED = [metrics.BY_ID[m] for m in ("B1", "C2", "D2", "D5ED", "E2_30", "P1", "P2")]
# Counts per resident are not registry measures a reader looks up by id; the others are.
SHORT = {m.id: m.short_label if m.kind == "per_capita" else f"{m.short_label} ({m.id})"
         for m in COMPARED}
J = ("jurisdiction",)

st.title("How do the jurisdictions compare?")
brief.button()  # this view as a PDF, built on click (ui/brief.py)
f = filters.current()
if messages.no_data_here():
    st.stop()

own, mask = presenter.own(), presenter.masking()
if not mask:
    st.caption("To present this to peers without their names, turn on **Mask peer names** in "
               "the sidebar; choose your jurisdiction there to highlight it.")

df = components.metric_frame(tuple(m.id for m in COMPARED), J, f)
if not has_values(df):
    components.empty("compare", "Side by side", messages.nothing_selected("records"))
    st.stop()
launches = dict(components.launches(f))  # names already masked, like the frame
sentence = (takeaways.rank(df, own, COMPARED) if own else
            takeaways.extremes(df[df["metric"] == "B1"], "jurisdiction", COMPARED[0],
                               dim_word="jurisdiction"))
# A static table: every cell shown whole (a scrolling grid cut "49.8% (18,955 of 38,0..." off
# on a shared screen), and it is a handful of rows.
table = side_by_side(df, COMPARED, launches, None, mask, SHORT, own)
st.table(escape_table(cost_view.compare_row(table, f)), hide_index=True)
st.caption("Cost per team response: program cost ÷ team responses over each jurisdiction's "
           "whole quarters with costs entered (the Cost page shows the quarters and funding "
           "streams); costs are the whole program's, so the category and area filters do not "
           "apply to it.")
components.rule_note(table)
components.chart("compare", "Side by side", sentence,
                 figures.panels(df, "jurisdiction", COMPARED, highlight=own,
                                cols=4, sort=False, titles=SHORT),
                 data_table(df, J, {m.id: m.label for m in COMPARED}),
                 note="Same definitions for every jurisdiction (see Methodology). Whiskers: "
                      f"95% intervals; hatched: {metrics.FEW_EVENTS}; times: bar = median, "
                      "tick = 90th percentile. Per 1,000 residents uses each jurisdiction's "
                      "population.")
