"""What is in the database: jurisdictions' settings and the values the filters can offer.

The pages never write SQL; the sidebar filters and the launch markers read these functions
(through ``ui/cache.py``). Categories are read through the calls *source* (the crosswalk's
category when there is one), so the filter offers exactly the values the metrics group by.
"""
from __future__ import annotations

from datetime import date

from data import population
from data.acs import moe_of_sum

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

    ``dimension`` is a population dimension (race_ethnicity, age_group, ...) or ``area``: each
    area's total. Each jurisdiction's figures are read by ``data.population`` (its own row when
    a geography is named like it, else its tracts added up; only stored `total` rows are
    totals) from the source of its latest population import, so two imports of different
    years are never added together. Several jurisdictions add up; 90% margins of error combine
    as the root of the sum of squares (the ACS approximation).
    """
    parts: dict[str, list[tuple[int, float | None]]] = {}
    for j, source in _population_sources(con, jurisdictions).items():
        if dimension == "area":
            geos = population.by_geography(con, j, dimension="total", source=source)
            found = {g: rows["total"] for g, rows in geos.items() if g != j and "total" in rows}
        else:
            found = population.for_jurisdiction(con, j, dimension=dimension, source=source)
            found = {g: v for g, v in found.items() if g != "total"}
        for group, value in found.items():
            parts.setdefault(group, []).append(value)
    return {g: (sum(n for n, _ in v), None if all(m is None for _, m in v)
                else moe_of_sum(m for _, m in v)) for g, v in parts.items()}


def _population_sources(con, jurisdictions: tuple[str, ...]) -> dict[str, str | None]:
    """{jurisdiction: the source of its latest population import} (all when empty)."""
    where, params = "true", []
    if jurisdictions:
        where, params = "list_contains(?::VARCHAR[], jurisdiction)", [list(jurisdictions)]
    return dict(con.execute(
        f"SELECT jurisdiction, arg_max(source, import_id) FROM population WHERE {where} "
        "GROUP BY 1 ORDER BY 1", params).fetchall())


def population_sources(con, jurisdictions: tuple[str, ...]) -> list[str]:
    """Where the population figures come from (e.g. 'ACS 2019-23 5-year'), for the caption."""
    return sorted({s for s in _population_sources(con, jurisdictions).values() if s})


