"""Equity: do outcomes differ by race/ethnicity, age group, gender or area?

Each decision point's rate per group, its relative rate index against a chosen reference group
(with a 95% interval), the share of records with the group unknown, and residents as a second,
labelled benchmark (DOMAIN.md §5).
"""
import streamlit as st

from metrics import equity
from ui import equity_view as view
from ui import filters, messages

KEY = "equity"

st.title("Do outcomes differ between groups?")
st.caption("Rates at each decision point by group, relative to a reference group. A ratio "
           "whose 95% interval excludes 1 is a clear difference; one that includes 1 is not.")
f = filters.current()
if messages.no_data_here(("calls", "responses", "referrals")):
    st.stop()

point, dim = view.controls(KEY)
df = view.group_frame(point, dim, f)
if not view.has_values(df):
    view.empty(KEY, point)
    st.stop()
rows = view.as_rows(df, dim)
view.unknown_note(rows, dim, point)

if point.metric == "C2":  # a time: medians by group, no ratio of proportions
    view.times_card(KEY, point, dim, df)
    st.stop()

reference = view.reference_choice(KEY, dim, rows)
rates = equity.relative_rates(rows, dim, reference)
view.ratio_card(KEY, point, dim, rates, reference)
view.rate_card(KEY, point, dim, rates)
if dim == "area":
    view.area_map_card(KEY, point, df, f)
if dim in ("race_ethnicity", "age_group", "area"):
    view.per_resident_card(KEY, point, dim, rows, reference, f)
