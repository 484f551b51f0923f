"""ui/priority.py: page runs yield the processor to a write running in the same server."""
from __future__ import annotations

import os
import threading

import pytest

from service import guarded
from ui import priority

pytestmark = pytest.mark.skipif(not hasattr(os, "setpriority"), reason="needs os.setpriority")


def _page_run() -> tuple[bool, int]:
    """What a page run starting now does, on a thread of its own (as Streamlit's)."""
    out = {}

    def run():
        out["lowered"] = priority.yield_to_writes()
        out["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    t = threading.Thread(target=run)
    t.start()
    t.join(10)
    return out["lowered"], out["nice"]


def test_no_write_leaves_the_run_as_it_is():
    before = os.getpriority(os.PRIO_PROCESS, 0)
    assert _page_run() == (False, before)
    assert not guarded.writing()


def test_a_run_during_a_write_yields_and_the_writer_does_not():
    held, release = threading.Event(), threading.Event()

    def write():  # an import on another thread (the hand-over's listener, a Data page)
        with guarded.WRITES:
            held.set()
            release.wait(10)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert held.wait(10)
        assert guarded.writing()
        lowered, nice = _page_run()
        assert lowered and nice >= priority.YIELDING_NICE
        # The process, and this thread, keep their priority: only that run's thread yields.
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < priority.YIELDING_NICE
    finally:
        release.set()
        writer.join(10)
    assert not guarded.writing()
    assert _page_run()[0] is False  # after the write, runs are as before
