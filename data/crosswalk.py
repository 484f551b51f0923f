"""The call-type crosswalk: local call type -> standard category, eligible yes/no/unknown.

A starter crosswalk maps common wordings (APCO/NENA ANS 2.103.2 Common Incident Types and the
variants seen in real exports) to a category. It never decides eligibility on its own for
ambiguous types: those stay unknown until the jurisdiction triages them.
"""
from __future__ import annotations

import re

from . import facts

# The standard categories, one list for the starter rules, the demo cohort and the pages.
STANDARD_CATEGORIES = ("MENTAL_HEALTH", "WELFARE_CHECK", "INTOXICATION", "OVERDOSE",
                       "SUICIDE_THREAT", "TRESPASS", "HOMELESS_ASSIST", "NOISE", "DISORDER",
                       "SUSPICIOUS", "CITIZEN_ASSIST", "THEFT", "ASSAULT", "TRAFFIC", "MEDICAL",
                       "FIRE", "OTHER")

# (pattern on the upper-cased call type, category, eligible). First match wins; order matters.
STARTER_RULES: list[tuple[str, str, bool | None]] = [
    (r"SUICID|SUICTHRT", "SUICIDE_THREAT", None),
    (r"OVERDOSE|\bOD\b", "OVERDOSE", None),
    (r"WEAPON|SHOOT|SHOTS|STAB|GUN|KNIFE|ROBBERY|HOMICIDE|ASSAULT|BATTERY|DOMESTIC|DV\b|RAPE",
     "ASSAULT", False),
    (r"BURGLAR|THEFT|STOLEN|SHOPLIFT|FRAUD|VANDAL|PROPERTY DAMAGE", "THEFT", False),
    (r"ACCIDENT|COLLISION|TRAFFIC|VEHICLE|AUTO X|DUI|HIT AND RUN|PARKING", "TRAFFIC", False),
    (r"FIRE|SMOKE|GAS[- ]ODOR|ALARM", "FIRE", False),
    (r"MENTAL|\bEDP\b|PSYCH|\bMNTL\b|CRISIS|5150|BEHAVIORAL", "MENTAL_HEALTH", True),
    (r"WELFARE|WELCHK|CHECK ON|CHK WELF", "WELFARE_CHECK", True),
    (r"INTOX|DRUNK|INEBRI|\bETOH\b|PUBLIC DRINK", "INTOXICATION", True),
    (r"TRANSIENT|HOMELESS|UNHOUSED|VAGRAN|\bVAG\b|SLEEPING|ENCAMP", "HOMELESS_ASSIST", True),
    (r"TRESPASS", "TRESPASS", True),
    (r"NOISE|LOUD|PARTY", "NOISE", False),
    (r"DISTURB|DISORD|TRBL|TROUBLE|FIGHT", "DISORDER", None),
    (r"SUSP|PROWLER", "SUSPICIOUS", None),
    (r"CITIZEN ASSIST|CITASST|ASSIST CITIZEN|PUBLIC ASSIST", "CITIZEN_ASSIST", None),
    (r"EMS|MEDICAL|CARDIAC|BREATH|FALL|SICK|UNCONSC|SEIZURE|DIABET|INJUR", "MEDICAL", False),
]


def starter_category(call_type: str) -> tuple[str | None, bool | None]:
    text = call_type.upper()
    for pattern, category, eligible in STARTER_RULES:
        if re.search(pattern, text):
            return category, eligible
    return None, None


def proposed_eligible(category: str | None, targets) -> bool | None:
    """Eligibility to propose for a category: whether the program targets it. Unknown while
    no target categories are set: eligible calls are target-type calls (metric A3), so none is
    eligible before the program says what it targets."""
    if category is None or not targets:
        return None
    return category in targets


def target_categories(con, jurisdiction: str) -> list[str]:
    row = con.execute("SELECT target_categories FROM jurisdictions WHERE jurisdiction = ?",
                      [jurisdiction]).fetchone()
    return list(row[0] or []) if row else []


