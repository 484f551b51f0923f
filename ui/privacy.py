"""The sidebar's privacy controls: "Hide small counts (1–10)" and public-release rounding.

Drawn by the router (dashboard.py) after the filters, so that one choice holds on every page.
It only chooses the ``DisclosurePolicy`` that ``ui.cache`` hands to ``service.guarded``; whether
exact figures are allowed at all is decided there (``guarded.needs_disclosure``), so a switch
drawn off here can never show a viewer an exact count.

- Everyone starts with small counts hidden (every new session, whatever the link says: the
  switch is not kept in the address, so a shared link cannot turn it off).
- It can be switched off only where exact figures are allowed: local mode, or an analyst
  looking only at their own jurisdictions. Elsewhere it is drawn on and disabled, and says why.
- "Public-release rounding" applies the Census DRB schedule (1–14 hidden, coarser rounding).
"""
from __future__ import annotations

import streamlit as st

import metrics
from service import guarded
from service.access import Principal
from metrics import disclosure
from metrics.disclosure import DisclosurePolicy

HIDE, ROUND = "privacy_hide", "privacy_round"
_STATE = "_privacy"  # the policy of the current run
THRESHOLD = disclosure.VIEWER.threshold


def controls(principal: Principal, filters: metrics.Filters) -> DisclosurePolicy:
    """Draw the switches in the sidebar; return (and keep for this run) the policy."""
    required = guarded.needs_disclosure(principal, filters)
    # Set before the widget is drawn: on for a new session, and back on (never silently off)
    # whenever exact figures are not allowed for what is now in view.
    if required or HIDE not in st.session_state:
        st.session_state[HIDE] = True
    if ROUND not in st.session_state:
        st.session_state[ROUND] = False
    with st.sidebar:
        st.subheader("Privacy")
        hide = st.toggle(f"Hide small counts (1–{THRESHOLD})", key=HIDE, disabled=required,
                         help=_why(principal, required))
        rounding = st.toggle("Public-release rounding", key=ROUND, disabled=not hide,
                             help="The Census Bureau's Disclosure Review Board schedule: "
                                  "counts from 1 to 14 hidden (shown as fewer than 15), the "
                                  "rest rounded to 10, 50, 100 ... depending on size, other "
                                  "numbers to four significant digits. For figures you will "
                                  "publish.")
    policy = DisclosurePolicy(rounding=bool(hide and rounding), enabled=bool(hide or required))
    st.session_state[_STATE] = policy
    if policy.enabled:
        _notes(filters, policy)
    return policy


def current() -> DisclosurePolicy:
    """The policy the sidebar set on this run; small counts hidden when it has not run."""
    return st.session_state.get(_STATE) or disclosure.VIEWER


def words(reason: str) -> str:
    """What a reader sees in place of a number hidden for ``reason``, under this run's policy."""
    return disclosure.describe(reason, current())


def rule_caption(has_hidden: bool = False) -> str | None:
    """The privacy rule in its one sentence (``metrics.disclosure.rule``), for beside a chart
    or table; with where hidden figures are when the card has some. None for exact figures."""
    policy = current()
    if not policy.enabled:
        return None
    where = (' Hidden figures read "hidden" with the reason ("–" in a grid, the reason in its '
             'tooltip).' if has_hidden else "")
    return disclosure.rule(policy) + where


def rounded_label() -> str | None:
    """What a shown count's table row and tooltip say of it ("rounded to nearest 5")."""
    return disclosure.rounded_label(current())


def public_period(filters: metrics.Filters) -> metrics.Filters:
    """The filters with the period a public view computes (whole calendar months)."""
    try:
        request, _ = disclosure.public_request(metrics.MetricRequest((), (), filters),
                                               current())
    except disclosure.DisclosureRefused:  # several values: the page says so
        return filters
    return request.filters


def _why(principal: Principal, required: bool) -> str:
    base = (f"Counts from 1 to {THRESHOLD} are hidden, with any figure that would give them "
            "away, and the other counts are rounded, as in a public release. ")
    if not required:
        return base + "You may switch it off: you see your own data (or run locally)."
    if principal.analyst_jurisdictions:
        own = ", ".join(sorted(principal.analyst_jurisdictions))
        return base + (f"Always on unless you choose only your own jurisdictions ({own}) in "
                       "the filters above; then you may switch it off.")
    return base + "Always on for viewers."


def _notes(filters: metrics.Filters, policy: DisclosurePolicy) -> None:
    """What a public view changes about the chosen filters, said where they are chosen."""
    try:
        _, notes = disclosure.public_request(metrics.MetricRequest((), (), filters), policy)
    except disclosure.DisclosureRefused:
        notes = []
    several = [metrics.DIMENSION_LABELS[dim].lower() for name, dim in metrics.SET_FILTERS.items()
               if len(getattr(filters, name)) > 1]
    with st.sidebar:
        for note in notes:
            st.caption(note)
        if several:
            st.warning(several_values(several))


def several_values(labels: list[str]) -> str:
    what = " and ".join(f"one {label}" for label in labels)
    return (f"With small counts hidden, a figure covers {what} or all of them, not a "
            "selection of several: charts by jurisdiction (or category, area) show the chosen "
            "ones side by side; the others need one value or none chosen.")
