"""Streamlit-facing helpers: the only place pages get data from (cache) and shared widgets."""
