"""Briefs (briefs/): `python -m briefs` on the demo cohort, the slide image, and the "Download
brief" button on every question page.

The brief's headline figures are compared with `python -m metrics report` under the same rules
(public, then exact); its text is read back from the PDF with pypdf.
"""
from __future__ import annotations

import io
import json
import re
import shutil

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from briefs.cli import cli as briefs_cli
from briefs.content import TOTALS
from data.connection import connect
from metrics.cli import cli as metrics_cli
from service import access
from test_pages import assert_clean, demo_db, run_app  # noqa: F401  (demo_db: the fixture)

J = "Riverton"
VIEWER = "viewer@example.org"
ANALYST = "analyst@example.org"  # analyst of Cedar Falls: exact figures there, not in Riverton
QUESTION_PAGES = ("overview", "reach", "on_scene", "connections", "equity", "compare", "impact",
                  "cost", "plan")


@pytest.fixture(scope="module")
def db(demo_db, tmp_path_factory):  # noqa: F811
    """A copy of the demo cohort with a cohort viewer and an analyst of another jurisdiction."""
    path = tmp_path_factory.mktemp("briefs") / "briefs.duckdb"
    shutil.copyfile(demo_db.parent / "expected.duckdb", path)
    con = connect(path)
    for email, role, where in ((VIEWER, "viewer", None), (ANALYST, "analyst", "Cedar Falls")):
        access.add_person(con, access.LOCAL, email)
        access.grant(con, access.LOCAL, email, role, where)
    con.close()
    return path


def _brief(db, tmp_path, *args):
    out = tmp_path / "brief.pdf"
    r = CliRunner().invoke(briefs_cli, [*args, "--db", str(db), "--out", str(out)])
    return r, out


def _text(pdf) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(pdf).pages)


def _report(db, *args, jurisdiction=J) -> dict:
    """`metrics report` with the metrics the brief asks for in one request (briefs.content)."""
    r = CliRunner().invoke(metrics_cli, ["report", "--jurisdiction", jurisdiction, *sum(
        (["--metric", m] for m in TOTALS), []), "--json", "--db", str(db), *args])
    assert r.exit_code == 0, r.output
    return {row["metric"]: row for row in json.loads(r.output)["rows"]}


def _expected(rows: dict) -> list[str]:
    """The headline as `metrics report` gives it, written as the brief writes numbers."""
    return [f"{rows['A1']['value']:,.0f}", f"{rows['A3']['value']:,.0f}",
            f"{rows['B1']['numerator']:,}", f"{rows['B1']['value']:.1%}",
            f"{rows['C2']['value']:,.1f} min", f"{rows['D2']['value']:.1%}",
            f"{rows['E2_30']['value']:.1%}"]


# Text that holds digits but no count: dates, the page line, the rule itself, percentages,
# decimals, quarters, "30 days" windows, "90th", the minimum-events rule.
_NOT_COUNTS = [r"\d{1,2} (January|February|March|April|May|June|July|August|September|"
               r"October|November|December) \d{4}", r"Page \d+ of \d+",
               r"counts from 1 to 10", r"\d[\d,]*(\.\d+)?\s?%", r"\d+\.\d+", r"\d{4}-Q\d",
               r"\b(19|20)\d\d\b", r"\d+ days", r"\d+th\b", r"fewer than \d+", r"nearest\s+\d+",
               r"includes 1\b"]


def small_counts(text: str) -> list[int]:
    """Whole numbers from 1 to 10 left in ``text`` once dates, rates and rules are taken out."""
    for pattern in _NOT_COUNTS:
        text = re.sub(pattern, " ", text)
    found = [int(n.replace(",", "")) for n in re.findall(r"(?<![\w.,])\d[\d,]*(?![\w.,])", text)]
    return [n for n in found if 1 <= n <= 10]


def test_the_count_parser_finds_small_counts_and_skips_dates_and_rates():
    assert small_counts("3 of 40 calls; 7 referrals") == [3, 7]
    assert small_counts("2 May 2024 · 4.5% · Page 1 of 2 · 2025-Q1 · within 30 days") == []


@pytest.mark.parametrize("j", [J, "Harbor County"])  # the largest and the smallest program
def test_public_brief_holds_the_public_report_and_no_small_count(db, tmp_path, j):
    r, out = _brief(db, tmp_path, "--jurisdiction", j)
    assert r.exit_code == 0, r.output
    text = _text(out)
    for figure in _expected(_report(db, "--public", jurisdiction=j)):
        assert figure in text, figure
    assert "rounded (nearest 5)" in text and "Public rules: counts from 1 to 10" in text
    for words in ("From call to resolution", "Coverage of eligible calls by month",
                  "team responses by outcome", "from referral to connection",
                  "Equity: police back-up", "Impact: what changed after launch",
                  "Definitions", "data as of 30 June 2025"):
        assert words in text, words
    assert small_counts(text) == []
    meta = PdfReader(out).metadata
    assert meta.title == f"Alternative response brief: {j}"
    assert 1 <= len(PdfReader(out).pages) <= 2


def test_exact_brief_holds_the_exact_report(db, tmp_path):
    r, out = _brief(db, tmp_path, "--jurisdiction", J, "--exact")
    assert r.exit_code == 0, r.output
    text = _text(out)
    for figure in _expected(_report(db)):
        assert figure in text, figure
    assert "rounded (nearest" not in text and "Exact figures" in text


@pytest.mark.parametrize("who", [VIEWER, ANALYST])
def test_exact_without_the_rights_is_refused(db, tmp_path, who):
    r, out = _brief(db, tmp_path, "--jurisdiction", J, "--exact", "--as", who)
    assert r.exit_code == 1 and "no rights" in r.output and not out.exists()


def test_unknown_jurisdiction_and_unknown_person_are_named(db, tmp_path):
    r, _ = _brief(db, tmp_path, "--jurisdiction", "Nowhere")
    assert r.exit_code == 1 and "'Nowhere'" in r.output
    r, _ = _brief(db, tmp_path, "--jurisdiction", J, "--as", "nobody@example.org")
    assert r.exit_code == 1 and "nobody@example.org is not a person" in r.output


def test_masked_cohort_brief_names_no_jurisdiction(db, tmp_path):
    r, out = _brief(db, tmp_path, "--mask")
    assert r.exit_code == 0, r.output
    text = _text(out)
    assert "Alternative response brief: the masked cohort" in text
    assert "Jurisdiction A" in text  # the series and the equity sentences, by their masks
    assert small_counts(text) == []
    for name in ("Riverton", "Cedar Falls", "Millbrook", "Harbor County", "Port Avalon"):
        assert name not in text


def test_a_slide_is_1920_by_1080_with_its_title_and_source():
    import plotly.graph_objects as go
    from PIL import Image

    from briefs import render

    fig = go.Figure(go.Bar(x=[120, 340], y=["Resolved on scene", "Transported"],
                           orientation="h"))
    png = render.slide(fig, "Team responses by outcome", "Most were resolved on scene.",
                       "Source: test")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(io.BytesIO(png)).size == (1920, 1080)


def test_every_question_page_has_the_brief_button(monkeypatch, demo_db):  # noqa: F811
    at = run_app(monkeypatch, demo_db, exact=False)
    for page in QUESTION_PAGES:
        if page != "overview":
            at.switch_page(f"app_pages/{page}.py").run()
        assert_clean(at)
        buttons = [b for b in at.get("download_button") if b.key == "download-brief"]
        assert len(buttons) == 1, page
