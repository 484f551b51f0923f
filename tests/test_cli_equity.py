"""python -m metrics equity: JSON shape, exit codes, disclosure control (issue 26)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from metrics.cli import cli

from equity_cohort import CRUDE_BLACK, write_confounded


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli_equity") / "c.duckdb"
    write_confounded(path)
    return path


def _run(db, *args):
    return CliRunner().invoke(cli, ["equity", *args, "--db", str(db)])


def test_json_rows_per_jurisdiction_and_pooled(db):
    out = _run(db, "--point", "backup", "--by", "race_ethnicity", "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert (doc["point"], doc["by"], doc["reference"]) == ("backup", "race_ethnicity", None)
    rows = {(r["jurisdiction"], r["group"]): r for r in doc["rows"]}
    assert set(rows) == {("Eastport", "white"), ("Eastport", "black"), ("Eastport", "asian"),
                         ("Westfield", "white"), ("Westfield", "black")}
    east = rows[("Eastport", "black")]
    assert (east["numerator"], east["denominator"]) == (300, 3000)
    assert east["rate"] == pytest.approx(0.1) and east["ratio"] == pytest.approx(1.0)
    # Katz: exp(±1.96·√(1/300 − 1/3000 + 1/30 − 1/300)) = 0.70 to 1.43
    assert (round(east["ci_low"], 2), round(east["ci_high"], 2)) == (0.70, 1.43)
    assert rows[("Westfield", "white")]["is_reference"] is True
    black = next(p for p in doc["pooled"] if p["group"] == "black")
    assert set(black) >= {"group", "method", "ratio", "ci_low", "ci_high", "homogeneity_p",
                          "crude_ratio"}
    assert black["method"].startswith("Mantel-Haenszel risk ratio stratified by jurisdiction")
    assert black["ratio"] == pytest.approx(1.0) and black["ci_low"] < 1 < black["ci_high"]
    assert black["crude_ratio"] == pytest.approx(CRUDE_BLACK, abs=1e-6)
    assert black["homogeneity_p"] == pytest.approx(1.0)


def test_text_output_says_the_crude_ratio_is_confounded(db):
    out = _run(db, "--point", "backup", "--by", "race_ethnicity")
    assert out.exit_code == 0, out.output
    assert ("pooled black vs white: 1.00 (0.75-1.33), stratified by jurisdiction; "
            "homogeneity p=1.000; crude 3.26 (confounded by jurisdiction)") in out.output


def test_one_jurisdiction_and_a_chosen_reference(db):
    out = _run(db, "--point", "backup", "--by", "race_ethnicity", "--jurisdiction",
               "Eastport", "--reference", "black", "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["pooled"] is None and doc["reference"] == "black"
    white = next(r for r in doc["rows"] if r["group"] == "white")
    assert white["ratio"] == pytest.approx(1.0) and white["reference_rule"] == "chosen"


def test_other_dimensions_take_the_group_with_most_records(db):
    # Gender: i % 3 == 0 is male, so female has about two thirds of each jurisdiction.
    doc = json.loads(_run(db, "--point", "backup", "--by", "gender", "--json").output)
    refs = {r["jurisdiction"]: (r["reference"], r["reference_rule"]) for r in doc["rows"]}
    assert refs == {"Eastport": ("female", "most records"),
                    "Westfield": ("female", "most records")}


def test_public_hides_small_counts(db):
    out = _run(db, "--point", "backup", "--by", "race_ethnicity", "--public", "--json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    asian = next(r for r in doc["rows"] if r["group"] == "asian")
    assert asian["numerator"] is None and asian["ratio"] is None
    assert asian["suppressed"]["numerator"] == "small"
    assert "3" not in json.dumps({k: asian[k] for k in ("numerator", "rate", "ratio")})
    assert doc["disclosure"]["hidden_up_to"] == 10
    # Published counts are rounded to 5: 3,000 and 300 stay, nothing finer is printed.
    assert all(r["denominator"] is None or r["denominator"] % 5 == 0 for r in doc["rows"])


def test_public_with_several_jurisdictions_is_the_public_table(db):
    out = _run(db, "--point", "backup", "--by", "race_ethnicity", "--public", "--json",
               "--jurisdiction", "Eastport", "--jurisdiction", "Westfield")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["rows"] == json.loads(
        _run(db, "--point", "backup", "--by", "race_ethnicity", "--public", "--json"
             ).output)["rows"]


@pytest.mark.parametrize("args, message", [
    (["--point", "served", "--by", "gender"],
     "Error: 'Eligible call → team responded' is recorded by area only; --by gender is not "
     "available for it.\n"),
    (["--point", "backup", "--by", "gender", "--reference", "nobody"],
     "Error: No gender group 'nobody' at this decision point; groups here: female, male.\n"),
    (["--point", "backup", "--by", "gender", "--jurisdiction", "Nowhere"],
     "Error: No records at this decision point for jurisdiction Nowhere (python -m metrics "
     "report --by jurisdiction lists the jurisdictions with data).\n"),
])
def test_refusals_exit_1_with_the_reason(db, args, message):
    out = _run(db, *args)
    assert out.exit_code == 1
    assert out.output == message


def test_unknown_point_is_a_usage_error(db):
    out = _run(db, "--point", "lunch", "--by", "gender")
    assert out.exit_code == 2 and "Invalid value for '--point'" in out.output


def test_missing_database(tmp_path):
    out = CliRunner().invoke(cli, ["equity", "--point", "backup", "--by", "gender", "--db",
                                   str(tmp_path / "none.duckdb")])
    assert out.exit_code == 1
    assert out.output == f"Error: no database at {tmp_path / 'none.duckdb'}; import data first.\n"
