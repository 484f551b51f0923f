"""The starter crosswalk: categories for common wordings, unknown where it cannot tell."""
import pytest

from data.crosswalk import apply_starter_crosswalk, starter_category


@pytest.mark.parametrize("call_type,category,eligible", [
    ("WELFARE CHECK", "WELFARE_CHECK", True),
    ("Check Welfare", "WELFARE_CHECK", True),
    ("EDP", "MENTAL_HEALTH", True),
    ("MENTAL SUBJECT", "MENTAL_HEALTH", True),
    ("TRBL W/SUBJ", "DISORDER", None),
    ("SUICIDE THREAT", "SUICIDE_THREAT", None),       # not decided by a starter rule
    ("SUSPICIOUS PERSON WITH WEAPON", "ASSAULT", False),
    ("EMS: BACK PAINS/INJURY", "MEDICAL", False),
    ("TRESPASS", "TRESPASS", True),
    ("XYZZY", None, None),
])
def test_starter_category(call_type, category, eligible):
    assert starter_category(call_type) == (category, eligible)


def test_apply_adds_missing_types_only(con):
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone, target_categories) "
                "VALUES ('J', 'UTC', ['WELFARE_CHECK'])")
    for i, t in enumerate(["WELFARE CHECK", "XYZZY", "EDP", "EDP"]):
        con.execute("INSERT INTO calls (jurisdiction, call_id, call_type, import_id) "
                    "VALUES ('J', ?, ?, 1)", [str(i), t])
    con.execute("INSERT INTO crosswalk VALUES ('J', 'EDP', 'MY_CATEGORY', false)")
    out = apply_starter_crosswalk(con, "J")
    assert out == {"added": 2, "categorised": 1, "uncategorised": 1}
    rows = dict((t, (c, e)) for t, c, e in con.execute(
        "SELECT call_type, category, eligible FROM crosswalk").fetchall())
    assert rows["EDP"] == ("MY_CATEGORY", False)       # an analyst's row is never overwritten
    assert rows["XYZZY"] == (None, None)
    assert rows["WELFARE CHECK"] == ("WELFARE_CHECK", True)


def test_starter_rules_use_the_standard_categories():
    from data.crosswalk import STANDARD_CATEGORIES, STARTER_RULES
    from data.demo import CATEGORIES

    assert {c for _, c, _ in STARTER_RULES} <= set(STANDARD_CATEGORIES)
    assert set(CATEGORIES) <= set(STANDARD_CATEGORIES)
