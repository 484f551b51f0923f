"""The only st.cache_resource (the database) and st.cache_data (metric results) in the app.

DuckDB connections must not be shared across threads and Streamlit runs each session on its own
thread, so each call takes a cursor of the one cached connection. Results are keyed on the data
version, which every import, undo and crosswalk edit changes, so nothing stale is ever shown.

Every figure comes through ``data.guarded`` for the signed-in principal, keyed on the principal
and the disclosure policy too: a viewer's published rows are never served to anyone else, nor
an analyst's exact ones to a viewer. A refusal (``AccessDenied``) is raised, never cached.
"""
from __future__ import annotations

from contextlib import closing
from dataclasses import replace

import streamlit as st

import metrics
from data import guarded
from data.access import Principal
from data.connection import SERVER_MEMORY_LIMIT, connect, default_db_path
from metrics import catalog
from metrics.disclosure import DisclosurePolicy

_RESULT_CACHE_ENTRIES = 512  # bounded: cache_data without a limit grows forever


@st.cache_resource(show_spinner=False)
def _database(path: str):
    return connect(path, memory_limit=SERVER_MEMORY_LIMIT)


def cursor():
    return _database(str(default_db_path())).cursor()


def data_version() -> tuple:
    """Changes with every import, undo, crosswalk edit and database file (the path is part of it)."""
    cur = cursor()
    try:
        return (str(default_db_path()), *cur.execute(
            "SELECT coalesce(max(import_id), 0), count(*) FILTER (WHERE status = 'undone'), "
            "(SELECT count(*) FROM crosswalk), (SELECT count(*) FROM jurisdictions) "
            "FROM imports").fetchone())
    finally:
        cur.close()


def _as_dict(row) -> dict:
    # Exact rows (MetricRow) have no reasons; published ones (PublicRow) carry `suppressed`.
    return {"suppressed": {}, **row.__dict__}


@st.cache_data(max_entries=_RESULT_CACHE_ENTRIES, show_spinner=False)
def _compute(request: metrics.MetricRequest, principal: Principal, policy: DisclosurePolicy,
             version: tuple) -> list[dict]:
    with closing(cursor()) as cur:
        return [_as_dict(r) for r in guarded.compute(cur, principal, request, policy=policy)]


def compute(request: metrics.MetricRequest, principal: Principal,
            policy: DisclosurePolicy) -> list[dict]:
    """Metric rows (dicts) as ``principal`` may see them under ``policy``, per data version."""
    asked, keep = public_shape(request, principal, policy)
    return _kept(_compute(asked, principal, policy, data_version()), keep)


@st.cache_data(max_entries=_RESULT_CACHE_ENTRIES, show_spinner=False)
def _counts(request: metrics.CountRequest, principal: Principal, policy: DisclosurePolicy,
            version: tuple) -> list[dict]:
    with closing(cursor()) as cur:
        return [_as_dict(r) for r in guarded.compute_counts(cur, principal, request,
                                                           policy=policy)]


def counts(request: metrics.CountRequest, principal: Principal,
           policy: DisclosurePolicy) -> list[dict]:
    """Named counts (e.g. team responses by outcome) as row dicts, as ``compute``."""
    asked, keep = public_shape(request, principal, policy)
    return _kept(_counts(asked, principal, policy, data_version()), keep)


# A filter with several values is not a public view (metrics/disclosure.py public_request):
# when the view is grouped by that same dimension, ask for all of its values and keep the
# chosen groups, which is the same table the whole cohort's view publishes.
_SET_FILTERS = {"jurisdictions": "jurisdiction", "categories": "category", "areas": "area",
                "origins": "origin", "teams": "team"}


def public_shape(request, principal: Principal, policy: DisclosurePolicy):
    if not (policy.enabled or guarded.needs_disclosure(principal, request.filters)):
        return request, {}
    keep = {dim: set(getattr(request.filters, name)) for name, dim in _SET_FILTERS.items()
            if len(getattr(request.filters, name)) > 1 and dim in request.by}
    if not keep:
        return request, {}
    wider = replace(request.filters, **{name: () for name, dim in _SET_FILTERS.items()
                                        if dim in keep})
    return replace(request, filters=wider), keep


def _kept(rows: list[dict], keep: dict) -> list[dict]:
    return [r for r in rows if all(r["group"].get(d) in v for d, v in keep.items())]


def _principal() -> Principal:
    from ui import auth  # not at the top: ui.auth uses this module's cursor()

    return auth.current()


@st.cache_data(max_entries=64, show_spinner=False)
def _options(principal: Principal, version: tuple) -> dict:
    with closing(cursor()) as cur:
        return guarded.filter_options(cur, principal)


def filter_options() -> dict:
    """Jurisdictions, categories, areas per jurisdiction, first/last day and rows per table
    (the jurisdictions the signed-in principal may see)."""
    return _options(_principal(), data_version())


@st.cache_data(max_entries=64, show_spinner=False)
def _profiles(principal: Principal, version: tuple) -> list[dict]:
    with closing(cursor()) as cur:
        return guarded.jurisdiction_profiles(cur, principal)


def jurisdictions() -> list[dict]:
    """The settings (population, program, launch date, coverage) of the jurisdictions the
    signed-in principal may see."""
    return _profiles(_principal(), data_version())


@st.cache_data(max_entries=64, show_spinner=False)
def _population(jurisdictions: tuple[str, ...], dimension: str, version: tuple) -> dict:
    cur = cursor()
    try:
        return {"groups": catalog.population_by_group(cur, jurisdictions, dimension),
                "sources": catalog.population_sources(cur, jurisdictions)}
    finally:
        cur.close()


def population(jurisdictions: tuple[str, ...], dimension: str) -> dict:
    """Residents per group (published census figures, not records): {groups, sources}."""
    return _population(tuple(jurisdictions), dimension, data_version())


@st.cache_data(max_entries=32, show_spinner=False)
def _boundaries(jurisdiction: str, version: tuple) -> dict | None:
    from data.boundaries import feature_collection

    cur = cursor()
    try:
        return feature_collection(cur, jurisdiction)
    finally:
        cur.close()


def boundaries(jurisdiction: str) -> dict | None:
    """The jurisdiction's area boundaries (GeoJSON FeatureCollection), or None."""
    return _boundaries(jurisdiction, data_version())


@st.cache_data(max_entries=64, show_spinner=False)
def _plan(request, specs: tuple[str, ...], options: tuple, principal: Principal,
          policy: DisclosurePolicy, version: tuple) -> dict:
    with closing(cursor()) as cur:
        return guarded.capacity_plan(cur, principal, request, specs, policy=policy,
                                     **dict(options))


def plan(request, specs: tuple[str, ...], options: dict, policy: DisclosurePolicy) -> dict:
    """The Plan page's answer (metrics.capacity.plan) for the signed-in principal under
    ``policy``, per data version: a simulation of a second or so, run once per choice."""
    return _plan(request, tuple(specs), tuple(sorted(options.items())), _principal(), policy,
                 data_version())
