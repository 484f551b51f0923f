"""A new jurisdiction, from upload to an Overview with eligible calls, in a real browser, using
only the wizard's suggestions, the target categories set on the Admin page and the
crosswalk's "accept confident suggestions" (issue 21).

The export is the first 400 rows of San Diego's police calls for service (ODC-PDDL, so kept in
tests/fixtures): its call types are codes (415, 5150, CW, 602 ...) that a person would map by
hand. The database starts empty, as it does for a new deployment.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import screenshot, start_server, stop_server
from .test_flows import _choose, _exact, _main_text, _open, _settle, _tile

pytestmark = pytest.mark.playwright

EXCERPT = Path(__file__).resolve().parents[1] / "fixtures" / "sandiego_calls_excerpt.csv"
NAME = "San Diego"


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory):
    proc, url = start_server(tmp_path_factory.mktemp("new") / "empty.duckdb")
    yield url
    stop_server(proc)


def test_a_new_jurisdiction_reaches_eligible_calls_with_suggestions_alone(empty_server, page):
    url = empty_server
    _open(page, f"{url}/data", "Data")
    page.get_by_test_id("stRadioGroup").get_by_text("Calls (911 / CAD export)").click()
    _choose(page, "For the jurisdiction", "+ a new jurisdiction")
    page.get_by_label("Name of the new jurisdiction").fill(NAME)
    page.keyboard.press("Enter")
    _settle(page)
    _choose(page, "Its time zone", "America/Los_Angeles")
    page.locator("input[type=file]").set_input_files(str(EXCERPT))
    page.get_by_role("heading", name="4. Which column is which?").wait_for(timeout=30000)
    _settle(page)
    # Nothing chosen by hand: the columns are the wizard's suggestions.
    page.get_by_role("button", name="Check the file (nothing is saved yet)").click()
    commit = page.get_by_role("button", name=f"Import 400 rows into {NAME}")
    commit.wait_for(timeout=60000)
    _settle(page)
    commit.click()
    page.get_by_text(f"as calls for {NAME}").first.wait_for(timeout=120000)
    _settle(page)

    # The summary names what still keeps the pages empty, with a way to the crosswalk.
    text = _main_text(page)
    assert f"Next steps for {NAME}" in text
    assert re.search(r"\d+% of calls \([\d,]+ of 400\) have a call type without a category",
                     text), text
    assert "No target categories set" in text and "No team responses yet" in text
    screenshot(page, "flow21-import-next-steps")
    page.get_by_role("button", name="Open the call-type crosswalk").click()
    _settle(page)
    page.get_by_text(f"{NAME} has no target categories set").wait_for(timeout=30000)
    assert "Call volume still unmapped" in _main_text(page)

    # The one setting eligibility needs, through the Admin page (a new jurisdiction has none).
    _open(page, f"{url}/admin?admin_tab=Jurisdictions", "Admin")
    for category in ("MENTAL_HEALTH", "WELFARE_CHECK"):
        page.get_by_role("combobox", name="Target categories").click()
        page.keyboard.type(category)
        page.get_by_role("option", name=category, exact=True).click()
    page.keyboard.press("Escape")
    _settle(page)
    screenshot(page, "flow21-admin-targets")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text(f"Saved the settings of {NAME}.").wait_for(timeout=30000)

    # The crosswalk tab, on the new jurisdiction: accept every confident suggestion at once.
    _open(page, f"{url}/data?data_tab=Call-type+crosswalk", "Data")
    accept = page.get_by_role("button", name=re.compile(r"^Accept \d+ confident suggestion"))
    accept.wait_for(timeout=30000)
    n = int(re.search(r"Accept (\d+)", accept.inner_text()).group(1))
    assert n >= 10  # 5150, CW (check the welfare), 602, 647F, 415 ... of the 83 types
    assert "no target categories" not in _main_text(page)
    screenshot(page, "flow21-crosswalk-suggestions")
    accept.click()
    page.get_by_text(f"Accepted {n} confident suggestion(s) for {NAME}").wait_for(timeout=60000)
    _settle(page)
    assert not page.get_by_role("button", name=re.compile(r"^Accept \d+ confident")).count()
    screenshot(page, "flow21-crosswalk-accepted")

    _open(page, f"{url}/overview?j={NAME.replace(' ', '+')}", "How is the program performing?")
    _exact(page)
    assert _tile(page, "Calls for service") == 400
    assert _tile(page, "Eligible calls") > 0
    assert "Target call types" in _main_text(page)
    screenshot(page, "flow21-overview")
    assert page.offsite_requests == [] and page.plotly_warnings == []
