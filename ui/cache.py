"""The only st.cache_resource (the database) and st.cache_data (metric results) in the app.

DuckDB connections must not be shared across threads and Streamlit runs each session on its own
thread, so each call takes a cursor of the one cached connection. Results are keyed on the data
version, which every import, undo and crosswalk edit changes, so nothing stale is ever shown.
The version is pinned for a script run and every computation reads one snapshot at it
(``_reading``): an import committed by another session or by the command line's hand-over while
a page draws is not seen by it, and a run whose version has moved on draws the page again from
the new version, never a mix of old and new figures.

Every figure comes through ``service.guarded`` for the signed-in principal, keyed on the principal
and the disclosure policy too: a viewer's published rows are never served to anyone else, nor
an analyst's exact ones to a viewer. A refusal (``AccessDenied``) is raised, never cached.

The computations viewers asked for are noted (``ui/prepared.py``) and computed again in the
background when a new version is first read, so that the next viewer finds them done.
"""
from __future__ import annotations

import logging
import os
from contextlib import closing, contextmanager

import streamlit as st

import metrics
from service import guarded
from service.access import Principal
from data.connection import SERVER_MEMORY_LIMIT, connect, default_db_path
from data.handover import import_folder
from service.handover import Listener
from metrics.disclosure import DisclosurePolicy
from ui.prepared import Prepared, kept_beside

_PIN = "_a911_data_version"  # the run's pinned data version, in the session
_LISTENERS: dict = {}  # database path -> its hand-over Listener (kept alive with the server)
_RESULT_CACHE_ENTRIES = 512  # bounded: cache_data without a limit grows forever
# Views prepared before they are asked for (ui/prepared.py); A911_PREPARE_VIEWS=0 turns it off.
PREPARE = os.environ.get("A911_PREPARE_VIEWS", "1") != "0"
_PREPARED: dict[str, Prepared] = {}  # database path -> its noted views


@st.cache_resource(show_spinner=False)
def _database(path: str):
    folder = import_folder()  # the Data page and the command line read files there in place
    con = connect(path, memory_limit=SERVER_MEMORY_LIMIT,
                  readable_dirs=(folder,) if folder and folder.is_dir() else ())
    _take_imports(path, con)
    return con


def _take_imports(path: str, con) -> None:
    """Whoever holds the database takes ``python -m data import`` over the hand-over socket
    (service/handover.py), once per process and database; a failure only costs that."""
    if path == ":memory:":
        return
    if path in _LISTENERS:  # the resource cache was cleared: the old listener gives way
        _LISTENERS.pop(path).stop()
    try:
        _LISTENERS[path] = Listener(path, con.cursor).start()
    except OSError:
        logging.getLogger(__name__).exception("imports from the command line are not taken")


def cursor():
    return _database(str(default_db_path())).cursor()


def data_version() -> tuple:
    """Changes with every import, undo, crosswalk or settings edit and database file (the path
    is part of it). Edits are found in the audit log, so that one made from the command line
    (``python -m data settings``) while the dashboard runs is seen too.

    Pinned for the script run (``new_run``): every figure of one page comes from one version,
    and ``_reading`` proves that each was computed from it, so an import committing while a
    page draws never mixes old and new figures on it (the page is drawn again instead)."""
    try:
        pinned = st.session_state.get(_PIN)
    except Exception:  # no session (bare mode): nothing to pin to
        pinned = None
    if pinned is not None:
        return pinned
    with closing(cursor()) as cur:
        version = _version(cur)
    try:
        st.session_state[_PIN] = version
    except Exception:
        pass
    if PREPARE:  # the first run to read a new version prepares the views asked before it
        _prepared(version[0]).seen(version)
    return version


def _prepared(path: str) -> Prepared:
    if path not in _PREPARED:
        functions = {f.__name__: f for f in (_compute, _counts, _options, _profiles, _population,
                                             _boundaries, _why_no_eligible, _impact,
                                             _cost_report, _plan)}
        _PREPARED.setdefault(path, Prepared(kept_beside(path), functions, _no_write_under_way,
                                            stale=(StaleVersion,)))
    return _PREPARED[path]


def _no_write_under_way() -> bool:
    """No import, undo or edit is writing in this process (``guarded.WRITES`` is free)."""
    if guarded.WRITES.acquire(blocking=False):
        guarded.WRITES.release()
        return True
    return False


