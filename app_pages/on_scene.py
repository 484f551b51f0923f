"""On scene: what happens when the team arrives? Outcomes, transports, safety, response times.

Four sections (ui/sections.py ON_SCENE), each run only when its tab is open."""
import streamlit as st

import metrics
from charts import figures, takeaways
from charts.frames import data_table, has_values, only
from ui import brief, components, filters, messages, sections

RESPONSES = metrics.count_metric("responses")
DESTINATIONS = [metrics.BY_ID[m] for m in ("D5ED", "D5CC", "D5SD", "D5SH", "D5OT")]
SAFETY = [metrics.BY_ID[m] for m in ("D2", "D3", "D6")]
TIMES = [metrics.BY_ID[m] for m in ("C2", "C1")]
SAME_CALLS = [metrics.BY_ID[m] for m in ("C6", "C5")]
NONE_YET = messages.nothing_selected("team responses", "responses")
J = ("jurisdiction",)

st.title("What happens on scene?")
brief.button()  # this view as a PDF, built on click (ui/brief.py)
f = filters.current()
if messages.no_data_here(("responses",)):
    st.stop()
messages.unapplied_filters(f, "responses")


def outcomes():
    left, right = components.columns(2)
    with left:
        by_outcome = only(components.count_frame(("responses",), ("outcome",), f), "responses")
        if has_values(by_outcome) and by_outcome["value"].sum():
            components.chart("outcomes", "Team responses by outcome",
                             takeaways.largest_share(by_outcome, "outcome", RESPONSES,
                                                     "team responses"),
                             figures.bar_by_group(by_outcome, "outcome", RESPONSES),
                             data_table(by_outcome, ("outcome",), {"responses": RESPONSES.label}))
        else:
            components.empty("outcomes", "Team responses by outcome", NONE_YET)
    with right:
        dest = components.metric_frame(tuple(m.id for m in DESTINATIONS), J, f)
        if has_values(dest):
            components.chart(
                "transports", "Transports by destination",
                takeaways.extremes(only(dest, "D5ED"), "jurisdiction", DESTINATIONS[0],
                                   dim_word="jurisdiction"),
                figures.stacked_shares(dest, "jurisdiction", DESTINATIONS,
                                       short={m.id: m.short_label for m in DESTINATIONS}),
                data_table(dest, J, {m.id: m.label for m in DESTINATIONS}),
                note="Share of responses with a destination recorded; the rest of each bar is "
                     f"no transport. Hatched: {metrics.FEW_EVENTS}.")
        else:
            components.empty("transports", "Transports by destination", NONE_YET)


def safety():
    events = components.metric_frame(tuple(m.id for m in SAFETY), J, f)
    if has_values(events):
        components.chart(
            "safety", "Police back-up, arrests and injuries",
            takeaways.extremes(only(events, "D2"), "jurisdiction", SAFETY[0],
                               dim_word="jurisdiction"),
            figures.panels(events, "jurisdiction", SAFETY),
            data_table(events, J, {m.id: m.label for m in SAFETY}),
            note="Back-up and arrests: share of responses where it was recorded. Injuries: per "
                 f"1,000 responses. Whiskers: 95% intervals; hatched: {metrics.FEW_EVENTS}.")
    else:
        components.empty("safety", "Police back-up, arrests and injuries", NONE_YET)


def response_times():
    times = components.metric_frame(tuple(m.id for m in TIMES), J, f)
    if has_values(times):
        components.chart(
            "times", "Response times: median and 90th percentile",
            takeaways.durations(only(times, "C2"), "jurisdiction", TIMES[0]),
            figures.panels(times, "jurisdiction", TIMES),
            data_table(times, J, {m.id: m.label for m in TIMES}),
            note="Bars: median minutes; black tick: 90% of records within. Records without both "
                 "times are left out (see the table). NFPA 1225: 90% of calls processed in 1 min.")
    else:
        components.empty("times", "Response times: median and 90th percentile", NONE_YET)


def team_vs_police():
    same = components.metric_frame(tuple(m.id for m in SAME_CALLS), J, f)
    if has_values(same):
        components.chart(
            "team-vs-police", "Team and police on the same call types",
            takeaways.team_vs_police(same, "jurisdiction", *SAME_CALLS),
            figures.panels(same, "jurisdiction", SAME_CALLS,
                           titles={m.id: m.short_label for m in SAME_CALLS}, same_scale=True),
            data_table(same, J, {m.id: m.label for m in SAME_CALLS}),
            note="Both from the CAD export: call received to first unit on scene, for calls of the "
                 "program's target categories only, so the clocks match. Bars: median minutes; "
                 "tick: 90th percentile.")
    else:
        components.empty("team-vs-police", "Team and police on the same call types",
                         messages.nothing_selected("calls with arrival times", "calls"))


sections.show(sections.ON_SCENE, {"Outcomes": outcomes, "Safety": safety,
                                  "Response times": response_times,
                                  "Team vs police": team_vs_police})
