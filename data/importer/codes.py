"""Coded values, booleans and text replacements: mapped on distinct values, joined back."""
from __future__ import annotations



from .. import values
from ..profiles import (normalise_value)



def is_mapped(c, profile) -> bool:
    return c.type in ("code", "bool") or (c.type == "text" and bool(profile.value_map(c.name)))


def value_tables(con, plan) -> list[dict]:
    """vmap_<field>(raw, std) for every coded field, from the distinct values in ``typed``."""
    cols, profile = plan.cols, plan.profile
    mappings = []
    for c in cols:
        if not c.mapped:
            continue
        pmap = profile.value_map(c.name)
        distinct = con.execute(f'SELECT "r_{c.name}", count(*) FROM typed WHERE "r_{c.name}" '
                               "IS NOT NULL GROUP BY 1").fetchall()
        # A column holding only 'X' marks means blank = no.
        c.x_marks = bool(distinct) and {normalise_value(v) for v, _ in distinct} <= {"x"}
        rows = []
        for raw_value, n in distinct:
            if c.type == "code":
                std, how = values.standard_code(c.value_set, raw_value, pmap)
            elif c.type == "bool":
                b, how = values.boolean(raw_value, pmap, c.x_marks, c.name)
                std = None if b is None else str(b).lower()
            else:
                std, how = values.text_replacement(raw_value, pmap), "profile"
            rows.append((raw_value, std, how))
            mappings.append({"field": c.name, "raw": raw_value, "code": std, "how": how,
                             "rows": n})
        con.execute(f"DROP TABLE IF EXISTS vmap_{c.name}")
        con.execute(f"CREATE TEMP TABLE vmap_{c.name} (raw VARCHAR, std VARCHAR, how VARCHAR)")
        if rows:
            con.executemany(f"INSERT INTO vmap_{c.name} VALUES (?, ?, ?)", rows)
    mappings.sort(key=lambda m: (m["field"], -m["rows"]))
    return mappings


def mapped_value(c, src: str) -> str:
    """The standard value of a mapped field, given its vmap is joined as vmap_<field>."""
    std = f"vmap_{c.name}.std"
    if c.type == "bool":
        blank = "false" if getattr(c, "x_marks", False) else "NULL"
        return f'CASE WHEN {src}."r_{c.name}" IS NULL THEN {blank} ELSE {std}::BOOLEAN END'
    return std


def vmap_joins(cols, src: str) -> str:
    return " ".join(f'LEFT JOIN vmap_{c.name} ON vmap_{c.name}.raw = {src}."r_{c.name}"'
                    for c in cols if c.mapped)
