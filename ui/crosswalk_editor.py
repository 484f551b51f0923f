"""Editing a jurisdiction's call-type crosswalk: category and eligibility per local call type.

Through ``service.guarded``: only the jurisdictions the signed-in person may edit are offered, and
every read and save is checked (and each save recorded) by the data layer.
"""
from __future__ import annotations

import hashlib
from contextlib import closing

import pandas as pd
import streamlit as st

from data import crosswalk, quality
from service import access, guarded
from service.access import AccessDenied
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
    rows = guarded.crosswalk_rows(cur, auth.current(), jur)
    suggestions = guarded.crosswalk_suggestions(cur, auth.current(), jur)
    targets = crosswalk.target_categories(cur, jur)
    _unmapped_figure(cur, jur)
    _accept_all(cur, key, jur, rows, suggestions, targets)
    st.button("Add starter rows for call types not in the crosswalk", key=f"{key}_starter",
              on_click=_request, args=(key, "starter"),
              help="Each call type not in the crosswalk yet gets a row: the suggested "
                   "category when the suggestion is confident, else none. Rows you already "
                   "have are never changed. (Every calls import does this by itself.)")
    if st.session_state.pop(f"{key}__starter", False):
        _add_starter(cur, key, jur)
    _editor(cur, key, jur, rows, suggestions, targets)


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
    st.metric("Call volume still unmapped (type without a category)", f"{u['share']:.1%}",
              help="Their eligibility for alternative response is unknown (metric Q1).")
    st.caption(f"{u['unmapped']:,} of {u['calls']:,} calls.")


def _accept_all(cur, key, jur, rows, suggestions, targets) -> None:
    """One action for every confident suggestion of a type no person has confirmed."""
    if not targets:
        st.warning(f"{jur} has no target categories set, so no call is eligible yet: "
                   "eligibility is proposed from them. An admin sets them on the Admin page "
                   "(Jurisdictions), or `python -m data settings --target-categories ...`.")
    todo = crosswalk.accepted_rows(rows, suggestions, targets)
    calls = {r["call_type"]: r["calls"] for r in rows}
    total = sum(calls.values()) or 1
    if todo:
        volume = sum(calls.get(r["call_type"], 0) for r in todo)
        already = sum(1 for r in rows if not r["confirmed"] and r["category"] is not None)
        if st.button(f"Accept {len(todo):,} confident suggestion(s) ({volume / total:.0%} of "
                     "calls)", key=f"{key}_accept_all", type="primary",
                     help="Writes the suggested category, with the eligibility proposed from "
                          "the target categories, for every call type whose suggestion is "
                          "confident and that no person has confirmed. Rows a person saved "
                          "are never changed."):
            saved = guarded.accept_suggestions(cur, auth.current(), jur)
            _saved(key, f"Accepted {saved:,} confident suggestion(s) for {escape(jur)}: categories "
                        "and eligibility apply at once to every call already imported.")
        if already:
            st.caption(f"{already:,} of the call types were given their confident suggestion "
                       "at import already; accepting confirms them (other jurisdictions then "
                       "learn from them, and undoing the import keeps them).")
    proposals = crosswalk.eligibility_proposals(rows, targets)
    if proposals:
        volume = sum(calls.get(r["call_type"], 0) for r in proposals)
        if st.button(f"Set eligibility from the target categories for {len(proposals):,} call "
                     f"type(s) still unknown ({volume / total:.0%} of calls)",
                     key=f"{key}_propose", help=f"Eligible when the category is one of "
                                                f"{', '.join(targets)}; not eligible otherwise."):
            saved = guarded.propose_eligibility(cur, auth.current(), jur)
            _saved(key, f"Set the eligibility of {saved:,} call type(s) for {escape(jur)} from its "
                        "target categories.")


def _add_starter(cur, key, jur) -> None:
    out = guarded.apply_starter_crosswalk(cur, auth.current(), jur)
    st.cache_data.clear()
    _drop_editor_state(key)
    st.session_state[f"{key}__outcome"] = (
        f"Added {out['added']:,} call type(s): {out['categorised']:,} with a starter category, "
        f"{out['uncategorised']:,} left for you to categorise.")
    st.rerun()


