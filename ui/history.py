"""The imports ledger with an Undo button per committed import (confirmed before it runs).

Through ``service.guarded``: each person sees the imports of the jurisdictions they may import
into (an admin: all), Undo where they may write, Rejects (record-level) where they are an
analyst; the data layer checks again, and records, every undo and download.
"""
from __future__ import annotations

from contextlib import closing

import streamlit as st

import data
from service import guarded
from service.access import AccessDenied, Principal
from ui import auth, cache
from ui.text import escape

_SHOWN = 50  # the newest imports get a row each; the rest are in the table below
_WIDTHS = [0.5, 1.4, 1.0, 1.4, 2.4, 2.6, 1.0, 1.0]


def show(key: str = "history") -> None:
    p = auth.current()
    with closing(cache.cursor()) as cur:
        try:
            rows = guarded.import_history(cur, p)
        except AccessDenied as e:
            st.info(escape(str(e)), icon=":material/lock:")
            return
        if not rows:
            st.info("Nothing has been imported yet. Import an export in the first tab (or "
                    "load the demo cohort with `python -m data demo`).")
            return
        _confirm_undo(cur, p, key, {r["import_id"]: r for r in rows})
        st.caption("Newest first. Undo restores exactly the state before an import: its rows "
                   "go and the rows it replaced come back. Only the latest import of a "
                   "jurisdiction and kind can be undone.")
        _header()
        for r in rows[:_SHOWN]:
            _row(p, key, r)
        if len(rows) > _SHOWN:
            with st.expander(f"All {len(rows):,} imports"):
                st.dataframe(rows, hide_index=True)


def _header() -> None:
    for col, title in zip(st.columns(_WIDTHS), ["#", "imported", "kind", "jurisdiction", "file",
                                                  "rows", "status", ""]):
        col.markdown(f"**{title}**")


def _row(p: Principal, key, r) -> None:
    c = st.columns(_WIDTHS, vertical_alignment="center")
    c[0].write(f"{r['import_id']}")
    c[1].write(f"{r['imported_at']:%Y-%m-%d %H:%M}")
    c[2].write(escape(r["kind"]))
    c[3].write(escape(r["jurisdiction"]))
    c[4].write(escape(r["file_name"]))
    c[5].write(_counts(r))
    c[6].write("undone" if r["status"] == "undone" else "imported")
    with c[7]:
        if r["status"] == "committed" and p.may_write(r["jurisdiction"]):
            st.button("Undo", key=f"{key}_undo_{r['import_id']}", on_click=_ask,
                      args=(key, r["import_id"]))
        if r["rows_rejected"] and p.is_analyst_of(r["jurisdiction"]):
            _rejects_button(p, key, r)


def _counts(r) -> str:
    parts = [f"{r['rows_read']:,} read", f"{r['rows_inserted']:,} new"]
    if r["rows_updated"]:
        parts.append(f"{r['rows_updated']:,} updated")
    if r["rows_rejected"]:
        parts.append(f"{r['rows_rejected']:,} rejected")
    return ", ".join(parts)


def _rejects_button(p: Principal, key, r) -> None:
    import_id = r["import_id"]

    def rejects() -> str:  # built (and recorded) on click, on another thread: its own cursor
        with closing(cache.cursor()) as own:
            return guarded.rejects_csv(own, p, import_id)

    st.download_button("Rejects", rejects, file_name=f"rejected-rows-import-{import_id}.csv",
                       mime="text/csv", key=f"{key}_rejects_{import_id}", on_click="ignore",
                       help=f"The {r['rows_rejected']:,} rejected rows, with reason and values")


def _ask(key, import_id) -> None:
    st.session_state[f"{key}__pending"] = import_id


def _cancel(key) -> None:
    st.session_state.pop(f"{key}__pending", None)


def _confirm_undo(cur, p: Principal, key, by_id) -> None:
    """The confirmation box for a requested undo, or its outcome."""
    if f"{key}__outcome" in st.session_state:
        kind, text = st.session_state.pop(f"{key}__outcome")
        (st.success if kind == "ok" else st.error)(escape(text))
    pending = st.session_state.get(f"{key}__pending")
    if pending is None or pending not in by_id:
        return
    try:
        guarded.check_undo(cur, p, pending)
    except data.DataError as e:  # UndoRefused, or AccessDenied (recorded)
        st.error(escape(str(e)))
        _cancel(key)
        return
    r = by_id[pending]
    with st.container(border=True, key=f"{key}_confirm"):
        st.warning(f"Undo import #{pending} ({escape(r['kind'])} for {escape(r['jurisdiction'])}, "
                   f"{escape(r['file_name'])})? "
                   f"Its {r['rows_inserted'] + r['rows_updated']:,} records "
                   "are removed and the rows it replaced come back.")
        yes, no = st.columns(2)
        if yes.button(f"Yes, undo import #{pending}", key=f"{key}_confirm_yes", type="primary"):
            _undo(cur, p, key, pending)
        no.button("Cancel", key=f"{key}_confirm_no", on_click=_cancel, args=(key,))


def _undo(cur, p: Principal, key, import_id) -> None:
    _cancel(key)
    try:
        out = guarded.undo_import(cur, p, import_id)
    except data.DataError as e:
        st.session_state[f"{key}__outcome"] = ("error", str(e))
    else:
        st.cache_data.clear()
        st.session_state[f"{key}__outcome"] = (
            "ok", f"Import #{import_id} undone: {out['rows_removed']:,} rows removed, "
                  f"{out['rows_restored']:,} earlier rows restored.")
    st.rerun()
