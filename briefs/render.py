"""Charts as vector (SVG, for briefs) and slide images (PNG, 1920×1080), rendered offline.

kaleido 1.5 drives Debian's chromium (``/usr/bin/chromium``, or ``BROWSER_PATH``) through
choreographer: no browser is downloaded and MathJax is off (it would load from the internet).
One shared browser serves every image of the process, driven from its own event-loop thread:
starting one per image costs about three seconds each.

Every image has a deadline (``IMAGE_TIMEOUT_S``, the browser's start included). A browser that
stops answering is closed and a new one started, once; then the image fails with a sentence
instead of a brief or slide waiting forever. (It happened once in a whole test run: the
browser came up but never gave kaleido its page, and ``kaleido.calc_fig_sync`` has no
deadline for that wait.)
"""
from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import threading
from pathlib import Path

import plotly.graph_objects as go

from charts import safe_text, theme

CHROMIUM = "/usr/bin/chromium"
FONT = "DejaVu Sans"  # shipped in briefs/fonts and registered under this name in the PDF
SLIDE = (1920, 1080)
# One image, the browser's start included: a chart takes 0.1-1 s, a start about 3 s.
IMAGE_TIMEOUT_S = 60.0
_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_browser: concurrent.futures.Future | None = None  # the opening (then open) kaleido


class RenderError(RuntimeError):
    """The browser drew no image within the deadline, twice."""


def start() -> concurrent.futures.Future:
    """Start the one shared browser (once; the dashboard keeps it for later images). It starts
    in the background: a command calls this first, so the browser comes up while it queries.
    Returns the browser's start (a future of the open browser)."""
    global _loop, _browser
    with _lock:
        if _browser is not None:
            return _browser
        if not os.environ.get("BROWSER_PATH") and Path(CHROMIUM).exists():
            os.environ["BROWSER_PATH"] = CHROMIUM  # choreographer finds the browser here
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="chart-images",
                             daemon=True).start()
            atexit.register(_close_now)
        _browser = asyncio.run_coroutine_threadsafe(_open(), _loop)
        return _browser


async def _open():
    import kaleido

    k = kaleido.Kaleido(n=1, mathjax=False)
    await k.open()
    return k


async def _draw(browser: concurrent.futures.Future, spec: dict, opts: dict) -> bytes:
    k = await asyncio.wrap_future(browser)
    return await k.calc_fig(spec, opts=opts)


async def _close(browser: concurrent.futures.Future) -> None:
    """Close a browser (or cancel its start); one that does not close is killed."""
    if not browser.done():
        browser.cancel()
        return
    if browser.cancelled() or browser.exception() is not None:
        return
    k = browser.result()
    try:
        await asyncio.wait_for(k.close(), 10)
    except BaseException:  # whatever it raised, the process must go
        process = getattr(k, "subprocess", None)
        if process is not None:
            process.kill()


def _restart() -> None:
    global _browser
    with _lock:
        old, _browser = _browser, None
    if old is not None:
        asyncio.run_coroutine_threadsafe(_close(old), _loop)


def _close_now() -> None:
    if _browser is not None and _loop is not None:
        try:
            asyncio.run_coroutine_threadsafe(_close(_browser), _loop).result(15)
        except BaseException:  # at exit, nothing is left to tell
            pass


def _image(fig: go.Figure, fmt: str, width: int, height: int, scale: float = 1) -> bytes:
    spec = _plain(fig.to_dict())
    opts = dict(format=fmt, width=width, height=height, scale=scale)
    for _attempt in range(2):
        # The browser start() returns, not the global read after it: another thread may have
        # replaced that meanwhile.
        job = asyncio.run_coroutine_threadsafe(_draw(start(), spec, opts), _loop)
        try:
            return job.result(timeout=IMAGE_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            job.cancel()
            _restart()
    raise RenderError(f"The browser that draws the charts (chromium) drew nothing within "
                      f"{IMAGE_TIMEOUT_S:g} s, twice; try again, and if it persists restart "
                      "the dashboard.")


def _plain(value):
    """The figure's arrays as lists: Plotly 7 writes numpy arrays as base64 objects, which
    kaleido's page draws as the categories "dtype" and "bdata"."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    if isinstance(value, dict) and "bdata" in value and "dtype" in value:
        import base64

        import numpy as np

        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        if shape:
            array = array.reshape([int(n) for n in str(shape).split(",")])
        return array.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def for_print(fig: go.Figure, height: int | None = None) -> go.Figure:
    """The figure for paper: the brief's font, dark ink, no hover-only text, and the height
    the brief gives it. Names from uploads stay labels (``safe_text``)."""
    fig = safe_text.figure(fig)  # a copy (``fig`` may be cached); deepcopy would turn its
    # numpy arrays into base64 objects that safe_text reads as labels
    fig.update_layout(font_family=FONT, font_color=theme.INK, font_size=13,
                      paper_bgcolor="white", plot_bgcolor="white",
                      margin=dict(l=10, r=60, t=30, b=10), title=None)
    fig.update_annotations(font_family=FONT)
    fig.update_xaxes(tickangle=0)  # a narrow column would turn the ticks on their side
    if height:
        fig.update_layout(height=height)
    return fig


def svg(fig: go.Figure, width: int, height: int) -> bytes:
    """The figure as SVG (text kept as text, so the brief stays searchable)."""
    return _image(for_print(fig, height), "svg", width, height)


def slide(fig: go.Figure, title: str, takeaway: str, source: str) -> bytes:
    """A 1920×1080 PNG for a presentation: the title, the takeaway sentence, the chart and the
    source line, all drawn into the image (a slide travels without its page)."""
    fig = for_print(fig)
    width, height = SLIDE
    fig.update_layout(
        width=width, height=height, font_size=24,
        title=dict(text=f"<b>{_html(title)}</b><br><span style='font-size:26px'>"
                        f"{_wrap(_html(takeaway), 110)}</span>",
                   x=0.04, xanchor="left", y=0.95, yanchor="top", yref="container",
                   font=dict(size=40)),
        margin=dict(l=150, r=110, t=240, b=170))
    # The source line 20 px above the image's bottom edge (annotations place by the plot area).
    fig.add_annotation(text=_html(source), xref="paper", yref="paper", x=0,
                       y=-(170 - 20) / (height - 240 - 170), xanchor="left", yanchor="bottom",
                       showarrow=False,
                       font=dict(size=20, color="#404040"))
    fig.update_xaxes(tickfont_size=22, title_font_size=24)
    fig.update_yaxes(tickfont_size=22, title_font_size=24)
    return _image(fig, "png", width, height)


def _html(text: str) -> str:
    """Plain text for a Plotly title (its text is HTML-ish): no tag from data is honoured."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _wrap(text: str, width: int) -> str:
    """Break a long sentence into lines (Plotly titles do not wrap by themselves)."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])
