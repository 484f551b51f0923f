"""Impact: what changed after launch, for the program's target call types (metrics/impact.py)."""
import streamlit as st

from charts import impact as charts
from metrics.impact import ImpactRefused
from ui import (auth, brief, cache, components, filters, impact_view, messages, presenter,
                privacy)

OUTCOMES = {"police_calls": "Calls handled by police", "police_hours": "Police busy hours"}
WHERE = {"areas": "areas the team does not cover", "hours": "hours the team does not cover"}

st.title("Is it working? What changed after launch")
brief.button()  # this view as a PDF, built on click (ui/brief.py)
f = filters.current()
if messages.no_data_here(("calls",)):
    st.stop()
if len(f.jurisdictions) != 1:
    st.info("Choose **one** jurisdiction in the sidebar's Jurisdictions filter: a before and "
            "after belongs to one program and its launch date"
            + (f" ({len(f.jurisdictions)} are chosen now)." if f.jurisdictions else "."),
            icon=":material/filter_alt:")
    st.stop()
outcome = st.segmented_control("Outcome", list(OUTCOMES), format_func=OUTCOMES.get,
                               key="impact_outcome", bind="query-params", default="police_calls",
                               help="On the program's target call types, public-initiated.")
outcome = outcome or "police_calls"
names, relative = presenter.peer_names() or {}, presenter.masking()
name = names.get(f.jurisdictions[0], f.jurisdictions[0])
mask = impact_view.masker(f.jurisdictions[0], name, relative)
try:
    a = cache.impact(f, outcome, auth.current(), privacy.current())
except ImpactRefused as refusal:
    st.warning(components.escape(mask(str(refusal))), icon=":material/block:")
    st.stop()
launch = a.program.launch_date
st.markdown(components.escape(
    f"{name}: target call types, public-initiated, per month. Launch: "
    + (f"{launch:%Y}; months are counted from launch while names are masked." if relative
       else f"{launch.day} {launch:%B %Y}.")))
words = privacy.words("small")
components.chart("impact-month", "Per month",
                 "Calls of the program's target types that police handled and that the team "
                 "handled, each month." if outcome == "police_calls" else
                 "Police busy hours on the program's target call types, each month.",
                 charts.monthly(a.series, outcome, launch, words, relative),
                 impact_view.series_table(a.series, launch, words, relative))

its = a.results["its"]
if isinstance(its, ImpactRefused):
    impact_view.refusal("impact-its", "Interrupted time series", its, mask)
else:
    components.chart("impact-its", "Interrupted time series: observed against the model",
                     charts.its_sentence(its, outcome), charts.its(its.chart, outcome, launch,
                                                                   relative),
                     impact_view.its_table(its.chart, launch, relative),
                     note=f"Quasi-Poisson regression: trend, level and slope change at launch, "
                          f"{its.details['seasonality']}. Standard errors: the larger of "
                          f"Newey-West ({its.details['hac_maxlags']} lags) and quasi-Poisson. "
                          "Band: 95% interval. The line breaks at launch.")
    impact_view.verdict(its)

yoy = a.results["yoy"]
if isinstance(yoy, ImpactRefused):
    impact_view.refusal("impact-yoy", "Year over year", yoy, mask)
else:
    components.chart("impact-yoy", "Year over year: the same months a year apart",
                     charts.yoy_sentence(yoy, outcome), charts.yoy(yoy.chart, outcome, launch,
                                                                relative),
                     impact_view.yoy_table(yoy.chart, launch, relative))
    impact_view.verdict(yoy)

wdd = a.results["wdd"]
if isinstance(wdd, ImpactRefused):
    impact_view.refusal("impact-wdd", "Comparison series", wdd, mask)
else:
    where = WHERE[wdd.details["comparison"]]
    components.chart("impact-wdd", f"Comparison series: {where}", charts.wdd_sentence(wdd),
                     charts.comparison(wdd.chart, launch, where, relative),
                     impact_view.comparison_table(wdd.chart, launch, relative),
                     note="Each series as an index of its own mean before launch (= 100), so "
                          "that their trends can be compared side by side.")
    impact_view.verdict(wdd)

impact_view.caveat_panel(a, mask)
