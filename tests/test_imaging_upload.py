"""Decoding uploads: punks re-encoded the ways they are found on the web come back exact."""

import contextlib
import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from punks_core.errors import InvalidImageError
from punks_core.imaging import composite, load_image, load_picture, punk_palette

BLUE, WHITE = "#638596", "#ffffff"
ORIENTATION = 0x0112


def flatten(punk: np.ndarray, background: str | None) -> Image.Image:
    if background is None:
        return Image.fromarray(punk, "RGBA")
    return Image.fromarray(composite(punk[None], background)[0], "RGB")


def exact_palette(image: Image.Image, gif: bool = False) -> Image.Image:
    """Mode "P" with exactly the image's colours (PIL's quantizers may merge close ones)."""
    rgba = np.asarray(image.convert("RGBA"))
    colours, inverse = np.unique(rgba.reshape(-1, 4), axis=0, return_inverse=True)
    paletted = Image.fromarray(inverse.reshape(rgba.shape[:2]).astype(np.uint8), "P")
    paletted.putpalette(colours[:, :3].ravel().tolist())
    # PNG keeps an alpha per palette entry (smoke survives); GIF keeps one clear entry only.
    if gif and (colours[:, 3] == 0).any():
        paletted.info["transparency"] = int(np.flatnonzero(colours[:, 3] == 0)[0])
    elif not gif and (colours[:, 3] < 255).any():
        paletted.info["transparency"] = bytes(colours[:, 3].tolist())
    return paletted


def chunk(kind: bytes, body: bytes) -> bytes:
    """A PNG chunk: length, type, body, CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_16bit(pixels: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGBA (H, W, 4) or grey+alpha (H, W, 2) PNG, which PIL cannot write."""

    height, width, channels = pixels.shape
    wide = (pixels.astype(">u2") * 257).reshape(height, -1).tobytes()
    stride = width * channels * 2
    rows = b"".join(b"\0" + wide[k * stride : (k + 1) * stride] for k in range(height))
    colour_type = {2: 4, 4: 6}[channels]
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def encode(
    punk: np.ndarray,
    *,
    size: int = 24,
    resample: Image.Resampling = Image.Resampling.NEAREST,
    background: str | None = None,
    fmt: str = "PNG",
    mode: str | None = None,
    **options,
) -> bytes:
    image = flatten(punk, background)
    if size != 24:
        image = image.resize((size, size), resample)
    if mode == "P":
        image = exact_palette(image, gif=fmt == "GIF")
    elif mode == "RGBA16":
        return png_16bit(np.asarray(image.convert("RGBA")))
    elif mode is not None:
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def exif_rotated_jpeg(punk: np.ndarray) -> bytes:
    """A JPEG stored on its side, with the EXIF orientation that puts it upright."""
    upright = flatten(punk, WHITE).resize((192, 192), Image.Resampling.NEAREST)
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # "rotate 90 degrees clockwise to display"
    buffer = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def animated_gif(punk: np.ndarray, other: np.ndarray) -> bytes:
    frames = [
        exact_palette(flatten(image, BLUE).resize((96, 96), Image.Resampling.NEAREST), gif=True)
        for image in (punk, other)
    ]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return buffer.getvalue()


