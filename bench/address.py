"""Every page and section opened by its address, against the stack's own floor (issue 25).

Issue 25's criterion: at 100 million calls every page and section opened by its address renders
within 1 s of the stack's own floor (Streamlit plus one Plotly chart, measured in the same
run), and the server stays under 2 GB. bench/scale_up.py runs this after its sidebar series.

The floor is bench/floor_app.py (a heading and one Plotly chart; no data, no DuckDB), served by
its own ``streamlit run``. A view of the dashboard (a page, or a section: ``<page>?<tab
key>=<label>``, bench/capture.py) and the floor are timed alike, one visit at a time:

1. a fresh server on the app's own fixed port: nothing of the view is cached on the server;
2. a first tab opens a page that asks for no figure (the dashboard's Methodology; the floor
   itself) and is closed: the server's one-time work (Python imports, Plotly's validators,
   the sidebar's options) is done, as on a server that has been up for a while;
3. until the server's processes use under 5 % of a core for half a second (the Impact page's
   statistics load in the background after the first page, and the server prepares the views
   asked before, ui/prepared.py), at most 60 s;
4. a new tab opens the view's address (``page.goto``, nothing of the view in the tab) and waits
   until it is rendered: bench/browser.py's condition (the heading visible, as many Plotly
   charts as the view draws, Streamlit's running indicator gone) and, for a section, its tab
   selected with its charts in its panel. The time is from navigation to rendered.

Before the first round one server of each app puts Streamlit's and Plotly's scripts into the
browser's cache and runs them once, as any returning viewer's browser has; every tab is in that
one browser context, which shares nothing else between tabs. The floor is visited at the start
of every round and after every ``FLOOR_EVERY`` views, so it sees the same machine as the views;
the views' order rotates per round. A fresh server also starts with DuckDB's buffers empty
(the operating system's file cache stays warm): stricter than a long-running server's first
request for a view. A view's verdict: its median <= the floor's median + 1 s,
with no error on any visit.

Prepared views (ui/prepared.py): the dashboard notes the views asked for beside the database
and a (re)started server computes them again before anyone asks, as in production. The note is
deleted before the first round, so each view's first visit (``first_s``, round 1) finds only
what the views visited before it share with it; from round 2 on the server has prepared the
view (the median). Both are reported. Memory: each server's peak resident memory, the process
and its children (psutil every 0.2 s) or the kernel's high-water mark, whichever is larger.
"""
from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import psutil

from browser import (NAV_TIMEOUT_S, _RENDERED_JS, _SECTION_JS, _context, _launch, _photograph,
                     _server_part, free_port, say, start_server, track_scripts, warm_scripts)

BENCH = Path(__file__).resolve().parent
FLOOR_APP = BENCH / "floor_app.py"
FLOOR_HEADING = "The stack's floor"  # floor_app.HEADING (not imported: it runs streamlit)
FLOOR = "(floor)"
MARGIN_S = 1.0
MEMORY_LIMIT_MB = 2048
FLOOR_EVERY = 8
QUIET_CPU = 0.05  # share of one core under which a server counts as settled
SETTLE_MAX_S = 60.0  # a restarted server prepares the asked views first

_ERROR_TEXT_JS = """() => [...document.querySelectorAll(
  "[data-testid='stException'], [data-testid='stAlertContentError']")]
  .map(e => e.innerText.trim().slice(0, 300))"""


