"""The calls' derived columns stay equal to a fresh derivation after every kind of write, and
metrics follow them.

Each step below goes through the code path the dashboard and the command line use, then
checks both that the stored columns match what ``data.facts.derived_select`` computes now,
and a number a person can work out from the step.
"""
from __future__ import annotations

from datetime import date

from data import facts, import_file, parse_profile, undo_import
from service import guarded
from service.access import LOCAL
from data.connection import connect
from data.crosswalk import apply_starter_crosswalk, save_crosswalk
from data.demo import populate_demo
from metrics import Filters, MetricRequest, compute

PROFILE = parse_profile("""
kind = "calls"
[columns]
call_id = "Call No"
received_at = "Received"
responder = "Unit"
call_type = "Type"
[options]
timezone = "UTC"
""")
FIRST = ("Call No,Received,Type,Unit\n"
         "1,2025-03-03 10:00,WELFARE CHECK,CRISIS TEAM\n"   # Monday 10:00
         "2,2025-03-03 22:00,WELFARE CHECK,POLICE\n"        # Monday 22:00
         "3,2025-03-04 11:00,ROBBERY,POLICE\n"
         "4,2025-03-04 12:00,XYZZY,POLICE\n")
# Call 2 now went to the team, call 5 is new; 1, 3 and 4 are unchanged.
SECOND = ("Call No,Received,Type,Unit\n"
          "1,2025-03-03 10:00,WELFARE CHECK,CRISIS TEAM\n"
          "2,2025-03-03 22:00,WELFARE CHECK,CRISIS TEAM\n"
          "3,2025-03-04 11:00,ROBBERY,POLICE\n"
          "4,2025-03-04 12:00,XYZZY,POLICE\n"
          "5,2025-03-05 09:00,WELFARE CHECK,POLICE\n")


def _value(con, metric):
    return compute(con, MetricRequest((metric,), (), Filters()))[0].numerator


