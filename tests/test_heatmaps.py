"""punks_core.heatmaps: diverging grids centred at 0, pooled maps on real coordinates."""

import numpy as np

from punks_core.heatmaps import frame, symmetric_limit, tiles


def test_pictures_and_grids():
    grid = tiles([np.zeros((3, 3))] * 16, [str(k) for k in range(16)], (-1, 1), columns=6)
    assert len(grid.data) == 16 and grid.layout.yaxis16.anchor == "x16"
    assert symmetric_limit(np.zeros(3)) == 1e-9


def test_box_frames_the_same_pixels_on_every_tile():
    figure = tiles([np.ones((8, 8))] * 3, ["R", "G", "B"], (-1, 1), columns=3, box=(2, 3, 3))
    shapes = figure.layout.shapes
    assert [s.xref for s in shapes] == ["x", "x2", "x3"]
    assert (shapes[0].x0, shapes[0].x1, shapes[0].y0, shapes[0].y1) == (2.5, 5.5, 1.5, 4.5)
    assert frame(1, 2)["x0"] == 1.5
