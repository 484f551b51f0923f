"""The only st.cache_resource (the database) and st.cache_data (metric results) in the app.

DuckDB connections must not be shared across threads and Streamlit runs each session on its own
thread, so each call takes a cursor of the one cached connection. Results are keyed on the data
version, which every import, undo and crosswalk edit changes, so nothing stale is ever shown.
"""
from __future__ import annotations

import streamlit as st

import metrics
from data.connection import connect, default_db_path
from metrics import catalog

_RESULT_CACHE_ENTRIES = 512  # bounded: cache_data without a limit grows forever


@st.cache_resource(show_spinner=False)
def _database(path: str):
    return connect(path)


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


@st.cache_data(max_entries=_RESULT_CACHE_ENTRIES, show_spinner=False)
def _compute(request: metrics.MetricRequest, version: tuple) -> list[dict]:
    cur = cursor()
    try:
        return [r.__dict__ for r in metrics.compute(cur, request)]
    finally:
        cur.close()


def compute(request: metrics.MetricRequest) -> list[dict]:
    """Metric rows (dicts) for a request, cached per data version."""
    return _compute(request, data_version())


@st.cache_data(max_entries=_RESULT_CACHE_ENTRIES, show_spinner=False)
def _counts(request: metrics.CountRequest, version: tuple) -> list[dict]:
    cur = cursor()
    try:
        return [r.__dict__ for r in metrics.compute_counts(cur, request)]
    finally:
        cur.close()


def counts(request: metrics.CountRequest) -> list[dict]:
    """Named counts (e.g. team responses by outcome) as row dicts, cached per data version."""
    return _counts(request, data_version())


@st.cache_data(max_entries=64, show_spinner=False)
def _options(version: tuple) -> dict:
    cur = cursor()
    try:
        return catalog.filter_options(cur)
    finally:
        cur.close()


def filter_options() -> dict:
    """Jurisdictions, categories, areas per jurisdiction, first/last day and rows per table."""
    return _options(data_version())


@st.cache_data(max_entries=64, show_spinner=False)
def _profiles(version: tuple) -> list[dict]:
    cur = cursor()
    try:
        return catalog.jurisdiction_profiles(cur)
    finally:
        cur.close()


def jurisdictions() -> list[dict]:
    """Every jurisdiction's settings: population, program, launch date, coverage."""
    return _profiles(data_version())


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
