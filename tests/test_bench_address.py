"""bench/address.py at a tiny size: one section of a page opened by its address on a fresh
server, against the stack's floor (bench/floor_app.py) timed the same way; their verdict and
the server's memory. No timing is asserted beyond what the verdict itself says."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import bench_module

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")


def _pages() -> dict:
    """What bench/capture.py records, for the two views used here: the Methodology page (no
    request: the page each fresh server is first opened at) and the Reach page's last section."""
    from metrics.methodology import methodology_markdown
    from ui import sections

    title = re.search(r'st\.title\("([^"]+)"\)',
                      (ROOT / "app_pages" / "reach.py").read_text(encoding="utf-8")).group(1)
    methodology = re.search(r"^#\s+(.+)$", methodology_markdown(), re.M).group(1).strip()
    label = sections.REACH.labels[-1]
    return {"methodology": {"heading": methodology, "charts": 0, "requests": []},
            f"reach?reach_view={label.replace(' ', '+')}": {
                "heading": title, "charts": len(sections.REACH.cards[label]),
                "requests": ["(some)"], "section": label, "view_of": "reach"}}


@pytest.mark.playwright
@pytest.mark.slow
def test_a_section_by_its_address_against_the_floor(tmp_path, tiny_cohort):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    address = bench_module("address")
    db = tiny_cohort
    pages = _pages()
    view = next(u for u in pages if u.startswith("reach"))
    # On a thread of its own: after the browser tests, sync Playwright leaves an event loop
    # running on this one, and the benchmark's asyncio.run would refuse to start.
    with ThreadPoolExecutor(1) as pool:
        r = pool.submit(address.against_floor, db, pages, tmp_path, repeat=1,
                        views=[view]).result()

    floor, v = r["floor"], r["views"][view]
    assert len(floor["runs_s"]) == 1 and floor["errors"] == []
    assert len(v["runs_s"]) == 1 and v["errors"] == [], v["errors"]
    assert 0 < floor["median_s"] < address.NAV_TIMEOUT_S
    assert 0 < v["median_s"] < address.NAV_TIMEOUT_S
    # The verdict is the criterion, worked out again here.
    assert r["limit_s"] == pytest.approx(floor["median_s"] + 1.0, abs=1e-3)
    assert v["met"] == (v["median_s"] <= floor["median_s"] + 1.0)
    assert r["every_view_within_floor"] == v["met"]
    # Each visit had a server of its own (the floor's and the view's, plus one of each to
    # fill the browser's cache), and the server's memory was sampled.
    assert r["server_starts"] == 4
    assert 50 < r["dashboard_server_peak_mb"] < 4096
    assert r["server_under_limit"] == (r["dashboard_server_peak_mb"] < 2048)
    assert r["offsite_requests"] == []
    # The first visit is reported on its own (ui/prepared.py: later ones find the view
    # prepared), and the served dashboard noted what the view asked for beside its database.
    assert v["first_s"] == v["runs_s"][0]
    assert v["first_over_floor_s"] == pytest.approx(v["first_s"] - floor["median_s"], abs=2e-3)
    noted = (tmp_path / "tiny.duckdb.prepared").read_bytes()
    assert b"MetricRequest" in noted and b"_compute" in noted
