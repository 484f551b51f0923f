"""Overview: how is the program performing? Headline figures and calls per jurisdiction."""
import pandas as pd
import streamlit as st

import metrics
from charts import figures
from charts.theme import fmt_value
from ui import cache
from ui.filters import sidebar_filters

st.title("How is the program performing?")
filters = sidebar_filters()

if not cache.filter_options()["jurisdictions"]:
    st.info("No data yet. Load the demo cohort with `python -m data demo`, or import a CAD "
            "export with `python -m data import FILE --kind calls --jurisdiction NAME`.")
    st.stop()

TILES = ["A1", "A3", "B1", "C2", "D2", "E2_30"]
rows = {r["metric"]: r for r in cache.compute(metrics.MetricRequest(tuple(TILES), (), filters))}
for col, mid in zip(st.columns(len(TILES)), TILES):
    m, r = metrics.BY_ID[mid], rows.get(mid)
    value = None if r is None else r["value"]
    detail = None
    if r and r["denominator"]:
        detail = f"{r['numerator']:,} of {r['denominator']:,}"
    elif r and m.kind == "duration" and r["n"] is not None:
        detail = f"median of {r['n']:,}; 90% within {fmt_value(r['p90'], 'minutes')}"
    col.metric(m.label, fmt_value(value, m.unit), help=m.definition)
    if detail:
        col.caption(detail)

by_j = pd.DataFrame(cache.compute(metrics.MetricRequest(("A1",), ("jurisdiction",), filters)))
st.subheader("Calls for service by jurisdiction")
if by_j.empty:
    st.write("No calls in the chosen period.")
else:
    by_j["jurisdiction"] = by_j["group"].map(lambda g: g["jurisdiction"])
    top = by_j.sort_values("value", ascending=False).iloc[0]
    st.write(f"{top['jurisdiction']} received the most calls: {int(top['value']):,} of "
             f"{int(by_j['value'].sum()):,} in the period.")
    st.plotly_chart(figures.bar_by_group(by_j, "jurisdiction", "Calls for service", "calls"),
                    width="stretch")
    with st.expander("Show data"):
        st.dataframe(by_j[["jurisdiction", "value"]].rename(columns={"value": "calls"}),
                     hide_index=True)
