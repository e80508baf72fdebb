"""punks_core.filters against TensorFlow's own conv2d, hand sums and the Keras intro's examples."""

import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from punks_core.display_pooling import shrink_for_display
from punks_core.errors import KernelError, PunksError
from punks_core.filter_arithmetic import WORKED_EXAMPLES, window_arithmetic, window_products
from punks_core.filters import (
    convolve,
    output_size,
    output_size_formula,
    padding_amounts,
    relu,
    to_grayscale,
    to_rgb,
)
from punks_core.kernels import PRESETS, kernel_table, normalise, parse_kernel

HORIZONTAL = PRESETS["Horizontal lines (Keras intro)"]


def tf_conv(image: np.ndarray, kernel: np.ndarray, stride: int, padding: str) -> np.ndarray:
    """One filter per channel (depthwise), in float64, by TensorFlow itself."""
    tf = pytest.importorskip("tensorflow")
    planes = image[..., None] if image.ndim == 2 else image
    outputs = []
    for c in range(planes.shape[2]):
        x = tf.constant(planes[None, :, :, c, None])
        w = tf.constant(kernel[:, :, None, None])
        outputs.append(tf.nn.conv2d(x, w, strides=stride, padding=padding.upper())[0, :, :, 0])
    result = np.stack([o.numpy() for o in outputs], axis=-1)
    return result[..., 0] if image.ndim == 2 else result


@pytest.mark.parametrize("shape", [(24, 24), (7, 5), (10, 13, 3), (24, 24, 3), (4, 4)])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_convolve_matches_tensorflow(shape, stride, padding):
    rng = np.random.default_rng(hash((shape, stride, padding)) % 2**32)
    image = rng.uniform(-1, 1, shape)
    kernel = rng.uniform(-2, 2, (3, 3))
    ours = convolve(image, kernel, stride, padding)
    theirs = tf_conv(image, kernel, stride, padding)
    assert ours.shape == theirs.shape
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_convolve_matches_tensorflow_with_an_even_kernel(stride):
    rng = np.random.default_rng(stride)
    image, kernel = rng.uniform(size=(9, 8)), rng.uniform(-1, 1, (2, 4))
    np.testing.assert_allclose(
        convolve(image, kernel, stride, "same"), tf_conv(image, kernel, stride, "same"), atol=1e-5
    )


def test_convolve_by_hand():
    image = np.arange(16.0).reshape(4, 4)
    kernel = np.zeros((3, 3))
    kernel[0, 0] = 1  # cross-correlation: output (r, c) reads input (r - 1, c - 1) in "same"
    same = convolve(image, kernel)
    assert same[0, 0] == 0 and same[1, 1] == image[0, 0] and same[3, 3] == image[2, 2]
    valid = convolve(image, np.ones((3, 3)), padding="valid")
    assert valid.tolist() == [[45.0, 54.0], [81.0, 90.0]]


def test_convolve_by_hand_strided_same():
    image = np.arange(16.0).reshape(4, 4)
    # pad_total = (2 - 1) * 2 + 3 - 4 = 1 -> 0 before, 1 after: windows start at 0 and 2.
    assert padding_amounts(4, 3, 2, "same") == (0, 1)
    strided = convolve(image, np.ones((3, 3)), stride=2)
    top_left = image[0:3, 0:3].sum()
    top_right = image[0:3, 2:4].sum()
    bottom_left = image[2:4, 0:3].sum()
    bottom_right = image[2:4, 2:4].sum()
    assert strided.tolist() == [[top_left, top_right], [bottom_left, bottom_right]]


def test_convolve_colour_filters_each_channel_alone():
    rng = np.random.default_rng(1)
    image = rng.uniform(size=(6, 5, 3))
    out = convolve(image, PRESETS["Sobel x"], stride=2, padding="valid")
    assert out.shape == (2, 2, 3)
    for c in range(3):
        np.testing.assert_array_equal(
            out[..., c], convolve(image[..., c], PRESETS["Sobel x"], 2, "valid")
        )


def test_identity_and_horizontal_lines_on_a_punk(punks):
    gray = to_grayscale(punks.images[0])
    np.testing.assert_array_equal(convolve(gray, PRESETS["Identity"]), gray)
    lines = convolve(gray, HORIZONTAL)
    # A uniform row band gives 0 in the middle of a flat region, sign flips across an edge.
    assert lines.shape == (24, 24) and (lines > 0).any() and (lines < 0).any()


