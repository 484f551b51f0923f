"""The methodology text, generated from the registry so that it cannot drift from the code."""
from __future__ import annotations

from .impact import MIN_POST, MIN_PRE, MIN_PRE_MONTH_TERMS
from .cost import METHOD as COST_METHOD
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
    parts += [IMPACT]  # the impact methods: beyond the registry's metrics
    parts += ["## What does it cost?", "", COST_METHOD]  # the Cost page's figures
    from .capacity import METHODOLOGY  # the Plan page's model, after the metrics

    parts.append(METHODOLOGY)
    return "\n".join(parts)


# The Impact page's methods (metrics/impact.py): not registry metrics, the same page.
IMPACT = f"""## Impact: what changed after launch

The Impact page and `python -m metrics impact` (`metrics/impact.py`). Observational methods:
they describe what changed around launch; none can prove what the program caused.

- **Series.** Per local month, the jurisdiction's public-initiated calls of its target
  categories: *calls handled by police* (`responder = police`), *police busy hours* on them
  (cleared − dispatched, or cleared − on scene where the dispatch time is missing; an
  interval that is negative or over 24 hours, or a call with no clear time, adds no time and
  is counted as untimed), and the calls the team handled (alternative or co-response) with
  their share. DuckDB counts the months in one scan; the methods run on those few dozen rows.
  A month partly outside the period or the data counts its days (the models' offset); when
  launch is not on the 1st, the launch month belongs to neither period.
- **Year over year.** Whole months after launch (the first twelve at most) against the same
  calendar months a year earlier, all before launch: after ÷ before, with a Poisson interval
  exp(ln r ± 1.96 √(1/a + 1/b)) for calls (none for hours). A description, never called an
  effect.
- **Interrupted time series** (Bernal, Cummins & Gasparrini 2017). A Poisson GLM with the
  Pearson χ² scale (quasi-Poisson), fitted by statsmodels: time trend, level change and slope
  change at launch, seasonality (11 month-of-year terms with at least {MIN_PRE_MONTH_TERMS}
  months before launch, else one sine/cosine pair of period 12), log days in the month as
  offset, Newey-West (HAC) covariance with floor(4 (n/100)^(2/9)) lags. Needs at least
  {MIN_PRE} months before launch and {MIN_POST} after. Reported: the rate ratio of the
  months after launch, Σ observed ÷ Σ counterfactual (the model with its launch terms at zero),
  with a delta-method 95% interval; the level change at launch; the counterfactual line with
  its 95% band. Every interval uses the larger of the HAC and the quasi-Poisson standard
  error: on synthetic series of 22-36 months, HAC alone held a planted rate ratio in only
  67-77% of series, the larger of the two in 91-96% (nominal 95%).
- **Comparison series** (Dee & Pyne 2022; Wheeler & Ratcliffe 2018). Where the program names
  covered areas, the same call types in the other areas; else, where it covers only some
  hours or days, the other hours and days. Over the year-over-year months: WDD = (T₁ − T₀) −
  (C₁ − C₀), variance T₀ + T₁ + C₀ + C₁, z = WDD / √variance; rate ratio (T₁/T₀) ÷ (C₁/C₀)
  with interval exp(± 1.96 √(1/T₀ + 1/T₁ + 1/C₀ + 1/C₁)); expected = T₀ · C₁/C₀. The
  pre-launch trends are compared (quasi-Poisson, group × month) and a difference is said in
  words. Calls only: hours are not Poisson counts.
- **Plausibility** (after Wheeler's critique of the Denver estimate). A drop in
  police-handled calls (expected − observed) larger than the calls the team handled in the
  same months is flagged implausible; for hours, the team's calls are valued at the police's
  mean busy hours per timed call before launch.
- **Refusals.** No launch date, no target categories, a period wholly before or after launch,
  too few months for the method, no comparison areas or hours: a sentence instead of a
  number (the command line exits with status 2).
- **Disclosure.** For a viewer every monthly count is published as elsewhere (rounded, 1-10
  hidden; hours shown only beside a published call count), and every estimate is computed
  from those published months, so it reveals nothing the monthly chart does not. A method
  whose months of the outcome include a hidden one is refused; a hidden month of the team's
  calls counts at its highest in the plausibility check ("at most"). Filters follow the public
  request rules (one category or area, or all).
"""
