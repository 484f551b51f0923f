"""The import wizard: kind and jurisdiction -> file -> preview -> columns -> check ->
values -> import.

``show(key=...)`` renders every step; each step is a small function below. All state lives in
``st.session_state`` under names starting with ``key`` (``<key>_...`` for widgets, ``<key>__...``
for the wizard's own state). Buttons only set a flag in a callback; the script does the work
where its output belongs. The logic that does not need Streamlit is in ``data/mapping.py``;
the steps after the preview are in ``upload_mapping`` (4 and 6), ``upload_check`` (5) and
``upload_commit`` (7), their shared state in ``upload_state``.

Every read of the file and every import goes through ``service.guarded`` for the signed-in
principal (``ui.auth.current()``): only the jurisdictions they may import into are offered, a
new jurisdiction only to admins, and the data layer refuses (and records) anything else.
"""
from __future__ import annotations

from contextlib import closing

import pandas as pd
import streamlit as st

import data
from data import quality, uploads
from data.schema import FIELDS
from service import access, guarded
from service.access import AccessDenied
from ui import auth, boundaries_upload, cache, costs_upload, import_folder
from ui.text import escape
from ui.upload_check import check
from ui.upload_commit import commit, show_done
from ui.upload_mapping import map_columns, map_values
from ui.upload_state import checked_result, clear, lower_first, uploads_dir

NEW_JURISDICTION = "+ a new jurisdiction"
KIND_LABELS = {"calls": "Calls (911 / CAD export)", "responses": "Team responses",
               "referrals": "Referrals", "population": "Population (denominators)",
               "boundaries": "Area boundaries (GeoJSON map)", "costs": "Program costs"}
KIND_HELP = {
    "calls": "one row per 911 call (or per unit sent to a call) from the CAD system",
    "responses": "one row per dispatch of the alternative response team, from its records",
    "referrals": "one row per referral the team made to a service",
    "population": "residents per group (e.g. ACS race/ethnicity tables), for per-capita rates",
    "boundaries": "the shapes of the jurisdiction's areas, for the Equity page's map",
    "costs": "the program's cost per period and funding stream, for the Cost page",
}
FILE_TYPES = ["csv", "gz", "txt", "tsv", "xlsx"]


def show(key: str = "upload") -> None:
    """The whole wizard. Returns nothing; every outcome is shown on the page."""
    with closing(cache.cursor()) as cur:
        target = _choose_target(cur, key)
        if target is None:
            return
        if target["kind"] == "boundaries":  # no columns to map: its own short path
            boundaries_upload.show(key, target)
            return
        if target["kind"] == "costs":  # four known columns: its own short path
            costs_upload.show(key, target)
            return
        upload = _choose_file(key, target["jurisdiction"])
        if upload is None:
            _explain_what_to_upload(target["kind"])
            return
        if st.session_state.get(f"{key}__done"):
            show_done(cur, key)
            return
        if not target["jurisdiction"]:
            st.info("Name the jurisdiction (step 1) to go on.")
            return
        _reset_if_changed(key, target["kind"], upload)
        info = _preview(cur, key, target, upload)
        if info is None:
            return
        profile = map_columns(key, target, info)
        check(cur, key, target, upload, profile)
        result = checked_result(key)
        if result is None:
            return
        step = 7 if map_values(key, target["kind"], result, profile) else 6
        commit(cur, key, target, upload, profile, step)


def _choose_target(cur, key) -> dict | None:
    """Kind and jurisdiction; None (with the refusal shown) for someone who may import nothing."""
    p = auth.current()
    known = {j["jurisdiction"]: j["time_zone"] for j in quality.jurisdictions(cur)}
    writable = {j: tz for j, tz in known.items() if p.may_write(j)}
    options = list(writable) + ([NEW_JURISDICTION] if p.is_admin else [])
    if not options:
        try:
            access.authorize(cur, p, "import")  # refuses, and records the refusal
        except AccessDenied as e:
            st.info(escape(str(e)), icon=":material/lock:")
            return None
    st.header("1. What are you importing?")
    left, right = st.columns(2)
    kind = left.radio("The file holds", list(KIND_LABELS), format_func=KIND_LABELS.get,
                      key=f"{key}_kind")
    left.caption(f"{KIND_LABELS[kind]}: {KIND_HELP[kind]}.")
    chosen = right.selectbox("For the jurisdiction", options, key=f"{key}_jur",
                             help="Set here, never read from the file.")
    if chosen != NEW_JURISDICTION:
        right.caption(f"Times are read as local time in {escape(known[chosen])}.")
        return {"kind": kind, "jurisdiction": chosen, "timezone": None}
    name = right.text_input("Name of the new jurisdiction", key=f"{key}_new_jur",
                            placeholder="e.g. Lane County").strip()
    if name in known:
        right.caption(f"{escape(name)} exists already; its time zone is {escape(known[name])}.")
        return {"kind": kind, "jurisdiction": name, "timezone": None}
    tz = right.selectbox("Its time zone", quality.time_zones(cur), index=None,
                         key=f"{key}_tz", placeholder="Choose the time zone",
                         help="Times without an offset in the file are local time there. "
                              "Common US zones first, then all others.")
    if name and not tz:
        right.warning("Choose the time zone of the new jurisdiction.")
        name = ""
    return {"kind": kind, "jurisdiction": name, "timezone": tz}