@pytest.mark.parametrize(
    ("image", "kernel", "stride", "padding", "message"),
    [
        (np.zeros((2, 2)), np.ones((3, 3)), 1, "valid", "does not fit"),
        (np.zeros((4, 4, 3, 1)), np.ones((3, 3)), 1, "same", "image must be"),
        (np.zeros((4, 4)), np.ones(3), 1, "same", "kernel must be"),
        (np.zeros((4, 4)), np.ones((3, 3)), 0, "same", "stride"),
        (np.zeros((4, 4)), np.ones((3, 3)), 1, "full", "padding"),
    ],
)
def test_convolve_rejects_nonsense(image, kernel, stride, padding, message):
    with pytest.raises(ValueError, match=message):
        convolve(image, kernel, stride, padding)


@pytest.mark.parametrize("key", ["2.8", "0.3"])
def test_worked_examples(key):
    example = WORKED_EXAMPLES[key]
    arithmetic = example.arithmetic()
    assert arithmetic.total == pytest.approx(float(key), abs=1e-12)
    assert arithmetic.formula().endswith(f"= {key}")
    np.testing.assert_array_equal(example.kernel, HORIZONTAL)
    # The same window convolved in "valid" mode gives the same single output pixel.
    assert convolve(example.window, example.kernel, padding="valid")[0, 0] == pytest.approx(
        float(key)
    )


def test_the_intros_second_example_is_not_minus_0_1():
    example = WORKED_EXAMPLES["0.3"]
    top, bottom = example.window[0].sum(), example.window[2].sum()
    assert (top, bottom) == (pytest.approx(0.1), pytest.approx(-0.2))
    assert example.arithmetic().total != pytest.approx(-0.1)
    assert "−0.1" in example.note and "0.3" in example.note


def test_the_2_8_window_is_labelled_as_ours():
    assert "our own illustration" in WORKED_EXAMPLES["2.8"].note


def test_presets_are_read_only_and_the_intros_pair_are_transposes():
    np.testing.assert_array_equal(PRESETS["Vertical lines (Keras intro)"], HORIZONTAL.T)
    assert HORIZONTAL.tolist() == [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]
    for kernel in PRESETS.values():
        assert kernel.shape == (3, 3) and not kernel.flags.writeable
    assert PRESETS["Box blur"].sum() == pytest.approx(1)


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["same", "valid", 0, 1, 2])
@pytest.mark.parametrize("n_in", [1, 3, 4, 24, 25, 1024])
def test_output_size_matches_convolve_and_formula(n_in, stride, padding):
    f = 3
    n_out = output_size(n_in, f, stride, padding)
    if padding == "same":
        assert n_out == math.ceil(n_in / stride)
    else:
        p = 0 if padding == "valid" else padding
        assert n_out == (n_in + 2 * p - f) // stride + 1
    if n_out > 0:
        out = convolve(np.zeros((n_in, 2)), np.zeros((3, 1)), stride, padding)
        assert out.shape[0] == n_out


def test_output_size_formula_shows_the_numbers():
    assert (
        output_size_formula(24, 3, 1, "same") == "n_out = ⌊(24 + 2·1 − 3) / 1⌋ + 1 = 24 = ⌈24 / 1⌉"
    )
    assert (
        output_size_formula(24, 3, 2, "same")
        == "n_out = ⌊(24 + 0 + 1 − 3) / 2⌋ + 1 = 12 = ⌈24 / 2⌉"
    )
    assert output_size_formula(24, 3, 3, "valid") == "n_out = ⌊(24 + 2·0 − 3) / 3⌋ + 1 = 8"


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_window_arithmetic_equals_convolve(stride, padding):
    rng = np.random.default_rng(7)
    image, kernel = rng.uniform(size=(8, 7)), rng.uniform(-1, 1, (3, 3))
    out = convolve(image, kernel, stride, padding)
    for (row, col), value in np.ndenumerate(out):
        arithmetic = window_arithmetic(image, kernel, row, col, stride, padding)
        assert arithmetic.total == pytest.approx(value, abs=1e-12)
        np.testing.assert_array_equal(arithmetic.products, arithmetic.window * kernel)


def test_window_arithmetic_shows_the_padding():
    image = np.arange(1.0, 17.0).reshape(4, 4)
    corner = window_arithmetic(image, np.ones((3, 3)), 0, 0)
    assert corner.window.tolist() == [[0, 0, 0], [0, 1, 2], [0, 5, 6]]
    assert corner.padding_mask.tolist() == [[True] * 3, [True, False, False], [True, False, False]]
    assert (corner.top, corner.left) == (-1, -1)
    assert corner.total == 14
    with pytest.raises(IndexError):
        window_arithmetic(image, np.ones((3, 3)), 4, 0)
    with pytest.raises(IndexError):
        window_arithmetic(image, np.ones((3, 3)), 0, 2, padding="valid")


