"""The wizard's path for area boundaries: a GeoJSON file -> check -> import.

Boundaries have no columns or values to map: the importer finds the property naming the
areas (the one whose values match the areas in the calls and responses), and the check shows
which it chose and how many areas it matched, so the analyst sees it before anything is saved.
"""
from __future__ import annotations

import streamlit as st

import data
from data import uploads
from data.boundaries import check_collection, property_values, read_geojson
from service import guarded
from ui import auth, file_step
from ui.text import escape

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
    state = file_step.kept_file(key, "b", "GeoJSON (.geojson or .json)", FILE_TYPES,
                                boundaries=True, describe=_properties)
    if state is None:
        return
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
        file_step.finish(state, done)


def _properties(path, name) -> dict:
    """The features' property names ([] for a file the check will refuse, saying why)."""
    try:
        found = property_values(check_collection(read_geojson(path, name), name).features)
    except data.DataError:
        found = []
    return {"properties": sorted(found)}


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
    entry = file_step.run("boundaries", lambda cur: guarded.import_boundaries(
        cur, auth.current(), state["path"], jurisdiction=target["jurisdiction"],
        area_property=prop, file_name=state["name"], dry_run=dry_run))
    return {**entry, "prop": prop}


def _show_done(key, result) -> None:
    st.success(f"Import #{result.import_id} is saved: {escape(result.file_name)} as the area "
               f"map of {escape(result.jurisdiction)}. The Equity page now draws its areas on it.")
    for line in _plain(result):
        st.caption(line)
    st.button("Import another file", key=f"{key}_bagain", on_click=file_step.start_over,
              args=(key, "b"))


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
