"""The wizard's path for area boundaries: a GeoJSON file -> check -> import.

Boundaries have no columns or values to map: the importer finds the property naming the
areas (the one whose values match the areas in the calls and responses), and the check shows
which it chose and how many areas it matched, so the analyst sees it before anything is saved.
"""
from __future__ import annotations

import logging
from contextlib import closing

import streamlit as st

import data
from data import uploads
from service import guarded
from data.boundaries import check_collection, property_values, read_geojson
from data.connection import default_db_path
from ui import auth, cache, messages
from ui.text import escape

log = logging.getLogger(__name__)

FILE_TYPES = list(uploads.BOUNDARY_TYPES)
_AUTO = "— find it from the calls' areas —"


def show(key: str, target: dict) -> None:
    if target["timezone"]:  # a jurisdiction that does not exist yet
        st.info("Area boundaries belong to a jurisdiction that has data already: import its "
                "calls or responses first, then its map.")
        return
    st.header("2. Choose the map")
    st.caption("A GeoJSON file of the jurisdiction's areas (beats, districts, neighbourhoods) "
               "in longitude/latitude, as GIS tools and open-data portals export it. The "
               "Equity page then draws the areas on this map, without any map server.")
    gen = st.session_state.setdefault(f"{key}__bgen", 0)
    uploaded = st.file_uploader("GeoJSON (.geojson or .json)", type=FILE_TYPES,
                                key=f"{key}_bfile_{gen}")
    if uploaded is None:
        _forget(key)
        return
    state = st.session_state.get(f"{key}__bstate")
    if state is None or state["file_id"] != uploaded.file_id:
        _forget(key)
        try:
            path = uploads.save_upload(uploaded, uploaded.name,
                                       uploads.uploads_dir(default_db_path()), boundaries=True)
        except data.DataError as e:
            st.error(escape(str(e)))
            return
        state = {"file_id": uploaded.file_id, "path": str(path), "name": uploaded.name,
                 "properties": _property_names(path, uploaded.name)}
        st.session_state[f"{key}__bstate"] = state
    if state.get("done"):
        _show_done(key, state["done"])
        return
    prop = _area_property(state)
    st.header("3. Check and import")
    left, right = st.columns(2)
    check = left.button("Check the map", key=f"{key}_bcheck", type="primary")
    if check:
        state["checked"] = _run(state, target, prop, dry_run=True)
    checked = state.get("checked")
    if not checked:
        return
    if checked.get("error"):
        st.error(checked["error"])  # Markdown already: escaped where it was built
        return
    if checked["prop"] != prop:
        st.info("You changed the area property since the check: check again.")
        return
    result = checked["result"]
    if result.status == "already_imported":
        st.info(escape(result.summary_lines()[0]))
        return
    for line in _plain(result):
        st.caption(line)
    if right.button("Import the map", key=f"{key}_bimport"):
        done = _run(state, target, prop, dry_run=False)
        if done.get("error"):
            st.error(done["error"])
            return
        st.cache_data.clear()
        uploads.remove_upload(state["path"], uploads.uploads_dir(default_db_path()))
        state["done"] = done["result"]
        st.rerun()


def _property_names(path, name) -> list[str]:
    """The features' property names ([] for a file the check will refuse, saying why)."""
    try:
        return sorted(property_values(check_collection(read_geojson(path, name), name).features))
    except data.DataError:
        return []


def _area_property(state) -> str | None:
    """The analyst may name the property; by default the importer chooses it."""
    if not state["properties"]:
        return None
    choice = st.selectbox("Property that names the areas", [_AUTO] + state["properties"],
                          key=f"b{state['file_id']}_bprop",
                          help="The areas in the calls and responses are matched to the "
                               "values of this property.")
    return None if choice == _AUTO else choice


def _run(state, target, prop, dry_run: bool) -> dict:
    entry = {"prop": prop}
    with closing(cache.cursor()) as cur:
        try:
            entry["result"] = guarded.import_boundaries(
                cur, auth.current(), state["path"], jurisdiction=target["jurisdiction"],
                area_property=prop, file_name=state["name"], dry_run=dry_run)
        except data.DataError as e:
            entry["error"] = escape(str(e))
        except Exception as e:  # a bug, not the file: a sentence here, the traceback in the log
            log.exception("boundaries import failed")
            entry["error"] = messages.import_failed(e)
    return entry


def _show_done(key, result) -> None:
    st.success(f"Import #{result.import_id} is saved: {escape(result.file_name)} as the area "
               f"map of {escape(result.jurisdiction)}. The Equity page now draws its areas on it.")
    for line in _plain(result):
        st.caption(line)
    st.button("Import another file", key=f"{key}_bagain", on_click=_start_over, args=(key,))


def _plain(result) -> list[str]:
    """The summary in words: how many areas, then the importer's notes as sentences."""
    if result.rows_inserted is None:  # a check by an admin who is not its analyst (issue 27)
        out = [f"{result.rows_read:,} shapes read, {result.rows_rejected:,} rejected (which "
               "areas are new is shown to the jurisdiction's analysts)."]
    else:
        out = [f"{result.rows_read:,} shapes read: {result.rows_inserted:,} new areas, "
               f"{result.rows_updated:,} replacing a stored shape, {result.rows_unchanged:,} "
               f"unchanged, {result.rows_rejected:,} rejected."]
    for line in result.summary_lines()[2:]:
        line = line.strip().removeprefix("note: ")
        out.append(line[:1].upper() + line[1:] + ("" if line.endswith(".") else "."))
    return [escape(line) for line in out]


def _start_over(key) -> None:
    _forget(key)
    st.session_state[f"{key}__bgen"] = st.session_state.get(f"{key}__bgen", 0) + 1


def _forget(key) -> None:
    state = st.session_state.pop(f"{key}__bstate", None)
    if state and not state.get("done"):
        uploads.remove_upload(state["path"], uploads.uploads_dir(default_db_path()))
