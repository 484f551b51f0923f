"""ui.auth.require_login (AppTest): local mode, the prompt, sign-in, refusal and the idle end.

The real OpenID Connect round trip is in tests/browser/test_login.py; here ``AppTest.user``
stands in for the identity cookie, so each rule of the gate is checked quickly and alone.
"""
from __future__ import annotations

import re
import time

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from data import audit
from service import access
from data.connection import connect

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 40,
        "client_id": "dashboard", "client_secret": "secret",
        "server_metadata_url": "http://localhost:9400/.well-known/openid-configuration"}


def _app():
    import streamlit as st

    from ui import auth

    principal = auth.require_login()
    st.title("Page content")
    st.write(f"actor={principal.actor}")


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "auth.duckdb"
    monkeypatch.setenv("A911_DB", str(path))
    c = connect(path)
    access.add_person(c, access.LOCAL, "ana@example.org")
    access.grant(c, access.LOCAL, "ana@example.org", "analyst", "Springfield")
    c.close()
    return path


def _entries(db):
    c = connect(db)
    try:
        return [(e.actor, e.action, e.outcome) for e in audit.entries(c)]
    finally:
        c.close()


def _run(user=None, secrets=True, session=None):
    at = AppTest.from_function(_app, default_timeout=30)
    if secrets:
        at.secrets["auth"] = AUTH
    if user is not None:
        # A verified address unless a test says otherwise (None: the provider gave no claim).
        at.user = {"email_verified": True, **user} if user.get("is_logged_in") else user
    for k, v in (session or {}).items():
        at.session_state[k] = v
    return at.run()


def _texts(at):
    return [re.sub(r"\\(.)", r"\1", m.value).replace("\u2060", "")
            for m in list(at.markdown) + list(at.error)]


def _titles(at):
    return [t.value for t in at.title]


def test_local_mode_is_the_local_admin_recorded_once(db):
    at = _run(secrets=False)
    assert not at.exception
    assert "actor=local" in _texts(at)
    at.run()  # a rerun of the same session is not a new sign-in
    assert _entries(db)[-1] == ("local", "sign_in", "allowed")
    assert _entries(db).count(("local", "sign_in", "allowed")) == 1


def test_local_mode_refuses_to_serve_other_machines(db):
    old = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = _run(secrets=False)
    finally:
        config.set_option("server.address", old)
    assert "Page content" not in _titles(at)
    assert any("reachable from other machines, but no identity provider" in t
               for t in _texts(at))


def test_with_a_provider_only_the_prompt_shows_until_signed_in(db):
    at = _run(user={"is_logged_in": False})
    assert _titles(at) == ["Alternative response outcomes"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not any("actor=" in t for t in _texts(at))


def test_a_registered_person_signs_in_and_is_recorded(db):
    at = _run(user={"is_logged_in": True, "email": "Ana@Example.org", "iat": time.time()})
    assert not at.exception
    assert "actor=ana@example.org" in _texts(at)
    assert ("ana@example.org", "sign_in", "allowed") in _entries(db)
    assert "Signed in as ana@example.org (analyst of Springfield)" in [
        re.sub(r"\\(.)", r"\1", c.value).replace("\u2060", "") for c in at.sidebar.caption]


def test_an_unregistered_person_sees_only_the_refusal(db):
    at = _run(user={"is_logged_in": True, "email": "who@example.org", "iat": time.time()})
    assert "Page content" not in _titles(at)
    assert any(t.startswith("who@example.org is not registered") for t in _texts(at))
    assert ("who@example.org", "sign_in", "denied") in _entries(db)


def test_an_unverified_address_is_refused(db):
    at = _run(user={"is_logged_in": True, "email": "ana@example.org", "email_verified": False,
                    "iat": time.time()})
    assert "Page content" not in _titles(at)


def test_an_idle_session_ends_and_is_recorded(db):
    from ui import auth

    old = time.time() - auth.IDLE_MINUTES * 60 - 5
    at = _run(user={"is_logged_in": True, "email": "ana@example.org", "iat": old},
              session={"auth__last_activity": old})
    assert "Page content" not in _titles(at)
    assert _entries(db)[-1] == ("ana@example.org", "session_expired", "allowed")


def test_an_old_sign_in_seen_first_after_a_restart_has_expired(db):
    # No activity recorded anywhere (a new server process) and a token issued long ago.
    from ui import auth

    at = _run(user={"is_logged_in": True, "email": "ana@example.org",
                    "iat": time.time() - auth.IDLE_MINUTES * 60 - 60})
    assert "Page content" not in _titles(at)
    assert ("ana@example.org", "sign_in", "allowed") not in _entries(db)


def test_a_missing_email_verified_claim_is_refused_and_recorded(db):
    at = _run(user={"is_logged_in": True, "email": "ana@example.org", "email_verified": None,
                    "iat": time.time()})
    assert "Page content" not in _titles(at)
    assert any("does not confirm that ana@example.org is a verified address" in t
               for t in _texts(at))
    assert ("ana@example.org", "sign_in", "denied") in _entries(db)
    assert ("ana@example.org", "sign_in", "allowed") not in _entries(db)


def test_a_deployment_may_vouch_for_its_providers_addresses(db):
    at = AppTest.from_function(_app, default_timeout=30)
    at.secrets["auth"] = AUTH
    at.secrets["access"] = {"provider_verifies_email": True}
    at.user = {"is_logged_in": True, "email": "ana@example.org", "iat": time.time()}
    at.run()
    assert "Page content" in _titles(at)


def test_a_session_revoked_on_the_server_shows_only_the_prompt(db):
    """A cookie copied before sign-out carries the same identity and issue time."""
    iat = time.time()
    user = {"is_logged_in": True, "email": "ana@example.org", "iat": iat}
    assert "Page content" in _titles(_run(user=user))
    c = connect(db)
    access.revoke_session(c, "ana@example.org", iat, "signed out")
    c.close()
    at = _run(user=user)
    assert "Page content" not in _titles(at)
    assert any("Sign in to continue" in t for t in _texts(at))
    # A new sign-in is a new token: it opens again.
    assert "Page content" in _titles(_run(user={**user, "iat": iat + 1}))


def test_an_ended_session_is_revoked_in_the_database(db):
    from ui import auth

    old = time.time() - auth.IDLE_MINUTES * 60 - 5
    _run(user={"is_logged_in": True, "email": "ana@example.org", "iat": old},
         session={"auth__last_activity": old})
    c = connect(db)
    try:
        assert access.session_revoked(c, "ana@example.org", old)
        assert not access.session_revoked(c, "ana@example.org", old + 1)
    finally:
        c.close()


def test_the_identity_cookie_lives_no_longer_than_the_idle_limit():
    from streamlit.web.server.starlette import starlette_auth_routes as routes

    from ui import auth

    assert routes.AUTH_COOKIE_MAX_AGE_SECONDS == max(60, int(auth.IDLE_MINUTES * 60))
    assert routes.AUTH_COOKIE_MAX_AGE_SECONDS < 30 * 24 * 3600
