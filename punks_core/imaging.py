"""Punk images out, exactly: composite on a background, zoom, lay out in a grid.

Rendering keeps pixels exact: punks are composited onto a solid background and enlarged by
whole-number factors only (nearest neighbour), so every punk pixel stays a square.

Images in are decoded by `punks_core.upload`; `load_image` (the public way to read a punk
upload), `load_picture`, the upload limits and `punk_palette` are re-exported here.
"""

import numpy as np

from punks_core.dataset import BACKGROUND_HEX
from punks_core.palette import punk_palette
from punks_core.upload import load_image, load_picture
from punks_core.upload_open import MAX_PIXELS, MAX_SIDE

__all__ = [
    "MAX_PIXELS",
    "MAX_SIDE",
    "composite",
    "grid",
    "hex_to_rgb",
    "load_image",
    "load_picture",
    "punk_palette",
    "zoom",
]


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
