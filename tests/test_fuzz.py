"""Fuzzing with hypothesis: odd uploads and odd kernel text give a result or the project's own
error, never another exception, and never take long (a 2 s deadline per example catches hangs;
a normal call takes milliseconds). Lossy re-encodings of any punk give that exact punk or a
refusal, never other pixels."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from punks_core.errors import InvalidImageError, KernelError
from punks_core.filters import convolve
from punks_core.imaging import composite, load_image, load_picture
from punks_core.kernels import parse_kernel

from .test_imaging_upload import BLUE, encode, save

FUZZ = settings(
    max_examples=60,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")


@pytest.fixture(scope="module")
def seeds(punks) -> list[bytes]:
    """Valid encodings of a test punk, one per format and two sizes: the mutation seeds."""
    return [
        encode(punks.images[9003], size=size, background=BLUE if fmt != "PNG" else None, fmt=fmt)
        for fmt in FORMATS
        for size in (24, 100)
    ]


def outcome(loader, data: bytes) -> None:
    try:
        image = loader(data)
    except InvalidImageError as error:
        assert str(error)  # a message a person can read
        return
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] in (3, 4)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes(data):
    outcome(load_image, data)
    outcome(load_picture, data)


@FUZZ
@given(
    choice=st.integers(0, 9),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=12),
    cut=st.none() | st.floats(0, 1),
    insert=st.binary(max_size=64),
)
def test_mutated_images(seeds, choice, edits, cut, insert):
    data = bytearray(seeds[choice])
    for where, value in edits:
        data[int(where * len(data))] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    middle = len(data) // 2
    data[middle:middle] = insert
    outcome(load_image, bytes(data))


number_text = st.text(alphabet="0123456789/.,-+e−– ", max_size=80)
cells = (
    st.text(max_size=12)
    | number_text
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(-(10**30), 10**30)
    | st.integers(-(10**600), 10**600)
    | st.fractions(max_denominator=10**500)
    | st.none()
    | st.booleans()
)


three_by_three = st.lists(st.lists(cells, min_size=3, max_size=3), min_size=3, max_size=3)
any_shape = st.lists(st.lists(cells, max_size=4), max_size=4)


@FUZZ
@given(table=three_by_three | any_shape)
def test_kernel_text(table):
    rectangular = table and len({len(row) for row in table}) == 1
    for candidate in (table, pd.DataFrame(table) if rectangular else table):
        try:
            kernel = parse_kernel(candidate)
        except KernelError as error:
            assert str(error)
            continue
        assert kernel.shape == (3, 3) and np.isfinite(kernel).all()
        assert np.abs(kernel).max() <= 100


@FUZZ
@given(
    weights=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=9, max_size=9),
    padding=st.sampled_from(["same", "valid"]) | st.integers(-5, 10**12),
    stride=st.integers(1, 3),
)
def test_convolve_arguments(weights, padding, stride):
    """Bad weights or padding are a ValueError in words, never MemoryError or NaN output."""
    image = np.random.default_rng(0).random((24, 24, 3))
    try:
        output = convolve(image, np.reshape(weights, (3, 3)), stride, padding)
    except ValueError as error:
        assert str(error) and len(str(error)) < 300
        return
    assert np.isfinite(output).all()


def lossy_file(punk: np.ndarray, fmt: str, quality: int, scale: int, background: str) -> bytes:
    image = Image.fromarray(composite(punk[None], background)[0], "RGB")
    image = image.resize((24 * scale, 24 * scale), Image.Resampling.NEAREST)
    return save(image, fmt, quality=quality)


@settings(FUZZ, max_examples=40)
@given(
    punk_id=st.integers(0, 9999),
    fmt=st.sampled_from(["JPEG", "WEBP"]),
    quality=st.integers(30, 95),
    scale=st.sampled_from([1, 2, 3, 5, 8]),
    background=st.sampled_from([BLUE, "#ffffff", "#2c7f3a", "#e08a1e"]),
)
def test_lossy_uploads_are_the_punk_or_refused(punks, punk_id, fmt, quality, scale, background):
    punk = punks.images[punk_id]
    try:
        decoded = load_image(lossy_file(punk, fmt, quality, scale, background))
    except InvalidImageError as error:
        assert "upload" in str(error)
        return
    np.testing.assert_array_equal(decoded, punk)
