"""The import wizard: kind and jurisdiction -> file -> preview -> columns -> check ->
values -> import.

``show(key=...)`` renders every step; each step is a small function below. All state lives in
``st.session_state`` under names starting with ``key`` (``<key>_...`` for widgets, ``<key>__...``
for the wizard's own state). Buttons only set a flag in a callback; the script does the work
where its output belongs. The logic that does not need Streamlit is in ``data/mapping.py``.

Every read of the file and every import goes through ``service.guarded`` for the signed-in
principal (``ui.auth.current()``): only the jurisdictions they may import into are offered, a
new jurisdiction only to admins, and the data layer refuses (and records) anything else.
"""
from __future__ import annotations

import copy
import logging
import re
from contextlib import closing
from pathlib import Path

import pandas as pd
import streamlit as st

import data
from data import mapping, quality, uploads
from service import access, guarded
from service.access import AccessDenied
from data.connection import default_db_path
from data.importer import find_stored_profile
from data.schema import FIELDS, field_of
from ui import auth, boundaries_upload, cache, costs_upload, import_folder, messages
from ui.text import escape
from ui.upload_columns import duplicate_headers, field_grid, options

log = logging.getLogger(__name__)

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
_OTHER_VALUE = {"— reject the row —": None, "no": False, "yes": True, "blank (unknown)": ""}


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
            _show_done(cur, key)
            return
        if not target["jurisdiction"]:
            st.info("Name the jurisdiction (step 1) to go on.")
            return
        _reset_if_changed(key, target["kind"], upload)
        info = _preview(cur, key, target, upload)
        if info is None:
            return
        profile = _map_columns(key, target, info)
        _check(cur, key, target, upload, profile)
        result = _checked_result(key)
        if result is None:
            return
        step = 7 if _map_values(key, target["kind"], result, profile) else 6
        _commit(cur, key, target, upload, profile, step)


# --------------------------------------------------------------------------------------------
# 1. Kind and jurisdiction
# --------------------------------------------------------------------------------------------

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
    st.subheader("1. What are you importing?")
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


# --------------------------------------------------------------------------------------------
# 2. The file
# --------------------------------------------------------------------------------------------

def _uploads_dir() -> Path:
    return uploads.uploads_dir(default_db_path())


def _choose_file(key, jurisdiction=None) -> dict | None:
    """Keep exactly one file on disk for the file in the uploader; None when there is none.
    Or a file the analyst names in the server's import folder (ui/import_folder.py)."""
    st.subheader("2. Choose the export")
    if import_folder.wanted(key):
        return _keep_chosen(key, import_folder.choose(key, jurisdiction))
    gen = st.session_state.setdefault(f"{key}__gen", 0)
    uploaded = st.file_uploader("CSV, CSV.gz, TXT or XLSX", type=FILE_TYPES,
                                key=f"{key}_file_{gen}")
    current = st.session_state.get(f"{key}__upload")
    if uploaded is None:
        if current:
            uploads.remove_upload(current["path"], _uploads_dir())
            _clear(key, everything=True)
        return None
    if current and current["file_id"] == uploaded.file_id:
        return current
    if current:  # a new file replaced the previous one
        uploads.remove_upload(current["path"], _uploads_dir())
    _clear(key, everything=True)
    try:
        path = uploads.save_upload(uploaded, uploaded.name, _uploads_dir())
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
        uploads.remove_upload(current["path"], _uploads_dir())  # an upload's copy, if it was one
        _clear(key, everything=True)
    if chosen:
        st.session_state[f"{key}__upload"] = chosen
    return chosen


def _explain_what_to_upload(kind: str) -> None:
    required = [_lower_first(f.doc) for f in FIELDS[kind] if f.required]
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


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# --------------------------------------------------------------------------------------------
# 3. Preview
# --------------------------------------------------------------------------------------------

def _reset_if_changed(key, kind, upload) -> None:
    sig = (upload["file_id"], kind, st.session_state.get(f"{key}_opt_sheet"))
    if st.session_state.get(f"{key}__sig") != sig:
        _clear(key)
        st.session_state[f"{key}__sig"] = sig


