"""The guarded facade: every read and write the dashboard does, checked against the roles.

Each function takes the connection and the signed-in ``Principal``, checks the rule for its
action (``service/access.py`` ``RULES``), then calls the real function of the importer, ledger,
crosswalk, quality or metrics module. Allowed writes and downloads are recorded in the audit
log with what they did; refusals are recorded by ``access.authorize`` and raise
``AccessDenied``. The pages call these, never the unguarded functions, so hiding a page is
never the only protection.
"""
from __future__ import annotations

import functools
import json
import threading
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import metrics
from metrics import catalog, disclosure

from data import audit, boundaries, crosswalk, facts, importer, ledger, quality
from data.errors import DataError
from data.importer import one_transaction

from .access import RULES, AccessDenied, Principal, authorize, deny

# Disclosure control (metrics/disclosure/): this module never suppresses anything itself.
# It decides *whether* disclosure control must run (``Principal.needs_disclosure``: always,
# unless every jurisdiction in view is one's own) and hands the request to
# ``disclosure.disclose`` / ``disclose_counts`` with the caller's ``policy`` (default
# ``VIEWER``). A policy that would switch disclosure off is overridden when it must run, so no
# caller can show a viewer exact counts; an analyst on their own jurisdictions gets exact rows
# unless the policy asks for disclosure.


# --------------------------------------------------------------------------------------------
# Import, undo, ledger
# --------------------------------------------------------------------------------------------

# One write of records at a time in this process: the Data page's imports, undos and crosswalk
# and settings edits, the import folder's, and the command line's handed over to the server
# (service/handover.py). Each runs in its own transaction and counts the maintained tables
# again; two at once on one jurisdiction would conflict there and one would fail. Reentrant:
# a write may call another (accepting suggestions saves the crosswalk).
WRITES = threading.RLock()


def one_writer(write):
    """Run ``write`` holding ``WRITES`` (waiting for a write under way to finish)."""
    @functools.wraps(write)
    def held(*args, **kwargs):
        with WRITES:
            return write(*args, **kwargs)
    return held


def preview(con, principal: Principal, path, *, kind: str, jurisdiction: str, **kwargs):
    """``importer.preview`` for someone who may import into ``jurisdiction``."""
    authorize(con, principal, "import", jurisdiction=jurisdiction,
              target=kwargs.get("file_name") or Path(path).name)
    return importer.preview(con, path, kind=kind, **kwargs)


def import_file(con, principal: Principal, path, *, kind: str, jurisdiction: str,
                dry_run: bool = False, **kwargs) -> importer.ImportResult:
    """``importer.import_file`` for an analyst of ``jurisdiction`` or an admin.

    A committed import (or a refused one) is recorded with the file's SHA-256; a dry run (the
    upload page's check) writes no records, is recorded as ``import.check``, and tells how many
    records are new or updated only to an analyst of the jurisdiction (``_checked``).
    """
    return _audited_import(con, principal, path, jurisdiction, dry_run, kwargs,
                           lambda j: importer.import_file(
                               con, path, kind=kind, jurisdiction=j, dry_run=dry_run,
                               **{"saved_by": principal.actor, **kwargs}))


def import_boundaries(con, principal: Principal, path, *, jurisdiction: str,
                      dry_run: bool = False, **kwargs) -> importer.ImportResult:
    """``boundaries.import_boundaries`` (a GeoJSON of the areas), under ``import_file``'s rules."""
    return _audited_import(con, principal, path, jurisdiction, dry_run, kwargs,
                           lambda j: boundaries.import_boundaries(
                               con, path, jurisdiction=j, dry_run=dry_run, **kwargs))


def _audited_import(con, principal, path, jurisdiction, dry_run, kwargs, run):
    jurisdiction = (jurisdiction or "").strip()
    file_name = kwargs.get("file_name") or Path(path).name
    authorize(con, principal, "import", jurisdiction=jurisdiction or None, target=file_name)
    # A file refused for its content changes nothing and is not recorded: bad input must leave
    # the database exactly as it was (issue 2). Refusals of *access* are recorded (authorize).
    if dry_run:  # writes nothing (its transaction rolls back): no need to wait
        result = run(jurisdiction)
    else:
        with WRITES:
            result = run(jurisdiction)
    if not dry_run:
        audit.record(con, actor=principal.actor, action="import", jurisdiction=jurisdiction,
                     target=f"import #{result.import_id}" if result.import_id else file_name,
                     file_sha256=result.sha256, detail=_import_detail(result))
        return result
    return _checked(con, principal, jurisdiction, file_name, result)