def _import(con, tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return import_file(con, path, kind="calls", jurisdiction="J", profile=PROFILE)


def test_facts_follow_imports_edits_and_undo(con, tmp_path):
    _import(con, tmp_path, "first.csv", FIRST)
    assert facts.stale_rows(con) == 0
    assert _value(con, "A1") == 4
    # The import added starter crosswalk rows; with welfare checks targeted: WELFARE CHECK
    # eligible, ROBBERY not, XYZZY unknown (no confident suggestion).
    assert _value(con, "A3") == 0          # no target categories yet: nothing is eligible
    guarded.update_jurisdiction(con, LOCAL, "J", target_categories=["WELFARE_CHECK"])
    assert (_value(con, "A3"), _value(con, "A3U")) == (2, 1)
    assert apply_starter_crosswalk(con, "J")["added"] == 0   # nothing left to add
    assert facts.stale_rows(con) == 0

    # Coverage 08:00-20:00 makes the 22:00 welfare check out of hours, not eligible.
    guarded.update_jurisdiction(con, LOCAL, "J", coverage_start_hour=8, coverage_end_hour=20)
    assert facts.stale_rows(con) == 0
    assert (_value(con, "A3"), _value(con, "A4")) == (1, 1)

    second = _import(con, tmp_path, "second.csv", SECOND)
    assert (second.rows_inserted, second.rows_updated, second.rows_unchanged) == (1, 1, 3)
    assert facts.stale_rows(con) == 0
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 5
    assert _value(con, "A1") == 5
    assert _value(con, "A3") == 2          # calls 1 and 5, in hours
    assert _value(con, "B1") == 1          # call 1: call 2 (team now) is out of hours

    save_crosswalk(con, "J", [{"call_type": "XYZZY", "category": "WELFARE_CHECK",
                               "eligible": True}])
    assert facts.stale_rows(con) == 0
    assert (_value(con, "A3"), _value(con, "A3U")) == (3, 0)

    undo_import(con, second.import_id)     # call 5 goes, call 2 is the police's again
    assert facts.stale_rows(con) == 0
    assert _value(con, "A1") == 4
    assert _value(con, "A3") == 2          # call 1 and the XYZZY call 4

    undo_import(con, 1)                    # the first import created J: all of it goes
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 0


def test_a_refused_import_leaves_the_facts_unchanged(con, tmp_path):
    _import(con, tmp_path, "first.csv", FIRST)
    before = con.execute("SELECT * FROM calls ORDER BY call_id").fetchall()
    bad = tmp_path / "bad.csv"
    bad.write_text("Call No,Received,Type,Unit\n1,not a date,WELFARE CHECK,POLICE\n")
    try:
        import_file(con, bad, kind="calls", jurisdiction="J", profile=PROFILE)
    except Exception:
        pass
    assert con.execute("SELECT * FROM calls ORDER BY call_id").fetchall() == before


def test_the_demo_cohort_comes_with_current_facts(tmp_path):
    con = connect(tmp_path / "demo.duckdb")
    populate_demo(con, scale=0.02)
    assert facts.stale_rows(con) == 0
    # Every call has them: the flags are never NULL, whatever the call.
    assert con.execute("SELECT count(*) FILTER (WHERE ar_responded IS NULL OR is_target IS NULL "
                       "OR out_of_hours IS NULL OR public_initiated IS NULL), count(*) "
                       "FROM calls").fetchone()[0] == 0


def test_a_database_from_an_earlier_version_gains_the_derived_columns(tmp_path):
    path = tmp_path / "old.duckdb"
    con = connect(path)
    populate_demo(con, scale=0.02)
    expected, referred = _value(con, "A3"), _value(con, "E1")
    # As the previous version left it: no derived columns on calls, a table call_facts, and
    # no referral flag on the responses (E1 joined the referrals on every query).
    con.execute("CREATE TABLE call_facts AS SELECT jurisdiction, call_id FROM calls")
    for name, _ in facts.columns():
        con.execute(f'ALTER TABLE calls DROP COLUMN "{name}"')
    for table in ("responses", "responses_replaced"):
        con.execute(f"ALTER TABLE {table} DROP COLUMN has_referral")
    con.close()
    con = connect(path)
    assert facts.stale_rows(con) == 0
    assert _value(con, "A3") == expected > 0
    assert _value(con, "E1") == referred > 0
    assert not con.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_name = 'call_facts'").fetchone()[0]


def test_refresh_of_some_call_types_touches_only_those(con, tmp_path):
    _import(con, tmp_path, "first.csv", FIRST)
    con.execute("UPDATE calls SET effective_category = 'marker'")  # which rows are rewritten?
    assert facts.stale_rows(con) == 4
    facts.refresh(con, "J", ["ROBBERY"])
    rows = dict(con.execute("SELECT call_type, effective_category FROM calls").fetchall())
    assert rows["ROBBERY"] == "ASSAULT" and rows["XYZZY"] == "marker"  # the import's row
    facts.refresh(con, "J")
    assert facts.stale_rows(con) == 0


def test_date_filters_still_apply_on_the_stored_local_time(con, tmp_path):
    _import(con, tmp_path, "first.csv", FIRST)
    rows = compute(con, MetricRequest(("A1",), (), Filters(date_from=date(2025, 3, 4),
                                                         date_to=date(2025, 3, 4))))
    assert rows[0].numerator == 2


def test_refresh_command_repairs_hand_edits(db_path, tmp_path):
    from click.testing import CliRunner

    from data.cli import cli

    con = connect(db_path)
    _import(con, tmp_path, "first.csv", FIRST)
    # By hand (the import wrote a row per type): facts now out of date.
    con.execute("UPDATE crosswalk SET category = 'CRIME', eligible = true "
                "WHERE call_type = 'ROBBERY'")
    assert facts.stale_rows(con) == 1      # the robbery call
    con.close()
    out = CliRunner().invoke(cli, ["refresh", "--db", str(db_path)])
    assert out.exit_code == 0, out.output
    assert "Worked out 4 calls again; 1 had been out of date." in out.output
    con = connect(db_path)
    assert facts.stale_rows(con) == 0 and _value(con, "A3") == 1  # the robbery (no targets)
