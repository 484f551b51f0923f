"""WCAG 2.1 AA, checked by axe-core in Chromium over every page, section and presenter mode.

axe-core is the copy bundled in the pinned ``axe-playwright-python`` package (no download at
test time). A view fails on any serious or critical violation, and on a heading jump (axe's
``heading-order``, moderate, named in issue 24), unless the element is Streamlit's own markup
listed in ``KNOWN_EXCEPTIONS`` with the reason. axe cannot see inside Plotly's SVG text; the
charts' text colours are checked by tests/test_contrast.py.
"""
from __future__ import annotations

from urllib.parse import urlencode

import pytest
from axe_playwright_python.sync_playwright import Axe

from .conftest import screenshot
from .test_smoke import _DRAWN_JS, CHARTED, PAGES, charted, views, with_query

pytestmark = pytest.mark.playwright

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = {"serious", "critical"}
FAILING_RULES = {"heading-order"}  # moderate in axe, but a finding of issue 24

# (axe rule, the Streamlit element the node is inside, why it is not the app's to fix).
KNOWN_EXCEPTIONS = [
    ("list", "[data-testid='stSidebarNavItems']",
     "Streamlit's page menu (st.navigation) wraps each section's header and its <li> items in "
     "a <div> inside the <ul>. The links themselves are named and keyboard-reachable; the app "
     "cannot change this markup."),
    ("listitem", "[data-testid='stSidebarNavItems']",
     "The same menu: its <li> items sit in that <div>, not directly in the <ul>."),
]

# Tabs of the Data and Admin pages (app_pages/data.py, admin.py TABS; each view below checks
# that the tab it asked for is the one open, so a renamed tab fails here, not silently).
DATA_TABS = ["Import a file", "Import history", "Call-type crosswalk", "Data quality",
             "Program costs"]
ADMIN_TABS = ["People and roles", "Jurisdictions", "Audit log"]


def _all_views():
    yield from views(PAGES)
    yield "admin", "Admin"
    for key, tabs, path, heading in (("data_tab", DATA_TABS, "data", "Data"),
                                     ("admin_tab", ADMIN_TABS, "admin", "Admin")):
        for label in tabs[1:]:  # the first is the page's default view, above
            yield f"{path}?{urlencode({key: label})}", heading
    for path in sorted(CHARTED | {"impact", "cost"}):  # presenter mode: one view per page
        yield with_query(path, "present=1"), PAGES[path]
    # One jurisdiction and one month: the chosen filter's chip in the sidebar, and heat-map
    # cells marked × (too few calls) and grey (none).
    yield ("reach?" + urlencode({"reach_view": "By weekday and hour", "j": "Millbrook",
                                 "from": "2025-04-01", "to": "2025-06-30"}), PAGES["reach"])
    # A period with one before it: the tiles' changes (coloured, with an arrow and a sign).
    yield "overview?from=2025-01-01&to=2025-06-30", PAGES["overview"]


VIEWS = list(_all_views())


def _open(page, server, view, heading):
    page.goto(f"{server}/{view}")
    page.wait_for_function(_DRAWN_JS, arg=[heading, charted(view)], timeout=60000,
                           polling=200)
    page.wait_for_timeout(300)


def _excepted(page, rule: str, node: dict) -> str | None:
    """The reason a violating node is a known exception, or None."""
    for known_rule, inside, reason in KNOWN_EXCEPTIONS:
        if rule == known_rule and page.evaluate(
                "([sel, inside]) => !!document.querySelector(sel)?.closest(inside)",
                [node["target"][-1], inside]):
            return reason
    return None


