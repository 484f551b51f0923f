"""Signing in through a real OpenID Connect provider on localhost, in a real browser.

The provider is ``oidc-provider-mock`` (its authorisation form takes any subject; the subject
becomes the e-mail claim). The Streamlit server reads a secrets file written for the test
(``--secrets.files``), so the repository's own ``.streamlit`` is never touched. The first tests
run a minimal app behind ``ui.auth.require_login()``; the last ones run dashboard.py itself,
which calls the gate before its navigation.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import pytest

from .conftest import ROOT, _free_port, screenshot

pytestmark = [pytest.mark.playwright,
              # The mock provider runs in this process; its Authlib calls are deprecated there.
              pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib")]

LOGIN_APP = ROOT / "tests" / "browser" / "login_app.py"
DASHBOARD = Path(os.environ.get("A911_TEST_DASHBOARD", ROOT / "dashboard.py"))
BOSS, ANA, STRANGER = "boss@example.org", "ana@example.org", "stranger@example.org"
IDLE_MINUTES = 0.25  # 15 s: long enough to sign in and look, short enough to wait out


@pytest.fixture(scope="module")
def provider():
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # the mock refuses plain http otherwise
    with warnings.catch_warnings():  # it imports Authlib modules deprecated since
        warnings.simplefilter("ignore", DeprecationWarning)
        from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def _database(folder: Path, demo: bool = False) -> Path:
    from service import access
    from data.connection import connect

    path = folder / "login.duckdb"
    if demo:
        from conftest import demo_copy

        demo_copy(path)
    con = connect(path)
    access.add_person(con, access.LOCAL, ANA, "Ana Analyst")
    access.grant(con, access.LOCAL, ANA, "analyst", "Springfield")
    con.close()
    return path


def _secrets(folder: Path, port: int, provider: str) -> Path:
    path = folder / "secrets.toml"
    path.write_text(f"""
[auth]
redirect_uri = "http://localhost:{port}/oauth2callback"
cookie_secret = "a-test-cookie-secret-of-plenty-of-characters-0123456789"
client_id = "dashboard"
client_secret = "dashboard-secret"
server_metadata_url = "{provider}/.well-known/openid-configuration"

