"""Plotly figures from metric results: pure functions, no Streamlit, no SQL."""
