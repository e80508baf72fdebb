"""Pooling a large map down to what a chart can show, keeping what a viewer looks for.

`shrink_for_display` pools a filter output, an activation or a picture to at most `max_side`
pixels a side before it is drawn (`punks_core.heatmaps`): signed extremes, maxima or means.
"""

import math

import numpy as np


def shrink_for_display(
    values: np.ndarray, max_side: int = 256, keep: str = "absmax"
) -> tuple[np.ndarray, int]:
    """Pool a large (H, W) or (H, W, C) map down to at most `max_side` pixels a side.

    A browser cannot usefully draw a 1024x1024 heat map in a third of a page, and shipping a
    million floats per chart makes every rerun slow. Pooling keeps what a viewer looks for:
    `"absmax"` keeps, in each block, the value of largest magnitude with its sign, so thin
    positive and negative edge lines survive instead of averaging each other away; `"max"` is
    max pooling (of a ReLU output: the ReLU of the max, so it can be applied after pooling);
    `"mean"` averages (for the input picture).

    Returns:
        The pooled map and the block side (1 when `values` already fits, returned as is).
    """
    if keep not in ("absmax", "max", "mean"):
        raise ValueError(f"keep must be 'absmax', 'max' or 'mean', not {keep!r}.")
    values = np.asarray(values)
    height, width = values.shape[:2]
    factor = max(1, math.ceil(max(height, width) / max_side))
    if factor == 1:
        return values, 1
    rest = values.shape[2:]
    pads = ((0, -height % factor), (0, -width % factor)) + ((0, 0),) * len(rest)
    padded = np.pad(values, pads, mode="edge") if pads[0][1] or pads[1][1] else values
    # Pooling is separable: fold every factor-th row together, then every factor-th column.
    # Strided views folded with a ufunc run several times faster than reducing the axes of a
    # (rows, f, cols, f) reshape.
    if keep == "mean":
        return _pool(np.add, padded, factor) / factor**2, factor
    high = _pool(np.maximum, padded, factor)
    if keep == "max":
        return high, factor
    low = _pool(np.minimum, padded, factor)
    return np.where(-low > high, low, high), factor


def _pool(ufunc: np.ufunc, values: np.ndarray, factor: int) -> np.ndarray:
    rows = _fold(ufunc, [values[i::factor] for i in range(factor)])
    return _fold(ufunc, [rows[:, j::factor] for j in range(factor)])


def _fold(ufunc: np.ufunc, views: list[np.ndarray]) -> np.ndarray:
    result = np.array(views[0], dtype=np.result_type(views[0], np.float64))
    for view in views[1:]:
        ufunc(result, view, out=result)
    return result