def _import_detail(r: importer.ImportResult) -> dict:
    return {"kind": r.kind, "file_name": r.file_name, "result": r.status,
            "import_id": r.import_id, "previous_import": r.previous_import,
            "rows_read": r.rows_read, "rows_inserted": r.rows_inserted,
            "rows_updated": r.rows_updated, "rows_rejected": r.rows_rejected}


@one_writer
def undo_import(con, principal: Principal, import_id: int) -> dict:
    jurisdiction, sha = _import_owner(con, import_id)
    authorize(con, principal, "undo", jurisdiction=jurisdiction, target=f"import #{import_id}",
              file_sha256=sha)
    out = ledger.undo_import(con, import_id)
    audit.record(con, actor=principal.actor, action="undo", jurisdiction=jurisdiction,
                 target=f"import #{import_id}", file_sha256=sha,
                 detail={k: out[k] for k in ("kind", "rows_removed", "rows_restored")})
    return out


def check_undo(con, principal: Principal, import_id: int):
    jurisdiction, sha = _import_owner(con, import_id)
    authorize(con, principal, "undo", jurisdiction=jurisdiction, target=f"import #{import_id}",
              file_sha256=sha)
    return ledger.check_undo(con, import_id)


def import_history(con, principal: Principal, jurisdiction: str | None = None) -> list[dict]:
    """The ledger rows of the jurisdictions ``principal`` may import into (admin: all)."""
    rows = quality.import_history(con, jurisdiction)
    return _own(con, principal, "history.view", rows, jurisdiction, principal.may_write)


def _import_owner(con, import_id) -> tuple[str | None, str | None]:
    row = con.execute("SELECT jurisdiction, file_sha256 FROM imports WHERE import_id = ?",
                      [import_id]).fetchone()
    # An unknown import belongs to nobody: only an admin gets as far as the ledger's message.
    return (row[0], row[1]) if row else (None, None)


# --------------------------------------------------------------------------------------------
# Crosswalk
# --------------------------------------------------------------------------------------------

def crosswalk_rows(con, principal: Principal, jurisdiction: str) -> list[dict]:
    authorize(con, principal, "crosswalk.view", jurisdiction=jurisdiction)
    return crosswalk.crosswalk_rows(con, jurisdiction)


def unmapped_share(con, principal: Principal, jurisdiction: str) -> dict:
    """The crosswalk editor's figure: exact counts, so for those who may edit it."""
    authorize(con, principal, "crosswalk.view", jurisdiction=jurisdiction)
    return crosswalk.unmapped_share(con, jurisdiction)


@one_writer
def save_crosswalk(con, principal: Principal, jurisdiction: str, rows: list[dict]) -> int:
    authorize(con, principal, "crosswalk.edit", jurisdiction=jurisdiction, target="crosswalk")
    saved = crosswalk.save_crosswalk(con, jurisdiction, rows)
    changes = [{"call_type": r.get("call_type"), "category": r.get("category"),
                "eligible": r.get("eligible")} for r in rows[:200]]
    audit.record(con, actor=principal.actor, action="crosswalk.edit", jurisdiction=jurisdiction,
                 target="crosswalk", detail={"saved": saved, "rows": changes,
                                             "rows_not_listed": max(len(rows) - 200, 0)})
    return saved


@one_writer
def apply_starter_crosswalk(con, principal: Principal, jurisdiction: str) -> dict:
    authorize(con, principal, "crosswalk.edit", jurisdiction=jurisdiction, target="crosswalk")
    out = crosswalk.apply_starter_crosswalk(con, jurisdiction)
    audit.record(con, actor=principal.actor, action="crosswalk.edit", jurisdiction=jurisdiction,
                 target="crosswalk", detail={"starter": out})
    return out