def new_run() -> None:
    """Forget the pinned version: called by the router at the start of every script run."""
    try:
        st.session_state.pop(_PIN, None)
    except Exception:
        pass


def _version(cur) -> tuple:
    return (str(default_db_path()), *cur.execute(
        "SELECT coalesce(max(import_id), 0), count(*) FILTER (WHERE status = 'undone'), "
        "(SELECT count(*) FROM crosswalk), (SELECT count(*) FROM jurisdictions), "
        "(SELECT max(seq) FROM audit_log WHERE action IN ('crosswalk.edit', "
        "'jurisdiction.edit')) FROM imports").fetchone())


class StaleVersion(Exception):
    """The data changed while a figure was computed for the pinned version."""


@contextmanager
def _reading(version: tuple):
    """A cursor for a cached computation keyed on ``version``, every query of which reads one
    snapshot of the database: the cursor's own read transaction. Its version is checked
    inside that transaction, so either every query of the computation sees exactly
    ``version`` (an import committing meanwhile is not seen: DuckDB keeps the snapshot), or
    StaleVersion is raised before anything is computed and the page is drawn again from the
    new version. A figure can never mix counts of two versions (a numerator counted after an
    import over a base counted before it)."""
    with closing(cursor()) as cur, snapshot(cur):
        if _version(cur) != version:
            raise StaleVersion()
        yield cur


@contextmanager
def snapshot(cur):
    """Every query on ``cur`` within it reads one snapshot of the database (a read
    transaction, rolled back: it only reads), whatever commits meanwhile."""
    cur.execute("BEGIN TRANSACTION")
    try:
        yield cur
    finally:
        cur.execute("ROLLBACK")


def _answer(compute, *args):
    """``compute(*args, version)`` for the run's version; a figure computed while an import or
    edit committed draws the whole page again, from the new version."""
    version = data_version()
    try:
        answer = compute(*args, version)
    except StaleVersion:
        logging.getLogger(__name__).warning("the data changed while a page was drawn: it is "
                                            "drawn again from the new version")
        new_run()
        st.rerun()
    # Noted once answered: a refusal (raised above) is never prepared again, which would
    # record it in the audit log again, as if its principal had asked.
    if PREPARE:
        _prepared(version[0]).asked(compute.__name__, args)
    return answer


def _as_dict(row) -> dict:
    # Exact rows (MetricRow) have no reasons; published ones (PublicRow) carry `suppressed`.
    return {"suppressed": {}, **row.__dict__}


@st.cache_data(max_entries=_RESULT_CACHE_ENTRIES, show_spinner=False)
def _compute(request: metrics.MetricRequest, principal: Principal, policy: DisclosurePolicy,
             version: tuple) -> list[dict]:
    with _reading(version) as cur:
        return [_as_dict(r) for r in guarded.compute(cur, principal, request, policy=policy)]


def compute(request: metrics.MetricRequest, principal: Principal,
            policy: DisclosurePolicy) -> list[dict]:
    """Metric rows (dicts) as ``principal`` may see them under ``policy``, per data version."""
    return _answer(_compute, request, principal, policy)


@st.cache_data(max_entries=_RESULT_CACHE_ENTRIES, show_spinner=False)
def _counts(request: metrics.CountRequest, principal: Principal, policy: DisclosurePolicy,
            version: tuple) -> list[dict]:
    with _reading(version) as cur:
        return [_as_dict(r) for r in guarded.compute_counts(cur, principal, request,
                                                           policy=policy)]


def counts(request: metrics.CountRequest, principal: Principal,
           policy: DisclosurePolicy) -> list[dict]:
    """Named counts (e.g. team responses by outcome) as row dicts, as ``compute``."""
    return _answer(_counts, request, principal, policy)


def _principal() -> Principal:
    from ui import auth  # not at the top: ui.auth uses this module's cursor()

    return auth.current()


@st.cache_data(max_entries=64, show_spinner=False)
def _options(principal: Principal, version: tuple) -> dict:
    with _reading(version) as cur:
        return guarded.filter_options(cur, principal)


def filter_options() -> dict:
    """Jurisdictions, categories, areas per jurisdiction, first/last day and rows per table
    (the jurisdictions the signed-in principal may see)."""
    return _answer(_options, _principal())


