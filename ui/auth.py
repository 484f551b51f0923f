"""Log-in through the deployment's identity provider, the idle timeout, and who is signed in.

``require_login()`` runs at the top of dashboard.py, before the navigation: until someone is
signed in, every page (by menu or deep link) shows only the log-in prompt, because no page
runs at all. Two modes:

- **Shared deployment**: ``.streamlit/secrets.toml`` has an ``[auth]`` section (OpenID
  Connect, see ``st.login``). The identity provider proves who someone is; the ``people`` and
  ``roles`` tables say what they may do (``service/access.py``). Sessions end after
  ``IDLE_MINUTES`` without activity.
- **Local mode**: no ``[auth]``. Allowed only while the server listens on localhost; the one
  principal has every right and is recorded in the audit log as "local".

Sign-ins, refusals, sign-outs and expired sessions are recorded in the audit log. A session
that ended (signed out, or idle) is revoked in the database, keyed on the identity and the
token's issue time: its cookie, replayed later in any browser, shows only the prompt. The
identity cookie lives no longer than the idle limit. An account whose provider does not say
``email_verified: true`` is refused unless ``[access] provider_verifies_email = true`` (for
providers that only issue verified, organisation-managed addresses and omit the claim).
"""
from __future__ import annotations

import os
import threading
import time
from contextlib import closing

import streamlit as st

from service import access
from service.access import AccessDenied, Principal
from ui import cache
from ui.text import escape

# CJIS session lock: 30 minutes without activity ends the session (A911_IDLE_MINUTES for tests).
IDLE_MINUTES = float(os.environ.get("A911_IDLE_MINUTES", "30"))
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_PRINCIPAL = "auth__principal"
_LAST_ACTIVITY = "auth__last_activity"


