"""The dashboard in a real browser: a `streamlit run` server, headless Chromium, viewers.

Everything the browser phase of the benchmark needs: starting and stopping the server on a free
port over the benchmark database, sampling its resident memory, timing each page from
navigation to rendered charts, trying a command-line import while the server runs, and twenty
viewer sessions browsing while an import commits through the Data page.

"Rendered" = the page's heading is visible, as many ``.js-plotly-plot`` elements are in the main
area as the page draws charts (counted by bench/capture.py, not listed here; the sidebar's hidden
chart that starts Plotly early, ui/preload.py, is not one) and Streamlit's running indicator is
not visible. Requests to any host but this machine are blocked.
"""
from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
NAV_TIMEOUT_S = 60.0
# Twenty pages polling every 50 ms would cost the shared CPU noticeably; 100 ms is fine enough
# for page times of a second or more.
VIEWER_POLL_MS = 100
ARRIVAL_S = 2.0
SHOTS: Path | None = None  # where a page that failed to render is photographed

_RENDERED_JS = """([heading, charts]) => {
  const visible = el => !!el && el.getClientRects().length > 0
    && getComputedStyle(el).visibility !== 'hidden';
  const heads = [...document.querySelectorAll('h1, h2, h3')];
  const headed = heads.some(h => visible(h) && h.innerText.trim().startsWith(heading));
  const plots = document.querySelectorAll("[data-testid='stMain'] .js-plotly-plot").length;
  const running = visible(document.querySelector("[data-testid='stStatusWidget']"));
  return headed && plots >= charts && !running;
}"""
# A section of a page (ui/sections.py: a tab that runs only when open): its tab is selected and
# the one tab panel Streamlit keeps in the page holds the section's charts.
_SECTION_JS = """([label, charts]) => {
  const tab = [...document.querySelectorAll("[role='tab']")]
    .find(t => t.innerText.trim() === label);
  if (!tab || tab.getAttribute('aria-selected') !== 'true') return false;
  const panel = document.getElementById(tab.getAttribute('aria-controls'));
  const plots = panel ? panel.querySelectorAll('.js-plotly-plot').length : 0;
  const status = document.querySelector("[data-testid='stStatusWidget']");
  const running = !!status && status.getClientRects().length > 0;
  return plots >= charts && !running;
}"""
_FAILED_JS = """() => document.querySelectorAll(
  "[data-testid='stException'], [data-testid='stAlertContentError']").length"""


