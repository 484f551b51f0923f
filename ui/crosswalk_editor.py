"""Editing a jurisdiction's call-type crosswalk: category and eligibility per local call type.

Through ``data.guarded``: only the jurisdictions the signed-in person may edit are offered, and
every read and save is checked (and each save recorded) by the data layer.
"""
from __future__ import annotations

import hashlib
from contextlib import closing

import pandas as pd
import streamlit as st

from data import access, crosswalk, guarded, quality
from data.access import AccessDenied
from ui import auth, cache
from ui.text import escape

ELIGIBLE = {"yes": True, "no": False, "unknown": None}
_ELIGIBLE_LABEL = {True: "yes", False: "no", None: "unknown"}


def show(key: str = "crosswalk") -> None:
    with closing(cache.cursor()) as cur:
        try:
            _show(cur, key)
        except AccessDenied as e:  # recorded by the data layer
            st.info(escape(str(e)), icon=":material/lock:")


def _show(cur, key) -> None:
    p = auth.current()
    every = [j["jurisdiction"] for j in quality.jurisdictions(cur)]
    if not every:
        st.info("No jurisdiction yet: import a calls export first; its call types then "
                "appear here to be mapped.")
        return
    names = [j for j in every if p.may_write(j)]
    if not names:
        access.authorize(cur, p, "crosswalk.view")  # refuses, and records the refusal
    jur = st.selectbox("Jurisdiction", names, key=f"{key}_jur")
    _outcome(key)
    _unmapped_figure(cur, jur)
    st.button("Add starter rows for call types not in the crosswalk", key=f"{key}_starter",
              on_click=_request, args=(key, "starter"),
              help="Common wordings (welfare check, EDP, intoxication...) get a standard "
                   "category; eligibility stays unknown where a rule cannot tell. Rows "
                   "you already have are never changed.")
    if st.session_state.pop(f"{key}__starter", False):
        _add_starter(cur, key, jur)
    _editor(cur, key, jur)


def _request(key, what) -> None:
    st.session_state[f"{key}__{what}"] = True


def _outcome(key) -> None:
    if f"{key}__outcome" in st.session_state:
        st.success(st.session_state.pop(f"{key}__outcome"))


def _unmapped_figure(cur, jur) -> None:
    u = guarded.unmapped_share(cur, auth.current(), jur)
    if not u["calls"]:
        st.caption(f"{escape(jur)} has no calls yet; you can still set categories for known types.")
        return
    st.metric("Calls whose type has no category", f"{u['share']:.1%}",
              help="Their eligibility for alternative response is unknown (metric Q1).")
    st.caption(f"{u['unmapped']:,} of {u['calls']:,} calls.")


def _add_starter(cur, key, jur) -> None:
    out = guarded.apply_starter_crosswalk(cur, auth.current(), jur)
    st.cache_data.clear()
    _drop_editor_state(key)
    st.session_state[f"{key}__outcome"] = (
        f"Added {out['added']:,} call type(s): {out['categorised']:,} with a starter category, "
        f"{out['uncategorised']:,} left for you to categorise.")
    st.rerun()


def _editor(cur, key, jur) -> None:
    rows = guarded.crosswalk_rows(cur, auth.current(), jur)
    if not rows:
        st.caption("No call types yet.")
        return
    only = st.toggle("Only call types without a category", key=f"{key}_only_unmapped")
    frame = _frame(rows, only)
    options = crosswalk.category_options(cur, jur)
    st.data_editor(
        frame, key=_editor_key(key, jur, only), hide_index=True, num_rows="fixed",
        disabled=["call type", "calls"], height=min(36 * (len(frame) + 1) + 2, 520),
        column_config={
            "calls": st.column_config.NumberColumn(format="localized"),
            "category": st.column_config.SelectboxColumn(options=options),
            "eligible": st.column_config.SelectboxColumn(
                options=list(ELIGIBLE), required=True,
                help="Eligible for alternative response; 'unknown' = not triaged yet"),
        })
    if st.button("Save the crosswalk", key=f"{key}_save", type="primary"):
        _save(cur, key, jur, frame, _editor_key(key, jur, only))


def _frame(rows, only_unmapped) -> pd.DataFrame:
    frame = pd.DataFrame({
        "call type": [r["call_type"] for r in rows],
        "calls": [r["calls"] for r in rows],
        "category": pd.Series([r["category"] for r in rows], dtype="object"),
        "eligible": [_ELIGIBLE_LABEL[r["eligible"]] for r in rows]})
    if only_unmapped:
        frame = frame[frame["category"].isna()].reset_index(drop=True)
    return frame


def edited_rows(frame: pd.DataFrame, state) -> list[dict]:
    """The rows the editor changed, as crosswalk rows (eligible as True/False/None)."""
    edits = (state or {}).get("edited_rows", {}) if hasattr(state, "get") else {}
    out = []
    for i, r in frame.iterrows():
        e = edits.get(i, edits.get(str(i)))
        if not e:
            continue
        category = e.get("category", r["category"])
        eligible = e.get("eligible", r["eligible"])
        out.append({"call_type": r["call type"],
                    "category": None if category is None or pd.isna(category) else category,
                    "eligible": ELIGIBLE.get(eligible)})
    return out


def _save(cur, key, jur, frame, editor_key) -> None:
    rows = edited_rows(frame, st.session_state.get(editor_key))
    if not rows:
        st.info("Nothing changed: edit a category or an eligibility first.")
        return
    saved = guarded.save_crosswalk(cur, auth.current(), jur, rows)
    st.cache_data.clear()
    _drop_editor_state(key)
    st.session_state[f"{key}__outcome"] = (
        f"Saved {saved:,} call type(s) for {escape(jur)}. Categories and eligibility apply at once to "
        "every call already imported.")
    st.rerun()


def _editor_key(key, jur, only) -> str:
    # One editor state per jurisdiction and view, so edits never leak onto another table.
    digest = hashlib.sha256(f"{jur}\x1f{only}".encode()).hexdigest()[:10]
    return f"{key}_editor_{digest}"


def _drop_editor_state(key) -> None:
    for k in [k for k in st.session_state if str(k).startswith(f"{key}_editor_")]:
        del st.session_state[k]
