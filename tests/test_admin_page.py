"""The admin page (AppTest): an admin manages people, roles and jurisdictions and reads the
audit log; anyone else sees only the refusal, which is recorded."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data import audit
from service import access
from service.access import Grant, Principal
from data.connection import connect

ADMIN_PAGE = Path(__file__).resolve().parent.parent / "app_pages" / "admin.py"


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "admin.duckdb"
    monkeypatch.setenv("A911_DB", str(path))
    return path


def _page(tab=None, principal=None):
    # Run the page from a string: AppTest puts the script's folder on sys.path, and
    # app_pages/data.py would then shadow the data package.
    at = AppTest.from_string(f"import runpy; runpy.run_path({str(ADMIN_PAGE)!r}, "
                             "run_name='__main__')", default_timeout=30)
    if tab:
        at.query_params["admin_tab"] = tab
    if principal:
        at.session_state["auth__principal"] = principal
    return at.run()


def _plain(elements) -> list[str]:
    """Message texts without the Markdown escapes (names are escaped before display)."""
    return [re.sub(r"\\(.)", r"\1", e.value).replace("\u2060", "") for e in elements]


def _entries(db):
    c = connect(db)
    try:
        return audit.entries(c)
    finally:
        c.close()


def test_local_admin_adds_a_person_and_grants_a_role(db):
    at = _page()
    assert not at.exception
    at.text_input(key="admin_people_add_email").input("Ana@Example.org")
    at.button(key="FormSubmitter:admin_people_add-Add").click().run()
    assert _plain(at.success) == ["Added ana@example.org. Give them a role next."]
    table = at.dataframe[0].value
    assert list(table["email"]) == ["ana@example.org"]
    at.button(key="FormSubmitter:admin_people_grant-Grant").click().run()
    assert _plain(at.warning) == ["Choose a person first."]
    at.selectbox(key="admin_people_grant_email").select("ana@example.org")
    at.selectbox(key="admin_people_grant_role").select("viewer")
    at.button(key="FormSubmitter:admin_people_grant-Grant").click().run()
    assert _plain(at.success) == ["ana@example.org is now viewer."]
    assert list(at.dataframe[0].value["roles"][0]) == ["viewer"]
    actions = [(e.actor, e.action, e.target) for e in _entries(db)]
    assert ("local", "people.add", "ana@example.org") in actions
    assert ("local", "role.grant", "ana@example.org") in actions


def test_an_analyst_sees_only_the_refusal_and_it_is_recorded(db):
    ana = Principal("ana@example.org", (Grant("analyst", "Springfield"),))
    at = _page(principal=ana)
    assert _plain(at.error) == [
        "ana@example.org may not see the list of people and roles: that needs the admin role "
        "(you have: analyst of Springfield). Ask an admin of this deployment."]
    assert not at.tabs and not at.dataframe and not at.button
    last = _entries(db)[-1]
    assert (last.actor, last.action, last.outcome) == ("ana@example.org", "people.view",
                                                       "denied")


def test_the_audit_tab_verifies_the_chain_and_names_a_broken_entry(db):
    at = _page("Audit log")
    at.button(key="admin_audit_verify").click().run()
    assert _plain(at.success)[0].startswith("Chain intact: ")
    c = connect(db)
    c.execute("UPDATE audit_log SET actor = 'someone' WHERE seq = 1")
    c.close()
    at = _page("Audit log")
    at.button(key="admin_audit_verify").click().run()
    assert _plain(at.error) == [
        "Chain broken at entry #1: it was changed after it was written (its content does not "
        "match its hash)"]


def test_the_jurisdictions_tab_adds_and_edits_a_jurisdiction(db):
    at = _page("Jurisdictions")
    at.text_input(key="admin_jur_add_name").input("Ogdenville")
    at.selectbox(key="admin_jur_add_zone").select("America/Chicago")
    at.button(key="FormSubmitter:admin_jur_add-Add").click().run()
    assert _plain(at.success) == ["Added Ogdenville."]
    form = [k for k in at.session_state if str(k).endswith("_pop")][0]
    at.number_input(key=form).set_value(12000)
    at.button(key=f"FormSubmitter:{form[:-4]}-Save").click().run()
    assert _plain(at.success) == ["Saved the settings of Ogdenville."]
    c = connect(db)
    assert c.execute("SELECT population, time_zone FROM jurisdictions").fetchall() == [
        (12000, "America/Chicago")]
    c.close()
    edit = [e for e in _entries(db) if e.action == "jurisdiction.edit"][-1]
    assert json.loads(edit.detail)["population"] == 12000


def test_a_person_cannot_lock_everyone_out(db):
    c = connect(db)
    access.bootstrap_admins(c, ["boss@example.org"])
    c.close()
    boss = Principal("boss@example.org", (Grant("admin"),))
    at = _page(principal=boss)
    at.selectbox(key="admin_people_active_email").select("boss@example.org")
    at.radio(key="admin_people_active_status").set_value("inactive")
    at.button(key="FormSubmitter:admin_people_active-Apply").click().run()
    assert "is the last active admin" in _plain(at.error)[0]


def test_the_jurisdictions_tab_sets_coverage_hours_and_days(db):
    """The next steps point here for coverage: the form has the fields (issue 21)."""
    at = _page("Jurisdictions")
    at.text_input(key="admin_jur_add_name").input("Ogdenville")
    at.selectbox(key="admin_jur_add_zone").select("America/Chicago")
    at.button(key="FormSubmitter:admin_jur_add-Add").click().run()
    form = [k for k in at.session_state if str(k).endswith("_pop")][0][:-4]
    at.number_input(key=f"{form}_start").set_value(19)
    at.number_input(key=f"{form}_end").set_value(7)
    at.multiselect(key=f"{form}_days").select("Mon").select("Tue")
    at.button(key=f"FormSubmitter:{form}-Save").click().run()
    assert _plain(at.success) == ["Saved the settings of Ogdenville."]
    c = connect(db)
    assert c.execute("SELECT coverage_start_hour, coverage_end_hour, coverage_days "
                     "FROM jurisdictions").fetchall() == [(19, 7, "12")]
    c.close()
