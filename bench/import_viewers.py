"""Viewers reading the dashboard while an import runs through the Data page's wizard: each
viewer moves from page to page by the sidebar; the wizard imports a large file; the log keeps
every visit (bench/run.py's import-while-serving step; bench/handover.py uses its log).

Split from bench/browser.py (the server, visits and page timings), which it builds on.
"""
from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from browser import (ARRIVAL_S, NAV_TIMEOUT_S, VIEWER_POLL_MS, _FAILED_JS, _context, _launch,
                     _photograph, default_page, go, say, track_scripts, visit)


@dataclass
class ImportPlan:
    csv: Path
    jurisdiction: str
    timezone: str
    rows: int


@dataclass
class _Log:
    visits: list = field(default_factory=list)  # (start, end, page, seconds, error)
    marks: dict = field(default_factory=dict)


async def _viewer(i: int, browser, base: str, pages: dict, log: _Log, stop: asyncio.Event,
                  offsite: list, think: tuple[float, float], opened: list):
    """One viewer: opens the dashboard at a page, then moves from page to page by the sidebar,
    reading each page for a while (``think``: uniform seconds, seeded per viewer)."""
    context = await _context(browser, offsite)
    page = await context.new_page()
    page._done = track_scripts(page)
    order = [u for u, info in pages.items() if info["requests"]]
    default = default_page(pages)
    rng = random.Random(i)
    k = i
    try:
        # People do not all open the dashboard in the same second: one arrives every
        # ``ARRIVAL_S``; twenty full page loads at once would measure Chromium on 2 cores.
        await asyncio.sleep(i * ARRIVAL_S)
        url = order[k % len(order)]
        start = time.perf_counter()
        v = await visit(page, f"{base}/{url}", pages[url]["heading"], pages[url]["charts"],
                        polling=VIEWER_POLL_MS)
        log.visits.append((start, time.perf_counter(), url, v["seconds"], v["error"], "opened",
                           v.get("server_s")))
        opened.append(i)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), rng.uniform(*think))
                break
            except asyncio.TimeoutError:
                pass
            k += 1
            url = order[k % len(order)]
            start = time.perf_counter()
            v = await go(page, url, pages, default, polling=VIEWER_POLL_MS)
            log.visits.append((start, time.perf_counter(), url, v["seconds"], v["error"],
                               "sidebar", v.get("server_s")))
            if v["error"]:  # start again from a fresh load, as a person would reload
                start = time.perf_counter()
                v = await visit(page, f"{base}/{url}", pages[url]["heading"],
                                pages[url]["charts"], polling=VIEWER_POLL_MS)
                log.visits.append((start, time.perf_counter(), url, v["seconds"], v["error"],
                                   "opened", v.get("server_s")))
    finally:
        await context.close()


_IDLE_JS = ("() => !document.querySelector(\"[data-testid='stStatusWidget']\")"
            "?.getClientRects().length")
WIZARD_STEP_S = 300  # one step of the wizard (the check or the import of a large file)
CLICK_TIMEOUT_S = 30  # for the button to be clickable; it may be gone: its step is done


async def _upload(browser, base: str, plan: ImportPlan, log: _Log, offsite: list):
    """The Data page's wizard, as a person would use it: new jurisdiction, file, check, import."""
    context = await _context(browser, offsite)
    page = await context.new_page()
    page.set_default_timeout(WIZARD_STEP_S * 1000)
    try:
        await page.goto(f"{base}/data")
        await page.get_by_text("1. What are you importing?").wait_for()
        await _choose(page, "For the jurisdiction", "+ a new jurisdiction")
        name = page.get_by_label("Name of the new jurisdiction")
        await name.fill(plan.jurisdiction)
        await name.press("Enter")
        await _choose(page, "Its time zone", plan.timezone)
        say("uploading")
        log.marks["upload_start"] = time.perf_counter()
        check = page.get_by_role("button", name="Check the file (nothing is saved yet)")
        commit = page.get_by_role("button",
                                  name=f"Import {plan.rows:,} rows into {plan.jurisdiction}")
        await _choose_file(page, plan.csv, check)
        say("checking")
        log.marks["check_start"] = time.perf_counter()
        await _click_until(page, check, commit)
        say("importing")
        log.marks["commit_start"] = time.perf_counter()
        saved = page.get_by_text(re.compile(r"Import #\d+ is saved")).first
        await _click_until(page, commit, saved)
        log.marks["committed"] = time.perf_counter()
        errors = await page.evaluate(_FAILED_JS)
        if errors:
            raise RuntimeError("the Data page showed an error during the import")
    except Exception:
        await _photograph(page, "upload")
        raise
    finally:
        await context.close()


async def _choose_file(page, csv: Path, ready, tries: int = 4):
    """Give the uploader the file once the app is idle; again if a rerun still drawing the
    previous step replaced the uploader and the file was dropped."""
    chip = page.locator("[data-testid='stFileUploader']").get_by_text(csv.name, exact=True)
    for _ in range(tries):
        await page.wait_for_function(_IDLE_JS, polling=200)
        if not await chip.count():  # a slow earlier try may have taken it meanwhile
            await page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
                str(csv))
        deadline = time.perf_counter() + 60  # a loaded machine (CI) can be slow to show it
        while time.perf_counter() < deadline and not await chip.count():
            await asyncio.sleep(0.5)
        if await chip.count():
            await ready.wait_for()
            return
    raise RuntimeError(f"the uploader did not take {csv.name} after {tries} tries")


