"""The wizard on an export whose date column carries a placeholder midnight beside a time
column (tests/fixtures/times): suggested as a pair from the values, read with its times of
day, and a warning that holds the import when a date is mapped alone."""
from __future__ import annotations

import pytest

from .conftest import ROOT, screenshot
from .test_flows import _choose, _main_text, _open, _settle

pytestmark = pytest.mark.playwright

POLICE = ROOT / "tests" / "fixtures" / "times" / "police_date_time_ampm.csv"


def _start(page, url: str, name: str) -> None:
    _open(page, f"{url}/data", "Data")
    page.get_by_test_id("stRadioGroup").get_by_text("Calls (911 / CAD export)").click()
    _choose(page, "For the jurisdiction", "+ a new jurisdiction")
    page.get_by_label("Name of the new jurisdiction").fill(name)
    page.keyboard.press("Enter")
    _settle(page)
    _choose(page, "Its time zone", "America/Chicago")
    page.locator("input[type=file]").set_input_files(str(POLICE))
    page.get_by_role("heading", name="4. Which column is which?").wait_for(timeout=30000)
    _settle(page)


def test_a_date_and_time_pair_is_suggested_and_read_with_its_times(own_server, page):
    _start(page, own_server, "Eastville")
    text = _main_text(page)
    # The pair, the identifier and the call type come from the values and the headers.
    received = page.get_by_test_id("stMultiSelect").filter(has_text="received_at")
    assert "EVENTDT" in received.inner_text() and "EVENTTM" in received.inner_text()
    assert "suggested from the header and the values" in text
    page.get_by_text("Dates and times: how they are read").click()
    _settle(page)
    assert "04/16/2022 1:57:00 PM → Sat 16 Apr 2022, 13:57" in _main_text(page)
    screenshot(page, "wizard-times-pair")

    page.get_by_role("button", name="Check the file (nothing is saved yet)").click()
    commit = page.get_by_role("button", name="Import 6 rows into Eastville")
    commit.wait_for(timeout=60000)
    _settle(page)
    # No coded values in this file: the import is step 6, not 7.
    assert page.get_by_role("heading", name="6. Import").count() == 1
    assert "reads 0:00" not in _main_text(page)
    commit.click()
    page.get_by_text("is saved: police_date_time_ampm.csv as calls for Eastville").wait_for(
        timeout=60000)
    assert page.offsite_requests == []


def test_a_date_mapped_alone_holds_the_import_until_confirmed(own_server, page):
    _start(page, own_server, "Westville")
    page.get_by_role("button", name="Remove EVENTTM").click()
    _settle(page)
    page.get_by_role("button", name="Check the file (nothing is saved yet)").click()
    commit = page.get_by_role("button", name="Import 6 rows into Westville")
    commit.wait_for(timeout=60000)
    _settle(page)
    assert "Every time in received_at ('EVENTDT') reads 0:00" in _main_text(page)
    assert commit.is_disabled()
    screenshot(page, "wizard-times-midnight")
    page.get_by_text("Import anyway: this file has no times of day").click()
    _settle(page)
    assert commit.is_enabled()
    assert page.offsite_requests == []
