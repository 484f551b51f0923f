"""Methodology: every metric's definition, generated from the registry."""
import streamlit as st

from metrics.methodology import methodology_markdown

st.markdown(methodology_markdown())
