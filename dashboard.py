"""Entry point: page config, navigation and the shared filters. No data access here.

Pages live in app_pages/ (not pages/): with a pages/ folder Streamlit would also run page files
directly on deep links, skipping this router.
"""
import streamlit as st

st.set_page_config(page_title="Alternative response outcomes", layout="wide")

pages = [
    st.Page("app_pages/overview.py", title="Overview", url_path="overview", default=True),
    st.Page("app_pages/methodology.py", title="Methodology", url_path="methodology"),
]
st.navigation(pages).run()
