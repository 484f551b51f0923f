"""Disclosure control in a real browser: with "Hide small counts" on (the default), no count from
1 to 10 reaches the screen, the charts or a downloaded CSV of any analysis page.

What is scanned, per page (the places a record count is printed):
- the page's text (``stMain`` inner text: takeaway sentences, tiles, captions): every number in
  COUNT_PATTERNS ("220 of 335", "235 timed", "(85)", "1,900 calls" ...);
- the charts' SVG text (``.js-plotly-plot text``): every bar or point label that is a whole
  number (shares end in %, minutes have a decimal), and COUNT_PATTERNS in all of it; axis
  ticks are left out (a tick of 5 on an axis is not a count of records), and so are the Plan
  page's schedule grids (the teams on duty that the reader chose, not records);
- every card's CSV, downloaded with its "Download CSV" button: the count columns (Numerator,
  Denominator, Records timed, Records without both times, Events), the Value of a count
  metric, and COUNT_PATTERNS in every cell ("12.0% (9 of 75)" on Compare).
A control switches the toggle off (local mode may) and finds small counts with the same scan.
"""
from __future__ import annotations

import csv
import io
import re

import pytest

from metrics.registry import REGISTRY

from .conftest import screenshot
from .test_smoke import PAGES as SMOKE_PAGES
from .test_smoke import views, with_query

pytestmark = pytest.mark.playwright

# The analysis pages (not Data or Methodology, which show no figures about people).
PAGES = {path: heading for path, heading in SMOKE_PAGES.items()
         if path not in ("data", "methodology")}
# One jurisdiction in one month: many small counts in the demo cohort.
SMALL_VIEW = "j=Millbrook&from=2025-06-01&to=2025-06-30"
SMALL = range(1, 11)

_N = r"(\d{1,3}(?:,\d{3})+|\d+)"
_GROUPS = r"(?! (?:jurisdictions?|areas?|months?|groups?|categor(?:y|ies)|weekday-hours))"
COUNT_PATTERNS = [re.compile(p) for p in (
    rf"(?<![\d.,]){_N} of {_N}(?![\d.,%]){_GROUPS}",
    rf"median of {_N} timed", rf"(?<![\d.,]){_N} timed",
    rf"(?<![\d.,]){_N} records without both times",
    rf"\({_N}\)",
    rf"(?<![\d.,]){_N} (?:calls|were eligible|of them|referrals|out-of-hours)",
    rf"in one month: {_N},",
)]
COUNT_COLUMNS = {"Numerator", "Denominator", "Records timed", "Records without both times",
                 "Events"}
COUNT_LABELS = {m.label for m in REGISTRY if m.kind in ("count", "distinct")} | {
    "Team responses", "Eligible calls the team did not respond to"}
COUNT_TILES = ("Calls for service", "Eligible calls", "Handled by the team")
WHOLE = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")

# SVG text of the plots, each with whether it is an axis tick (left out of the label check).
# Ticks sit in groups classed xtick, ytick, x2tick, y3tick ... (one per subplot axis).
_SVG_TEXT = """() => [...document.querySelectorAll(
  '[data-testid=stMain] .js-plotly-plot text')].map(t => {
  let tick = false;
  for (let g = t.parentElement; g && !tick; g = g.parentElement) {
    const cls = (g.getAttribute && g.getAttribute('class')) || '';
    tick = cls.split(' ').some(c => /^[xy][0-9]*tick$/.test(c) || c === 'colorbar'
                               || /^st-key-chart-grid-/.test(c));
  }
  return [t.textContent, tick];
})"""


class Scan:
    def __init__(self):
        self.seen, self.small = 0, []

    def count(self, where, text) -> None:
        text = str(text).strip()
        if not WHOLE.fullmatch(text):
            return
        self.seen += 1
        if int(text.replace(",", "")) in SMALL:
            self.small.append((where, text))

    def text(self, where, text) -> None:
        for pattern in COUNT_PATTERNS:
            for match in pattern.finditer(text):
                for group in match.groups():
                    self.count(f"{where}: {match.group(0)!r}", group)

    def csv(self, where, data: bytes) -> None:
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        for row in rows:
            for col, value in row.items():
                if col in COUNT_COLUMNS or (col == "Value" and row.get("Metric") in COUNT_LABELS):
                    self.count(f"{where}[{col}]", value)
                self.text(f"{where}[{col}]", value or "")