ENCODINGS = {
    "png x1 transparent": {},
    "png x4 blue": {"size": 96, "background": BLUE},
    "png x10 white": {"size": 240, "background": WHITE},
    "png 24->100 transparent": {"size": 100},
    "png 24->337 nearest green": {"size": 337, "background": "#2c7f3a"},
    "png 24->337 bilinear blue": {
        "size": 337,
        "resample": Image.Resampling.BILINEAR,
        "background": BLUE,
    },
    "png 24->1000 nearest white": {"size": 1000, "background": WHITE},
    "png palette x4 blue": {"size": 96, "background": BLUE, "mode": "P"},
    "png palette x4 transparent": {"size": 96, "mode": "P"},
    "png 16-bit x2 transparent": {"size": 48, "mode": "RGBA16"},
    "jpeg q90 x8 white": {"size": 192, "background": WHITE, "fmt": "JPEG", "quality": 90},
    "jpeg q75 x8 blue": {"size": 192, "background": BLUE, "fmt": "JPEG", "quality": 75},
    "jpeg q75 x10 orange": {"size": 240, "background": "#e08a1e", "fmt": "JPEG", "quality": 75},
    "jpeg q90 24->1000 blue": {"size": 1000, "background": BLUE, "fmt": "JPEG", "quality": 90},
    "jpeg cmyk x8 blue": {
        "size": 192,
        "background": BLUE,
        "fmt": "JPEG",
        "mode": "CMYK",
        "quality": 90,
    },
    "webp lossless x1 transparent": {"fmt": "WEBP", "lossless": True},
    "webp lossless x6 blue": {"size": 144, "background": BLUE, "fmt": "WEBP", "lossless": True},
    "webp lossy x5 blue": {"size": 120, "background": BLUE, "fmt": "WEBP", "quality": 80},
    "webp lossy x6 transparent": {"size": 144, "fmt": "WEBP", "quality": 80},
    "gif x4 blue": {"size": 96, "background": BLUE, "fmt": "GIF", "mode": "P"},
}


@pytest.fixture(scope="module")
def test_punks(punks):
    """A seeded sample of test-split punks, smoke punks first."""
    test = punks.split("test")
    smoke = np.flatnonzero((test.images[..., 3] == 128).any(axis=(1, 2)))
    rest = np.setdiff1d(np.arange(len(test.ids)), smoke)
    chosen = np.concatenate([smoke[:2], np.random.default_rng(7).choice(rest, 4, replace=False)])
    return test.images[chosen]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_round_trip_is_exact(test_punks, encoding):
    options = ENCODINGS[encoding]
    # Big uploads cost most in PNG encoding here; two punks (one smoking) cover them.
    sample = test_punks[1:3] if options.get("size", 24) > 300 else test_punks
    for punk in sample:
        decoded = load_image(encode(punk, **options))
        assert decoded.dtype == np.uint8 and decoded.shape == (24, 24, 4)
        np.testing.assert_array_equal(decoded, punk)


def test_smoke_punks_round_trip_exactly(punks):
    test = punks.split("test")
    smoke = np.flatnonzero((test.images[..., 3] == 128).any(axis=(1, 2)))
    assert len(smoke) >= 10
    for punk in test.images[smoke[2:10]]:
        for options in (
            {"size": 96},
            {"size": 96, "background": WHITE},
            {"size": 192, "background": BLUE, "fmt": "JPEG", "quality": 90},
        ):
            np.testing.assert_array_equal(load_image(encode(punk, **options)), punk)


def test_random_solid_backgrounds(test_punks):
    rng = np.random.default_rng(3)
    for punk in test_punks:
        background = "#" + bytes(rng.integers(0, 256, 3, dtype=np.uint8).tolist()).hex()
        for fmt in ("PNG", "JPEG"):
            data = encode(punk, size=168, background=background, fmt=fmt, quality=90)
            np.testing.assert_array_equal(load_image(data), punk)


def test_black_background_keeps_the_look(punks, test_punks):
    """On black, outline and background look alike: 100 punks have a twin that differs only
    there. The decoded punk must look the same on black, and be exact when it has no twin."""
    black = "#000000"
    for punk in test_punks:
        for options in ({"size": 192}, {"size": 192, "fmt": "JPEG", "quality": 90}):
            decoded = load_image(encode(punk, background=black, **options))
            np.testing.assert_array_equal(composite(decoded, black), composite(punk, black))
            # An original: the punk itself or its look-alike twin.
            assert (punks.images == decoded).all(axis=(1, 2, 3)).any()


def test_exif_rotation_and_animation(test_punks):
    for punk, other in zip(test_punks, test_punks[::-1], strict=True):
        np.testing.assert_array_equal(load_image(exif_rotated_jpeg(punk)), punk)
        np.testing.assert_array_equal(load_image(animated_gif(punk, other)), punk)


