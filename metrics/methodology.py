"""The methodology text, generated from the registry so that it cannot drift from the code."""
from __future__ import annotations

from .registry import COUNTS, QUESTIONS, REGISTRY, Metric
from .sources import SOURCES
from .stats import FEW_EVENTS

_KIND_WORDS = {
    "count": "Count", "proportion": "Share (with a Wilson 95% interval)",
    "rate_per_1000": "Rate per 1,000 (with a Wilson 95% interval)",
    "duration": "Minutes: median and 90th percentile", "distinct": "Distinct count",
    "repeat": "Share of people served (with a Wilson 95% interval)",
    "per_capita": "Per 1,000 residents",
}


def _count_text(key: str | None) -> str:
    if key is None:
        return "—"
    if key in COUNTS:
        c = COUNTS[key]
        cond = f" where `{c.where}`" if c.where else ""
        return f"{c.label} (`{c.source}`{cond})"
    return key


def metric_section(m: Metric) -> str:
    lines = [f"### {m.id} — {m.label}", "", m.definition, "",
             f"- Question: {QUESTIONS[m.question]}",
             f"- Measure: {_KIND_WORDS[m.kind]}; unit: {m.unit}"]
    if m.duration:
        lines.append(f"- Interval: `{m.duration.end} − {m.duration.start}` over "
                     f"`{m.duration.source}`; negative or incomplete intervals are counted as "
                     "missing")
    elif m.kind == "repeat":
        lines.append(f"- Numerator: people with at least {m.numerator} responses; "
                     "denominator: people served (distinct person keys)")
    elif m.kind == "distinct":
        lines.append("- Counted: distinct `person_key` over `responses`")
    else:
        lines.append(f"- Numerator: {_count_text(m.numerator)}")
        if m.denominator:
            lines.append(f"- Denominator: {_count_text(m.denominator)}")
        elif m.kind == "per_capita":
            lines.append("- Denominator: the jurisdiction's residents (`jurisdictions.population`)")
    lines.append(f"- Groupable by: {', '.join(SOURCES[m.table].dimensions)}")
    if m.caveats:
        lines.append(f"- Caveats: {m.caveats}")
    if m.source:
        lines.append(f"- Source: {m.source}")
    return "\n".join(lines) + "\n"


EQUITY_METHOD = """## Equity: comparing groups like with like

**Relative rate index.** At each decision point a group's rate (the previous stage as its
denominator: team responded ÷ eligible calls, back-up ÷ team responses, connected ÷ referrals)
is divided by a reference group's rate, with a Katz log 95% interval,
exp(ln RR ± 1.96·√(1/a − 1/n₁ + 1/c − 1/n₀)). A ratio whose interval excludes 1 is a clear
difference. A group with no events, or whose counts are hidden, has no ratio (never 0 or ∞).

**Within a jurisdiction.** Ratios are computed within one jurisdiction: programs differ in scale,
model and practice, and in whom they serve, so records of different jurisdictions are never
added together to make a ratio. With several jurisdictions the Equity page draws one panel per
jurisdiction, each with its own reference group; areas are always compared within their own
jurisdiction. With none chosen, a reader with one jurisdiction of their own sees that one.

**Reference group.** White for race/ethnicity (OJJDP's default); for age group, gender and area,
the group with the most records in that jurisdiction (its rate is the most precise). The
reference, and how it was chosen, is named on every panel; a reader may choose another.

**Combined across jurisdictions.** The cohort-level ratio is the Mantel–Haenszel risk ratio
stratified by jurisdiction, RR = Σ aᵢn₀ᵢ/Nᵢ ÷ Σ cᵢn₁ᵢ/Nᵢ, with the Greenland–Robins (1985)
95% interval, and Cochran's Q test that the jurisdictions' ratios are equal (χ², k − 1 degrees of
freedom). Beside it, the *crude* ratio of all records added up. When the crude and stratified
ratios differ by more than 10%, the page says that the crude figure is confounded by
jurisdiction (Simpson's paradox: it can show a disparity that exists in no jurisdiction); when
the test rejects equal ratios (p < 0.05), it says that the jurisdictions disagree and one
combined figure hides that. Under disclosure control only jurisdictions whose counts are shown
enter, and the others are named.

**Response times** are compared as medians: a group's median divided by the reference group's
median in the same jurisdiction, without an interval, and never combined across jurisdictions.

**Unknown group and residents.** The share of records with the group unknown is shown beside the
ratios (per jurisdiction). Events per 1,000 residents (ACS, margins of error carried into the
interval) are a second, labelled benchmark, within one jurisdiction.
"""


def methodology_markdown() -> str:
    parts = ["# Metric definitions", "",
             "Generated from `metrics/registry.py` by `python -m metrics docs`; do not edit by "
             "hand. Every chart, table, download and the command line use these definitions.", "",
             "Rates show their numerator and denominator. Shares carry a Wilson 95% interval. "
             f"Reliability: a rate built on {FEW_EVENTS} is flagged *insufficient*. "
             "Response times are medians and 90th percentiles, never means alone.", "",
             "## How eligibility is decided", "",
             "A call is **eligible** when its export says so, or else when its local call type "
             "is marked eligible in the jurisdiction's crosswalk *and* it was received after the "
             "program's launch, inside coverage hours and days, in a covered area. A call type "
             "that is missing from the crosswalk, or present without a decision, makes the call's "
             "eligibility **unknown** (A3U) — never ineligible.", ""]
    for q, text in QUESTIONS.items():
        parts += [f"## {q}. {text}", ""]
        parts += [metric_section(m) for m in REGISTRY if m.question == q]
    parts += [EQUITY_METHOD]
    return "\n".join(parts)
