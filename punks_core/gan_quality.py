"""How good are generated punks? Palette snapping, a "punk FID", memorisation and neighbours.

NumPy only: the GAN's training loop, its benchmark and the gallery page all use these, and the
page must be able to show nearest neighbours without TensorFlow.
"""

import numpy as np

from punks_core.dataset import PunkIndex
from punks_core.palette import punk_palette


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Generator output in [-1, 1] (tanh) -> uint8 RGBA in [0, 255]."""
    return np.clip(np.rint((np.asarray(images, np.float32) + 1) * 127.5), 0, 255).astype(np.uint8)


def to_unit_range(images: np.ndarray) -> np.ndarray:
    """uint8 RGBA punks -> float32 in [-1, 1], what the GAN sees."""
    return np.asarray(images, np.float32) / 127.5 - 1


def snap_to_palette(images: np.ndarray) -> np.ndarray:
    """Replace every pixel by the nearest of the 222 punk colours (RGBA distance).

    Args:
        images: uint8 RGBA, any leading shape, last axis 4.

    Returns:
        uint8 RGBA of the same shape whose pixels are all punk colours.
    """
    images = np.asarray(images, np.uint8)
    palette = punk_palette().astype(np.float32)
    pixels = images.reshape(-1, 4).astype(np.float32)
    squared = (pixels**2).sum(1, keepdims=True) - 2 * pixels @ palette.T + (palette**2).sum(1)
    return punk_palette()[squared.argmin(axis=1)].reshape(images.shape)


def in_palette(images: np.ndarray) -> np.ndarray:
    """Which pixels of uint8 RGBA `images` (any leading shape, last axis 4) are punk colours."""
    # One big-endian 32-bit key per RGBA pixel, as the upload decoder's palette is built.
    keys = np.ascontiguousarray(images, np.uint8).view(">u4")[..., 0]
    return np.isin(keys, np.ascontiguousarray(punk_palette()).view(">u4"))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between two feature sets seen as Gaussians (the formula of FID).

    ||mu_a - mu_b||^2 + Tr(C_a + C_b - 2 (C_a C_b)^1/2), with the trace of the matrix square
    root taken from the eigenvalues of C_a^1/2 C_b C_a^1/2 (symmetric, so `eigh` is exact and
    SciPy is not needed).
    """
    a = np.asarray(features_a, np.float64)
    b = np.asarray(features_b, np.float64)
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    distance = ((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    return float(max(distance, 0.0))


class RealPunks:
    """Real punks indexed once for nearest-neighbour and exact-copy lookups.

    Build one per set of reals and keep it (the gallery caches one for the 10,000 punks; the
    training judge one for its training punks): the index holds a float copy of every pixel.
    """

    def __init__(self, reals: np.ndarray):
        self.images = np.asarray(reals, np.uint8)
        rows = self.images.reshape(len(self.images), -1)
        self._flat = rows.astype(np.float32)
        self._squares = (self._flat**2).sum(1)
        self.index = PunkIndex(self.images, np.arange(len(self.images)))

    def nearest(self, samples: np.ndarray, batch: int = 512) -> np.ndarray:
        """For each sample, the row of the nearest real punk in RGBA pixel space (Euclidean).

        Args:
            samples: uint8 RGBA (n, 24, 24, 4).

        Returns:
            int array (n,) of rows of `images`.
        """
        samples = np.asarray(samples, np.uint8).reshape(len(samples), -1).astype(np.float32)
        rows = [
            (self._squares - 2 * samples[k : k + batch] @ self._flat.T).argmin(axis=1)
            for k in range(0, len(samples), batch)
        ]
        return np.concatenate(rows) if rows else np.zeros(0, int)

    def memorisation(self, samples: np.ndarray) -> dict:
        """Does the generator copy real punks?

        Samples are snapped to the punk palette first: raw generator colours are never exactly
        a palette colour, so without snapping nothing would ever count as a copy.

        Returns:
            "copies": share of snapped samples identical to a real punk, pixel for pixel;
            "nearest_pixels": median count of pixels that differ from the nearest real punk.
        """
        snapped = snap_to_palette(samples)
        copies = np.mean([image in self.index for image in snapped])
        nearest = self.images[self.nearest(snapped)]
        return {
            "copies": float(copies),
            "nearest_pixels": float(np.median(differing_pixels(snapped, nearest))),
        }


def nearest_real(samples: np.ndarray, reals: np.ndarray) -> np.ndarray:
    """`RealPunks(reals).nearest(samples)`, for a one-off search."""
    return RealPunks(reals).nearest(samples)


def differing_pixels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many of the 576 pixels differ between punks a[i] and b[i]."""
    return (np.asarray(a) != np.asarray(b)).any(axis=-1).reshape(len(a), -1).sum(axis=1)


def memorisation(samples: np.ndarray, reals: np.ndarray) -> dict:
    """`RealPunks(reals).memorisation(samples)`, for a one-off check."""
    return RealPunks(reals).memorisation(samples)
