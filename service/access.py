"""Who may do what: people, their roles per jurisdiction, and the checks behind every call.

Roles (kept in the ``people`` and ``roles`` tables, managed on the admin page):

- **admin**: people, roles, jurisdictions and settings; may also import, undo and edit the
  crosswalk of any jurisdiction. Record-level views need an analyst role as well.
- **analyst** of a jurisdiction: import, undo, crosswalk and record-level views (rejected rows,
  row warnings, data quality) for that jurisdiction; published aggregates of the cohort.
- **viewer**: published aggregates only (disclosure control always on), of the cohort
  (jurisdiction NULL) or of one jurisdiction.

``RULES`` says, per action, who is allowed; ``authorize`` applies it, records every refusal in
the audit log and raises ``AccessDenied`` with a sentence that names the person, the action and
the role it needs. The functions in ``service/guarded.py`` call it before the real work.

Local mode (no identity provider, server bound to localhost) has one principal, ``LOCAL``, with
every right, recorded in the audit log as "local".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from data import audit
from data.errors import DataError

ROLES = ("admin", "analyst", "viewer")
LOCAL_ACTOR = "local"


class AccessDenied(DataError):
    """The signed-in person may not do this; the refusal is already in the audit log."""

    def __init__(self, message: str, *, action: str | None = None,
                 jurisdiction: str | None = None):
        super().__init__(message)
        self.action = action
        self.jurisdiction = jurisdiction


@dataclass(frozen=True)
class Grant:
    role: str
    jurisdiction: str | None = None


@dataclass(frozen=True)
class Principal:
    """A signed-in person and their grants. Frozen and hashable: it can key a cache."""

    email: str
    roles: tuple[Grant, ...] = ()
    local: bool = False
    name: str | None = field(default=None, compare=False)

    @property
    def actor(self) -> str:
        return LOCAL_ACTOR if self.local else self.email

    @property
    def is_admin(self) -> bool:
        return self.local or any(g.role == "admin" for g in self.roles)

    @property
    def analyst_jurisdictions(self) -> frozenset[str]:
        return frozenset(g.jurisdiction for g in self.roles
                         if g.role == "analyst" and g.jurisdiction)

    def is_analyst_of(self, jurisdiction: str | None) -> bool:
        if self.local:
            return True
        return jurisdiction is not None and jurisdiction in self.analyst_jurisdictions

    def may_write(self, jurisdiction: str | None) -> bool:
        """Import, undo and crosswalk edits: an analyst of the jurisdiction, or an admin."""
        return self.is_admin or self.is_analyst_of(jurisdiction)

    def viewable_jurisdictions(self) -> frozenset[str] | None:
        """Jurisdictions whose aggregates this person may read; None means the whole cohort."""
        if self.is_admin or self.analyst_jurisdictions or any(
                g.role == "viewer" and g.jurisdiction is None for g in self.roles):
            return None
        return frozenset(g.jurisdiction for g in self.roles if g.role == "viewer")

    def needs_disclosure(self, jurisdictions: tuple[str, ...]) -> bool:
        """Small counts are hidden unless every jurisdiction in view is one's own (analyst)."""
        if self.local:
            return False
        return not (jurisdictions and set(jurisdictions) <= self.analyst_jurisdictions)

    def describe(self) -> str:
        if self.local:
            return "local (every right: no identity provider is configured)"
        parts = [g.role if g.jurisdiction is None else f"{g.role} of {g.jurisdiction}"
                 for g in self.roles]
        return ", ".join(parts) or "no role"


LOCAL = Principal(LOCAL_ACTOR, (Grant("admin"),), local=True)


# --------------------------------------------------------------------------------------------
# The rules
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    who: str     # writer | analyst | admin | signed_in
    phrase: str  # "<person> may not <phrase> ..."


