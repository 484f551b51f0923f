"""Every page renders in a real browser, by deep link, with nothing fetched off the machine."""
from __future__ import annotations

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.playwright

PAGES = {"overview": "How is the program performing?", "methodology": "Metric definitions"}


@pytest.mark.parametrize("path,heading", PAGES.items())
def test_page_renders_by_deep_link(server, page, path, heading):
    page.goto(f"{server}/{path}")
    page.get_by_role("heading", name=heading).first.wait_for(timeout=30000)
    page.wait_for_timeout(1500)  # let charts draw before the screenshot
    screenshot(page, path)
    assert not page.locator("[data-testid='stException']").count()
    assert page.offsite_requests == []


def test_overview_shows_calls_per_jurisdiction(server, page):
    page.goto(f"{server}/overview")
    page.get_by_text("Calls for service by jurisdiction").wait_for(timeout=30000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=30000)
    text = page.locator("[data-testid='stMain']").inner_text()
    assert "received the most calls" in text
    assert page.offsite_requests == []
