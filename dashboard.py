"""Entry point: the log-in gate, navigation, the shared filters, privacy and presenter mode.

Pages live in app_pages/ (not pages/): with a pages/ folder Streamlit would also run page files
directly on deep links, skipping this router. The gate runs before the navigation, so until
someone is signed in no page runs at all, by menu or deep link. The filters and the privacy
switches are drawn here, before the page runs, so that their URL parameters (?j=...&from=...)
survive page switches and deep links and one disclosure policy holds on every page.

Menus only hide what a principal has no use for; every refusal is made by the data layer
(``service/guarded.py``), so a deep link to a hidden page shows the refusal, never the data.
"""
import logging
from pathlib import Path

import duckdb
import streamlit as st

from data.errors import DataError
from ui import auth, cache, filters, messages, preload, presenter, privacy
from ui.warmup import warm_up

APP_TITLE = "Alternative response outcomes"
st.set_page_config(page_title=APP_TITLE, layout="wide")  # the log-in page's title
cache.new_run()  # every figure of this run from one data version (ui/cache.py data_version)
try:
    principal = auth.require_login()
except (duckdb.Error, DataError) as error:  # local mode records the sign-in in the database
    logging.getLogger("dashboard").exception("database unavailable")
    st.error(messages.page_failed(error))
    st.stop()
warm_up()  # once per server: the first chart page then draws without loading Plotly

ANALYSIS = [
    st.Page("app_pages/overview.py", title="Overview", url_path="home", default=True),
    st.Page("app_pages/reach.py", title="Reach", url_path="reach"),
    st.Page("app_pages/on_scene.py", title="On scene", url_path="on-scene"),
    st.Page("app_pages/connections.py", title="Connections", url_path="connections"),
    st.Page("app_pages/compare.py", title="Compare", url_path="compare"),
    st.Page("app_pages/equity.py", title="Equity", url_path="equity"),
    st.Page("app_pages/impact.py", title="Impact", url_path="impact"),
    st.Page("app_pages/cost.py", title="Cost", url_path="cost"),
    st.Page("app_pages/plan.py", title="Plan", url_path="plan"),
]
ABOUT = [st.Page("app_pages/methodology.py", title="Methodology", url_path="methodology")]
# The default page is served at "/" only; /overview is a hidden alias so that deep links work.
HIDDEN = [st.Page("app_pages/overview.py", title="Overview", url_path="overview",
                  visibility="hidden")]
# The upload page is built separately; st.Page refuses a missing file and would stop every page.
# In the menu only for those with a write or record-level right; by link it shows the refusal.
if (Path(__file__).parent / "app_pages" / "data.py").exists():
    ABOUT.append(st.Page("app_pages/data.py", title="Data", url_path="data",
                         visibility="visible" if principal.is_admin
                         or principal.analyst_jurisdictions else "hidden"))
ABOUT.append(st.Page("app_pages/admin.py", title="Admin", url_path="admin",
                     visibility="visible" if principal.is_admin else "hidden"))

# No page icons: Streamlit fetches a page's Material icon from fonts.gstatic.com for the favicon.
page = st.navigation({"Questions": ANALYSIS + HIDDEN, "About the data": ABOUT})
# A browser title per page (WCAG 2.4.2): tabs, history and screen readers tell pages apart.
st.set_page_config(page_title=f"{page.title} · {APP_TITLE}")
# Pages of charts: the browser starts loading Plotly now, beside this run's queries.
loading = preload.start() if page.url_path in {p.url_path for p in ANALYSIS + HIDDEN} else None
privacy.controls(principal, filters.sidebar_filters())
presenter.peer_controls()
presenter.toggle()
try:
    page.run()
except Exception as error:  # st.stop/st.rerun are BaseExceptions and pass through
    logging.getLogger("dashboard").exception("page %s failed", page.url_path)
    st.error(messages.page_failed(error))
preload.finish(loading)  # (after st.stop() nothing more is sent: it goes with the next run)
presenter.exit_button()
