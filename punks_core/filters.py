"""Hand-made convolution filters: what a Keras `Conv2D` computes, in numpy.

`convolve` computes what a Keras `Conv2D` layer with one hand-set filter, no bias and no
activation computes: a cross-correlation (the kernel is not flipped) with zero padding,
`"same"` or `"valid"`, and a stride. Colour images are filtered one channel at a time, as a
depthwise convolution would, so each channel can be looked at on its own.

Images are floats in [0, 1]; `to_grayscale` and `to_rgb` turn RGBA punks or uploads into that
range. This module never imports TensorFlow: the Convolution Lab must stay light.

Beside it: `conv_geometry` (padding and output sizes), `kernels` (typed kernels, presets,
normalising) and `filter_arithmetic` (one output pixel's sum, for teaching). The names the lab
and outside checks use from here are re-exported: `PRESETS`, `parse_kernel`, `normalise`,
`window_arithmetic`, `PADDINGS`, `STRIDES`, `output_size`, `output_size_formula`,
`padding_amounts`.
"""

import numpy as np

from punks_core.conv_geometry import (
    PADDINGS,
    STRIDES,
    check_stride,
    output_size,
    output_size_formula,
    padding_amounts,
)
from punks_core.filter_arithmetic import window_arithmetic
from punks_core.kernels import MAX_ABS_WEIGHT, PRESETS, normalise, parse_kernel

__all__ = [
    "LUMA",
    "PADDINGS",
    "PRESETS",
    "STRIDES",
    "convolve",
    "normalise",
    "output_size",
    "output_size_formula",
    "padding_amounts",
    "parse_kernel",
    "relu",
    "to_grayscale",
    "to_rgb",
    "window_arithmetic",
]

# ITU-R BT.601 luma weights, the ones PIL's "L" mode uses.
LUMA = np.array([0.299, 0.587, 0.114])


def convolve(
    image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: str | int = "same"
) -> np.ndarray:
    """Slide `kernel` over `image` exactly as a Keras `Conv2D` with that one filter would.

    The kernel is not flipped (cross-correlation, like every deep-learning "convolution"),
    the image is padded with zeros, and a colour image is filtered channel by channel.

    Args:
        image: (H, W) or (H, W, C) array of numbers.
        kernel: (kh, kw) weights; the lab uses 3x3.
        stride: step between windows, in pixels, on both axes.
        padding: `"same"` (output ceil(H / stride) by ceil(W / stride); with stride above 1 the
            odd zero goes after, as in TensorFlow), `"valid"` (no padding) or a whole number of
            zeros on every side.

    Returns:
        float64 array, (H_out, W_out) for a 2-D image, (H_out, W_out, C) for a 3-D one.

    Raises:
        ValueError: the shapes, stride or padding make no sense (a whole-number padding must be
            at most the image side or the kernel's side minus one, whichever is larger, and at
            most `MAX_PADDING`), the kernel or image holds NaN or infinity, the sums overflow,
            or the kernel does not fit.
    """
    planes = np.asarray(image, dtype=np.float64)
    weights = np.asarray(kernel, dtype=np.float64)
    if planes.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), not shape {planes.shape}.")
    if weights.ndim != 2 or 0 in weights.shape:
        raise ValueError(f"kernel must be a 2-D array, not shape {weights.shape}.")
    check_stride(stride)
    if not np.isfinite(weights).all():
        r, c = np.argwhere(~np.isfinite(weights))[0]
        raise ValueError(
            f"kernel weight (row {r + 1}, column {c + 1}) is {weights[r, c]}, not a finite "
            "number; every weight must be an ordinary number."
        )
    if not np.isfinite(planes).all():
        raise ValueError("the image holds NaN or infinite values; use finite pixel values.")
    flat = planes.ndim == 2
    if flat:
        planes = planes[..., None]
    (height, width), (kh, kw) = planes.shape[:2], weights.shape
    out_h = output_size(height, kh, stride, padding)
    out_w = output_size(width, kw, stride, padding)
    if out_h <= 0 or out_w <= 0:
        raise ValueError(
            f"a {kh}x{kw} kernel does not fit in a {height}x{width} image with {padding!r} "
            "padding; use 'same' padding."
        )
    top, bottom = padding_amounts(height, kh, stride, padding)
    left, right = padding_amounts(width, kw, stride, padding)
    # Channels first, each plane contiguous: strided slices of interleaved RGB are ~2x slower.
    channels = planes.shape[2]
    padded = np.zeros((channels, height + top + bottom, width + left + right))
    padded[:, top : top + height, left : left + width] = np.moveaxis(planes, 2, 0)
    # One multiply-add of a shifted, strided view per weight: the same sum as
    # sliding_window_view + einsum, without materialising a 9x copy of a 1024x1024 image.
    output = np.zeros((channels, out_h, out_w))
    product = np.empty_like(output)
    for i in range(kh):
        for j in range(kw):
            if weights[i, j]:
                rows = slice(i, i + (out_h - 1) * stride + 1, stride)
                cols = slice(j, j + (out_w - 1) * stride + 1, stride)
                output += np.multiply(padded[:, rows, cols], weights[i, j], out=product)
    if not np.isfinite(output).all():
        raise ValueError(
            "the kernel's weights are so large that the sums overflow to infinity; use smaller "
            f"weights (the lab allows ±{MAX_ABS_WEIGHT:g})."
        )
    # A channels-last view of the channels-first result: no copy of a large colour image.
    return output[0] if flat else np.moveaxis(output, 0, 2)


def to_grayscale(rgba: np.ndarray) -> np.ndarray:
    """Luminance in [0, 1] of an image composited on black.

    Black, not the punk-blue background: transparent pixels become 0, the same value as the
    zero padding, so a filter finds the punk's outline and never a spurious frame where the
    background meets the padding. Half-transparent smoke counts for half its luminance.

    Args:
        rgba: (H, W, 4) RGBA, (H, W, 3) RGB or (H, W) gray, uint8 (0-255).

    Returns:
        (H, W) float64, 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601) times alpha, scaled to [0, 1].
    """
    pixels = np.asarray(rgba)
    if pixels.ndim == 2:
        return pixels / 255.0
    return to_rgb(pixels) @ LUMA


def to_rgb(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 3) float64 in [0, 1]: an RGBA or RGB uint8 image composited on black.

    The channels the lab filters one by one; black for the reason given in `to_grayscale`.
    """
    pixels = np.asarray(rgba)
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) or (H, W, 4) image, not shape {pixels.shape}.")
    rgb = pixels[..., :3] / 255.0
    if pixels.shape[2] == 4:
        rgb *= pixels[..., 3:] / 255.0
    return rgb


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0): what a Conv2D layer with `activation="relu"` keeps of its output."""
    return np.maximum(x, 0.0)