class _Activity:
    """Last activity per identity token, shared by the sessions of one server process.

    A browser tab opened later (or a page reload) starts a new Streamlit session with the same
    identity cookie; the idle clock must carry over, and the sign-in must be recorded once per
    sign-in, not once per tab. Keyed on (email, token issue time): a new sign-in is a new key.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._seen: dict[tuple, float] = {}
        self._refused: set[tuple] = set()

    def last(self, key) -> float | None:
        with self._lock:
            return self._seen.get(key)

    def touch(self, key, when: float) -> bool:
        """Note activity; True the first time this key is seen (a sign-in to record)."""
        with self._lock:
            first = key not in self._seen
            self._seen[key] = max(when, self._seen.get(key, 0))
            self._prune(when)
            return first

    def forget(self, key) -> None:
        with self._lock:
            self._seen.pop(key, None)

    def refuse_once(self, key) -> bool:
        """True the first time a refused sign-in is seen (so it is recorded once)."""
        with self._lock:
            first = key not in self._refused
            self._refused.add(key)
            return first

    def _prune(self, now: float) -> None:
        horizon = now - 2 * IDLE_MINUTES * 60  # bounded: old tokens can never be reused anyway
        for k in [k for k, t in self._seen.items() if t < horizon]:
            del self._seen[k]


_ACTIVITY = _Activity()


def _limit_cookie_lifetime() -> None:
    """Streamlit keeps its identity cookie for 30 days; here, no longer than the idle limit.

    Streamlit has no setting for it: the login route reads this module constant when it sets
    the cookie, and this runs (on the first page run) before anyone can reach that route.
    """
    try:
        from streamlit.web.server.starlette import starlette_auth_routes as routes
    except ImportError:  # a Streamlit without that server: the revocation list still holds
        return
    routes.AUTH_COOKIE_MAX_AGE_SECONDS = max(60, int(IDLE_MINUTES * 60))


_limit_cookie_lifetime()


# --------------------------------------------------------------------------------------------
# The gate
# --------------------------------------------------------------------------------------------

def identity_provider_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets.toml at all
        return False


def require_login() -> Principal:
    """The signed-in principal; otherwise draw the log-in prompt and stop the script."""
    if not identity_provider_configured():
        return _local()
    if not st.user.get("is_logged_in", False) or _revoked():
        _login_prompt()
        st.stop()
    if _idle_for() > IDLE_MINUTES * 60:
        _end_session("idle")
    principal = _signed_in()
    _touch()
    with st.sidebar:
        _account(principal)
        _idle_watch()
    return principal


def current() -> Principal:
    """The principal of this session (for the pages and ui/ helpers)."""
    principal = st.session_state.get(_PRINCIPAL)
    if principal is not None:
        return principal
    if not identity_provider_configured():
        return _local()
    _login_prompt()  # a page run without the gate (never in dashboard.py): fail closed
    st.stop()


def bound_to_localhost() -> bool:
    address = (st.get_option("server.address") or "").strip().strip("[]").lower()
    return address in _LOCAL_HOSTS


# --------------------------------------------------------------------------------------------
# Local mode
# --------------------------------------------------------------------------------------------

def _local() -> Principal:
    if not bound_to_localhost():
        st.error("This dashboard is reachable from other machines, but no identity provider "
                 "is configured, so nobody can sign in. Either configure one in "
                 "`.streamlit/secrets.toml` (`[auth]`, see the README, \"Deploying for a "
                 "cohort\") or serve on this machine only (`server.address = \"localhost\"`).")
        st.stop()
    if st.session_state.get(_PRINCIPAL) is None:
        with closing(cache.cursor()) as cur:
            st.session_state[_PRINCIPAL] = access.sign_in_local(cur)
    return access.LOCAL


# --------------------------------------------------------------------------------------------
# Shared deployment
# --------------------------------------------------------------------------------------------

def _login_prompt() -> None:
    st.title("Alternative response outcomes")
    st.write("Sign in to continue. Only people an admin of this deployment has registered "
             f"can sign in; a session ends after {_minutes()} without activity.")
    if st.button("Sign in", key="auth_sign_in", type="primary"):
        st.login()


def _identity() -> tuple[str, float | None]:
    email = access.normalise_email(st.user.get("email") or "")
    iat = st.user.get("iat")
    return email, float(iat) if isinstance(iat, (int, float)) else None


def _signed_in() -> Principal:
    email, iat = _identity()
    key = (email, iat)
    with closing(cache.cursor()) as cur:
        access.bootstrap_admins(cur, _admins_from_secrets())
        principal = access.load_principal(cur, email) if email else None
        if principal is None:
            _refused(cur, key, email)
        if not _email_verified():
            _refused(cur, key, email, unverified=True)
        if _ACTIVITY.last(key) is None:  # first time this sign-in is seen by this server
            access.sign_in(cur, email, provider=st.user.get("iss"))
    st.session_state[_PRINCIPAL] = principal
    return principal


def _refused(cur, key, email, unverified: bool = False) -> None:
    message = (f"{email or 'This account'} is not registered for this deployment (or was made "
               "inactive). Ask an admin to add you, or sign in with another account.")
    if unverified:
        message = (f"The identity provider does not confirm that {email} is a verified address, "
                   "so it cannot sign in here. Ask the provider's administrator to verify it.")
        if _ACTIVITY.refuse_once(key):
            access.refuse_sign_in(cur, email, message, provider=st.user.get("iss"))
    elif _ACTIVITY.refuse_once(key):
        try:
            access.sign_in(cur, email)  # records the refusal in the audit log
        except AccessDenied as e:
            message = str(e)
    st.session_state.pop(_PRINCIPAL, None)
    st.title("Alternative response outcomes")
    st.error(escape(message))
    if st.button("Sign out", key="auth_refused_sign_out"):
        st.logout()
    st.stop()


def _email_verified() -> bool:
    """True only if the provider says so, or the deployment vouches for its provider."""
    claim = st.user.get("email_verified")
    if claim is None:
        return _access_secrets().get("provider_verifies_email") is True
    return claim is True or str(claim).lower() == "true"


def _revoked() -> bool:
    email, iat = _identity()
    with closing(cache.cursor()) as cur:
        return access.session_revoked(cur, email, iat)


def _access_secrets() -> dict:
    try:
        return dict(st.secrets.get("access", {}))
    except FileNotFoundError:
        return {}


def _admins_from_secrets() -> list[str]:
    try:
        return list(st.secrets.get("access", {}).get("admins", []))
    except FileNotFoundError:
        return []


def _idle_for() -> float:
    """Seconds since the last activity of this sign-in, in any tab (else since it was issued)."""
    email, iat = _identity()
    last = max(filter(None, [st.session_state.get(_LAST_ACTIVITY), _ACTIVITY.last((email, iat)),
                             iat]), default=None)
    return 0.0 if last is None else time.time() - last


def _touch() -> None:
    now = time.time()
    st.session_state[_LAST_ACTIVITY] = now
    _ACTIVITY.touch(_identity(), now)


def _end_session(reason: str) -> None:
    """Record the end of the session, forget it, and log out (this leaves the app)."""
    email, iat = _identity()
    principal = st.session_state.get(_PRINCIPAL) or Principal(email or "unknown")
    with closing(cache.cursor()) as cur:
        access.sign_out(cur, principal, reason=reason)
        access.revoke_session(cur, email, iat, reason)
    _ACTIVITY.forget((email, iat))
    for k in (_PRINCIPAL, _LAST_ACTIVITY):
        st.session_state.pop(k, None)
    st.logout()
    st.stop()


@st.fragment(run_every=max(1.0, min(60.0, IDLE_MINUTES * 60 / 4)))
def _idle_watch() -> None:
    # Runs on a timer, not on activity: it never touches the clock, it only ends an idle
    # session, so a screen left open does not keep showing data (CJIS session lock).
    if st.user.get("is_logged_in", False) and _idle_for() > IDLE_MINUTES * 60:
        _end_session("idle")


def _account(principal: Principal) -> None:
    st.caption(f"Signed in as {escape(principal.email)} ({escape(principal.describe())})")
    if st.button("Sign out", key="auth_sign_out"):
        _end_session("signed out")


def _minutes() -> str:
    return f"{IDLE_MINUTES:g} minutes" if IDLE_MINUTES != 1 else "1 minute"
