"""The call-type crosswalk: local call type -> standard category, eligible yes/no/unknown.

A starter crosswalk maps common wordings (APCO/NENA ANS 2.103.2 Common Incident Types and the
variants seen in real exports) to a category. It never decides eligibility on its own for
ambiguous types: those stay unknown until the jurisdiction triages them.
"""
from __future__ import annotations

import re

# (pattern on the upper-cased call type, category, eligible). First match wins; order matters.
STARTER_RULES: list[tuple[str, str, bool | None]] = [
    (r"SUICID|SUICTHRT", "SUICIDE_THREAT", None),
    (r"OVERDOSE|\bOD\b", "OVERDOSE", None),
    (r"WEAPON|SHOOT|SHOTS|STAB|GUN|KNIFE|ROBBERY|HOMICIDE|ASSAULT|BATTERY|DOMESTIC|DV\b|RAPE",
     "VIOLENT", False),
    (r"BURGLAR|THEFT|STOLEN|SHOPLIFT|FRAUD|VANDAL|PROPERTY DAMAGE", "PROPERTY", False),
    (r"ACCIDENT|COLLISION|TRAFFIC|VEHICLE|AUTO X|DUI|HIT AND RUN|PARKING", "TRAFFIC", False),
    (r"FIRE|SMOKE|GAS[- ]ODOR|ALARM", "FIRE_ALARM", False),
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


def apply_starter_crosswalk(con, jurisdiction: str) -> dict:
    """Add a starter row for every call type of ``jurisdiction`` not yet in its crosswalk.

    Existing rows are never changed. Types no rule recognises are added with no category, so
    they show up in the 'unmapped call types' figure until someone maps them.
    """
    types = [r[0] for r in con.execute(
        "SELECT DISTINCT call_type FROM calls c WHERE jurisdiction = ? AND call_type IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM crosswalk w WHERE w.jurisdiction = c.jurisdiction AND "
        "w.call_type = c.call_type) ORDER BY 1", [jurisdiction]).fetchall()]
    rows = [(jurisdiction, t, *starter_category(t)) for t in types]
    con.begin()
    try:
        if rows:
            con.executemany("INSERT INTO crosswalk VALUES (?, ?, ?, ?)", rows)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    mapped = sum(1 for r in rows if r[2] is not None)
    return {"added": len(rows), "categorised": mapped, "uncategorised": len(rows) - mapped}
