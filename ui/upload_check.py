"""Step 5 of the import wizard: check every row (a dry run of the import) and report what
would happen: the figures, the warnings, the rejected rows with their reasons."""
from __future__ import annotations

import copy
import logging
import re
from contextlib import closing

import pandas as pd
import streamlit as st

import data
from data import mapping, quality
from data.schema import field_of
from service import guarded
from ui import auth, cache, messages
from ui.text import escape
from ui.upload_state import checked_result, lower_first, progress, request_check

log = logging.getLogger(__name__)


def check(cur, key, target, upload, profile) -> None:
    st.header("5. Check every row")
    missing = mapping.missing_required(target["kind"], profile.columns, profile.options)
    st.button("Check the file (nothing is saved yet)", key=f"{key}_check",
              on_click=request_check, args=(key,), disabled=bool(missing),
              type="primary" if checked_result(key) is None else "secondary")
    if missing:
        names = ", ".join(f"`{m}` ({lower_first(field_of(target['kind'], m).doc)})"
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
            timezone_name=target["timezone"], progress=progress(bar, "Checking"))
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
    for line in notes(result):
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


def notes(result) -> list[str]:
    lines = []
    if result.unit_rows:
        lines.append(f"{result.unit_rows[0]:,} unit rows become {result.unit_rows[1]:,} calls.")
    if result.fingerprint_merged is not None:
        lines.append(f"Rows identified by fingerprint; {result.fingerprint_merged:,} identical "
                     "rows merged.")
    return lines + [n[0].upper() + n[1:] + "." for n in result.notes if n]


def plain_reason(reason: str) -> str:
    """'... (map it under [values.contact_made])' -> '... (give it a code in step 6)'."""
    return re.sub(r"\(map it under \[values\.(\w+)\]\)", r"(give it a code under `\1` in "
                  "step 6)", reason)
