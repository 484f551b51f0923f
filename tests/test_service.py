"""The service layer's promises: one answer to one public request, whoever asks (the command
line, the dashboard's facade), and an --explain that prints what the public path runs."""
import json

import pytest
from click.testing import CliRunner

from data import connect
from data.demo import populate_demo
from metrics import Filters, MetricRequest, disclosure
from metrics.engine import row_json
from metrics.cli import cli as metrics_cli
from service import access, guarded

TWO = ("Riverton", "Millbrook")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("service") / "demo.duckdb"
    con = connect(path)
    populate_demo(con, seed=0, scale=0.05)
    con.close()
    return path


def _cli_rows(path, *args) -> list[dict]:
    result = CliRunner().invoke(metrics_cli, ["report", "--db", str(path), "--public", "--json",
                                              *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["rows"]


def test_two_jurisdictions_side_by_side_give_the_same_public_rows_everywhere(demo_db):
    # Refused by the command line before the rule lived in one place (issue 20).
    cli_rows = _cli_rows(demo_db, "--metric", "B1", "--metric", "D2", "--by", "jurisdiction",
                         *[a for j in TWO for a in ("--jurisdiction", j)])
    assert sorted(r["group"]["jurisdiction"] for r in cli_rows if r["metric"] == "B1") == \
        sorted(TWO)
    con = connect(demo_db, read_only=True)
    try:
        viewer = access.Principal("v@example.org", (access.Grant("viewer"),))
        request = MetricRequest(("B1", "D2"), ("jurisdiction",), Filters(jurisdictions=TWO))
        rows = guarded.compute(con, viewer, request, policy=disclosure.VIEWER)
    finally:
        con.close()
    as_json = [row_json(r) for r in rows]
    key = lambda r: (r["metric"], r["group"]["jurisdiction"])  # noqa: E731
    assert sorted(as_json, key=key) == sorted(cli_rows, key=key)
    # The chosen two are the same rows the whole cohort's view publishes for them.
    everyone = [r for r in _cli_rows(demo_db, "--metric", "B1", "--metric", "D2", "--by",
                                     "jurisdiction") if r["group"]["jurisdiction"] in TWO]
    assert sorted(everyone, key=key) == sorted(cli_rows, key=key)


def test_public_explain_prints_the_widened_view_and_its_margins():
    out = CliRunner().invoke(metrics_cli, ["report", "--public", "--explain", "--metric", "B1",
                                           "--by", "month", "--from", "2025-01-10",
                                           "--to", "2025-02-20"])
    assert out.exit_code == 0, out.output
    exact = CliRunner().invoke(metrics_cli, ["report", "--explain", "--metric", "B1", "--by",
                                             "month", "--from", "2025-01-10", "--to",
                                             "2025-02-20"]).output
    # The public path runs over whole months (January and February: their counts from the
    # maintained monthly table, metrics/rollup.py), the exact one over the days asked (rows).
    assert "FROM calls_monthly" in out.output and "[202501, 202502]" in out.output
    assert "datetime.date(2025, 1, 10)" in exact and "calls_monthly" not in exact
    # Margins and partners are computed with the view: more statements than the exact path.
    assert out.output.count("-- parameters:") >= exact.count("-- parameters:")
    assert "GROUP BY" in out.output


def test_explain_prints_what_compute_sends(demo_db):
    sent = []
    con = connect(demo_db, read_only=True)

    class Spy:
        def execute(self, sql, params=()):
            sent.append(sql)
            return con.execute(sql, params)

    try:
        from metrics import compute, explain

        request = MetricRequest(("B1", "F1", "F2_5"), ("jurisdiction",))
        compute(Spy(), request)
    finally:
        con.close()
    shown = explain(request)
    ran = [s for s in sent if "duckdb_tables()" not in s]
    assert ran and all(sql in shown for sql in ran)