# writer = analyst of the jurisdiction or admin; analyst = analyst of the jurisdiction only.
RULES: dict[str, Rule] = {
    "import": Rule("writer", "import a file"),
    "undo": Rule("writer", "undo an import"),
    "crosswalk.edit": Rule("writer", "edit the call-type crosswalk"),
    "crosswalk.view": Rule("writer", "see the call-type crosswalk"),
    "history.view": Rule("writer", "see the imports ledger"),
    "rejects.view": Rule("analyst", "see rejected rows"),
    "rejects.download": Rule("analyst", "download rejected rows"),
    "warnings.view": Rule("analyst", "see row warnings"),
    "quality.view": Rule("analyst", "see the data-quality figures"),
    "aggregates.read": Rule("signed_in", "read aggregates"),
    "download": Rule("signed_in", "download a table"),
    "people.view": Rule("admin", "see the list of people and roles"),
    "people.add": Rule("admin", "add a person"),
    "people.edit": Rule("admin", "make a person active or inactive"),
    "role.grant": Rule("admin", "grant a role"),
    "role.revoke": Rule("admin", "revoke a role"),
    "jurisdiction.edit": Rule("admin", "change a jurisdiction's settings"),
    "setting.change": Rule("admin", "change a setting"),
    "audit.view": Rule("admin", "read the audit log"),
    "audit.export": Rule("admin", "export the audit log"),
}


def allowed(principal: Principal, action: str, jurisdiction: str | None = None) -> bool:
    who = RULES[action].who
    if who == "writer":
        return principal.may_write(jurisdiction)
    if who == "analyst":
        return principal.is_analyst_of(jurisdiction)
    if who == "admin":
        return principal.is_admin
    return True  # signed_in: holding a Principal means signed in


def authorize(con, principal: Principal, action: str, *, jurisdiction: str | None = None,
              target=None, file_sha256: str | None = None) -> None:
    """Return if ``principal`` may do ``action``; else record the refusal and raise."""
    if allowed(principal, action, jurisdiction):
        return
    deny(con, principal, action, refusal(principal, action, jurisdiction),
         jurisdiction=jurisdiction, target=target, file_sha256=file_sha256)


def deny(con, principal: Principal, action: str, message: str, *, jurisdiction=None,
         target=None, file_sha256=None, error=AccessDenied):
    audit.record(con, actor=principal.actor, action=action, outcome="denied",
                 jurisdiction=jurisdiction, target=target, file_sha256=file_sha256,
                 detail={"reason": message})
    raise error(message, action=action, jurisdiction=jurisdiction)


def refusal(principal: Principal, action: str, jurisdiction: str | None) -> str:
    rule = RULES[action]
    where = f" for {jurisdiction}" if jurisdiction else ""
    if rule.who == "admin":
        need = "the admin role"
    elif rule.who == "analyst":
        need = f"the analyst role for {jurisdiction or 'that jurisdiction'}"
    elif jurisdiction:
        need = f"the analyst role for {jurisdiction} or the admin role"
    else:
        need = "the admin role"
    return (f"{principal.actor} may not {rule.phrase}{where}: that needs {need} "
            f"(you have: {principal.describe()}). Ask an admin of this deployment.")


# --------------------------------------------------------------------------------------------
# Signing in and out
# --------------------------------------------------------------------------------------------

def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def load_principal(con, email: str) -> Principal | None:
    """The active person with this e-mail address and their grants; None if unknown/inactive."""
    email = normalise_email(email)
    person = con.execute("SELECT name FROM people WHERE email = ? AND active",
                         [email]).fetchone()
    if person is None:
        return None
    grants = con.execute("SELECT role, jurisdiction FROM roles WHERE email = ? "
                         "ORDER BY role, jurisdiction NULLS FIRST", [email]).fetchall()
    return Principal(email, tuple(Grant(r, j) for r, j in grants), name=person[0])