def test_window_products_needs_matching_shapes():
    with pytest.raises(ValueError):
        window_products(np.zeros((3, 3)), np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("bad", "shown"),
    [("abc", "'abc'"), (float("nan"), "NaN"), ("nan", "NaN"), (float("inf"), "inf"),
     ("-inf", "-inf"), (101, "101"), (-101, "-101"), ("", "empty"), (None, "empty"),
     (True, "True"), ("1/0", "'1/0'")],
)  # fmt: skip
def test_parse_kernel_names_the_bad_cell(bad, shown):
    table = kernel_table(HORIZONTAL).astype(object)
    table.iloc[1, 2] = bad
    with pytest.raises(KernelError, match=r"row 2, column 3") as caught:
        parse_kernel(table)
    assert shown in str(caught.value)
    assert isinstance(caught.value, PunksError) and isinstance(caught.value, ValueError)


def test_parse_kernel_accepts_numbers_and_numeric_text():
    cells = [[1, "0.5", " -2 "], ["1/9", "1e-2", "−1"], [100, -100.0, np.float32(0.25)]]
    kernel = parse_kernel(cells)
    assert kernel.dtype == np.float64
    np.testing.assert_allclose(
        kernel, [[1, 0.5, -2], [1 / 9, 0.01, -1], [100, -100, 0.25]], rtol=0, atol=1e-12
    )
    np.testing.assert_array_equal(
        parse_kernel(kernel_table(PRESETS["Sobel y"])), PRESETS["Sobel y"]
    )


@pytest.mark.parametrize("table", [np.zeros((2, 3)), [[1, 2, 3], [4, 5]], np.zeros((3, 3, 1))])
def test_parse_kernel_needs_3x3(table):
    with pytest.raises(KernelError, match="3x3"):
        parse_kernel(table)


def test_normalise():
    np.testing.assert_allclose(normalise(np.ones((3, 3))), np.full((3, 3), 1 / 9))
    np.testing.assert_allclose(normalise(PRESETS["Sharpen"]), PRESETS["Sharpen"])  # sums to 1
    assert normalise(np.full((3, 3), 2.0)).sum() == pytest.approx(1)
    negative = -np.eye(3)
    assert normalise(negative).sum() == pytest.approx(1)  # divided by the (negative) sum
    sobel = normalise(PRESETS["Sobel x"])  # sums to 0: divided by the sum of |weights| = 8
    np.testing.assert_allclose(sobel, PRESETS["Sobel x"] / 8)
    assert np.abs(sobel).sum() == pytest.approx(1)
    np.testing.assert_array_equal(normalise(np.zeros((3, 3))), np.zeros((3, 3)))
    assert normalise(HORIZONTAL).tolist() == (HORIZONTAL / 6).tolist()


def test_to_grayscale_composites_on_black(punks):
    rgba = np.array([[[255, 255, 255, 255], [255, 255, 255, 0], [255, 0, 0, 255]]], np.uint8)
    assert to_grayscale(rgba).tolist() == [[pytest.approx(1.0), 0.0, pytest.approx(0.299)]]
    smoke = np.array([[[0xDD, 0xDD, 0xDD, 128]]], np.uint8)
    assert to_grayscale(smoke)[0, 0] == pytest.approx(0xDD / 255 * 128 / 255)
    gray = to_grayscale(punks.images[1])
    assert gray.shape == (24, 24) and gray.min() >= 0 and gray.max() <= 1
    assert gray[0, 0] == 0  # the transparent background is black, like the zero padding
    assert to_grayscale(np.full((2, 2), 255, np.uint8)).tolist() == [[1.0, 1.0], [1.0, 1.0]]
    rgb = to_rgb(rgba[..., :3])
    assert rgb.shape == (1, 3, 3) and rgb[0, 1].tolist() == [1.0, 1.0, 1.0]


def test_relu():
    assert relu(np.array([-1.5, 0.0, 2.0])).tolist() == [0.0, 0.0, 2.0]


def test_filters_never_imports_tensorflow():
    code = "import sys, punks_core.filters; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_kernel_table_round_trip():
    table = kernel_table(PRESETS["Emboss"])
    assert isinstance(table, pd.DataFrame) and list(table.columns) == ["1", "2", "3"]
    np.testing.assert_array_equal(parse_kernel(table), PRESETS["Emboss"])


def test_shrink_for_display_keeps_signed_extremes_max_or_mean():
    values = np.zeros((10, 10))
    values[1, 1], values[2, 2] = 0.5, -0.9  # one block: the stronger, negative value wins
    values[4, 7] = 0.3
    absmax, factor = shrink_for_display(values, max_side=4)
    assert factor == 3 and absmax.shape == (4, 4)
    assert absmax[0, 0] == -0.9 and absmax[1, 2] == 0.3 and absmax[3, 3] == 0
    assert shrink_for_display(values, max_side=4, keep="max")[0][0, 0] == 0.5
    mean = shrink_for_display(values, max_side=4, keep="mean")[0]
    assert mean[0, 0] == pytest.approx((0.5 - 0.9) / 9)
    colour = np.random.default_rng(0).uniform(size=(1024, 1000, 3))
    pooled, factor = shrink_for_display(colour)
    assert factor == 4 and pooled.shape == (256, 250, 3)
    assert pooled[5, 7, 1] == colour[20:24, 28:32, 1].max()  # uniform > 0: absmax is the max
    small = np.ones((24, 24))
    same, factor = shrink_for_display(small)
    assert same is small and factor == 1
    with pytest.raises(ValueError):
        shrink_for_display(colour, keep="median")


