"""charts/theme.py's template: plotly_white's layout and its defaults for exactly the trace
types the charts draw, so every chart looks as it did under plotly_white while each figure
copies a template half the size."""
from __future__ import annotations

import json
import re
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

from charts import figures, theme

ROOT = Path(__file__).resolve().parent.parent
TRACE = re.compile(r"\bgo\.([A-Z][A-Za-z0-9]*)\(")
NOT_TRACES = {"Figure"}


def drawn_trace_types() -> set[str]:
    found = set()
    for folder in ("charts", "ui", "app_pages"):
        for path in (ROOT / folder).glob("*.py"):
            found |= {m.lower() for m in TRACE.findall(path.read_text()) if m not in NOT_TRACES}
    return found


def test_the_template_covers_every_trace_type_drawn():
    drawn = drawn_trace_types()
    assert {"bar", "scatter"} <= drawn  # the scan finds the charts' traces
    assert drawn <= set(theme.TRACE_TYPES)


def test_same_defaults_as_plotly_white_for_those_types():
    white, ours = pio.templates["plotly_white"], pio.templates["a911"]
    assert ours.layout.to_plotly_json() == white.layout.to_plotly_json()
    for kind in theme.TRACE_TYPES:
        assert ours.data[kind] == white.data[kind]
    # Nothing else: the point is a smaller template.
    assert set(ours.data.to_plotly_json()) <= set(theme.TRACE_TYPES)
    size = [len(json.dumps(t.to_plotly_json())) for t in (ours, white)]
    assert size[0] < size[1] / 1.5


def test_the_server_builds_charts_on_it_whatever_the_import_order():
    import streamlit.elements.plotly_chart  # noqa: F401  (sets "streamlit" when first loaded)
    from ui.warmup import warm_up

    pio.templates.default = "streamlit"  # as a first import of Streamlit's element leaves it
    warm_up.cache_clear()
    warm_up()
    assert pio.templates.default == "a911"
    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    assert fig.layout.template.layout.to_plotly_json() == \
        pio.templates["plotly_white"].layout.to_plotly_json()
    assert figures is not None  # the charts module imports with the template in place
