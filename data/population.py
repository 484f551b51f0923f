"""Population denominators as the equity measures read them: residents and 90% MOE per group.

Totals come only from `total` rows (README data model): race rows are never added up into a
total, because some tables count Hispanic or Latino beside the races. Adding one group over
several areas is fine; its margin of error is then the root of the summed squares
(``acs.moe_of_sum``, the Census Bureau's approximation).
"""
from __future__ import annotations

from .acs import moe_of_sum
from .errors import DataError

Denominator = tuple[int, float | None]  # (residents, 90% margin of error; None = none published)


def sources(con, jurisdiction: str) -> list[str]:
    """The population sources imported for a jurisdiction (e.g. 'ACS 2019-2023 5-year, ...')."""
    return [s for (s,) in con.execute("SELECT DISTINCT source FROM population WHERE "
                                      "jurisdiction = ? ORDER BY 1", [jurisdiction]).fetchall()]


def _source(con, jurisdiction, source):
    if source is not None:
        return source
    found = sources(con, jurisdiction)
    if len(found) > 1:
        raise DataError(f"{jurisdiction} has population figures from several sources "
                        f"({'; '.join(found)}); say which one to use.")
    return found[0] if found else None


def by_geography(con, jurisdiction: str, *, dimension: str = "race_ethnicity",
                 source: str | None = None) -> dict[str, dict[str, Denominator]]:
    """{geography: {group: (residents, moe)}}, each geography's `total` row under 'total'.

    Example: by_geography(con, "Lane County")["Census Tract 1; Lane County; Oregon"]["black"]
    -> (41, 24.0)
    """
    source = _source(con, jurisdiction, source)
    rows = con.execute(
        'SELECT geography, "group", population, moe FROM population WHERE jurisdiction = ? '
        "AND source IS NOT DISTINCT FROM ? AND (dimension = ? OR \"group\" = 'total') "
        "AND population IS NOT NULL ORDER BY 1, 2", [jurisdiction, source, dimension]).fetchall()
    out: dict[str, dict[str, Denominator]] = {}
    for geography, group, population, moe in rows:
        out.setdefault(geography, {})[group] = (int(population),
                                                None if moe is None else float(moe))
    return out


def for_jurisdiction(con, jurisdiction: str, *, dimension: str = "race_ethnicity",
                     source: str | None = None) -> dict[str, Denominator]:
    """{group: (residents, moe)} for the whole jurisdiction.

    Its own rows when a geography is named like the jurisdiction (the demo cohort, a place
    file), else each group added up over the geographies (tracts), with the MOE of a sum.
    The 'total' is the sum of the geographies' total rows, never of the groups.
    """
    geos = by_geography(con, jurisdiction, dimension=dimension, source=source)
    if jurisdiction in geos:
        return geos[jurisdiction]
    groups = sorted({g for rows in geos.values() for g in rows})
    out = {}
    for g in groups:
        parts = [rows[g] for rows in geos.values() if g in rows]
        out[g] = (sum(p for p, _ in parts), moe_of_sum(m for _, m in parts))
    return out
