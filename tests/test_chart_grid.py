"""charts/grid.py: panels laid out as plain dictionaries, held to make_subplots's own output."""
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from charts.grid import grid


def _layout(fig: go.Figure) -> dict:
    out = fig.to_dict()["layout"]
    out.pop("template", None)
    return out


@pytest.mark.parametrize("rows, cols", [(1, 1), (1, 2), (1, 5), (2, 4), (3, 2), (4, 5)])
@pytest.mark.parametrize("titles", ["none", "all", "some"])
def test_grid_is_what_make_subplots_makes(rows, cols, titles):
    # The spacings panels() passes, including one that puts row edges a float's error off 0/1.
    hs, vs = (0.06 if cols > 1 else 0.02), (0.5 / rows if rows > 1 else 0.02)
    names = {"none": None, "all": [f"Panel {i}" for i in range(rows * cols)],
             "some": ["First", "", "Third"]}[titles]
    ref = make_subplots(rows=rows, cols=cols, subplot_titles=names, horizontal_spacing=hs,
                        vertical_spacing=vs)
    cells = grid(rows, cols, names, hs, vs)
    mine = go.Figure({"layout": cells.layout})
    assert _layout(mine) == _layout(ref)
    cells.place(mine)
    assert mine._grid_ref == ref._grid_ref


def test_axes_and_cells_name_the_same_panel():
    cells = grid(2, 3, None, 0.06, 0.25)
    assert cells.cells[0][0] == ("x", "y")
    assert cells.cells[1][2] == ("x6", "y6")
    assert cells.axes(2, 3) == ("xaxis6", "yaxis6")
    # Panels count along rows from the top left: row 2 sits below row 1.
    assert cells.layout["yaxis4"]["domain"][1] < cells.layout["yaxis"]["domain"][0]


def test_a_placed_figure_takes_row_and_col_like_make_subplots():
    cells = grid(2, 2, ["a", "b", "c"], 0.06, 0.25)
    fig = go.Figure({"layout": cells.layout})
    cells.place(fig)
    fig.add_trace(go.Bar(x=[1], y=["g"]), row=2, col=1)
    fig.update_xaxes(range=[0, 5], row=2, col=1)
    assert (fig.data[0].xaxis, fig.data[0].yaxis) == ("x3", "y3")
    assert list(fig.layout.xaxis3.range) == [0, 5]
    assert fig.layout.xaxis.range is None
