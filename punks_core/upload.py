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

The steps live in their own modules: `upload_open` (opening the file safely), `upload_cells`
(the 24x24 cells and the background), `palette` (the punk colours) and `upload_match` (which
original the cells show). This module decides between them: `load_image` for punks,
`load_picture` for any picture (the Convolution Lab). `punks_core.imaging` re-exports both.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image

from punks_core.dataset import PUNK_SIZE, Punks, load_punks
from punks_core.errors import InvalidImageError
from punks_core.palette import load_palette
from punks_core.upload_cells import NOT_A_PUNK, Cells, find_background, not_a_punk, read_cells
from punks_core.upload_match import (
    ERASING_SCALE,
    Looks,
    match_grey,
    match_original,
    nearest_original,
)
from punks_core.upload_open import NOT_AN_IMAGE, open_upload

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

# A punk has few cells far from every palette colour, and enough cells that are not background.
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


@dataclass(frozen=True)
class DecodedUpload:
    """An upload read back: its exact pixels, and which of the 10,000 it is (None: not one)."""

    image: np.ndarray  # (24, 24, 4) uint8 RGBA
    punk_id: int | None


def known_punk(punks: Punks, punk_id: int) -> DecodedUpload:
    """Punk `punk_id` of `punks`, as an upload of it reads back."""
    return DecodedUpload(punks.images[punks.row(punk_id)], int(punk_id))


def _original(punk_id: int) -> DecodedUpload:
    return DecodedUpload(load_palette().images[punk_id].copy(), int(punk_id))


def _decode_colour(cells: Cells, background: np.ndarray) -> DecodedUpload:
    palette = load_palette()
    looks = Looks.on(background)
    flat_cells = cells.colours.reshape(-1, 3).astype(np.float32)
    distance = looks.distances(flat_cells)
    # Nearest palette colour; an exact tie (smoke over white is an opaque grey) goes to the
    # more frequent colour.
    snapped = np.argmin(distance - 1e-3 * palette.log_prior, axis=1).astype(np.uint8)
    residual = distance[np.arange(len(flat_cells)), snapped]
    original = load_punks().index.find(palette.rgba[snapped].reshape(PUNK_SIZE, PUNK_SIZE, 4))
    if original is not None:
        return _original(original)

    lossless = residual.max() <= _LOSSLESS_LEVELS
    strays = None
    if lossless:
        original, strays = nearest_original(snapped, looks)
        if strays == 0:
            return _original(original)
    elif cells.paletted:
        # Palette colours that are not punk colours mean a colour-reduced copy: a quantiser
        # moves colours systematically, not at random, and moved #713f1d to within 1.4 levels
        # of #763b1a, punk 9013 into punk 1000. No noise model can undo that.
        original = None
    else:
        original = match_original(flat_cells, looks, cells.size[0] / PUNK_SIZE)
        if original is not None:
            return _original(original)
    if (
        not lossless
        and cells.format in _LOSSY_FORMATS
        and cells.size[0] < ERASING_SCALE * PUNK_SIZE
    ):
        # Pixel art on the grid (checked when reading) whose colours a small lossy file blurred.
        raise InvalidImageError(_unreadable(cells))
    far = (residual > _FAR_FROM_PALETTE).mean()
    if far > _MAX_FAR_SHARE:
        raise not_a_punk(f"{far:.0%} of its cells are far from every CryptoPunk colour")
    if np.count_nonzero(palette.rgba[snapped, 3]) < _MIN_PUNK_CELLS:
        raise not_a_punk("too few of its cells stand out from the background to be a punk")
    if lossless and strays > _SUBTLE_LEVELS:
        return DecodedUpload(
            palette.rgba[snapped].reshape(PUNK_SIZE, PUNK_SIZE, 4), None
        )  # an edit
    raise InvalidImageError(_unreadable(cells))


def _unreadable(cells: Cells) -> str:
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


def _decode_grey(luma: np.ndarray, background: float) -> DecodedUpload:
    original = match_grey(luma, background)
    if original is None:
        raise not_a_punk(
            "it is a grayscale image, and the colours of a punk cannot be recovered from "
            "grayscale unless it is unmistakably one of the 10,000 originals; upload the colour "
            "image"
        )
    return _original(original)


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
    return read_upload(data).image


def read_upload(data: bytes) -> DecodedUpload:
    """`load_image`, and which of the 10,000 punks the file is (`punk_id`; None for an edit).

    Raises:
        InvalidImageError: as `load_image`.
    """
    cells = read_cells(data)
    try:
        background = find_background(cells.colours)
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
    image = open_upload(data, side=max_side)
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