# --------------------------------------------------------------------------------------------
# Record-level views: an analyst of the jurisdiction only
# --------------------------------------------------------------------------------------------

def rejects_of_import(con, principal: Principal, import_id: int) -> list[dict]:
    jurisdiction, sha = _import_owner(con, import_id)
    authorize(con, principal, "rejects.view", jurisdiction=jurisdiction,
              target=f"import #{import_id}", file_sha256=sha)
    return quality.rejects_of_import(con, import_id)


def rejects_csv(con, principal: Principal, import_id: int) -> str:
    """The rejected rows of an import as CSV: a download, so it is recorded."""
    jurisdiction, sha = _import_owner(con, import_id)
    authorize(con, principal, "rejects.download", jurisdiction=jurisdiction,
              target=f"import #{import_id}", file_sha256=sha)
    rows = quality.rejects_of_import(con, import_id)
    audit.record(con, actor=principal.actor, action="rejects.download",
                 jurisdiction=jurisdiction, target=f"import #{import_id}", file_sha256=sha,
                 detail={"rows": len(rows)})
    return quality.rejects_csv(rows)


def warnings_by_type(con, principal: Principal, jurisdiction: str | None = None) -> list[dict]:
    rows = quality.warnings_by_type(con, jurisdiction)
    return _own(con, principal, "warnings.view", rows, jurisdiction, principal.is_analyst_of)


def quality_by_jurisdiction(con, principal: Principal) -> list[dict]:
    rows = quality.quality_by_jurisdiction(con)
    return _own(con, principal, "quality.view", rows, None, principal.is_analyst_of)


def rejects_per_import(con, principal: Principal, jurisdiction: str | None = None) -> list[dict]:
    rows = quality.rejects_per_import(con, jurisdiction)
    return _own(con, principal, "quality.view", rows, jurisdiction, principal.is_analyst_of)


def _own(con, principal, action, rows, jurisdiction, may) -> list[dict]:
    """Rows of the jurisdictions ``may`` allows; a refusal when it allows none at all.

    Asking for one jurisdiction checks that one; asking for all returns the allowed subset
    (an admin's ledger is everyone's, an analyst's is their own jurisdictions').
    """
    if jurisdiction is not None or not _has_any(principal, action):
        authorize(con, principal, action, jurisdiction=jurisdiction)  # raises when refused
    return [r for r in rows if may(r["jurisdiction"])]


def _has_any(principal: Principal, action: str) -> bool:
    """Whether ``action`` is allowed for at least one jurisdiction."""
    if principal.local or principal.analyst_jurisdictions:
        return True
    return RULES[action].who == "writer" and principal.is_admin


# --------------------------------------------------------------------------------------------
# Aggregates: everyone signed in; published (disclosure-controlled) unless all one's own
# --------------------------------------------------------------------------------------------

def scope(con, principal: Principal, filters: metrics.Filters) -> metrics.Filters:
    """The filters narrowed to the jurisdictions ``principal`` may see; refused outside them."""
    viewable = principal.viewable_jurisdictions()
    if viewable is None:
        return filters
    asked = set(filters.jurisdictions)
    if not asked:
        if not viewable:  # signed in, but given no role yet
            deny(con, principal, "aggregates.read", f"{principal.actor} has no role in this "
                 "deployment yet, so there are no figures to show. Ask an admin.")
        return replace(filters, jurisdictions=tuple(sorted(viewable)))
    outside = sorted(asked - viewable)
    if outside:
        deny(con, principal, "aggregates.read",
             f"{principal.actor} may not read aggregates for {', '.join(outside)}: your viewer "
             f"role covers {', '.join(sorted(viewable)) or 'no jurisdiction'}.",
             jurisdiction=outside[0])
    return filters


def compute(con, principal: Principal, request: metrics.MetricRequest, *, policy=None) -> list:
    """``metrics.compute`` within the principal's scope, disclosure-controlled when required.

    Returns ``MetricRow`` s (exact) or ``metrics.disclosure.PublicRow`` s (published).
    """
    request = replace(request, filters=scope(con, principal, request.filters))
    dc = _policy(con, principal, request, policy)
    if dc is None:
        return metrics.compute(con, request)
    module, chosen = dc
    return module.disclose(con, request, chosen).rows


