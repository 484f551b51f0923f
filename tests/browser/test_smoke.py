"""Every page renders in a real browser, by deep link, with nothing fetched off the machine."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from ui import sections

from .conftest import screenshot

pytestmark = pytest.mark.playwright

PAGES = {
    "overview": "How is the program performing?",
    "reach": "What percentage of eligible calls is the team handling?",
    "on-scene": "What happens on scene?",
    "connections": "Are people being connected to services?",
    "compare": "How do the jurisdictions compare?",
    "equity": "Do outcomes differ between groups?",
    "impact": "Is it working? What changed after launch",  # asks for one jurisdiction
    "cost": "What does it cost?",  # the shared demo has no costs: its empty state
    "plan": "How many teams for what coverage?",
    "data": "Data",
    "methodology": "Metric definitions",
}


CHARTED = {"overview", "reach", "on-scene", "connections", "compare", "equity", "plan"}
# Pages split into sections (ui/sections.py): only the open tab is drawn.
SPLIT = {Path(s.page).stem.replace("_", "-"): s for s in sections.ALL}


def views(paths: dict):
    """(address, heading) of every page in ``paths`` and of each section of a split page."""
    for path, heading in paths.items():
        split = SPLIT.get(path)
        for label in (split.labels if split else [None]):
            yield (f"{path}?{urlencode({split.key: label})}" if label else path), heading


def charted(view: str) -> bool:
    """Whether ``view`` (a page, or a section by its address) draws charts: a section of
    tables only, such as the Plan's "Team-hours needed", draws none."""
    path, _, query = view.partition("?")
    split = SPLIT.get(path)
    label = parse_qs(query).get(split.key, [None])[0] if split else None
    return path in CHARTED and (label is None or bool(split.cards[label]))


def with_query(view: str, query: str) -> str:
    return view if not query else f"{view}{'&' if '?' in view else '?'}{query}"

# Drawn: the heading is there, the script has finished, no element is still a grey placeholder
# (Streamlit shows one while an element's code loads: metric tiles, charts, tables) and a
# chart page has charts. A fixed wait instead would photograph placeholders on a slow machine.
_DRAWN_JS = """([heading, charted]) => {
  const visible = el => !!el && el.getClientRects().length > 0;
  const headed = [...document.querySelectorAll('h1')].some(
    h => visible(h) && h.innerText.trim().startsWith(heading));
  const loading = [...document.querySelectorAll("[data-testid='stSkeleton']")].some(visible);
  const running = visible(document.querySelector("[data-testid='stStatusWidget']"));
  const plots = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot').length;
  return headed && !loading && !running && (!charted || plots > 0);
}"""


@pytest.mark.parametrize("path,heading", PAGES.items())
def test_page_renders_by_deep_link(server, page, path, heading):
    page.goto(f"{server}/{path}")
    page.wait_for_function(_DRAWN_JS, arg=[heading, path in CHARTED], timeout=60000,
                           polling=200)
    page.wait_for_timeout(300)  # Plotly's own transitions
    screenshot(page, path)
    assert not page.locator("[data-testid='stException']").count()
    assert "Traceback" not in page.locator("[data-testid='stMain']").inner_text()
    assert page.offsite_requests == []
    assert page.plotly_warnings == []


@pytest.mark.parametrize("view,heading", [(v, h) for v, h in views(PAGES) if "?" in v])
def test_each_section_renders_by_its_address(server, page, view, heading):
    """A copied link to a section (?reach_view=...) opens that tab with its charts (a section
    of tables only, such as the Plan's "Team-hours needed", with none)."""
    path, query = view.split("?")
    split = SPLIT[path]
    (label,) = parse_qs(query)[split.key]
    page.goto(f"{server}/{view}")
    page.wait_for_function(_DRAWN_JS, arg=[heading, charted(view)], timeout=60000, polling=200)
    page.wait_for_timeout(300)
    screenshot(page, view.replace("?", "-").replace("=", "-").replace("+", "-"))
    selected = page.locator("[role='tab'][aria-selected='true']")
    assert selected.inner_text().strip() == label
    for key in split.cards[label]:
        assert page.locator(f".st-key-chart-{key} .js-plotly-plot").count() == 1
    drawn = page.locator("[class*='st-key-chart-']").count()
    assert drawn == len(split.cards[label])  # the other sections did not run
    assert not page.locator("[data-testid='stException']").count()
    assert page.offsite_requests == []
    assert page.plotly_warnings == []


