"""Plan: how many teams, on which hours, reach what share of eligible calls?

The capacity model (metrics/capacity/) over one jurisdiction's own eligible-type calls:
two schedules side by side (their tiles above the tabs), then five sections (ui/sections.py
PLAN), each run only when its tab is open: coverage and calls missed by hour, the teams on
duty, the team-hours each coverage target needs, and whether the model reproduces the running
program (calibration, computed only in its own section)."""
import streamlit as st

from metrics.capacity import CapacityError, CapacityRequest
from ui import brief, cache, filters, messages, plan_view, presenter, privacy, sections
from ui.text import escape

st.title("How many teams for what coverage?")
brief.button()  # this view as a PDF, built on click (ui/brief.py)
f = filters.current()
if messages.no_data_here(("calls",)):
    st.stop()

with st.container(key="controls-plan"):
    j = plan_view.jurisdiction(f)
    left, right = st.columns(2, gap="large")
    with left:
        spec_a = plan_view.schedule("A", "2x8-20x1234567")
    with right:
        spec_b = plan_view.schedule("B", "3x8-20x1234567")
    options = plan_view.options()
if j is None:
    st.info(messages.nothing_selected("calls", "calls"))
    st.stop()
shown = (presenter.peer_names() or {}).get(j, j)

request = CapacityRequest(j, f.date_from, f.date_to, f.areas, f.categories)
try:
    doc = cache.plan(request, (spec_a, spec_b), {**options, "calibration": False},
                     privacy.current())
except CapacityError as error:
    st.info(escape(str(error).replace(j, shown)), icon=":material/info:")
    st.stop()

names = [f"{slot}: {s['schedule']}" for slot, s in zip("AB", doc["schedules"])]
st.caption(f"{escape(shown)}: {plan_view.count(doc['calls'])} eligible-type calls in the "
           f"{doc['weeks']} weeks from {doc['first_day']} to {doc['last_day']}; a call keeps a "
           f"team busy {doc['service_minutes_mean']:.0f} minutes on average "
           f"({doc['service_source']}, dispatch to clear, plus {doc['extra_minutes']:.0f} "
           "extra minutes).")
for (s, name), col in zip(zip(doc["schedules"], names), st.columns(2)):
    with col:
        plan_view.headline(s, name, doc["runs"])


def model_fit() -> None:
    # The answer with the calibration, in this tab only: its own cache entry, so on its first
    # visit the model runs a second time (its workload and simulation, 0.2-0.3 s at 100
    # million calls) besides the calibration. Kept whole so that service.guarded publishes the
    # calibration through the one path that widens the period and rounds its counts.
    full = cache.plan(request, (spec_a, spec_b), {**options, "calibration": True},
                      privacy.current())
    plan_view.calibration(full, shown)
    plan_view.erlang(doc, names)


sections.show(sections.PLAN, {
    "Coverage by hour": lambda: plan_view.coverage_by_hour(doc, names),
    "Calls missed by hour": lambda: plan_view.missed_by_hour(doc, names),
    "Teams on duty": lambda: plan_view.grids(doc, names),
    "Team-hours needed": lambda: plan_view.needed(doc),
    "Model check": model_fit,
})
st.caption("The model: eligible-type calls (the crosswalk's eligible types, or the target "
           "categories where a type is not triaged) at their actual times; a team is busy for "
           "the call's dispatch-to-clear time drawn from the team's records (else police busy "
           "time on the same call types) plus the extra minutes; a call finding every team on "
           "duty busy is missed, or waits up to the tolerable wait. It does not model travel "
           "between areas, breaks, or calls a team starts itself. See Methodology.")
