"""Cost: what the program costs per response and per person, the police time it takes on,
and where the money comes from (with each funding stream's end)."""
import streamlit as st

from ui import brief, cost_view, filters, messages, presenter
from ui.components import escape

st.title("What does it cost?")
brief.button()  # this view as a PDF, built on click (ui/brief.py)
f = filters.current()
if messages.no_data_here():
    st.stop()
j = cost_view.choose_jurisdiction(f)
if j is None:
    st.stop()
rep = cost_view.report(j, f)
if "no_costs" in rep:
    cost_view.no_costs(rep["no_costs"], j)
    st.stop()
shown = (presenter.peer_names() or {}).get(j, j)
st.caption(f"{escape(shown)}: program costs as entered on the Data page, against the team's "
           "records and the CAD export.")
cost_view.headline(rep)
cost_view.cards(rep)
