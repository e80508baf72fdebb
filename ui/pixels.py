"""Punks drawn pixel-exact: HTML images at whole-number zooms that never shrink to the column.

`st.image` shrinks a picture wider than its column, which made zoom levels look alike and
pixels uneven; these draw each punk pixel as exactly `scale` x `scale` CSS pixels with
`image-rendering: pixelated`, in a container that scrolls sideways when it is too wide.
"""

import base64
import io

import numpy as np
import streamlit as st
from PIL import Image

from punks_core.constants import BACKGROUND_HEX
from punks_core.imaging import composite, grid


def png_data_url(picture: np.ndarray) -> str:
    """An RGB(A) uint8 array as a `data:` URL, for pictures drawn with HTML."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(picture)).save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def png_bytes(image: np.ndarray) -> bytes:
    """A 24x24 RGBA punk as the bytes of a PNG file, for a download button."""
    buffer = io.BytesIO()
    Image.fromarray(image, "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def exact_img(picture: np.ndarray, scale: int, alt: str) -> str:
    """An <img> drawing each pixel of `picture` as exactly `scale` x `scale` CSS pixels.

    `st.image` shrinks a picture wider than its column, so zoom levels above the column's
    width would all look the same and pixels come out uneven; this never rescales.
    """
    height, width = picture.shape[:2]
    return (
        f'<img src="{png_data_url(picture)}" alt="{alt}" width="{width * scale}" '
        f'height="{height * scale}" data-scale="{scale}" style="image-rendering: pixelated; '
        'max-width: none; display: block">'
    )


def show_punk_grid(
    images: np.ndarray, columns: int, scale: int, background: str | None, alt: str = "punks"
) -> None:
    """All `images` as one picture, `scale` CSS pixels per punk pixel, scrolled if too wide."""
    picture = grid(images, columns, background=background, gap=1)
    st.html(
        f'<div class="punk-grid" style="overflow-x: auto">{exact_img(picture, scale, alt)}</div>'
    )


def show_labelled_rows(rows: list[tuple[str, np.ndarray]], scale: int, background: str) -> None:
    """One row of punks per label, the label on its left: e.g. a GAN grid, a row per type."""
    label_style = "align-self: center; font-weight: 600; padding-right: 0.75rem"
    cells = "".join(
        f'<div style="{label_style}">{label}</div><div>'
        + exact_img(grid(images, len(images), background=background, gap=1), scale, label)
        + "</div>"
        for label, images in rows
    )
    st.html(
        '<div class="punk-rows" style="overflow-x: auto; display: grid; '
        f'grid-template-columns: max-content max-content; row-gap: 4px">{cells}</div>'
    )


def show_punk(image: np.ndarray, scale: int = 10, background: str | None = BACKGROUND_HEX) -> None:
    """One punk on `background`, `scale` times its size, with crisp square pixels.

    Inline PNG, not `st.image`: that would send an RGB punk as a JPEG (blurred edges and
    stray colours on pixel art) and fetch it only after the page is drawn.
    """
    st.html(
        f'<div class="punk">{exact_img(composite(image[None], background)[0], scale, "punk")}</div>'
    )