def sign_in(con, email: str, *, provider: str | None = None) -> Principal:
    """The principal of a person the identity provider vouched for; recorded either way.

    Someone the provider knows but this deployment does not (not in ``people``, or made
    inactive) is refused: the identity provider proves who someone is, the roles say what
    they may do here.
    """
    email = normalise_email(email)
    principal = load_principal(con, email) if email else None
    detail = {"provider": provider} if provider else None
    if principal is None:
        message = (f"{email or 'This account'} is not registered for this deployment (or was "
                   "made inactive). Ask an admin to add you on the admin page.")
        refuse_sign_in(con, email, message, provider=provider)
        raise AccessDenied(message, action="sign_in")
    audit.record(con, actor=principal.actor, action="sign_in", detail=detail)
    return principal


def refuse_sign_in(con, email: str, message: str, *, provider: str | None = None) -> None:
    """Record a refused sign-in (not registered, or an address the provider did not verify)."""
    audit.record(con, actor=normalise_email(email) or "unknown", action="sign_in",
                 outcome="denied", detail={**({"provider": provider} if provider else {}),
                                           "reason": message})


def sign_out(con, principal: Principal, *, reason: str = "signed out") -> None:
    action = "session_expired" if reason == "idle" else "sign_out"
    audit.record(con, actor=principal.actor, action=action, detail={"reason": reason})


# A signed cookie is accepted by Streamlit for at most 31 days (30 days + a day's grace): older
# revocations can never match a usable token, so they are dropped.
_REVOCATION_DAYS = 31


def revoke_session(con, email: str, issued_at: float | None, reason: str) -> None:
    """Refuse this sign-in (identity, token issue time) from now on, in every process."""
    con.execute("DELETE FROM revoked_sessions WHERE revoked_at < now() - to_days(?)",
                [_REVOCATION_DAYS])
    con.execute("INSERT OR IGNORE INTO revoked_sessions VALUES (?, ?, now(), ?)",
                [normalise_email(email), float(issued_at or 0), reason])


def session_revoked(con, email: str, issued_at: float | None) -> bool:
    return con.execute("SELECT count(*) FROM revoked_sessions WHERE email = ? AND issued_at = ?",
                       [normalise_email(email), float(issued_at or 0)]).fetchone()[0] > 0


def sign_in_local(con) -> Principal:
    audit.record(con, actor=LOCAL_ACTOR, action="sign_in", detail={"mode": "local"})
    return LOCAL


# --------------------------------------------------------------------------------------------
# People and roles (admin)
# --------------------------------------------------------------------------------------------

def people(con, by: Principal) -> list[dict]:
    """Every person with their roles, for the admin page."""
    authorize(con, by, "people.view")
    rows = con.execute(
        "SELECT p.email, p.name, p.active, p.added_at, "
        "list(r.role || coalesce(' of ' || r.jurisdiction, '') ORDER BY r.role, r.jurisdiction)"
        " FILTER (WHERE r.role IS NOT NULL) FROM people p LEFT JOIN roles r USING (email) "
        "GROUP BY ALL ORDER BY p.email").fetchall()
    return [{"email": e, "name": n, "active": a, "added_at": t, "roles": list(rs or [])}
            for e, n, a, t, rs in rows]


def add_person(con, by: Principal, email: str, name: str | None = None) -> None:
    email = normalise_email(email)
    authorize(con, by, "people.add", target=email)
    if "@" not in email or any(c.isspace() for c in email):
        raise DataError(f"{email!r} is not an e-mail address.")
    _write(con, ["INSERT INTO people VALUES (?, ?, true, ?) ON CONFLICT (email) DO UPDATE SET "
                 "name = coalesce(excluded.name, people.name), active = true"],
           [[email, name or None, datetime.now(timezone.utc)]])
    audit.record(con, actor=by.actor, action="people.add", target=email,
                 detail={"name": name} if name else None)