def compute_counts(con, principal: Principal, request: metrics.CountRequest, *,
                   policy=None) -> list:
    request = replace(request, filters=scope(con, principal, request.filters))
    dc = _policy(con, principal, request, policy)
    if dc is None:
        return metrics.compute_counts(con, request)
    module, chosen = dc
    return module.disclose_counts(con, request, chosen).rows


def needs_disclosure(principal: Principal, filters: metrics.Filters) -> bool:
    return principal.needs_disclosure(tuple(filters.jurisdictions))


def _policy(con, principal, request, policy):
    """(disclosure module, policy to apply), or None for exact figures."""
    required = needs_disclosure(principal, request.filters)
    if not required and (policy is None or not policy.enabled):
        return None
    chosen = policy or disclosure.VIEWER
    if required and not chosen.enabled:
        chosen = replace(chosen, enabled=True)  # a viewer never gets exact counts
    viewable = principal.viewable_jurisdictions()
    if viewable is not None:
        # Everything this reader may see is their "all", as every jurisdiction is for a
        # cohort-wide reader (disclosure widens a selection of several to it).
        chosen = replace(chosen, whole_jurisdictions=frozenset(viewable))
    return disclosure, chosen


def filter_options(con, principal: Principal) -> dict:
    """``catalog.filter_options`` with only the jurisdictions the principal may see."""
    viewable = principal.viewable_jurisdictions()
    return catalog.filter_options(con, None if viewable is None else sorted(viewable))


def jurisdiction_profiles(con, principal: Principal) -> list[dict]:
    viewable = principal.viewable_jurisdictions()
    rows = catalog.jurisdiction_profiles(con)
    return rows if viewable is None else [r for r in rows if r["jurisdiction"] in viewable]


def record_download(con, principal: Principal, what: str, *, jurisdiction: str | None = None,
                    detail: dict | None = None) -> None:
    """Record a download of a table the page already showed (the same rows, the same policy)."""
    authorize(con, principal, "download", jurisdiction=jurisdiction, target=what)
    viewable = principal.viewable_jurisdictions()
    if viewable is not None and (jurisdiction not in viewable if jurisdiction else not viewable):
        deny(con, principal, "download", f"{principal.actor} may not download figures "
             f"{'for ' + jurisdiction if jurisdiction else 'of the cohort'}: your viewer role "
             f"covers {', '.join(sorted(viewable)) or 'no jurisdiction'}.",
             jurisdiction=jurisdiction, target=what)
    audit.record(con, actor=principal.actor, action="download", jurisdiction=jurisdiction,
                 target=what, detail=detail)


def _one(values):
    return values[0] if len(values) == 1 else None


# --------------------------------------------------------------------------------------------
# Admin: jurisdictions, settings, the audit log (people and roles are in access.py)
# --------------------------------------------------------------------------------------------

# The jurisdiction settings an admin may change (the allowlist: nothing else is written).
JURISDICTION_SETTINGS = ("state", "time_zone", "population", "program_name", "launch_date",
                         "coverage_start_hour", "coverage_end_hour", "coverage_days",
                         "coverage_areas", "target_categories")


def add_jurisdiction(con, principal: Principal, name: str, time_zone: str) -> None:
    name = (name or "").strip()
    authorize(con, principal, "jurisdiction.edit", jurisdiction=name or None, target=name)
    if not name:
        raise DataError("Give the jurisdiction a name.")
    _check_zone(con, time_zone)
    if con.execute("SELECT 1 FROM jurisdictions WHERE jurisdiction = ?", [name]).fetchone():
        raise DataError(f"{name} exists already.")
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone) VALUES (?, ?)",
                [name, time_zone])
    audit.record(con, actor=principal.actor, action="jurisdiction.add", jurisdiction=name,
                 target=name, detail={"time_zone": time_zone})


