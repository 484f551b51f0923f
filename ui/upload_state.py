"""The import wizard's shared state: what every step reads (the check's result) and clears
(the mapping, the file), and the progress bar the check and the import both draw."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from data import uploads
from data.connection import default_db_path


def uploads_dir() -> Path:
    return uploads.uploads_dir(default_db_path())


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def request_check(key):
    st.session_state[f"{key}__run_check"] = True


def checked_result(key):
    checked = st.session_state.get(f"{key}__checked")
    return None if not checked or checked.get("error") else checked["result"]


def progress(bar, verb):
    def report(step, fraction):
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=f"{verb}: {step}…")
    return report


def clear(key, everything: bool = False) -> None:
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
