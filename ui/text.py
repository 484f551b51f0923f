"""Plain text for Markdown: a module of its own, imported by ui.auth and ui.components alike.

The rule itself lives in ``charts.safe_text`` (one rule for Markdown and Plotly labels alike,
issue 27); ``escape`` is its Markdown half under the name the pages already use.
"""
from __future__ import annotations

import pandas as pd

from charts.safe_text import markdown


def escape(text) -> str:
    """Plain text for st.markdown: names from uploads can hold Markdown (links, images)."""
    return markdown(text)


def escape_table(table: pd.DataFrame) -> pd.DataFrame:
    """A copy whose headers and text cells are escaped: ``st.table`` renders each as Markdown."""
    out = table.rename(columns=lambda c: escape(c) if isinstance(c, str) else c)
    return out.apply(lambda col: col.map(lambda v: escape(v) if isinstance(v, str) else v))
