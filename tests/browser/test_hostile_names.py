"""Names from uploads are text, never markup: hostile names through the CLI and the wizard,
then every page in Chromium (issue 27).

A canary HTTP server on another port of 127.0.0.1 stands for an attacker's address: the hostile
names point at it. Every request the page makes is recorded (``page.on("request")``); none may
go to an origin other than the dashboard's. No element may carry a link or image address built
from the data, and the names must read literally on the page.
"""
from __future__ import annotations

import csv
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest

from charts.safe_text import WORD_JOINER
from .conftest import ROOT, _demo_database, screenshot, start_server, stop_server
from .test_flows import _choose, _settle

pytestmark = pytest.mark.playwright

PAGES = ["", "reach", "on-scene", "connections", "compare", "equity", "impact", "cost", "plan",
         "methodology", "data", "admin"]
DATA_TABS = ["Import history", "Call-type crosswalk", "Data quality", "Program costs"]


class _Canary(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(scope="module")
def canary():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _names(canary: str) -> dict[str, str]:
    return {"file": f"x![fn]({canary}/fn.png).csv",
            "origin": f"![o]({canary}/o.png)",
            "area": f"<a href={canary}/area>link</a>",
            "call_type": f"<img src={canary}/ct.png>",
            "jurisdiction": f"J [j]({canary}/j) <b>b</b>"}


def _hostile_csv(path, names, seed):
    from data.demo import generate_calls_csv

    raw = generate_calls_csv(path.with_suffix(".raw.csv"), 300, seed=seed)
    rows = list(csv.reader(open(raw, newline="")))
    head = rows[0]
    for i, r in enumerate(rows[1:]):
        if i % 2 == 0:
            r[head.index("Beat")] = names["area"]
        if i % 3 == 0:
            r[head.index("Call Type")] = names["call_type"]
        if i % 2 == 1:
            r[head.index("Origin")] = names["origin"]
    with open(path, "w", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, canary):
    """A demo cohort plus a jurisdiction with a hostile name, imported by the command line."""
    folder = tmp_path_factory.mktemp("hostile")
    db = _demo_database(folder)
    names = _names(canary)
    done = subprocess.run(
        [sys.executable, "-m", "data", "import", str(_hostile_csv(folder / "cli.csv", names, 1)),
         "--kind", "calls", "--jurisdiction", names["jurisdiction"], "--timezone",
         "America/Chicago", "--profile", str(ROOT / "tests/profiles/demo_calls.toml"),
         "--db", str(db)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    proc, url = start_server(db)
    yield url, names, folder
    stop_server(proc)


@pytest.fixture
def watched(page):
    page.all_requests = []
    page.on("request", lambda r: page.all_requests.append(r.url))
    return page


def _foreign(page, origin: str) -> list[str]:
    return [u for u in page.all_requests
            if not u.startswith((origin + "/", "data:", "blob:", "about:"))]


def _addresses_built_from_data(page, canary: str) -> list[str]:
    """Every href/src/xlink:href/srcset/style/action attribute that names the canary."""
    return page.evaluate("""canary => {
        const out = [];
        for (const el of document.querySelectorAll('*')) {
            for (const a of el.attributes) {
                if (/^(href|src|srcset|xlink:href|style|action|poster|data)$/i.test(a.name)
                        && a.value.includes(canary))
                    out.push(el.tagName + ' ' + a.name + '=' + a.value);
            }
        }
        return out; }""", canary.split("//")[1])


def _text(page) -> str:
    """The main area's text, without the invisible word joiners that stop autolinks."""
    return page.evaluate("() => document.querySelector(\"[data-testid='stMain']\")"
                         ".textContent").replace(WORD_JOINER, "")


def _check_clean(page, url, canary, where: str = ""):
    assert _foreign(page, url) == [], f"requests left for another address {where}"
    assert _addresses_built_from_data(page, canary) == [], \
        f"a link or image built from data {where}"


def _import_through_the_wizard(page, url, names, folder):
    page.goto(f"{url}/data")
    page.get_by_role("heading", name="Data").first.wait_for(timeout=30000)
    _settle(page)
    page.get_by_test_id("stRadioGroup").get_by_text("Calls (911 / CAD export)").click()
    _settle(page)
    _choose(page, "For the jurisdiction", "Riverton")
    payload = {"name": names["file"], "mimeType": "text/csv",
               "buffer": _hostile_csv(folder / "wizard.csv", names, 2).read_bytes()}
    page.locator("input[type=file]").set_input_files(payload)
    page.get_by_role("heading", name="4. Which column is which?").wait_for(timeout=30000)
    _settle(page)
    main = _text(page)
    assert names["file"] in main  # the preview line names the file literally
    page.get_by_role("button", name="Check the file (nothing is saved yet)").click()
    commit = page.get_by_role("button", name="Import 300 rows into Riverton")
    commit.wait_for(timeout=60000)
    _settle(page)
    assert names["origin"] in _text(page)  # step 6's values, as text
    screenshot(page, "hostile-wizard-checked")
    commit.click()
    page.get_by_text(re.compile(r"Import #\d+ is saved")).first.wait_for(timeout=60000)
    _settle(page)
    screenshot(page, "hostile-wizard-done")
    done = _text(page)
    assert f"is saved: {names['file']} as calls for Riverton" in done
    assert f"'{names['origin']}' not recognised" in done  # summary_markdown


def test_hostile_names_stay_text_through_the_wizard_and_every_page(hostile_server, watched,
                                                                  canary):
    url, names, folder = hostile_server
    page = watched
    _Canary.hits.clear()
    _import_through_the_wizard(page, url, names, folder)
    _check_clean(page, url, canary)

    j = quote(names["jurisdiction"])
    for path in PAGES:
        for query in ("", f"?j={j}"):
            page.goto(f"{url}/{path}{query}")
            page.locator("[data-testid='stMain'] h1").first.wait_for(timeout=30000)
            _settle(page)
            _open_every_data_table(page)
            _check_clean(page, url, canary, f"on /{path}{query}")
            for tab in DATA_TABS if path == "data" else ():
                page.get_by_role("tab", name=tab).click()
                _settle(page)
                _check_clean(page, url, canary, f"on /{path}{query}, tab {tab}")
    # Riverton's team responds in its areas: the wizard's rows put the hostile area on Reach.
    page.goto(f"{url}/reach?j=Riverton")
    page.locator("[data-testid='stMain'] h1").first.wait_for(timeout=30000)
    _settle(page)
    page.get_by_role("tab", name="By category and area").click()
    page.locator("[data-testid=stMain] .js-plotly-plot").first.wait_for(timeout=30000)
    _settle(page)
    screenshot(page, "hostile-reach")
    assert names["area"] in _text(page)  # a tick label, as text
    page.goto(f"{url}/data")
    page.get_by_role("tab", name="Import history").click()
    _settle(page)
    history = _text(page)
    assert names["file"] in history and names["jurisdiction"] in history
    page.get_by_role("button", name="Undo").first.click()
    _settle(page)
    screenshot(page, "hostile-history-undo")
    assert "Undo import #" in _text(page) and names["file"] in _text(page)
    _check_clean(page, url, canary)
    assert _Canary.hits == []


def _open_every_data_table(page) -> None:
    """Open the first "Show data" expander (tables are drawn only once opened; the grid itself
    is a canvas, which holds no links)."""
    toggle = page.get_by_text("Show data", exact=True)
    if toggle.count():
        toggle.first.click(timeout=10000)
        _settle(page)
        _no_builtin_table_export(page)


def _no_builtin_table_export(page) -> None:
    """The table's own toolbar shows (Search), without its "Download as CSV" (config)."""
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.hover()
    page.wait_for_timeout(300)
    toolbar = page.locator("[data-testid='stElementToolbar']")
    assert toolbar.get_by_role("button", name="Search").count() >= 1
    assert toolbar.get_by_role("button", name="Download as CSV").count() == 0
