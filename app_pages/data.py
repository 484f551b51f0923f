"""Data: import an export step by step, see and undo imports, map call types, check quality."""
import streamlit as st

from ui import costs_upload, crosswalk_editor, history, quality_view, upload

st.title("Data")
st.caption("Bring in your exports, check them row by row before anything is saved, and keep "
           "the call-type crosswalk and the data quality in view.")

TABS = ["Import a file", "Import history", "Call-type crosswalk", "Data quality",
        "Program costs"]
importing, ledger, xwalk, dq, money = st.tabs(TABS, key="data_tab", bind="query-params")
with importing:
    if importing.open:
        upload.show(key="upload")
with ledger:
    if ledger.open:
        history.show(key="history")
with xwalk:
    if xwalk.open:
        crosswalk_editor.show(key="crosswalk")
with dq:
    if dq.open:
        quality_view.show(key="quality")
with money:
    if money.open:
        costs_upload.entry(key="costs")
