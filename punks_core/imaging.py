"""Punk images in and out: decode uploads into exact punks; render punks as grids and zooms.

Rendering keeps pixels exact: punks are composited onto a solid background and enlarged by
whole-number factors only (nearest neighbour), so every punk pixel stays a square.
"""

import functools
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from punks_core.dataset import BACKGROUND_HEX, PUNK_SIZE
from punks_core.errors import InvalidImageError


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    """`"#638596"` -> `(99, 133, 150)`."""
    value = color.lstrip("#")
    return tuple(int(value[k : k + 2], 16) for k in (0, 2, 4))


def composite(images: np.ndarray, background: str | None = BACKGROUND_HEX) -> np.ndarray:
    """Alpha-composite RGBA punks onto a solid background (None keeps RGBA)."""
    if background is None:
        return images
    rgb = images[..., :3].astype(np.uint16)
    alpha = images[..., 3:].astype(np.uint16)
    back = np.array(hex_to_rgb(background), dtype=np.uint16)
    blended = (rgb * alpha + back * (255 - alpha) + 127) // 255
    return blended.astype(np.uint8)


def zoom(image: np.ndarray, factor: int) -> np.ndarray:
    """Enlarge an image by a whole-number factor, nearest neighbour."""
    return image.repeat(factor, axis=0).repeat(factor, axis=1)


def grid(
    images: np.ndarray, columns: int, background: str | None = BACKGROUND_HEX, gap: int = 0
) -> np.ndarray:
    """Lay punks out row by row in one image, `columns` wide, with `gap` pixels between them.

    Empty cells of the last row and the gaps are filled with the background (transparent when
    `background` is None).
    """
    tiles = composite(images, background)
    n, height, width, channels = tiles.shape
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    fill = np.zeros(channels, np.uint8) if background is None else np.array(hex_to_rgb(background))
    cell_h, cell_w = height + gap, width + gap
    canvas = np.empty((rows * cell_h - gap, columns * cell_w - gap, channels), np.uint8)
    canvas[:] = fill
    for k in range(n):
        top, left = (k // columns) * cell_h, (k % columns) * cell_w
        canvas[top : top + height, left : left + width] = tiles[k]
    return canvas


# --- Decoding uploads -----------------------------------------------------------------------
#
# An upload is a punk as found on the web: upscaled (any factor, nearest or smooth), on some solid
# background or transparent, possibly re-encoded lossily. Decoding samples the 24x24 cells at
# their centres, finds the background, un-composites each cell against it and snaps it to the
# punk palette. Lossy codecs blur colours that are only 2-5 levels apart in the palette, so a
# decoded punk that one of the 10,000 originals explains within the measured noise is replaced
# by that original: the exact pixels, which the palette alone cannot promise for a JPEG.

MAX_SIDE = 4096
MAX_PIXELS = 16_000_000
UPLOAD_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
NOT_AN_IMAGE = (
    "The file is not an image PIL can read (PNG, JPEG, WebP, GIF or BMP): {why}. "
    "Save the punk as a PNG and upload that."
)
NOT_A_PUNK = "This does not look like a CryptoPunk: {why}."

# Transparent uploads are laid on this colour before decoding: it is at least 100 RGB levels from
# every punk colour, smoke over it included, so no punk pixel can be mistaken for background.
_TRANSPARENT_BACKDROP = np.array([0.0, 255.0, 255.0])
# Luma weights of PIL's "L" conversion (ITU-R 601), used to decode grayscale uploads.
_LUMA = np.array([0.299, 0.587, 0.114])
_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})

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
_MAX_NON_FLAT_SHARE = 0.10
_FAR_FROM_PALETTE = 40.0
_MAX_FAR_SHARE = 0.05
_MIN_PUNK_CELLS = 100


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


