"""The Equity page in Chromium with one, several and all jurisdictions (issue 26): each
jurisdiction its own panel with its reference named, a combined figure only for several,
nothing broken; screenshots in tests/screenshots/ to look at as a council member would."""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from .conftest import screenshot

pytestmark = pytest.mark.playwright

BACKUP = "Team response → police back-up requested"
DRAWN = """() => {
  const visible = el => !!el && el.getClientRects().length > 0;
  const loading = [...document.querySelectorAll("[data-testid='stSkeleton']")].some(visible);
  const running = visible(document.querySelector("[data-testid='stStatusWidget']"));
  const plots = document.querySelectorAll('[data-testid=stMain] .js-plotly-plot').length;
  return !loading && !running && plots > 1;
}"""
VIEWS = {
    "one": ["Riverton"],
    "several": ["Riverton", "Cedar Falls"],
    "all": [],
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_equity_panels_per_jurisdiction(server, page, view):
    chosen = VIEWS[view]
    query = urlencode([("equity_point", BACKUP)] + [("j", j) for j in chosen])
    page.set_viewport_size({"width": 1400, "height": 3200})  # the whole page in one picture
    page.goto(f"{server}/equity?{query}")
    page.wait_for_function(DRAWN, timeout=90000, polling=300)
    page.wait_for_timeout(500)
    screenshot(page, f"equity-{view}")
    assert not page.locator("[data-testid='stException']").count()
    assert page.offsite_requests == [] and page.plotly_warnings == []
    card = page.locator(".st-key-card-equity-rri")
    # Riverton's panel names its reference group and why, in every view.
    assert card.get_by_text("Riverton: against White, the standard reference").count() == 1
    pooled = page.locator(".st-key-card-equity-pooled").count()
    assert pooled == (0 if view == "one" else 1)
    if view == "one":
        assert page.get_by_text("Within Riverton: every group is compared").count() == 1
    else:
        assert page.get_by_text("One panel per jurisdiction").count() == 1
