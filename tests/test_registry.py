"""The registry checks itself, and the methodology cannot drift from it."""
import re
from datetime import date
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


# --- Several groupings in one scan (what disclosure control computes for a view's margins) ---

LEVEL_REQUESTS = [
    ("A1", "A3", "B1", "C2", "D2", "E2_30", "F1", "F2_5", "P1"),
    ("B1", "C5", "C6", "D5ED"),
    ("E1", "E2_90"),
    ("F1", "F2_5", "F2_10"),    # people and repeat contacts alone: one scan for every level
    ("C1", "C2", "C5", "C6"),   # durations alone: counted off the histogram when large
]


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    from data.connection import connect
    from data.demo import populate_demo

    con = connect(tmp_path_factory.mktemp("levels") / "demo.duckdb")
    populate_demo(con, seed=1, scale=0.05)
    yield con
    con.close()


def _canon(rows):
    from dataclasses import asdict

    return sorted(repr((tuple(sorted(asdict(r)["group"].items())), r.metric,
                        tuple(round(v, 9) if isinstance(v, float) else v
                              for k, v in asdict(r).items() if k not in ("group", "metric"))))
                  for r in rows)


@pytest.mark.parametrize("large", [False, True], ids=["in memory", "histogram"])
@pytest.mark.parametrize("ids", LEVEL_REQUESTS)
@pytest.mark.parametrize("by", [(), ("jurisdiction",), ("month", "area"),
                                ("jurisdiction", "race_ethnicity")])
def test_levels_in_one_scan_equal_separate_computations(small_demo, ids, by, large,
                                                         monkeypatch):
    from itertools import combinations

    from metrics import Filters, MetricRequest, compute, compute_levels, engine

    if large:  # every source treated as too large for quantile_cont
        monkeypatch.setattr(engine, "QUANTILES_IN_MEMORY_ROWS", -1)

    filters = Filters(date_from=date(2024, 2, 1), date_to=date(2024, 11, 30))
    levels = [sub for k in range(len(by) + 1) for sub in combinations(by, k)]
    request = MetricRequest(ids, by, filters)
    together = compute_levels(small_demo, request, levels)
    assert set(together) == set(levels)
    for lv in levels:
        alone = compute(small_demo, MetricRequest(ids, lv, filters))
        alone = [r for r in alone if metrics_supports(r.metric, by)]
        assert alone, (lv, "the fixture must produce rows")
        assert _canon(together[lv]) == _canon(alone), lv


def metrics_supports(metric_id, by):
    from metrics.engine import supports

    return supports(BY_ID[metric_id], by)


def test_count_levels_equal_separate_counts(small_demo):
    from metrics import CountRequest, compute_counts, compute_levels

    request = CountRequest(("calls_eligible", "responses"), ("area", "month"))
    together = compute_levels(small_demo, request, [(), ("area",), ("area", "month")])
    for lv in ((), ("area",), ("area", "month")):
        assert _canon(together[lv]) == _canon(
            compute_counts(small_demo, CountRequest(request.counts, lv)))


def test_quantiles_only_where_asked(small_demo):
    from metrics import Filters, MetricRequest, compute, compute_levels

    request = MetricRequest(("C1", "C2", "C5", "B1"), ("jurisdiction",), Filters())
    got = compute_levels(small_demo, request, [(), ("jurisdiction",)],
                         quantiles_at=[("jurisdiction",)])
    assert _canon(got[("jurisdiction",)]) == _canon(compute(small_demo, request))
    total = {r.metric: r for r in got[()]}
    alone = {r.metric: r for r in compute(small_demo, MetricRequest(request.metrics))}
    for m in ("C1", "C2", "C5"):
        assert total[m].median is None and total[m].p90 is None  # not asked there
        assert (total[m].n, total[m].missing) == (alone[m].n, alone[m].missing)
        assert alone[m].median is not None


def test_levels_without_data_give_the_ungrouped_zero_row(small_demo):
    from metrics import Filters, MetricRequest, compute, compute_levels

    nothing = Filters(date_from=date(1990, 1, 1), date_to=date(1990, 1, 31))
    request = MetricRequest(("A1", "B1", "C1", "F1"), ("area",), nothing)
    got = compute_levels(small_demo, request, [(), ("area",)])
    assert got[("area",)] == []
    assert _canon(got[()]) == _canon(compute(small_demo, MetricRequest(request.metrics, (),
                                                                       nothing)))


def test_every_share_counts_a_subset_of_its_base():
    """A proportion's numerator must count only records its denominator counts: B4 once
    counted every call resolved by phone over the eligible calls, and a jurisdiction whose
    phone-resolved calls were mostly not eligible got a share above 1 (a math domain error
    in its interval, issue 25's 10-million-call run). Checked over every combination of the
    values the conditions read, NULL included, by DuckDB itself."""
    import duckdb

    from metrics.registry import COUNTS, REGISTRY, Kind

    values = {"responder": ["'police'", "'phone'", "'alternative'", "NULL"],
              "transport_destination": ["'none'", "'emergency_department'", "'crisis_center'",
                                        "'sobering_detox'", "'shelter'", "'other'", "NULL"]}
    con = duckdb.connect()
    for m in REGISTRY:
        if m.kind not in (Kind.PROPORTION, Kind.RATE_PER_1000):
            continue
        num, den = COUNTS[m.numerator], COUNTS[m.denominator]
        assert num.source == den.source, m.id
        text = f"{num.where or 'true'} {den.where or 'true'}"
        cols = sorted({w for w in re.findall(r"[a-z_][a-z_0-9]*", re.sub(r"'[^']*'", "", text))
                       if w not in {"and", "or", "not", "is", "null", "true", "false", "in"}})
        grid = " CROSS JOIN ".join(
            f"(SELECT unnest([{', '.join(values.get(c, ['true', 'false', 'NULL']))}]) AS {c})"
            for c in cols)
        leak = con.execute(f"SELECT count(*) FROM {grid} WHERE coalesce({num.where or 'true'}, "
                           f"false) AND NOT coalesce({den.where or 'true'}, false)").fetchone()[0]
        assert leak == 0, f"{m.id}: {num.where!r} counts records {den.where!r} does not"
