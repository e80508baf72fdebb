"""3x3 kernels as a person types and picks them: parsing, presets, normalising, the table.

`parse_kernel` reads a kernel typed in the Convolution Lab's editor (`"1/9"`, `"-0.5"`, `".25"`,
`"1e-1"`, a decimal comma, a typographic minus) and raises `KernelError` naming the cell when a
cell is not a number within ±100. `PRESETS` are named kernels (the Keras intro's line detectors
first), `normalise` scales a kernel to keep the image's brightness range, and `kernel_table` is
the table the lab's editor shows. `short_text` trims what a message echoes back (here and in
`conv_geometry`).
"""

import math
from fractions import Fraction
from numbers import Real

import numpy as np
import pandas as pd

from punks_core.errors import KernelError

KERNEL_SIZE = 3
MAX_ABS_WEIGHT = 100.0
# A kernel cell longer than this is not something a person typed as a weight; its text is not
# parsed (a million-digit number takes seconds) and only its start is echoed back.
MAX_CELL_CHARACTERS = 64

_HORIZONTAL = [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]


def read_only(rows) -> np.ndarray:
    """`rows` as a float64 array that cannot be changed (presets are shared)."""
    array = np.array(rows, dtype=np.float64)
    array.setflags(write=False)
    return array


PRESETS: dict[str, np.ndarray] = {
    "Horizontal lines (Keras intro)": read_only(_HORIZONTAL),
    "Vertical lines (Keras intro)": read_only(np.transpose(_HORIZONTAL)),
    "Sobel x": read_only([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "Sobel y": read_only([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "Outline (Laplacian)": read_only([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "Sharpen": read_only([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "Box blur": read_only(np.full((3, 3), 1 / 9)),
    "Emboss": read_only([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
    "Identity": read_only([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
}
"""Named 3x3 kernels; the first two are the Keras intro's line detectors."""


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
                f"{where} is {short_text(repr(cell))}, which is not a usable number. "
                "Enter a number."
            ) from None
    else:
        raise KernelError(
            f"{where} is {short_text(repr(cell))}, which is not a number. Enter a number."
        )
    if math.isnan(value):
        raise KernelError(
            f"{where} is empty or not a number (NaN). Enter a number between −100 and 100."
        )
    if math.isinf(value):
        shown = short_text(cell.strip()) if isinstance(cell, str) else value
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
            f"{where} is {len(text):,} characters long ({short_text(repr(text))}), too long to "
            "be a weight. Enter a number between −100 and 100, such as 0.5, -2 or 1/9."
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
            f"{where} is {short_text(repr(text))}, which is not a number. Enter a number such as "
            "0.5, -2 or 1/9."
        ) from None
    if abs(fraction) > MAX_ABS_WEIGHT:
        # Compared as a fraction: float() of a 400-digit one raises OverflowError.
        sign = "−" if fraction < 0 else ""
        raise KernelError(
            f"{where} is {sign}{short_text(cleaned.lstrip('-'))}, beyond ±{MAX_ABS_WEIGHT:g}. "
            "Enter a number within ±100."
        )
    return float(fraction)


def short_text(value, limit: int = 24) -> str:
    """`value` as text, cut to `limit` characters: messages never echo a whole paste."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
