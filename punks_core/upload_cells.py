"""Reading an upload's 24x24 cells: one colour per cell, the background, grey or colour.

`read_cells` opens an upload (`upload_open.open_upload`), samples each cell on an 8x8 grid and
decides how the punk was enlarged (nearest neighbour or smooth), which gives each cell's colour;
it refuses a picture that is not pixel art on a 24x24 grid. `find_background` takes the
background from the cells that are background in every punk. What comes out, `Cells`, is what
`punks_core.upload` decodes into a punk.
"""

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image

from punks_core.dataset import PUNK_SIZE
from punks_core.errors import InvalidImageError
from punks_core.filters import LUMA  # PIL's "L" weights: grayscale uploads are decoded with them
from punks_core.palette import load_palette
from punks_core.upload_open import NOT_AN_IMAGE, open_upload

NOT_A_PUNK = "This does not look like a CryptoPunk: {why}."

# Transparent uploads are laid on this colour before decoding: it is at least 100 RGB levels from
# every punk colour, smoke over it included, so no punk pixel can be mistaken for background.
_TRANSPARENT_BACKDROP = np.array([0.0, 255.0, 255.0])
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})

# Each cell is sampled on an 8x8 grid spanning the middle 70% of its side (less at small scales,
# to stay inside the cell); the central 4x4 decides its colour when the upload was enlarged by
# nearest neighbour, clear of the seams JPEG blocks smear.
_SAMPLES = 8
_DETAIL_SIDE = 24 * 16
_CENTRE = slice(2, 6)

# Tolerances, set with margin over what JPEG (q75-95), WebP and bilinear re-encodings of test
# punks show (bench/bench_upload.py, tests/test_imaging_upload.py): a cell is flat when most of
# its samples lie within _FLAT_LEVELS of the 24x24 reconstruction, and a punk has few cells that
# are not.
_FLAT_LEVELS = 40.0
# A JPEG decoded at 1/2, 1/4 or 1/8 scale has averaged its pixels, which smooths noise into
# near-flat cells (an 1800x1800 noise JPEG passed at 40 levels): the flatness bound shrinks with
# the averaging, down to this floor (noise at 1/8 scale still spreads over about 9 levels).
_MIN_FLAT_LEVELS = 10.0
_MAX_NON_FLAT_SHARE = 0.10


@functools.cache
def _always_background() -> np.ndarray:
    """(24, 24) bool: the cells that are background in every punk (the whole top row, ...)."""
    return (load_palette().images[..., 3] == 0).all(axis=0)


@dataclass(frozen=True)
class Cells:
    """What was read from an upload."""

    colours: np.ndarray  # (24, 24, C): RGB, or one grey channel
    grey: bool
    format: str  # "PNG", "JPEG", ...
    size: tuple[int, int]  # width, height as stored
    paletted: bool = False  # stored as palette indices (mode "P": GIF, 8-bit PNG)