def _settle(page) -> None:
    page.wait_for_timeout(500)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=90000)
    page.wait_for_timeout(500)


def _open(page, url, heading) -> None:
    page.goto(url)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=60000)
    _settle(page)
    # Every chart drawn (a card's chart container holds one plot each).
    cards = page.locator("[class*='st-key-chart-']").count()
    if cards:
        page.wait_for_function(
            "n => document.querySelectorAll("
            "'[data-testid=stMain] .js-plotly-plot .main-svg').length >= n",
            arg=cards, timeout=60000)
    page.wait_for_timeout(300)


def scan_page(page, scan: Scan, name: str, downloads: bool = True) -> int:
    main = page.locator("[data-testid='stMain']")
    scan.text(f"{name} text", main.inner_text())
    for label in COUNT_TILES:
        tile = page.locator("[data-testid='stMetric']").filter(has_text=label)
        if tile.count():
            scan.count(f"{name} tile {label}",
                       tile.first.locator("[data-testid='stMetricValue']").inner_text())
    svg = page.evaluate(_SVG_TEXT)
    for text, is_tick in svg:
        if not is_tick:
            scan.count(f"{name} chart label", text)
        scan.text(f"{name} chart text", text)
    got = 0
    if downloads:
        for card in page.locator("[class*='st-key-data-']").all():
            card.get_by_text("Show data").click()
            button = card.get_by_role("button", name="Download CSV")
            button.wait_for(timeout=30000)
            _still(page, button)
            with page.expect_download(timeout=60000) as info:
                button.click()
            path = info.value.path()
            scan.csv(f"{name} {info.value.suggested_filename}", open(path, "rb").read())
            got += 1
    return got


def _still(page, element, timeout_s: float = 20) -> None:
    """Wait until ``element`` stops moving: an opened table grows after it is drawn, and a
    click aimed at where the button was lands beside it."""
    import time

    last, deadline = None, time.time() + timeout_s
    while time.time() < deadline:
        element.scroll_into_view_if_needed()
        box = element.bounding_box()
        if box == last:
            return
        last = box
        page.wait_for_timeout(400)


@pytest.mark.parametrize("query", ["", SMALL_VIEW], ids=["cohort", "millbrook-june"])
def test_no_small_count_on_any_analysis_page(server, page, query):
    scan = Scan()
    csvs = 0
    for path, heading in views(PAGES):  # every section of a split page too
        _open(page, f"{server}/{with_query(path, query)}", heading)
        assert not page.locator("[data-testid='stException']").count(), path
        toggle = page.locator("[data-testid='stSidebar'] label").filter(
            has_text="Hide small counts (1–10)").locator("input")
        assert toggle.is_checked(), path  # on by default, on every page
        csvs += scan_page(page, scan, path)
        if query and path.startswith("on-scene?"):
            screenshot(page, f"disclosure-{path.replace('?', '-').replace('=', '-')}-small")
    assert csvs >= 15  # every card's CSV was downloaded and read
    assert scan.seen > 100
    assert scan.small == [], scan.small[:10]
    assert page.offsite_requests == []


def test_the_control_switched_off_shows_small_counts(server, page):
    """The same scan finds small counts once a local user switches the toggle off: it can
    fail for real."""
    _open(page, f"{server}/on-scene?{SMALL_VIEW}", PAGES["on-scene"])
    public = Scan()
    scan_page(page, public, "on-scene", downloads=False)
    assert public.small == [] and "hidden (fewer than 11)" in page.locator(
        "[data-testid='stMain']").inner_text()
    page.locator("[data-testid='stSidebar']").get_by_text("Hide small counts (1–10)").click()
    _settle(page)
    _open_charts(page)
    exact = Scan()
    scan_page(page, exact, "on-scene (exact)")
    assert exact.small, "switched off, the exact figures of this view hold small counts"
    assert "hidden (fewer than 11)" not in page.locator("[data-testid='stMain']").inner_text()


def _open_charts(page) -> None:
    cards = page.locator("[class*='st-key-chart-']").count()
    page.wait_for_function(
        "n => document.querySelectorAll("
        "'[data-testid=stMain] .js-plotly-plot .main-svg').length >= n",
        arg=cards, timeout=60000)
    page.wait_for_timeout(300)