def say(msg: str) -> None:
    print(f"[browser {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------
# The server and its memory
# --------------------------------------------------------------------------------------------

class MemorySampler:
    """Peak resident memory of a process and its children, sampled every 0.2 s, plus the
    kernel's own high-water mark (VmHWM) of the process itself."""

    def __init__(self, pid: int):
        self.proc = psutil.Process(pid)
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.2)

    def sample(self) -> int:
        try:
            rss = self.proc.memory_info().rss + sum(
                c.memory_info().rss for c in self.proc.children(recursive=True))
        except psutil.Error:
            return self.peak_rss
        self.peak_rss = max(self.peak_rss, rss)
        return rss

    def high_water_mb(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            return None
        return None

    def stop(self) -> dict:
        hwm = self.high_water_mb()
        self._stop.set()
        self._thread.join(timeout=2)
        return {"peak_rss_mb": round(self.peak_rss / 2**20, 1), "vm_hwm_mb": hwm}


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    memory: MemorySampler
    log: Path

    def stop(self) -> dict:
        mem = self.memory.stop()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return mem


def start_server(db: Path | None, log: Path, timeout: float = 120, script: Path | None = None,
                 port: int | None = None, root: Path = ROOT,
                 extra_env: dict[str, str] | None = None) -> Server:
    """``streamlit run`` of ``script`` (the dashboard of the checkout ``root``) over ``db``, on
    ``port`` (a free one), with ``extra_env`` added to this process's environment. A fixed
    port lets successive fresh servers share the browser's cache of their scripts."""
    port = port or free_port()
    env = dict(os.environ, **(extra_env or {}), **({"A911_DB": str(db)} if db else {}))
    out = open(log, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script or root / "dashboard.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the dashboard server exited early; see {log}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return Server(proc, url, MemorySampler(proc.pid), log)
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"the dashboard server did not start in {timeout:.0f} s; see {log}")


def cli_import_while_serving(cmd: list[str]) -> dict:
    """What a command-line import does while the dashboard holds the database open."""
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    # The error's last line, or the summary's first (data/handover.py hands the file over).
    message = (r.stderr.strip().splitlines()[-1:] if r.returncode
               else r.stdout.strip().splitlines()[:1])
    return {"exit_code": r.returncode, "seconds": round(time.perf_counter() - t0, 2),
            "message": message[0][:400] if message else ""}


# --------------------------------------------------------------------------------------------
# Pages in the browser
# --------------------------------------------------------------------------------------------

async def _launch(p):
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing (make chromium installs it)")
    # Offsite requests go to a proxy that does not exist, so they fail; only loopback is
    # reached directly. Blocking them with Playwright's request routing instead would switch
    # off the browser's HTTP cache, and every page load would fetch Streamlit's and Plotly's
    # scripts (8 MB) again, which no returning viewer's browser does (they are served as
    # immutable for a year).
    return await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                   proxy={"server": "http://127.0.0.1:9",
                                          "bypass": "127.0.0.1,localhost"})


async def _context(browser, offsite: list):
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})

    def note(request):
        url = request.url
        host = url.split("/")[2].split(":")[0] if "://" in url else ""
        if not url.startswith(("data:", "blob:")) and host not in ("127.0.0.1", "localhost"):
            offsite.append(url)  # it fails at the proxy (see _launch); recorded to be reported

    context.on("request", note)
    return context


async def visit(page, url: str, heading: str, charts: int, polling: int = 50) -> dict:
    """Navigate and wait until rendered; seconds from navigation, the server's part of them
    (when the page's websocket is tracked) and whether it failed."""
    t0 = time.perf_counter()
    try:
        await page.goto(url, wait_until="commit", timeout=NAV_TIMEOUT_S * 1000)
        await page.wait_for_function(_RENDERED_JS, arg=[heading, charts], polling=polling,
                                     timeout=NAV_TIMEOUT_S * 1000)
        return await _rendered(page, t0, time.perf_counter())
    except Exception as e:  # a timeout or a crashed page: counted as an error
        await _photograph(page, url.rsplit("/", 1)[-1])
        return {"seconds": time.perf_counter() - t0,
                "error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"}


async def _rendered(page, t0: float, end: float) -> dict:
    failed = await page.evaluate(_FAILED_JS)
    return {"seconds": end - t0, "server_s": _server_part(getattr(page, "_done", None), t0, end),
            "error": f"{failed} error element(s)" if failed else None}


