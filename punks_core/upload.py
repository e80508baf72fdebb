"""Decode uploaded files: any punk image into its exact 24x24 RGBA pixels, or a refusal in words.

An upload is a punk as found on the web: upscaled (any factor, nearest or smooth), on some solid
background or transparent, possibly re-encoded lossily. Decoding samples the 24x24 cells, finds
the background, un-composites each cell against it and snaps it to the punk palette. What comes
back is always one of two things:

- pixels the file proves: an original punk (one of the 10,000) that the file matches beyond
  doubt, or, for a file that holds exact punk colours (lossless), the snapped pixels themselves;
- an `InvalidImageError` whose message says what to upload instead.

A lossy file that is not unmistakably one original is refused rather than guessed: palette
colours lie as little as 2 levels apart, and a small JPEG blurs colours across whole pixels
(chroma subsampling), so a snapped guess would show a different punk.
`punks_core.imaging` re-exports `load_image`, `load_picture` and `punk_palette`.
"""

import functools
import io
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from punks_core.dataset import PUNK_SIZE
from punks_core.errors import InvalidImageError

MAX_SIDE = 4096
MAX_PIXELS = 16_000_000
UPLOAD_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
NOT_AN_IMAGE = (
    "The file is not an image PIL can read (PNG, JPEG, WebP, GIF or BMP): {why}. "
    "Save the punk as a PNG and upload that."
)
NOT_A_PUNK = "This does not look like a CryptoPunk: {why}."
BIG_METADATA = (
    "The PNG carries a metadata chunk (text or a colour profile) larger than the 1 MB that is "
    "read safely, so it was not decoded. Export the image again without metadata (or take a "
    "screenshot of it) and upload that."
)
LOSSY_HINT = (
    "If it is a punk, the file may be too small or too compressed to read: upload the PNG, or "
    "a larger image."
)
_LOSSY_FORMATS = ("JPEG", "WEBP")
TOO_LOSSY = (
    "This {format} is too small or too compressed to read every pixel exactly ({size}, "
    "{scale}), and it is not unmistakably one of the 10,000 punks: upload the PNG, or a larger "
    "image (8 times the punk's size, 192x192, is plenty)."
)
NOT_EXACT = (
    "The colours of this {format} are not exactly the punk colours (it was smoothed, "
    "colour-reduced or edited), and it is not unmistakably one of the 10,000 punks, so its "
    "pixels cannot be read exactly: upload the original PNG."
)

# Transparent uploads are laid on this colour before decoding: it is at least 100 RGB levels from
# every punk colour, smoke over it included, so no punk pixel can be mistaken for background.
_TRANSPARENT_BACKDROP = np.array([0.0, 255.0, 255.0])
# Luma weights of PIL's "L" conversion (ITU-R 601), used to decode grayscale uploads.
_LUMA = np.array([0.299, 0.587, 0.114])
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
# RGB -> (Y, Cb, Cr), the space JPEG and WebP quantise and subsample in.
_YCBCR = np.array(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]],
    dtype=np.float32,
)

# Each cell is sampled on an 8x8 grid spanning the middle 70% of its side (less at small scales,
# to stay inside the cell); the central 4x4 decides its colour when the upload was enlarged by
# nearest neighbour, clear of the seams JPEG blocks smear.
_SAMPLES = 8
_DETAIL_SIDE = 24 * 16
_CENTRE = slice(2, 6)

# Tolerances, set with margin over what JPEG (q75-95), WebP and bilinear re-encodings of test
# punks show (bench/bench_upload.py, tests/test_imaging_upload.py): a cell is flat when most of
# its samples lie within _FLAT_LEVELS of the 24x24 reconstruction; a punk has few cells that are
# not, few cells far from every palette colour, and enough cells that are not background.
_FLAT_LEVELS = 40.0
# A JPEG decoded at 1/2, 1/4 or 1/8 scale has averaged its pixels, which smooths noise into
# near-flat cells (an 1800x1800 noise JPEG passed at 40 levels): the flatness bound shrinks with
# the averaging, down to this floor (noise at 1/8 scale still spreads over about 9 levels).
_MIN_FLAT_LEVELS = 10.0
_MAX_NON_FLAT_SHARE = 0.10
_FAR_FROM_PALETTE = 40.0
_MAX_FAR_SHARE = 0.05
_MIN_PUNK_CELLS = 100
# A file holds exact punk colours when every cell is within this distance of one: smoke
# composited on a background rounds by at most 0.87 levels, and the two closest palette colours
# are 1.7 levels apart.
_LOSSLESS_LEVELS = 0.9
# A file in exact punk colours that differs from an original only by colours this close (RGB
# levels) is as likely a colour-reduced copy (a 64-colour palette turned #595959 into the
# punk colour #555555) as an edit: it is refused, not guessed. Visible edits are kept.
_SUBTLE_LEVELS = 16.0