def test_arithmetic_as_latex_greys_the_padding():
    corner = window_arithmetic(np.arange(1.0, 17.0).reshape(4, 4), -np.ones((3, 3)), 0, 0)
    latex = corner.latex()
    assert latex.count(r"\begin{bmatrix}") == 3 and latex.endswith(r"\Sigma = -14")
    assert latex.count(r"\textcolor{gray}{0}") == 10  # 5 padding cells, in window and products
    assert "−" not in latex  # KaTeX gets ASCII minus signs
    assert WORKED_EXAMPLES["0.3"].arithmetic().latex().endswith(r"\Sigma = 0.3")


# --- Hostile kernel text and arguments (issue 19) -------------------------------------------


@pytest.mark.parametrize(
    ("typed", "value"),
    [("1/9", 1 / 9), ("-0.5", -0.5), (".25", 0.25), ("1e-1", 0.1), ("−1", -1.0),
     ("– 2", -2.0), ("0,5", 0.5), ("1 / 4", 0.25), ("+3", 3.0), ("１/９", 1 / 9),
     ("1/" + "7" * 60, 1 / int("7" * 60))],
)  # fmt: skip
def test_parse_kernel_reads_what_people_type(typed, value):
    table = kernel_table(HORIZONTAL).astype(object)
    table.iloc[0, 0] = typed
    assert parse_kernel(table)[0, 0] == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize(
    ("bad", "shown"),
    [("1" * 400 + "/" + "3" * 399, "800 characters long"),  # OverflowError before the fix
     (10**400, "400-digit number"), (-(10**5000), "5,000-digit number"),
     ("9" * 1_000_000, "1,000,000 characters long"), ("1e400", "1e400, which is infinite"),
     ("9" * 60 + "/7", "beyond ±100"), (np.int64(2**62), "beyond ±100"), (3 + 4j, "not a number"),
     ("9" * 64, "beyond ±100"), (Fraction(10**400, 3), "400-digit number"),
     (Fraction(-(10**5), 7), "beyond ±100")],
    ids=["400-digit fraction", "400-digit int", "5000-digit int", "million digits", "1e400",
         "big fraction", "int64", "complex", "64 nines", "huge Fraction", "Fraction"],
)  # fmt: skip
def test_hostile_kernel_cells_give_a_short_kernel_error(bad, shown):
    table = [[0, 0, 0], [0, bad, 0], [0, 0, 0]]
    with pytest.raises(KernelError) as caught:
        parse_kernel(table)
    message = str(caught.value)
    assert shown in message and "row 2, column 2" in message
    assert len(message) < 200


@pytest.mark.parametrize("weight", [np.nan, np.inf, -np.inf])
def test_convolve_refuses_non_finite_kernels(weight):
    kernel = np.ones((3, 3))
    kernel[1, 2] = weight
    with pytest.raises(ValueError, match=r"\(row 2, column 3\).*not a finite number"):
        convolve(np.zeros((8, 8)), kernel)
    with pytest.raises(ValueError, match="NaN or infinite"):
        convolve(np.full((8, 8), weight), np.ones((3, 3)))


@pytest.mark.parametrize("padding", [10**9, 2**40, 25, 257, -1])
def test_convolve_refuses_absurd_padding_before_allocating(padding):
    """10**9 zeros a side raised MemoryError; now a message with the range that works."""
    with pytest.raises(ValueError, match="padding must be a whole number from 0 to 24"):
        convolve(np.zeros((24, 24, 3)), np.ones((3, 3)), padding=padding)
    with pytest.raises(ValueError, match="padding must be"):
        window_arithmetic(np.zeros((24, 24)), np.ones((3, 3)), 0, 0, padding=padding)


def test_padding_up_to_the_image_side_still_works():
    assert convolve(np.zeros((24, 24)), np.ones((3, 3)), padding=24).shape == (70, 70)
    # "Full" padding (kernel side - 1) is allowed even on a one-pixel image.
    assert convolve(np.zeros((1, 1)), np.ones((3, 3)), padding=2).shape == (3, 3)
    with pytest.raises(ValueError, match="from 0 to 256"):
        convolve(np.zeros((1000, 10)), np.ones((3, 3)), padding=300)
