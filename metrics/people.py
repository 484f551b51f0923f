"""Distinct people (F1) and people with k or more contacts (F2_k) from the maintained
``people_monthly`` table (data/aggregates.py: each person's team responses per month and
jurisdiction, the person a number, data/people_numbers.py) instead of the responses (issue 25).

People do not add up over months or jurisdictions, but contacts do: a person's contacts in a
period are the sum of their monthly contacts, so grouping the table by person (and the
requested groups) gives each person's contacts exactly as grouping the responses by person key
does, over far fewer rows, hashing integers instead of strings. The responses without a person
key are in the table too (person NULL), so that every group with responses is there and F1
can say "not recorded" where nobody has a key, as over the rows.

The table answers when the request groups by jurisdiction and time (month, quarter, year)
only, filters by jurisdiction only and its period is whole local months; anything else (an
area, a team, a period ending mid-month) reads the rows (metrics/sql.py build_people_sql).
"""
from __future__ import annotations

from data.aggregates import ROLLUPS

from . import rollup
from .request import Filters
from .sources import DIMENSIONS
from .sql import labelled

TABLE = next(r for r in ROLLUPS if r.table == "people_monthly")
# Each person's responses per jurisdiction over all time: a request with no period (the
# pages' default) grouped by jurisdiction at most reads it as it is, one row per person.
TOTAL = next(r for r in ROLLUPS if r.table == "people_total")
DIMS = ("jurisdiction", "month", "quarter", "year")


def answers(con, by: tuple[str, ...], filters: Filters) -> bool:
    """Whether ``people_monthly`` (and, with no period, ``people_total``) answers people and
    repeat contacts grouped by ``by``."""
    return (not rollup.rows_forced() and rollup.whole_months(filters)
            and set(by) <= set(DIMS) and not filters.areas and not filters.teams
            and rollup.available(con, TABLE)
            and (bool(filters.date_from or filters.date_to) or rollup.available(con, TOTAL)))


def _all_time(by, filters: Filters) -> bool:
    """Whether ``people_total`` answers: no period, grouped by jurisdiction at most."""
    return not (filters.date_from or filters.date_to) and set(by) <= {"jurisdiction"}


def build_sql(levels: list[tuple[str, ...]], filters: Filters, thresholds: list[int]
              ) -> tuple[str, list]:
    """``build_people_sql``'s rows (set_mask, the groups, ``people``, ``r_<k>``), and
    ``keyed`` (responses with a person key), from the table: each person's contacts per group
    of the finest grouping once, then each level from those."""
    clauses, params = [], []
    if filters.jurisdictions:
        clauses.append("list_contains(?::VARCHAR[], jurisdiction)")
        params.append(list(filters.jurisdictions))
    if filters.date_from:
        clauses.append("local_month >= ?")
        params.append(rollup.month_number(filters.date_from))
    if filters.date_to:
        clauses.append("local_month <= ?")
        params.append(rollup.month_number(filters.date_to))
    dims = tuple(dict.fromkeys(d for lv in levels for d in lv))
    finest = ", ".join([f'{DIMENSIONS[d]} AS "g_{d}"' for d in dims] + ["person"])
    counts = ", ".join(
        [f'count(*) FILTER (WHERE person IS NOT NULL AND contacts >= {int(k)}) AS "r_{int(k)}"'
         for k in thresholds]
        + ["count(person) AS people",
           "coalesce(sum(contacts) FILTER (WHERE person IS NOT NULL), 0) AS keyed"])
    selects = []
    for lv in levels:
        # GROUPING()'s mask, as the rows' grouping sets give it: a set bit per dimension the
        # level does not group by, the first dimension highest.
        mask = sum(1 << (len(dims) - 1 - i) for i, d in enumerate(dims) if d not in lv)
        groups = [f'"g_{d}"' if d in lv else f'NULL AS "g_{d}"' for d in dims]
        keys = "".join(f'"g_{d}", ' for d in lv)
        group = f" GROUP BY {keys[:-2]}" if lv else ""
        # The finest level is per_group itself; the others sum its contacts per person.
        rows = "per_group" if set(lv) == set(dims) else (
            f"(SELECT {keys}person, sum(contacts) AS contacts FROM per_group "
            f"GROUP BY {keys}person)")
        selects.append(f"SELECT {mask} AS set_mask, {''.join(g + ', ' for g in groups)}"
                       f"{counts} FROM {rows}{group}")
    where = " AND ".join(clauses) or "true"
    all_time = _all_time(dims, filters)
    table = TOTAL.table if all_time else TABLE.table
    if all_time and dims:
        # people_total holds each person's contacts per jurisdiction already: nothing to sum.
        per_group, once = f"SELECT {finest}, {TOTAL.count} AS contacts FROM {table} WHERE " \
            f"{where}", ""
    else:
        per_group = (f"SELECT {finest}, sum({TABLE.count}) AS contacts FROM {table} "
                     f"WHERE {where} GROUP BY ALL")
        once = " MATERIALIZED" if len(levels) > 1 else ""
    sql = (f"-- people from the maintained table {table} (data/aggregates.py), not the rows\n"
           f"WITH per_group AS{once} ({per_group})\n" + "\nUNION ALL\n".join(selects))
    return labelled(sql, dims), params