def _open(data: bytes, side: int | None = None) -> Image.Image:
    """Open `data` safely: known formats only, size checked before decoding, first frame.

    A JPEG is decoded directly at a reduced scale no smaller than `side` pixels, if given.
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
        raise InvalidImageError(_too_large(str(error))) from error
    except Exception as error:
        raise InvalidImageError(NOT_AN_IMAGE.format(why="its format is not recognised")) from error
    width, height = image.size
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise InvalidImageError(_too_large(f"it is {width}x{height} pixels"))
    if width < 1 or height < 1:
        raise InvalidImageError(NOT_AN_IMAGE.format(why=f"it is {width}x{height} pixels"))
    try:
        image.seek(0)
        if side is not None and image.format == "JPEG":
            image.draft(None, (side, side))  # let libjpeg decode at a reduced scale
        image.load()
        rotated = ImageOps.exif_transpose(image)
        return rotated if rotated is not None else image
    except Exception as error:
        raise InvalidImageError(
            NOT_AN_IMAGE.format(why=f"it is damaged or truncated ({type(error).__name__})")
        ) from error


def _too_large(why: str) -> str:
    return (
        f"The image is too large to decode safely ({why}); the limit is {MAX_SIDE} pixels a "
        f"side and {MAX_PIXELS // 1_000_000} megapixels. Upload a smaller copy."
    )


def _channels(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """The image as (H, W, C) values (RGB, or one grey channel), its alpha or None, and grey."""
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit grayscale: PIL's conversion to "L" clips at 255 instead of scaling.
        values = np.asarray(image, dtype=np.float32)
        values = values / 257 if values.max(initial=0) > 255 else values
        return np.clip(values, 0, 255)[..., None], None, True
    has_alpha = "A" in image.mode or "transparency" in image.info
    grey = image.mode in _GREY_MODES or (image.mode == "P" and _grey_palette(image))
    target = ("LA" if has_alpha else "L") if grey else ("RGBA" if has_alpha else "RGB")
    image = image.convert(target)
    if max(image.size) > _DETAIL_SIDE * 2:
        # Box-average big uploads down to at least _DETAIL_SIDE pixels (16 per cell): cell
        # centres keep their colour and the rest of the work shrinks with the square.
        image = image.reduce(max(image.size) // _DETAIL_SIDE)
    values = np.asarray(image)
    if values.ndim == 2:
        values = values[..., None]
    if has_alpha:
        return values[..., :-1], values[..., -1], grey
    return values, None, grey


def _grey_palette(image: Image.Image) -> bool:
    palette = image.getpalette() or [0, 0, 0]
    colours = np.asarray(palette, dtype=np.int16).reshape(-1, 3)
    return bool((np.ptp(colours, axis=1) <= 2).all())


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


def _read_cells(data: bytes) -> tuple[np.ndarray, bool]:
    """Open an upload and read the colour of each of its 24x24 cells: ((24, 24, C), grey)."""
    image = _open(data, side=_DETAIL_SIDE)
    width, height = image.size
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
    flat = (misfit <= _FLAT_LEVELS).mean(axis=(1, 3)) >= 0.75
    if (~flat).mean() > _MAX_NON_FLAT_SHARE:
        raise _not_a_punk(
            f"{(~flat).mean():.0%} of its 24x24 cells are not one flat colour, so it is not "
            "pixel art on a 24x24 grid (if it is a punk, upload it uncropped, without a frame)"
        )
    if not grey and np.quantile(np.ptp(colours, axis=-1), 0.99) <= 10:
        grey = True  # a grayscale picture stored as RGB: its colours are gone all the same
    if grey and colours.shape[-1] == 3:
        colours = colours @ _LUMA.astype(np.float32)[:, None]
    return colours, grey


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


def _match_tolerance(residual: np.ndarray, snapped: np.ndarray) -> float:
    """How much worse than the nearest palette colour an original may fit a cell.

    Scaled to the upload's noise (how far its punk cells lie from the palette): tight for a
    lossless file, so that an edited punk is not mistaken for the original it was made from,
    loose for a JPEG. On JPEG q75-q90 and WebP re-encodings of test punks the original fitted
    within about 4x this noise (the 90th percentile), while any other punk was off by 30 or more
    somewhere; a JPEG of a 24x24 punk (no upscale) is too noisy to match this way.
    """
    punk_cells = residual[snapped != 0]
    noise = np.quantile(punk_cells, 0.9) if punk_cells.size else 0.0
    return float(np.clip(4 * noise, 1.5, 30.0))


@functools.cache
def _match_index() -> tuple[dict[bytes, int], np.ndarray]:
    """Exact lookup of the originals, and the cells that tell punks apart best."""
    indices = _palette().indices
    exact = {row.tobytes(): k for k, row in enumerate(indices)}
    # Cells where the punks differ most (by how many of them are not the cell's commonest
    # colour): comparing these alone finds the candidates in a third of the time.
    share = np.array([np.bincount(column).max() for column in indices.T]) / len(indices)
    return exact, np.sort(np.argsort(share)[:192])


def _decode_colour(colours: np.ndarray, background: np.ndarray) -> np.ndarray:
    palette = _palette()
    alpha = palette.rgba[:, 3:].astype(np.float32) / 255
    appearance = (palette.rgba[:, :3] * alpha + background * (1 - alpha)).astype(np.float32)
    # Formats with on/off transparency (GIF) and tools that drop alpha draw smoke as its opaque
    # grey, a colour no punk has: that look stands for smoke too.
    half = np.flatnonzero((palette.rgba[:, 3] > 0) & (palette.rgba[:, 3] < 255))
    flattened = appearance.copy()
    flattened[half] = palette.rgba[half, :3]
    looks = np.concatenate([appearance, flattened[half]])
    meaning = np.concatenate([np.arange(len(appearance)), half])
    cells = colours.reshape(-1, 3).astype(np.float32)
    distance = (cells**2).sum(axis=1)[:, None] - 2 * cells @ looks.T + (looks**2).sum(axis=1)
    # Nearest palette colour; an exact tie (smoke over white is an opaque grey) goes to the
    # more frequent colour.
    nearest = np.argmin(distance - 1e-3 * palette.log_prior[meaning], axis=1)
    snapped = meaning[nearest].astype(np.uint8)
    residual = np.sqrt(np.maximum(distance[np.arange(len(cells)), nearest], 0))

    exact, telling = _match_index()
    original = exact.get(snapped.tobytes())
    if original is not None:
        return palette.images[original].copy()
    # Colours that look alike on this background (black on black, smoke on white) count as
    # agreeing: the snapped cell cannot tell them apart, the fit below does the judging.
    alike = ((appearance[:, None] - appearance[None]) ** 2).sum(axis=-1) <= 4
    canonical = np.argmax(alike, axis=1)
    agreement = np.count_nonzero(
        canonical[palette.indices[:, telling]] == canonical[snapped[telling]], axis=1
    )
    candidates = np.argpartition(agreement, -8)[-8:]
    guess = palette.indices[candidates]
    fit = np.sqrt(
        np.minimum(
            ((appearance[guess] - cells) ** 2).sum(axis=-1),
            ((flattened[guess] - cells) ** 2).sum(axis=-1),
        )
    )
    best = int(np.argmin((fit**2).sum(axis=1)))
    if (fit[best] - residual).max() <= _match_tolerance(residual, snapped):
        return palette.images[candidates[best]].copy()

    far = (residual > _FAR_FROM_PALETTE).mean()
    if far > _MAX_FAR_SHARE:
        raise _not_a_punk(f"{far:.0%} of its cells are far from every CryptoPunk colour")
    punk = palette.rgba[snapped].reshape(PUNK_SIZE, PUNK_SIZE, 4)
    if (punk[..., 3] > 0).sum() < _MIN_PUNK_CELLS:
        raise _not_a_punk("too few of its cells stand out from the background to be a punk")
    return punk


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
    included). Lossy codecs blur palette colours that are only a few levels apart, so when one
    of the 10,000 original punks explains every cell within the upload's noise, that original is
    returned: exact pixels even from a JPEG. A punk that is none of the originals (an edit, a
    generated punk) keeps its palette-snapped pixels.

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
            from the punk palette). The message says which.
    """
    colours, grey = _read_cells(data)
    background = _background(colours)
    if grey:
        return _decode_grey(colours.reshape(-1), float(background[0]))
    return _decode_colour(colours, background)


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
