"""Shared sidebar filters, bound to the URL so that a copied link reproduces the view.

``dashboard.py`` draws them once, before the page runs, so that their values stay in the
address across page switches (a widget drawn by the router belongs to every page). Pages read
the result with ``current()``.

URL keys: ``j`` jurisdictions, ``from`` / ``to`` local dates, ``cat`` call categories, ``area``.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, timedelta

import duckdb
import streamlit as st

import metrics
from charts.labels import code_label
from data.errors import DataError
from ui import cache, messages, privacy

_STATE = "_filters"  # session-scoped: the Filters of the current run


def sidebar_filters() -> metrics.Filters:
    try:
        opts = cache.filter_options()
    except (duckdb.Error, DataError) as error:
        # The router draws this before its try around the page: without this a locked or
        # unreadable database file shows Streamlit's exception page instead of a sentence.
        logging.getLogger("dashboard").exception("database unavailable")
        st.error(messages.page_failed(error))
        st.stop()
    with st.sidebar:
        st.subheader("Filters")
        if not opts["jurisdictions"]:
            st.caption("Filters appear once data is loaded.")
            return _keep(metrics.Filters())
        chosen = st.multiselect("Jurisdictions", opts["jurisdictions"], key="j",
                                bind="query-params", placeholder="All jurisdictions")
        date_from, date_to = _period(opts["first_day"], opts["last_day"])
        categories = st.multiselect(
            "Call categories", opts["categories"], key="cat", bind="query-params",
            format_func=code_label, placeholder="All categories",
            help="Applies to 911/CAD calls. Team responses and referrals carry no category.")
        areas = st.multiselect(
            "Areas", _areas(opts["areas"], chosen), key="area", bind="query-params",
            placeholder="All areas",
            help="Applies to calls and team responses. Referrals carry no area.")
    return _keep(metrics.Filters(jurisdictions=tuple(chosen), date_from=date_from,
                                 date_to=date_to, categories=tuple(categories),
                                 areas=tuple(areas)))


def current() -> metrics.Filters:
    """The filters the sidebar set on this run (all data when it has not run)."""
    return st.session_state.get(_STATE, metrics.Filters())


def previous(filters: metrics.Filters) -> tuple[metrics.Filters | None, int | None]:
    """The previous period of equal length and its length in days, if the data covers it.

    With small counts hidden a view covers whole months (``privacy.public_period``), so the
    comparison is with as many whole months just before them.
    """
    if privacy.current().enabled:
        filters = privacy.public_period(filters)
        before = _months_before(filters)
    else:
        before = metrics.previous_period(filters)
    first = cache.filter_options()["first_day"]
    if before is None or first is None or before.date_from < first:
        return None, None
    return before, (filters.date_to - filters.date_from).days + 1


def _months_before(filters: metrics.Filters) -> metrics.Filters | None:
    start, end = filters.date_from, filters.date_to
    if not (start and end) or start > end:
        return None
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    index = start.year * 12 + start.month - 1 - months
    return replace(filters, date_from=date(index // 12, index % 12 + 1, 1),
                   date_to=start - timedelta(days=1))


def _period(first: date | None, last: date | None) -> tuple[date | None, date | None]:
    if not (first and last):
        return None, None
    date_from = st.date_input("From", value=first, min_value=first, max_value=last, key="from",
                              bind="query-params", format="YYYY-MM-DD")
    date_to = st.date_input("To", value=last, min_value=first, max_value=last, key="to",
                            bind="query-params", format="YYYY-MM-DD")
    date_from, date_to = _day(date_from) or first, _day(date_to) or last
    if date_from > date_to:
        st.error("'From' is after 'To': showing the whole period instead.")
        date_from, date_to = first, last
    if (date_from, date_to) == (first, last):
        # No period chosen: count every record, also those without a date (a date filter
        # would drop them, and the pages would disagree with the Data page's row counts).
        return None, None
    return date_from, date_to


def _areas(by_jurisdiction: dict[str, list[str]], chosen: list[str]) -> list[str]:
    names = chosen or list(by_jurisdiction)
    return sorted({a for j in names for a in by_jurisdiction.get(j, [])})


def _keep(filters: metrics.Filters) -> metrics.Filters:
    st.session_state[_STATE] = filters
    return filters


def _day(value) -> date | None:
    return value if isinstance(value, date) else None