def _preview(cur, key, target, upload) -> dict | None:
    st.subheader("3. First rows of the file")
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


# --------------------------------------------------------------------------------------------
# 4. Columns and options
# --------------------------------------------------------------------------------------------

def _map_columns(key, target, info) -> data.Profile:
    kind, headers = target["kind"], info["headers"]
    st.subheader("4. Which column is which?")
    stored = _stored_profile(key, kind, headers, target["jurisdiction"])
    init = mapping.initial_choices(kind, headers, info["suggestions"], stored)
    if stored is not None:
        st.caption(f"Prefilled from the mapping saved for files with these headers "
                   f"({escape(stored.name)}). Change anything that is wrong.")
    else:
        st.caption("Prefilled from the headers and the values, with how sure each guess is. "
                   "Fields marked **required** must have a column.")
    duplicate_headers(info)
    source = "saved mapping" if stored is not None else None
    fields = mapping.ordered_fields(kind)
    sugg = info["suggestions"]
    found = [f for f in fields if f.required or init.get(f.name)
             or (f.name in sugg and sugg[f.name].alternatives)]
    rest = [f for f in fields if f not in found]
    names = mapping.column_names(headers)
    choices = field_grid(key, found, headers, init, sugg, source, names)
    with st.expander(f"More fields ({len(rest)}) that no column matched"):
        choices.update(field_grid(key, rest, headers, init, sugg, source, names))
    opts = options(key, kind, choices, stored, info)
    values = _values_with_edits(key, kind, stored)
    return mapping.build_profile(kind, headers, choices, opts, values)


def _stored_profile(key, kind, headers, jurisdiction):
    # Remembered with its jurisdiction: another jurisdiction's profile is never applied.
    if st.session_state.get(f"{key}__stored_for") != jurisdiction:
        st.session_state.pop(f"{key}__stored", None)
        st.session_state[f"{key}__stored_for"] = jurisdiction
    if f"{key}__stored" not in st.session_state:
        found = None
        try:
            path = find_stored_profile(uploads.profiles_dir(default_db_path()), kind, headers,
                                       jurisdiction)
            found = data.load_profile(path) if path else None
        except data.DataError as e:  # a broken saved profile: say so and start from guesses
            st.warning(f"The saved mapping for these headers cannot be used: {escape(str(e))}")
        st.session_state[f"{key}__stored"] = found
    return st.session_state[f"{key}__stored"]


# --------------------------------------------------------------------------------------------
# 5. Check (dry run)
# --------------------------------------------------------------------------------------------

def _request_check(key):
    st.session_state[f"{key}__run_check"] = True


def _check(cur, key, target, upload, profile) -> None:
    st.subheader("5. Check every row")
    missing = mapping.missing_required(target["kind"], profile.columns, profile.options)
    st.button("Check the file (nothing is saved yet)", key=f"{key}_check",
              on_click=_request_check, args=(key,), disabled=bool(missing),
              type="primary" if _checked_result(key) is None else "secondary")
    if missing:
        names = ", ".join(f"`{m}` ({_lower_first(field_of(target['kind'], m).doc)})"
                          for m in missing)
        st.warning(f"Choose a column for the required field(s): {names}.")
        return
    if st.session_state.pop(f"{key}__run_check", False):
        _run_check(cur, key, target, upload, profile)
    checked = st.session_state.get(f"{key}__checked")
    if checked is None:
        return
    if checked.get("error"):
        st.error(checked["error"])  # Markdown already: escaped where it was built
        return
    if checked["toml"] != profile.to_toml():
        st.info("You changed the columns or the values since this check: check again to see "
                "the effect before importing.")
    _report(checked["result"], profile)


