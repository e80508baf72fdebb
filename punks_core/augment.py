"""Label-safe augmentation: repaint a Male or Female punk in another skin tone.

Punks are drawn from fixed sprites, so a punk's skin tone changes colours, never shapes or
accessories. The colour maps are learned from the data itself: two punks of the same type and
the same labels but different skin tones differ only in skin-dependent colours (skin, its
shading, lipstick and beard tints blended on it). Maps from the medium and dark tones reproduce
the real punk for about 97 % of such pairs; light and albino skin share colours with some hair
and accessories, so they are not used as sources. NumPy only: no TensorFlow here.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from punks_core.dataset import Punks

# The base skin colour of each tone (RGB); a Male or Female punk has exactly one of them.
SKIN_TONES = {
    "light": (219, 177, 128),
    "medium": (174, 139, 97),
    "dark": (113, 63, 29),
    "albino": (234, 217, 217),
}
TONE_NAMES = tuple(SKIN_TONES)
SWAPPABLE_TYPES = ("Female", "Male")
# Tones whose colours collide with no accessory colour: the only safe sources of a swap.
SOURCE_TONES = ("medium", "dark")


def _codes(images: np.ndarray) -> np.ndarray:
    """One uint32 per RGBA pixel, so a colour map is a sorted lookup."""
    pixels = np.ascontiguousarray(images, dtype=np.uint8)
    return pixels.view(np.uint32).reshape(pixels.shape[:-1])


def _rgba(codes: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(codes, dtype=np.uint32).view(np.uint8).reshape(*codes.shape, 4)


def skin_tones(images: np.ndarray) -> np.ndarray:
    """The tone index (into `TONE_NAMES`) of each punk, -1 where no skin colour is present."""
    rgb = images[..., :3].reshape(len(images), -1, 3)
    counts = np.stack(
        [
            (rgb == np.array(colour, np.uint8)).all(axis=-1).sum(axis=1)
            for colour in SKIN_TONES.values()
        ],
        axis=1,
    )
    return np.where(counts.max(axis=1) > 0, counts.argmax(axis=1), -1)


@dataclass
class SkinSwapper:
    """Colour maps between skin tones, per punk type, learned from same-label punk pairs.

    Attributes:
        maps: (type, source tone, target tone) -> (sorted source colour codes, target codes).
        fidelity: (type, source tone) -> share of held pairs the map reproduces pixel-exactly.
    """

    maps: dict = field(default_factory=dict)
    fidelity: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, punks: Punks) -> "SkinSwapper":
        """Learn the maps from `punks` (pass the train split so that test pixels stay unseen)."""
        tones = skin_tones(punks.images)
        types = punks.types.to_numpy()
        labels = punks.labels.to_numpy()
        groups = defaultdict(lambda: defaultdict(list))
        for row in np.flatnonzero(np.isin(types, SWAPPABLE_TYPES) & (tones >= 0)):
            groups[(types[row], labels[row].tobytes())][tones[row]].append(row)
        codes = _codes(punks.images)
        counts = defaultdict(Counter)
        for (punk_type, _), by_tone in groups.items():
            for source, rows in by_tone.items():
                for target, others in by_tone.items():
                    if source == target:
                        continue
                    a, b = codes[rows[0]].ravel(), codes[others[0]].ravel()
                    differ = a != b
                    pairs = zip(a[differ].tolist(), b[differ].tolist(), strict=True)
                    counts[(punk_type, source, target)].update(pairs)
        swapper = cls()
        for key, counter in counts.items():
            best: dict[int, tuple[int, int]] = {}
            for (src, dst), n in counter.items():
                if src not in best or n > best[src][1]:
                    best[src] = (dst, n)
            src = np.array(sorted(best), dtype=np.uint32)
            swapper.maps[key] = (src, np.array([best[s][0] for s in src], dtype=np.uint32))
        hits, totals = Counter(), Counter()
        for (punk_type, _), by_tone in groups.items():
            for source, rows in by_tone.items():
                for target, others in by_tone.items():
                    if source != target and (punk_type, source, target) in swapper.maps:
                        made = swapper._apply(codes[rows[0]], punk_type, source, target)
                        hits[(punk_type, source)] += bool((made == codes[others[0]]).all())
                        totals[(punk_type, source)] += 1
        swapper.fidelity = {key: hits[key] / totals[key] for key in totals}
        return swapper

    def _apply(self, codes: np.ndarray, punk_type: str, source: int, target: int) -> np.ndarray:
        src, dst = self.maps[(punk_type, source, target)]
        where = np.clip(np.searchsorted(src, codes), 0, len(src) - 1)
        return np.where(src[where] == codes, dst[where], codes)

    def swappable(self, images: np.ndarray, types: np.ndarray) -> np.ndarray:
        """True for punks this swapper can repaint safely (Male/Female, medium or dark skin)."""
        sources = [TONE_NAMES.index(t) for t in SOURCE_TONES]
        return np.isin(types, SWAPPABLE_TYPES) & np.isin(skin_tones(images), sources)

    def swap(self, images: np.ndarray, types: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Repaint each swappable punk in tone `targets[k]` (an index into `TONE_NAMES`).

        Punks that are not swappable, or whose target is their own tone, come back unchanged.
        """
        out = _codes(images).copy()
        tones = skin_tones(images)
        ok = self.swappable(images, types)
        for row in np.flatnonzero(ok & (tones != targets)):
            key = (types[row], int(tones[row]), int(targets[row]))
            if key in self.maps:
                out[row] = self._apply(out[row], *key)
        return _rgba(out)
