"""Roles per jurisdiction: every role x every write, export and record-level view, and the trail.

The matrix below is the specification (issue 6), written out by hand rather than derived from
``access.RULES``: each case is allowed or refused exactly as listed, every refusal raises
AccessDenied with a sentence and leaves one 'denied' entry in the audit log, and every allowed
write or download leaves one 'allowed' entry.
"""
from __future__ import annotations

import itertools
import json
from datetime import date

import pytest

import metrics
from data import audit, import_file, parse_profile
from service import access, guarded
from service.access import AccessDenied, Principal
from data.connection import connect
from data.errors import DataError
from metrics import disclosure
from metrics.disclosure import PublicRow

PROFILE = parse_profile("""
kind = "calls"
[columns]
call_id = "Call No"
received_at = "Received"
call_type = "Type"
[options]
timezone = "America/Chicago"
""")
A, B = "Springfield", "Shelbyville"
PEOPLE = {
    "admin": [("admin", None)],
    "analyst_a": [("analyst", A)],
    "viewer_cohort": [("viewer", None)],
    "viewer_a": [("viewer", A)],
    "no_role": [],
}
_counter = itertools.count()


def _csv(tmp_path, jurisdiction):
    n = next(_counter)
    path = tmp_path / f"calls-{n}.csv"
    path.write_text("Call No,Received,Type\n"
                    f"{jurisdiction[:2]}{n}-1,2024-05-01 10:00,WELFARE CHECK\n"
                    f"{jurisdiction[:2]}{n}-2,2024-05-02 11:00,NOISE COMPLAINT\n"
                    f"{jurisdiction[:2]}{n}-3,not a date,NOISE COMPLAINT\n", encoding="utf-8")
    return path


