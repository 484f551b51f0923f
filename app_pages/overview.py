"""Overview: how is the program performing? Headline figures, the call funnel, coverage over
time."""
import streamlit as st

import metrics
from charts import figures, takeaways
from charts.frames import cell, data_table, has_values, only
from ui import brief, components, filters, messages

TILES = [[("A1", "value", None), ("A3", "value", None), ("B1", "numerator", "Handled by the team"),
          ("B1", "value", "Coverage of eligible calls")],
         [("C2", "value", "Median team response"), ("D2", "value", None),
          ("E2_30", "value", "Connected in 30 days")]]
FUNNEL = ["A1", "A2", "A3", "B1", "D1", "D4"]
B1 = metrics.BY_ID["B1"]

st.title("How is the program performing?")
brief.button()  # this view as a PDF, built on click (ui/brief.py)
f = filters.current()
if messages.no_data_here():
    st.stop()

ids = tuple(dict.fromkeys([t[0] for row in TILES for t in row] + FUNNEL))
now = components.metric_frame(ids, (), f)
before, days = filters.previous(f)
components.tiles(TILES, now, components.metric_frame(ids, (), before) if before else None, days)
if not days:
    st.caption("Choose a period (From / To) that leaves at least as much data before it to see "
               "the change against the previous period of equal length.")

v = {r.metric: r for r in now.itertuples()}
steps = [("All calls", cell(v["A1"], "value"), "calls for service"),
         ("Target call types", cell(v["A2"], "value"),
          "calls of a category the program targets"),
         ("Eligible", cell(v["A3"], "value"), "target types in coverage hours, days and areas"),
         ("Team responded", cell(v["B1"], "numerator"), "eligible calls the team responded to"),
         ("Contact made", cell(v["D1"], "numerator"),
          "team responses with contact made (all responses)"),
         ("Resolved on scene", cell(v["D4"], "numerator"), "contacts with no transport")]
components.chart(
    "funnel", "From call to resolution",
    takeaways.funnel(cell(v["A1"], "value"), cell(v["A3"], "value"),
                     cell(v["B1"], "numerator"), cell(v["B1"], "value")),
    figures.funnel(steps, "Calls (blue), then team responses (green)", 4),
    data_table(now[now["metric"].isin(FUNNEL)], (),
               {m: metrics.BY_ID[m].label for m in FUNNEL}),
    note="The last two steps count team responses, including those the team started itself "
         "(no 911 call), so they need not be smaller than the step above.")

trend = only(components.metric_frame(("B1",), ("jurisdiction", "month"), f), "B1")
if has_values(trend):
    components.chart(
        "coverage-trend", "Coverage of eligible calls by month",
        takeaways.trend(trend, "jurisdiction", B1),
        figures.line_by_month(trend, "jurisdiction", B1, components.launches(f)),
        data_table(trend, ("jurisdiction", "month"), {"B1": B1.label}),
        note="Dotted lines: program launches. Calls before a launch are never eligible. Open "
             f"circles: months with fewer than {metrics.MIN_EVENTS} eligible calls answered "
             "(insufficient data).")
else:
    components.empty("coverage-trend", "Coverage of eligible calls by month",
                     messages.no_eligible_calls(f))
