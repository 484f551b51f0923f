"""Answers ready before the first viewer asks: the views viewers asked for, computed again in
the background for each new version of the data and after a server start.

Every cached computation of ``ui.cache`` is a pure function of its arguments and the data
version. The arguments of the ones viewers asked for (the metric request, filters, principal
and disclosure policy: never a result, never a record) are noted here, the most recently
asked last, at most ``KEPT`` of them. When the server first reads a data version (its start,
or after an import, undo or settings edit) one background thread asks for each of them again,
most recent first, at that version. A viewer who opens the same view later finds it computed;
one who opens it while it is being computed waits for that computation (Streamlit computes a
cached value once per key) instead of starting a second. While an import or an edit writes,
preparing waits: the write commits sooner, and its new version is the one worth preparing.

The list is kept beside the database (``<database>.prepared``) so that a restarted server
prepares the views its viewers were using. It is read back only into the types a request is
made of (``_Allowed``): a file changed by someone else can fail to load, never run code.
"""
from __future__ import annotations

import io
import logging
import os
import pickle
import threading
import time
from collections import OrderedDict
from pathlib import Path

KEPT = 160  # calls remembered: every page's default view (about 100) and a few more
WAIT_S = 0.5  # how often a preparing held back by a write looks again
_LOG = logging.getLogger(__name__)


class _Allowed(pickle.Unpickler):
    """Only the value types requests, filters, principals and policies are made of."""

    _PACKAGES = ("metrics", "datetime", "decimal")  # and service.access (Principal, Grant)
    _BUILTINS = {"tuple", "list", "dict", "set", "frozenset", "str", "int", "float", "bool",
                 "bytes"}

    def find_class(self, module, name):
        if ((module == "builtins" and name in self._BUILTINS)
                or module.split(".")[0] in self._PACKAGES or module == "service.access"):
            found = super().find_class(module, name)
            if isinstance(found, type):  # a class, never a function the file could call
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a request")


class Prepared:
    """The asked-for calls of one database, and the background thread that prepares them."""

    def __init__(self, path: Path | None, functions: dict, idle=lambda: True,
                 stale: tuple[type[Exception], ...] = ()):
        self._path = path  # None: nothing kept across restarts (an in-memory database)
        self._functions = functions  # name -> the st.cache_data function it names
        self._idle = idle  # False while an import or edit writes: it goes first
        self._stale = stale  # raised by a function whose version moved on: stop preparing
        self._lock = threading.Lock()
        self._calls: OrderedDict[tuple, None] = OrderedDict(
            (call, None) for call in self._read())
        self._version = None  # the last version prepared (or being prepared)
        self._thread: threading.Thread | None = None

    def asked(self, name: str, args: tuple) -> None:
        """Note a call a viewer made (the most recent last); kept on disk when new."""
        call = (name, args)
        with self._lock:
            new = call not in self._calls
            if new and not self._keepable(call):
                return  # one that cannot be written would stop every later one being kept
            self._calls[call] = None
            self._calls.move_to_end(call)
            while len(self._calls) > KEPT:
                self._calls.popitem(last=False)
            if new:
                self._write(list(self._calls))

    def seen(self, version: tuple) -> threading.Thread | None:
        """The server read ``version``: prepare every noted call at it, once per version.
        Returns the thread started (None when this version is already prepared)."""
        with self._lock:
            if version == self._version:
                return None
            self._version = version
            calls = list(reversed(self._calls))  # the most recently asked first
        thread = threading.Thread(target=self._prepare, args=(version, calls),
                                  name="prepare-views", daemon=True)
        self._thread = thread
        thread.start()
        return thread

    def calls(self) -> list[tuple]:
        with self._lock:
            return list(self._calls)

    def _prepare(self, version: tuple, calls: list[tuple]) -> None:
        for name, args in calls:
            while not self._idle() and self._version == version:
                time.sleep(WAIT_S)  # an import's two cores are not shared with preparing
            if self._version != version:  # a newer version came: prepare that one instead
                return
            function = self._functions.get(name)
            if function is None:
                continue
            try:
                function(*args, version)
            except self._stale:  # the data moved on: its own version is prepared instead
                return
            except Exception as error:  # a refusal, a removed jurisdiction: that view is
                # computed when (and if) it is asked for, as without preparing
                _LOG.info("a view was not prepared: %s", error)

    def _read(self) -> list[tuple]:
        if self._path is None or not self._path.exists():
            return []
        try:
            calls = _Allowed(io.BytesIO(self._path.read_bytes())).load()
            return [c for c in calls if isinstance(c, tuple) and len(c) == 2
                    and c[0] in self._functions and isinstance(c[1], tuple)][-KEPT:]
        except Exception as error:  # unreadable, or not ours: start with nothing noted
            _LOG.warning("the prepared views in %s were not read: %s", self._path, error)
            return []

    def _keepable(self, call: tuple) -> bool:
        if self._path is None:
            return True
        try:
            pickle.dumps(call, protocol=pickle.HIGHEST_PROTOCOL)
            return True
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            _LOG.warning("a view cannot be kept, nor prepared: %s", error)
            return False

    def _write(self, calls: list[tuple]) -> None:
        if self._path is None:
            return
        tmp = self._path.with_name(self._path.name + ".tmp")
        try:
            tmp.write_bytes(pickle.dumps(calls, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, self._path)  # whole or not at all
        except (OSError, pickle.PicklingError, TypeError, AttributeError) as error:
            _LOG.warning("the prepared views were not kept: %s", error)


def kept_beside(database: str) -> Path | None:
    """Where the noted calls of ``database`` are kept: beside it (None: in memory)."""
    if database == ":memory:":
        return None
    path = Path(database)
    return path.with_name(path.name + ".prepared")