def test_transparent_gif_without_smoke(test_punks):
    clear = [punk for punk in test_punks if not (punk[..., 3] == 128).any()]
    for punk in clear[:5]:
        data = encode(punk, size=96, fmt="GIF", mode="P")
        np.testing.assert_array_equal(load_image(data), punk)


def test_edited_punk_keeps_its_edit(test_punks):
    """A lossless punk that is none of the originals is snapped to the palette, not replaced."""
    edited = test_punks[5].copy()
    edited[0, 0] = (255, 0, 0, 255)  # a red pixel where every original is background
    np.testing.assert_array_equal(load_image(encode(edited, size=96)), edited)


def test_grayscale_is_matched_or_refused(test_punks):
    matched = 0
    for punk in test_punks:
        data = encode(punk, size=96, background=BLUE, mode="L")
        try:
            decoded = load_image(data)
        except InvalidImageError as error:
            assert "grayscale" in str(error)
        else:
            np.testing.assert_array_equal(decoded, punk)
            matched += 1
    assert matched >= len(test_punks) // 2


def test_grayscale_non_original_is_refused(test_punks):
    edited = test_punks[4].copy()
    edited[2:5, 0:2] = (255, 255, 255, 255)
    with pytest.raises(InvalidImageError, match="grayscale"):
        load_image(encode(edited, size=96, background=BLUE, mode="L"))


def test_palette_is_the_punk_palette():
    palette = punk_palette()
    assert palette.shape == (222, 4)
    assert tuple(palette[0]) == (0, 0, 0, 0)
    half = palette[palette[:, 3] == 128]
    assert sorted(map(tuple, half[:, :3])) == [(185, 185, 185), (221, 221, 221)]


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def grid_drawing(cells: int, size: int, rng: np.random.Generator) -> np.ndarray:
    colours = punk_palette()[1:][:, :3]
    drawing = colours[rng.integers(0, len(colours), (cells, cells))]
    drawing[0, :] = drawing[:, 0] = drawing[:, -1] = (99, 133, 150)
    return np.asarray(Image.fromarray(drawing).resize((size, size), Image.Resampling.NEAREST))


def not_a_punk_cases() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    ramp = np.linspace(0, 255, 256)
    gradient = np.stack(np.broadcast_arrays(ramp[None, :], ramp[:, None], 128 + 0 * ramp), -1)
    return {
        "noise": rng.integers(0, 256, (240, 240, 3), dtype=np.uint8),
        "small noise": rng.integers(0, 256, (24, 24, 3), dtype=np.uint8),
        "gradient photo": gradient.astype(np.uint8),
        "30x30 grid": grid_drawing(30, 240, rng),
        "48x48 grid": grid_drawing(48, 240, rng),
        "solid colour": np.full((96, 96, 3), (99, 133, 150), np.uint8),
    }


@pytest.mark.parametrize("case", not_a_punk_cases())
def test_non_punks_are_refused(case):
    with pytest.raises(InvalidImageError, match="does not look like a CryptoPunk"):
        load_image(png(not_a_punk_cases()[case]))


def test_shape_is_checked(test_punks):
    wide = np.asarray(flatten(test_punks[0], BLUE).resize((240, 200)))
    with pytest.raises(InvalidImageError, match="not square"):
        load_image(png(wide))
    with pytest.raises(InvalidImageError, match="at least 24x24"):
        load_image(png(np.zeros((20, 20, 3), np.uint8)))