def _editor(cur, key, jur, rows, suggestions, targets) -> None:
    if not rows:
        st.caption("No call types yet.")
        return
    only = st.toggle("Only call types without a category", key=f"{key}_only_unmapped")
    frame = _frame(rows, only, suggestions, targets)
    options = crosswalk.category_options(cur, jur)
    st.caption("Most calls first. **suggested** is the category the wording points to, with "
               "its **confidence** (0-100%; from 80% it is accepted in one action above); tick "
               "**accept** to take one suggestion, or set the category yourself. **status**: "
               "*confirmed* rows were saved by a person; *automatic* ones were written at import.")
    st.data_editor(
        frame, key=_editor_key(key, jur, only), hide_index=True, num_rows="fixed",
        disabled=["call type", "calls", "suggested", "confidence", "proposed eligible",
                  "status"],
        height=min(36 * (len(frame) + 1) + 2, 520),
        column_config={
            "calls": st.column_config.NumberColumn(format="localized"),
            "category": st.column_config.SelectboxColumn(options=options),
            "eligible": st.column_config.SelectboxColumn(
                options=list(ELIGIBLE), required=True,
                help="Eligible for alternative response; 'unknown' = not triaged yet"),
            "accept": st.column_config.CheckboxColumn(
                help="Take the suggested category and the proposed eligibility"),
            "confidence": st.column_config.ProgressColumn(format="percent", min_value=0,
                                                          max_value=1),
            "proposed eligible": st.column_config.TextColumn(
                help="From the program's target categories (the category's default when "
                     "none are set)"),
        })
    if st.button("Save the crosswalk", key=f"{key}_save", type="primary"):
        _save(cur, key, jur, frame, _editor_key(key, jur, only))


def _frame(rows, only_unmapped, suggestions=(), targets=()) -> pd.DataFrame:
    by_type = {s["call_type"]: s for s in suggestions}
    sug = [by_type.get(r["call_type"], {}) for r in rows]
    frame = pd.DataFrame({
        "call type": [r["call_type"] for r in rows],
        "calls": [r["calls"] for r in rows],
        "category": pd.Series([r["category"] for r in rows], dtype="object"),
        "eligible": [_ELIGIBLE_LABEL[r["eligible"]] for r in rows],
        "accept": [False] * len(rows),
        "suggested": pd.Series([s.get("category") for s in sug], dtype="object"),
        "confidence": [s.get("confidence") for s in sug],
        "proposed eligible": [_ELIGIBLE_LABEL[crosswalk.proposed_eligible(s.get("category"),
                                                                          targets)]
                              for s in sug],
        "status": [_status(r) for r in rows]})
    if only_unmapped:
        frame = frame[frame["category"].isna()].reset_index(drop=True)
    return frame


def _status(r) -> str:
    if r.get("confirmed"):
        return "confirmed"
    return "automatic" if r["category"] is not None or r["eligible"] is not None else "to map"


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
        if e.get("accept") and "suggested" in r and r["suggested"] is not None \
                and not pd.isna(r["suggested"]):
            category = r["suggested"]  # accept one suggestion, with its proposed eligibility
            eligible = e.get("eligible", r["proposed eligible"])
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
    _saved(key, f"Saved {saved:,} call type(s) for {escape(jur)}. Categories and eligibility "
                "apply at "
                "once to every call already imported.")


def _saved(key, message: str) -> None:
    st.cache_data.clear()
    _drop_editor_state(key)
    st.session_state[f"{key}__outcome"] = message
    st.rerun()


def _editor_key(key, jur, only) -> str:
    # One editor state per jurisdiction and view, so edits never leak onto another table.
    digest = hashlib.sha256(f"{jur}\x1f{only}".encode()).hexdigest()[:10]
    return f"{key}_editor_{digest}"


def _drop_editor_state(key) -> None:
    for k in [k for k in st.session_state if str(k).startswith(f"{key}_editor_")]:
        del st.session_state[k]