def add_starter_rows(con, jurisdiction: str, call_types, import_id: int | None = None) -> dict:
    """Write a crosswalk row for each of ``call_types`` the jurisdiction's crosswalk lacks.

    A confident suggestion (``call_types.CONFIDENT``) gives the category and the proposed
    eligibility; any other type is added with no category, to be mapped in the editor. Rows
    already there are never changed. The rows are recorded in ``crosswalk_auto`` (not
    confirmed; ``import_id`` lets undo remove them). The caller holds the transaction and
    refreshes the calls' derived columns.
    """
    from . import call_types as suggester

    have = {r[0] for r in con.execute("SELECT call_type FROM crosswalk WHERE jurisdiction = ?",
                                      [jurisdiction]).fetchall()}
    new = sorted({t for t in call_types if t is not None and t not in have})
    targets = target_categories(con, jurisdiction)
    rows = []
    for s in suggester.suggest_for(con, jurisdiction, new) if new else []:
        category = s.category if s.confident else None
        rows.append((jurisdiction, s.call_type, category, proposed_eligible(category, targets),
                     s.confidence, import_id))
    if rows:
        con.executemany("INSERT INTO crosswalk VALUES (?, ?, ?, ?)", [r[:4] for r in rows])
        con.executemany("INSERT OR REPLACE INTO crosswalk_auto VALUES (?, ?, ?, ?, ?, ?)", rows)
    mapped = sum(1 for r in rows if r[2] is not None)
    return {"added": len(rows), "categorised": mapped, "uncategorised": len(rows) - mapped,
            "call_types": [r[1] for r in rows]}


def apply_starter_crosswalk(con, jurisdiction: str) -> dict:
    """Add a starter row for every call type of ``jurisdiction`` not yet in its crosswalk.

    Existing rows are never changed. Types with no confident suggestion are added with no
    category, so they show up in the 'unmapped call types' figure until someone maps them.
    """
    types = [r[0] for r in con.execute(
        "SELECT DISTINCT call_type FROM calls WHERE jurisdiction = ? AND call_type IS NOT NULL",
        [jurisdiction]).fetchall()]
    con.begin()
    try:
        out = add_starter_rows(con, jurisdiction, types)
        if out["added"]:
            facts.refresh(con, jurisdiction, out["call_types"])
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return {k: out[k] for k in ("added", "categorised", "uncategorised")}


def repropose_eligibility(con, jurisdiction: str) -> int:
    """The target categories changed: rows written automatically and unchanged since get the
    eligibility proposed from the new targets (the caller holds the transaction and refreshes
    the calls). Rows a person saved or accepted are left as they are."""
    targets = target_categories(con, jurisdiction)
    rows = con.execute(
        "SELECT w.call_type, w.category FROM crosswalk w JOIN crosswalk_auto a "
        "USING (jurisdiction, call_type) WHERE w.jurisdiction = ? AND w.category IS NOT NULL "
        "AND w.category IS NOT DISTINCT FROM a.category "
        "AND w.eligible IS NOT DISTINCT FROM a.eligible", [jurisdiction]).fetchall()
    changes = [(proposed_eligible(c, targets), jurisdiction, t) for t, c in rows]
    # the pair stays equal: undo still knows it
    for table in ("crosswalk", "crosswalk_auto") if changes else ():
        con.executemany(f"UPDATE {table} SET eligible = ? WHERE jurisdiction = ? "
                        "AND call_type = ?", changes)
    return len(changes)


def eligibility_proposals(rows: list[dict], targets) -> list[dict]:
    """Rows with a category but eligibility unknown, with the eligibility the target
    categories propose (none while no targets are set)."""
    if not targets:
        return []
    return [{"call_type": r["call_type"], "category": r["category"],
             "eligible": proposed_eligible(r["category"], targets)}
            for r in rows if r["category"] is not None and r["eligible"] is None]


def forget_auto_rows(con, import_id: int) -> None:
    """Undo of ``import_id``: remove the crosswalk rows it wrote that nobody changed since."""
    con.execute(
        "DELETE FROM crosswalk WHERE (jurisdiction, call_type) IN (SELECT (w.jurisdiction, "
        "w.call_type) FROM crosswalk w JOIN crosswalk_auto a USING (jurisdiction, call_type) "
        "WHERE a.import_id = ? AND w.category IS NOT DISTINCT FROM a.category "
        "AND w.eligible IS NOT DISTINCT FROM a.eligible)", [import_id])
    con.execute("DELETE FROM crosswalk_auto WHERE import_id = ?", [import_id])


# --------------------------------------------------------------------------------------------
# Reading and editing a jurisdiction's crosswalk (the Data page's editor)
# --------------------------------------------------------------------------------------------

def starter_categories() -> list[str]:
    return list(dict.fromkeys(c for _, c, _ in STARTER_RULES))


