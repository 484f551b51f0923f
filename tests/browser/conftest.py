"""A real dashboard server on a free port, over a demo database, and a locked-down Chromium."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "tests" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(proc, url, log: Path, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early. Its output:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError(f"server did not start in {timeout}s. Its output:\n{log.read_text()}")


def _demo_database(folder: Path) -> Path:
    """The demo cohort (seed 0) in ``folder/demo.duckdb``, with its person key: a copy of the
    one built per session (tests/conftest.py ``demo_copy``)."""
    from conftest import demo_copy

    return demo_copy(folder / "demo.duckdb")


def start_server(db: Path):
    """A dashboard server over ``db`` on a free port; returns (process, url)."""
    port = _free_port()
    env = dict(os.environ, A911_DB=str(db))
    # Output goes to a file, not a pipe: a pipe nobody reads fills up and stalls the server.
    log = db.with_suffix(".server.log")
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"),
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless",
             "true"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    _wait_for_server(proc, url, log)
    return proc, url


def stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    return _demo_database(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="session")
def server(demo_db):
    """A read-mostly server shared by tests that do not change the data."""
    proc, url = start_server(demo_db)
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    """A server over a database of its own, for tests that import or undo."""
    db = _demo_database(tmp_path_factory.mktemp("own"))
    proc, url = start_server(db)
    yield url
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A page whose requests to any host but localhost are blocked and recorded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.offsite_requests = []
    # Plotly.js logs what it cannot use in a figure ("WARN: Invalid color specifier ...") and
    # draws a default instead: each is a figure the charts module built wrong.
    pg.plotly_warnings = []
    pg.on("console", lambda m: m.text.startswith("WARN:") and pg.plotly_warnings.append(m.text))

    def guard(route):
        host = route.request.url.split("/")[2].split(":")[0] if "://" in route.request.url else ""
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            return route.continue_()
        pg.offsite_requests.append(route.request.url)
        return route.abort()

    pg.route("**/*", guard)
    yield pg
    context.close()


def screenshot(pg, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
