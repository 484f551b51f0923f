"""``python -m metrics impact``: exit codes, the JSON object, and the same numbers as the
methods on the series (calls written into a database from a synthetic series)."""
from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from data import facts
from data.connection import connect
from metrics.cli import cli

from test_impact import run_its, synthetic

KEYS = {"jurisdiction", "outcome", "method", "launch_date", "pre_months", "post_months",
        "rate_ratio", "ci_low", "ci_high", "observed_post", "expected_post",
        "team_handled_post", "plausible", "caveats"}


def _write_calls(con, series, jurisdiction: str, launch: date | None,
                 areas: tuple | None = None) -> None:
    con.execute("INSERT INTO jurisdictions (jurisdiction, time_zone, launch_date, "
                "coverage_areas, target_categories) VALUES (?, 'UTC', ?, ?, ['WELFARE'])",
                [jurisdiction, launch, list(areas) if areas else None])
    con.execute("INSERT INTO crosswalk VALUES (?, 'WELFARE', 'WELFARE', true)", [jurisdiction])
    for r in series.itertuples():
        for responder, n in (("police", r.police_calls), ("alternative", r.team_calls)):
            # One call a day in turn, at 10:00; police busy an hour (dispatch 10:05, clear 11:05).
            con.execute(
                "INSERT INTO calls (jurisdiction, call_id, received_at, received_local, "
                "dispatched_at, cleared_at, call_type, responder, origin, area, import_id) "
                "SELECT ?, ? || '-' || i, timezone('UTC', t), t, "
                "timezone('UTC', t + INTERVAL 5 MINUTE), timezone('UTC', t + INTERVAL 65 MINUTE), "
                "'WELFARE', ?, '911', CASE WHEN i % 4 = 0 THEN 'South' ELSE 'North' END, 1 "
                "FROM (SELECT i, ?::TIMESTAMP + to_days((i % ?)::INTEGER) + INTERVAL 10 HOUR AS t "
                "FROM range(?) r(i))",
                [jurisdiction, f"{r.month:%Y%m}{responder[0]}", responder, r.month, r.days, n])
    facts.refresh(con)


@pytest.fixture(scope="module")
def synth_db(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("impact") / "synth.duckdb"
    con = connect(db_path)
    series, program = synthetic(7, pre=24, post=12, ratio=0.8)
    _write_calls(con, series, "Synth", program.launch_date, areas=("North",))
    _write_calls(con, series.head(10), "Short", date(2021, 7, 1))  # 6 months + 4
    _write_calls(con, series, "Unlaunched", None)
    con.close()
    return db_path, series, program


def _run(db, *args):
    return CliRunner().invoke(cli, ["impact", "--db", str(db), *args])


def test_its_json_equals_the_methods_on_the_series(synth_db):
    db, series, program = synth_db
    result = _run(db, "--jurisdiction", "Synth", "--outcome", "police_calls", "--method", "its",
                  "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert KEYS <= set(doc)
    expected = run_its(series, program)
    assert doc["launch_date"] == "2023-01-01"
    assert (doc["pre_months"], doc["post_months"]) == (24, 12)
    assert doc["rate_ratio"] == pytest.approx(expected.rate_ratio, rel=1e-9)
    assert doc["ci_low"] <= 0.8 <= doc["ci_high"] < 1
    assert doc["observed_post"] == series["police_calls"][24:].sum()
    assert doc["team_handled_post"] == series["team_calls"][24:].sum()
    assert doc["plausible"] is expected.plausible
    assert all(isinstance(c, str) and c.endswith((".", ")")) for c in doc["caveats"])
    hours = json.loads(_run(db, "--jurisdiction", "Synth", "--outcome", "police_hours",
                            "--method", "its", "--json").output)
    assert hours["observed_post"] == pytest.approx(doc["observed_post"])  # one hour per call


@pytest.mark.parametrize("method", ["yoy", "wdd"])
def test_other_methods_print_the_same_keys(synth_db, method):
    db, series, _ = synth_db
    result = _run(db, "--jurisdiction", "Synth", "--outcome", "police_calls", "--method",
                  method, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert KEYS <= set(doc) and doc["method"] == method
    if method == "yoy":  # the first 12 months after launch against the 12 before
        assert doc["observed_post"] == series["police_calls"][24:36].sum()
        assert doc["expected_post"] == series["police_calls"][12:24].sum()
    else:
        assert doc["comparison"] == "areas" and "wdd_z" in doc


@pytest.mark.parametrize("jurisdiction, method, outcome, says", [
    ("Short", "its", "police_calls", "at least 12 months before launch and 6 after; this "
                                     "period has 6 before and 4 after"),
    ("Unlaunched", "yoy", "police_calls", "Unlaunched has no launch date"),
    ("Short", "wdd", "police_calls", "covers every area around the clock"),
    ("Synth", "wdd", "police_hours", "for counts of calls"),
])
def test_refusals_exit_2_with_a_sentence(synth_db, jurisdiction, method, outcome, says):
    db, _, _ = synth_db
    result = _run(db, "--jurisdiction", jurisdiction, "--outcome", outcome, "--method", method,
                  "--json")
    assert result.exit_code == 2
    assert says in result.output
    assert not result.output.lstrip().startswith("{")


def test_the_period_and_public_figures(synth_db):
    db, series, _ = synth_db
    short = _run(db, "--jurisdiction", "Synth", "--outcome", "police_calls", "--method", "its",
                 "--from", "2022-06-01", "--json")
    assert short.exit_code == 2 and "this period has 7 before and 12 after" in short.output
    public = json.loads(_run(db, "--jurisdiction", "Synth", "--outcome", "police_calls",
                             "--method", "yoy", "--public", "--json").output)
    assert public["observed_post"] % 5 == 0  # a sum of counts rounded to 5
    assert any("published monthly counts" in c for c in public["caveats"])
    usage = _run(db, "--jurisdiction", "Synth", "--outcome", "police_calls", "--method", "its",
                 "--drb")
    assert usage.exit_code == 2 and "--drb and --threshold go with --public" in usage.output
    text = _run(db, "--jurisdiction", "Synth", "--outcome", "police_calls", "--method", "its")
    assert text.exit_code == 0 and text.output.startswith("Synth: police_calls by its, launch "
                                                          "2023-01-01, 24 months before")
