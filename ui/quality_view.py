"""Data-quality figures per jurisdiction: unmapped call types, missing times, unknown race.

Record-level figures: through ``service.guarded``, an analyst sees their own jurisdictions' only,
and anyone else the refusal (recorded by the data layer).
"""
from __future__ import annotations

from contextlib import closing

import pandas as pd
import streamlit as st

from service import guarded
from service.access import AccessDenied
from ui import auth, cache
from ui.text import escape


def _percent(label):
    return st.column_config.NumberColumn(label, format="percent")


def show(key: str = "quality") -> None:
    with closing(cache.cursor()) as cur:
        try:
            _show(cur, key)
        except AccessDenied as e:
            st.info(escape(str(e)), icon=":material/lock:")


def _show(cur, key) -> None:
    rows = guarded.quality_by_jurisdiction(cur, auth.current())
    if not rows:
        st.info("No data yet: the figures appear once something is imported.")
        return
    st.markdown("**Per jurisdiction**")
    st.caption("Unmapped: calls whose type has no category in the crosswalk (their "
               "eligibility is unknown). Unknown race/ethnicity: team responses recorded "
               "blank or unknown; equity views are only as good as this share.")
    st.dataframe(pd.DataFrame(rows)[[
        "jurisdiction", "calls", "unmapped_share", "unmapped_types", "responses",
        "race_unknown_share", "rows_read", "rows_rejected"]], hide_index=True,
        key=f"{key}_table", column_config={
            "unmapped_share": _percent("calls unmapped"),
            "unmapped_types": st.column_config.NumberColumn("unmapped call types"),
            "race_unknown_share": _percent("race/ethnicity unknown"),
            "rows_read": st.column_config.NumberColumn("rows imported"),
            "rows_rejected": st.column_config.NumberColumn("rows rejected"),
        })
    _warnings(cur, key)
    _rejects(cur, key)


def _warnings(cur, key) -> None:
    st.markdown("**Row warnings** (rows kept, but a time is missing or doubtful)")
    rows = guarded.warnings_by_type(cur, auth.current())
    if not rows:
        st.caption("No warnings.")
        return
    frame = pd.DataFrame(rows)
    st.dataframe(frame[["jurisdiction", "kind", "meaning", "records"]], hide_index=True,
                 key=f"{key}_warnings",
                 column_config={"meaning": st.column_config.TextColumn("warning")})


def _rejects(cur, key) -> None:
    st.markdown("**Rejected rows per import**")
    rows = [r for r in guarded.rejects_per_import(cur, auth.current()) if r["rows_read"]]
    if not rows:
        st.caption("No imports from files yet.")
        return
    st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{key}_rejects",
                 column_config={"import_id": st.column_config.NumberColumn("import #"),
                                "rejected_share": _percent("share rejected")})
