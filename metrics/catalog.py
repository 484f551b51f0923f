"""What is in the database: jurisdictions' settings and the values the filters can offer.

The pages never write SQL; the sidebar filters and the launch markers read these functions
(through ``ui/cache.py``). Categories are read through the calls *source* (the crosswalk's
category when there is one), so the filter offers exactly the values the metrics group by.
"""
from __future__ import annotations

from datetime import date

from .sources import SOURCES

_PROFILE_COLUMNS = ("jurisdiction", "state", "time_zone", "population", "program_name",
                    "launch_date", "coverage_start_hour", "coverage_end_hour", "coverage_days",
                    "coverage_areas", "target_categories")


def jurisdiction_profiles(con) -> list[dict]:
    """Every jurisdiction's settings (name, population, program, launch date, coverage)."""
    cols = ", ".join(_PROFILE_COLUMNS)
    rows = con.execute(f"SELECT {cols} FROM jurisdictions ORDER BY jurisdiction").fetchall()
    return [dict(zip(_PROFILE_COLUMNS, row)) for row in rows]


def filter_options(con, jurisdictions: list[str] | None = None) -> dict:
    """Values the shared filters offer, and how much data there is.

    Returns ``jurisdictions`` (names), ``categories`` (standard categories seen in calls),
    ``areas`` (jurisdiction -> sorted area names, from calls and responses), ``first_day`` and
    ``last_day`` (local dates of the first and last record) and ``rows`` (records per table).
    With ``jurisdictions``, everything is worked out from those jurisdictions' records only
    (a viewer of one must not see another's newest date or categories; issue 27).
    """
    mine = "true" if jurisdictions is None else "list_contains(?::VARCHAR[], jurisdiction)"
    only = [] if jurisdictions is None else [list(jurisdictions)]
    names = [r[0] for r in con.execute(
        f"SELECT jurisdiction FROM jurisdictions WHERE {mine} ORDER BY 1", only).fetchall()]
    categories = [r[0] for r in con.execute(
        f"WITH base AS ({SOURCES['calls'].sql}) SELECT DISTINCT category FROM base "
        f"WHERE category IS NOT NULL AND {mine} ORDER BY 1", only).fetchall()]
    areas: dict[str, list[str]] = {}
    for jur, area in con.execute(
            f"SELECT DISTINCT jurisdiction, area FROM calls WHERE area IS NOT NULL AND {mine} "
            f"UNION SELECT DISTINCT jurisdiction, area FROM responses WHERE area IS NOT NULL "
            f"AND {mine} ORDER BY 1, 2", only * 2).fetchall():
        areas.setdefault(jur, []).append(area)
    span = con.execute(
        "SELECT min(d)::DATE, max(d)::DATE FROM ("
        f"SELECT received_local AS d FROM calls WHERE {mine} UNION ALL "
        f"SELECT requested_local FROM responses WHERE {mine} UNION ALL "
        f"SELECT referred_local FROM referrals WHERE {mine})", only * 3).fetchone()
    rows = dict(zip(("calls", "responses", "referrals"), con.execute(
        f"SELECT (SELECT count(*) FROM calls WHERE {mine}), (SELECT count(*) FROM responses "
        f"WHERE {mine}), (SELECT count(*) FROM referrals WHERE {mine})", only * 3).fetchone()))
    jurisdictions = names
    return {"jurisdictions": jurisdictions, "categories": categories, "areas": areas,
            "first_day": _as_date(span[0]), "last_day": _as_date(span[1]), "rows": rows}


def _as_date(value) -> date | None:
    return value if isinstance(value, date) else None


def population_by_group(con, jurisdictions: tuple[str, ...], dimension: str) -> dict:
    """Residents per group for the jurisdictions (all when empty), as {group: (residents, moe)}.

    ``dimension`` is a population dimension (race_ethnicity, age_group, ...) read from each
    jurisdiction-wide geography, or ``area``: each area's total. Figures of several
    jurisdictions add up; their 90% margins of error combine as the root of the sum of squares
    (the ACS approximation). Only stored `total` rows are totals: groups are never summed
    into one (race rows may overlap).
    """
    if dimension == "area":
        where = "p.geography <> p.jurisdiction AND p.dimension = 'total' AND p.\"group\" = 'total'"
        key = "p.geography"
    else:
        where = "p.geography = p.jurisdiction AND p.dimension = ?"
        key = 'p."group"'
    params = [] if dimension == "area" else [dimension]
    if jurisdictions:
        where += " AND list_contains(?::VARCHAR[], p.jurisdiction)"
        params.append(list(jurisdictions))
    rows = con.execute(
        f"SELECT {key}, sum(p.population), sqrt(sum(p.moe::DOUBLE * p.moe)), "
        f"count(p.moe) = count(*), string_agg(DISTINCT p.source, '; ') "
        f"FROM population p WHERE {where} GROUP BY 1", params).fetchall()
    return {g: (int(n), moe if complete else None) for g, n, moe, complete, _ in rows}


def population_sources(con, jurisdictions: tuple[str, ...]) -> list[str]:
    """Where the population figures come from (e.g. 'ACS 2019-23 5-year'), for the caption."""
    where, params = "true", []
    if jurisdictions:
        where, params = "list_contains(?::VARCHAR[], jurisdiction)", [list(jurisdictions)]
    return [r[0] for r in con.execute(
        f"SELECT DISTINCT source FROM population WHERE {where} AND source IS NOT NULL "
        "ORDER BY 1", params).fetchall()]
