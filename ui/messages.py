"""The sentences pages show when there is nothing to draw, or something went wrong."""
from __future__ import annotations

from pathlib import Path

import duckdb
import streamlit as st

import metrics
from service.access import AccessDenied
from data.errors import DatabaseBusy
from metrics.disclosure import DisclosureRefused
from ui import cache
from ui.text import escape

DATA_PAGE = "app_pages/data.py"
_ROOT = Path(__file__).resolve().parent.parent

UPLOAD = {
    "calls": "the 911/CAD calls export (CSV or XLSX, one row per call)",
    "responses": "the team's response records (one row per dispatch)",
    "referrals": "the team's referral records (one row per referral made)",
}


def no_data_here(kinds: tuple[str, ...] = ("calls", "responses", "referrals")) -> bool:
    """Show the first-run message and return True when none of ``kinds`` has any record."""
    opts = cache.filter_options()
    if any(opts["rows"].get(k) for k in kinds):
        return False
    what = " or ".join(UPLOAD[k] for k in kinds)  # the page draws once any one is in
    st.info(f"No data to show yet. Upload {what} on the Data page, then come back. To try the "
            "dashboard first, load the fictional demo cohort: `python -m data demo`.",
            icon=":material/upload_file:")
    data_page_link()
    return True


def data_page_link() -> None:
    if (_ROOT / DATA_PAGE).exists():
        st.page_link(DATA_PAGE, label="Go to the Data page", icon=":material/upload_file:")


def nothing_selected(what: str, kind: str | None = None) -> str:
    """The empty-state sentence for one chart."""
    text = (f"No {what} for the chosen jurisdictions, period and filters. "
            "Widen the period or clear a filter")
    if kind:
        text += f"; if this jurisdiction has none yet, upload {UPLOAD[kind]} on the Data page"
    return text + "."


def no_eligible_calls(filters: metrics.Filters) -> str:
    """The empty state of an eligible-calls chart: the true reason for the jurisdictions in
    view (no category yet, no type marked eligible, launch, coverage), else the filters."""
    reasons = cache.why_no_eligible(tuple(filters.jurisdictions))
    if reasons:
        return "No eligible calls. " + " ".join(escape(r) for r in reasons)  # names from data
    return nothing_selected("eligible calls")


def page_failed(error: BaseException) -> str:
    """One sentence for an unexpected error: what happened, and what to do; no traceback."""
    if isinstance(error, AccessDenied):  # the sentence names the person and the role needed
        return escape(str(error))
    if isinstance(error, DisclosureRefused):
        return ("With small counts hidden, a figure covers one jurisdiction (one category, "
                "one area) or all of them, not a selection of several. Choose one, or clear "
                "the choice to see all; the Compare page shows several side by side.")
    if isinstance(error, metrics.MetricError):
        return f"This view asked for something the metrics do not offer: {escape(str(error))}"
    if isinstance(error, DatabaseBusy):
        return ("Another program (such as a command-line import) is using the database file. "
                "Wait until it has finished, then reload the page.")
    if isinstance(error, duckdb.IOException):
        return ("The database file could not be read. Check that no other program (such as a "
                "command-line import) has it open, then reload the page.")
    if isinstance(error, duckdb.Error):
        return ("The database could not answer this view. Reload the page; if it happens again, "
                "check the latest import on the Data page.")
    return ("Something went wrong while drawing this page. Reload it; if it happens again, note "
            "the address (it holds your filters) and tell whoever maintains the dashboard.")


def unapplied_filters(filters: metrics.Filters, source: str) -> None:
    """Say so when a chosen filter cannot apply to the records a page counts."""
    applies = metrics.SOURCES[source].filters
    unused = [name for name, attr in (("call category", "categories"), ("area", "areas"))
              if getattr(filters, attr) and attr not in applies]
    if unused:
        st.caption(f"The {' and '.join(unused)} filter does not apply to {source}: they carry "
                   "no such field. The figures below cover all of them.")


def import_failed(e: Exception) -> str:
    """An import that stopped on a bug, not on the file: a sentence (the traceback is logged)."""
    first = (str(e).splitlines() or [type(e).__name__])[0][:200]
    return (f"The import stopped on an unexpected problem ({escape(first)}). Nothing was saved. "
            "Try again; if it happens again, import the file with `python -m data import` "
            "to see the details.")
