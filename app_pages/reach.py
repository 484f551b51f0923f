"""Reach: what percentage of eligible calls is the team handling? When, where, which calls.

Four sections (ui/sections.py REACH), each run only when its tab is open."""
import streamlit as st

import metrics
from charts import figures, takeaways
from charts.frames import data_table, has_values, only
from ui import brief, components, filters, messages, sections

B1, A4 = metrics.BY_ID["B1"], metrics.BY_ID["A4"]
NOT_SERVED = metrics.count_metric("calls_eligible_not_served")

st.title("What percentage of eligible calls is the team handling?")
brief.button()  # this view as a PDF, built on click (ui/brief.py)
f = filters.current()
if messages.no_data_here(("calls",)):
    st.stop()


def no_eligible() -> str:
    return messages.no_eligible_calls(f)  # the true reason for the jurisdictions in view


def by_month_frame():
    # Coverage and out-of-hours calls by month come from one request: one scan of the calls
    # (cached, so the two sections that show them share it).
    return components.metric_frame(("B1", "A4"), ("month",), f)


def by_month():
    month = only(by_month_frame(), "B1")
    if has_values(month):
        components.chart("b1-month", "Coverage by month", takeaways.trend(month, None, B1),
                         figures.line_by_month(month, None, B1, components.launches(f)),
                         data_table(month, ("month",), {"B1": B1.label}))
    else:
        components.empty("b1-month", "Coverage by month", no_eligible())


def by_weekday_hour():
    hours = components.metric_frame(("B1", "A4"), ("weekday_hour",), f)
    cells = only(hours, "B1")
    if has_values(cells):
        components.chart(
            "b1-hours", "Coverage by weekday and hour", takeaways.heatmap(cells, B1),
            figures.heatmap_weekday_hour(cells, B1, extra=(A4, only(hours, "A4"))),
            data_table(hours, ("weekday_hour",), {"B1": B1.label, "A4": A4.label}),
            note="Grey cells had no eligible calls: usually outside the team's coverage hours "
                 "(the tooltip gives the out-of-hours calls of an eligible type). × marks "
                 f"cells with fewer than {metrics.MIN_EVENTS} calls answered. Choose one "
                 "jurisdiction for its own "
                 "hours.")
    else:
        components.empty("b1-hours", "Coverage by weekday and hour", no_eligible())


def by_category_area():
    for (key, dim, title, word), col in zip(
            [("b1-category", "category", "Coverage by call category", "category"),
             ("b1-area", "area", "Coverage by area", "area")], components.columns(2)):
        with col:
            part = only(components.metric_frame(("B1",), (dim,), f), "B1")
            if has_values(part):
                components.chart(key, title, takeaways.extremes(part, dim, B1, dim_word=word),
                                 figures.bar_by_group(part, dim, B1),
                                 data_table(part, (dim,), {"B1": B1.label}),
                                 note="Whiskers: 95% intervals. Hatched bars: "
                                      f"{metrics.FEW_EVENTS}.")
            else:
                components.empty(key, title, no_eligible())


def calls_missed():
    left, right = components.columns(2)
    with left:
        b3 = components.metric_frame(("B3",), (), f)
        unserved = only(components.count_frame((NOT_SERVED.id,), ("not_served_reason",), f),
                        NOT_SERVED.id)
        if has_values(unserved) and unserved["value"].sum():
            components.chart(
                "b3-reason", "Eligible but not served, by reason",
                takeaways.unserved(b3, unserved),
                figures.bar_by_group(unserved, "not_served_reason", NOT_SERVED),
                data_table(unserved, ("not_served_reason",),
                           {NOT_SERVED.id: NOT_SERVED.label}),
                note="'not recorded': the export gives no reason (the NYC audit found reasons "
                     "untracked for most unserved calls).")
        else:
            components.empty("b3-reason", "Eligible but not served, by reason", no_eligible())
    with right:
        out = only(by_month_frame(), "A4")
        if has_values(out):
            components.chart("a4-month", "Eligible-type calls outside coverage hours",
                             takeaways.peak_month(out, A4),
                             figures.line_by_month(out, None, A4, components.launches(f)),
                             data_table(out, ("month",), {"A4": A4.label}),
                             note="Counted from each program's launch (dotted line): before it "
                                  "there are no coverage hours to fall outside of.")
        else:
            components.empty("a4-month", "Eligible-type calls outside coverage hours",
                             no_eligible())


sections.show(sections.REACH, {"By month": by_month, "By weekday and hour": by_weekday_hour,
                               "By category and area": by_category_area,
                               "Calls missed": calls_missed})