# Matching a lossy file with the originals (measured on 550 test punks as JPEG and WebP, q30-q95,
# 24x24 to 120x120, five backgrounds: 7,700 files): the 64 originals closest in brightness always
# held the right punk; of those, the one that explains the file best is kept only when every
# other one that looks different lies clearly farther: the file sits at least _MIN_SIDEDNESS of
# the way from the halfway point towards it, and the gap is _MIN_EVIDENCE times what the noise
# around the differing cells (their neighbours' misfit) could produce. With the rules below no
# file came back as a wrong punk; the rest were refused (24x24 JPEG: 0 % read at q30, 24 % at
# q50, 56 % at q75, 96 % at q95; 24x24 WebP q80 88 %; 120x120 WebP q80 100 %). A cell whose
# brightness is off by _MAX_OUTLIER times the file's 90th-percentile noise is an edit, not noise:
# right matches reached 7.3, punks with two pixels edited had a median of 6 on 24x24 JPEG q75
# (an edit that small hides in that noise) but 37-98 on 5x-14x uploads.
_MIN_SIDEDNESS = 0.5
# WebP q50 at 2x erased a one-pixel mole entirely (the file read 108-112 where the skin is 113
# and the mole 82; the wrong punks sat 0.69 and 0.88 of the way): in files under
# _ERASING_SCALE pixels per punk pixel, against an original whose extra detail covers at most
# _SMALL_DETAIL_CELLS cells, the file must sit this close to the best one. At 4x and more a
# punk pixel spans whole codec blocks, and no such loss was seen.
_MIN_SIDEDNESS_ERASABLE = 0.9
_ERASING_SCALE = 3.5
_SMALL_DETAIL_CELLS = 2
_SMALL_WEIGHT = 0.05
_MIN_EVIDENCE = 2.0
_MIN_NOISE = 0.5
_MAX_OUTLIER = 10.0
_MIN_OUTLIER_LEVELS = 12.0
# Brightness noise (90th percentile, levels) beyond which a file is refused outright: 24x24
# JPEGs show 3-5 at q95, 12-16 at q75, 18-29 at q50 and 24-38 at q30, where the one wrong match
# seen before this bound (punk 9389 as 4869) had 27.
_MAX_NOISE = 24.0
_CANDIDATES = 64
_LUMA_CLIP = 60.0


@dataclass(frozen=True)
class _Palette:
    """The punk colours and the 10,000 punks written as indices into them."""

    rgba: np.ndarray  # (P, 4) uint8, sorted; row 0 is transparent
    log_prior: np.ndarray  # (P,) log frequency of each colour over all pixels
    indices: np.ndarray  # (N, 576) uint8 palette index of every pixel of every punk
    images: np.ndarray  # (N, 24, 24, 4) uint8, the punks themselves


@functools.cache
def _palette() -> _Palette:
    from punks_core.dataset import load_punks

    images = load_punks().images
    # One big-endian 32-bit key per pixel sorts like the RGBA rows and is far faster to take
    # apart than rows (this runs on the first upload, inside its time budget).
    keys = np.ascontiguousarray(images).view(">u4").reshape(len(images), -1)
    colours = np.unique(keys)
    indices = np.searchsorted(colours, keys).astype(np.uint8)
    counts = np.bincount(indices.ravel(), minlength=len(colours))
    rgba = colours.astype(">u4").view(np.uint8).reshape(-1, 4)
    return _Palette(rgba, np.log(counts / counts.sum()), indices, images)


