"""Fuzzing with hypothesis: odd uploads and odd kernel text give a result or the project's own
error, never another exception, and never take long (a 2 s deadline per example catches hangs;
a normal call takes milliseconds)."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from punks_core.errors import InvalidImageError, KernelError
from punks_core.filters import parse_kernel
from punks_core.imaging import load_image, load_picture

from .test_imaging_upload import BLUE, encode

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


cells = (
    st.text(max_size=12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(-(10**30), 10**30)
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
