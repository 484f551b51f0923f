"""Work the server does once, before its first viewer of a chart would wait for it.

Python imports Plotly, pandas and Arrow lazily (and statsmodels, for the Impact page, and the
Plan page's compiled simulation are started in the background), and Plotly builds its
validators the first time a figure is laid out: about a second, paid otherwise by whoever
opens the first chart page after the server starts. ``warm_up`` runs from the router on the
first script run, and then sets what it loaded aside from the garbage collector.
"""
from __future__ import annotations

import functools
import gc
import threading


@functools.cache
def warm_up() -> None:
    import pandas as pd
    import plotly.graph_objects as go
    import plotly.io
    import pyarrow as pa

    import charts.figures  # noqa: F401  (every chart)
    import ui.components  # noqa: F401  (every chart page's helpers)
    from charts import theme

    theme.use_template()  # after Streamlit's Plotly element, which sets its own default
    frame = pd.DataFrame({"a": [1], "b": ["x"]})
    fig = theme.layout(go.Figure(go.Bar(x=frame["b"], y=frame["a"])), title="warm-up")
    fig.update_xaxes(tickformat=theme.tick_format("share"))
    plotly.io.to_json(fig)
    pa.Table.from_pandas(frame)
    # Streamlit runs a full garbage collection after every script run (runner.postScriptGC);
    # over everything these libraries allocate that was 0.1 s of server CPU per page visit,
    # about half a cached page's work. What is loaded now lives as long as the server:
    # frozen, later collections pass over it.
    gc.collect()
    gc.freeze()
    # The Impact page's statistics (statsmodels, scipy): seconds to import, needed by no other
    # page, so loaded beside the first viewers instead of in front of them.
    threading.Thread(target=_import_statistics, name="warm-up-statsmodels", daemon=True).start()


def _import_statistics() -> None:
    from metrics.capacity import queue
    from metrics.impact import _statsmodels

    _statsmodels()
    queue.warm_up()  # the Plan page's simulation: numba's import and compiled code, loaded
