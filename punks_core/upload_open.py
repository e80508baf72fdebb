"""Opening an uploaded file safely: known formats only, its size checked before decoding.

`open_upload` is the one door for uploaded bytes (`load_image` and `load_picture` both go
through it). It refuses what is not an image in a known format, a decompression bomb, a picture
over `MAX_SIDE` or `MAX_PIXELS`, and PNG metadata too large to read safely, each with an
`InvalidImageError` that says what to upload instead.
"""

import io
import re

from PIL import Image, ImageOps

from punks_core.errors import InvalidImageError

MAX_SIDE = 4096
MAX_PIXELS = 16_000_000
UPLOAD_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
NOT_AN_IMAGE = (
    "The file is not an image PIL can read (PNG, JPEG, WebP, GIF or BMP): {why}. "
    "Save the punk as a PNG and upload that."
)
BIG_METADATA = (
    "The PNG carries a metadata chunk (text or a colour profile) larger than the 1 MB that is "
    "read safely, so it was not decoded. Export the image again without metadata (or take a "
    "screenshot of it) and upload that."
)


def open_upload(data: bytes, side: int | None = None) -> Image.Image:
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
