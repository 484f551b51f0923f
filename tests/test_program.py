"""Program settings from the command line (audited, eligibility refreshed, data version
changed) and the next steps an import names."""
from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from data import audit, facts, import_file, parse_profile

from service import guarded
from service.access import LOCAL
from data.cli import cli
from data.connection import connect
from data.errors import DataError
from data.program import (next_steps, parse_days, parse_hours, why_no_eligible_calls)

PROFILE = parse_profile("""
kind = "calls"
[columns]
call_id = "id"
received_at = "at"
call_type = "type"
[options]
timezone = "UTC"
""")
# Monday 3 March 2025 10:00 and 22:00, Saturday 8 March 10:00; one type nobody can read.
CALLS = ("id,at,type\n1,2025-03-03 10:00,WELFARE CHECK\n2,2025-03-03 22:00,WELFARE CHECK\n"
         "3,2025-03-08 10:00,WELFARE CHECK\n4,2025-03-04 10:00,XYZZY\n")


@pytest.fixture
def imported(con, tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text(CALLS)
    result = import_file(con, path, kind="calls", jurisdiction="J", profile=PROFILE)
    return con, result


def _eligible(con):
    return con.execute("SELECT count(*) FILTER (WHERE effective_eligible) FROM calls"
                       ).fetchone()[0]


@pytest.mark.parametrize("text,hours", [("8-20", (8, 20)), ("19-7", (19, 7)),
                                        ("24h", (None, None)), ("08:00-17:00", (8, 17))])
def test_parse_hours(text, hours):
    assert parse_hours(text) == hours


@pytest.mark.parametrize("text,days", [("12345", "12345"), ("Mon-Fri", "12345"),
                                       ("Mon,Wed,Fri", "135"), ("Fri-Mon", "1567"),
                                       ("all", None), ("1-7", None)])
def test_parse_days(text, days):
    assert parse_days(text) == days


@pytest.mark.parametrize("bad", ["8", "25-3", "8-8", "morning"])
def test_bad_hours_are_refused_with_the_reason(bad):
    with pytest.raises(DataError, match="--coverage-hours"):
        parse_hours(bad)


def test_settings_command_sets_audits_and_refreshes_eligibility(imported, db_path):
    con, _ = imported
    assert _eligible(con) == 0                         # no target categories yet
    seq = audit.count(con)
    con.close()
    out = CliRunner().invoke(cli, [
        "settings", "--jurisdiction", "J", "--db", str(db_path), "--launch-date", "2025-03-01",
        "--coverage-hours", "8-20", "--coverage-days", "Mon-Fri",
        "--target-categories", "welfare_check", "--population", "50000"])
    assert out.exit_code == 0, out.output
    assert "coverage hours: 8:00-20:00" in out.output
    # Welfare checks targeted; the 22:00 and the Saturday call are out of cover.
    assert "Eligible calls: 1 (were 0)." in out.output
    con = connect(db_path)
    row = con.execute("SELECT launch_date, coverage_start_hour, coverage_end_hour, "
                      "coverage_days, target_categories, population FROM jurisdictions"
                      ).fetchone()
    assert row == (date(2025, 3, 1), 8, 20, "12345", ["WELFARE_CHECK"], 50000)
    assert facts.stale_rows(con) == 0 and _eligible(con) == 1
    entries = audit.export(con)
    assert len(entries) == seq + 1 and entries[-1]["action"] == "jurisdiction.edit"
    assert entries[-1]["actor"] == "local"
    con.close()
    shown = CliRunner().invoke(cli, ["settings", "--jurisdiction", "J", "--db", str(db_path)])
    assert "target categories: WELFARE_CHECK" in shown.output and "changed" not in shown.output


def test_settings_command_refuses_bad_input_and_changes_nothing(imported, db_path):
    con, _ = imported
    before = con.execute("SELECT * FROM jurisdictions").fetchall()
    con.close()
    for args in (["--target-categories", "NOT_A_CATEGORY"], ["--coverage-hours", "9"],
                 ["--launch-date", "03/01/2025"]):
        out = CliRunner().invoke(cli, ["settings", "--jurisdiction", "J", "--db", str(db_path),
                                       "--coverage-days", "Mon-Fri", *args])
        assert out.exit_code != 0 and "Error:" in out.output and "Traceback" not in out.output
    out = CliRunner().invoke(cli, ["settings", "--jurisdiction", "Nowhere", "--db",
                                   str(db_path)])
    assert out.exit_code != 0 and "no jurisdiction Nowhere" in out.output
    con = connect(db_path)
    assert con.execute("SELECT * FROM jurisdictions").fetchall() == before


def test_next_steps_name_what_is_missing(imported):
    con, _ = imported
    steps = {s["key"]: s["text"] for s in next_steps(con, "J")}
    assert steps["crosswalk"].startswith("25% of calls (1 of 4) have a call type without")
    assert {"targets", "coverage", "launch", "responses", "population"} <= set(steps)
    guarded.update_jurisdiction(con, LOCAL, "J", target_categories=["WELFARE_CHECK"],
                                coverage_start_hour=8, coverage_end_hour=20,
                                launch_date=date(2025, 1, 1), population=1000)
    assert {s["key"] for s in next_steps(con, "J")} == {"crosswalk", "responses"}


def test_why_no_eligible_calls_gives_the_true_reason(imported):
    con, _ = imported
    (reason,) = why_no_eligible_calls(con, ["J"])
    assert reason.startswith("J has no target categories set")
    guarded.update_jurisdiction(con, LOCAL, "J", target_categories=["WELFARE_CHECK"])
    assert why_no_eligible_calls(con, ["J"]) == []    # the automatic rows follow the targets
    con.execute("UPDATE crosswalk SET eligible = NULL")
    facts.refresh(con)
    (reason,) = why_no_eligible_calls(con, ["J"])
    assert reason.startswith("J's call types have no category or eligibility yet")
    con.execute("UPDATE crosswalk SET eligible = true WHERE call_type = 'WELFARE CHECK'")
    con.execute("UPDATE jurisdictions SET launch_date = DATE '2026-01-01'")
    facts.refresh(con)
    (reason,) = why_no_eligible_calls(con, ["J"])
    assert reason.startswith("J's launch date (2026-01-01) is after its latest call")


def test_cli_import_names_the_next_steps(db_path, tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text(CALLS)
    profile = tmp_path / "p.toml"
    profile.write_text(PROFILE.to_toml())
    out = CliRunner().invoke(cli, ["import", str(path), "--kind", "calls", "--jurisdiction",
                                   "J", "--profile", str(profile), "--db", str(db_path)])
    assert out.exit_code == 0, out.output
    assert "crosswalk: 2 new call type(s), 1 given a category" in out.output
    assert "What still keeps J's pages empty or wrong:" in out.output
    assert "25% of calls (1 of 4) have a call type without a category" in out.output
    assert "python -m data settings --target-categories" in out.output


def test_overview_says_why_no_call_is_eligible(monkeypatch, db_path, tmp_path):
    """Right after a first import the Overview names the true reason, not 'upload calls'."""
    from test_pages import run_app

    con = connect(db_path, readable_dirs=(tmp_path,))
    path = tmp_path / "calls.csv"
    path.write_text(CALLS)
    import_file(con, path, kind="calls", jurisdiction="J", profile=PROFILE)
    con.close()
    at = run_app(monkeypatch, db_path)
    (message,) = [i.value for i in at.main.info if i.value.startswith("No eligible calls")]
    assert "J has no target categories set" in message and "upload" not in message
    assert not at.exception
