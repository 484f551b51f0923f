"""Connections: are people being connected to services? Referrals, follow-through, people served.

Three sections (ui/sections.py CONNECTIONS), each run only when its tab is open."""
import streamlit as st

import metrics
from charts import figures, takeaways
from charts.frames import cell, data_table, has_values, only
from ui import brief, components, filters, messages, sections

E1N, E2_30, E2_90, F1 = (metrics.BY_ID[m] for m in ("E1N", "E2_30", "E2_90", "F1"))
REPEAT = [metrics.BY_ID[m] for m in ("F2_5", "F2_10", "F2_20", "F2_40")]
NO_REFERRALS = messages.nothing_selected("referrals", "referrals")
NO_PEOPLE = messages.nothing_selected("team responses with a person key", "responses")
J = ("jurisdiction",)

st.title("Are people being connected to services?")
brief.button()  # this view as a PDF, built on click (ui/brief.py)
f = filters.current()
if messages.no_data_here(("referrals", "responses")):
    st.stop()
messages.unapplied_filters(f, "referrals")


def referrals():
    left, right = components.columns(2)
    with left:
        kinds = only(components.metric_frame(("E1N",), ("service_type",), f), "E1N")
        if has_values(kinds) and kinds["value"].sum():
            components.chart("referrals", "Referrals by service type",
                             takeaways.largest_share(kinds, "service_type", E1N, "referrals"),
                             figures.bar_by_group(kinds, "service_type", E1N),
                             data_table(kinds, ("service_type",), {"E1N": E1N.label}))
        else:
            components.empty("referrals", "Referrals by service type", NO_REFERRALS)
    with right:
        total = components.metric_frame(("E2_30", "E2_90"), (), f)
        t = {r.metric: r for r in total.itertuples()}
        if has_values(total):
            steps = [("Referrals made ≥ 30 days ago", cell(t["E2_30"], "denominator"),
                      "referrals made at least 30 days before the latest data"),
                     ("Connected within 30 days", cell(t["E2_30"], "numerator"),
                      "of those, connected within 30 days"),
                     ("Referrals made ≥ 90 days ago", cell(t["E2_90"], "denominator"),
                      "referrals made at least 90 days before the latest data"),
                     ("Connected within 90 days", cell(t["E2_90"], "numerator"),
                      "of those, connected within 90 days")]
            components.chart(
                "connected", "From referral to connection",
                takeaways.connected(t["E2_30"], t["E2_90"]),
                figures.funnel(steps, "Referrals"),
                data_table(total, (), {"E2_30": E2_30.label, "E2_90": E2_90.label}),
                note="Referrals made in the last 30 (or 90) days of the data cannot have connected "
                     "yet, so each rate counts only referrals old enough to judge.")
        else:
            components.empty("connected", "From referral to connection", NO_REFERRALS)


def by_jurisdiction():
    by_j = components.metric_frame(("E2_30", "E2_90"), J, f)
    if has_values(by_j):
        components.chart("connected-j", "Connected to care, by jurisdiction",
                         takeaways.extremes(only(by_j, "E2_30"), "jurisdiction", E2_30,
                                            dim_word="jurisdiction"),
                         figures.panels(by_j, "jurisdiction", [E2_30, E2_90]),
                         data_table(by_j, J, {"E2_30": E2_30.label, "E2_90": E2_90.label}),
                         note=f"Whiskers: 95% intervals; hatched: {metrics.FEW_EVENTS}.")
    else:
        components.empty("connected-j", "Connected to care, by jurisdiction", NO_REFERRALS)


def repeat_contacts():
    people = components.metric_frame(("F1", *(m.id for m in REPEAT)), J, f)
    if has_values(only(people, "F1")):
        components.chart(
            "repeat", "People served and repeat contacts",
            takeaways.extremes(only(people, "F2_5"), "jurisdiction", REPEAT[0],
                               dim_word="jurisdiction"),
            figures.panels(people, "jurisdiction", [F1, *REPEAT], cols=5,
                           titles={m.id: m.short_label for m in [F1, *REPEAT]}),
            data_table(people, J, {m.id: m.label for m in [F1, *REPEAT]}),
            note="People: distinct pseudonymous person keys. Repeat contacts: share of people "
                 "served with at least 5 / 10 / 20 / 40 team responses in the period (choose 12 "
                 "months for the standard figure).")
    else:
        components.empty("repeat", "People served and repeat contacts", NO_PEOPLE)


sections.show(sections.CONNECTIONS, {"Referrals": referrals,
                                     "By jurisdiction": by_jurisdiction,
                                     "Repeat contacts": repeat_contacts})
