"""Building blocks every analysis page uses: metric frames, tiles, chart cards, empty states.

A chart card is always: title, the one computed sentence, the chart, and a "Show data" expander
with the table and a formula-safe CSV download. Every widget has a key derived from the card's.
"""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

import metrics
from charts import takeaways, theme
from charts.frames import frame
from ui import cache, presenter
from ui.export import safe_csv

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def escape(text: str) -> str:
    """Plain text for st.markdown: names from uploads can hold Markdown (links, images)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def metric_frame(ids: tuple[str, ...], by: tuple[str, ...], filters: metrics.Filters
                 ) -> pd.DataFrame:
    return _masked(frame(cache.compute(metrics.MetricRequest(ids, by, filters)), by))


def count_frame(keys: tuple[str, ...], by: tuple[str, ...], filters: metrics.Filters
                ) -> pd.DataFrame:
    return _masked(frame(cache.counts(metrics.CountRequest(keys, by, filters)), by))


def _masked(df: pd.DataFrame) -> pd.DataFrame:
    """Peers' names replaced where masking is on: every chart, sentence, table and download
    is drawn from these frames, so none of them can show a real name."""
    names = presenter.peer_names()
    if names and "jurisdiction" in df.columns:
        df = df.assign(jurisdiction=df["jurisdiction"].map(lambda j: names.get(j, j)))
    return df


def launches(filters: metrics.Filters) -> list[tuple[str, object]]:
    """(jurisdiction, launch date) for the jurisdictions in view, for markers on time charts."""
    chosen = set(filters.jurisdictions)
    names = presenter.peer_names() or {}
    return [(names.get(j["jurisdiction"], j["jurisdiction"]), j["launch_date"])
            for j in cache.jurisdictions() if not chosen or j["jurisdiction"] in chosen]


def columns(n: int) -> list:
    """n side-by-side columns, or (presenter mode) n full-width blocks: one chart per width."""
    if presenter.is_on():
        return [st.container() for _ in range(n)]
    return st.columns(n, gap="large")


def chart(key: str, title: str, sentence: str, fig, table: pd.DataFrame,
          note: str | None = None) -> None:
    """A chart card: title, its takeaway, the chart, a note, and the data behind it."""
    with st.container(key=f"card-{key}"):
        st.subheader(title)
        st.markdown(escape(sentence))
        if presenter.is_on():
            fig = theme.presenter(fig)
        # theme=None: our own layout (palette, dark type), not Streamlit's grey chart theme.
        st.plotly_chart(fig, width="stretch", key=f"chart-{key}", theme=None,
                        config={"displaylogo": False, "displayModeBar": not presenter.is_on()})
        if note:
            st.caption(note)  # our own fixed text
        with st.container(key=f"data-{key}"):
            with st.expander("Show data"):
                st.dataframe(table, hide_index=True, width="stretch")
                st.download_button("Download CSV", safe_csv(table), file_name=f"{key}.csv",
                                   mime="text/csv", key=f"download-{key}", on_click="ignore",
                                   icon=":material/download:")


def empty(key: str, title: str, message: str) -> None:
    """The card of a chart with nothing to draw: why, and what to upload or change."""
    with st.container(key=f"card-{key}"):
        st.subheader(title)
        st.info(message, icon=":material/info:")


def tiles(rows: list[list[tuple[str, str, str | None]]], now: pd.DataFrame,
          before: pd.DataFrame | None, days: int | None) -> None:
    """Headline figures, a row of cards per list, with the change against the previous period.

    Each tile is (metric id, "value" or "numerator", label override).
    """
    now_rows = {r.metric: r for r in now.itertuples()}
    old_rows = {r.metric: r for r in before.itertuples()} if before is not None else {}
    width = max(len(row) for row in rows)
    for row in rows:
        for (mid, field, label), col in zip(row, st.columns(width)):
            with col.container(border=True, key=f"tile-{mid}-{field}", height="stretch"):
                _tile(metrics.BY_ID[mid], field, label, now_rows.get(mid), old_rows.get(mid),
                      days)


def _tile(m: metrics.Metric, field: str, label: str | None, r, old, days: int | None) -> None:
    unit = m.unit if field == "value" else "count"
    value = _get(r, field)
    delta = takeaways.change(value, _get(old, field), unit) if days else None
    flat = delta is not None and not delta.startswith(("+", "-"))
    st.metric(label or m.label, theme.fmt_value(value, unit), delta,
              delta_color="off" if flat else
              "inverse" if takeaways.lower_is_better(m.id) else "normal",
              delta_arrow="off" if flat else "auto",
              help=m.definition,
              delta_description=f"vs previous {days:,} days" if delta else None)
    detail = _detail(m, r, field)
    if detail:
        st.caption(escape(detail))


def _get(r, field):
    if r is None:
        return None
    value = getattr(r, field)
    return None if pd.isna(value) else float(value)


def _detail(m: metrics.Metric, r, field: str) -> str | None:
    if r is None:
        return None
    if field == "numerator":
        return "eligible calls the team responded to"
    parts = []
    if m.kind == "duration" and not pd.isna(r.n):
        parts.append(f"90% within {theme.fmt_value(r.p90, 'minutes')}; {int(r.n):,} timed")
    elif not pd.isna(r.denominator):
        parts.append(f"{int(r.numerator):,} of {int(r.denominator):,}")
    if r.reliability == "insufficient":
        parts.append("⚠ fewer than 20 events: insufficient data")
    return "; ".join(parts) or None
