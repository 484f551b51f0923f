"""Page runs yield the processor to an import running in the same server (issue 25).

An import handed over by the command line (or started on the Data page) runs in the dashboard
server, beside every viewer's page runs. On a small machine those runs took half the processor
from it: a 10-million-call import with 20 viewers took 1.9 times as long as the same import
with no server. While a write runs, a page run starting lowers its own thread's priority
(``nice``): viewers are still served, from their cached figures or the old snapshot, a little
later, and the import gets the processor first. A thread's priority is its own: the write's
thread, DuckDB's workers and the runs after the write are untouched. (Raising a priority back
needs privileges the server should not have, and Streamlit starts a new thread for each burst
of runs, so nothing is raised back.)
"""
from __future__ import annotations

import logging
import os
import threading

from service import guarded

# The nice value of a page run during a write: the scheduler then gives a normal thread about
# 60 times its share.
YIELDING_NICE = 15


def yield_to_writes() -> bool:
    """Called by the router at the start of every script run: while a write runs, this
    thread's priority is lowered. Whether it was."""
    if not guarded.writing():
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid),
                                                  YIELDING_NICE))
    except (AttributeError, OSError):  # not Linux, or not allowed: the run goes on as it is
        logging.getLogger(__name__).debug("could not lower a page run's priority")
        return False
    return True