def track_scripts(page) -> list:
    """Times at which the server said a script run finished (Streamlit's ``script_finished``
    message on the page's websocket): with them a page time splits into the server's part
    (script, queries, sending) and the browser's (drawing)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    done: list[float] = []

    def frame(payload):
        if isinstance(payload, (bytes, bytearray)) and len(payload) < 256:
            try:
                if ForwardMsg.FromString(bytes(payload)).WhichOneof("type") == "script_finished":
                    done.append(time.perf_counter())
            except Exception:  # not a ForwardMsg: ignore
                pass

    page.on("websocket", lambda ws: ws.on("framereceived", frame))
    return done


def _server_part(done: list | None, t0: float, t_end: float) -> float | None:
    if not done:
        return None
    ends = [t for t in done if t0 <= t <= t_end]
    return round(ends[-1] - t0, 3) if ends else None


async def _photograph(page, name: str) -> None:
    if SHOTS is None:
        return
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"failed-{name}-{time.time():.0f}.png"),
                              full_page=True, timeout=10000)
    except Exception:  # the page is gone: nothing to photograph
        pass


_CLICK_JS = """(path) => {
  const links = [...document.querySelectorAll("[data-testid='stSidebarNav'] a")];
  const want = links.find(a => new URL(a.href).pathname === '/' + path)
    || links.find(a => new URL(a.href).pathname === '/');
  if (!want) return false;
  want.click();
  return true;
}"""


async def navigate(page, path: str, heading: str, charts: int, default: str,
                   polling: int = 50) -> dict:
    """Click the page's link in the sidebar (the default page's link is "/") and wait until the
    new page is rendered: what a viewer does after opening the dashboard once."""
    t0 = time.perf_counter()
    try:
        target = "" if path == default else path
        if not await page.evaluate(_CLICK_JS, target):
            raise RuntimeError(f"no sidebar link to /{target}")
        await page.wait_for_function(_RENDERED_JS, arg=[heading, charts], polling=polling,
                                     timeout=NAV_TIMEOUT_S * 1000)
        return await _rendered(page, t0, time.perf_counter())
    except Exception as e:
        await _photograph(page, path)
        return {"seconds": time.perf_counter() - t0,
                "error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"}


def default_page(pages: dict) -> str:
    """The router's default page (served at "/"): the first page declared."""
    return next(u for u, info in pages.items() if not info.get("view_of"))


async def go(page, url: str, pages: dict, default: str, polling: int = 50) -> dict:
    """Reach ``url`` as a viewer does: a page from the sidebar; a section of a page (the page
    itself is its first section, a ``view_of`` entry another) by its tab, after the page from
    the sidebar when another page is open (one visit: both clicks are timed). The tab is
    clicked even when the page comes back on another section: the open tab is in the address,
    and the address outlives a page switch."""
    info = pages[url]
    section = info.get("section")
    if info.get("view_of") and not section:
        # A page under other filters (the Impact page with one jurisdiction chosen): no
        # sidebar link leads there, so it is opened by its address, a full page load.
        origin = "/".join(page.url.split("/", 3)[:3])
        return await visit(page, f"{origin}/{url}", info["heading"], info["charts"], polling)
    if not section:
        return await navigate(page, url, info["heading"], info["charts"], default, polling)
    base = info.get("view_of") or url
    t0 = time.perf_counter()
    here = (await page.evaluate("() => location.pathname")).strip("/")
    if here not in ((base,) if base != default else (base, "")):
        first = await navigate(page, base, pages[base]["heading"], 0, default, polling)
        if first["error"]:
            return {**first, "seconds": time.perf_counter() - t0}
    try:
        tab = page.get_by_role("tab", name=section, exact=True)
        if await tab.get_attribute("aria-selected", timeout=NAV_TIMEOUT_S * 1000) != "true":
            await tab.click(timeout=NAV_TIMEOUT_S * 1000)
        await page.wait_for_function(_SECTION_JS, arg=[section, info["charts"]],
                                     polling=polling, timeout=NAV_TIMEOUT_S * 1000)
        return await _rendered(page, t0, time.perf_counter())
    except Exception as e:
        await _photograph(page, url.replace("?", "-"))
        return {"seconds": time.perf_counter() - t0,
                "error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"}


