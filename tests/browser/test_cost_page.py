"""The Cost page in Chromium, over the demo cohort with its costs: drawn, nothing off the
machine, no Plotly warning, and a screenshot (tests/screenshots/cost-riverton.png) to look at."""
from __future__ import annotations

import pytest

from .conftest import screenshot, start_server, stop_server
from .test_smoke import _DRAWN_JS

pytestmark = pytest.mark.playwright


@pytest.fixture(scope="module")
def cost_server(tmp_path_factory):
    from conftest import demo_copy
    from data.connection import connect
    from data.costs import load_demo_costs

    db = demo_copy(tmp_path_factory.mktemp("cost") / "demo.duckdb")
    con = connect(db)
    load_demo_costs(con)  # as `python -m data demo` does
    con.close()
    proc, url = start_server(db)
    yield url
    stop_server(proc)


def test_cost_page_draws_its_three_charts(cost_server, page):
    page.set_viewport_size({"width": 1400, "height": 3000})
    page.goto(f"{cost_server}/cost?cost_j=Riverton")
    page.wait_for_function(_DRAWN_JS, arg=["What does it cost?", True], timeout=60000)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=stMain] .js-plotly-plot').length >= 3",
        timeout=30000)
    body = page.inner_text("body")
    assert "Cost per team response" in body and "Police capacity returned" in body
    assert "ARPA SLFRF spent by 31 Dec 2026" in body  # the funding cliff is drawn
    assert "not cash saved" in body
    assert not page.locator("[data-testid='stException']").count()
    assert page.offsite_requests == [] and page.plotly_warnings == []
    screenshot(page, "cost-riverton")


def test_cost_page_in_presenter_mode_with_names_masked(cost_server, page):
    page.goto(f"{cost_server}/cost?cost_j=Cedar+Falls&present=1&mask=true&own=Riverton")
    page.wait_for_function(_DRAWN_JS, arg=["What does it cost?", True], timeout=60000)
    assert "Cedar Falls" not in page.inner_text("[data-testid='stMain']")
    assert page.plotly_warnings == []
    screenshot(page, "cost-presenter")
