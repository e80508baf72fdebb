"""punks_core.heatmaps: diverging grids centred at 0, pooled maps on real coordinates."""

import numpy as np

from punks_core.heatmaps import frame, picture_figure, signed_figure, symmetric_limit, tiles


def test_signed_figure_is_centred_at_zero_and_clickable_when_small():
    values = np.linspace(-2, 1, 24 * 24).reshape(24, 24)
    figure = signed_figure(values, "Output", symmetric_limit(values), click=True)
    assert (figure.layout.coloraxis.cmin, figure.layout.coloraxis.cmax) == (-2, 2)
    heatmap, markers = figure.data
    assert heatmap.type == "heatmap" and markers.type == "scatter" and len(markers.x) == 576
    assert figure.layout.yaxis.range == (23.5, -0.5)  # row 0 at the top, like an image
    assert figure.layout.xaxis.range == (-0.5, 23.5)  # the map's edges: no padding for markers


def test_large_colour_maps_are_pooled_on_their_real_coordinates():
    values = np.random.default_rng(0).normal(size=(1024, 1024, 3))
    figure = signed_figure(values, "Output", 5.0, click=True)
    assert [trace.type for trace in figure.data] == ["heatmap"] * 3  # too big to click
    assert np.asarray(figure.data[0].z).shape == (128, 128)  # three tiles, 128 pixels each
    assert np.asarray(figure.data[0].x)[-1] == 1016
    gray = signed_figure(values[..., 0], "Output", 5.0)
    assert np.asarray(gray.data[0].z).shape == (256, 256)
    assert [a.text for a in figure.layout.annotations] == ["Output: R", "G", "B"]


def test_pictures_and_grids():
    gray = picture_figure((np.full((5, 6), 0.5), 1), "Input")
    assert gray.data[0].type == "heatmap" and gray.layout.coloraxis.showscale is False
    rgb = picture_figure((np.full((5, 6, 3), 2.0), 4), "ReLU")
    assert rgb.data[0].type == "image" and np.asarray(rgb.data[0].z).max() == 255
    grid = tiles([np.zeros((3, 3))] * 16, [str(k) for k in range(16)], (-1, 1), columns=6)
    assert len(grid.data) == 16 and grid.layout.yaxis16.anchor == "x16"
    assert symmetric_limit(np.zeros(3)) == 1e-9


def test_box_frames_the_same_pixels_on_every_tile():
    figure = signed_figure(np.ones((8, 8, 3)), "Output", 1.0, box=(2, 3, 3))
    shapes = figure.layout.shapes
    assert [s.xref for s in shapes] == ["x", "x2", "x3"]
    assert (shapes[0].x0, shapes[0].x1, shapes[0].y0, shapes[0].y1) == (2.5, 5.5, 1.5, 4.5)
    assert len(picture_figure((np.zeros((4, 4, 3)), 1), "In", box=(0, 0, 3)).layout.shapes) == 1
    assert frame(1, 2)["x0"] == 1.5