def _run_check(cur, key, target, upload, profile) -> None:
    bar = st.progress(0.0, text="Checking…")
    entry, ask_day_order = {"toml": profile.to_toml(), "profile": profile}, False
    try:
        entry["result"] = guarded.import_file(
            cur, auth.current(), upload["path"], kind=target["kind"],
            jurisdiction=target["jurisdiction"],
            profile=mapping.dry_run_profile(copy.deepcopy(profile)), file_name=upload["name"],
            dry_run=True,
            timezone_name=target["timezone"], progress=_progress(bar, "Checking"))
        st.session_state[f"{key}__values"] = dict(profile.values)
    except data.AmbiguousDates as e:
        # Sticky until the file changes: from now on the answer is part of the mapping.
        ask_day_order = not st.session_state.get(f"{key}__ambiguous")
        st.session_state[f"{key}__ambiguous"] = True
        entry["error"] = f"{escape(str(e))} Answer the question in step 4 and check again."
    except data.DataError as e:
        entry["error"] = escape(str(e))
    except Exception as e:  # a bug, not the file: a sentence here, the traceback in the log
        log.exception("dry run failed")
        entry["error"] = messages.import_failed(e)
    bar.empty()
    st.session_state[f"{key}__checked"] = entry
    if ask_day_order:
        st.rerun()  # the day-order question sits above this step: draw it now


def _checked_result(key):
    checked = st.session_state.get(f"{key}__checked")
    return None if not checked or checked.get("error") else checked["result"]


def _report(result, profile) -> None:
    if result.status == "already_imported":
        st.info(escape(result.summary_lines()[0]))
        return
    cols = st.columns(6)
    figures = [("Rows read", result.rows_read), ("New records", result.rows_inserted),
               ("Updated", result.rows_updated), ("Unchanged", result.rows_unchanged),
               ("Rejected rows", result.rows_rejected), ("Rows with warnings", result.rows_warned)]
    for col, (label, n) in zip(cols, figures):
        # None: not for this person (an admin without the analyst role; issue 27).
        col.metric(label, "—" if n is None else f"{n:,}")
    for line in _notes(result):
        st.caption(escape(line))
    refused = mapping.refusal(result, profile)
    if refused:
        st.error(escape(refused))
    if result.warnings_by_type:
        st.markdown("**Warnings** (the rows are imported; these are data-quality figures)")
        st.dataframe(pd.DataFrame([{"warning": quality.WARNING_LABELS.get(w, w), "rows": n}
                                   for w, n in sorted(result.warnings_by_type.items())]),
                     hide_index=True)
    if result.reject_reasons:
        st.markdown("**Rejected rows** (not imported; each with its reason)")
        st.dataframe(pd.DataFrame([{**r, "reason": plain_reason(r["reason"])}
                                   for r in result.reject_reasons]), hide_index=True)
        st.download_button(f"Download the first {len(result.rejects_preview)} rejected rows "
                           "(CSV)", _check_rejects_download(result),
                           file_name="rejected-rows-check.csv", mime="text/csv",
                           key="check_rejects_csv", on_click="ignore")


def _check_rejects_download(result):
    """The check's rejected rows as CSV (formula-safe), recorded in the audit log on click."""
    p = auth.current()

    def rejects() -> str:
        with closing(cache.cursor()) as own:
            guarded.record_download(own, p, "rejected rows of a check",
                                    jurisdiction=result.jurisdiction,
                                    detail={"rows": len(result.rejects_preview)})
        return quality.rejects_csv(result.rejects_preview)
    return rejects


def _notes(result) -> list[str]:
    lines = []
    if result.unit_rows:
        lines.append(f"{result.unit_rows[0]:,} unit rows become {result.unit_rows[1]:,} calls.")
    if result.fingerprint_merged is not None:
        lines.append(f"Rows identified by fingerprint; {result.fingerprint_merged:,} identical "
                     "rows merged.")
    return lines + [n[0].upper() + n[1:] + "." for n in result.notes if n]


# --------------------------------------------------------------------------------------------
# 6. Values
# --------------------------------------------------------------------------------------------

