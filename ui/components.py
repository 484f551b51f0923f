"""Building blocks every analysis page uses: metric frames, tiles, chart cards, empty states.

A chart card is always: title, the one computed sentence, the chart, and a "Show data" expander
with the table and a formula-safe CSV download. Every widget has a key derived from the card's.

The frames are the one way figures reach a page: through ``ui.cache`` and ``service.guarded`` for
the signed-in principal, under the sidebar's disclosure policy (``ui.privacy``). Every chart,
tooltip, sentence, tile, table and download is drawn from them, so none can show a number that
disclosure control hid: it is None in the frame, and its words stand in its place.
"""
from __future__ import annotations

from contextlib import closing
from types import SimpleNamespace

import pandas as pd
import streamlit as st

import metrics
from charts import marks, memo, safe_text, takeaways, theme
from charts.frames import count_text, frame, hidden, value_text
from service import guarded
from metrics.disclosure import withheld_notes
from ui import auth, cache, presenter, privacy
from ui import filters as sidebar
from ui.export import safe_csv
from ui.text import escape  # noqa: F401  (ui.components.escape: the pages' name for it)


def metric_frame(ids: tuple[str, ...], by: tuple[str, ...], filters: metrics.Filters
                 ) -> pd.DataFrame:
    rows = cache.compute(metrics.MetricRequest(ids, by, filters), auth.current(),
                         privacy.current())
    return _withheld(_masked(frame(rows, by, privacy.words)), rows, by)


def count_frame(keys: tuple[str, ...], by: tuple[str, ...], filters: metrics.Filters
                ) -> pd.DataFrame:
    rows = cache.counts(metrics.CountRequest(keys, by, filters), auth.current(),
                        privacy.current())
    return _withheld(_masked(frame(rows, by, privacy.words)), rows, by)


def _withheld(df: pd.DataFrame, rows: list[dict], by: tuple[str, ...]) -> pd.DataFrame:
    """Keep disclosure's notes on tables it had to withhold whole; the chart card prints them.

    (``DataFrame.attrs`` travel with the frame through ``only`` and ``data_table``.)
    """
    df.attrs["withheld"] = withheld_notes(
        [SimpleNamespace(metric=r["metric"], suppressed=r.get("suppressed") or {})
         for r in rows], by)
    return df


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
    """A chart card: title, its takeaway, the chart, a note, and the data behind it.

    Under disclosure control a caption states the rule, and the table and tooltips say that
    their counts are rounded (``_disclosed``); a hidden figure reads as its reason.
    """
    # One copy, marked, enlarged and escaped in place, made without Plotly checking the built
    # figure again (``charts.memo``): each checked copy cost 20-40 ms of a page's server time.
    fig = memo.copy(fig)
    fig, table, rule_note = _disclosed(fig, table)
    with st.container(key=f"card-{key}"):
        st.header(title)  # h2 under the page's h1 (config.toml sizes it as a card title)
        st.markdown(escape(sentence))
        if presenter.is_on():
            fig = theme.presenter(fig)
        # Names from uploads are labels, never markup (issue 27).
        fig = safe_text.figure(fig, copy=False)
        # theme=None: our own layout (palette, dark type), not Streamlit's grey chart theme.
        # The mode bar only while the pointer is on the chart (always shown, it sat over the
        # top bar's value label); never in presenter mode.
        st.plotly_chart(fig, width="stretch", key=f"chart-{key}", theme=None,
                        config={"displaylogo": False,
                                "displayModeBar": False if presenter.is_on() else "hover"},
                        alt=chart_alt(title, sentence))
        if note:
            st.caption(note)  # our own fixed text
        if rule_note:
            st.caption(rule_note)
        for withheld in table.attrs.get("withheld") or ():
            st.caption(escape(withheld))
        with st.container(key=f"data-{key}"):
            # Drawn only once opened (a rerun, from cached results): six tables that nobody
            # has asked to see took a fifth of a page's first drawing in the browser.
            shown = st.expander("Show data", key=f"show-data-{key}", on_change="rerun")
            if shown.open:
                with shown:
                    st.dataframe(table, hide_index=True, width="stretch")
                    st.download_button("Download CSV", download(key, table),
                                       file_name=f"{key}.csv", mime="text/csv",
                                       key=f"download-{key}", on_click="ignore",
                                       icon=":material/download:")
                    slide_button(key, title, sentence, fig)


def chart_alt(title: str, sentence: str) -> str:
    """The chart's accessible name: its title and takeaway, and where its numbers are.

    Streamlit 1.67 puts it on the chart as ``role="figure"`` and ``aria-label``; without it a
    screen reader meets only the SVG's axis ticks one by one. Plain text in an attribute (no
    markup), from the same sentence the card prints above the chart.
    """
    return f"{title}. {sentence} Its numbers are in the table under Show data, below."