def _cpu_s(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            continue
    return total


async def _settle(pid: int) -> float:
    """Seconds until the server's processes are quiet (``QUIET_CPU``), at most SETTLE_MAX_S."""
    proc = psutil.Process(pid)
    t0 = last_t = time.perf_counter()
    last = _cpu_s(proc)
    while time.perf_counter() - t0 < SETTLE_MAX_S:
        await asyncio.sleep(0.5)
        now, now_t = _cpu_s(proc), time.perf_counter()
        if (now - last) / (now_t - last_t) < QUIET_CPU:
            break
        last, last_t = now, now_t
    return round(time.perf_counter() - t0, 2)


async def _open(context, url: str, heading: str, charts: int, section: str | None) -> dict:
    """A new tab at ``url``, timed from navigation until rendered; closed after."""
    page = await context.new_page()
    done = track_scripts(page)
    t0 = time.perf_counter()
    try:
        await page.goto(url, wait_until="commit", timeout=NAV_TIMEOUT_S * 1000)
        await page.wait_for_function(_RENDERED_JS, arg=[heading, charts], polling=50,
                                     timeout=NAV_TIMEOUT_S * 1000)
        if section:
            await page.wait_for_function(_SECTION_JS, arg=[section, charts], polling=50,
                                         timeout=NAV_TIMEOUT_S * 1000)
        end = time.perf_counter()
        return {"seconds": end - t0, "server_s": _server_part(done, t0, end),
                "errors": await page.evaluate(_ERROR_TEXT_JS)}
    except Exception as e:  # not rendered in time, or the page crashed
        await _photograph(page, "address-" + url.rsplit("/", 1)[-1].replace("?", "-"))
        return {"seconds": time.perf_counter() - t0, "server_s": None,
                "errors": [f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"]}
    finally:
        await page.close()


class _App:
    """One app (the dashboard over ``db``, or the floor) on its own fixed port."""

    def __init__(self, name: str, db: Path | None, script: Path | None, warm: tuple,
                 work: Path):
        self.name, self.db, self.script, self.warm, self.work = name, db, script, warm, work
        self.port = free_port()
        self.memory: list[dict] = []
        self.starts = 0

    def start(self):
        self.starts += 1
        return start_server(self.db, self.work / f"address-{self.name}.log", timeout=300,
                            script=self.script, port=self.port)

    def stop(self, srv) -> None:
        mem = srv.stop()
        self.memory.append(mem)

    @property
    def peak_mb(self) -> float:
        return max((max(m["peak_rss_mb"], m["vm_hwm_mb"] or 0) for m in self.memory),
                   default=0.0)


async def _fresh_visit(context, app: _App, path: str, heading: str, charts: int,
                       section: str | None) -> dict:
    srv = app.start()
    try:
        w_url, w_heading, w_charts = app.warm
        warm = await _open(context, f"{srv.url}/{w_url}", w_heading, w_charts, None)
        settled = await _settle(srv.proc.pid)
        v = await _open(context, f"{srv.url}/{path}", heading, charts, section)
    finally:
        app.stop(srv)
    v["warm_errors"] = warm["errors"]
    v["settle_s"] = settled
    return v


async def _prime_browser(context, app: _App, chart_view: tuple | None) -> None:
    """The app's scripts into the browser's cache, and run once (compiled code is kept only
    for scripts that ran): what a returning viewer's browser holds. The server is discarded."""
    srv = app.start()
    try:
        page = await context.new_page()
        w_url, w_heading, w_charts = app.warm
        await page.goto(f"{srv.url}/{w_url}", wait_until="commit")
        await page.wait_for_function(_RENDERED_JS, arg=[w_heading, w_charts],
                                     timeout=NAV_TIMEOUT_S * 1000)
        await warm_scripts(page, srv.url)
        await page.close()
        if chart_view:
            await _open(context, f"{srv.url}/{chart_view[0]}", *chart_view[1:], None)
    finally:
        app.stop(srv)


def _summary(visits: list[dict]) -> dict:
    secs = [v["seconds"] for v in visits]
    return {"runs_s": [round(s, 3) for s in secs],
            "median_s": round(statistics.median(secs), 3) if secs else None,
            "first_s": round(secs[0], 3) if secs else None,  # round 1: never asked before
            "server_s": [v["server_s"] for v in visits],
            "settle_s": [v["settle_s"] for v in visits],
            "errors": [e for v in visits for e in v["errors"]
                       + [f"(the server's first page) {w}" for w in v["warm_errors"]]]}


async def _against_floor(db: Path, pages: dict, views: list[str], work: Path,
                         repeat: int) -> dict:
    from playwright.async_api import async_playwright

    warm = next(u for u, info in pages.items() if not info["requests"])
    dash = _App("dashboard", db, None, (warm, pages[warm]["heading"], pages[warm]["charts"]),
                work)
    floor = _App("floor", None, FLOOR_APP, ("", FLOOR_HEADING, 1), work)
    charted = next((u for u in views if pages[u]["charts"]), None)
    # No view prepared from an earlier run: round 1 is every view's first visit.
    db.with_name(db.name + ".prepared").unlink(missing_ok=True)
    offsite: list = []
    runs: dict[str, list[dict]] = {FLOOR: [], **{u: [] for u in views}}
    t0 = time.perf_counter()
    async with async_playwright() as p:
        browser = await _launch(p)
        context = await _context(browser, offsite)
        await _prime_browser(context, floor, None)
        await _prime_browser(context, dash, (charted, pages[charted]["heading"],
                                             pages[charted]["charts"]) if charted else None)
        for r in range(repeat):
            k = r * len(views) // max(repeat, 1)
            order = views[k:] + views[:k]
            for i, url in enumerate(order):
                if i % FLOOR_EVERY == 0:
                    say(f"address round {r + 1}: the floor")
                    runs[FLOOR].append(await _fresh_visit(context, floor, "", FLOOR_HEADING,
                                                          1, None))
                say(f"address round {r + 1}: /{url}")
                info = pages[url]
                runs[url].append(await _fresh_visit(context, dash, url, info["heading"],
                                                    info["charts"], info.get("section")))
        await context.close()
        await browser.close()
    return _verdicts(runs, views, dash, floor, offsite, repeat, time.perf_counter() - t0)


def _verdicts(runs: dict, views: list[str], dash: _App, floor: _App, offsite: list,
              repeat: int, seconds: float) -> dict:
    fl = _summary(runs[FLOOR])
    limit = round(fl["median_s"] + MARGIN_S, 3)
    out = {}
    for url in views:
        s = _summary(runs[url])
        s["limit_s"] = limit
        s["over_floor_s"] = round(s["median_s"] - fl["median_s"], 3)
        s["first_over_floor_s"] = round(s["first_s"] - fl["median_s"], 3)
        s["met"] = s["median_s"] <= limit and not s["errors"]
        out[url] = s
    return {"repeat": repeat, "margin_s": MARGIN_S, "floor": fl, "limit_s": limit,
            "views": out, "every_view_within_floor": all(v["met"] for v in out.values()),
            "dashboard_server_peak_mb": dash.peak_mb, "floor_server_peak_mb": floor.peak_mb,
            "server_starts": dash.starts + floor.starts,
            "memory_limit_mb": MEMORY_LIMIT_MB,
            "server_under_limit": dash.peak_mb < MEMORY_LIMIT_MB,
            "offsite_requests": offsite[:20], "seconds": round(seconds, 1)}


def against_floor(db: Path, pages: dict, work: Path, repeat: int = 3,
                  views: list[str] | None = None) -> dict:
    """Each of ``views`` (default: every page and section in ``pages``, bench/capture.py's
    record) and the floor, ``repeat`` visits each by address; medians and verdicts."""
    views = list(views if views is not None else pages)
    return asyncio.run(_against_floor(db, pages, views, work, repeat))


def print_verdicts(result: dict, log) -> None:
    log(f"the floor (Streamlit + one Plotly chart): {result['floor']['median_s']:.2f} s "
        f"(median of {len(result['floor']['runs_s'])}); limit {result['limit_s']:.2f} s")
    for url, v in result["views"].items():
        why = f"; errors: {v['errors'][:2]}" if v["errors"] else ""
        log(f"{'met   ' if v['met'] else 'MISSED'} /{url} by its address: {v['median_s']:.2f} s"
            f" (floor + {v['over_floor_s']:+.2f} s; its first visit, not prepared: "
            f"{v['first_over_floor_s']:+.2f} s){why}")
