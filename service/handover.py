"""The server's side of the import hand-over (``data/handover.py``): imports from the command line
run inside the process that holds the database.

``Listener(db_path, cursor).start()`` writes a fresh token, binds the socket and answers each
connection on its own thread. A request is checked (token, then the file's place) before
anything is read; imports run one at a time (a second waits, and is told so), each on its own
cursor of the server's connection, through ``service.guarded`` as the local principal, exactly
as ``python -m data import`` does on its own: one transaction, audited, the summary returned.

Kill safety: a client that goes away (killed, Ctrl-C) cancels its import. A watcher notices the
closed socket and interrupts the cursor; a progress line that cannot be sent stops the import
too; either way the transaction rolls back and the database is as it was. A killed server rolls
back on DuckDB's next open, as always.
"""
from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
from contextlib import closing
from pathlib import Path

from data import handover
from data.errors import DataError
from data.profiles import parse_profile
from data.uploads import profiles_dir, remove_upload, uploads_dir
from service import guarded
from service.access import LOCAL

log = logging.getLogger(__name__)
_REQUEST_TIMEOUT_S = 30  # the client sends its one line at once; nobody holds a thread open


_REQUEST_FIELDS = ("kind", "jurisdiction", "dry_run", "file_name", "timezone", "area_property")


class Cancelled(Exception):
    """The client went away: stop the import (its transaction rolls back)."""


class Listener:
    def __init__(self, db_path, cursor):
        self.db_path, self.cursor = db_path, cursor
        self.token = ""
        self.path = handover.socket_path(db_path)
        self._server: socket.socket | None = None

    def start(self) -> Listener:
        self.token = handover.write_token(self.db_path)
        handover.private_dir(self.path.parent)
        self.path.unlink(missing_ok=True)  # left by a server that stopped: one holds the database
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is created 0600: no moment when others could connect
        try:
            server.bind(str(self.path))
        finally:
            os.umask(old)
        server.listen(8)
        self._server = server
        threading.Thread(target=self._accept, name="import-handover", daemon=True).start()
        atexit.register(self.stop)  # a server that stops leaves no socket to try
        log.info("taking imports from the command line at %s", self.path)
        return self

    def stop(self) -> None:
        if self._server is not None:
            try:  # wakes the thread blocked in accept() (close alone does not, on Linux)
                self._server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._server.close()
            self._server = None
            self.path.unlink(missing_ok=True)

    def _accept(self) -> None:
        while self._server is not None:
            try:
                conn, _ = self._server.accept()
            except OSError:  # closed by stop()
                return
            threading.Thread(target=self._serve, args=(conn,), name="import-handover-client",
                             daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn, conn.makefile("rwb") as stream:
                conn.settimeout(_REQUEST_TIMEOUT_S)
                request = handover.receive(stream)
                conn.settimeout(None)
                handover.send(stream, self.answer(request, stream, conn))
        except (OSError, ValueError, Cancelled):  # the client went away or sent no JSON
            log.warning("an import's client went away before its outcome was sent")

    def answer(self, request, stream, conn=None) -> dict:
        """The last message for ``request``: ``{"outcome": ...}`` or ``{"error": ...}``."""
        try:
            path = self.check(request)
        except handover.HandoverRefused as e:
            log.warning("import hand-over refused: %s", e)
            return {"error": str(e), "refused": True}
        temporary = path.parent == uploads_dir(self.db_path)
        try:
            # One write at a time with the Data page's (guarded.WRITES): say when it waits.
            if not guarded.WRITES.acquire(blocking=False):
                handover.send(stream, {"progress": ["waiting for another import", 0.0]})
                guarded.WRITES.acquire()
            try:
                return {"outcome": self._run(request, path, stream, conn)}
            finally:
                guarded.WRITES.release()
        except DataError as e:
            return {"error": str(e)}
        except Cancelled:
            raise
        except Exception as e:  # interrupted, or a fault: reported, never half-written
            log.exception("import hand-over failed")
            return {"error": f"The import failed and nothing was written: "
                             f"{str(e).splitlines()[0] if str(e) else type(e).__name__}."}
        finally:
            if temporary:
                remove_upload(path, uploads_dir(self.db_path))

    def check(self, request) -> Path:
        if not isinstance(request, dict) or not handover.token_matches(request.get("token"),
                                                                       self.token):
            raise handover.HandoverRefused("The import token does not match the dashboard's: "
                                           "the request was refused.")
        return handover.readable_by_server(request.get("file", ""), self.db_path)

    def _run(self, request, path, stream, conn) -> dict:
        gone = threading.Event()

        def progress(step, fraction):
            if gone.is_set():
                raise Cancelled()
            handover.send(stream, {"progress": [step, fraction]})

        with closing(self.cursor()) as cur:
            done = threading.Event()
            if conn is not None:
                threading.Thread(target=_watch, args=(conn, cur, gone, done), daemon=True,
                                 name="import-handover-watch").start()
            try:
                result = run_import(cur, path, self.db_path, progress,
                                    profile=_profile(request.get("profile")),
                                    **{k: request.get(k) for k in _REQUEST_FIELDS})
                steps = next_steps(cur, result)
            finally:
                done.set()
        return handover.outcome(result, steps)


def _profile(text):
    return parse_profile(text, name="sent by the command line") if text else None


def _watch(conn, cur, gone, done) -> None:
    """Interrupt the import when the client closes its end (it sends nothing after its request,
    so anything read here is its going away)."""
    try:
        conn.recv(1)
    except OSError:
        pass
    if not done.is_set():
        gone.set()
        log.warning("an import's client went away: the import is cancelled and rolls back")
        cur.interrupt()


def run_import(cur, path, db_path, progress, *, kind: str, jurisdiction: str,
               dry_run: bool = False, file_name: str | None = None, profile=None,
               timezone: str | None = None, area_property: str | None = None):
    """The import ``python -m data import`` asks for, on ``cur`` through the guarded facade as
    the local principal: the same function whether the server runs it or the command line."""
    common = {"jurisdiction": jurisdiction, "dry_run": bool(dry_run), "file_name": file_name}
    if kind == "boundaries":
        return guarded.import_boundaries(cur, LOCAL, path, area_property=area_property, **common)
    if kind == "costs":
        return guarded.import_costs(cur, LOCAL, path, **common)
    return guarded.import_file(cur, LOCAL, path, kind=kind, profile=profile,
                               profile_dir=profiles_dir(db_path), timezone_name=timezone,
                               progress=progress, **common)


def next_steps(cur, result) -> list[dict]:
    """After a committed import of records: what still keeps the pages empty or wrong."""
    from data.program import next_steps as steps

    if result.status != "committed" or result.kind in ("population", "boundaries", "costs"):
        return []
    return steps(cur, result.jurisdiction)
