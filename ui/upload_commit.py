"""Step 7 of the import wizard and what follows it: the import itself, its summary, the
rejected rows to download, and what still keeps the jurisdiction's pages empty."""
from __future__ import annotations

import copy
import logging
from contextlib import closing

import streamlit as st

import data
from data import mapping, quality, uploads
from data.connection import default_db_path
from service import guarded
from service.access import AccessDenied
from ui import auth, cache, messages
from ui.text import escape
from ui.upload_check import notes
from ui.upload_state import clear, progress, uploads_dir

log = logging.getLogger(__name__)

CROSSWALK_TAB = "Call-type crosswalk"  # app_pages/data.py TABS


def _request_commit(key):
    st.session_state[f"{key}__run_commit"] = True


def commit(cur, key, target, upload, profile, step: int = 7) -> None:
    checked = st.session_state[f"{key}__checked"]
    result = checked["result"]
    if result.status == "already_imported":
        return
    st.header(f"{step}. Import")
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
            progress=progress(bar, "Importing"))
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
    uploads.remove_upload(upload["path"], uploads_dir())
    st.session_state[f"{key}__done"] = {"result": result, "profile_path": saved}
    st.rerun()


def show_done(cur, key) -> None:
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
    lines += [f"- {escape(n)}" for n in notes(result)]
    lines += [f"- {quality.WARNING_LABELS.get(w, w)}: {n:,}"
              for w, n in sorted(result.warnings_by_type.items())]
    unclear = [m for m in result.value_mappings if m["how"] == "not recognised"]
    lines += [f"- `{m['field']}`: '{escape(m['raw'])}' not recognised, "
              f"stored as {escape(m['code'])} ({m['rows']:,} rows)" for m in unclear[:10]]
    return "\n".join(lines)


def _start_over(key):
    clear(key, everything=True)
    st.session_state[f"{key}__gen"] = st.session_state.get(f"{key}__gen", 0) + 1
    st.session_state.pop(f"{key}_folder", None)  # the import folder's choice, too
