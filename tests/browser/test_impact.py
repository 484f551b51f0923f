"""The Impact page in Chromium: Millbrook's four charts, the outcome switch in the address, a
masked presenter view; screenshots in tests/screenshots/ (impact-*.png) to look at."""
from __future__ import annotations

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.playwright

HEADING = "Is it working? What changed after launch"
_DRAWN_JS = """([heading, plots]) => {
  const visible = el => !!el && el.getClientRects().length > 0;
  const headed = [...document.querySelectorAll('h1')].some(
    h => visible(h) && h.innerText.trim().startsWith(heading));
  const loading = [...document.querySelectorAll("[data-testid='stSkeleton']")].some(visible);
  const running = visible(document.querySelector("[data-testid='stStatusWidget']"));
  const svgs = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot .main-svg');
  return headed && !loading && !running && svgs.length >= 2 * plots;
}"""


def _open(page, url, plots):
    page.goto(url)
    page.wait_for_function(_DRAWN_JS, arg=[HEADING, plots], timeout=60000, polling=200)
    page.wait_for_timeout(300)


def _main(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def test_millbrook(server, page):
    page.set_viewport_size({"width": 1400, "height": 4300})  # the whole page in one picture
    _open(page, f"{server}/impact?j=Millbrook", 4)
    screenshot(page, "impact-millbrook")
    text = _main(page)
    for heading in ("Per month", "Interrupted time series: observed against the model",
                    "Year over year: the same months a year apart",
                    "Comparison series: areas the team does not cover",
                    "Before you quote these numbers"):
        assert heading in text
    assert "Launch: 15 April 2024." in text and "rate ratio" in text
    assert not page.locator("[data-testid='stException']").count()
    assert page.offsite_requests == [] and page.plotly_warnings == []
    # The outcome switch writes the address, so a copied link reopens police hours.
    page.get_by_text("Police busy hours", exact=True).click()
    page.wait_for_function("() => location.search.includes('impact_outcome')", timeout=30000)
    _open(page, page.url, 3)
    assert "police busy hours were" in _main(page)


def test_refusals_and_a_masked_presenter_view(server, page):
    page.set_viewport_size({"width": 1400, "height": 2400})
    _open(page, f"{server}/impact?j=Cedar+Falls", 2)
    screenshot(page, "impact-cedar-falls")
    assert "this period has 8 before and 21 after" in _main(page)
    page.set_viewport_size({"width": 1400, "height": 4300})
    _open(page, f"{server}/impact?j=Millbrook&mask=true&present=1", 4)
    screenshot(page, "impact-masked-presenter")
    text = _main(page)
    assert "Millbrook" not in text and "April 2024" not in text
    assert "Months since launch" in text
    assert not page.locator("[data-testid='stSidebar']").is_visible()
