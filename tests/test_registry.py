"""The registry checks itself, and the methodology cannot drift from it."""
from pathlib import Path

import pytest
from click.testing import CliRunner

from data.cli import cli as data_cli
from metrics import BY_ID, COUNTS, REGISTRY, SOURCES
from metrics.cli import cli as metrics_cli
from metrics.methodology import methodology_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_ids_unique():
    assert len({m.id for m in REGISTRY}) == len(REGISTRY)


@pytest.mark.parametrize("metric", REGISTRY, ids=lambda m: m.id)
def test_metric_is_complete(metric):
    assert metric.label and metric.definition and metric.unit
    assert metric.question in (1, 2, 3, 4)
    if metric.kind in ("count", "proportion", "rate_per_1000", "per_capita"):
        assert metric.numerator in COUNTS
    if metric.kind in ("proportion", "rate_per_1000"):
        assert metric.denominator in COUNTS
        # numerator and denominator count over the same rows
        assert COUNTS[metric.numerator].source == COUNTS[metric.denominator].source
    if metric.kind == "duration":
        assert metric.duration is not None
    assert metric.table in SOURCES


def test_methodology_file_is_generated_from_registry():
    text = (ROOT / "METRICS.md").read_text(encoding="utf-8")
    assert text == methodology_markdown(), "run: python -m metrics docs"
    for m in REGISTRY:
        assert f"### {m.id} — {m.label}" in text


@pytest.mark.parametrize("group,name", [(data_cli, n) for n in data_cli.commands]
                         + [(metrics_cli, n) for n in metrics_cli.commands])
def test_commands_have_help(group, name):
    assert group.commands[name].help and "Example:" in group.commands[name].help


def test_report_unknown_metric_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(metrics_cli, ["report", "--metric", "Z9", "--explain"])
    assert result.exit_code == 1
    assert "Unknown metric(s) Z9" in result.output
    assert "Traceback" not in result.output


def test_explain_prints_parameterised_sql():
    result = CliRunner().invoke(metrics_cli, ["report", "--metric", "B1", "--jurisdiction",
                                              "X'; DROP TABLE calls; --", "--explain"])
    assert result.exit_code == 0
    assert "list_contains(?::VARCHAR[], jurisdiction)" in result.output
    sql_lines = [ln for ln in result.output.splitlines() if not ln.startswith("--")]
    assert "DROP TABLE" not in "\n".join(sql_lines)
    assert "DROP TABLE calls" in result.output  # only as a bound parameter value


def test_by_id_matches_registry():
    assert list(BY_ID) == [m.id for m in REGISTRY]


def test_readme_data_model_is_generated_from_schema():
    from data.docs import replace_data_model

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert replace_data_model(text) == text, "run: python -m data docs"
