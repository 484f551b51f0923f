"""What the wizard's short paths (area boundaries, program costs) share: one file kept on disk
from upload to import, a check or import that reports its failure in words, and the end of a
successful import. State lives under ``<key>__<tag>state`` (``tag``: one letter per path)."""
from __future__ import annotations

import logging
from contextlib import closing

import streamlit as st

import data
from data import uploads
from data.connection import default_db_path
from ui import cache, messages
from ui.text import escape

log = logging.getLogger(__name__)


def kept_file(key: str, tag: str, label: str, types, *, boundaries: bool = False,
              describe=None) -> dict | None:
    """The file in the uploader, saved once; None when there is none or it cannot be saved
    (the reason shown). ``describe(path, name)`` adds to the state what the path needs of the
    file (e.g. a map's property names)."""
    gen = st.session_state.setdefault(f"{key}__{tag}gen", 0)
    uploaded = st.file_uploader(label, type=types, key=f"{key}_{tag}file_{gen}")
    if uploaded is None:
        forget(key, tag)
        return None
    state = st.session_state.get(f"{key}__{tag}state")
    if state is None or state["file_id"] != uploaded.file_id:
        forget(key, tag)
        try:
            path = uploads.save_upload(uploaded, uploaded.name, _uploads_dir(),
                                       boundaries=boundaries)
        except data.DataError as e:
            st.error(escape(str(e)))
            return None
        state = {"file_id": uploaded.file_id, "path": str(path), "name": uploaded.name}
        state.update(describe(path, uploaded.name) if describe else {})
        st.session_state[f"{key}__{tag}state"] = state
    return state


def run(what: str, write) -> dict:
    """``{"result": write(cur)}`` or ``{"error": Markdown}``: the file's problem as the data
    layer words it, a bug as a sentence (its traceback in the log)."""
    entry = {}
    with closing(cache.cursor()) as cur:
        try:
            entry["result"] = write(cur)
        except data.DataError as e:
            entry["error"] = escape(str(e))
        except Exception as e:
            log.exception("%s import failed", what)
            entry["error"] = messages.import_failed(e)
    return entry


def finish(state: dict, done: dict) -> None:
    """After a committed import: fresh figures everywhere, the file gone, the done screen."""
    st.cache_data.clear()
    uploads.remove_upload(state["path"], _uploads_dir())
    state["done"] = done["result"]
    st.rerun()


def start_over(key: str, tag: str) -> None:
    forget(key, tag)
    st.session_state[f"{key}__{tag}gen"] = st.session_state.get(f"{key}__{tag}gen", 0) + 1


def forget(key: str, tag: str) -> None:
    state = st.session_state.pop(f"{key}__{tag}state", None)
    if state and not state.get("done"):
        uploads.remove_upload(state["path"], _uploads_dir())


def _uploads_dir():
    return uploads.uploads_dir(default_db_path())
