"""The punk palette: the 222 colours of the 10,000 punks, and every punk written in them.

`load_palette()` reads the shipped dataset once (cached) and returns a `PunkPalette`: the colours
sorted (row 0 transparent), how often each occurs over all pixels, and each punk's 576 pixels as
indices into the colours: what the upload decoder reads uploads against. `punk_palette()` is
the colours alone, which the classifier's and the GAN's palette layers and the GAN's quality
checks use.
"""

import functools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PunkPalette:
    """The punk colours and the 10,000 punks written as indices into them."""

    rgba: np.ndarray  # (P, 4) uint8, sorted; row 0 is transparent
    log_prior: np.ndarray  # (P,) log frequency of each colour over all pixels
    indices: np.ndarray  # (N, 576) uint8 palette index of every pixel of every punk
    images: np.ndarray  # (N, 24, 24, 4) uint8, the punks themselves


@functools.cache
def load_palette() -> PunkPalette:
    """The palette of the shipped 10,000 punks, built on first use (about a second) and kept."""
    from punks_core.dataset import load_punks

    images = load_punks().images
    # One big-endian 32-bit key per pixel sorts like the RGBA rows and is far faster to take
    # apart than rows (this runs on the first upload, inside its time budget).
    keys = np.ascontiguousarray(images).view(">u4").reshape(len(images), -1)
    colours = np.unique(keys)
    indices = np.searchsorted(colours, keys).astype(np.uint8)
    counts = np.bincount(indices.ravel(), minlength=len(colours))
    rgba = colours.astype(">u4").view(np.uint8).reshape(-1, 4)
    return PunkPalette(rgba, np.log(counts / counts.sum()), indices, images)


def punk_palette() -> np.ndarray:
    """The 222 RGBA colours of the 10,000 punks, sorted; row 0 is the transparent background."""
    return load_palette().rgba
