"""bench/page_cpu.py on a tiny cohort: a server, one session round the question pages, the
server's CPU per cached visit. No timing is asserted: that every visit drew without an error
and that the figures are what they say (CPU per visit at most the wall time per visit plus
what a second core could add)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import bench_module


@pytest.mark.slow
def test_cpu_per_cached_visit(tiny_cohort):
    page_cpu = bench_module("page_cpu")
    db = tiny_cohort
    # On a thread of its own: sync Playwright may have left an event loop on this one.
    with ThreadPoolExecutor(1) as pool:
        r = pool.submit(page_cpu.run, db, 2, 1).result()
    assert len(r["rounds"]) == 2
    for rnd in r["rounds"]:
        assert rnd["visits"] == len(page_cpu.PAGES) and rnd["errors"] == 0
        assert 0 < rnd["cpu_s_per_visit"] <= 2 * rnd["wall_s_per_visit"] + 0.05
    assert r["cpu_s_per_visit_median"] in [x["cpu_s_per_visit"] for x in r["rounds"]]
    assert 50 < r["server_rss_mb"] < 4096
