"""The stack's own floor: Streamlit and one Plotly chart, nothing else (bench/address.py).

No data, no DuckDB, none of the dashboard's modules: what any page of the dashboard costs
before it asks for a single figure. Served by its own ``streamlit run`` with the dashboard's
configuration (.streamlit/config.toml, the same working folder) and opened by its address as
the pages are; "rendered" is the same condition (bench/browser.py): the heading visible, one
``.js-plotly-plot``, Streamlit's running indicator gone.
"""
import plotly.graph_objects as go
import streamlit as st

HEADING = "The stack's floor"

st.title(HEADING)
st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[3, 1, 2])))