def bomb_png(side: int = 20_000) -> bytes:
    """A 1-bit PNG that declares side x side pixels yet is a few tens of kilobytes."""

    row = b"\0" * (1 + side // 8)
    squeezer = zlib.compressobj(9)
    body = b"".join(squeezer.compress(row * 1000) for _ in range(side // 1000))
    body += squeezer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def bad_files(test_punks) -> dict[str, bytes]:
    whole = encode(test_punks[0], size=96)
    return {
        "empty": b"",
        "text": b"hello, I am not an image\n",
        "truncated png": whole[: len(whole) // 2],
        "bomb": bomb_png(),
        "over the size limit": bomb_png(5000),
        "svg": b'<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"/>',
    }


@pytest.mark.parametrize("loader", [load_image, load_picture])
def test_bad_bytes_are_refused(bad_files, loader):
    for name, data in bad_files.items():
        with pytest.raises(InvalidImageError) as caught:
            loader(data)
        message = str(caught.value)
        assert "image" in message, name
    assert len(bad_files["bomb"]) < 100_000
    with pytest.raises(InvalidImageError, match="too large"):
        loader(bad_files["bomb"])
    with pytest.raises(InvalidImageError, match="PNG, JPEG"):
        loader(bad_files["text"])


def test_mutated_bytes_raise_only_invalid_image_error(test_punks):
    rng = np.random.default_rng(5)
    seeds = [
        encode(test_punks[1], size=96, background=BLUE, fmt=fmt, quality=80)
        for fmt in ("PNG", "JPEG", "WEBP", "GIF")
    ]
    for k in range(120):
        data = np.frombuffer(seeds[k % len(seeds)], np.uint8).copy()
        positions = rng.integers(0, len(data), rng.integers(1, 8))
        data[positions] = rng.integers(0, 256, len(positions), dtype=np.uint8)
        if k % 5 == 0:
            data = data[: rng.integers(1, len(data))]
        start = time.perf_counter()
        with contextlib.suppress(InvalidImageError):
            load_image(data.tobytes())
        assert time.perf_counter() - start < 2


def jpeg(array: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def test_load_picture_shrinks_keeping_aspect():
    photo = np.random.default_rng(2).integers(0, 256, (1000, 2000, 3), dtype=np.uint8)
    picture = load_picture(jpeg(photo))
    assert picture.shape == (512, 1024, 4) and picture.dtype == np.uint8
    assert (picture[..., 3] == 255).all()
    assert load_picture(jpeg(photo), max_side=100).shape == (50, 100, 4)
    small = load_picture(png(photo[:30, :40]))
    np.testing.assert_array_equal(small[..., :3], photo[:30, :40])


def test_load_picture_modes():
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    buffer = io.BytesIO()
    Image.new("RGB", (200, 100), "red").save(buffer, "JPEG", exif=exif)
    assert load_picture(buffer.getvalue()).shape == (200, 100, 4)

    deep = Image.fromarray(np.full((10, 12), 65535, np.uint16))
    buffer = io.BytesIO()
    deep.save(buffer, "PNG")
    picture = load_picture(buffer.getvalue())
    assert picture.shape == (10, 12, 4) and (picture[..., :3] == 255).all()

    frames = [Image.new("P", (8, 8), colour) for colour in (1, 2)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    assert tuple(load_picture(buffer.getvalue())[0, 0]) == (255, 0, 0, 255)

    with pytest.raises(ValueError):
        load_picture(buffer.getvalue(), max_side=0)


# --- Hostile uploads (issue 19): the exact punk or a refusal in words, never other pixels ---


def save(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def grey_alpha(punk: np.ndarray) -> Image.Image:
    """The punk in grey, keeping its transparency (mode "LA")."""
    return Image.fromarray(punk, "RGBA").convert("LA")


# The same grey punk with an alpha channel, stored four ways; all but "LA" open as RGBA.
GREY_WITH_ALPHA = {
    "LA png": lambda punk: save(grey_alpha(punk)),
    "8-bit RGBA grey png": lambda punk: save(grey_alpha(punk).convert("RGBA")),
    "RGBA grey png x4": lambda punk: save(
        grey_alpha(punk).convert("RGBA").resize((96, 96), Image.Resampling.NEAREST)
    ),
    "lossless webp grey": lambda punk: save(
        grey_alpha(punk).convert("RGBA"), "WEBP", lossless=True
    ),
    "16-bit grey+alpha png": lambda punk: png_16bit(np.asarray(grey_alpha(punk))),
}


def decoded_or_refusal(data: bytes) -> np.ndarray | str:
    try:
        return load_image(data)
    except InvalidImageError as error:
        return str(error)


@pytest.mark.parametrize("storage", GREY_WITH_ALPHA)
def test_grey_with_alpha_decodes_as_la_does(test_punks, storage):
    """Before: 8-bit RGBA, WebP and 16-bit grey+alpha came back with ~80-180 wrong pixels each,
    read as colour on the backdrop; "LA" was right."""
    for punk in test_punks:
        reference = decoded_or_refusal(GREY_WITH_ALPHA["LA png"](punk))
        outcome = decoded_or_refusal(GREY_WITH_ALPHA[storage](punk))
        if isinstance(reference, str):
            assert isinstance(outcome, str) and "grayscale" in outcome
        else:
            np.testing.assert_array_equal(reference, punk)
            np.testing.assert_array_equal(outcome, punk)


def on_background(punk: np.ndarray, background: str, size: int = 24) -> Image.Image:
    image = flatten(punk, background)
    return image if size == 24 else image.resize((size, size), Image.Resampling.NEAREST)


# Files too lossy to read pixel by pixel: before the fix each gave a palette-snapped punk with
# tens to hundreds of wrong pixels for most punks (bench/bench_upload.py --hostile).
SMALL_LOSSY = {
    "jpeg 24x24 q75": lambda punk: save(on_background(punk, BLUE), "JPEG", quality=75),
    "jpeg 24x24 q95 (4:2:0)": lambda punk: save(on_background(punk, WHITE), "JPEG", quality=95),
    "jpeg 2x q75": lambda punk: save(on_background(punk, BLUE, 48), "JPEG", quality=75),
    "jpeg 3x q75": lambda punk: save(on_background(punk, BLUE, 72), "JPEG", quality=75),
    "webp 24x24 lossy": lambda punk: save(on_background(punk, BLUE), "WEBP", quality=80),
    "webp 24x24 lossy transparent": lambda punk: save(
        Image.fromarray(punk, "RGBA"), "WEBP", quality=80
    ),
    "png 64-colour quantised": lambda punk: save(Image.fromarray(punk, "RGBA").quantize(64)),
    "png 64-colour quantised x4 blue": lambda punk: save(
        on_background(punk, BLUE, 96).quantize(64, Image.Quantize.MAXCOVERAGE)
    ),
}


@pytest.fixture(scope="module")
def many_test_punks(punks):
    test = punks.split("test")
    return test.images[np.random.default_rng(19).choice(len(test.ids), 16, replace=False)]


@pytest.mark.parametrize("encoding", SMALL_LOSSY)
def test_small_lossy_files_are_exact_or_refused(many_test_punks, encoding):
    exact = 0
    for punk in many_test_punks:
        outcome = decoded_or_refusal(SMALL_LOSSY[encoding](punk))
        if isinstance(outcome, str):
            assert "upload the PNG" in outcome or "upload the original PNG" in outcome, outcome
        else:
            np.testing.assert_array_equal(outcome, punk)
            exact += 1
    # Refusing everything would pass the line above; most of these files are still readable.
    assert exact >= len(many_test_punks) // 2


def test_small_jpeg_refusal_says_what_to_upload(many_test_punks):
    messages = [
        outcome
        for punk in many_test_punks
        if isinstance(outcome := decoded_or_refusal(SMALL_LOSSY["jpeg 24x24 q75"](punk)), str)
    ]
    assert messages, "some 24x24 q75 JPEGs are too lossy to read: expected refusals"
    for message in messages:
        assert message.startswith("This JPEG is too small or too compressed"), message
        assert "24x24 pixels" in message and "upload the PNG, or a larger image" in message


def test_lossy_edited_punk_is_refused_not_replaced(test_punks):
    """An edit the file shows clearly is neither replaced by the original nor guessed."""
    for punk in test_punks[:4]:
        edited = punk.copy()
        edited[0, 0] = edited[0, 23] = (255, 0, 0, 255)  # where every original is background
        for options in (
            {"size": 192, "background": BLUE, "fmt": "JPEG", "quality": 90},
            {"size": 120, "background": BLUE, "fmt": "WEBP", "quality": 80},
        ):
            outcome = decoded_or_refusal(encode(edited, **options))
            assert isinstance(outcome, str) and "upload" in outcome, options


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_large_noise_is_not_a_punk(fmt):
    """Before: box-reduced (PNG) or DCT-scaled (JPEG) before the flat-cell check, 1800x1800
    noise averaged into flat cells and was accepted as a punk."""
    noise = np.random.default_rng(4).integers(0, 256, (1800, 1800, 3), dtype=np.uint8)
    data = save(Image.fromarray(noise), fmt, quality=90, compress_level=1)
    with pytest.raises(InvalidImageError, match="not one flat colour"):
        load_image(data)


def test_large_punks_still_decode(test_punks):
    """Full-resolution flatness must not refuse honest large uploads."""
    punk = test_punks[1]
    for fmt in ("PNG", "JPEG"):
        data = save(on_background(punk, BLUE, 1800), fmt, quality=75, compress_level=1)
        np.testing.assert_array_equal(load_image(data), punk)


def png_with_chunk(kind: bytes, body: bytes, before_data: bool = True) -> bytes:
    """A valid 24x24 PNG carrying one extra chunk before (or after) its pixels."""
    whole = save(Image.new("RGB", (24, 24), BLUE))
    extra = chunk(kind, body)
    cut = whole.index(b"IDAT") - 4 if before_data else whole.index(b"IEND") - 4
    return whole[:cut] + extra + whole[cut:]


@pytest.mark.parametrize(
    ("kind", "before_data"), [(b"zTXt", True), (b"iTXt", True), (b"zTXt", False), (b"iCCP", True)]
)
def test_oversized_metadata_is_named(kind, before_data):
    inflates = zlib.compress(b"a" * 3_000_000)  # 3 MB of text in a few kB
    body = {
        b"zTXt": b"Comment\0\0" + inflates,
        b"iTXt": b"Comment\0\1\0\0\0" + inflates,
        b"iCCP": b"profile\0\0" + inflates,
    }[kind]
    with pytest.raises(InvalidImageError) as caught:
        load_image(png_with_chunk(kind, body, before_data))
    assert "metadata chunk" in str(caught.value)
    assert "not recognised" not in str(caught.value)


def test_size_refusals_name_the_limit_broken():
    square = bomb_png(4096)  # a side of exactly 4096 is allowed; 16.8 megapixels is not
    with pytest.raises(InvalidImageError) as caught:
        load_image(square)
    message = str(caught.value)
    assert "4096x4096" in message and "16.8 megapixels" in message
    assert "4096 pixels a side" not in message and "at most 4096" not in message
    header = struct.pack(">IIBBBBB", 5000, 24, 8, 2, 0, 0, 0)  # refused before its pixels
    wide = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
    with pytest.raises(InvalidImageError, match="5000x24 pixels, and a side may be at most 4096"):
        load_image(wide)


def test_lossless_file_near_an_original_is_refused_not_guessed(punks):
    """A lossless file whose colours stray from an original's by a few levels only (a
    64-colour palette turned punk 9207's #595959 into the punk colour #555555) could be a
    colour-reduced copy or an edit: neither guess is safe."""
    punk = punks.images[9207]
    quantised = Image.fromarray(punk, "RGBA").quantize(64)
    assert (np.asarray(quantised.convert("RGBA"))[18, 14] == (85, 85, 85, 255)).all()
    with pytest.raises(InvalidImageError, match="upload the original PNG"):
        load_image(save(quantised))
    drawn = punk.copy()
    drawn[18, 14:19] = (85, 85, 85, 255)  # the same pixels drawn by hand, enlarged x4
    assert tuple(punk[18, 14]) == (89, 89, 89, 255)
    with pytest.raises(InvalidImageError, match="colour-reduced or edited"):
        load_image(encode(drawn, size=96))
