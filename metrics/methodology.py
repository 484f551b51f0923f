"""The methodology text, generated from the registry so that it cannot drift from the code."""
from __future__ import annotations

from .registry import COUNTS, QUESTIONS, REGISTRY, Metric
from .sources import SOURCES

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


def methodology_markdown() -> str:
    parts = ["# Metric definitions", "",
             "Generated from `metrics/registry.py` by `python -m metrics docs`; do not edit by "
             "hand. Every chart, table, download and the command line use these definitions.", "",
             "Rates show their numerator and denominator. Shares carry a Wilson 95% interval. "
             "Reliability: a rate built on fewer than 20 events is flagged *insufficient*. "
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
    from .capacity import METHODOLOGY  # the Plan page's model, after the metrics

    parts.append(METHODOLOGY)
    return "\n".join(parts)
