"""Admin: people and roles, jurisdictions, and the audit trail. Admins only (checked in data/)."""
import streamlit as st

from ui import admin_view, auth

st.title("Admin")
principal = auth.current()
admin_view.require_admin(principal)
st.caption("Who may do what in this deployment, the jurisdictions' settings, and the audit "
           "trail of every sign-in, refusal, import, undo, change and download.")

TABS = ["People and roles", "Jurisdictions", "Audit log"]
people_tab, jur_tab, audit_tab = st.tabs(TABS, key="admin_tab", bind="query-params")
with people_tab:
    if people_tab.open:
        admin_view.people(principal, key="admin_people")
with jur_tab:
    if jur_tab.open:
        admin_view.jurisdictions(principal, key="admin_jur")
with audit_tab:
    if audit_tab.open:
        admin_view.audit_log(principal, key="admin_audit")
