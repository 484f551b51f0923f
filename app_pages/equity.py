"""Equity: do outcomes differ by race/ethnicity, age group, gender or area?

Within each jurisdiction, each decision point's rate per group and its relative rate index
against that jurisdiction's reference group (with a 95% interval): one panel per jurisdiction,
never one pool of records. With several jurisdictions, a combined figure stratified by
jurisdiction (Mantel–Haenszel), with words where adding them up would mislead. The share of
records with the group unknown, and residents as a second, labelled benchmark (DOMAIN.md §5).
"""
import streamlit as st

from metrics import equity
from ui import brief, equity_view as view
from ui import filters, messages

KEY = "equity"

st.title("Do outcomes differ between groups?")
brief.button()  # this view as a PDF, built on click (ui/brief.py)
st.caption("Rates at each decision point by group, relative to a reference group of the same "
           "jurisdiction. A ratio whose 95% interval excludes 1 is a clear difference; one "
           "that includes 1 is not.")
if messages.no_data_here(("calls", "responses", "referrals")):
    st.stop()

point, dim = view.controls(KEY)
f, scope = view.in_view(filters.current())
st.caption(scope)
df = view.group_frame(point, dim, f)
if not view.has_values(df):
    view.empty(KEY, point)
    st.stop()
rows = view.as_rows(df, dim)
view.unknown_note(rows, dim, point)

if point.metric == "C2":  # a time: medians by group, compared as ratios of medians
    view.times_card(KEY, point, dim, rows)
    st.stop()

reference = view.reference_choice(KEY, dim, rows)
panels = equity.within_jurisdictions(rows, dim, reference)
view.ratio_card(KEY, point, dim, panels)
if len(panels) > 1:
    view.pooled_card(KEY, point, dim, rows, reference, panels)
view.rate_card(KEY, point, dim, panels)
if dim == "area":
    view.area_map_card(KEY, point, df, f)
if dim in ("race_ethnicity", "age_group", "area"):
    view.per_resident_card(KEY, point, dim, panels, f)