def test_a_tab_opens_its_section_and_the_link_keeps_it(server, page):
    page.goto(f"{server}/reach")
    page.wait_for_function(_DRAWN_JS, arg=[PAGES["reach"], True], timeout=60000, polling=200)
    assert page.locator(".st-key-chart-b1-month .js-plotly-plot").count() == 1
    page.get_by_role("tab", name="Calls missed", exact=True).click()
    page.locator(".st-key-chart-b3-reason .js-plotly-plot").wait_for(timeout=60000)
    page.wait_for_function(_DRAWN_JS, arg=[PAGES["reach"], True], timeout=60000, polling=200)
    assert parse_qs(urlparse(page.url).query)["reach_view"] == ["Calls missed"]
    assert not page.locator(".st-key-chart-b1-month").count()
    page.reload()  # the copied address opens the same section
    page.locator(".st-key-chart-a4-month .js-plotly-plot").wait_for(timeout=60000)
    assert page.locator("[role='tab'][aria-selected='true']").inner_text().strip() == (
        "Calls missed")
    assert page.offsite_requests == []


def test_overview_shows_the_cohort_funnel(server, page):
    page.goto(f"{server}/overview")
    page.get_by_text("From call to resolution").wait_for(timeout=30000)
    page.locator("[data-testid=stMain] .js-plotly-plot").first.wait_for(timeout=30000)
    # Elements mount one by one after the first chart (once, in a whole-suite run, the first
    # tile had not yet): wait for the tile, then read the whole page once.
    page.locator("[data-testid=stMetricLabel]", has_text="Calls for service").first.wait_for(
        timeout=30000)
    text = page.locator("[data-testid='stMain']").inner_text()
    # The demo cohort's size is fixed by its seed; the takeaway sentence names it.
    assert "were eligible for the team and it responded to" in text
    assert "Calls for service" in text
    assert page.offsite_requests == []


# Records every chart the tab ever draws and the hidden one that starts Plotly (ui/preload.py;
# on a fast server it may go before Plotly has drawn it), with where each was, as they come.
_CHART_LOG_JS = """(() => {
  window.__charts = [];
  const seen = new WeakSet();
  new MutationObserver(() => {
    document.querySelectorAll('.js-plotly-plot, .st-key-plotly-preload').forEach(el => {
      if (seen.has(el)) return;
      seen.add(el);
      const box = el.getBoundingClientRect();
      window.__charts.push({preload: el.matches('.st-key-plotly-preload'),
        main: !!el.closest("[data-testid='stMain']"), t: performance.now(),
        right: box.right, bottom: box.bottom});
    });
  }).observe(document, {subtree: true, childList: true});
})();"""


def test_the_chart_library_starts_loading_before_the_first_chart_and_off_the_screen(server,
                                                                                    page):
    """ui/preload.py: a chart page's first run sends a tiny chart first, off the screen, so
    the browser loads Plotly beside the queries; it is gone when the page is drawn, and a
    page without charts sends none."""
    page.add_init_script(_CHART_LOG_JS)
    page.goto(f"{server}/methodology")
    page.wait_for_function(_DRAWN_JS, arg=[PAGES["methodology"], False], timeout=60000,
                           polling=200)
    assert page.evaluate("window.__charts") == []  # no chart, no Plotly
    page.goto(f"{server}/equity")
    page.wait_for_function(_DRAWN_JS, arg=[PAGES["equity"], True], timeout=60000, polling=200)
    charts = page.evaluate("window.__charts")
    preload = [c for c in charts if c["preload"]]
    drawn = [c for c in charts if c["main"]]
    assert len(preload) == 1 and len(drawn) >= 2, charts
    assert preload[0]["t"] <= min(c["t"] for c in drawn)  # before the page's first chart
    # Its stylesheet (which can arrive a moment after it) puts it off the screen and hides it.
    rule = page.evaluate("""() => [...document.styleSheets].flatMap(s => [...s.cssRules])
      .map(r => r.cssText).find(t => t.includes('.st-key-plotly-preload'))""")
    assert rule and "left: -10000px" in rule and "visibility: hidden" in rule, rule
    assert page.locator(".st-key-plotly-preload").count() == 0  # removed when the run ended
    assert page.locator("[data-testid=stSidebar] .js-plotly-plot").count() == 0
