"""The admin page's parts: people and roles, jurisdictions, the audit log (view, verify, export).

Every read and write goes through ``service.access`` / ``service.guarded``, which check the admin
role and record the change; this module only draws forms and tables. Forms do their work in
the script after the submit button (never in a callback), then rerun with a message.
"""
from __future__ import annotations

import hashlib
from contextlib import closing
from datetime import date

import pandas as pd
import streamlit as st

from data import audit
from data import quality
from service import access, guarded
from service.access import AccessDenied, Principal
from data.crosswalk import category_options
from data.errors import DataError
from ui import cache
from ui.components import escape

WHOLE_COHORT = "— the whole cohort —"
_SHOWN_ENTRIES = 1000


def require_admin(principal: Principal) -> None:
    """Stop the page with the refusal (recorded) unless ``principal`` is an admin."""
    with closing(cache.cursor()) as cur:
        try:
            access.authorize(cur, principal, "people.view")
        except AccessDenied as e:
            st.error(escape(str(e)))
            st.stop()


def _outcome(key) -> None:
    kind, text = st.session_state.pop(f"{key}__outcome", (None, None))
    if kind:
        (st.success if kind == "ok" else st.error)(escape(text))


def _run(key, action, done: str) -> None:
    """Do ``action()``; keep its outcome for the next run, clear the caches, rerun."""
    try:
        action()
    except DataError as e:  # AccessDenied included: the sentence says what is needed
        st.session_state[f"{key}__outcome"] = ("error", str(e))
    else:
        st.cache_data.clear()
        st.session_state[f"{key}__outcome"] = ("ok", done)
    st.rerun()


# --------------------------------------------------------------------------------------------
# People and roles
# --------------------------------------------------------------------------------------------

def people(principal: Principal, key: str = "admin_people") -> None:
    _outcome(key)
    with closing(cache.cursor()) as cur:
        rows = access.people(cur, principal)
        jurisdictions = [j["jurisdiction"] for j in quality.jurisdictions(cur)]
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{key}_table",
                         column_config={"roles": st.column_config.ListColumn("roles")})
        else:
            st.info("Nobody is registered yet: add the first person below.")
        left, right = st.columns(2)
        with left:
            _add_person(cur, principal, key)
            _activate(cur, principal, key, rows)
        with right:
            _grant(cur, principal, key, rows, jurisdictions)
            _revoke(cur, principal, key, rows)


def _add_person(cur, principal, key) -> None:
    with st.form(f"{key}_add", clear_on_submit=True):
        st.markdown("**Add a person**")
        email = st.text_input("E-mail address (as the identity provider reports it)",
                              key=f"{key}_add_email")
        name = st.text_input("Name (optional)", key=f"{key}_add_name")
        if st.form_submit_button("Add"):
            _run(key, lambda: access.add_person(cur, principal, email, name),
                 f"Added {email.strip().lower()}. Give them a role next.")


def _grant(cur, principal, key, rows, jurisdictions) -> None:
    with st.form(f"{key}_grant"):
        st.markdown("**Grant a role**")
        email = st.selectbox("Person", [r["email"] for r in rows], index=None,
                             key=f"{key}_grant_email", placeholder="Choose a person")
        role = st.selectbox("Role", access.ROLES, index=access.ROLES.index("viewer"),
                            key=f"{key}_grant_role",
                            help="admin: people, jurisdictions, settings. analyst: import, "
                                 "undo, crosswalk and record-level views of one jurisdiction. "
                                 "viewer: published aggregates only.")
        jur = st.selectbox("Jurisdiction", [WHOLE_COHORT] + jurisdictions,
                           key=f"{key}_grant_jur", help="Leave 'the whole cohort' for admins "
                                                        "and cohort-wide viewers.")
        if st.form_submit_button("Grant") and _chosen(email, "a person"):
            j = None if jur == WHOLE_COHORT else jur
            _run(key, lambda: access.grant(cur, principal, email, role, j),
                 f"{email} is now {role}{f' of {j}' if j else ''}.")


def _revoke(cur, principal, key, rows) -> None:
    grants = [(r["email"], g) for r in rows for g in r["roles"]]
    with st.form(f"{key}_revoke"):
        st.markdown("**Revoke a role**")
        chosen = st.selectbox("Role", grants, format_func=lambda eg: f"{eg[0]}: {eg[1]}",
                              index=None, key=f"{key}_revoke_which",
                              placeholder="Choose a role to revoke")
        if st.form_submit_button("Revoke") and _chosen(chosen, "a role"):
            email, label = chosen
            role, _, jur = label.partition(" of ")
            _run(key, lambda: access.revoke(cur, principal, email, role, jur or None),
                 f"Revoked {label} from {email}.")


def _activate(cur, principal, key, rows) -> None:
    with st.form(f"{key}_active"):
        st.markdown("**Make a person inactive or active again**")
        st.caption("Someone inactive can no longer sign in; their roles are kept.")
        email = st.selectbox("Person", [r["email"] for r in rows], index=None,
                             key=f"{key}_active_email", placeholder="Choose a person")
        status = st.radio("Status", ["inactive", "active"], horizontal=True, index=None,
                          key=f"{key}_active_status")
        active = status == "active"
        if st.form_submit_button("Apply") and _chosen(email, "a person") and _chosen(
                status, "a status"):
            _run(key, lambda: access.set_active(cur, principal, email, active),
                 f"{email} is now {'active' if active else 'inactive'}.")


# --------------------------------------------------------------------------------------------
# Jurisdictions
# --------------------------------------------------------------------------------------------