def _map_values(key, kind, result, profile) -> bool:
    """Step 6 when some field has coded values; False (no step drawn) otherwise."""
    groups = mapping.group_value_mappings(result.value_mappings)
    groups = {k: v for k, v in groups.items() if mapping.code_options(field_of(kind, k))}
    if not groups:
        return False
    st.subheader("6. Standard codes for the values")
    st.caption("Each value in the file gets a standard code, so that jurisdictions compare like "
               "with like (the original value is kept too). To change one, double-click its "
               "cell in the **standard code** column; then check again.")
    for fname, rows in groups.items():
        f = field_of(kind, fname)
        with st.expander(_values_title(f, rows, profile), expanded=_unclear(rows) > 0):
            st.data_editor(_value_frame(f, rows), key=f"{key}_val_{fname}", hide_index=True,
                           num_rows="fixed", disabled=["value in file", "rows", "note"],
                           height=min(35 * (len(rows) + 1) + 3, 600),
                           column_config={"code": st.column_config.SelectboxColumn(
                               "standard code", options=list(mapping.code_options(f)),
                               required=True)})
            if f.type == "bool":
                _other_values_choice(key, fname)
    st.button("Check again with these codes", key=f"{key}_recheck",
              on_click=_request_check, args=(key,))
    return True


def _unclear(rows) -> int:
    return sum(r["rows"] for r in rows if r["how"] in ("not recognised", "unreadable"))


def _values_title(f, rows, profile) -> str:
    source = " + ".join(profile.columns.get(f.name, [])) or "?"
    title = f"{f.doc} (`{f.name}`), from '{escape(source)}': {len(rows)} value(s)"
    unclear = _unclear(rows)
    if unclear:
        what = "not yes/no" if f.type == "bool" else "not recognised"
        title += f", :red[{unclear:,} rows {what}]"
    return title


def _value_frame(f, rows) -> pd.DataFrame:
    return pd.DataFrame({
        "value in file": [r["raw"] for r in rows],
        "rows": [r["rows"] for r in rows],
        "code": [mapping.display_code(f, r["code"]) for r in rows],
        "note": [mapping.value_note(r["how"]) for r in rows]})


def _other_values_choice(key, fname) -> None:
    base = (st.session_state.get(f"{key}__values") or {}).get(fname, {})
    labels = list(_OTHER_VALUE)
    index = next((i for i, label in enumerate(labels)
                  if "*" in base and _OTHER_VALUE[label] == base["*"]
                  and label != labels[0]), 0)
    st.selectbox("Any other value (also in later files) means", labels, index=index,
                 key=f"{key}_other_{fname}")


def _values_with_edits(key, kind, stored) -> dict:
    """The profile values: the last checked ones (or the saved profile's) plus current edits."""
    if f"{key}__values" not in st.session_state:
        st.session_state[f"{key}__values"] = dict(stored.values) if stored is not None else {}
    base = st.session_state[f"{key}__values"]
    result = _checked_result(key)
    if result is None:
        return base
    edits = {}
    for fname, rows in mapping.group_value_mappings(result.value_mappings).items():
        f = field_of(kind, fname)
        state = st.session_state.get(f"{key}_val_{fname}") or {}
        edited = state.get("edited_rows", {}) if isinstance(state, dict) else {}
        chosen = [edited.get(i, {}).get("code", mapping.display_code(f, r["code"]))
                  for i, r in enumerate(rows)]
        edits[fname] = mapping.value_edits(f, rows, chosen)
    values = mapping.merge_values(base, edits)
    for fname in list(values) + [k[len(f"{key}_other_"):] for k in st.session_state
                                 if str(k).startswith(f"{key}_other_")]:
        other = st.session_state.get(f"{key}_other_{fname}")
        if other is None:
            continue
        entries = dict(values.get(fname, {}))
        entries.pop("*", None)
        if _OTHER_VALUE[other] is not None:
            entries["*"] = _OTHER_VALUE[other]
        values[fname] = entries
    return {k: v for k, v in values.items() if v}


# --------------------------------------------------------------------------------------------
# 7. Import
# --------------------------------------------------------------------------------------------

def _request_commit(key):
    st.session_state[f"{key}__run_commit"] = True