def _channels(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """The image as (H, W, C) values (RGB, or one grey channel), its alpha or None, and grey.

    Full resolution, never averaged: averaging turns noise into flat cells, which is what the
    flatness check must see through.
    """
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit grayscale: PIL's conversion to "L" clips at 255 instead of scaling.
        values = np.asarray(image, dtype=np.float32)
        values = values / 257 if values.max(initial=0) > 255 else values
        return np.clip(values, 0, 255)[..., None], None, True
    has_alpha = "A" in image.mode or "transparency" in image.info
    grey = image.mode in _GREY_MODES or (image.mode == "P" and _grey_palette(image))
    target = ("LA" if has_alpha else "L") if grey else ("RGBA" if has_alpha else "RGB")
    values = np.asarray(image.convert(target))
    if values.ndim == 2:
        values = values[..., None]
    if not has_alpha:
        return values, None, grey
    colour, alpha = values[..., :-1], values[..., -1]
    if not grey and _grey_pixels(colour, alpha):
        # Grey stored as RGBA (8-bit, WebP, 16-bit grey+alpha PNGs all open as RGBA): read it
        # as grey + alpha, as an "LA" file is, before its clear parts are laid on the
        # (coloured) backdrop, which would give it colours no punk pixel has.
        colour, grey = (colour @ LUMA.astype(np.float32))[..., None], True
    return colour, alpha, grey


def _grey_palette(image: Image.Image) -> bool:
    palette = image.getpalette() or [0, 0, 0]
    colours = np.asarray(palette, dtype=np.int16).reshape(-1, 3)
    return bool((np.ptp(colours, axis=1) <= 2).all())


def _grey_pixels(colour: np.ndarray, alpha: np.ndarray) -> bool:
    """Whether the visible pixels are grey (R = G = B within lossy noise), on a subsample."""
    step = max(1, max(alpha.shape) // 256)
    visible = alpha[::step, ::step] > 0
    spread = np.ptp(colour[::step, ::step][visible].astype(np.int16), axis=-1)
    return spread.size > 0 and float(np.quantile(spread, 0.99)) <= 10


def _sample_positions(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel indices (24 * 8,) sampled along one axis, and where they fall between cell centres.

    Returns the pixels, and for each the cell centre at or before it and its distance past that
    centre in cells (0 to 1): how a smooth (bilinear) enlargement mixes two cells there, with
    PIL's conventions (pixel centres, edges clamped).
    """
    scale = size / PUNK_SIZE
    half = np.clip(0.5 - 0.55 / scale, 0.0, 0.35)
    cells = np.arange(PUNK_SIZE)[:, None] + np.linspace(0.5 - half, 0.5 + half, _SAMPLES)
    pixels = np.clip(np.floor(cells * scale), 0, size - 1).astype(np.intp).ravel()
    source = np.clip((pixels + 0.5) / scale - 0.5, 0, PUNK_SIZE - 1)
    low = np.minimum(np.floor(source).astype(np.intp), PUNK_SIZE - 2)
    return pixels, low, (source - low).astype(np.float32)


def _centre_positions(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The two pixels around each cell's exact centre along one axis, and the second's weight."""
    centre = np.clip((np.arange(PUNK_SIZE) + 0.5) * size / PUNK_SIZE - 0.5, 0, size - 1)
    low = np.minimum(np.floor(centre).astype(np.intp), max(size - 2, 0))
    pixels = np.stack([low, np.minimum(low + 1, size - 1)], axis=1).ravel()
    return pixels, (centre - low).astype(np.float32)


def _cell_samples(
    values: np.ndarray, alpha: np.ndarray | None, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """(len(rows), len(cols), C) float samples, transparent parts laid on the backdrop."""
    samples = values[rows[:, None], cols[None, :]].astype(np.float32)
    if alpha is not None:
        backdrop = _TRANSPARENT_BACKDROP if values.shape[-1] == 3 else _TRANSPARENT_BACKDROP @ LUMA
        weight = alpha[rows[:, None], cols[None, :], None].astype(np.float32) / 255
        samples = samples * weight + (backdrop * (1 - weight)).astype(np.float32)
    return samples


def _fit_cells(values: np.ndarray, alpha: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The 24x24 cell colours that best explain the upload, and the misfit of each sample.

    Two models of how the punk was enlarged compete: nearest neighbour (each cell one flat
    colour, read as the median of its central samples, which shrugs off JPEG ringing) and smooth
    (bilinear: colours ramp from cell centre to cell centre, so a cell is read at its exact
    centre). The one that explains the samples better wins. Returns the colours (24, 24, C) and
    the misfit (24, 8, 24, 8): the largest channel difference between sample and model.
    """
    height, width, channels = values.shape
    rows, row_low, row_t = _sample_positions(height)
    cols, col_low, col_t = _sample_positions(width)
    samples = _cell_samples(values, alpha, rows, cols)
    grid = samples.reshape(PUNK_SIZE, _SAMPLES, PUNK_SIZE, _SAMPLES, channels)
    centre = grid[:, _CENTRE, :, _CENTRE].transpose(0, 2, 1, 3, 4)
    nearest = np.median(centre.reshape(PUNK_SIZE, PUNK_SIZE, -1, channels), axis=2)
    nearest_misfit = np.abs(grid - nearest[:, None, :, None]).max(axis=-1)

    centre_rows, centre_row_t = _centre_positions(height)
    centre_cols, centre_col_t = _centre_positions(width)
    corners = _cell_samples(values, alpha, centre_rows, centre_cols)
    corners = corners.reshape(PUNK_SIZE, 2, PUNK_SIZE, 2, channels)
    along = corners[:, 0] + (corners[:, 1] - corners[:, 0]) * centre_row_t[:, None, None, None]
    smooth = along[:, :, 0] + (along[:, :, 1] - along[:, :, 0]) * centre_col_t[None, :, None]
    ramp_rows = smooth[row_low] + (smooth[row_low + 1] - smooth[row_low]) * row_t[:, None, None]
    rendered = (
        ramp_rows[:, col_low]
        + (ramp_rows[:, col_low + 1] - ramp_rows[:, col_low]) * (col_t[None, :, None])
    )
    smooth_misfit = np.abs(samples - rendered).max(axis=-1)
    if smooth_misfit.mean() < nearest_misfit.mean():
        return smooth, smooth_misfit.reshape(nearest_misfit.shape)
    return nearest, nearest_misfit


def not_a_punk(why: str) -> InvalidImageError:
    return InvalidImageError(NOT_A_PUNK.format(why=why))


def read_cells(data: bytes) -> Cells:
    """Open an upload and read the colour of each of its 24x24 cells."""
    image = open_upload(data, side=_DETAIL_SIDE)
    width, height = image.size
    reduced_by = image.info.get("reduced_by", 1)
    stored = (width * reduced_by, height * reduced_by)
    if min(height, width) < PUNK_SIZE:
        raise not_a_punk(f"it is {width}x{height} pixels; a punk is at least 24x24")
    if abs(height - width) > max(1, 0.02 * max(height, width)):
        raise not_a_punk(f"it is {width}x{height} pixels, not square (a punk is 24x24)")
    try:
        values, alpha, grey = _channels(image)
    except Exception as error:  # an odd mode PIL cannot convert, or a corrupt palette
        raise InvalidImageError(
            NOT_AN_IMAGE.format(why=f"its pixels cannot be converted ({type(error).__name__})")
        ) from error
    colours, misfit = _fit_cells(values, alpha)
    flat_levels = max(_FLAT_LEVELS / reduced_by, _MIN_FLAT_LEVELS)
    flat = (misfit <= flat_levels).mean(axis=(1, 3)) >= 0.75
    if (~flat).mean() > _MAX_NON_FLAT_SHARE:
        raise not_a_punk(
            f"{(~flat).mean():.0%} of its 24x24 cells are not one flat colour, so it is not "
            "pixel art on a 24x24 grid (if it is a punk, upload it uncropped, without a frame)"
        )
    if not grey and np.quantile(np.ptp(colours, axis=-1), 0.99) <= 10:
        grey = True  # a grayscale picture stored as RGB: its colours are gone all the same
    if grey and colours.shape[-1] == 3:
        colours = colours @ LUMA.astype(np.float32)[:, None]
    stored_as = image.info.get("format") or "image"
    return Cells(colours, grey, stored_as, stored, paletted=image.mode in ("P", "PA"))


def find_background(colours: np.ndarray) -> np.ndarray:
    """The background colour: that of the cells that are background in every punk."""
    border = colours[_always_background()]
    background = np.median(border, axis=0)
    solid = np.abs(border - background).max(axis=-1) <= 30
    if solid.mean() < 0.9:
        raise not_a_punk(
            f"only {solid.mean():.0%} of the cells where every punk shows its background share "
            "one colour"
        )
    return background