def set_active(con, by: Principal, email: str, active: bool) -> None:
    """Make a person inactive (they can no longer sign in) or active again."""
    email = normalise_email(email)
    authorize(con, by, "people.edit", target=email)
    _require_person(con, email)
    if not active:
        _refuse_losing_last_admin(con, by, email)
    _write(con, ["UPDATE people SET active = ? WHERE email = ?"], [[bool(active), email]])
    audit.record(con, actor=by.actor, action="people.activate" if active else "people.deactivate",
                 target=email)


def grant(con, by: Principal, email: str, role: str, jurisdiction: str | None = None) -> None:
    email = normalise_email(email)
    authorize(con, by, "role.grant", jurisdiction=jurisdiction, target=email)
    jurisdiction = _check_grant(con, email, role, jurisdiction)
    _write(con, ["DELETE FROM roles WHERE email = ? AND role = ? AND jurisdiction IS NOT "
                 "DISTINCT FROM ?", "INSERT INTO roles VALUES (?, ?, ?)"],
           [[email, role, jurisdiction]] * 2)
    audit.record(con, actor=by.actor, action="role.grant", jurisdiction=jurisdiction,
                 target=email, detail={"role": role})


def revoke(con, by: Principal, email: str, role: str, jurisdiction: str | None = None) -> None:
    email = normalise_email(email)
    authorize(con, by, "role.revoke", jurisdiction=jurisdiction, target=email)
    if role == "admin":
        _refuse_losing_last_admin(con, by, email)
    _write(con, ["DELETE FROM roles WHERE email = ? AND role = ? AND jurisdiction IS NOT "
                 "DISTINCT FROM ?"], [[email, role, jurisdiction or None]])
    audit.record(con, actor=by.actor, action="role.revoke", jurisdiction=jurisdiction,
                 target=email, detail={"role": role})


def bootstrap_admins(con, emails) -> list[str]:
    """First run of a shared deployment: make the listed people admins, while there is none.

    The list comes from the deployment's secrets (``[access] admins = [...]``); once an admin
    exists the roles are managed on the admin page only, so the list cannot undo a revocation.
    """
    if _active_admins(con):
        return []
    added = []
    for email in (normalise_email(e) for e in emails or ()):
        if "@" not in email:
            continue
        _write(con, ["INSERT INTO people VALUES (?, NULL, true, ?) ON CONFLICT (email) DO "
                     "UPDATE SET active = true",
                     "DELETE FROM roles WHERE email = ? AND role = 'admin'",
                     "INSERT INTO roles VALUES (?, 'admin', NULL)"],
               [[email, datetime.now(timezone.utc)], [email], [email]])
        audit.record(con, actor="bootstrap", action="role.grant", target=email,
                     detail={"role": "admin", "source": "secrets [access] admins"})
        added.append(email)
    return added


def _check_grant(con, email, role, jurisdiction) -> str | None:
    if role not in ROLES:
        raise DataError(f"There is no role {role!r}; the roles are {', '.join(ROLES)}.")
    _require_person(con, email)
    jurisdiction = (jurisdiction or "").strip() or None
    if role == "admin" and jurisdiction:
        raise DataError("The admin role is for the whole deployment: give no jurisdiction.")
    if role == "analyst" and not jurisdiction:
        raise DataError("An analyst works for one jurisdiction: say which.")
    return jurisdiction


def _require_person(con, email) -> None:
    if not con.execute("SELECT 1 FROM people WHERE email = ?", [email]).fetchone():
        raise DataError(f"{email} is not on the list of people: add them first.")


def _active_admins(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT DISTINCT r.email FROM roles r JOIN people p USING (email) "
        "WHERE r.role = 'admin' AND p.active ORDER BY 1").fetchall()]


def _refuse_losing_last_admin(con, by, email) -> None:
    if _active_admins(con) == [email]:
        raise DataError(f"{email} is the last active admin: make someone else admin first, or "
                        "nobody could manage this deployment any more.")


def _write(con, statements: list[str], params: list[list]) -> None:
    con.begin()
    try:
        for sql, p in zip(statements, params):
            con.execute(sql, p)
        con.commit()
    except BaseException:
        con.rollback()
        raise