def punk_palette() -> np.ndarray:
    """The 222 RGBA colours of the 10,000 punks, sorted; row 0 is the transparent background."""
    return _palette().rgba


@functools.cache
def _punk_luma() -> np.ndarray:
    """(N, 576, 2): each punk pixel's premultiplied luma and its alpha in [0, 1]."""
    palette = _palette()
    alpha = palette.rgba[:, 3].astype(np.float32) / 255
    luma = palette.rgba[:, :3].astype(np.float32) @ _LUMA.astype(np.float32) * alpha
    return np.stack([luma, alpha], axis=-1)[palette.indices]


@functools.cache
def _always_background() -> np.ndarray:
    """(24, 24) bool: the cells that are background in every punk (the whole top row, ...)."""
    return (_palette().images[..., 3] == 0).all(axis=0)


@functools.cache
def _exact_index() -> dict[bytes, int]:
    """Each original punk's palette indices as bytes -> its row."""
    return {row.tobytes(): k for k, row in enumerate(_palette().indices)}


@functools.cache
def _gather_index() -> np.ndarray:
    """(N, 576) int32: where each punk's pixel sits in a flattened (576, P) per-cell table.

    Summing a table of per-cell, per-colour costs at these positions scores all 10,000 punks
    in one gather (about 9 ms), which is what lets every original be considered.
    """
    palette = _palette()
    offsets = np.arange(PUNK_SIZE * PUNK_SIZE, dtype=np.int32) * len(palette.rgba)
    return palette.indices.astype(np.int32) + offsets


# --- Opening files safely ------------------------------------------------------------------


def _open(data: bytes, side: int | None = None) -> Image.Image:
    """Open `data` safely: known formats only, size checked before decoding, first frame.

    A JPEG is decoded directly at a reduced scale no smaller than `side` pixels, if given;
    `image.info["reduced_by"]` then says by what factor (1 when it was not), and
    `image.info["format"]` keeps the file's format ("PNG", "JPEG", ...).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidImageError(NOT_AN_IMAGE.format(why=f"got {type(data).__name__}, not bytes"))
    if len(data) == 0:
        raise InvalidImageError(NOT_AN_IMAGE.format(why="the file is empty"))
    # PIL's decoders raise many exception types on malformed input (OSError, SyntaxError,
    # struct.error, IndexError, ...); every one of them means "not a readable image" here.
    try:
        image = Image.open(io.BytesIO(bytes(data)), formats=UPLOAD_FORMATS)
    except Image.DecompressionBombError as error:
        raise InvalidImageError(_bomb_message(str(error))) from error
    except Exception as error:
        if _is_big_metadata(error):
            raise InvalidImageError(BIG_METADATA) from error
        raise InvalidImageError(NOT_AN_IMAGE.format(why="its format is not recognised")) from error
    width, height = image.size
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise InvalidImageError(_too_large(width, height))
    if width < 1 or height < 1:
        raise InvalidImageError(NOT_AN_IMAGE.format(why=f"it is {width}x{height} pixels"))
    try:
        image.seek(0)
        if side is not None and image.format == "JPEG":
            image.draft(None, (side, side))  # let libjpeg decode at a reduced scale
        image.load()
        reduced_by, stored_as = max(1, round(width / image.size[0])), image.format
        rotated = ImageOps.exif_transpose(image)
        image = rotated if rotated is not None else image  # a copy, which forgets its format
        image.info.update(reduced_by=reduced_by, format=stored_as)
        return image
    except Exception as error:
        if _is_big_metadata(error):
            raise InvalidImageError(BIG_METADATA) from error
        raise InvalidImageError(
            NOT_AN_IMAGE.format(why=f"it is damaged or truncated ({type(error).__name__})")
        ) from error


def _is_big_metadata(error: Exception) -> bool:
    """PIL's PNG reader refuses text and ICC chunks over 1 MB (64 MB in all) with these."""
    return isinstance(error, ValueError) and (
        "MAX_TEXT_CHUNK" in str(error) or "MAX_TEXT_MEMORY" in str(error)
    )


