"""Hand-made convolution filters: Keras `Conv2D` arithmetic in numpy, presets, one pixel's sums.

`convolve` computes what a Keras `Conv2D` layer with one hand-set filter, no bias and no
activation computes: a cross-correlation (the kernel is not flipped) with zero padding,
`"same"` or `"valid"`, and a stride. Colour images are filtered one channel at a time, as a
depthwise convolution would, so each channel can be looked at on its own.

Images are floats in [0, 1]; `to_grayscale` and `to_rgb` turn RGBA punks or uploads into that
range. This module never imports TensorFlow: the Convolution Lab must stay light.
"""

import math
from dataclasses import dataclass
from fractions import Fraction
from numbers import Real

import numpy as np
import pandas as pd

from punks_core.errors import KernelError

KERNEL_SIZE = 3
MAX_ABS_WEIGHT = 100.0
# Zeros added on each side: beyond the image (or beyond the kernel's "full" padding) they only
# add rows of zeros, and a huge number would try to allocate gigabytes before failing.
MAX_PADDING = 256
# A kernel cell longer than this is not something a person typed as a weight; its text is not
# parsed (a million-digit number takes seconds) and only its start is echoed back.
MAX_CELL_CHARACTERS = 64
PADDINGS = ("same", "valid")
STRIDES = (1, 2, 3)

# ITU-R BT.601 luma weights, the ones PIL's "L" mode uses.
LUMA = np.array([0.299, 0.587, 0.114])

_HORIZONTAL = [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]


def _frozen(rows) -> np.ndarray:
    array = np.array(rows, dtype=np.float64)
    array.setflags(write=False)
    return array


