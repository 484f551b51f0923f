"""``python -m data import`` while the real dashboard runs: a streamlit server subprocess on a
free port over a database of its own, with a viewer session open (which makes the server open
the database, and with it the hand-over). The command line's output, exit status and the rows
are checked; the database is read directly once the server has stopped."""
from __future__ import annotations

import asyncio
import os
import pty
import select
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from data import handover
from data.connection import connect

from browser.conftest import start_server, stop_server
from conftest import ROOT
from test_handover import HEADER, J, PROFILE, calls

pytestmark = pytest.mark.slow
BIG = 300_000


def _cli(db, *args, **kw):
    return subprocess.run([sys.executable, "-m", "data", *args, "--db", str(db)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, **kw)


def _view(url: str, page: str = "") -> dict:
    """One viewer session opening ``page`` over the websocket, as bench/sessions.py does."""
    import websockets

    from bench.sessions import _page

    async def run():
        async with websockets.connect(url.replace("http://", "ws://") + "/_stcore/stream",
                                      subprotocols=["streamlit"], max_size=None) as ws:
            return await _page(ws, page)
    # On a thread of its own: the browser tests' sync Playwright, when it ran earlier in the
    # same pytest process, leaves an event loop running on this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    folder = tmp_path_factory.mktemp("handover")
    db = folder / "db" / "cohort.duckdb"
    (folder / "calls.toml").write_text(PROFILE)
    seed = _cli(db, "import", str(calls(folder / "seed.csv", 3, "S")), "--kind", "calls",
                "--jurisdiction", J, "--profile", str(folder / "calls.toml"))
    assert seed.returncode == 0, seed.stderr
    proc, url = start_server(db)
    try:
        assert _view(url)["error"] is None
        deadline = time.time() + 30
        while not handover.socket_path(db).exists() and time.time() < deadline:
            time.sleep(0.2)
        yield db, folder, url, proc
    finally:
        stop_server(proc)


def _killed_mid_import(db, folder) -> bytes:
    """Start an import of BIG calls, SIGKILL the command line once the server reports that it
    validates, and return what the command line showed."""
    master, slave = pty.openpty()  # the progress line is shown on a terminal only
    proc = subprocess.Popen(
        [sys.executable, "-m", "data", "import", str(folder / "big.csv"), "--kind", "calls",
         "--jurisdiction", J, "--profile", str(folder / "calls.toml"), "--db", str(db)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    seen, deadline = b"", time.monotonic() + 120
    try:
        while b"validating" not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 1)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
        assert b"validating" in seen and proc.poll() is None, seen
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert proc.returncode == -signal.SIGKILL
    return seen


def test_import_while_the_dashboard_runs(dashboard):
    db, folder, url, _ = dashboard
    toml = str(folder / "calls.toml")
    good = calls(folder / "april.csv", 5, "A")
    first = _cli(db, "import", str(good), "--kind", "calls", "--jurisdiction", J,
                 "--profile", toml)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Import #2: april.csv as calls for Springfield\n"
                                   "  rows read 5; inserted 5; updated 0;"), first.stdout
    again = _cli(db, "import", str(good), "--kind", "calls", "--jurisdiction", J,
                 "--profile", toml)
    assert again.returncode == 0
    assert again.stdout == ("april.csv was already imported as import #2 for Springfield "
                            "(calls); nothing changed.\n")

    rows = [HEADER.strip()] + [f"B{i},{'garbage ' + str(i) if i % 4 else '2024-04-01 10:00'},"
                               "WELFARE CHECK,2024-04-01 10:03,2024-04-01 10:20"
                               for i in range(20)]
    (folder / "bad.csv").write_text("\n".join(rows) + "\n")
    bad = _cli(db, "import", str(folder / "bad.csv"), "--kind", "calls", "--jurisdiction", J,
               "--profile", toml)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.startswith("Error: bad.csv: 15 of 20 rows would be rejected"), bad.stderr
    assert "row 3, column 'Received': cannot read 'garbage 1'" in bad.stderr
    assert "Traceback" not in bad.stderr

    calls(folder / "big.csv", BIG, "K")
    _killed_mid_import(db, folder)
    # The server notices, rolls the import back and is ready for the next one: the same file
    # then imports whole as import #3 (the killed one left neither rows nor a ledger entry).
    whole = _cli(db, "import", str(folder / "big.csv"), "--kind", "calls", "--jurisdiction", J,
                 "--profile", toml)
    assert whole.returncode == 0, whole.stderr
    assert whole.stdout.startswith(f"Import #3: big.csv as calls for Springfield\n"
                                   f"  rows read {BIG:,}; inserted {BIG:,};"), whole.stdout
    assert _view(url)["error"] is None  # the dashboard serves on


def test_the_database_holds_exactly_what_the_summaries_said(dashboard):
    """Read after the server stops (the one writer): every row of the three imports, nothing of
    the bad file or the killed run, and no upload or socket left behind."""
    db, folder, _, proc = dashboard
    stop_server(proc)
    con = connect(db)
    try:
        ledger = con.execute("SELECT import_id, status, file_name, rows_inserted FROM imports "
                             "ORDER BY 1").fetchall()
        assert ledger == [(1, "committed", "seed.csv", 3), (2, "committed", "april.csv", 5),
                          (3, "committed", "big.csv", BIG)]
        assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 3 + 5 + BIG
        assert con.execute("SELECT count(*) FROM calls WHERE call_id LIKE 'B%'").fetchone()[0] == 0
    finally:
        con.close()
    assert not list((db.parent / "uploads").glob("upload-*"))
    assert not handover.socket_path(db).exists()