def _too_large(width: int, height: int) -> str:
    if max(width, height) > MAX_SIDE:
        why = f"it is {width}x{height} pixels, and a side may be at most {MAX_SIDE} pixels"
    else:
        why = (
            f"it is {width}x{height} pixels, {width * height / 1e6:.1f} megapixels, and at most "
            f"{MAX_PIXELS / 1e6:g} megapixels are decoded (4000x4000, for example)"
        )
    return f"The image is too large to decode safely: {why}. Upload a smaller copy."


def _bomb_message(pil_message: str) -> str:
    """PIL refuses a file declaring over ~179 megapixels before its size reaches us."""
    found = re.search(r"\((\d+) pixels\)", pil_message)
    declared = f" ({int(found[1]) / 1e6:,.0f} megapixels)" if found else ""
    return (
        f"The image is too large to decode safely: it declares far more pixels than a picture "
        f"needs{declared}, and at most {MAX_PIXELS / 1e6:g} megapixels are decoded. "
        "Upload a smaller copy."
    )


# --- Reading the 24x24 cells ---------------------------------------------------------------


@dataclass(frozen=True)
class _Cells:
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
        colour, grey = (colour @ _LUMA.astype(np.float32))[..., None], True
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
        backdrop = _TRANSPARENT_BACKDROP if values.shape[-1] == 3 else _TRANSPARENT_BACKDROP @ _LUMA
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


def _not_a_punk(why: str) -> InvalidImageError:
    return InvalidImageError(NOT_A_PUNK.format(why=why))


def _read_cells(data: bytes) -> _Cells:
    """Open an upload and read the colour of each of its 24x24 cells."""
    image = _open(data, side=_DETAIL_SIDE)
    width, height = image.size
    reduced_by = image.info.get("reduced_by", 1)
    stored = (width * reduced_by, height * reduced_by)
    if min(height, width) < PUNK_SIZE:
        raise _not_a_punk(f"it is {width}x{height} pixels; a punk is at least 24x24")
    if abs(height - width) > max(1, 0.02 * max(height, width)):
        raise _not_a_punk(f"it is {width}x{height} pixels, not square (a punk is 24x24)")
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
        raise _not_a_punk(
            f"{(~flat).mean():.0%} of its 24x24 cells are not one flat colour, so it is not "
            "pixel art on a 24x24 grid (if it is a punk, upload it uncropped, without a frame)"
        )
    if not grey and np.quantile(np.ptp(colours, axis=-1), 0.99) <= 10:
        grey = True  # a grayscale picture stored as RGB: its colours are gone all the same
    if grey and colours.shape[-1] == 3:
        colours = colours @ _LUMA.astype(np.float32)[:, None]
    stored_as = image.info.get("format") or "image"
    return _Cells(colours, grey, stored_as, stored, paletted=image.mode in ("P", "PA"))


def _background(colours: np.ndarray) -> np.ndarray:
    """The background colour: that of the cells that are background in every punk."""
    border = colours[_always_background()]
    background = np.median(border, axis=0)
    solid = np.abs(border - background).max(axis=-1) <= 30
    if solid.mean() < 0.9:
        raise _not_a_punk(
            f"only {solid.mean():.0%} of the cells where every punk shows its background share "
            "one colour"
        )
    return background


# --- From cell colours to a punk -----------------------------------------------------------