@one_writer
def update_jurisdiction(con, principal: Principal, name: str, **settings) -> None:
    """Change some of a jurisdiction's settings (``JURISDICTION_SETTINGS``)."""
    authorize(con, principal, "jurisdiction.edit", jurisdiction=name, target=name)
    unknown = sorted(set(settings) - set(JURISDICTION_SETTINGS))
    if unknown:
        raise ValueError(f"not a jurisdiction setting: {', '.join(unknown)}")
    if not con.execute("SELECT 1 FROM jurisdictions WHERE jurisdiction = ?", [name]).fetchone():
        raise DataError(f"There is no jurisdiction {name}.")
    if "time_zone" in settings:
        _check_zone(con, settings["time_zone"])
    if not settings:
        return
    cols = list(settings)  # names checked against the allowlist above; values are parameters
    with one_transaction(con):
        con.execute(f"UPDATE jurisdictions SET {', '.join(f'{c} = ?' for c in cols)} "
                    "WHERE jurisdiction = ?", [settings[c] for c in cols] + [name])
        if "target_categories" in settings:  # automatic crosswalk rows follow the targets
            crosswalk.repropose_eligibility(con, name)
        facts.refresh(con, name)  # eligibility depends on the settings
    audit.record(con, actor=principal.actor, action="jurisdiction.edit", jurisdiction=name,
                 target=name, detail=settings)


def _check_zone(con, zone) -> None:
    if zone not in set(quality.time_zones(con)):
        raise DataError(f"{zone!r} is not a time zone DuckDB knows; use an IANA name such as "
                        "America/Chicago.")


def settings(con, principal: Principal) -> dict:
    authorize(con, principal, "setting.change")
    return {k: json.loads(v) if v is not None else None
            for k, v in con.execute("SELECT key, value FROM settings ORDER BY key").fetchall()}


def set_setting(con, principal: Principal, key: str, value) -> None:
    authorize(con, principal, "setting.change", target=key)
    text = audit.detail_json(value) if value is not None else None
    con.execute("INSERT INTO settings VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                "value = excluded.value, updated_at = excluded.updated_at, "
                "updated_by = excluded.updated_by",
                [key, text, datetime.now(timezone.utc), principal.actor])
    audit.record(con, actor=principal.actor, action="setting.change", target=key,
                 detail={"value": value})


def audit_entries(con, principal: Principal) -> list[dict]:
    authorize(con, principal, "audit.view")
    return audit.export(con)


def audit_check(con, principal: Principal, anchor=None) -> audit.Break | None:
    authorize(con, principal, "audit.view")
    return audit.check(con, anchor)


def audit_csv(con, principal: Principal) -> str:
    """The whole audit log as CSV; the export itself is recorded (after the rows it holds)."""
    authorize(con, principal, "audit.export")
    rows = audit.export(con)
    audit.record(con, actor=principal.actor, action="audit.export",
                 detail={"entries": len(rows)})
    return audit.to_csv(rows)


# --------------------------------------------------------------------------------------------
# Call-type suggestions, accepting them, and what still keeps the pages empty.
# --------------------------------------------------------------------------------------------

def crosswalk_suggestions(con, principal: Principal, jurisdiction: str) -> list[dict]:
    """A suggested category with its confidence for each of the jurisdiction's call types."""
    from data import call_types

    authorize(con, principal, "crosswalk.view", jurisdiction=jurisdiction)
    return [s.as_dict() for s in call_types.suggest_for(con, jurisdiction)]


def accept_suggestions(con, principal: Principal, jurisdiction: str,
                       call_types: list[str] | None = None) -> int:
    """Accept the confident suggestions (or those of ``call_types``) for every call type no
    person has confirmed, with the eligibility proposed from the target categories. Saved
    (and audited) as a person's crosswalk edit: the rows are confirmed from then on."""
    authorize(con, principal, "crosswalk.edit", jurisdiction=jurisdiction, target="crosswalk")
    rows = crosswalk.accepted_rows(crosswalk.crosswalk_rows(con, jurisdiction),
                                   crosswalk_suggestions(con, principal, jurisdiction),
                                   crosswalk.target_categories(con, jurisdiction), call_types)
    return save_crosswalk(con, principal, jurisdiction, rows) if rows else 0