def _choose_file(key, jurisdiction=None) -> dict | None:
    """Keep exactly one file on disk for the file in the uploader; None when there is none.
    Or a file the analyst names in the server's import folder (ui/import_folder.py)."""
    st.header("2. Choose the export")
    if import_folder.wanted(key):
        return _keep_chosen(key, import_folder.choose(key, jurisdiction))
    gen = st.session_state.setdefault(f"{key}__gen", 0)
    uploaded = st.file_uploader("CSV, CSV.gz, TXT or XLSX", type=FILE_TYPES,
                                key=f"{key}_file_{gen}")
    current = st.session_state.get(f"{key}__upload")
    if uploaded is None:
        if current:
            uploads.remove_upload(current["path"], uploads_dir())
            clear(key, everything=True)
        return None
    if current and current["file_id"] == uploaded.file_id:
        return current
    if current:  # a new file replaced the previous one
        uploads.remove_upload(current["path"], uploads_dir())
    clear(key, everything=True)
    try:
        path = uploads.save_upload(uploaded, uploaded.name, uploads_dir())
    except data.DataError as e:
        st.error(escape(str(e)))
        return None
    current = {"file_id": uploaded.file_id, "path": str(path), "name": uploaded.name}
    st.session_state[f"{key}__upload"] = current
    return current


def _keep_chosen(key, chosen: dict | None) -> dict | None:
    """The wizard's file becomes ``chosen`` (a file read in place): start over when it changed."""
    current = st.session_state.get(f"{key}__upload")
    if current and chosen and current["file_id"] == chosen["file_id"]:
        return current
    if current:
        uploads.remove_upload(current["path"], uploads_dir())  # an upload's copy, if it was one
        clear(key, everything=True)
    if chosen:
        st.session_state[f"{key}__upload"] = chosen
    return chosen


def _explain_what_to_upload(kind: str) -> None:
    required = [lower_first(f.doc) for f in FIELDS[kind] if f.required]
    st.info(
        f"Upload a **{KIND_LABELS[kind]}** file: {KIND_HELP[kind]}. It needs a column for each "
        f"of: {'; '.join(required)}. Every other column is optional. The next steps show the "
        "first rows, suggest which column is which, and check every row before anything is "
        "saved. Only the columns you map are stored: names, phone numbers and narratives are "
        "never imported. " + _larger_files())


def _larger_files() -> str:
    if import_folder.offered():
        return ("For files over 200 MB: copy them to the server's import folder and choose "
                "them above, or run `python -m data import` on the server.")
    return ("For files over 200 MB run `python -m data import` on the server (it hands the "
            "file to this dashboard), or ask whoever runs it to set an import folder.")


def _reset_if_changed(key, kind, upload) -> None:
    sig = (upload["file_id"], kind, st.session_state.get(f"{key}_opt_sheet"))
    if st.session_state.get(f"{key}__sig") != sig:
        clear(key)
        st.session_state[f"{key}__sig"] = sig


def _preview(cur, key, target, upload) -> dict | None:
    st.header("3. First rows of the file")
    sheet = _sheet_choice(key, upload)
    cached = st.session_state.get(f"{key}__preview")
    if cached is None:
        try:
            with st.spinner("Reading the file…"):
                cached = guarded.preview(cur, auth.current(), upload["path"],
                                         kind=target["kind"],
                                         jurisdiction=target["jurisdiction"],
                                         file_name=upload["name"], limit=20, sheet=sheet)
        except data.DataError as e:
            st.error(escape(str(e)))
            return None
        st.session_state[f"{key}__preview"] = cached
    st.caption(_format_line(upload["name"], cached))
    st.dataframe(pd.DataFrame(cached["rows"], columns=_unique(cached["headers"])),
                 hide_index=True, height=250)
    return cached


def _sheet_choice(key, upload):
    names = uploads.sheet_names(upload["path"])
    if len(names) < 2:
        return None
    return st.selectbox("Sheet", names, key=f"{key}_opt_sheet",
                        help="The workbook has several sheets; choose the one with the rows.")


def _format_line(name, info) -> str:
    delim = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
        info.get("delimiter"), info.get("delimiter"))
    how = f"{(info.get('format') or '').upper()}"
    if info.get("encoding"):
        how += f", {info['encoding']} text"
    if delim and info.get("format") != "xlsx":
        how += f", {delim}-separated"
    return (f"{escape(name)}: {info['row_count']:,} rows, {len(info['headers'])} columns; "
            f"read as {how}. "
            f"Showing the first {len(info['rows'])} rows.")


def _unique(headers) -> list[str]:
    seen, out = {}, []
    for i, h in enumerate(headers):
        h = h or f"column {i + 1}"
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    return out
