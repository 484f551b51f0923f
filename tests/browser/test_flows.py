"""What users do in a real browser: upload through the wizard, share a link, present.

Every request to a host other than localhost is blocked and recorded (see conftest.page).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from .conftest import ROOT, screenshot

REALDATA = ROOT.parent / "shared" / "realdata"

pytestmark = pytest.mark.playwright

SEATTLE = REALDATA / "seattle_spd_calldata" / "db_call_data_2018-2023.csv"
DEMO_JURISDICTIONS = ("Cedar Falls", "Harbor County", "Millbrook", "Port Avalon", "Riverton")


def _main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def _tile(page, label: str) -> int:
    """The number on a headline tile, e.g. 'Calls for service' -> 524614."""
    tile = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    value = tile.locator("[data-testid='stMetricValue']").inner_text()
    return int(re.sub(r"[^\d]", "", value))


def _open(page, url: str, heading: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=30000)
    _settle(page)


def _settle(page) -> None:
    """Wait until Streamlit has finished the run (its status widget is gone)."""
    page.wait_for_timeout(500)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=60000)
    page.wait_for_timeout(300)


def _exact(page) -> None:
    """Switch "Hide small counts" off (local mode may): exact figures, to add up imports."""
    page.locator("[data-testid='stSidebar']").get_by_text("Hide small counts (1–10)").click()
    _settle(page)


def _choose(page, combobox: str, option: str) -> None:
    page.get_by_role("combobox", name=combobox).click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()
    _settle(page)


def test_upload_a_real_export_through_the_wizard_changes_the_overview(own_server, page):
    if not SEATTLE.exists():
        pytest.skip(f"real exports not found at {REALDATA} (they sit beside the repository in CI)")
    _open(page, f"{own_server}/overview", "How is the program performing?")
    _exact(page)
    calls_before = _tile(page, "Calls for service")

    _open(page, f"{own_server}/data", "Data")
    page.get_by_test_id("stRadioGroup").get_by_text("Calls (911 / CAD export)").click()
    _choose(page, "For the jurisdiction", "+ a new jurisdiction")
    page.get_by_label("Name of the new jurisdiction").fill("Seattle")
    page.keyboard.press("Enter")
    _settle(page)
    _choose(page, "Its time zone", "America/Los_Angeles")
    page.locator("input[type=file]").set_input_files(str(SEATTLE))
    page.get_by_role("heading", name="4. Which column is which?").wait_for(timeout=30000)
    _settle(page)
    page.get_by_role("button", name="Check the file (nothing is saved yet)").click()
    commit = page.get_by_role("button", name="Import 222 rows into Seattle")
    commit.wait_for(timeout=60000)
    _settle(page)
    screenshot(page, "flow-upload-checked")
    assert "Rejected rows" in _main_text(page)
    commit.click()
    page.get_by_text("is saved: db_call_data_2018-2023.csv as calls for Seattle").wait_for(
        timeout=120000)
    screenshot(page, "flow-upload-done")

    _open(page, f"{own_server}/overview", "How is the program performing?")
    _exact(page)
    assert _tile(page, "Calls for service") == calls_before + 222
    _open(page, f"{own_server}/overview?j=Seattle", "How is the program performing?")
    _exact(page)
    assert _tile(page, "Calls for service") == 222
    screenshot(page, "flow-overview-seattle")
    assert page.offsite_requests == []


def test_a_copied_link_reproduces_the_filters(server, page, browser):
    _open(page, f"{server}/reach", "What percentage of eligible calls is the team handling?")
    _choose(page, "Jurisdictions", "Riverton")
    page.keyboard.press("Escape")  # a multiselect stays open after a choice
    page.locator("[data-testid='stSidebarNavLink']").filter(has_text="Overview").click()
    page.get_by_role("heading", name="How is the program performing?").wait_for()
    _settle(page)
    copied = page.url
    assert parse_qs(urlparse(copied).query).get("j") == ["Riverton"]
    calls = _tile(page, "Calls for service")

    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        _open(other, copied, "How is the program performing?")
        chosen = other.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first
        assert "Riverton" in chosen.inner_text()
        assert _tile(other, "Calls for service") == calls
        # The filter really applies: all jurisdictions together have more calls.
        _open(other, f"{server}/overview", "How is the program performing?")
        assert _tile(other, "Calls for service") > calls
    finally:
        other.context.close()
    assert page.offsite_requests == []


def test_presenter_mode_by_link_hides_the_controls(server, page):
    _open(page, f"{server}/overview?present=1", "How is the program performing?")
    page.locator("[data-testid=stMain] .js-plotly-plot").first.wait_for(timeout=30000)
    # Presenter mode's stylesheet can arrive a moment after the first chart (Plotly loads
    # early, ui/preload.py): the sidebar must then be hidden.
    page.locator("[data-testid='stSidebar']").wait_for(state="hidden", timeout=30000)
    screenshot(page, "flow-presenter")
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    assert not page.get_by_text("Show data").first.is_visible()
    title = page.get_by_role("heading", name="How is the program performing?").first
    assert float(title.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 44
    page.get_by_role("button", name="Leave presenter mode").click()
    page.locator("[data-testid='stSidebar']").wait_for(state="visible", timeout=30000)
    assert "present" not in parse_qs(urlparse(page.url).query)
    assert page.offsite_requests == []


def test_presenter_toggle_writes_the_link(server, page):
    _open(page, f"{server}/on-scene", "What happens on scene?")
    page.get_by_text("Presenter mode").click()
    page.locator("[data-testid='stSidebar']").wait_for(state="hidden", timeout=30000)
    assert parse_qs(urlparse(page.url).query).get("present") == ["1"]


def test_masked_peers_show_letters_not_names(server, page):
    _open(page, f"{server}/compare?own=Riverton&mask=true", "How do the jurisdictions compare?")
    page.locator("[data-testid=stMain] .js-plotly-plot").first.wait_for(timeout=30000)
    screenshot(page, "flow-compare-masked")
    text = _main_text(page)
    assert "Riverton" in text
    for peer in DEMO_JURISDICTIONS:
        if peer != "Riverton":
            assert peer not in text, peer
    # Chart labels are SVG text, not in inner_text: check them too.
    svg = " ".join(page.locator("[data-testid=stMain] .js-plotly-plot text").all_text_contents())
    assert "Jurisdiction A" in svg or "Jurisdiction A" in text
    assert not any(peer in svg for peer in DEMO_JURISDICTIONS if peer != "Riverton")