@st.cache_data(max_entries=64, show_spinner=False)
def _profiles(principal: Principal, version: tuple) -> list[dict]:
    with _reading(version) as cur:
        return guarded.jurisdiction_profiles(cur, principal)


def jurisdictions() -> list[dict]:
    """The settings (population, program, launch date, coverage) of the jurisdictions the
    signed-in principal may see."""
    return _answer(_profiles, _principal())


@st.cache_data(max_entries=64, show_spinner=False)
def _population(principal: Principal, jurisdictions: tuple[str, ...], dimension: str,
                version: tuple) -> dict:
    with _reading(version) as cur:
        return guarded.population(cur, principal, jurisdictions, dimension)


def population(jurisdictions: tuple[str, ...], dimension: str) -> dict:
    """Residents per group (published census figures, not records): {groups, sources}."""
    return _answer(_population, _principal(), tuple(jurisdictions), dimension)


@st.cache_data(max_entries=32, show_spinner=False)
def _boundaries(jurisdiction: str, version: tuple) -> dict | None:
    from data.boundaries import feature_collection

    with _reading(version) as cur:
        return feature_collection(cur, jurisdiction)


def boundaries(jurisdiction: str) -> dict | None:
    """The jurisdiction's area boundaries (GeoJSON FeatureCollection), or None."""
    return _answer(_boundaries, jurisdiction)


@st.cache_data(max_entries=64, show_spinner=False)
def _why_no_eligible(principal: Principal, jurisdictions: tuple[str, ...],
                     version: tuple) -> list[str]:
    with _reading(version) as cur:
        return guarded.why_no_eligible_calls(cur, principal, jurisdictions)


def why_no_eligible(jurisdictions: tuple[str, ...]) -> list[str]:
    """Why each jurisdiction in view (all one may see when none is chosen) has no eligible call
    at all: one sentence each, none for those that have some."""
    return _answer(_why_no_eligible, _principal(), tuple(jurisdictions))


@st.cache_data(max_entries=64, show_spinner=False)
def _impact(filters: metrics.Filters, outcome: str, principal: Principal,
            policy: DisclosurePolicy, version: tuple):
    with _reading(version) as cur:
        return guarded.impact(cur, principal, filters, outcome, policy=policy)


def impact(filters: metrics.Filters, outcome: str, principal: Principal,
           policy: DisclosurePolicy):
    """The impact analysis of the filters' one jurisdiction (``metrics.impact.Analysis``);
    a refusal for the whole jurisdiction (no launch date ...) is raised as ImpactRefused."""
    return _answer(_impact, filters, outcome, principal, policy)


@st.cache_data(max_entries=64, show_spinner=False)
def _cost_report(jurisdiction: str, filters: metrics.Filters, principal: Principal,
                 policy: DisclosurePolicy, per_response_only: bool, version: tuple) -> dict:
    from metrics.cost import NoCosts

    with _reading(version) as cur:
        try:
            return guarded.cost_report(cur, principal, jurisdiction, filters, policy=policy,
                                       per_response_only=per_response_only)
        except NoCosts as e:  # the true reason, for the page's empty state
            return {"no_costs": str(e)}


def cost_report(jurisdiction: str, filters: metrics.Filters, principal: Principal,
                policy: DisclosurePolicy, per_response_only: bool = False) -> dict:
    """The Cost page's figures for one jurisdiction (``metrics.cost.report``), as
    ``principal`` may see them; ``{"no_costs": sentence}`` when none are entered.
    ``per_response_only``: cost per team response alone (Compare's row)."""
    return _answer(_cost_report, jurisdiction, filters, principal, policy, per_response_only)


@st.cache_data(max_entries=64, show_spinner=False)
def _plan(request, specs: tuple[str, ...], options: tuple, principal: Principal,
          policy: DisclosurePolicy, version: tuple) -> dict:
    with _reading(version) as cur:
        return guarded.capacity_plan(cur, principal, request, specs, policy=policy,
                                     **dict(options))


def plan(request, specs: tuple[str, ...], options: dict, policy: DisclosurePolicy) -> dict:
    """The Plan page's answer (metrics.capacity.plan) for the signed-in principal under
    ``policy``, per data version: a simulation of a second or so, run once per choice."""
    return _answer(_plan, request, tuple(specs), tuple(sorted(options.items())), _principal(),
                   policy)
