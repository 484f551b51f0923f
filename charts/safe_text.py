"""Text from data or files shown as text: the one escaping rule, per kind of markup.

Every text that comes from an upload or the database (file names, values, area, call-type and
jurisdiction names, error messages that quote them) is drawn through one of these:

- ``markdown(text)`` wherever Streamlit renders Markdown (``st.markdown``, ``st.write`` of a
  string, ``st.caption``, ``st.info``/``warning``/``error``/``success``, headers, expander and
  widget labels). Every ASCII punctuation mark that Markdown or Streamlit gives a meaning is
  backslash-escaped: images ``![x](url)``, links ``[x](url)``, autolinks ``<url>``, raw HTML,
  emphasis, code, LaTeX ``$``, and Streamlit's own ``:color[...]``, ``:material/...:``
  and emoji-shortcode directives. Bare ``http://``, ``www.`` and e-mail addresses need more:
  remark-gfm links them in the text *after* escapes are resolved
  (mdast-util-gfm-autolink-literal), so an invisible WORD JOINER (U+2060) is put inside each
  (``http://``, ``www.``, ``a@b``); it reads and prints the same, and copies as one more
  character. Line breaks stay: with every mark escaped, no line can
  open a block (heading, list, quote, table, HTML) either.
- ``html(text)`` for Plotly labels: Plotly.js reads a subset of HTML (``<a href>``, ``<b>``,
  ``<br>``, ``<span style>``) in tick labels, legends, hover text and annotations; ``&``,
  ``<`` and ``>`` are escaped (Plotly shows the entities as the characters).
- ``figure(fig)`` applies ``html`` to every label a figure takes from its data (category
  values on the axes, trace names, category positions of annotations): the one place the
  dashboard draws a figure calls it. Texts the chart code composes with markup (hover text,
  annotations) escape their data parts with ``html`` themselves.

Pure: no Streamlit (``charts`` is imported by ``ui``, never the other way round; issue 27).
"""
from __future__ import annotations

import html as _html
import re

import plotly.graph_objects as go

from . import memo

# Every ASCII punctuation character (CommonMark lets a backslash escape each): escaping them
# all is simpler to reason about than choosing.
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
# What remark-gfm's literal autolinks start from: /(https?:\/\/|www(?=\.))/ and /[-.\w+]+@/.
_AUTOLINK = re.compile(r"(?i)(https?|www)(?=[:.])|(?=@)")
WORD_JOINER = "\u2060"
# Trace fields that carry labels from the data (bar categories, series names, pie slices).
_TRACE_LABELS = ("x", "y", "labels")
_TRACE_NAMES = ("name", "legendgrouptitle_text")


def markdown(text) -> str:
    """``text`` as literal text in Streamlit Markdown (see the module docstring)."""
    unlinked = _AUTOLINK.sub(lambda m: (m.group(1) or "") + WORD_JOINER, str(text))
    return _MD_SPECIAL.sub(r"\\\1", unlinked)


def html(text) -> str:
    """``text`` as literal text in a Plotly label, hover text or annotation."""
    return _html.escape(str(text), quote=False)


def labels(values):
    """Each string of ``values`` through ``html``; numbers, dates and None as they are."""
    if values is None or isinstance(values, (int, float)):
        return values
    if isinstance(values, str):
        return html(values)
    items = list(values)
    if not any(isinstance(v, str) for v in items):
        return values
    return [html(v) if isinstance(v, str) else v for v in items]


def figure(fig: go.Figure, copy: bool = True) -> go.Figure:
    """A copy of ``fig`` whose labels from the data are escaped (``fig`` may be cached);
    ``copy=False`` escapes ``fig`` itself (a copy the caller already made)."""
    if copy:
        fig = memo.copy(fig)
    for trace in fig.data:
        for attr in _TRACE_LABELS:
            if attr in trace and trace[attr] is not None:
                trace[attr] = labels(trace[attr])
        for attr in _TRACE_NAMES:
            try:
                value = trace[attr]
            except (KeyError, ValueError):
                continue
            if isinstance(value, str):
                trace[attr] = html(value)
    layout = fig.layout
    for name in [k for k in layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]:
        axis = layout[name]
        for attr in ("categoryarray", "ticktext"):
            if axis[attr] is not None:
                axis[attr] = labels(axis[attr])
    for note in layout.annotations or ():
        # A category position must match the escaped category; paper positions are numbers.
        for attr in ("x", "y"):
            if isinstance(note[attr], str):
                note[attr] = html(note[attr])
    return fig
