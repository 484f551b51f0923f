"""Shared sidebar filters, bound to the URL so that a copied link reproduces the view."""
from __future__ import annotations

from datetime import date

import streamlit as st

import metrics
from ui import cache


def sidebar_filters() -> metrics.Filters:
    opts = cache.filter_options()
    with st.sidebar:
        st.subheader("Filters")
        chosen = st.multiselect("Jurisdictions", opts["jurisdictions"], key="j",
                                bind="query-params", placeholder="All jurisdictions")
        first, last = opts["first_day"], opts["last_day"]
        date_from = date_to = None
        if first and last:
            date_from = st.date_input("From", value=first, min_value=first, max_value=last,
                                      key="from", bind="query-params")
            date_to = st.date_input("To", value=last, min_value=first, max_value=last,
                                    key="to", bind="query-params")
            if date_from and date_to and date_from > date_to:
                st.error("'From' is after 'To': showing the whole period instead.")
                date_from, date_to = first, last
    return metrics.Filters(jurisdictions=tuple(chosen), date_from=_day(date_from),
                           date_to=_day(date_to))


def _day(value) -> date | None:
    return value if isinstance(value, date) else None
