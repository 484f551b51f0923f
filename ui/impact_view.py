"""The Impact page's pieces: the tables behind its charts, refusals, and the caveat panel.

Every number comes from ``metrics.impact.Analysis`` as ``ui.cache.impact`` returns it for
the signed-in principal: the published monthly counts when small counts are hidden (a hidden
month is None here and its words stand in its place).
"""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from charts import impact as charts
from ui.text import escape

COUNCIL_CAVEATS = [
    "**Before and after is not cause and effect.** Nothing was randomised: these figures show "
    "what changed after the team started, and the model's line is a careful guess at what "
    "would have happened without it.",
    "**Other changes at the same time count too.** New staffing, a policing policy, the 988 "
    "line or a new dispatch system around launch all move these numbers.",
    "**Calls can move rather than disappear.** Fewer police calls of these types may mean "
    "more of other types, in other hours or areas, or at other agencies.",
    "**How calls are recorded matters.** A new call-type code or a change in how dispatch "
    "records who handled a call looks like an effect.",
    "**A drop bigger than what the team handled is a warning sign.** The team cannot have "
    "taken more calls off police than it answered; such a drop is flagged as implausible.",
]


# metrics.impact's general caveats, which the panel's first list says for a council member.
_SAID_ABOVE = ("Implausible", "Observational", "Anything else", "Displacement",
               "Recording changes")


_DATES = re.compile(r"\b(?:\d{1,2} )?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
                    r"[a-z]* \d{4}\b")


def masker(real: str, shown: str, masked: bool):
    """Text as a masked view may print it: the shown name, and no calendar date (a launch
    month can name a jurisdiction as well as its name can)."""
    def mask(text: str) -> str:
        if not masked:
            return text
        return _DATES.sub("(date not shown while names are masked)", text.replace(real, shown))
    return mask


def _cell(value, words: str, fmt: str = "{:,.0f}"):
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return words
    return fmt.format(value)


def month_labels(months, launch, relative: bool) -> list[str]:
    if not relative:
        return [f"{m:%Y-%m}" for m in months]
    return [f"{x:+d}" for x in charts.month_axis(months, launch, True)]


def series_table(series: pd.DataFrame, launch, words: str, relative: bool) -> pd.DataFrame:
    """Per month: calls police handled, calls the team handled, its share, police hours."""
    s = series.sort_values("month")
    share = [None if pd.isna(t) or pd.isna(n) or not n else t / n
             for t, n in zip(s["team_calls"], s["target_calls"])]
    table = pd.DataFrame({
        "Months since launch" if relative else "Month": month_labels(s["month"], launch,
                                                                      relative),
        "Period": s["phase"].map({"pre": "before", "launch": "launch month (left out)",
                                  "post": "after"}),
        "Target-type calls": [_cell(v, words) for v in s["target_calls"]],
        "Handled by police": [_cell(v, words) for v in s["police_calls"]],
        "Handled by the team": [_cell(v, words) for v in s["team_calls"]],
        "Team share": [_cell(v, words.replace("fewer", "built on a count of fewer"), "{:.1%}")
                       for v in share],
        "Police busy hours": [_cell(v, words, "{:,.1f}") for v in s["police_hours"]],
    })
    if s["police_calls"].notna().any() and s["police_hours"].isna().all():
        table = table.drop(columns="Police busy hours")  # counted only when hours are shown
    return table


def its_table(chart: pd.DataFrame, launch, relative: bool) -> pd.DataFrame:
    c = chart.sort_values("month")
    return pd.DataFrame({
        "Months since launch" if relative else "Month": month_labels(c["month"], launch,
                                                                      relative),
        "Observed": c["observed"].round(1), "Model fit": c["fitted"].round(1),
        "Without the program (model)": c["counterfactual"].round(1),
        "95% low": c["cf_low"].round(1), "95% high": c["cf_high"].round(1)})


def yoy_table(pairs: pd.DataFrame, launch, relative: bool) -> pd.DataFrame:
    return pd.DataFrame({
        "After launch": month_labels(pairs["month"], launch, relative),
        "A year earlier": month_labels(pairs["month_before"], launch, relative),
        "After": pairs["after"].round(1), "Before": pairs["before"].round(1)})


def comparison_table(chart: pd.DataFrame, launch, relative: bool) -> pd.DataFrame:
    c = chart.sort_values(["group", "month"])
    return pd.DataFrame({
        "Series": c["group"].map({"program": "team's areas/hours", "comparison": "comparison"}),
        "Months since launch" if relative else "Month": month_labels(c["month"], launch,
                                                                      relative),
        "Police-handled calls": c["value"], "Index (before = 100)": c["index"].round(1)})


def refusal(key: str, title: str, error: Exception, mask=str) -> None:
    """A method the data cannot support: the reason instead of a number."""
    with st.container(key=f"card-{key}"):
        st.header(title)
        st.warning(escape(mask(str(error))), icon=":material/block:")


def verdict(est) -> None:
    """The plausibility check, in words, under an estimate."""
    if est.plausible:
        st.caption("Plausibility: the drop is no larger than the calls the team took in the "
                   "same months.")
    else:
        (words,) = [c for c in est.caveats if c.startswith("Implausible")] or [
            "Implausible: the drop is larger than what the team handled."]
        st.warning(escape(words), icon=":material/warning:")


def caveat_panel(analysis, mask=str) -> None:
    """What these numbers can and cannot say, for a council member; then each method's own."""
    with st.container(border=True, key="impact-caveats"):
        st.header("Before you quote these numbers")
        st.markdown("\n".join(f"- {c}" for c in COUNCIL_CAVEATS))
        specific = []
        for result in analysis.results.values():
            for c in getattr(result, "caveats", []):
                if c not in specific and not c.startswith(_SAID_ABOVE):
                    specific.append(c)
        if specific:
            st.markdown("**For these estimates in particular:**")
            st.markdown("\n".join(f"- {escape(mask(c))}" for c in specific))
