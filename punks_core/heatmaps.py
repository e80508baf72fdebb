"""Plotly figures of signed maps (filter outputs, weights, activations) and of pictures.

Built from plain `graph_objects` with hand-placed axes: plotly express builds a faceted figure
some 30x slower (tens of milliseconds each), which alone would blow a page's budget for a
rerun. Large maps are pooled first (`display_pooling.shrink_for_display`); the axes keep the
original pixel coordinates, so hovering or clicking reports real rows and columns.
"""

import numpy as np
import plotly.graph_objects as go

DIVERGING = "RdBu_r"  # negative blue, 0 white, positive red
CHANNELS = ("R", "G", "B")
CLICKABLE_PIXELS = 64 * 64
_MARGIN = {"l": 0, "r": 0, "t": 30, "b": 0}


def tiles(
    maps: list[np.ndarray],
    titles: list[str],
    zrange: tuple[float, float],
    columns: int = 3,
    step: int = 1,
    colorscale: str = DIVERGING,
    click: bool = False,
    box: tuple[int, int, int] | None = None,
) -> go.Figure:
    """2-D maps in a grid of `columns`, sharing one colour scale spanning `zrange`.

    Args:
        maps: (h, w) arrays, one per tile.
        titles: one per tile.
        zrange: colour scale limits; a symmetric range centres a diverging scale at 0.
        columns: tiles per row.
        step: input pixels per shown pixel (the pooling factor), for the axis coordinates.
        colorscale: any Plotly colour scale name.
        click: add an invisible marker on every pixel so that clicking selects it (Plotly
            heat maps send no selection events); only for maps of at most 64x64.
        box: (top, left, size): frame those pixels on every tile, see `frame`.
    """
    rows = -(-len(maps) // columns)
    layout = {"margin": _MARGIN, "showlegend": False, "annotations": [], "shapes": []}
    layout["coloraxis"] = {"colorscale": colorscale, "cmin": zrange[0], "cmax": zrange[1]}
    layout["height"] = 60 + 300 * rows if columns <= 3 else 40 + 130 * rows
    traces = []
    for k, (values, title) in enumerate(zip(maps, titles, strict=True)):
        suffix, row, col = "" if k == 0 else str(k + 1), k // columns, k % columns
        x_domain = [col / columns + 0.01, (col + 1) / columns - 0.01]
        y_domain = [1 - (row + 1) / rows + 0.02, 1 - row / rows - 0.06 / rows]
        xs, ys = np.arange(values.shape[1]) * step, np.arange(values.shape[0]) * step
        axes = {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}
        clickable = click and values.size <= CLICKABLE_PIXELS
        hover = "row %{y}, column %{x}: %{z:.3f}<extra></extra>"
        traces.append(
            go.Heatmap(
                z=values.astype(np.float32), x=xs, y=ys, coloraxis="coloraxis", **axes,
                # Hover and clicks must land on the markers, or a click picks the heat map
                # cell, which Plotly cannot select.
                hovertemplate=hover, hoverinfo="skip" if clickable else None,
            )
        )  # fmt: skip
        if clickable:
            grid_y, grid_x = np.meshgrid(ys, xs, indexing="ij")
            traces.append(
                go.Scatter(
                    x=grid_x.ravel(), y=grid_y.ravel(), customdata=values.ravel(), **axes,
                    mode="markers", marker={"opacity": 0, "size": 8},
                    selected={"marker": {"opacity": 0}}, unselected={"marker": {"opacity": 0}},
                    hovertemplate=hover.replace("%{z", "%{customdata"),
                )
            )  # fmt: skip
        # Fixed ranges, the map's own edges: autorange would pad for the click markers and
        # draw a clickable map smaller than its neighbours.
        x_range = [xs[0] - step / 2, xs[-1] + step / 2]
        layout[f"xaxis{suffix}"] = {
            "domain": x_domain, "anchor": f"y{suffix}", "visible": False, "range": x_range,
        }  # fmt: skip
        y_range = [ys[-1] + step / 2, ys[0] - step / 2]  # reversed: row 0 at the top
        layout[f"yaxis{suffix}"] = {
            "domain": y_domain, "anchor": f"x{suffix}", "range": y_range,
            "scaleanchor": f"x{suffix}", "constrain": "domain", "visible": False,
        }  # fmt: skip
        if box is not None:
            layout["shapes"].append(frame(*box, xref=f"x{suffix}", yref=f"y{suffix}"))
        layout["annotations"].append(
            {"text": title, "x": sum(x_domain) / 2, "y": y_domain[1], "xref": "paper",
             "yref": "paper", "showarrow": False, "yanchor": "bottom"}
        )  # fmt: skip
    return go.Figure(traces, layout)


def symmetric_limit(*arrays: np.ndarray) -> float:
    """The largest magnitude in `arrays` (at least 1e-9): a colour range centred at 0."""
    return max(max(float(a.max()), -float(a.min())) for a in arrays) or 1e-9


def frame(top: int, left: int, size: int = 1, xref: str = "x", yref: str = "y") -> dict:
    """A layout shape framing pixels [top, top + size) x [left, left + size).

    It shows which output pixel is opened up and which input window that pixel reads; green
    shows on black, grey, red, white and blue alike. Pass it at construction (`box=`):
    adding shapes to a built figure costs a full layout revalidation per call.
    """
    return {
        "type": "rect", "xref": xref, "yref": yref, "line": {"color": "#00e676", "width": 2},
        "x0": left - 0.5, "x1": left + size - 0.5, "y0": top - 0.5, "y1": top + size - 0.5,
    }  # fmt: skip
