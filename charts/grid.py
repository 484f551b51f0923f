"""A grid of x-y panels as plain layout dictionaries: what ``plotly.subplots.make_subplots``
makes for ``rows`` x ``cols`` panels (with optional titles above them), without building it.

``make_subplots`` and the ``row=``/``col=`` updates after it resolve and check every property
path one call at a time: about 60 ms of the 85 ms that Compare's seven panels took to build on
a server that had not drawn them yet. A builder that fills these dictionaries and makes the
figure from them once (``go.Figure({"data": ..., "layout": ...})``, checked as a whole) takes a
tenth of that. tests/test_chart_grid.py holds this to ``make_subplots``'s own output.
"""
from __future__ import annotations

from dataclasses import dataclass

from plotly._subplots import SubplotRef  # what make_subplots puts in a figure's grid

TITLE_FONT = {"size": 16}  # make_subplots's default for panel titles


@dataclass(frozen=True)
class Grid:
    layout: dict  # xaxis, yaxis, xaxis2, ... (domain, anchor) and the titles' annotations
    cells: list[list[tuple[str, str]]]  # [row][col] -> ("x2", "y2"): a trace's axes

    def axes(self, row: int, col: int) -> tuple[str, str]:
        """The (xaxis, yaxis) layout keys of the panel at ``row``, ``col`` (from 1)."""
        x, y = self.cells[row - 1][col - 1]
        return "xaxis" + x[1:], "yaxis" + y[1:]

    def place(self, fig) -> None:
        """Give a figure built from ``layout`` its grid, so ``row=``/``col=`` work on it."""
        fig._grid_ref = [[(SubplotRef("xy", ("xaxis" + x[1:], "yaxis" + y[1:]),
                                      {"xaxis": x, "yaxis": y}),) for x, y in row]
                         for row in self.cells]


def grid(rows: int, cols: int, titles: list[str] | None, horizontal_spacing: float,
         vertical_spacing: float) -> Grid:
    """Panels numbered along rows from the top left, as ``make_subplots`` numbers them (its
    spacings are given: its defaults depend on other arguments)."""
    hs, vs = horizontal_spacing, vertical_spacing
    # The same arithmetic in the same order as make_subplots, so the same floats come out.
    widths = [(1.0 - hs * (cols - 1)) / cols] * cols
    heights = [(1.0 - vs * (rows - 1)) / rows] * rows
    layout: dict = {}
    cells: list[list[tuple[str, str]]] = []
    domains: list[tuple[list[float], list[float]]] = []
    for r in range(rows):
        from_bottom = rows - 1 - r
        y_s = sum(heights[:from_bottom]) + from_bottom * vs
        y_e = _clamp(y_s + heights[-1 - r])
        row = []
        for c in range(cols):
            x_s = sum(widths[:c]) + c * hs
            x_domain, y_domain = [x_s, x_s + widths[c]], [_clamp(y_s), y_e]
            n = r * cols + c + 1
            x, y = f"x{n if n > 1 else ''}", f"y{n if n > 1 else ''}"
            layout["xaxis" + x[1:]] = {"anchor": y, "domain": x_domain}
            layout["yaxis" + y[1:]] = {"anchor": x, "domain": y_domain}
            row.append((x, y))
            domains.append((x_domain, y_domain))
        cells.append(row)
    shown = [(t, d) for t, d in zip(titles or [], domains) if t]
    if shown:
        layout["annotations"] = [
            {"y": yd[1], "xref": "paper", "x": sum(xd) / 2.0, "yref": "paper", "text": t,
             "showarrow": False, "font": dict(TITLE_FONT), "xanchor": "center",
             "yanchor": "bottom"} for t, (xd, yd) in shown]
    return Grid(layout, cells)


def _clamp(edge: float) -> float:
    # make_subplots rounds edges a float's error beyond the page back onto it
    return 1.0 if 1.0 < edge < 1.01 else 0.0 if -0.01 < edge < 0.0 else edge