@dataclass(frozen=True)
class _Looks:
    """How each palette colour looks on one background.

    Formats with on/off transparency (GIF) and tools that drop alpha draw smoke as its opaque
    grey, a colour no punk has: that look stands for smoke too (`flattened`).
    """

    appearance: np.ndarray  # (P, 3) the colour composited on the background
    flattened: np.ndarray  # (P, 3) the same, smoke drawn as its opaque grey

    @classmethod
    def on(cls, background: np.ndarray) -> "_Looks":
        rgba = _palette().rgba
        alpha = rgba[:, 3:].astype(np.float32) / 255
        appearance = (rgba[:, :3] * alpha + background * (1 - alpha)).astype(np.float32)
        flattened = appearance.copy()
        half = (rgba[:, 3] > 0) & (rgba[:, 3] < 255)
        flattened[half] = rgba[half, :3]
        return cls(appearance, flattened)

    def distances(self, cells: np.ndarray) -> np.ndarray:
        """(576, P) distance of every cell to every colour, by whichever look is nearer."""
        return np.sqrt(
            np.minimum(_squared(cells, self.appearance), _squared(cells, self.flattened))
        )

    def of(self, indices: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """(..., 576, 3) the punks `indices` as they look, smoke in the look nearer the cells."""
        appearance, flattened = self.appearance[indices], self.flattened[indices]
        nearer = ((flattened - cells) ** 2).sum(-1) < ((appearance - cells) ** 2).sum(-1)
        return np.where(nearer[..., None], flattened, appearance)


def _squared(cells: np.ndarray, colours: np.ndarray) -> np.ndarray:
    distance = (cells**2).sum(axis=1)[:, None] - 2 * cells @ colours.T + (colours**2).sum(axis=1)
    return np.maximum(distance, 0)


def _features(looks: np.ndarray, blur: str | None = None) -> np.ndarray:
    """(..., 576 + 288): luma per cell and chroma per 2x2 block of cells.

    JPEG and WebP keep brightness per pixel but colour only per 2x2 pixels (chroma
    subsampling): on a 24x24 file a lone purple lipstick pixel comes back as a muddy brown.
    Comparing colour where the codec kept it made the right original the best fit of 100 % of
    24x24 JPEG q95 and WebP files (instead of 77 %). The block mean is doubled so that a colour
    difference in one cell weighs what it would per cell. `blur` models the decoder's chroma
    upsampling where it reaches cell centres: over 2x2 cells ("blocks") in a 24x24 file, over
    neighbouring cells ("cells") in a 48x48 one.
    """
    ycc = looks @ _YCBCR.T
    lead = ycc.shape[:-2]
    chroma = ycc[..., 1:].reshape(*lead, PUNK_SIZE, PUNK_SIZE, 2)
    if blur == "cells":
        chroma = _upsampling_blur(chroma)
    chroma = chroma.reshape(*lead, 12, 2, 12, 2, 2).mean(axis=(-4, -2))
    if blur == "blocks":
        chroma = _upsampling_blur(chroma)
    return np.concatenate([ycc[..., 0], 2 * chroma.reshape(*lead, -1)], axis=-1)


def _upsampling_blur(chroma: np.ndarray) -> np.ndarray:
    """What a decoder's "fancy" chroma upsampling does to a grid of chroma samples.

    libjpeg and libwebp rebuild each pixel's colour as 3/4 of its own chroma sample and 1/4 of
    the next one (per axis), so the mean over the two pixels a sample covers is
    1/8, 3/4, 1/8 of the samples before, at and after it. Applied to a candidate, it predicts
    what a small lossy file shows; the file's cells already went through it.
    """
    for axis in (-3, -2):
        edge = [(0, 0)] * chroma.ndim
        edge[axis] = (1, 1)
        padded = np.pad(chroma, edge, mode="edge")
        size = chroma.shape[axis]
        before = np.take(padded, range(0, size), axis=axis)
        after = np.take(padded, range(2, size + 2), axis=axis)
        chroma = 0.75 * chroma + 0.125 * (before + after)
    return chroma


def _neighbour_noise(residual: np.ndarray) -> np.ndarray:
    """(576 + 288,) the codec's noise around each feature: the RMS misfit of its neighbours.

    Noise differs from place to place (JPEG rings at edges, flat areas come back exact), and a
    cell's own misfit cannot measure the noise it is judged against: the 8 luma cells, or the
    8 chroma blocks, around each one do.
    """
    cells = PUNK_SIZE * PUNK_SIZE
    luma = residual[:cells].reshape(PUNK_SIZE, PUNK_SIZE)
    chroma = residual[cells:].reshape(PUNK_SIZE // 2, PUNK_SIZE // 2, 2)
    return np.concatenate([_ring_rms(luma[..., None]).ravel(), _ring_rms(chroma).ravel()], axis=0)


def _ring_rms(values: np.ndarray) -> np.ndarray:
    """RMS of the (up to) 8 neighbours of every entry of an (H, W, C) map, per channel."""
    squared = np.pad(values**2, ((1, 1), (1, 1), (0, 0)))
    counts = np.pad(np.ones(values.shape[:2]), 1)[..., None]
    height, width = values.shape[:2]
    total = (
        sum(squared[r : r + height, c : c + width] for r in range(3) for c in range(3)) - values**2
    )
    count = sum(counts[r : r + height, c : c + width] for r in range(3) for c in range(3)) - 1
    return np.sqrt(total / count)


def _match_original(cells: np.ndarray, looks: _Looks, scale: float) -> int | None:
    """The one original the cells show beyond doubt, or None (see the tolerances above).

    `scale` is the file's pixels per punk pixel: it says how the decoder's chroma upsampling
    reaches cell centres, and whether a one-cell detail is small enough to be lost whole.
    """
    blur = "blocks" if scale < 1.5 else "cells" if scale < 2.5 else None
    palette = _palette()
    luma = looks.appearance @ _LUMA.astype(np.float32)
    # Clipped, so that a few cells wrecked by the codec cannot push the right punk out.
    table = np.minimum(np.abs((cells @ _LUMA.astype(np.float32))[:, None] - luma), _LUMA_CLIP) ** 2
    cost = table.ravel()[_gather_index()].sum(axis=1)
    candidates = np.argpartition(cost, _CANDIDATES)[:_CANDIDATES]
    fitted = _features(looks.of(palette.indices[candidates], cells), blur)
    measured = _features(cells)
    misfit = ((fitted - measured) ** 2).sum(axis=-1)
    order = np.argsort(misfit)
    best = order[0]
    residual = fitted[best] - measured
    # Brightness only: chroma blocks of a 24x24 file mix 4 pixels and stray far more.
    luma_error = np.abs(residual[: PUNK_SIZE * PUNK_SIZE])
    noise = max(float(np.quantile(luma_error, 0.9)), 1.0)
    if noise > _MAX_NOISE:
        return None  # too compressed to tell small differences from noise
    if luma_error.max() > max(_MAX_OUTLIER * noise, _MIN_OUTLIER_LEVELS):
        return None  # a cell no original explains: an edited or generated punk
    noise_map = _neighbour_noise(residual)
    detail = _detail(fitted[:, : PUNK_SIZE * PUNK_SIZE])
    for other in order[1:]:
        difference = fitted[other] - fitted[best]
        apart = float((difference**2).sum())
        if apart <= 1.0:
            continue  # looks the same on this background (black on black): either is right
        weight = difference**2 / apart
        gap = float(misfit[other] - misfit[best])
        local_noise = np.sqrt((weight * noise_map**2).sum())
        evidence = gap / (2 * max(local_noise, _MIN_NOISE) * np.sqrt(apart))
        # A codec smooths and never sharpens: where the other original has a detail the best
        # one lacks (a mole on a cheek), the file may have lost it, so agreeing with the
        # smoother one proves less.
        luma_weight = weight[: PUNK_SIZE * PUNK_SIZE]
        erasable = (
            scale < _ERASING_SCALE
            and (luma_weight * (detail[other] - detail[best])).sum() > 0
            and np.count_nonzero(luma_weight > _SMALL_WEIGHT) <= _SMALL_DETAIL_CELLS
        )
        sidedness = _MIN_SIDEDNESS_ERASABLE if erasable else _MIN_SIDEDNESS
        if gap < sidedness * apart or evidence < _MIN_EVIDENCE:
            return None
    return int(candidates[best])


def _detail(luma: np.ndarray) -> np.ndarray:
    """(K, 576) how far each cell's brightness stands out from the mean of its 4 neighbours."""
    grid = luma.reshape(-1, PUNK_SIZE, PUNK_SIZE)
    padded = np.pad(grid, ((0, 0), (1, 1), (1, 1)), mode="edge")
    around = (
        padded[:, :-2, 1:-1] + padded[:, 2:, 1:-1] + padded[:, 1:-1, :-2] + padded[:, 1:-1, 2:]
    ) / 4
    return np.abs(grid - around).reshape(len(luma), -1)


def _decode_colour(cells: _Cells, background: np.ndarray) -> np.ndarray:
    palette = _palette()
    looks = _Looks.on(background)
    flat_cells = cells.colours.reshape(-1, 3).astype(np.float32)
    distance = looks.distances(flat_cells)
    # Nearest palette colour; an exact tie (smoke over white is an opaque grey) goes to the
    # more frequent colour.
    snapped = np.argmin(distance - 1e-3 * palette.log_prior, axis=1).astype(np.uint8)
    residual = distance[np.arange(len(flat_cells)), snapped]
    original = _exact_index().get(snapped.tobytes())
    if original is not None:
        return palette.images[original].copy()

    lossless = residual.max() <= _LOSSLESS_LEVELS
    strays = None
    if lossless:
        original, strays = _nearest_original(snapped, looks)
        if strays == 0:
            return palette.images[original].copy()
    elif cells.paletted:
        # Palette colours that are not punk colours mean a colour-reduced copy: a quantiser
        # moves colours systematically, not at random, and moved #713f1d to within 1.4 levels
        # of #763b1a, punk 9013 into punk 1000. No noise model can undo that.
        original = None
    else:
        original = _match_original(flat_cells, looks, cells.size[0] / PUNK_SIZE)
        if original is not None:
            return palette.images[original].copy()
    if (
        not lossless
        and cells.format in _LOSSY_FORMATS
        and cells.size[0] < _ERASING_SCALE * PUNK_SIZE
    ):
        # Pixel art on the grid (checked when reading) whose colours a small lossy file blurred.
        raise InvalidImageError(_unreadable(cells))
    far = (residual > _FAR_FROM_PALETTE).mean()
    if far > _MAX_FAR_SHARE:
        raise _not_a_punk(f"{far:.0%} of its cells are far from every CryptoPunk colour")
    if np.count_nonzero(palette.rgba[snapped, 3]) < _MIN_PUNK_CELLS:
        raise _not_a_punk("too few of its cells stand out from the background to be a punk")
    if lossless and strays > _SUBTLE_LEVELS:
        return palette.rgba[snapped].reshape(PUNK_SIZE, PUNK_SIZE, 4)  # an edit, as drawn
    raise InvalidImageError(_unreadable(cells))


def _nearest_original(snapped: np.ndarray, looks: _Looks) -> tuple[int, float]:
    """For a file in exact punk colours: the original closest to it, and how far it strays.

    Colours that look alike on this background (black on black) cannot be told apart, so they
    count as agreeing. Returns the original that disagrees in the fewest cells and the largest
    colour distance (RGB levels) between it and the file over those cells: 0 when the file is
    that original as it looks here.
    """
    palette = _palette()
    appearance = looks.appearance
    alike = ((appearance[:, None] - appearance[None]) ** 2).sum(axis=-1) <= 1.0
    canonical = np.argmax(alike, axis=1).astype(np.uint8)
    mismatches = canonical[palette.indices] != canonical[snapped]
    nearest = int(np.argmin(mismatches.sum(axis=1)))
    cells = mismatches[nearest]
    if not cells.any():
        return nearest, 0.0
    strays = appearance[palette.indices[nearest, cells]] - appearance[snapped[cells]]
    return nearest, float(np.sqrt((strays**2).sum(axis=-1)).max())


def _unreadable(cells: _Cells) -> str:
    width, height = cells.size
    if cells.format in _LOSSY_FORMATS:
        scale = width / PUNK_SIZE
        per_pixel = (
            "one file pixel per punk pixel"
            if round(scale, 2) == 1
            else f"{scale:.3g} file pixels per punk pixel"
        )
        name = "JPEG" if cells.format == "JPEG" else "WebP"
        return TOO_LOSSY.format(format=name, size=f"{width}x{height} pixels", scale=per_pixel)
    return NOT_EXACT.format(format=cells.format if cells.format != "image" else "image")


def _decode_grey(luma: np.ndarray, background: float) -> np.ndarray:
    punks = _punk_luma()
    expected = punks[..., 0] + background * (1 - punks[..., 1])
    error = np.abs(expected - luma.reshape(1, -1))
    worst = error.max(axis=1)
    order = np.argsort((error**2).sum(axis=1))[:2]
    # Refused unless exactly one original fits: the runner-up must fit visibly worse.
    if worst[order[0]] > 24 or worst[order[1]] <= max(3.0, worst[order[0]]):
        raise _not_a_punk(
            "it is a grayscale image, and the colours of a punk cannot be recovered from "
            "grayscale unless it is unmistakably one of the 10,000 originals; upload the colour "
            "image"
        )
    return _palette().images[order[0]].copy()


def load_image(data: bytes) -> np.ndarray:
    """Decode an uploaded punk image into its exact 24x24 RGBA pixels.

    Accepts a punk as found on the web: 24x24 or upscaled by any factor (nearest or smooth
    resampling), full frame (not cropped, padded or framed), on a transparent or any solid
    background, as PNG (8 or 16 bit, palette, RGB, RGBA), JPEG (also CMYK and EXIF-rotated),
    WebP, GIF (the first frame of an animation) or BMP. Each of the 24x24 cells is read at its
    centre, the background is taken from the cells that are background in every punk, and each
    cell is un-composited against it and snapped to the punk palette (smoke, half-transparent,
    included). What is returned is proven by the file, never guessed:

    - a file in exact punk colours (PNG, GIF, lossless WebP, ...) gives its snapped pixels, or
      the original punk that looks the same on its background (black outlines on black);
    - a lossy file (JPEG, lossy WebP, smoothed or colour-reduced) gives the one original punk
      it matches beyond doubt: every other original that looks different must fit clearly
      worse, judged against the file's own noise, with colour compared where the codec kept
      it (per 2x2 pixels). A lossy file that is none of the originals (an edit, a generated
      punk), or too small or too compressed to tell originals apart, is refused with a message
      that says to upload the PNG or a larger image.

    Grayscale images (and colour images with no colour left) are decoded only when they match
    one original punk unambiguously, by brightness; otherwise they are refused, since the
    colours of a grayscale punk cannot be recovered. A background that is itself a punk colour
    (black, white) is ambiguous for pixels of that colour; the match with the originals resolves
    it for the 10,000 punks.

    Args:
        data: the bytes of the uploaded file.

    Returns:
        uint8 array (24, 24, 4), RGBA; background pixels are (0, 0, 0, 0).

    Raises:
        InvalidImageError: the bytes are not a readable image (empty, truncated, unknown format),
            the image is too large to decode safely, or it does not look like a CryptoPunk (too
            small, not square, not pixel art on a 24x24 grid, no solid background, colours far
            from the punk palette), or it is lossy and not unmistakably one of the 10,000
            punks. The message says which.
    """
    cells = _read_cells(data)
    try:
        background = _background(cells.colours)
        if cells.grey:
            return _decode_grey(cells.colours.reshape(-1), float(background[0]))
        return _decode_colour(cells, background)
    except InvalidImageError as error:
        if cells.format in _LOSSY_FORMATS and str(error).startswith(NOT_A_PUNK[:20]):
            # A small or heavily compressed punk can look like no punk at all.
            raise InvalidImageError(f"{str(error)[:-1]}. {LOSSY_HINT}") from error
        raise


def load_picture(data: bytes, max_side: int = 1024) -> np.ndarray:
    """Decode any uploaded picture (not only punks) for the convolution lab.

    Same safety checks as `load_image` (known formats, size limit checked before decoding,
    truncated files refused); EXIF rotation applied; the first frame of an animation.

    Args:
        data: the bytes of the uploaded file.
        max_side: the longer side of the result is at most this many pixels; larger pictures
            are shrunk with Lanczos resampling, keeping the aspect ratio (each side at least 1).

    Returns:
        uint8 array (H, W, 4), RGBA.

    Raises:
        InvalidImageError: the bytes are not a readable image or it is too large to decode.
        ValueError: `max_side` is less than 1.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, not {max_side}")
    image = _open(data, side=max_side)
    try:
        if image.mode.startswith("I") or image.mode == "F":
            values = np.asarray(image, dtype=np.float32)
            values = values / 257 if values.max(initial=0) > 255 else values
            image = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L")
        image = image.convert("RGBA")
        width, height = image.size
        scale = max_side / max(width, height)
        if scale < 1:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        return np.asarray(image).copy()
    except Exception as error:
        raise InvalidImageError(
            NOT_AN_IMAGE.format(why=f"it cannot be converted ({type(error).__name__})")
        ) from error