async def _in_app_times(base: str, pages: dict, opener: str, targets: list[str],
                        repeat: int) -> dict:
    """Open the dashboard at ``opener`` (a page with charts, so Plotly.js is loaded as in any
    session), then reach each of ``targets`` from the sidebar while its results are not cached
    on the server yet ("first"), then ``repeat`` rounds over every page (cached)."""
    from playwright.async_api import async_playwright

    offsite: list = []
    default = default_page(pages)
    firsts, rounds = {}, []
    async with async_playwright() as p:
        browser = await _launch(p)
        context = await _context(browser, offsite)
        page = await context.new_page()
        page._done = track_scripts(page)
        info = pages[opener]
        opened = await visit(page, f"{base}/{opener}", info["heading"], info["charts"])
        for url in targets:
            say(f"sidebar to /{url}")
            firsts[url] = await go(page, url, pages, default)
        for _ in range(repeat):
            rounds.append({url: await go(page, url, pages, default) for url in pages})
        await context.close()
        await browser.close()
    out = {}
    for url in pages:
        again = [r[url] for r in rounds]
        first = firsts.get(url)
        out[url] = {"first_s": round(first["seconds"], 3) if first else None,
                    "first_server_s": first.get("server_s") if first else None,
                    "cached_median_s": round(statistics.median(v["seconds"] for v in again), 3)
                    if again else None, "charts": pages[url]["charts"],
                    "errors": [v["error"] for v in ([first] if first else []) + again
                               if v["error"]]}
    return {"opened": opener, "opened_s": round(opened["seconds"], 3),
            "opened_error": opened["error"], "pages": out, "offsite_requests": offsite}


def in_app_times(base: str, pages: dict, opener: str, targets: list[str], repeat: int) -> dict:
    return asyncio.run(_in_app_times(base, pages, opener, targets, repeat))


async def warm_scripts(page, base: str) -> int:
    """Put every script Streamlit serves into the browser's cache, as a viewer's earlier visits
    to any page would have (Plotly's is loaded only when a page first draws a chart), without
    asking the server for any page's results."""
    import streamlit

    names = sorted(p.name for p in (Path(streamlit.__file__).parent / "static" / "static" /
                                    "js").glob("*.js"))
    return await page.evaluate("""async ([base, names]) => {
      for (const n of names) { await (await fetch(base + '/static/js/' + n)).arrayBuffer(); }
      return names.length; }""", [base, names])


async def _deep_link_times(base: str, pages: dict, repeat: int, warm_query: str = "") -> dict:
    from playwright.async_api import async_playwright

    offsite: list = []
    out = {}
    async with async_playwright() as p:
        browser = await _launch(p)
        context = await _context(browser, offsite)
        page = await context.new_page()
        page._done = track_scripts(page)
        # Load the app's scripts into the browser cache and the sidebar's options into the
        # server's, as any earlier visit would; every page's own results stay uncached.
        warm = next(u for u, info in pages.items() if not info["requests"])
        await visit(page, f"{base}/{warm}", pages[warm]["heading"], pages[warm]["charts"])
        await warm_scripts(page, base)
        # ... and run them once, as a returning viewer's browser has (Chromium keeps compiled
        # code only for scripts it has run): a chart page under other filters (warm_query,
        # e.g. one jurisdiction), so the pages measured below, under the default filters,
        # still find none of their results in the server's cache.
        drawn = next((u for u, info in pages.items() if info["charts"]), None)
        if drawn and warm_query:
            await visit(page, f"{base}/{drawn}?{warm_query}", pages[drawn]["heading"],
                        pages[drawn]["charts"])
        for url, info in pages.items():
            say(f"opening /{url}")
            first = await visit(page, f"{base}/{url}", info["heading"], info["charts"])
            again = [await visit(page, f"{base}/{url}", info["heading"], info["charts"])
                     for _ in range(repeat)]
            errors = [v["error"] for v in [first, *again] if v["error"]]
            out[url] = {"first_s": round(first["seconds"], 3),
                        "first_server_s": first.get("server_s"),
                        "cached_median_s": round(statistics.median(
                            v["seconds"] for v in again), 3) if again else None,
                        "charts": info["charts"], "errors": errors}
        await context.close()
        await browser.close()
    return {"pages": out, "offsite_requests": offsite}


def deep_link_times(base: str, pages: dict, repeat: int, warm_query: str = "") -> dict:
    return asyncio.run(_deep_link_times(base, pages, repeat, warm_query))
