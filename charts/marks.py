"""Marks that say what disclosure control did to the numbers of a chart card (issue 24).

A hidden number already reads as its reason wherever it stands ("hidden (fewer than 11)":
``charts.frames``). A published count is rounded, which nothing in the number itself says:
these add it to the card's table (a "Counts" column, which the CSV download carries too) and
to every tooltip. ``label`` is ``metrics.disclosure.rounded_label(policy)`` ("rounded
(nearest 5)", as the tiles say it), None for exact figures (nothing is added). Pure: no
Streamlit.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from . import memo

# The count columns of a card's table (``charts.frames.data_table``'s names).
COUNT_COLUMNS = ("Numerator", "Denominator", "Records timed", "Records without both times")
FLAG = "Counts"


def rounded_table(table: pd.DataFrame, label: str | None) -> pd.DataFrame:
    """The table with a "Counts" column saying, per row, that its shown counts are rounded.

    Only for tables with count columns; a row whose counts are all hidden says "none shown"
    (each hidden cell says why), one whose shown counts are all 0 "exact (zero)".
    """
    cols = [c for c in COUNT_COLUMNS if c in table.columns]
    if not label or not cols or table.empty or FLAG in table.columns:
        return table
    out = table.copy()
    out[FLAG] = [_flag([row[c] for c in cols], label) for _, row in out.iterrows()]
    out.attrs = dict(table.attrs)
    return out


def _flag(counts: list, label: str) -> str:
    shown = [c for c in counts if _shown(c)]
    if not shown:
        return "none shown"
    return label if any(str(c).strip() != "0" for c in shown) else "exact (zero)"


def _shown(value) -> bool:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return False
    return not (isinstance(value, str) and value.startswith("hidden"))


def rounded_tooltips(fig: go.Figure, label: str | None, copy: bool = True) -> go.Figure:
    """A copy of ``fig`` whose every tooltip ends "counts rounded (nearest 5)";
    ``copy=False`` marks ``fig`` itself (a copy the caller already made)."""
    if not label:
        return fig
    if copy:
        fig = memo.copy(fig)
    line = f"<br><i>counts {label}</i>"
    for trace in fig.data:
        if getattr(trace, "hoverinfo", None) == "skip":
            continue
        template = getattr(trace, "hovertemplate", None)
        if isinstance(template, str) and template:
            head, sep, tail = template.partition("<extra>")
            trace.hovertemplate = head + line + sep + tail
        text = getattr(trace, "hovertext", None)
        if text is not None and not isinstance(text, str):
            trace.hovertext = _append(text, line)
        elif isinstance(text, str) and text:
            trace.hovertext = text + line
    return fig


def _append(texts, line: str):
    """Each non-empty text with ``line`` added (a heat map's grid is a list of rows)."""
    out = []
    for t in texts:
        if isinstance(t, (list, tuple)):
            out.append(_append(t, line))
        else:
            out.append(t + line if isinstance(t, str) and t else t)
    return out