def jurisdictions(principal: Principal, key: str = "admin_jur") -> None:
    _outcome(key)
    with closing(cache.cursor()) as cur:
        rows = guarded.jurisdiction_profiles(cur, principal)
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{key}_table")
        zones = quality.time_zones(cur)
        left, right = st.columns(2)
        with left:
            _add_jurisdiction(cur, principal, key, zones)
        with right:
            if rows:
                _edit_jurisdiction(cur, principal, key, {r["jurisdiction"]: r for r in rows},
                                   zones)


def _add_jurisdiction(cur, principal, key, zones) -> None:
    with st.form(f"{key}_add", clear_on_submit=True):
        st.markdown("**Add a jurisdiction**")
        name = st.text_input("Name", key=f"{key}_add_name")
        zone = st.selectbox("Time zone", zones, index=None, key=f"{key}_add_zone")
        if st.form_submit_button("Add") and _chosen(name, "a name") and _chosen(zone,
                                                                               "a time zone"):
            _run(key, lambda: guarded.add_jurisdiction(cur, principal, name, zone),
                 f"Added {name.strip()}.")


def _edit_jurisdiction(cur, principal, key, by_name, zones) -> None:
    name = st.selectbox("Settings of", list(by_name), key=f"{key}_edit_which")
    j = by_name[name]
    # A form per jurisdiction, so that its fields start from that jurisdiction's values.
    k = f"{key}_edit_{hashlib.sha256(name.encode()).hexdigest()[:10]}"
    categories = category_options(cur, name)
    with st.form(k):
        st.markdown(f"**Settings of {escape(name)}**")
        values = {
            "state": st.text_input("State", j["state"] or "", key=f"{k}_state") or None,
            "time_zone": st.selectbox("Time zone", zones, index=_index(zones, j["time_zone"]),
                                      key=f"{k}_tz"),
            "population": int(st.number_input("Population", min_value=0, step=1000, value=int(
                j["population"] or 0), key=f"{k}_pop")) or None,
            "program_name": st.text_input("Program name", j["program_name"] or "",
                                          key=f"{k}_program") or None,
            "launch_date": st.date_input("Program launch", j["launch_date"], key=f"{k}_launch",
                                         min_value=date(2000, 1, 1)),
            "target_categories": st.multiselect(
                "Target categories", categories,
                default=[c for c in j["target_categories"] or [] if c in categories],
                key=f"{k}_targets") or None,
            **_coverage_fields(k, j),
        }
        if st.form_submit_button("Save"):
            _run(key, lambda: guarded.update_jurisdiction(cur, principal, name, **values),
                 f"Saved the settings of {name}.")


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # ISO 1-7


def _coverage_fields(k, j) -> dict:
    """Coverage hours and days (blank hours = around the clock; no day = every day)."""
    left, right = st.columns(2)
    start = left.number_input("Team on duty from (local hour)", min_value=0, max_value=23,
                              value=j["coverage_start_hour"], step=1, key=f"{k}_start",
                              placeholder="around the clock")
    end = right.number_input("…until (local hour; may wrap past midnight)", min_value=1,
                             max_value=24, value=j["coverage_end_hour"], step=1,
                             key=f"{k}_end", placeholder="around the clock")
    days = st.multiselect("Days covered", _WEEKDAYS, key=f"{k}_days",
                          default=[_WEEKDAYS[int(d) - 1] for d in j["coverage_days"] or ""],
                          placeholder="every day")
    both = start is not None and end is not None and start != end
    chosen = "".join(str(_WEEKDAYS.index(d) + 1) for d in days)
    return {"coverage_start_hour": int(start) if both else None,
            "coverage_end_hour": int(end) if both else None,
            "coverage_days": chosen if 0 < len(chosen) < 7 else None}


def _chosen(value, what: str) -> bool:
    if not value:
        st.warning(f"Choose {what} first.")
    return bool(value)


def _index(options, value):
    return options.index(value) if value in options else None


# --------------------------------------------------------------------------------------------
# Audit log
# --------------------------------------------------------------------------------------------

def audit_log(principal: Principal, key: str = "admin_audit") -> None:
    with closing(cache.cursor()) as cur:
        if st.button("Verify the chain", key=f"{key}_verify"):
            _verify(cur, principal)
        entries = guarded.audit_entries(cur, principal)
    if not entries:
        st.info("The audit log is empty.")
        return
    only_denied = st.toggle("Only refusals", key=f"{key}_denied")
    shown = [e for e in reversed(entries) if not only_denied or e["outcome"] == "denied"]
    st.caption(f"{len(entries):,} entries; newest first"
               + (f", the latest {_SHOWN_ENTRIES:,} shown" if len(shown) > _SHOWN_ENTRIES
                  else "") + ". The CSV holds them all, with their hashes.")
    st.dataframe(pd.DataFrame(shown[:_SHOWN_ENTRIES]).drop(columns=["prev_hash"]),
                 hide_index=True, key=f"{key}_table")

    def csv() -> str:  # built on click, on another thread: it takes its own cursor
        with closing(cache.cursor()) as own:
            return guarded.audit_csv(own, principal)

    st.download_button("Download the audit log (CSV)", csv, file_name="audit-log.csv",
                       mime="text/csv", key=f"{key}_csv", on_click="ignore",
                       help="Every entry with its hash; the download itself is recorded.")


def _verify(cur, principal) -> None:
    broken = guarded.audit_check(cur, principal)
    if broken:
        st.error(f"Chain broken at {escape(str(broken))}")
        return
    head = audit.head(cur)
    st.success(f"Chain intact: {audit.count(cur):,} entries"
               + (f"; the last is #{head[0]}, hash `{head[1]}`." if head else "."))
