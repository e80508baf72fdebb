"""Which of the 10,000 original punks an upload's cells show, if any, beyond doubt.

One function per kind of file, each consulting the originals (through `palette.load_palette`):

(Whether the snapped cells are an original pixel for pixel, the common case, is one lookup
in the data layer's `Punks.index`.)

- `nearest_original`: a file in exact punk colours: the original closest to it, and how far
  it strays (an edit, or an original that looks the same on this background);
- `match_original`: a lossy file (JPEG, WebP): the one original that explains it clearly better
  than every other that looks different, judged against the file's own noise;
- `match_grey`: a grayscale file, by brightness alone.

`Looks` is how each palette colour looks on the upload's background.
"""

import functools
from dataclasses import dataclass

import numpy as np

from punks_core.dataset import PUNK_SIZE
from punks_core.palette import load_palette
from punks_core.upload_cells import LUMA

# RGB -> (Y, Cb, Cr), the space JPEG and WebP quantise and subsample in.
_YCBCR = np.array(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]],
    dtype=np.float32,
)

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
# ERASING_SCALE pixels per punk pixel, against an original whose extra detail covers at most
# _SMALL_DETAIL_CELLS cells, the file must sit this close to the best one. At 4x and more a
# punk pixel spans whole codec blocks, and no such loss was seen.
_MIN_SIDEDNESS_ERASABLE = 0.9
ERASING_SCALE = 3.5
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


@functools.cache
def _punk_luma() -> np.ndarray:
    """(N, 576, 2): each punk pixel's premultiplied luma and its alpha in [0, 1]."""
    palette = load_palette()
    alpha = palette.rgba[:, 3].astype(np.float32) / 255
    luma = palette.rgba[:, :3].astype(np.float32) @ LUMA.astype(np.float32) * alpha
    return np.stack([luma, alpha], axis=-1)[palette.indices]


@functools.cache
def _gather_index() -> np.ndarray:
    """(N, 576) int32: where each punk's pixel sits in a flattened (576, P) per-cell table.

    Summing a table of per-cell, per-colour costs at these positions scores all 10,000 punks
    in one gather (about 9 ms), which is what lets every original be considered.
    """
    palette = load_palette()
    offsets = np.arange(PUNK_SIZE * PUNK_SIZE, dtype=np.int32) * len(palette.rgba)
    return palette.indices.astype(np.int32) + offsets


@dataclass(frozen=True)
class Looks:
    """How each palette colour looks on one background.

    Formats with on/off transparency (GIF) and tools that drop alpha draw smoke as its opaque
    grey, a colour no punk has: that look stands for smoke too (`flattened`).
    """

    appearance: np.ndarray  # (P, 3) the colour composited on the background
    flattened: np.ndarray  # (P, 3) the same, smoke drawn as its opaque grey

    @classmethod
    def on(cls, background: np.ndarray) -> "Looks":
        rgba = load_palette().rgba
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


def match_original(cells: np.ndarray, looks: Looks, scale: float) -> int | None:
    """The one original the cells show beyond doubt, or None (see the tolerances above).

    `scale` is the file's pixels per punk pixel: it says how the decoder's chroma upsampling
    reaches cell centres, and whether a one-cell detail is small enough to be lost whole.
    """
    blur = "blocks" if scale < 1.5 else "cells" if scale < 2.5 else None
    palette = load_palette()
    luma = looks.appearance @ LUMA.astype(np.float32)
    # Clipped, so that a few cells wrecked by the codec cannot push the right punk out.
    table = np.minimum(np.abs((cells @ LUMA.astype(np.float32))[:, None] - luma), _LUMA_CLIP) ** 2
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
            scale < ERASING_SCALE
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


def nearest_original(snapped: np.ndarray, looks: Looks) -> tuple[int, float]:
    """For a file in exact punk colours: the original closest to it, and how far it strays.

    Colours that look alike on this background (black on black) cannot be told apart, so they
    count as agreeing. Returns the original that disagrees in the fewest cells and the largest
    colour distance (RGB levels) between it and the file over those cells: 0 when the file is
    that original as it looks here.
    """
    palette = load_palette()
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


def match_grey(luma: np.ndarray, background: float) -> int | None:
    """The one original a grayscale file shows, by brightness, or None.

    `luma` holds the 576 cells' brightness and `background` the background's. None unless
    exactly one original fits: the runner-up must fit visibly worse.
    """
    punks = _punk_luma()
    expected = punks[..., 0] + background * (1 - punks[..., 1])
    error = np.abs(expected - luma.reshape(1, -1))
    worst = error.max(axis=1)
    order = np.argsort((error**2).sum(axis=1))[:2]
    if worst[order[0]] > 24 or worst[order[1]] <= max(3.0, worst[order[0]]):
        return None
    return int(order[0])