async def _click_until(page, button, outcome, tries: int = 5):
    """Click ``button`` until ``outcome`` shows. A click that lands while the app redraws
    (other sessions keep the server busy) can be lost: click again once the app is idle.

    On a loaded machine a click that was not lost can look lost (the run it starts takes
    seconds to show), so the outcome is looked for before every click, and a click that
    finds the button gone (the step finished meanwhile) is not a failure.
    """
    for _ in range(tries):
        await page.wait_for_function(_IDLE_JS, polling=200)
        if await _shown(outcome):
            return
        try:
            await button.click(timeout=CLICK_TIMEOUT_S * 1000)
        except Exception:
            if await _shown(outcome):
                return
            continue
        deadline = time.perf_counter() + WIZARD_STEP_S
        while time.perf_counter() < deadline:
            if await _shown(outcome):
                return
            await asyncio.sleep(0.5)
            if await page.evaluate(_IDLE_JS) and await _still_there(button) \
                    and not await outcome.count():
                await asyncio.sleep(2)  # idle, button still there: was the click lost?
                if await page.evaluate(_IDLE_JS) and not await outcome.count():
                    break
    if await _shown(outcome):
        return
    raise RuntimeError(f"no {outcome} after {tries} clicks")


async def _shown(locator) -> bool:
    try:
        return bool(await locator.count()) and await locator.is_visible()
    except Exception:
        return False


async def _still_there(button) -> bool:
    """The button is on the page and enabled (without waiting for it: it may just be gone)."""
    try:
        return bool(await button.count()) and await button.is_enabled(timeout=1000)
    except Exception:
        return False


async def _choose(page, label: str, option: str):
    box = page.get_by_role("combobox", name=label)
    await box.click()
    await box.fill(option)
    await page.get_by_role("option", name=option, exact=True).click()


async def _viewers_during_import(base: str, pages: dict, plan: ImportPlan, viewers: int,
                                 lead_s: float, tail_s: float, think: tuple[float, float],
                                 protocol: bool = False) -> dict:
    from playwright.async_api import async_playwright

    import sessions

    log, offsite, stop, opened = _Log(), [], asyncio.Event(), []
    order = [u for u, info in pages.items() if info["requests"]]
    async with async_playwright() as p:
        browser = await _launch(p)
        log.marks["viewers_start"] = time.perf_counter()
        if protocol:
            tasks = [asyncio.create_task(sessions.viewer(i, base, order, log, stop, think,
                                                         ARRIVAL_S, opened))
                     for i in range(viewers)]
        else:
            tasks = [asyncio.create_task(_viewer(i, browser, base, pages, log, stop, offsite,
                                                 think, opened))
                     for i in range(viewers)]
        # Everyone has the dashboard open before the import starts (or time is up).
        deadline = time.perf_counter() + viewers * ARRIVAL_S + 2 * NAV_TIMEOUT_S
        while len(opened) < viewers and time.perf_counter() < deadline:
            await asyncio.sleep(0.2)
        log.marks["viewers_open"] = time.perf_counter()
        say(f"{len(opened)} viewers have the dashboard open")
        await asyncio.sleep(lead_s)
        upload_error = None
        try:
            await _upload(browser, base, plan, log, offsite)
        except Exception as e:
            upload_error = f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"
        log.marks.setdefault("committed", time.perf_counter())
        await asyncio.sleep(tail_s)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await browser.close()
    out = _summarise(log, upload_error, offsite, viewers)
    out["think_s"] = list(think)
    out["clients"] = "websocket sessions" if protocol else "Chromium tabs"
    return out


def _summarise(log: _Log, upload_error, offsite, viewers) -> dict:
    m = log.marks
    t0 = m["viewers_start"]
    begin = m.get("upload_start", t0)
    end = m["committed"]
    # Every visit that overlapped the import's work (upload, check, commit), and the visits
    # that started within the tail after it (caches refilling on the new data version).
    during = [v for v in log.visits if v[1] >= begin and v[0] <= end]
    after = [v for v in log.visits if v[0] > end]
    window = during + after

    def stats(vs):
        secs = sorted(v[3] for v in vs)
        server = sorted(v[6] for v in vs if v[6] is not None and not v[4])
        return {"visits": len(vs), "errors": sum(1 for v in vs if v[4]),
                "from_sidebar": sum(1 for v in vs if v[5] == "sidebar"),
                "server_p50_s": round(_pct(server, 50), 3) if server else None,
                "server_p95_s": round(_pct(server, 95), 3) if server else None,
                "p50_s": round(_pct(secs, 50), 3) if secs else None,
                "p95_s": round(_pct(secs, 95), 3) if secs else None,
                "max_s": round(secs[-1], 3) if secs else None}

    return {"viewers": viewers, "import_error": upload_error,
            "all_visits": {**stats(log.visits),
                           "errors_seen": sorted({str(v[4]) for v in log.visits if v[4]})[:3]},
            "marks_s": {k: round(v - t0, 2) for k, v in m.items()},
            "import_upload_s": _span(m, "upload_start", "check_start"),
            "import_check_s": _span(m, "check_start", "commit_start"),
            "import_commit_s": _span(m, "commit_start", "committed"),
            "during_import": stats(during), "after_commit": stats(after),
            "window": stats(window),
            "error_examples": sorted({v[4] for v in window if v[4]})[:5],
            "offsite_requests": offsite[:5]}


def _span(m, a, b):
    return round(m[b] - m[a], 2) if a in m and b in m else None


def _pct(sorted_values, q):
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def viewers_during_import(base: str, pages: dict, plan: ImportPlan, viewers: int = 20,
                          lead_s: float = 10, tail_s: float = 15,
                          think: tuple[float, float] = (5, 15), protocol: bool = False
                          ) -> dict:
    return asyncio.run(_viewers_during_import(base, pages, plan, viewers, lead_s, tail_s,
                                              think, protocol))