def propose_eligibility(con, principal: Principal, jurisdiction: str) -> int:
    """Eligibility from the target categories for every call type with a category whose
    eligibility is unknown; saved (and audited) as a person's crosswalk edit."""
    authorize(con, principal, "crosswalk.edit", jurisdiction=jurisdiction, target="crosswalk")
    rows = crosswalk.eligibility_proposals(crosswalk.crosswalk_rows(con, jurisdiction),
                                           crosswalk.target_categories(con, jurisdiction))
    return save_crosswalk(con, principal, jurisdiction, rows) if rows else 0


def next_steps(con, principal: Principal, jurisdiction: str) -> list[dict]:
    """What still keeps the jurisdiction's pages empty or wrong (exact counts: its writers)."""
    from data import program

    authorize(con, principal, "crosswalk.view", jurisdiction=jurisdiction)
    return program.next_steps(con, jurisdiction)


def why_no_eligible_calls(con, principal: Principal, jurisdictions=()) -> list[str]:
    """For each jurisdiction in view (of those asked, or all one may see) that has no eligible
    call at all, the reason in one sentence, without counts (any reader may see it)."""
    from data import program

    viewable = principal.viewable_jurisdictions()
    names = list(jurisdictions) or [r[0] for r in con.execute(
        "SELECT jurisdiction FROM jurisdictions ORDER BY 1").fetchall()]
    names = [j for j in names if viewable is None or j in viewable]
    return program.why_no_eligible_calls(con, names)




# --------------------------------------------------------------------------------------------
# Impact (metrics/impact.py): one jurisdiction's before and after, for the signed-in principal.
# --------------------------------------------------------------------------------------------

def impact(con, principal: Principal, filters: metrics.Filters, outcome: str, *, policy=None):
    """``metrics.impact.analyse`` for the one jurisdiction of ``filters``, within the
    principal's scope; from the published monthly counts whenever disclosure must run."""
    from types import SimpleNamespace

    from metrics import impact as impact_methods

    if len(filters.jurisdictions) != 1:
        raise ValueError("impact needs exactly one jurisdiction in the filters")
    filters = scope(con, principal, filters)
    dc = _policy(con, principal, SimpleNamespace(filters=filters), policy)
    if dc:  # the request rules of every public view: one value or all per filter
        dc[0].public_request(metrics.CountRequest(("calls_target",), (), filters), dc[1])
    return impact_methods.analyse(con, filters.jurisdictions[0], outcome, filters,
                                  dc[1] if dc else None)




# --------------------------------------------------------------------------------------------
# Costs (issue 22): entering them, and the cost figures.
#
# Costs are written under the import rule (an analyst of the jurisdiction, or an admin) and
# audited as imports; undo is the ledger's. The cost figures are built from team responses,
# people served and police busy time through the same disclosure path as every figure: a
# viewer sees published counts, and a cost per response or per person from a hidden count is
# hidden too (it would give the count back).
# --------------------------------------------------------------------------------------------

def import_costs(con, principal: Principal, path, *, jurisdiction: str, dry_run: bool = False,
                 **kwargs) -> importer.ImportResult:
    """``costs.import_costs`` (a costs file), under ``import_file``'s rules."""
    from data import costs

    return _audited_import(con, principal, path, jurisdiction, dry_run, kwargs,
                           lambda j: costs.import_costs(con, path, jurisdiction=j,
                                                        dry_run=dry_run, **kwargs))


def enter_costs(con, principal: Principal, jurisdiction: str, entries: list[dict], *,
                source: str = "the Data page") -> importer.ImportResult:
    """``costs.enter_costs`` (the Data page's form, ``python -m data costs``), audited."""
    from data import costs

    jurisdiction = (jurisdiction or "").strip()
    authorize(con, principal, "import", jurisdiction=jurisdiction or None, target="costs")
    result = costs.enter_costs(con, jurisdiction, entries, source=source)
    if result.status != "unchanged":
        audit.record(con, actor=principal.actor, action="import", jurisdiction=jurisdiction,
                     target=f"import #{result.import_id}", file_sha256=result.sha256,
                     detail={**_import_detail(result), "entries": entries[:50]})
    return result


def stored_costs(con, principal: Principal, jurisdiction: str) -> list[dict]:
    """The cost rows as entered, for those who may enter them (the Data page's table)."""
    from data import costs

    authorize(con, principal, "import", jurisdiction=jurisdiction, target="costs")
    return costs.stored_costs(con, jurisdiction)


