"""`python -m metrics cost`, `python -m data costs` and `python -m data import --kind costs`."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from data.cli import cli as data_cli
from data.connection import connect
from metrics.cli import cli as metrics_cli

from test_costs import COSTS_CSV, J, _seed


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "town.duckdb"
    con = connect(path)
    _seed(con)
    con.close()
    return path


def _run(cli, args, db):
    return CliRunner().invoke(cli, [*args, "--db", str(db)])


def test_no_costs_exits_2_with_a_sentence(db):
    r = _run(metrics_cli, ["cost", "--jurisdiction", J, "--json"], db)
    assert r.exit_code == 2
    assert r.output.startswith("No program costs are entered for Testville. Enter them on the "
                               "Data page (Program costs), import a costs file")
    assert "{" not in r.output


def test_an_unknown_jurisdiction_is_named(db):
    r = _run(metrics_cli, ["cost", "--jurisdiction", "Nowhere"], db)
    assert r.exit_code == 1
    assert "there is no jurisdiction 'Nowhere'" in r.output


def test_import_then_cost_json_carries_every_input(db, tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text(COSTS_CSV)
    r = _run(data_cli, ["import", str(path), "--kind", "costs", "--jurisdiction", J], db)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Import #1: costs.csv as costs for Testville")
    r = _run(metrics_cli, ["cost", "--jurisdiction", J, "--to", "2025-03-31", "--json"], db)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    (q,) = doc["quarters"]
    assert (q["cost"], q["responses"], q["cost_per_response"]) == (300000.0, 1200, 250.0)
    assert (q["people"], q["cost_per_person"]) == (400, 750.0)
    assert (q["team_target_calls"], q["hours_returned"], q["police_hourly_cost"],
            q["capacity_value"]) == (600, 700.0, 150.0, 105000.0)
    assert doc["totals"]["cost_per_response"] == 250.0
    assert doc["police"]["timed"] == 3 and doc["police"]["median_hours"] == 1.0
    assert doc["stream_ends"]["arpa_slfrf"]["date"] == "2026-12-31"
    assert doc["disclosure"] is False
    # What a viewer sees: counts rounded (1,200 and 400 are multiples of 5: unchanged).
    r = _run(metrics_cli, ["cost", "--jurisdiction", J, "--to", "2025-03-31", "--json",
                           "--public"], db)
    assert r.exit_code == 0, r.output
    pub = json.loads(r.output)
    assert pub["disclosure"] is True and pub["quarters"][0]["cost_per_response"] == 250.0
    assert pub["police"]["mean_hours"] is None  # 3 timed calls: too few to show


def test_costs_command_enters_lists_and_undo_restores(db):
    r = _run(data_cli, ["costs", "--jurisdiction", J, "--period", "2025-Q1", "--stream",
                        "arpa_slfrf", "--amount", "250000", "--fte", "2"], db)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Import #1: entered on the command line as costs for Testville")
    r = _run(data_cli, ["costs", "--jurisdiction", J, "--police-hourly-cost", "142.5"], db)
    assert r.exit_code == 0, r.output
    r = _run(data_cli, ["costs", "--jurisdiction", J, "--period", "2025-Q1", "--stream",
                        "arpa_slfrf", "--amount", "250000", "--fte", "2"], db)
    assert r.output == "Nothing changed: Testville already has these costs.\n"
    r = _run(data_cli, ["costs", "--jurisdiction", J, "--list", "--json"], db)
    rows = json.loads(r.output)
    assert [(x["period"], x["stream"], x["amount"], x["fte"]) for x in rows] == [
        (None, "police_hourly_cost", 142.5, None), ("2025-Q1", "arpa_slfrf", 250000.0, 2.0)]
    r = _run(data_cli, ["undo", "2"], db)
    assert r.exit_code == 0 and "removed 1 rows" in r.output
    r = _run(data_cli, ["costs", "--jurisdiction", J, "--list", "--json"], db)
    assert [x["stream"] for x in json.loads(r.output)] == ["arpa_slfrf"]


@pytest.mark.parametrize("args, message", [
    (["--stream", "grant"], "--stream and --amount go together"),
    (["--stream", "grant", "--amount", "5"], "--amount needs --period"),
    ([], "Give --stream with --amount, or --police-hourly-cost"),
    (["--fte", "2", "--police-hourly-cost", "100"], "--fte goes with --stream and --amount"),
])
def test_costs_command_refuses_options_that_do_not_go_together(db, args, message):
    r = _run(data_cli, ["costs", "--jurisdiction", J, *args], db)
    assert r.exit_code == 2 and message in r.output


def test_import_of_costs_refuses_options_for_other_kinds(db, tmp_path):
    path = tmp_path / "costs.csv"
    path.write_text(COSTS_CSV)
    r = _run(data_cli, ["import", str(path), "--kind", "costs", "--jurisdiction", J,
                        "--timezone", "UTC"], db)
    assert r.exit_code == 2
    assert "--timezone do(es) not apply to a costs file" in r.output


def test_a_bad_amount_is_named_and_nothing_is_written(db):
    r = _run(data_cli, ["costs", "--jurisdiction", J, "--period", "2025-Q1", "--stream",
                        "grant", "--amount", "12x"], db)
    assert r.exit_code == 1
    assert ("The costs entered on the command line: 1 problem(s): amount: cannot read '12x' "
            "as an amount in dollars. Nothing was imported") in r.output
    r = _run(data_cli, ["imports"], db)
    assert r.output == "No imports yet.\n"


def test_demo_command_loads_the_cohort_costs_through_the_costs_kind(cli_demo):
    """`python -m data demo` imports data/demo_costs.csv as one costs file per jurisdiction."""
    import csv

    from data.costs import DEMO_COSTS

    db, r = cli_demo  # `demo --db` (conftest.py)
    assert r.exit_code == 0, r.output
    with open(DEMO_COSTS, newline="") as f:
        lines = list(csv.DictReader(f))
    assert f"cost rows {len(lines):,}" in r.output
    con = connect(db, read_only=True)
    try:
        per = dict(con.execute("SELECT jurisdiction, rows_inserted FROM imports WHERE kind = "
                               "'costs' AND status = 'committed'").fetchall())
        assert per == {j: sum(x["jurisdiction"] == j for x in lines)
                       for j in {x["jurisdiction"] for x in lines}}
        # Every demo jurisdiction has a police rate, so its capacity has a value.
        assert con.execute("SELECT count(DISTINCT jurisdiction) FROM costs WHERE stream = "
                           "'police_hourly_cost'").fetchone()[0] == 5
    finally:
        con.close()