def _commit(cur, key, target, upload, profile, step: int = 7) -> None:
    checked = st.session_state[f"{key}__checked"]
    result = checked["result"]
    if result.status == "already_imported":
        return
    st.subheader(f"{step}. Import")
    stale = checked["toml"] != profile.to_toml()
    refused = mapping.refusal(result, profile)
    midnight = _midnight_warning(key, result, profile)
    n = result.rows_read - result.rows_rejected
    st.button(f"Import {n:,} rows into {escape(target['jurisdiction'])}", key=f"{key}_commit",
              type="primary", disabled=bool(stale or refused or midnight),
              on_click=_request_commit, args=(key,))
    why = mapping.rows_and_records(result)
    if why:
        st.caption(why)
    if stale:
        st.caption("Check again first: the columns or values changed since the check.")
    if st.session_state.pop(f"{key}__run_commit", False) and not (stale or refused or midnight):
        _run_commit(cur, key, target, upload, profile)


def _midnight_warning(key, result, profile) -> bool:
    """Before saving a mapping under which every time reads 0:00: say so, and ask."""
    if not result.midnight_only:
        return False
    names = ", ".join(f"`{n}` ('{' + '.join(profile.columns.get(n, []))}')"
                      for n in result.midnight_only)
    st.warning(f"Every time in {names} reads 0:00: the column holds dates alone (or a "
               "placeholder midnight). Hours of the day and response times would be "
               "meaningless, and the mapping is saved for next month's export. If the file "
               "has a time column, pick it beside the date in step 4 (date first) and check "
               "again.", icon=":material/schedule:")
    return not st.checkbox("Import anyway: this file has no times of day",
                           key=f"{key}_opt_midnight_ok")


def _run_commit(cur, key, target, upload, profile) -> None:
    bar = st.progress(0.0, text="Importing…")
    used = copy.deepcopy(profile)  # the importer records what it detected (e.g. the day order)
    try:
        result = guarded.import_file(
            cur, auth.current(), upload["path"], kind=target["kind"],
            jurisdiction=target["jurisdiction"],
            profile=used, file_name=upload["name"], timezone_name=target["timezone"],
            profile_dir=uploads.profiles_dir(default_db_path()),
            progress=_progress(bar, "Importing"))
    except data.DataError as e:
        bar.empty()
        st.error(escape(str(e)))
        return
    except Exception as e:
        log.exception("import failed")
        bar.empty()
        st.error(messages.import_failed(e))
        return
    bar.empty()
    saved = None
    if result.status == "committed":
        st.cache_data.clear()
        saved = data.save_profile(used, target["jurisdiction"],
                                  uploads.profiles_dir(default_db_path()),
                                  saved_by=auth.current().actor)
    uploads.remove_upload(upload["path"], _uploads_dir())
    st.session_state[f"{key}__done"] = {"result": result, "profile_path": saved}
    st.rerun()


def _show_done(cur, key) -> None:
    done = st.session_state[f"{key}__done"]
    result = done["result"]
    if result.status == "already_imported":
        st.info(escape(result.summary_lines()[0]))
    else:
        st.success(f"Import #{result.import_id} is saved: {escape(result.file_name)} as "
                   f"{result.kind} for {escape(result.jurisdiction)}. "
                   "The other pages now include it.")
        st.markdown(summary_markdown(result))
        if done.get("profile_path"):
            st.caption("The mapping is saved: the next export with the same headers maps "
                       "itself.")
        if result.rows_rejected and auth.current().is_analyst_of(result.jurisdiction):
            st.download_button(f"Download all {result.rows_rejected:,} rejected rows (CSV)",
                               rejects_download(result.import_id),
                               file_name=f"rejected-rows-import-{result.import_id}.csv",
                               mime="text/csv", key=f"{key}_done_rejects", on_click="ignore")
        if result.kind != "population":
            _next_steps(cur, key, result.jurisdiction)
    st.button("Import another file", key=f"{key}_again", on_click=_start_over, args=(key,))


