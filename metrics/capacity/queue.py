"""One simulation run, compiled: ``simulation._loss_queue_python``'s loop in machine code.

The run is sequential (whether a call finds a free team depends on every call before it), so
numpy cannot vectorise it; in Python it cost about 0.5 us a call, and a Plan page view runs
some sixty of them (two schedules, their intervals, nine searches for team-hours, the
calibration): most of the page's time at 10 million calls, and growing with the calls in a
week at 100 million (issue 25). Numba compiles the same loop (``cache=True``: once per
installation, then read from ``__pycache__``). It takes the same decisions on the same
numbers: the busy teams' free-up times are a heap of float64 values, each call is compared and
added in the same order with the same IEEE arithmetic, and a run depends on those values
alone, so the calls taken and the waits are identical (tests/test_capacity_queue.py compares
the two on random runs with ties, shift changes, calls needing no team and waits).

Without numba (it is in requirements.txt) the Python loop runs: the same answer, slower.
"""
from __future__ import annotations

import numpy as np

try:
    from numba import njit
except ImportError:  # pragma: no cover - numba is a requirement; the Python loop answers
    njit = None


def _sift_down(heap, pos, size):
    item = heap[pos]
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] < item:
            heap[pos] = heap[child]
            pos = child
        else:
            break
    heap[pos] = item


def _sift_up(heap, pos):
    item = heap[pos]
    while pos > 0:
        parent = (pos - 1) // 2
        if item < heap[parent]:
            heap[pos] = heap[parent]
            pos = parent
        else:
            break
    heap[pos] = item


def _run(times, on_duty, service, wait):
    """``_loss_queue_python`` over arrays: (taken as 0/1 per call, calls that waited)."""
    n = times.shape[0]
    heap = np.empty(n + 1, np.float64)  # free-up times of the busy teams
    size = 0
    taken = np.zeros(n, np.float64)
    waited = 0
    for i in range(n):
        s = service[i]
        if s != s:  # NaN: the call needs no team
            continue
        t = times[i]
        k = on_duty[i]
        while size > 0 and heap[0] <= t:
            size -= 1
            heap[0] = heap[size]
            _sift_down(heap, 0, size)
        if size < k:
            heap[size] = t + s
            _sift_up(heap, size)
            size += 1
            taken[i] = 1.0
        elif wait > 0 and k > 0:
            extra = size - k
            if extra == 0:
                free_at = heap[0]
            else:  # the (extra + 1)-th to free up among the busy teams
                free_at = np.sort(heap[:size])[extra]
            if free_at - t <= wait:
                if extra == 0:
                    heap[0] = free_at + s
                    _sift_down(heap, 0, size)
                else:  # one team freeing up at free_at takes the call: re-heap
                    for j in range(size):
                        if heap[j] == free_at:
                            heap[j] = free_at + s
                            break
                    for j in range(size // 2 - 1, -1, -1):
                        _sift_down(heap, j, size)
                taken[i] = 1.0
                waited += 1
    return taken, waited


if njit is not None:
    _sift_down = njit(cache=True, nogil=True)(_sift_down)
    _sift_up = njit(cache=True, nogil=True)(_sift_up)
    _run = njit(cache=True, nogil=True)(_run)

COMPILED = njit is not None


def loss_queue(times: np.ndarray, on_duty: np.ndarray, service: np.ndarray, wait: float):
    """One run, compiled: (1.0 for each call a team took, how many waited)."""
    taken, waited = _run(np.ascontiguousarray(times, dtype=np.float64),
                         np.ascontiguousarray(on_duty, dtype=np.int64),
                         np.ascontiguousarray(service, dtype=np.float64), float(wait))
    return taken, int(waited)


def warm_up() -> None:
    """Compile (or load from the cache) before the first Plan page needs it."""
    loss_queue(np.zeros(2), np.ones(2, dtype=np.int64), np.ones(2), 1.0)
