"""Compare: jurisdictions side by side on the same definitions, with peers' names maskable."""
import streamlit as st

import metrics
from charts import figures, takeaways
from charts.frames import data_table, has_values, side_by_side
from charts.labels import mask_names
from ui import cache, components, filters, messages

COMPARED = [metrics.BY_ID[m] for m in ("B1", "C2", "D2", "D5ED", "E2_30", "P1", "P2")]
SHORT = {"B1": "Coverage (B1)", "C2": "Team response, min (C2)", "D2": "Police back-up (D2)",
         "D5ED": "To an ED (D5ED)", "E2_30": "Connected ≤30 days (E2)",
         "P1": "Calls /1,000 residents", "P2": "Responses /1,000 residents"}
J = ("jurisdiction",)

st.title("How do the jurisdictions compare?")
f = filters.current()
if messages.no_data_here():
    st.stop()

shown = list(f.jurisdictions) or cache.filter_options()["jurisdictions"]
with st.container(key="controls", horizontal=True, vertical_alignment="bottom"):
    own = st.selectbox("Your jurisdiction", shown, index=None, key="own", bind="query-params",
                       placeholder="None (no highlight)", width=320,
                       help="Highlighted in the chart and kept by name when peers are masked.")
    mask = st.toggle("Mask peer names", key="mask", bind="query-params",
                     help="Replace the other jurisdictions' names by letters (Jurisdiction A, "
                          "B, ...), for presenting to a group. Launch dates then show the year.")
names = mask_names(shown, own) if mask else None

df = components.metric_frame(tuple(m.id for m in COMPARED), J, f)
if not has_values(df):
    components.empty("compare", "Side by side", messages.nothing_selected("records"))
    st.stop()
launches = dict(components.launches(f))
sentence = (takeaways.rank(df, own, COMPARED, names) if own else
            takeaways.extremes(df[df["metric"] == "B1"], "jurisdiction", COMPARED[0], names,
                               dim_word="jurisdiction"))
st.dataframe(side_by_side(df, COMPARED, launches, names, mask, SHORT, own), hide_index=True,
             width="stretch", key="side-by-side")
components.chart("compare", "Side by side", sentence,
                 figures.panels(df, "jurisdiction", COMPARED, names=names, highlight=own,
                                cols=4, sort=False, titles=SHORT),
                 data_table(df, J, {m.id: m.label for m in COMPARED}, names),
                 note="Same definitions for every jurisdiction (see Methodology). Whiskers: "
                      "95% intervals; hatched: fewer than 20 events; times: bar = median, "
                      "tick = 90th percentile. Per 1,000 residents uses each jurisdiction's "
                      "population.")