def download(what: str, table: pd.DataFrame):
    """The CSV of a table the page shows, built (and recorded in the audit log) on click.

    The table is the one on screen, so it holds the same published (or exact) figures.
    """
    principal, policy = auth.current(), privacy.current()
    jurisdictions = sidebar.current().jurisdictions

    def csv() -> bytes:  # runs on click, maybe on another thread: its own cursor
        with closing(cache.cursor()) as cur:
            guarded.record_download(
                cur, principal, what,
                jurisdiction=jurisdictions[0] if len(jurisdictions) == 1 else None,
                detail={"rows": len(table), "disclosure": policy.enabled,
                        "rounding": policy.rounding_label})
        return safe_csv(table)
    return csv


def rule_note(table: pd.DataFrame) -> None:
    """The privacy rule's sentence under a table drawn outside a chart card (issue 24)."""
    note = privacy.rule_caption(_table_has_hidden(table))
    if note:
        st.caption(note)


def _disclosed(fig, table: pd.DataFrame):
    """The figure (marked in place: chart() passes its own copy) and table marked as rounded
    where they show published counts, and the rule sentence for the card (issue 24);
    unchanged, with no sentence, for exact figures."""
    label = privacy.rounded_label()
    return (marks.rounded_tooltips(fig, label, copy=False), marks.rounded_table(table, label),
            privacy.rule_caption(_table_has_hidden(table)))


def slide_button(key: str, title: str, sentence: str, fig) -> None:
    """"Download as image" (ui/brief.py): beside the CSV, so a page pays nothing for it."""
    from ui import brief

    brief.image_button(key, title, sentence, fig)


def _table_has_hidden(table: pd.DataFrame) -> bool:
    """Whether the card's table shows hidden words (the frame's own marks are not in it)."""
    return bool(table.map(lambda v: isinstance(v, str) and v.startswith("hidden (")
                          ).to_numpy().any()) if not table.empty else False


def empty(key: str, title: str, message: str) -> None:
    """The card of a chart with nothing to draw: why, and what to upload or change."""
    with st.container(key=f"card-{key}"):
        st.header(title)
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
    shown = hidden(r, field) if r is not None else None
    st.metric(label or m.label, shown or theme.fmt_value(value, unit), delta,
              delta_color="off" if flat else
              "inverse" if takeaways.lower_is_better(m.id) else "normal",
              delta_arrow="off" if flat else "auto",
              help=m.definition,
              delta_description=f"vs previous {days:,} days" if delta else None)
    detail = "; ".join(filter(None, (_detail(m, r, field), _rounded(m, r, field, shown))))
    if detail:
        st.caption(escape(detail))


def _rounded(m: metrics.Metric, r, field: str, shown) -> str | None:
    """Says that the tile's counts are rounded, where they are shown (a count of 2,889 reads
    2,890 under the viewer's policy): on the count itself, or on the "x of y" beneath a share."""
    policy = privacy.current()
    if r is None or shown or not policy.enabled:
        return None
    label = policy.rounding_label
    if field == "numerator" or m.kind in ("count", "distinct"):  # the tile's number is a count
        return f"rounded ({label})"
    counted = [f for f in ("numerator", "denominator", "n") if not pd.isna(getattr(r, f, None))]
    return f"counts rounded ({label})" if counted else None


def _get(r, field):
    if r is None:
        return None
    value = getattr(r, field)
    return None if pd.isna(value) else float(value)


def _detail(m: metrics.Metric, r, field: str) -> str | None:
    if r is None:
        return None
    if field == "numerator":
        return m.numerator_label
    none = _nothing_timed(m, r)
    if none:
        return none
    parts = []
    if m.kind == "duration" and hidden(r, "n"):
        parts.append(f"timed records: {hidden(r, 'n')}")
    elif m.kind == "duration" and not pd.isna(r.n):
        parts.append(f"90% within {value_text(r, 'minutes', 'p90')}; {int(r.n):,} timed")
    elif hidden(r, "denominator") or not pd.isna(r.denominator):
        parts.append(f"{count_text(r, 'numerator')} of {count_text(r, 'denominator')}")
    if r.reliability == "insufficient":
        parts.append(f"⚠ {metrics.FEW_EVENTS}: insufficient data")
    return "; ".join(parts) or None


def _nothing_timed(m: metrics.Metric, r) -> str | None:
    """A duration with no timed record says why, not "fewer than 20 events": no team data
    at all is a missing upload, not a small sample."""
    if m.kind != "duration" or hidden(r, "n") or pd.isna(r.n) or int(r.n) != 0:
        return None
    missing = getattr(r, "missing", None)
    if hidden(r, "missing") or (missing is not None and not pd.isna(missing) and missing):
        return "no timed records: none has both times"
    team = m.duration.source == "responses" or "ar_responded" in (m.duration.where or "")
    return "no team data" if team else "no calls with both times"
