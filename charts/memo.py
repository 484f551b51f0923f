"""Built figures kept by what they were built from, and copied without Plotly checking them again.

Building a figure property by property (``make_subplots``, ``update_yaxes(row=...)``,
``add_vline``) is most of a cached page's server time: Plotly resolves and checks every path on
every call. The Equity page spent 0.4 s of its 0.5 s per visit there, redrawing the same figures
from the same cached results for every viewer (issue 25: viewers' CPU is what slows an import
running beside them on two cores). So each figure builder in ``charts`` is ``@kept``: its result
is kept under a digest of its arguments' content (pickled), and every caller gets its own copy.

- The key is the arguments' content, not their identity: new data (another version, other
  filters, another jurisdiction) is another key, so nothing needs invalidating. Builders are
  pure functions of their arguments and Plotly's default template (``charts`` reads no
  session, clock or setting), and the template's name is part of the key too.
- Arguments that cannot be pickled (a closure, say) are built every time, as before.
- A copy is made from the kept figure's properties without Plotly checking them again: they
  were checked when it was built. That takes about a fifth of the time of ``go.Figure(fig)``.
- Thin wrappers over a kept builder (``bar_by_group`` over ``panels``) are not kept themselves:
  the figure would be kept twice.
- Bounded: the least recently used figures go once the kept arguments pass ``BUDGET_BYTES``
  (the arguments' pickled size stands in for the figure's, which holds the same numbers).
"""
from __future__ import annotations

import functools
import hashlib
import pickle
import threading
from collections import OrderedDict
from copy import deepcopy
from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio

BUDGET_BYTES = 64 * 1024 * 1024


@dataclass
class Stats:
    hits: int = 0
    misses: int = 0
    unkeyable: int = 0  # built every time: an argument could not be pickled


stats = Stats()
_kept: OrderedDict[bytes, tuple[go.Figure, int]] = OrderedDict()
_bytes = 0
_lock = threading.Lock()


def copy(fig: go.Figure) -> go.Figure:
    """A copy of a built (already checked) figure, subplot grid included, that its holder may
    change in place without touching the original."""
    # The figure's own properties, not ``to_dict()``: that turns numeric arrays into base64
    # objects, which the code marking and escaping a copy would then read as labels.
    new = go.Figure({"data": deepcopy(fig._data), "layout": deepcopy(fig._layout)},
                    _validate=False)
    # Changes made through the figure, its layout or a trace are checked as usual; only the
    # copying skipped the check.
    new._validate = True
    new.layout._validate = True
    for trace in new.data:
        trace._validate = True
    new._grid_str, new._grid_ref = fig._grid_str, fig._grid_ref
    return new


def kept(builder):
    """Keep ``builder``'s figures by its arguments' content; hand each caller a copy."""
    name = f"{builder.__module__}.{builder.__qualname__}".encode()

    @functools.wraps(builder)
    def build(*args, **kwargs):
        try:
            payload = pickle.dumps((args, sorted(kwargs.items())), protocol=5)
        except (pickle.PicklingError, AttributeError, TypeError):
            with _lock:
                stats.unkeyable += 1
            return builder(*args, **kwargs)
        # The default template is part of what a figure is built from (Streamlit's Plotly
        # element sets its own when imported; charts.theme sets ours back).
        template = str(pio.templates.default).encode()
        key = hashlib.blake2b(b"\0".join((name, template, payload)), digest_size=20).digest()
        with _lock:
            found = _kept.get(key)
            if found is not None:
                _kept.move_to_end(key)
                stats.hits += 1
        if found is None:
            fig = builder(*args, **kwargs)
            _keep(key, fig, len(payload))
        else:
            fig = found[0]
        return copy(fig)

    build.uncached = builder
    return build


def _keep(key: bytes, fig: go.Figure, size: int) -> None:
    global _bytes
    with _lock:
        stats.misses += 1
        if key in _kept:  # another session built it meanwhile
            return
        _kept[key] = (fig, size)
        _bytes += size
        while _bytes > BUDGET_BYTES and len(_kept) > 1:
            _, (_, gone) = _kept.popitem(last=False)
            _bytes -= gone


def clear() -> None:
    """Forget every kept figure and reset the counts (tests)."""
    global _bytes
    with _lock:
        _kept.clear()
        _bytes = 0
        stats.hits = stats.misses = stats.unkeyable = 0
