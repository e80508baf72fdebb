"""Benchmark `load_image` on the 1,000 test punks re-encoded the ways punks are found on the web.

For each encoding every test punk (ids 9000-9999) is encoded, decoded with `load_image` and
compared with the original pixels; the decode (file bytes to 24x24 RGBA, PIL's decoding included)
is timed with time.perf_counter. Prints a Markdown table: exact-match rate, refusals, files that
came back as other pixels (and how many pixels were wrong), median and 95th-percentile decode
time per encoding. `--hostile` runs the files of issue 19 instead (grey with alpha stored as
RGBA, small lossy files), where the target is no wrong file at all: exact or refused.

    python -m bench.bench_upload [--limit N] [--seed S] [--hostile]
"""

import argparse
import io
import platform
import time

import numpy as np
from PIL import Image

from punks_core.dataset import load_punks
from punks_core.errors import InvalidImageError
from punks_core.imaging import composite, load_image
from tests.test_imaging_upload import (  # the tests' encoders
    GREY_WITH_ALPHA,
    SMALL_LOSSY,
    exact_palette,
)

BLUE, WHITE = "#638596", "#ffffff"


def encode(punk, *, size=24, smooth=False, background=None, fmt="PNG", palette=False, **options):
    if background is None:
        image = Image.fromarray(punk, "RGBA")
    else:
        image = Image.fromarray(composite(punk[None], background)[0], "RGB")
    if size != 24:
        resample = Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST
        image = image.resize((size, size), resample)
    if palette:
        image = exact_palette(image, gif=fmt == "GIF")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def random_colour(rng: np.random.Generator) -> str:
    return "#" + bytes(rng.integers(0, 256, 3, dtype=np.uint8).tolist()).hex()


# name -> options for `encode`; "random" picks a new solid background colour for every punk.
ENCODINGS = {
    "PNG x1, transparent": {},
    "PNG x10, punk blue": {"size": 240, "background": BLUE},
    "PNG 24->337 bilinear, random solid colour": {
        "size": 337,
        "smooth": True,
        "background": "random",
    },
    "JPEG q90 x8, white": {"size": 192, "background": WHITE, "fmt": "JPEG", "quality": 90},
    "JPEG q75 x8, punk blue": {"size": 192, "background": BLUE, "fmt": "JPEG", "quality": 75},
    "WebP lossy q80 x5, punk blue": {
        "size": 120,
        "background": BLUE,
        "fmt": "WEBP",
        "quality": 80,
    },
    "WebP lossless x1, transparent": {"fmt": "WEBP", "lossless": True},
    "GIF x4, punk blue": {"size": 96, "background": BLUE, "fmt": "GIF", "palette": True},
    # GIF transparency is on/off: smoke is stored as its opaque grey.
    "GIF x4, transparent": {"size": 96, "fmt": "GIF", "palette": True},
}


def run(name, make, images, seed):
    """Decode `make(punk, rng)` for every punk: exact, refused, wrong files and timings."""
    rng = np.random.default_rng(seed)
    exact = refused = 0
    wrong = []
    seconds = []
    for punk in images:
        data = make(punk, rng)
        start = time.perf_counter()
        try:
            decoded = load_image(data)
        except InvalidImageError:
            refused += 1
            continue
        finally:
            seconds.append(time.perf_counter() - start)
        if np.array_equal(decoded, punk):
            exact += 1
        else:
            wrong.append(int((decoded != punk).any(axis=-1).sum()))
    return {
        "name": name,
        "n": len(images),
        "exact": exact,
        "refused": refused,
        "wrong": len(wrong),
        "wrong_pixels": f"{int(np.median(wrong))} / {max(wrong)}" if wrong else "-",
        "median_ms": 1000 * float(np.median(seconds)),
        "p95_ms": 1000 * float(np.quantile(seconds, 0.95)),
    }


def with_options(options):
    """`encode` with ENCODINGS options; "random" picks a new background for every punk."""

    def make(punk, rng):
        settings = dict(options)
        if settings.get("background") == "random":
            settings["background"] = random_colour(rng)
        return encode(punk, **settings)

    return make


def row(result) -> str:
    return (
        f"| {result['name']} | {result['n']} | {100 * result['exact'] / result['n']:.1f} % "
        f"| {result['refused']} | {result['wrong']} | {result['wrong_pixels']} "
        f"| {result['median_ms']:.1f} | {result['p95_ms']:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N test punks")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random backgrounds")
    parser.add_argument("--hostile", action="store_true", help="the files of issue 19 instead")
    args = parser.parse_args()

    punks = load_punks().split("test")
    images = punks.images[: args.limit]
    load_image(encode(images[0]))  # build the palette and index outside the timings

    if args.hostile:
        makers = {
            f"{name} (issue 19)": (lambda f: lambda punk, rng: f(punk))(make)
            for name, make in {**GREY_WITH_ALPHA, **SMALL_LOSSY}.items()
        }
    else:
        makers = {name: with_options(options) for name, options in ENCODINGS.items()}
    results = [run(name, make, images, args.seed) for name, make in makers.items()]
    header = [
        "| encoding | punks | exact match | refused | wrong files | wrong pixels median / max "
        "| median ms | p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    total = sum(result["exact"] for result in results)
    count = sum(result["n"] for result in results)
    seconds = [result["median_ms"] for result in results]
    print(
        f"load_image on test punks {punks.ids[0]}-{punks.ids[len(images) - 1]}; "
        f"Python {platform.python_version()}, {platform.machine()}"
    )
    print()
    print("\n".join(header + [row(result) for result in results]))
    print(
        f"| **overall** | {count} | **{100 * total / count:.2f} %** | "
        f"{sum(result['refused'] for result in results)} | "
        f"{sum(result['wrong'] for result in results)} | | {np.median(seconds):.1f} | |"
    )


if __name__ == "__main__":
    main()
