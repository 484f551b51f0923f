"""Areas on a map: a choropleth over the jurisdiction's own boundaries, with no tile server.

Plotly 7's ``Choroplethmap`` draws on MapLibre. Its named styles carry a font URL, and the
others fetch tiles, so the style here is a style object with nothing but a white background:
no source, no glyphs, no sprite, nothing the browser could fetch (tests/test_boundaries.py
draws it in chromium and records every request). The view is fitted to the boundaries here
(center and zoom), not left to the browser's plotly.js version. MapLibre loads the shapes in a
web worker, so the page must be served over HTTP (Streamlit is), not opened as a file.
Pure: DataFrame + GeoJSON in, figure out; no Streamlit, no SQL.
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from .memo import kept
from .safe_text import html
from .theme import INK, NO_DATA, SEQUENTIAL, fmt_value, layout

HIDDEN = "#8c8c8c"  # suppressed values (disclosure control): darker than "no data"
HIDDEN_NOTE = "hidden: too few to show"
NO_DATA_NOTE = "no data"
# A MapLibre style with no sources, glyphs or sprite: the map needs nothing from a network.
OFFLINE_STYLE = {"version": 8, "name": "offline white", "sources": {},
                 "layers": [{"id": "background", "type": "background",
                             "paint": {"background-color": "#ffffff"}}]}
_TILE_PX = 512       # MapLibre's world width at zoom 0
_VIEW_PX = (640, 460)  # the plot area the zoom is fitted to (width, height)
_MAX_ZOOM = 15


@kept
def area_map(df: pd.DataFrame, metric, geojson: dict, *, area: str = "area",
             hidden: str | None = "hidden", unit: str | None = None, label: str | None = None,
             title: str | None = None, height: int = 520, id_property: str | None = None
             ) -> go.Figure:
    """A choropleth of ``metric`` per area, over the features of ``geojson``.

    ``metric`` is a column of ``df`` or a registry ``Metric`` (then ``df`` holds engine rows:
    ``metric``, ``value`` and the ``area`` column). Each feature's ``id`` names its area, as in
    ``data.boundaries.feature_collection``; for another GeoJSON name the property that does
    with ``id_property``. Rows whose ``hidden`` column is true are drawn grey
    with no value in the tooltip; areas with no value are drawn in the lighter "no data" grey.
    Values use the sequential Cividis scale.
    """
    values, unit, label = _values(df, metric, area, unit, label)
    shown, suppressed = _split(values, df, metric, area, hidden)
    key, ids = _feature_key(geojson, id_property)
    no_data = [a for a in ids if a not in shown.index and a not in suppressed]
    fig = go.Figure()
    if not shown.empty:
        fig.add_trace(_value_trace(geojson, key, shown, unit, label))
    if suppressed:
        fig.add_trace(_flat_trace(geojson, key, suppressed, HIDDEN, HIDDEN_NOTE))
    if no_data:
        fig.add_trace(_flat_trace(geojson, key, no_data, NO_DATA, NO_DATA_NOTE))
    center, zoom = fit_view(geojson)
    fig.update_layout(map=dict(style=OFFLINE_STYLE, center=center, zoom=zoom, fitbounds=False),
                      height=height, showlegend=False)
    layout(fig, title)
    _key_note(fig, bool(suppressed), bool(no_data))
    return fig


def _values(df, metric, area, unit, label):
    """(value per area, unit, label) from a plain column or the engine rows of a Metric."""
    if isinstance(metric, str):
        return df.set_index(area)[metric], unit or "", label or metric
    rows = df[df["metric"] == metric.id] if "metric" in df.columns else df
    return rows.set_index(area)["value"], unit or metric.unit, label or metric.label


def _split(values, df, metric, area, hidden) -> tuple[pd.Series, list[str]]:
    rows = df if isinstance(metric, str) or "metric" not in df.columns else \
        df[df["metric"] == metric.id]
    flags = (rows.set_index(area)[hidden].fillna(False).astype(bool) if hidden in rows.columns
             else pd.Series(False, index=values.index))
    suppressed = [str(a) for a in flags.index[flags]]
    shown = pd.to_numeric(values[~flags.reindex(values.index, fill_value=False)],
                          errors="coerce").dropna()
    shown.index = shown.index.astype(str)
    return shown, suppressed


def _feature_key(geojson, id_property) -> tuple[str, list[str]]:
    """(Plotly's featureidkey, the area of each feature)."""
    features = geojson.get("features") or []
    if id_property is None and all("id" in f for f in features):
        return "id", [str(f["id"]) for f in features]
    prop = id_property or "area"
    return f"properties.{prop}", [str((f.get("properties") or {}).get(prop)) for f in features]


def _value_trace(geojson, key, shown: pd.Series, unit, label) -> go.Choroplethmap:
    text = [fmt_value(v, unit) for v in shown.values]
    return go.Choroplethmap(
        geojson=geojson, featureidkey=key, locations=list(shown.index), z=list(shown.values),
        colorscale=SEQUENTIAL, zmin=float(shown.min()), zmax=float(shown.max()),
        marker=dict(line=dict(color="#ffffff", width=1), opacity=0.9),
        colorbar=dict(title=dict(text=label), tickformat=".0%" if unit == "share" else None),
        customdata=text, text=[html(a) for a in shown.index],
        hovertemplate=f"<b>%{{text}}</b><br>{html(label)}: %{{customdata}}<extra></extra>")


def _flat_trace(geojson, key, areas, colour, note) -> go.Choroplethmap:
    return go.Choroplethmap(
        geojson=geojson, featureidkey=key, locations=list(areas), z=[0] * len(areas),
        colorscale=[[0, colour], [1, colour]], showscale=False,
        marker=dict(line=dict(color="#ffffff", width=1), opacity=0.9),
        text=[html(a) for a in areas], hovertemplate=f"<b>%{{text}}</b><br>{note}<extra></extra>")


def _key_note(fig, suppressed: bool, no_data: bool) -> None:
    parts = ([f"<span style='color:{HIDDEN}'>■</span> {HIDDEN_NOTE}"] if suppressed else []) + \
        ([f"<span style='color:{NO_DATA}'>■</span> {NO_DATA_NOTE}"] if no_data else [])
    if parts:
        fig.add_annotation(text="   ".join(parts), x=0, y=0, xref="paper", yref="paper",
                           xanchor="left", yanchor="bottom", showarrow=False,
                           font=dict(color=INK), bgcolor="rgba(255,255,255,0.8)")


# --------------------------------------------------------------------------------------------
# The view: center and zoom that fit every feature
# --------------------------------------------------------------------------------------------

def bounds(geojson: dict) -> tuple[float, float, float, float]:
    """(west, south, east, north) of every position in the features."""
    lons, lats = [], []
    for f in geojson.get("features") or []:
        for lon, lat in _positions((f.get("geometry") or {}).get("coordinates")):
            lons.append(lon)
            lats.append(lat)
    if not lons:
        raise ValueError("the GeoJSON has no positions")
    return min(lons), min(lats), max(lons), max(lats)


def _positions(coords):
    if isinstance(coords, list) and coords and isinstance(coords[0], (int, float)):
        yield float(coords[0]), float(coords[1])
    elif isinstance(coords, list):
        for c in coords:
            yield from _positions(c)


def fit_view(geojson: dict, view_px: tuple[int, int] = _VIEW_PX) -> tuple[dict, float]:
    """({lon, lat} center, zoom) showing every feature in a plot of ``view_px`` pixels.

    Web Mercator: longitude is linear, latitude is stretched by ln(tan(pi/4 + lat/2)).
    """
    west, south, east, north = bounds(geojson)
    y_south, y_north = _mercator_y(south), _mercator_y(north)
    center = {"lon": (west + east) / 2, "lat": _from_mercator_y((y_south + y_north) / 2)}
    width, height = view_px
    spans = [(east - west) / 360, (y_north - y_south) / (2 * math.pi)]  # shares of the world
    zooms = [math.log2(px / (_TILE_PX * s)) for px, s in zip((width, height), spans) if s > 0]
    zoom = min(zooms) - 0.15 if zooms else _MAX_ZOOM  # a little margin around the shapes
    return center, round(max(0.0, min(zoom, _MAX_ZOOM)), 2)


def _mercator_y(lat: float) -> float:
    lat = max(min(lat, 85.05), -85.05)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _from_mercator_y(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)