def category_options(con, jurisdiction: str | None = None) -> list[str]:
    """Categories to choose from: the starter ones, those any crosswalk already uses, and the
    jurisdiction's target categories, so that jurisdictions map onto one shared vocabulary."""
    used = [r[0] for r in con.execute(
        "SELECT DISTINCT category FROM crosswalk WHERE category IS NOT NULL "
        "UNION SELECT DISTINCT unnest(target_categories) FROM jurisdictions "
        "WHERE ? IS NULL OR jurisdiction = ?", [jurisdiction, jurisdiction]).fetchall()]
    return sorted(set(starter_categories()) | {u for u in used if u} | {"OTHER"})


def crosswalk_rows(con, jurisdiction: str) -> list[dict]:
    """Every call type of the jurisdiction (in its calls or its crosswalk) with its category,
    eligibility and number of calls; most frequent first."""
    cur = con.execute(
        """WITH n AS (SELECT call_type, count(*) AS calls FROM calls
                      WHERE jurisdiction = ? AND call_type IS NOT NULL GROUP BY 1),
                w AS (SELECT call_type, category, eligible FROM crosswalk WHERE jurisdiction = ?),
                a AS (SELECT call_type FROM crosswalk_auto WHERE jurisdiction = ?)
           SELECT call_type, coalesce(n.calls, 0) AS calls, w.category, w.eligible,
                  w.call_type IS NOT NULL AND a.call_type IS NULL AS confirmed
           FROM n FULL JOIN w USING (call_type) LEFT JOIN a USING (call_type)
           ORDER BY calls DESC, call_type""", [jurisdiction, jurisdiction, jurisdiction])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def save_crosswalk(con, jurisdiction: str, rows: list[dict]) -> int:
    """Write the crosswalk rows of the given call types, in one transaction; their number.

    Each row is {call_type, category, eligible (True/False/None)}; a blank category means no
    category (the type stays unmapped). Call types not in ``rows`` are left as they are.
    """
    clean = []
    for r in rows:
        call_type = r.get("call_type")
        if call_type is None or str(call_type) == "":
            continue
        category = r.get("category")
        category = str(category).strip() or None if category is not None else None
        eligible = r.get("eligible")
        if eligible is not None and not isinstance(eligible, bool):
            raise ValueError(f"eligible must be True, False or None (got {eligible!r})")
        clean.append((jurisdiction, str(call_type), category, eligible))
    con.begin()
    try:
        con.executemany("DELETE FROM crosswalk WHERE jurisdiction = ? AND call_type = ?",
                        [(j, t) for j, t, _, _ in clean])
        # Saved (or accepted) by a person: confirmed, no longer an automatic row.
        con.executemany("DELETE FROM crosswalk_auto WHERE jurisdiction = ? AND call_type = ?",
                        [(j, t) for j, t, _, _ in clean])
        if clean:
            con.executemany("INSERT INTO crosswalk VALUES (?, ?, ?, ?)", clean)
        facts.refresh(con, jurisdiction, [t for _, t, _, _ in clean])
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return len(clean)


def accepted_rows(rows: list[dict], suggestions: list[dict], targets,
                  call_types=None) -> list[dict]:
    """Crosswalk rows that accept suggestions: the confident ones (or those of ``call_types``,
    whatever their confidence) for types no person has confirmed, each with the eligibility
    proposed from the program's target categories.

    ``rows`` are ``crosswalk_rows``; ``suggestions`` are ``Suggestion.as_dict()`` s.
    """
    by_type = {s["call_type"]: s for s in suggestions}
    wanted = None if call_types is None else set(call_types)
    out = []
    for r in rows:
        s = by_type.get(r["call_type"])
        if r["confirmed"] or s is None or s["category"] is None:
            continue
        if wanted is None and not s["confident"] or wanted is not None and r["call_type"] \
                not in wanted:
            continue
        eligible = proposed_eligible(s["category"], targets)
        out.append({"call_type": r["call_type"], "category": s["category"],
                    "eligible": eligible})
    return out


def unmapped_share(con, jurisdiction: str) -> dict:
    """Calls whose type has no category (crosswalk or export): count, total and share."""
    unmapped, total = con.execute(
        "SELECT count(*) FILTER (WHERE cw.category IS NULL AND c.category IS NULL), count(*) "
        "FROM calls c LEFT JOIN crosswalk cw ON cw.jurisdiction = c.jurisdiction "
        "AND cw.call_type = c.call_type WHERE c.jurisdiction = ?", [jurisdiction]).fetchone()
    return {"unmapped": unmapped, "calls": total, "share": unmapped / total if total else None}