def _raw_import(con, tmp_path, jurisdiction):
    return import_file(con, _csv(tmp_path, jurisdiction), kind="calls",
                       jurisdiction=jurisdiction, profile=PROFILE).import_id


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Two jurisdictions with an import each (one row rejected), and a person per role."""
    tmp = tmp_path_factory.mktemp("access")
    con = connect(tmp / "access.duckdb", readable_dirs=(tmp,))
    first = {j: _raw_import(con, tmp, j) for j in (A, B)}
    boss = access.LOCAL
    principals = {"local": access.LOCAL}
    for name, grants in PEOPLE.items():
        email = f"{name}@example.org"
        access.add_person(con, boss, email)
        for role, jur in grants:
            access.grant(con, boss, email, role, jur)
        principals[name] = access.sign_in(con, email)
    yield {"con": con, "tmp": tmp, "first": first, "p": principals}
    con.close()


def _rows_changed(world, j):
    return [{"call_type": "NOISE COMPLAINT", "category": "NOISE", "eligible": False}]


# Each action: (function doing it for a jurisdiction, whether it is a write/export that must be
# recorded when allowed). Jurisdiction-free admin actions ignore ``j``.
def _import(w, p, j):
    guarded.import_file(w["con"], p, _csv(w["tmp"], j), kind="calls", jurisdiction=j,
                        profile=PROFILE)


def _undo(w, p, j):
    guarded.undo_import(w["con"], p, _raw_import(w["con"], w["tmp"], j))


def _check_undo(w, p, j):
    guarded.check_undo(w["con"], p, _raw_import(w["con"], w["tmp"], j))


ACTIONS = {
    "import": (_import, True),
    "undo": (_undo, True),
    "check_undo": (_check_undo, False),
    "crosswalk.edit": (lambda w, p, j: guarded.save_crosswalk(w["con"], p, j,
                                                              _rows_changed(w, j)), True),
    "crosswalk.starter": (lambda w, p, j: guarded.apply_starter_crosswalk(w["con"], p, j), True),
    "crosswalk.view": (lambda w, p, j: guarded.crosswalk_rows(w["con"], p, j), False),
    "crosswalk.unmapped": (lambda w, p, j: guarded.unmapped_share(w["con"], p, j), False),
    "history.view": (lambda w, p, j: guarded.import_history(w["con"], p, j), False),
    "rejects.view": (lambda w, p, j: guarded.rejects_of_import(w["con"], p, w["first"][j]),
                     False),
    "rejects.download": (lambda w, p, j: guarded.rejects_csv(w["con"], p, w["first"][j]), True),
    "warnings.view": (lambda w, p, j: guarded.warnings_by_type(w["con"], p, j), False),
    "quality.view": (lambda w, p, j: guarded.rejects_per_import(w["con"], p, j), False),
    "aggregates.read": (lambda w, p, j: guarded.compute(
        w["con"], p, metrics.MetricRequest(("A1",), (), metrics.Filters(jurisdictions=(j,)))),
                        False),
    "download": (lambda w, p, j: guarded.record_download(w["con"], p, "overview table",
                                                         jurisdiction=j), True),
    "people.view": (lambda w, p, j: access.people(w["con"], p), False),
    "people.add": (lambda w, p, j: access.add_person(w["con"], p,
                                                     f"new{next(_counter)}@example.org"), True),
    "people.edit": (lambda w, p, j: access.set_active(w["con"], p, "viewer_a@example.org",
                                                      True), True),
    "role.grant": (lambda w, p, j: access.grant(w["con"], p, "no_role@example.org", "viewer",
                                                j), True),
    "role.revoke": (lambda w, p, j: access.revoke(w["con"], p, "no_role@example.org", "viewer",
                                                  j), True),
    "jurisdiction.add": (lambda w, p, j: guarded.add_jurisdiction(
        w["con"], p, f"Ogdenville {next(_counter)}", "America/Chicago"), True),
    "jurisdiction.edit": (lambda w, p, j: guarded.update_jurisdiction(
        w["con"], p, j, population=100_000 + next(_counter)), True),
    "setting.view": (lambda w, p, j: guarded.settings(w["con"], p), False),
    "setting.change": (lambda w, p, j: guarded.set_setting(w["con"], p, "disclosure.rounding",
                                                           True), True),
    "audit.view": (lambda w, p, j: guarded.audit_entries(w["con"], p), False),
    "audit.verify": (lambda w, p, j: guarded.audit_check(w["con"], p), False),
    "audit.export": (lambda w, p, j: guarded.audit_csv(w["con"], p), True),
}

ALL = {"local", "admin", "analyst_a", "viewer_cohort", "viewer_a", "no_role"}
WRITERS = {A: {"local", "admin", "analyst_a"}, B: {"local", "admin"}}
ANALYSTS = {A: {"local", "analyst_a"}, B: {"local"}}
READERS = {A: ALL - {"no_role"}, B: ALL - {"no_role", "viewer_a"}}
ADMINS = {A: {"local", "admin"}, B: {"local", "admin"}}
EXPECTED = {
    "import": WRITERS, "undo": WRITERS, "check_undo": WRITERS, "crosswalk.edit": WRITERS,
    "crosswalk.starter": WRITERS, "crosswalk.view": WRITERS, "crosswalk.unmapped": WRITERS,
    "history.view": WRITERS,
    "rejects.view": ANALYSTS, "rejects.download": ANALYSTS, "warnings.view": ANALYSTS,
    "quality.view": ANALYSTS,
    "aggregates.read": READERS, "download": READERS,
    **{a: ADMINS for a in ("people.view", "people.add", "people.edit", "role.grant",
                           "role.revoke", "jurisdiction.add", "jurisdiction.edit",
                           "setting.view", "setting.change", "audit.view", "audit.verify",
                           "audit.export")},
}
CASES = [(who, action, j) for action in ACTIONS for who in sorted(ALL) for j in (A, B)]


def test_the_matrix_covers_every_rule():
    covered = {a.split(".")[0] for a in ACTIONS}
    assert {a.split(".")[0] for a in access.RULES} <= covered | {"setting"}
    assert set(EXPECTED) == set(ACTIONS)


@pytest.mark.parametrize("who,action,j", CASES, ids=[f"{w}-{a}-{j[:5]}" for w, a, j in CASES])
def test_role_matrix(world, who, action, j):
    con, principal = world["con"], world["p"][who]
    run, is_write = ACTIONS[action]
    before = audit.count(con)
    if who in EXPECTED[action][j]:
        run(world, principal, j)
        new = audit.entries(con)[before:]
        if is_write:
            assert new, f"{action} by {who} was not recorded"
            assert {(e.actor, e.outcome) for e in new} == {(principal.actor, "allowed")}
        else:
            assert all(e.outcome == "allowed" for e in new)
        return
    with pytest.raises(AccessDenied) as refused:
        run(world, principal, j)
    message = str(refused.value)
    assert message.startswith(f"{principal.actor} may not ") and message.endswith(".")
    new = [e for e in audit.entries(con)[before:] if e.outcome == "denied"]
    assert len(new) == 1, f"refusal of {action} for {who} not recorded exactly once"
    assert new[0].actor == principal.actor
    assert json.loads(new[0].detail)["reason"] == message
    assert audit.verify(con) is None


def test_analyst_of_a_changes_nothing_of_b(world, tmp_path):
    con, ana = world["con"], world["p"]["analyst_a"]
    before = con.execute("SELECT count(*), max(import_id) FROM imports WHERE jurisdiction = ?",
                         [B]).fetchone()
    crosswalk = con.execute("SELECT * FROM crosswalk WHERE jurisdiction = ? ORDER BY ALL",
                            [B]).fetchall()
    with pytest.raises(AccessDenied, match=f"may not import a file for {B}: that needs the "
                                           f"analyst role for {B} or the admin role"):
        guarded.import_file(con, ana, _csv(world["tmp"], B), kind="calls", jurisdiction=B,
                            profile=PROFILE)
    with pytest.raises(AccessDenied):
        guarded.undo_import(con, ana, before[1])
    with pytest.raises(AccessDenied):
        guarded.save_crosswalk(con, ana, B, [{"call_type": "X", "category": "NOISE",
                                              "eligible": True}])
    assert con.execute("SELECT count(*), max(import_id) FROM imports WHERE jurisdiction = ?",
                       [B]).fetchone() == before
    assert con.execute("SELECT * FROM crosswalk WHERE jurisdiction = ? ORDER BY ALL",
                       [B]).fetchall() == crosswalk
    # The ledger and the quality figures an analyst sees are their own jurisdiction's only.
    assert {r["jurisdiction"] for r in guarded.import_history(con, ana)} == {A}
    assert {r["jurisdiction"] for r in guarded.rejects_per_import(con, ana)} == {A}
    assert {r["jurisdiction"] for r in guarded.import_history(con, world["p"]["admin"])} == {A, B}


def test_admin_is_not_an_analyst_for_record_level_views(world):
    con, boss = world["con"], world["p"]["admin"]
    with pytest.raises(AccessDenied, match="may not see row warnings: that needs the analyst "
                                           "role for that jurisdiction"):
        guarded.warnings_by_type(con, boss)


def test_a_committed_import_is_recorded_with_its_file_hash(world):
    con, ana = world["con"], world["p"]["analyst_a"]
    result = guarded.import_file(con, ana, _csv(world["tmp"], A), kind="calls",
                                 jurisdiction=A, profile=PROFILE)
    e = audit.entries(con)[-1]
    assert (e.actor, e.action, e.jurisdiction, e.target, e.file_sha256, e.outcome) == (
        "analyst_a@example.org", "import", A, f"import #{result.import_id}", result.sha256,
        "allowed")
    assert json.loads(e.detail)["rows_rejected"] == 1


def test_a_dry_run_is_recorded_and_its_counts_are_the_analysts(world):
    """Issue 27: a check is audited; New/Updated reveal which records exist, so an admin
    without the analyst role of the jurisdiction does not get them."""
    con, ana, admin = world["con"], world["p"]["analyst_a"], world["p"]["admin"]
    before = audit.count(con)
    r = guarded.import_file(con, ana, _csv(world["tmp"], A), kind="calls", jurisdiction=A,
                            profile=PROFILE, dry_run=True)
    assert r.status == "dry_run" and audit.count(con) == before + 1
    e = audit.entries(con)[-1]
    assert (e.actor, e.action, e.jurisdiction, e.outcome) == (
        "analyst_a@example.org", "import.check", A, "allowed")
    assert r.rows_inserted is not None and r.rows_inserted + r.rows_updated + r.rows_unchanged > 0
    other = guarded.import_file(con, admin, _csv(world["tmp"], A), kind="calls",
                                jurisdiction=A, profile=PROFILE, dry_run=True)
    assert (other.rows_inserted, other.rows_updated, other.rows_unchanged) == (None, None, None)
    assert other.rows_read == r.rows_read
    assert json.loads(audit.entries(con)[-1].detail)["counts_shown"] is False


def test_a_file_refused_for_its_content_changes_nothing_not_even_the_log(world, tmp_path):
    con, ana = world["con"], world["p"]["analyst_a"]
    bad = world["tmp"] / "empty.csv"
    bad.write_text("", encoding="utf-8")
    before = audit.count(con)
    with pytest.raises(DataError):
        guarded.import_file(con, ana, bad, kind="calls", jurisdiction=A, profile=PROFILE)
    assert audit.count(con) == before


# --------------------------------------------------------------------------------------------
# Aggregates: scope and the disclosure integration point
# --------------------------------------------------------------------------------------------

def _request(*jurisdictions, by=()):
    return metrics.MetricRequest(("A1",), by, metrics.Filters(jurisdictions=jurisdictions))


COUNT_FIELDS = ("numerator", "denominator", "n", "missing")


def _published(rows) -> bool:
    return all(isinstance(r, PublicRow) for r in rows)


def _small_counts(rows) -> list:
    return [(r.metric, f, getattr(r, f)) for r in rows for f in COUNT_FIELDS
            if getattr(r, f) is not None and 1 <= getattr(r, f) <= 10]


def test_viewers_get_published_figures_whatever_policy_is_passed(world):
    con = world["con"]
    for who in ("viewer_cohort", "viewer_a", "admin"):
        for policy in (None, disclosure.ANALYST, disclosure.VIEWER):
            rows = guarded.compute(con, world["p"][who], _request(A), policy=policy)
            assert rows and _published(rows), (who, policy)
            assert _small_counts(rows) == [], (who, policy)


def test_an_analyst_sees_own_figures_exact_and_the_cohort_published(world):
    con, ana = world["con"], world["p"]["analyst_a"]
    exact = guarded.compute(con, ana, _request(A))
    assert exact and not _published(exact)
    assert exact == metrics.compute(con, _request(A))  # exactly what the engine computes
    assert _published(guarded.compute(con, ana, _request(A), policy=disclosure.VIEWER))
    assert not _published(guarded.compute(con, ana, _request(A), policy=disclosure.ANALYST))
    for request in (_request(), _request(B), _request(by=("jurisdiction",))):
        rows = guarded.compute(con, ana, request, policy=disclosure.ANALYST)
        assert _published(rows) and _small_counts(rows) == []


@pytest.fixture(scope="module")
def small_world(tmp_path_factory):
    """A few calls in A, a few dozen in B: small cells everywhere, as in a first month."""
    tmp = tmp_path_factory.mktemp("small")
    con = connect(tmp / "small.duckdb", readable_dirs=(tmp,))
    for j, n in ((A, 1), (B, 12)):
        for _ in range(n):
            _raw_import(con, tmp, j)
    viewers = {}
    for who, grant in (("viewer_cohort", None), ("viewer_a", A)):
        access.add_person(con, access.LOCAL, f"{who}@example.org")
        access.grant(con, access.LOCAL, f"{who}@example.org", "viewer", grant)
        viewers[who] = access.sign_in(con, f"{who}@example.org")
    yield con, viewers
    con.close()


@pytest.mark.parametrize("who", ["viewer_cohort", "viewer_a"])
def test_no_request_of_a_viewer_reveals_a_small_count(small_world, who):
    """Tried as an attacker would: every metric and count, many groupings and filters."""
    con, viewer = small_world[0], small_world[1][who]
    groupings = [(), ("jurisdiction",), ("month",), ("category",), ("weekday",),
                 ("jurisdiction", "month"), ("jurisdiction", "category")]
    filter_sets = [metrics.Filters(), metrics.Filters(jurisdictions=(A,)),
                   metrics.Filters(categories=("NOISE",)),
                   metrics.Filters(date_from=date(2024, 5, 2), date_to=date(2024, 5, 2))]
    seen = hidden = 0
    for by in groupings:
        for filters in filter_sets:
            try:
                rows = guarded.compute(con, viewer, metrics.MetricRequest((), by, filters))
                rows += guarded.compute_counts(con, viewer, metrics.CountRequest(
                    tuple(metrics.COUNTS), by, filters))
            except AccessDenied:
                continue  # outside the viewer's jurisdictions: refused, and recorded
            seen += len(rows)
            hidden += len(_small_counts(metrics.compute(con, metrics.MetricRequest((), by,
                                                                                  filters))))
            assert _published(rows)
            assert _small_counts(rows) == [], (by, filters)
            if who == "viewer_a":
                assert {r.group.get("jurisdiction", A) for r in rows} <= {A}
    assert seen > 100
    assert hidden > 20  # the exact figures behind those requests do hold small counts


def test_a_jurisdiction_viewer_is_narrowed_to_it(world):
    con, viewer = world["con"], world["p"]["viewer_a"]
    rows = guarded.compute(con, viewer, _request(by=("jurisdiction",)))
    assert {r.group["jurisdiction"] for r in rows} == {A}
    opts = guarded.filter_options(con, viewer)
    assert opts["jurisdictions"] == [A]
    assert [j["jurisdiction"] for j in guarded.jurisdiction_profiles(con, viewer)] == [A]
    assert set(guarded.filter_options(con, world["p"]["viewer_cohort"])["jurisdictions"]) >= {A, B}
    with pytest.raises(AccessDenied, match=f"may not read aggregates for {B}"):
        guarded.compute(con, viewer, _request(B))


def test_someone_without_a_role_sees_no_figures(world):
    with pytest.raises(AccessDenied, match="has no role in this deployment yet"):
        guarded.compute(world["con"], world["p"]["no_role"], _request())


# --------------------------------------------------------------------------------------------
# Signing in, people and roles
# --------------------------------------------------------------------------------------------

def test_sign_in_of_an_unknown_or_inactive_person_is_refused_and_recorded(world):
    con = world["con"]
    with pytest.raises(AccessDenied, match="stranger@example.org is not registered"):
        access.sign_in(con, "Stranger@Example.org")
    e = audit.entries(con)[-1]
    assert (e.actor, e.action, e.outcome) == ("stranger@example.org", "sign_in", "denied")
    access.add_person(con, access.LOCAL, "leaver@example.org")
    access.set_active(con, access.LOCAL, "leaver@example.org", False)
    with pytest.raises(AccessDenied):
        access.sign_in(con, "leaver@example.org")


def test_roles_are_read_from_the_database_each_time(world):
    con = world["con"]
    access.add_person(con, access.LOCAL, "temp@example.org")
    access.grant(con, access.LOCAL, "temp@example.org", "analyst", B)
    p = access.sign_in(con, "temp@example.org")
    assert p.analyst_jurisdictions == {B} and p.may_write(B) and not p.may_write(A)
    access.revoke(con, access.LOCAL, "temp@example.org", "analyst", B)
    assert access.load_principal(con, "temp@example.org").roles == ()


def test_grants_are_checked(world):
    con = world["con"]
    with pytest.raises(DataError, match="An analyst works for one jurisdiction"):
        access.grant(con, access.LOCAL, "viewer_a@example.org", "analyst")
    with pytest.raises(DataError, match="The admin role is for the whole deployment"):
        access.grant(con, access.LOCAL, "viewer_a@example.org", "admin", A)
    with pytest.raises(DataError, match="There is no role 'owner'"):
        access.grant(con, access.LOCAL, "viewer_a@example.org", "owner")
    with pytest.raises(DataError, match="ghost@example.org is not on the list of people"):
        access.grant(con, access.LOCAL, "ghost@example.org", "viewer")


def test_the_last_admin_cannot_be_removed(tmp_path):
    con = connect(tmp_path / "one.duckdb")
    assert access.bootstrap_admins(con, ["Boss@Example.org"]) == ["boss@example.org"]
    assert access.bootstrap_admins(con, ["other@example.org"]) == []  # only while none exists
    boss = access.sign_in(con, "boss@example.org")
    with pytest.raises(DataError, match="boss@example.org is the last active admin"):
        access.revoke(con, boss, "boss@example.org", "admin")
    with pytest.raises(DataError, match="last active admin"):
        access.set_active(con, boss, "boss@example.org", False)
    assert access.load_principal(con, "boss@example.org").is_admin
    assert [e.action for e in audit.entries(con)] == ["role.grant", "sign_in"]
    con.close()


def test_local_principal_is_recorded_as_local(world):
    con = world["con"]
    p = access.sign_in_local(con)
    assert p is access.LOCAL and p.actor == "local"
    e = audit.entries(con)[-1]
    assert (e.actor, e.action, json.loads(e.detail)) == ("local", "sign_in", {"mode": "local"})


def test_principal_is_hashable_for_caches():
    p = Principal("a@example.org", (access.Grant("viewer"),))
    assert hash(p) == hash(Principal("a@example.org", (access.Grant("viewer"),), name="A"))
