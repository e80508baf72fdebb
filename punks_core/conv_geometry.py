"""The sizes of a strided, padded convolution, as Keras and TensorFlow compute them.

`padding_amounts` gives the zeros added before and after one axis (`"same"` puts the odd one
after), `output_size` the output length that follows, and `output_size_formula` the same sum
written out for the Convolution Lab. `PADDINGS` and `STRIDES` are the choices the lab offers.
"""

import math

import numpy as np

from punks_core.kernels import KERNEL_SIZE, short_text

# Zeros added on each side: beyond the image (or beyond the kernel's "full" padding) they only
# add rows of zeros, and a huge number would try to allocate gigabytes before failing.
MAX_PADDING = 256
PADDINGS = ("same", "valid")
STRIDES = (1, 2, 3)


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
                f"and the kernel {f} along this side), not {short_text(padding)}; or use 'same' or "
                "'valid'."
            )
        return int(padding), int(padding)
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = max((math.ceil(n_in / stride) - 1) * stride + f - n_in, 0)
        return total // 2, total - total // 2
    raise ValueError(
        f"padding must be 'same', 'valid' or a whole number, not {short_text(repr(padding))}."
    )


def output_size(
    n_in: int, f: int = KERNEL_SIZE, stride: int = 1, padding: str | int = "same"
) -> int:
    """Output length along one axis: ⌊(n_in + p_before + p_after − f) / stride⌋ + 1.

    With symmetric padding p this is the textbook ⌊(n_in + 2p − f) / s⌋ + 1; with `"same"` the
    padding of `padding_amounts` makes it ceil(n_in / s), and both are computed here the same
    way. A result of 0 or less means the kernel does not fit: there is no output.
    """
    check_stride(stride)
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


def check_stride(stride: int) -> None:
    """Raise ValueError unless `stride` is a whole number of at least 1."""
    if isinstance(stride, bool) or not isinstance(stride, int | np.integer) or stride < 1:
        raise ValueError(f"stride must be a whole number of at least 1, not {stride!r}.")
