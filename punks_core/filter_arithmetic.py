"""One output pixel's arithmetic, for teaching: window times kernel, added up.

`window_arithmetic` opens up output pixel (row, col) of `filters.convolve`: the input window
under the kernel (zero padding flagged), the nine products and their sum, which equals the
output pixel. `WindowArithmetic` writes the sum out as text or KaTeX; `WORKED_EXAMPLES` are the
Keras intro's two worked examples, keyed by the value they really come to.
"""

from dataclasses import dataclass

import numpy as np

from punks_core.conv_geometry import output_size, padding_amounts
from punks_core.kernels import PRESETS, read_only


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
        window=read_only([[1.0, 0.9, 1.0], [0.5, 0.4, 0.6], [0.0, 0.1, 0.0]]),
        kernel=PRESETS["Horizontal lines (Keras intro)"],
        note=(
            "The Keras intro's first worked example comes to 2.8. This window is our own "
            "illustration that also comes to 2.8, not the intro's numbers: the top row adds up "
            "to 2.9, the bottom row to 0.1, and the filter takes one from the other."
        ),
    ),
    "0.3": WorkedExample(
        title="The Keras intro's second worked example: 0.3, not −0.1",
        window=read_only([[-0.7, 0.6, 0.2], [0.1, 0.5, -0.3], [-0.3, -0.4, 0.5]]),
        kernel=PRESETS["Horizontal lines (Keras intro)"],
        note=(
            "The intro printed −0.1 for this window, but its own numbers give 0.3: the top row "
            "adds up to 0.1, the bottom row to −0.2, and 0.1 − (−0.2) = 0.3."
        ),
    ),
}
"""The Keras intro's worked examples, keyed by the value they really come to."""


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


def _number(value: float, digits: int) -> str:
    text = f"{round(float(value), digits):g}"
    return "0" if text == "-0" else text.replace("-", "−")
