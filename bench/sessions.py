"""Viewer sessions that speak Streamlit's websocket protocol instead of running a browser.

Twenty Chromium tabs on the server's own two cores measure mostly Chromium: in the browser
phase the tabs used about four times the server's CPU. A protocol session does what a
browser tab asks of the server, and nothing else: it opens a session on
``/_stcore/stream``, asks for a page (``BackMsg.rerun_script`` with the page's name and the
address's query string, default widget values, no cached messages, so the server sends every
element in full) and reads every ``ForwardMsg`` until ``script_finished``. Its page time is
the server's time for the page: script, queries, figures, serialisation and sending. Drawing
happens on each viewer's own machine (the browser phase measures it, one tab at a time).

A page failed when the server sent an exception element or an error box, when the run did not
finish successfully, or when nothing finished within the time-out. The headline tiles a page
drew (``st.metric``: label -> the text shown) are kept with each visit, so that a benchmark can
check which data a viewer saw (bench/handover.py: the old or the new, never a mix).
"""
from __future__ import annotations

import asyncio
import random
import time

TIMEOUT_S = 60.0


def _rerun(page: str) -> bytes:
    """The rerun a browser sends for ``page``; a section of a page (``reach?reach_view=...``,
    ui/sections.py) is its page with the address's query string, as a copied link sends it."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    state = msg.rerun_script
    state.page_name, _, state.query_string = page.partition("?")
    state.context_info.timezone = "UTC"
    state.context_info.locale = "en-US"
    return msg.SerializeToString()


async def _page(ws, page: str) -> dict:
    from streamlit.proto.Alert_pb2 import Alert
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    t0 = time.perf_counter()
    await ws.send(_rerun(page))
    error = None
    nbytes = 0
    tiles: dict[str, str] = {}
    try:
        async with asyncio.timeout(TIMEOUT_S):
            while True:
                frame = await ws.recv()
                if not isinstance(frame, bytes):
                    continue
                nbytes += len(frame)
                msg = ForwardMsg.FromString(frame)
                kind = msg.WhichOneof("type")
                if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    el = msg.delta.new_element
                    what = el.WhichOneof("type")
                    if what == "metric":  # a rerun draws them again: the last one counts
                        tiles[el.metric.label] = el.metric.body
                    if what == "exception" or (what == "alert"
                                               and el.alert.format == Alert.ERROR):
                        if not error:
                            body = (el.exception.message if what == "exception"
                                    else el.alert.body)
                            error = f"{what}: {body[:150]}"
                elif kind == "page_not_found":
                    error = f"page not found: {page}"
                elif kind == "script_finished":
                    if msg.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                        if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                            continue  # a widget asked for a rerun: the page follows
                        error = error or f"script finished with status {msg.script_finished}"
                    break
    except TimeoutError:
        error = f"no script_finished within {TIMEOUT_S:.0f} s"
    return {"seconds": time.perf_counter() - t0, "error": error, "bytes": nbytes,
            "tiles": tiles}


async def viewer(i: int, base: str, order: list[str], log, stop: asyncio.Event,
                 think: tuple[float, float], arrival_s: float, opened: list):
    """Arrive after ``i * arrival_s``, open a session at a page, then ask for the next page
    every ``think`` seconds (uniform, seeded per viewer) until ``stop``."""
    import websockets

    rng = random.Random(i)
    await asyncio.sleep(i * arrival_s)
    url = base.replace("http://", "ws://") + "/_stcore/stream"
    k = i
    try:
        async with websockets.connect(url, subprotocols=["streamlit"], max_size=None,
                                      open_timeout=TIMEOUT_S) as ws:
            start = time.perf_counter()
            v = await _page(ws, order[k % len(order)])
            log.visits.append((start, time.perf_counter(), order[k % len(order)], v["seconds"],
                               v["error"], "opened", v["seconds"], v["tiles"]))
            opened.append(i)
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), rng.uniform(*think))
                    break
                except TimeoutError:
                    pass
                k += 1
                url_path = order[k % len(order)]
                start = time.perf_counter()
                v = await _page(ws, url_path)
                log.visits.append((start, time.perf_counter(), url_path, v["seconds"],
                                   v["error"], "sidebar", v["seconds"], v["tiles"]))
    except Exception as e:  # the connection failed or dropped: one error, the viewer leaves
        now = time.perf_counter()
        log.visits.append((now, now, "-", 0.0, f"{type(e).__name__}: {str(e)[:150]}",
                           "connection", None, {}))
        opened.append(i)