PRESETS: dict[str, np.ndarray] = {
    "Horizontal lines (Keras intro)": _frozen(_HORIZONTAL),
    "Vertical lines (Keras intro)": _frozen(np.transpose(_HORIZONTAL)),
    "Sobel x": _frozen([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "Sobel y": _frozen([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "Outline (Laplacian)": _frozen([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "Sharpen": _frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "Box blur": _frozen(np.full((3, 3), 1 / 9)),
    "Emboss": _frozen([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
    "Identity": _frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
}
"""Named 3x3 kernels; the first two are the Keras intro's line detectors."""


@dataclass(frozen=True)
class WindowArithmetic:
    """The sum behind one output pixel: window * kernel, element by element, then added up.

    Attributes:
        window: the 3x3 input values under the kernel (zeros where it hangs over the padding).
        kernel: the 3x3 kernel.
        products: `window * kernel`.
        total: the sum of `products`, i.e. the output pixel.
        padding_mask: True where a window cell is zero padding rather than image.
        top: input row of the window's top-left cell (negative inside the padding).
        left: input column of the window's top-left cell (negative inside the padding).
    """

    window: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    total: float
    padding_mask: np.ndarray
    top: int = 0
    left: int = 0

    def formula(self, digits: int = 3) -> str:
        """The sum written out, e.g. `(1 × 1) + (0.9 × 1) + … = 2.8`."""
        terms = [
            f"({_number(x, digits)} × {_number(k, digits)})"
            for x, k in zip(self.window.ravel(), self.kernel.ravel(), strict=True)
        ]
        return " + ".join(terms) + f" = {_number(self.total, digits)}"

    def latex(self, digits: int = 3) -> str:
        """window ⊙ kernel = products → sum, as KaTeX matrices; padding zeros in grey."""

        def number(value: float) -> str:
            return _number(value, digits).replace("−", "-")  # ASCII minus for KaTeX

        def matrix(values: np.ndarray, grey: np.ndarray | None = None) -> str:
            cells = [
                rf"\textcolor{{gray}}{{{number(v)}}}" if grey is not None and grey[r, c]
                else number(v)
                for (r, c), v in np.ndenumerate(values)
            ]  # fmt: skip
            width = values.shape[1]
            rows = [" & ".join(cells[k : k + width]) for k in range(0, len(cells), width)]
            return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"

        return (
            f"{matrix(self.window, self.padding_mask)} \\odot {matrix(self.kernel)} = "
            f"{matrix(self.products, self.padding_mask)} \\;\\rightarrow\\; \\Sigma = "
            f"{number(self.total)}"
        )


@dataclass(frozen=True)
class WorkedExample:
    """A window and kernel whose arithmetic the lab shows, with where it comes from."""

    title: str
    window: np.ndarray
    kernel: np.ndarray
    note: str

    def arithmetic(self) -> WindowArithmetic:
        return window_products(self.window, self.kernel)


WORKED_EXAMPLES: dict[str, WorkedExample] = {
    "2.8": WorkedExample(
        title="The Keras intro's first worked example, 2.8 (our own window: bright row over dark)",
        window=_frozen([[1.0, 0.9, 1.0], [0.5, 0.4, 0.6], [0.0, 0.1, 0.0]]),
        kernel=PRESETS["Horizontal lines (Keras intro)"],
        note=(
            "The Keras intro's first worked example comes to 2.8. This window is our own "
            "illustration that also comes to 2.8, not the intro's numbers: the top row adds up "
            "to 2.9, the bottom row to 0.1, and the filter takes one from the other."
        ),
    ),
    "0.3": WorkedExample(
        title="The Keras intro's second worked example: 0.3, not −0.1",
        window=_frozen([[-0.7, 0.6, 0.2], [0.1, 0.5, -0.3], [-0.3, -0.4, 0.5]]),
        kernel=PRESETS["Horizontal lines (Keras intro)"],
        note=(
            "The intro printed −0.1 for this window, but its own numbers give 0.3: the top row "
            "adds up to 0.1, the bottom row to −0.2, and 0.1 − (−0.2) = 0.3."
        ),
    ),
}
"""The Keras intro's worked examples, keyed by the value they really come to."""


def padding_amounts(n_in: int, f: int, stride: int, padding: str | int) -> tuple[int, int]:
    """Zeros added before and after one axis, as Keras/TensorFlow add them.

    `"same"` pads just enough for ceil(n_in / stride) outputs; when that total is odd (stride
    above 1, or an even kernel) the extra zero goes after, not before.

    Args:
        n_in: input length along the axis.
        f: kernel length along the axis.
        stride: step between windows.
        padding: `"same"`, `"valid"` (no padding) or a whole number of zeros on each side.
    """
    if isinstance(padding, int | np.integer) and not isinstance(padding, bool):
        most = min(max(n_in, f - 1), MAX_PADDING)
        if not 0 <= padding <= most:
            raise ValueError(
                f"padding must be a whole number from 0 to {most} (the image is {n_in} pixels "
                f"and the kernel {f} along this side), not {_short(padding)}; or use 'same' or "
                "'valid'."
            )
        return int(padding), int(padding)
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = max((math.ceil(n_in / stride) - 1) * stride + f - n_in, 0)
        return total // 2, total - total // 2
    raise ValueError(
        f"padding must be 'same', 'valid' or a whole number, not {_short(repr(padding))}."
    )


def output_size(
    n_in: int, f: int = KERNEL_SIZE, stride: int = 1, padding: str | int = "same"
) -> int:
    """Output length along one axis: ⌊(n_in + p_before + p_after − f) / stride⌋ + 1.

    With symmetric padding p this is the textbook ⌊(n_in + 2p − f) / s⌋ + 1; with `"same"` the
    padding of `padding_amounts` makes it ceil(n_in / s), and both are computed here the same
    way. A result of 0 or less means the kernel does not fit: there is no output.
    """
    _check_stride(stride)
    before, after = padding_amounts(n_in, f, stride, padding)
    return (n_in + before + after - f) // stride + 1


def output_size_formula(n_in: int, f: int = KERNEL_SIZE, stride: int = 1, padding="same") -> str:
    """`output_size` written out with the actual numbers, for the lab to show."""
    before, after = padding_amounts(n_in, f, stride, padding)
    n_out = output_size(n_in, f, stride, padding)
    pads = f"2·{before}" if before == after else f"{before} + {after}"
    text = f"n_out = ⌊({n_in} + {pads} − {f}) / {stride}⌋ + 1 = {n_out}"
    if padding == "same":
        text += f" = ⌈{n_in} / {stride}⌉"
    return text


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
    _check_stride(stride)
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


def window_products(window: np.ndarray, kernel: np.ndarray) -> WindowArithmetic:
    """The nine products and their sum for a window given by hand (worked examples)."""
    window = np.asarray(window, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if window.shape != kernel.shape:
        raise ValueError(f"window {window.shape} and kernel {kernel.shape} must match.")
    products = window * kernel
    return WindowArithmetic(
        window, kernel, products, float(products.sum()), np.zeros(window.shape, bool)
    )


def window_arithmetic(
    image2d: np.ndarray,
    kernel: np.ndarray,
    row: int,
    col: int,
    stride: int = 1,
    padding: str | int = "same",
) -> WindowArithmetic:
    """Show how output pixel (row, col) of `convolve(image2d, kernel, ...)` is computed.

    Args:
        image2d: (H, W) image, one channel.
        kernel: (kh, kw) weights.
        row: output row, from 0.
        col: output column, from 0.
        stride: as in `convolve`.
        padding: as in `convolve`.

    Returns:
        The window under the kernel (padding cells are 0 and flagged in `padding_mask`), the
        products and their sum, which equals `convolve(...)[row, col]`.

    Raises:
        IndexError: (row, col) is outside the output.
    """
    image2d = np.asarray(image2d, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if image2d.ndim != 2:
        raise ValueError(f"image2d must be (H, W), not shape {image2d.shape}.")
    (height, width), (kh, kw) = image2d.shape, kernel.shape
    out_h = output_size(height, kh, stride, padding)
    out_w = output_size(width, kw, stride, padding)
    if not (0 <= row < out_h and 0 <= col < out_w):
        raise IndexError(f"output pixel ({row}, {col}) is outside the {out_h}x{out_w} output.")
    top = row * stride - padding_amounts(height, kh, stride, padding)[0]
    left = col * stride - padding_amounts(width, kw, stride, padding)[0]
    rows, cols = np.arange(top, top + kh)[:, None], np.arange(left, left + kw)[None, :]
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    window = np.where(inside, image2d[rows.clip(0, height - 1), cols.clip(0, width - 1)], 0.0)
    products = window * kernel
    return WindowArithmetic(window, kernel, products, float(products.sum()), ~inside, top, left)


def normalise(kernel: np.ndarray) -> np.ndarray:
    """Scale a kernel so that filtering keeps the image's brightness range.

    If the weights do not sum to ~0 (blur, sharpen, identity), divide by their sum: the weights
    then sum to 1 and a flat region keeps its value. A kernel whose weights sum to a negative
    number is flipped in sign by this, which is what makes its weights sum to 1.
    If they sum to ~0 (edge detectors), no scaling can make them sum to 1, so divide by the sum
    of absolute values instead: an output can then never exceed the largest input magnitude
    (for images in [0, 1], it stays within [−1, 1]). An all-zero kernel is returned unchanged.
    """
    weights = np.asarray(kernel, dtype=np.float64)
    total = weights.sum()
    scale = np.abs(weights).sum()
    if scale == 0:
        return weights.copy()
    if abs(total) > 1e-9 * scale:
        return weights / total
    return weights / scale


def parse_kernel(table) -> np.ndarray:
    """Read a 3x3 kernel typed by a person; every cell must be a number within ±100.

    A cell may be a number or text such as `"-0.5"`, `"1e-2"` or `"1/9"`.

    Args:
        table: a 3x3 DataFrame (e.g. from `st.data_editor`), array or list of lists.

    Returns:
        (3, 3) float64 array.

    Raises:
        KernelError: the table is not 3x3, or a cell is empty, not a number, NaN, infinite or
            beyond ±100. The message names the cell as (row, column), counted from 1.
    """
    cells = table.to_numpy(dtype=object) if isinstance(table, pd.DataFrame) else table
    try:
        cells = np.array(cells, dtype=object)
    except ValueError as error:  # ragged lists
        raise KernelError(f"the kernel must be a 3x3 table of numbers ({error}).") from error
    if cells.shape != (KERNEL_SIZE, KERNEL_SIZE):
        raise KernelError(f"the kernel must be a 3x3 table of numbers, not shape {cells.shape}.")
    kernel = np.empty(cells.shape)
    for (r, c), cell in np.ndenumerate(cells):
        kernel[r, c] = _parse_cell(cell, f"Kernel cell (row {r + 1}, column {c + 1})")
    return kernel


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


def kernel_table(kernel: np.ndarray) -> pd.DataFrame:
    """A kernel as the 3x3 float table the lab's editor shows (columns "1", "2", "3")."""
    weights = np.asarray(kernel, dtype=np.float64)
    labels = [str(k + 1) for k in range(weights.shape[1])]
    return pd.DataFrame(weights, columns=labels, index=[str(k + 1) for k in range(len(weights))])


# What people type for a minus sign besides "-": the minus sign, dashes, small and full-width
# hyphen-minus.
_MINUS_SIGNS = str.maketrans(dict.fromkeys("\u2212\u2012\u2013\u2014\ufe63\uff0d", "-"))


def _parse_cell(cell, where: str) -> float:
    if cell is None or cell is pd.NA or cell is pd.NaT:
        raise KernelError(f"{where} is empty. Enter a number between −100 and 100.")
    if isinstance(cell, bool | np.bool_):
        raise KernelError(f"{where} is {cell}, which is not a number. Enter a number.")
    exact = isinstance(cell, Real | np.integer) and not isinstance(cell, float | np.floating)
    if exact and abs(cell) > MAX_ABS_WEIGHT:
        # Ints and Fractions compare exactly; float() of a 400-digit one raises OverflowError
        # and str() of a 5,000-digit int ValueError, so say how big it is instead.
        try:
            shown = f"{float(cell):g}"
        except OverflowError:
            shown = f"a {int(abs(cell)).bit_length() * 0.30103:,.0f}-digit number"
        raise KernelError(
            f"{where} is {shown}, beyond ±{MAX_ABS_WEIGHT:g}. Enter a number within ±100."
        )
    if isinstance(cell, str):
        value = _parse_text(cell, where)
    elif isinstance(cell, Real | np.integer | np.floating):
        try:
            value = float(cell)
        except (OverflowError, ValueError, TypeError):  # an odd Real type
            raise KernelError(
                f"{where} is {_short(repr(cell))}, which is not a usable number. Enter a number."
            ) from None
    else:
        raise KernelError(
            f"{where} is {_short(repr(cell))}, which is not a number. Enter a number."
        )
    if math.isnan(value):
        raise KernelError(
            f"{where} is empty or not a number (NaN). Enter a number between −100 and 100."
        )
    if math.isinf(value):
        shown = _short(cell.strip()) if isinstance(cell, str) else value
        raise KernelError(f"{where} is {shown}, which is infinite. Enter a number within ±100.")
    if abs(value) > MAX_ABS_WEIGHT:
        raise KernelError(
            f"{where} is {value:g}, beyond ±{MAX_ABS_WEIGHT:g}. Enter a number within ±100."
        )
    return value


def _parse_text(text: str, where: str) -> float:
    """A number as a person types it: "0.5", ".25", "-2", "1e-2", "1/9", "−1", "0,5"."""
    if len(text) > MAX_CELL_CHARACTERS:
        raise KernelError(
            f"{where} is {len(text):,} characters long ({_short(repr(text))}), too long to be a "
            "weight. Enter a number between −100 and 100, such as 0.5, -2 or 1/9."
        )
    cleaned = text.strip().translate(_MINUS_SIGNS).replace(" ", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")  # a decimal comma
    if not cleaned:
        raise KernelError(f"{where} is empty. Enter a number between −100 and 100.")
    try:
        return float(cleaned)
    except ValueError:
        pass
    try:
        fraction = Fraction(cleaned)
    except (ValueError, ZeroDivisionError, OverflowError):
        raise KernelError(
            f"{where} is {_short(repr(text))}, which is not a number. Enter a number such as "
            "0.5, -2 or 1/9."
        ) from None
    if abs(fraction) > MAX_ABS_WEIGHT:
        # Compared as a fraction: float() of a 400-digit one raises OverflowError.
        sign = "−" if fraction < 0 else ""
        raise KernelError(
            f"{where} is {sign}{_short(cleaned.lstrip('-'))}, beyond ±{MAX_ABS_WEIGHT:g}. "
            "Enter a number within ±100."
        )
    return float(fraction)


def _short(value, limit: int = 24) -> str:
    """`value` as text, cut to `limit` characters: messages never echo a whole paste."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_stride(stride: int) -> None:
    if isinstance(stride, bool) or not isinstance(stride, int | np.integer) or stride < 1:
        raise ValueError(f"stride must be a whole number of at least 1, not {stride!r}.")


def _number(value: float, digits: int) -> str:
    text = f"{round(float(value), digits):g}"
    return "0" if text == "-0" else text.replace("-", "−")
