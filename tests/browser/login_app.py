"""A minimal app behind ui.auth.require_login(), for the log-in tests (dashboard.py aside)."""
import streamlit as st

from ui import auth

st.set_page_config(page_title="Log-in test")
principal = auth.require_login()
st.title("Signed in")
st.write(f"principal: {principal.actor}")
st.write(f"roles: {principal.describe()}")