CROSSWALK_TAB = "Call-type crosswalk"  # app_pages/data.py TABS


def _next_steps(cur, key, jurisdiction) -> None:
    """What still keeps the jurisdiction's pages empty or wrong, each with where to fix it."""
    try:
        steps = guarded.next_steps(cur, auth.current(), jurisdiction)
    except AccessDenied:
        return
    if not steps:
        st.success(f"Nothing is missing for {jurisdiction}: every page can show its figures.")
        return
    with st.container(key=f"{key}_next_steps"):
        st.markdown(f"**Next steps for {escape(jurisdiction)}**: what still keeps pages empty "
                    "or wrong")
        st.markdown("\n".join(f"{i}. {s['text']} *{s['where']}.*"
                               for i, s in enumerate(steps, 1)))
        if any(s["key"] in ("crosswalk", "eligibility", "eligible") for s in steps):
            st.button("Open the call-type crosswalk", key=f"{key}_to_crosswalk",
                      icon=":material/arrow_forward:", on_click=_open_crosswalk,
                      args=(jurisdiction,))


def _open_crosswalk(jurisdiction) -> None:
    st.session_state["data_tab"] = CROSSWALK_TAB
    st.session_state["crosswalk_jur"] = jurisdiction  # ui/crosswalk_editor.py's selectbox


def rejects_download(import_id: int):
    """The rejected rows of an import as CSV, read (and recorded) only when clicked."""
    p = auth.current()  # now: the callable runs later, maybe on another thread

    def rejects() -> str:
        with closing(cache.cursor()) as own:
            return guarded.rejects_csv(own, p, import_id)
    return rejects


def summary_markdown(result) -> str:
    """The import summary in plain words (the CLI's summary_lines speak TOML)."""
    lines = [f"- {result.rows_read:,} rows read: {result.rows_inserted:,} new, "
             f"{result.rows_updated:,} updated, {result.rows_unchanged:,} unchanged, "
             f"{result.rows_rejected:,} rejected; {result.rows_warned:,} with warnings"]
    lines += [f"- {escape(n)}" for n in _notes(result)]
    lines += [f"- {quality.WARNING_LABELS.get(w, w)}: {n:,}"
              for w, n in sorted(result.warnings_by_type.items())]
    unclear = [m for m in result.value_mappings if m["how"] == "not recognised"]
    lines += [f"- `{m['field']}`: '{escape(m['raw'])}' not recognised, "
              f"stored as {escape(m['code'])} ({m['rows']:,} rows)" for m in unclear[:10]]
    return "\n".join(lines)


def plain_reason(reason: str) -> str:
    """'... (map it under [values.contact_made])' -> '... (give it a code in step 6)'."""
    return re.sub(r"\(map it under \[values\.(\w+)\]\)", r"(give it a code under `\1` in "
                  "step 6)", reason)


def _start_over(key):
    _clear(key, everything=True)
    st.session_state[f"{key}__gen"] = st.session_state.get(f"{key}__gen", 0) + 1
    st.session_state.pop(f"{key}_folder", None)  # the import folder's choice, too


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def _progress(bar, verb):
    def report(step, fraction):
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=f"{verb}: {step}…")
    return report


def _clear(key, everything: bool = False) -> None:
    """Forget the mapping (and with ``everything``, the file and results too)."""
    prefixes = [f"{key}_col_", f"{key}_opt_dayfirst", f"{key}_opt_unit_rows",
                f"{key}_opt_midnight_ok", f"{key}_opt_tsformat",
                f"{key}_opt_fingerprint_ids", f"{key}_val_", f"{key}_other_", f"{key}__preview",
                f"{key}__stored", f"{key}__values", f"{key}__checked", f"{key}__ambiguous",
                f"{key}__run_"]
    if everything:
        prefixes += [f"{key}__upload", f"{key}__done", f"{key}__sig", f"{key}_opt_sheet"]
    for k in list(st.session_state):
        if any(str(k).startswith(p) for p in prefixes):
            del st.session_state[k]