[access]
admins = ["{BOSS}"]
# The mock provider's tokens carry no email_verified claim; this deployment vouches for it.
provider_verifies_email = true
""", encoding="utf-8")
    return path


class Server:
    """A Streamlit server with an identity provider configured by a temporary secrets file."""

    def __init__(self, app: Path, db: Path, provider: str, idle_minutes: float):
        self.port = _free_port()
        self.url = f"http://localhost:{self.port}"
        self.db = db
        self.log = db.with_suffix(".log")
        secrets = _secrets(db.parent, self.port, provider)
        env = dict(os.environ, A911_DB=str(db), A911_IDLE_MINUTES=str(idle_minutes),
                   PYTHONPATH=str(ROOT))
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(app), "--server.port",
                 str(self.port), "--server.address", "127.0.0.1", "--server.headless", "true",
                 "--secrets.files", str(secrets)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        self._wait()

    def _wait(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise AssertionError(f"server did not start in {timeout}s:\n{self.log.read_text()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def audit(self):
        """The audit entries, read after the server has let go of the database."""
        from data import audit
        from data.connection import connect

        self.stop()
        con = connect(self.db)
        try:
            assert audit.verify(con) is None
            return audit.entries(con)
        finally:
            con.close()


@pytest.fixture(scope="module")
def app_server(provider, tmp_path_factory):
    server = Server(LOGIN_APP, _database(tmp_path_factory.mktemp("login")), provider,
                    idle_minutes=IDLE_MINUTES)
    yield server
    server.stop()


def _main(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def _shown(text: str) -> re.Pattern:
    """``text`` as drawn: an e-mail address carries an invisible word joiner before its @
    (charts.safe_text: it keeps the address from becoming a mailto: link)."""
    return re.compile(re.escape(text).replace("@", "\u2060?@"))


def _prompt(page, timeout=30000):
    page.get_by_role("button", name="Sign in").wait_for(timeout=timeout)


def sign_in(page, server, provider, email, path=""):
    page.goto(f"{server.url}/{path}")
    _prompt(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{provider}/oauth2/authorize**", timeout=30000)
    page.fill("input[name=sub]", email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{server.url}/**", timeout=30000)


def end_provider_session(page, server, provider):
    """st.logout ends the session at the provider too: confirm there, land on the prompt."""
    page.wait_for_url(f"{provider}/oauth2/end_session**", timeout=60000)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{server.url}/**", timeout=30000)
    _prompt(page)


def _only_provider_assets_offsite(page):
    # The mock provider's own pages link a stylesheet on a CDN; the app itself fetches nothing.
    assert all("cdn.jsdelivr.net" in u for u in page.offsite_requests), page.offsite_requests


# --------------------------------------------------------------------------------------------
# The gate, on a minimal app
# --------------------------------------------------------------------------------------------

def test_nothing_but_the_prompt_before_signing_in(app_server, page):
    page.goto(app_server.url)
    _prompt(page)
    text = _main(page)
    assert "Sign in to continue" in text and "Signed in" not in text
    assert "principal" not in text
    assert page.locator("[data-testid='stSidebar']").count() == 0
    assert page.offsite_requests == []


def test_an_analyst_signs_in_through_the_provider(app_server, provider, page):
    sign_in(page, app_server, provider, ANA)
    page.get_by_text(f"principal: {ANA}").wait_for(timeout=30000)
    assert "roles: analyst of Springfield" in _main(page)
    # Without the invisible word joiner that keeps an address from becoming a mailto: link.
    sidebar = page.locator("[data-testid='stSidebar']").inner_text().replace("\u2060", "")
    assert f"Signed in as {ANA} (analyst of Springfield)" in sidebar
    screenshot(page, "login-signed-in")
    # A reload is a new Streamlit session: the identity cookie carries it, no new prompt.
    page.reload()
    page.get_by_text(f"principal: {ANA}").wait_for(timeout=30000)
    _only_provider_assets_offsite(page)


def test_the_first_admin_comes_from_the_secrets(app_server, provider, page):
    sign_in(page, app_server, provider, BOSS)
    page.get_by_text(f"principal: {BOSS}").wait_for(timeout=30000)
    assert "roles: admin" in _main(page)


def test_someone_not_registered_is_refused(app_server, provider, page):
    sign_in(page, app_server, provider, STRANGER)
    page.get_by_text(_shown(f"{STRANGER} is not registered for this deployment")).wait_for(
        timeout=30000)
    page.get_by_role("button", name="Sign out").wait_for(timeout=30000)  # drawn after the text
    text = _main(page)
    assert "principal" not in text and "Signed in" not in text
    assert page.get_by_role("button", name="Sign out").count() == 1


def test_signing_out_ends_the_session(app_server, provider, page):
    sign_in(page, app_server, provider, ANA)
    page.get_by_text(f"principal: {ANA}").wait_for(timeout=30000)
    page.locator("[data-testid='stSidebar']").get_by_role("button", name="Sign out").click()
    end_provider_session(page, app_server, provider)
    assert "principal" not in _main(page)
    page.goto(app_server.url)  # the cookie is gone: still the prompt
    _prompt(page)
    assert "principal" not in _main(page)


def test_a_cookie_copied_before_sign_out_shows_only_the_prompt(app_server, provider, page,
                                                               browser):
    sign_in(page, app_server, provider, ANA)
    page.get_by_text(f"principal: {ANA}").wait_for(timeout=30000)
    copied = page.context.cookies()
    assert any(c["name"].startswith("_streamlit_user") for c in copied)
    # The cookie lives no longer than the idle limit (Streamlit's own default: 30 days).
    lifetimes = [c["expires"] - time.time() for c in copied
                 if c["name"].startswith("_streamlit_user")]
    assert all(0 < t <= max(60, IDLE_MINUTES * 60) + 5 for t in lifetimes), lifetimes
    page.locator("[data-testid='stSidebar']").get_by_role("button", name="Sign out").click()
    end_provider_session(page, app_server, provider)
    replay = browser.new_context()
    try:
        replay.add_cookies(copied)
        other = replay.new_page()
        other.goto(app_server.url)
        _prompt(other)
        other.wait_for_timeout(1000)  # anything the app would draw has had time to appear
        text = _main(other)
        assert "Sign in to continue" in text and "principal" not in text
        assert other.locator("[data-testid='stSidebar']").count() == 0
    finally:
        replay.close()


def test_the_trail_has_sign_ins_refusals_and_expired_sessions(provider, tmp_path, page):
    server = Server(LOGIN_APP, _database(tmp_path), provider, idle_minutes=IDLE_MINUTES)
    try:
        sign_in(page, server, provider, STRANGER)
        page.get_by_text("is not registered").wait_for(timeout=30000)
        page.context.clear_cookies()
        sign_in(page, server, provider, ANA)
        page.get_by_text(f"principal: {ANA}").wait_for(timeout=30000)
        started = time.time()
        # No activity: the idle watch ends the session on its own and logs out.
        end_provider_session(page, server, provider)
        idle = time.time() - started
        assert IDLE_MINUTES * 60 - 5 < idle < IDLE_MINUTES * 60 + 30, idle
        assert "principal" not in _main(page)
    finally:
        entries = server.audit()
    trail = [(e.actor, e.action, e.outcome) for e in entries]
    assert (STRANGER, "sign_in", "denied") in trail
    assert trail.count((STRANGER, "sign_in", "denied")) == 1  # once, not once per rerun
    assert trail.count((ANA, "sign_in", "allowed")) == 1
    assert (ANA, "session_expired", "allowed") in trail
    assert trail.index((ANA, "sign_in", "allowed")) < trail.index((ANA, "session_expired",
                                                                    "allowed"))
    assert ("bootstrap", "role.grant", "allowed") in trail


# --------------------------------------------------------------------------------------------
# The real dashboard: every page, by deep link, shows only the prompt until signed in
# --------------------------------------------------------------------------------------------

PAGES = {"": "How is the program performing?", "overview": "How is the program performing?",
         "reach": "What percentage of eligible calls is the team handling?",
         "on-scene": "What happens on scene?",
         "connections": "Are people being connected to services?",
         "compare": "How do the jurisdictions compare?", "data": "Data",
         "methodology": "Metric definitions", "admin": "Admin"}


@pytest.fixture(scope="module")
def dashboard(provider, tmp_path_factory):
    server = Server(DASHBOARD, _database(tmp_path_factory.mktemp("dash"), demo=True), provider,
                    idle_minutes=30)
    yield server
    server.stop()


def test_every_page_by_deep_link_shows_only_the_prompt(dashboard, page):
    for path, heading in PAGES.items():
        page.goto(f"{dashboard.url}/{path}")
        _prompt(page)
        page.wait_for_timeout(500)  # anything a page would draw has had time to appear
        text = _main(page)
        assert "Sign in to continue" in text, path
        assert heading not in text or path == "", path
        assert page.locator("[data-testid='stSidebarNav']").count() == 0, path
        assert page.locator("[data-testid=stMain] .js-plotly-plot").count() == 0, path
        assert page.locator("[data-testid='stDataFrame']").count() == 0, path
    assert page.offsite_requests == []


def test_after_signing_in_the_pages_open(dashboard, provider, page):
    sign_in(page, dashboard, provider, ANA)
    page.get_by_role("heading", name=PAGES[""]).first.wait_for(timeout=60000)
    page.goto(f"{dashboard.url}/reach")
    page.get_by_role("heading", name=PAGES["reach"]).first.wait_for(timeout=60000)
    assert not page.locator("[data-testid='stException']").count()
    _only_provider_assets_offsite(page)


def test_the_admin_page_refuses_an_analyst_and_serves_an_admin(dashboard, provider, page):
    sign_in(page, dashboard, provider, ANA)
    page.get_by_role("heading", name=PAGES[""]).first.wait_for(timeout=60000)
    page.goto(f"{dashboard.url}/admin")
    page.get_by_text(_shown(f"{ANA} may not see the list of people and roles: that needs the "
                            "admin role")).wait_for(timeout=60000)
    assert "People and roles" not in _main(page)  # neither the tabs nor any table
    assert page.locator("[data-testid='stDataFrame']").count() == 0
    page.context.clear_cookies()
    sign_in(page, dashboard, provider, BOSS, "admin")
    page.goto(f"{dashboard.url}/admin")
    page.get_by_role("heading", name="Admin").first.wait_for(timeout=60000)
    page.get_by_text("People and roles").first.wait_for(timeout=30000)
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=30000)
    assert "Grant a role" in _main(page)
    screenshot(page, "login-admin")
