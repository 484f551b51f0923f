"""A long analysis page split into sections: tabs that run only when opened, bound to the URL.

Why: a page's charts cost the server their queries and the browser its drawing (about a
tenth of a second of the browser's main thread per Plotly chart, however small). A page of
four to six cards opened by its address over ten million calls took 2.1-3.0 s on two cores;
one section of one to three cards takes 0.7-1.4 s (BENCHMARKS.md). The other sections run
when a viewer opens their tab (Streamlit's lazy tabs: ``.open`` is True for the selected one
only), and the open tab is in the address (``?reach_view=Calls+missed``), so a copied link
reopens it.

The sections are declared here, not in the page files, so that the tests and the benchmark
(bench/capture.py) can list every view and the cards each one draws without running a page.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import streamlit as st


@dataclass(frozen=True)
class Sections:
    page: str                                 # the page file, as dashboard.py routes it
    key: str                                  # the tabs' widget key and URL parameter
    cards: dict[str, tuple[str, ...]]         # tab label -> the card keys it draws, in order

    @property
    def labels(self) -> list[str]:
        return list(self.cards)

    def of(self, card: str) -> str:
        """The tab that draws ``card``."""
        for label, keys in self.cards.items():
            if card in keys:
                return label
        raise KeyError(f"no section of {self.page} draws the card {card!r}")


REACH = Sections("app_pages/reach.py", "reach_view", {
    "By month": ("b1-month",),
    "By weekday and hour": ("b1-hours",),
    "By category and area": ("b1-category", "b1-area"),
    "Calls missed": ("b3-reason", "a4-month"),
})
ON_SCENE = Sections("app_pages/on_scene.py", "scene_view", {
    "Outcomes": ("outcomes", "transports"),
    "Safety": ("safety",),
    "Response times": ("times",),
    "Team vs police": ("team-vs-police",),
})
CONNECTIONS = Sections("app_pages/connections.py", "connections_view", {
    # At most two charts a tab, as on the other pages: a tab's first drawing in a new browser
    # tab is mostly the browser's work per chart (issue 25, BENCHMARKS.md).
    "Referrals": ("referrals", "connected"),
    "By jurisdiction": ("connected-j",),
    "Repeat contacts": ("repeat",),
})
# The Plan's two schedules (its tiles) stay above the tabs; the grids' charts are keyed
# chart-grid-A / chart-grid-B, without a card around them.
PLAN = Sections("app_pages/plan.py", "plan_view", {
    "Coverage by hour": ("plan-hours",),
    "Calls missed by hour": ("plan-missed",),
    "Teams on duty": ("grid-A", "grid-B"),
    "Team-hours needed": (),
    "Model check": (),
})
ALL = (REACH, ON_SCENE, CONNECTIONS, PLAN)
BY_PAGE = {s.page: s for s in ALL}


def show(sections: Sections, draw: dict[str, Callable[[], None]]) -> None:
    """Draw the tabs and run the open one's ``draw`` function inside it."""
    if list(draw) != sections.labels:
        raise ValueError(f"{sections.page}: sections {list(draw)} != {sections.labels}")
    tabs = st.tabs(sections.labels, key=sections.key, bind="query-params")
    for label, tab in zip(sections.labels, tabs):
        if tab.open:
            with tab:
                draw[label]()