def failures(page) -> list[str]:
    """Violations caused by the app: rule, impact, element and axe's message."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA},
                                       "resultTypes": ["violations"]})
    found = []
    for v in results.response["violations"]:
        if v["impact"] not in FAILING_IMPACTS and v["id"] not in FAILING_RULES:
            continue
        for node in v["nodes"]:
            if not _excepted(page, v["id"], node):
                found.append(f"{v['id']} ({v['impact']}): {node['html'][:160]}\n    "
                             f"{node.get('failureSummary', '')[:300]}")
    return found


@pytest.mark.parametrize("view,heading", VIEWS)
def test_no_serious_violation_caused_by_the_app(server, page, view, heading):
    _open(page, server, view, heading)
    tab = next((v for k, v in [q.split("=") for q in view.split("?")[1].split("&")]
                if k.endswith("_tab")), None) if "?" in view else None
    if tab:
        selected = page.locator("[role='tab'][aria-selected='true']").inner_text().strip()
        assert selected == tab.replace("+", " ")
    found = failures(page)
    assert not found, f"{view}: {len(found)} violation(s)\n" + "\n".join(found)


def test_the_check_fails_on_a_violation_the_app_would_cause(server, page):
    """The check itself can fail: grey text at 3.7:1 (Streamlit's default caption colour) and
    an h1 → h3 jump, put into the page, are reported; Streamlit's menu is not."""
    _open(page, server, "methodology", PAGES["methodology"])
    assert failures(page) == []
    page.evaluate("""() => {
      const main = document.querySelector("[data-testid='stMain']");
      const p = document.createElement('p');
      p.textContent = 'A caption in grey'; p.style.color = '#838589';
      const h = document.createElement('h3'); h.textContent = 'A jump';
      main.prepend(p); main.querySelector('h1').after(h);
    }""")
    found = failures(page)
    assert any(f.startswith("color-contrast") and "A caption in grey" in f for f in found)
    assert any(f.startswith("heading-order") for f in found)


def test_each_page_has_its_own_browser_title(server, page):
    titles = {}
    for path, heading in PAGES.items():
        _open(page, server, path, heading)
        titles[path] = page.title()
    assert titles["overview"] == "Overview · Alternative response outcomes"
    assert titles["on-scene"] == "On scene · Alternative response outcomes"
    assert len(set(titles.values())) == len(titles), titles


@pytest.mark.parametrize("view", ["overview", "reach?reach_view=By+weekday+and+hour",
                                  "equity", "overview?present=1"])
def test_every_chart_is_named_by_its_title_and_takeaway(server, page, view):
    """Each chart is a figure whose accessible name holds its card's title and takeaway
    sentence (read from the DOM, not from Python), and points to the data table."""
    path = view.split("?")[0]
    _open(page, server, view, PAGES[path])
    cards = page.evaluate("""() => [...document.querySelectorAll("[class*='st-key-card-']")]
      .filter(c => c.querySelector('.stPlotlyChart')).map(c => ({
        title: c.querySelector('h2')?.innerText.trim(),
        takeaway: c.querySelector("[data-testid='stMarkdownContainer'] p")?.innerText.trim(),
        role: c.querySelector('.stPlotlyChart').getAttribute('role'),
        name: c.querySelector('.stPlotlyChart').getAttribute('aria-label')}))""")
    assert cards, f"{view}: no chart card"
    for card in cards:
        assert card["role"] == "figure"
        assert card["name"].startswith(f"{card['title']}. "), card
        assert card["takeaway"] and card["takeaway"] in card["name"], card
        assert "Show data" in card["name"]
    screenshot(page, f"a11y-{view.replace('?', '-').replace('=', '-').replace('+', '-')}")


def test_keyboard_reaches_and_opens_a_charts_data(server, page):
    """Tab from the page's start reaches the first card's "Show data" and Enter opens it."""
    _open(page, server, "overview", PAGES["overview"])
    page.locator("[data-testid='stMain']").focus()  # the main region (tabindex 0)
    for _ in range(80):
        page.keyboard.press("Tab")
        # The expander's <summary> (its text also holds the arrow icon's ligature name).
        if page.evaluate("() => document.activeElement?.tagName === 'SUMMARY' && "
                         "document.activeElement.innerText.trim().endsWith('Show data')"):
            break
    else:
        pytest.fail("Tab never reached a 'Show data' expander")
    page.keyboard.press("Enter")
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=30000)
