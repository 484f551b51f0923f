"""Presenter mode: for sharing a screen in a Community of Practice call.

On with the sidebar toggle or a link carrying ``?present=1`` (the toggle writes it there). It
hides the sidebar, the header and the editing controls, makes type larger and darker, and puts
one chart per screen width (see ``ui.components.columns``).
The stylesheet is a fixed string: no user text ever goes into it.
"""
from __future__ import annotations

import streamlit as st

from charts.labels import mask_names
from ui import cache

KEY = "present"
OWN, MASK = "own", "mask"  # URL keys: ?own=Riverton&mask=true

_STYLESHEET = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stHeader"], [data-testid="stToolbar"],
[class*="st-key-controls"], [class*="st-key-data-"] { display: none !important; }
[data-testid="stMain"] { background: #ffffff; }
[data-testid="stMainBlockContainer"] { padding-top: 1.5rem; max-width: 100%; }
[data-testid="stMain"] h1 { font-size: 3rem; color: #000000; }
[data-testid="stMain"] h2, [data-testid="stMain"] h3 { font-size: 2.2rem; color: #000000; }
[data-testid="stMain"] p, [data-testid="stMain"] li { font-size: 1.45rem; color: #000000; }
[data-testid="stMetricLabel"] p { font-size: 1.3rem !important; color: #000000; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {
  font-size: 3rem !important; color: #000000; }
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * { font-size: 1.2rem !important; }
[data-testid="stCaptionContainer"] p { font-size: 1.2rem; color: #1a1a1a !important; }
</style>"""


def toggle() -> bool:
    """The sidebar toggle, kept in the URL as ?present=1; applies the stylesheet when on."""
    # Not bind="query-params": a bound toggle writes present=true and drops a hand-typed
    # present=1, so the toggle keeps ?present=1 in the address itself (only on change).
    if KEY not in st.session_state:
        st.session_state[KEY] = st.query_params.get(KEY, "").lower() in ("1", "true", "yes")
    on = st.sidebar.toggle("Presenter mode", key=KEY, on_change=_to_url,
                           help="For sharing your screen: hides this sidebar and the controls, "
                                "enlarges the type and puts one chart per row. Links with "
                                "?present=1 open in it.")
    if on:
        st.html(_STYLESHEET)
    return on


def is_on() -> bool:
    return bool(st.session_state.get(KEY))


def exit_button() -> None:
    """A small button at the end of the page: the sidebar (and its toggle) is hidden."""
    if is_on():
        st.button("Leave presenter mode", key="leave-presenter", type="tertiary",
                  on_click=_leave)


def _leave() -> None:
    st.session_state[KEY] = False
    _to_url()


def _to_url() -> None:
    if st.session_state.get(KEY):
        st.query_params[KEY] = "1"
    elif KEY in st.query_params:
        del st.query_params[KEY]


def peer_controls() -> None:
    """Sidebar: your own jurisdiction and whether peers' names are masked, kept in the URL.

    Drawn by the router so that the choice holds on every page (a mask set on one page must
    not be undone by switching to another) and survives presenter mode, which hides the sidebar.
    """
    names = cache.filter_options()["jurisdictions"]
    if len(names) < 2:
        return
    with st.sidebar:
        st.subheader("Presenting to peers")
        st.selectbox("Your jurisdiction", names, index=None, key=OWN, bind="query-params",
                     placeholder="None (no highlight)",
                     help="Highlighted on the Compare page and kept by name when peers are "
                          "masked.")
        st.toggle("Mask peer names", key=MASK, bind="query-params",
                  help="Replace the other jurisdictions' names by letters (Jurisdiction A, "
                       "B, ...) on every page, for presenting to a group. Launch dates then "
                       "show the year only.")


def own() -> str | None:
    return st.session_state.get(OWN)


def masking() -> bool:
    return bool(st.session_state.get(MASK))


def peer_names() -> dict[str, str] | None:
    """Real name -> shown name for every jurisdiction when masking is on, else None."""
    if not masking():
        return None
    return mask_names(cache.filter_options()["jurisdictions"], own())
