"""Start the browser loading its chart library while the server still computes the page.

Streamlit's browser code fetches and runs Plotly (several megabytes of script) only when the
first chart of a tab arrives, that is after the page's queries. A page opened by its address on
a server that has not answered it yet therefore waited twice, one after the other: for the
queries, then for Plotly (about 1.4 s of the browser's two cores). A tiny chart sent first,
off the screen, starts Plotly at once, beside the queries; the page's own charts then draw as
they arrive. It is sent once per browser tab (the tab keeps Plotly), only on pages that draw
charts, and removed when the run ends. (A page that stops early, with nothing to show, can
send nothing more: the chart then stays, hidden, until the tab's next run.)
"""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

KEY = "plotly-preload"  # its container's class: st-key-plotly-preload
SENT = "_chart_library_sent"
# Out of the flow and off the screen (nothing moves when it comes and goes), and hidden, which
# also keeps it from screen readers; Plotly still lays it out. A fixed string.
_STYLE = ("<style>div:has(> .st-key-plotly-preload), .st-key-plotly-preload {"
          "position: absolute; left: -10000px; top: 0; width: 16px; height: 16px; "
          "overflow: hidden; visibility: hidden;}</style>")


def start():
    """The placeholder holding the tiny chart, or None where the tab has Plotly already."""
    if st.session_state.get(SENT):
        return None
    st.session_state[SENT] = True
    st.html(_STYLE)
    box = st.sidebar.empty()
    with box.container(key=KEY):
        st.plotly_chart(_figure(), width="content", theme=None, key=f"{KEY}-figure",
                        config={"staticPlot": True, "displayModeBar": False})
    return box


def finish(box) -> None:
    if box is not None:
        box.empty()


def _figure() -> go.Figure:
    # Transparent: nothing shows even in the moment before its stylesheet applies.
    return go.Figure(layout={"width": 16, "height": 16, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
                             "xaxis": {"visible": False}, "yaxis": {"visible": False},
                             "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"})