def cost_report(con, principal: Principal, jurisdiction: str, filters: metrics.Filters, *,
                policy=None, per_response_only: bool = False) -> dict:
    """``metrics.cost.report`` for one jurisdiction the principal may see, its counts through
    ``compute`` / ``compute_counts`` (disclosure-controlled when required)."""
    from metrics import cost

    filters = replace(filters, jurisdictions=(jurisdiction,))
    scoped = replace(filters, jurisdictions=scope(con, principal, filters).jurisdictions)
    request = metrics.CountRequest(("responses",), (), scoped)
    dc = _policy(con, principal, request, policy)
    chosen = dc[1] if dc else None
    if chosen is not None:
        scoped = dc[0].public_request(metrics.MetricRequest((), (), scoped), chosen)[0].filters
    return cost.report(
        con, jurisdiction, scoped,
        compute=lambda r: compute(con, principal, r, policy=policy),
        compute_counts=lambda r: compute_counts(con, principal, r, policy=policy),
        policy=chosen, per_response_only=per_response_only)


# Reference figures scoped to what the principal may see
# --------------------------------------------------------------------------------------------

def scoped_jurisdictions(principal: Principal, jurisdictions) -> tuple[str, ...] | None:
    """The jurisdictions a reference query may read: the chosen ones the principal may see, or
    (none chosen) all the principal may see; None means the whole cohort (no limit)."""
    viewable = principal.viewable_jurisdictions()
    chosen = tuple(jurisdictions or ())
    if viewable is None:
        return chosen or None
    return tuple(sorted(j for j in (chosen or viewable) if j in viewable))


def population(con, principal: Principal, jurisdictions, dimension: str) -> dict:
    """Residents per group and their sources, from the jurisdictions the principal may see:
    a one-jurisdiction viewer's "per 1,000 residents" uses that jurisdiction's residents."""
    scope = scoped_jurisdictions(principal, jurisdictions)
    if scope == ():  # may see no jurisdiction: no residents to divide by
        return {"groups": {}, "sources": []}
    scope = scope or ()
    return {"groups": catalog.population_by_group(con, scope, dimension),
            "sources": catalog.population_sources(con, scope)}


def _checked(con, principal: Principal, jurisdiction: str, file_name: str,
             result: importer.ImportResult) -> importer.ImportResult:
    """A dry run is recorded; its New / Updated / Unchanged counts say which records exist, so
    only an analyst of the jurisdiction gets them (an admin without that role: None)."""
    exact = principal.is_analyst_of(jurisdiction)
    audit.record(con, actor=principal.actor, action="import.check", jurisdiction=jurisdiction,
                 target=file_name, file_sha256=result.sha256,
                 detail={"kind": result.kind, "rows_read": result.rows_read,
                         "rows_rejected": result.rows_rejected, "counts_shown": exact})
    if exact:
        return result
    return replace(result, rows_inserted=None, rows_updated=None, rows_unchanged=None)


# Capacity planning (metrics/capacity/). Everyone signed in may plan for the jurisdictions
# they may see; counts of calls are published (disclosure control) unless exact figures are
# allowed, as for every other aggregate.
# --------------------------------------------------------------------------------------------

def capacity_plan(con, principal: Principal, request, specs: tuple[str, ...], *, policy=None,
                  **options) -> dict:
    """``metrics.capacity.plan`` for a jurisdiction ``principal`` may see; a viewer's period is
    widened to whole months and every count of calls published."""
    from metrics import capacity

    filters = scope(con, principal, metrics.Filters(
        jurisdictions=(request.jurisdiction,), date_from=request.date_from,
        date_to=request.date_to, areas=request.areas, categories=request.categories))
    dc = _policy(con, principal, metrics.MetricRequest((), (), filters), policy)
    if dc is None:
        return capacity.plan(con, request, specs, **options)
    module, chosen = dc
    asked, _ = module.public_request(metrics.MetricRequest((), (), filters), chosen)
    wider = replace(request, date_from=asked.filters.date_from, date_to=asked.filters.date_to)
    return capacity.publish(capacity.plan(con, wider, specs, **options), chosen)


__all__ = ["AccessDenied"]
