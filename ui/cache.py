"""The only st.cache_resource (the database) and st.cache_data (metric results) in the app.

DuckDB connections must not be shared across threads and Streamlit runs each session on its own
thread, so each call takes a cursor of the one cached connection. Results are keyed on the data
version, which every import, undo and crosswalk edit changes, so nothing stale is ever shown.
"""
from __future__ import annotations

import streamlit as st

import metrics
from data.connection import connect, default_db_path

_RESULT_CACHE_ENTRIES = 512  # bounded: cache_data without a limit grows forever


@st.cache_resource(show_spinner=False)
def _database(path: str):
    return connect(path)


def cursor():
    return _database(str(default_db_path())).cursor()


def data_version() -> tuple:
    cur = cursor()
    try:
        return cur.execute(
            "SELECT coalesce(max(import_id), 0), count(*) FILTER (WHERE status = 'undone'), "
            "(SELECT count(*) FROM crosswalk), (SELECT count(*) FROM jurisdictions) "
            "FROM imports").fetchone()
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


@st.cache_data(max_entries=64, show_spinner=False)
def _options(version: tuple) -> dict:
    cur = cursor()
    try:
        jur = [r[0] for r in cur.execute(
            "SELECT jurisdiction FROM jurisdictions ORDER BY 1").fetchall()]
        span = cur.execute("SELECT min(received_local)::DATE, max(received_local)::DATE "
                           "FROM calls").fetchone()
        return {"jurisdictions": jur, "first_day": span[0], "last_day": span[1]}
    finally:
        cur.close()


def filter_options() -> dict:
    return _options(data_version())
