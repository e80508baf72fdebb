"""The punks as layers: sprites, paint order, render, decompose and the labels no pixel shows.

`assets/layers/` holds what `python -m punks_core build-layers` recovered from the shipped
punks alone (see `layer_recovery`): `sprites.png` (every base and accessory sprite, 24x24 RGBA
each, on a grid), `sprites.csv` (which sprite is where) and `blends.csv` (the exact colour of
each translucent colour over each colour seen under it, as the CryptopunksData contract keeps
them in a table). `load_layers()` checks them against a hash, like the dataset.
"""

import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from punks_core.constants import LAYERS_DIR
from punks_core.errors import DatasetError, LayerError
from punks_core.labels import canonical_label
from punks_core.layer_order import BASES, LAYER_RANK, PAINT_ORDER, head_of, in_paint_order
from punks_core.layer_recovery import over, over_with

SHEET_FILE, INDEX_FILE, BLENDS_FILE = "sprites.png", "sprites.csv", "blends.csv"
HIDDEN_FILE = "hidden.csv"
SHEET_COLUMNS = 16
# SHA-256 of the sheet's decoded pixels, then the index and blend tables' bytes.
LAYERS_SHA256 = "e7e8943587163377c22d0cf8be390f3cbaeb33af0f2ae60ee8fb6ed3a8dddaf1"
REBUILD_HINT = "Rebuild them with `python -m punks_core build-layers`."


class Layers:
    """Every sprite, and what can be done with them.

    Attributes:
        bases: the 11 base names (`Male 1`–`Male 4`, `Female 1`–`Female 4`, Zombie, Ape, Alien).
    """

    def __init__(self, bases: dict, accessories: dict, blends: dict) -> None:
        self.bases = tuple(name for name in BASES if name in bases)
        self._bases = bases
        self._accessories = accessories
        self._blends = blends
        self._mixed = dict(blends)  # the table, plus "over" results worked out so far
        # Painting pixel by pixel with NumPy's general "over" costs ~1 ms a punk; an opaque
        # pixel just replaces, and the few translucent ones look up their blend: ~0.05 ms.
        self._plans = {key: _plan(sprite) for key, sprite in accessories.items()}

    def sprite(self, layer: str, base: str) -> np.ndarray:
        """The sprite of a base, or of an accessory as it sits on that base's head."""
        base = self._check_base(base)
        if layer == base:
            return self._bases[base]
        return self._accessories[(self._check_accessory(layer, base), head_of(base))]

    def accessories_for(self, base: str) -> list[str]:
        """The accessories that have a sprite for this base's head, in paint order."""
        head = head_of(self._check_base(base))
        return [name for name in PAINT_ORDER if (name, head) in self._accessories]

    def render(self, base: str, accessories: Iterable[str] = ()) -> np.ndarray:
        """Paint a punk: `base`, then `accessories` (any order) in the paint order.

        Returns:
            uint8 (24, 24, 4) RGBA.

        Raises:
            LayerError: an unknown base or accessory, one named twice, or one with no sprite
                for this base's head.
        """
        stack = self._stack(base, accessories)
        image = self._bases[base].copy()
        codes = image.view(np.uint32).reshape(-1)
        for key in stack:
            opaque, opaque_codes, translucent, translucent_codes = self._plans[key]
            codes[opaque] = opaque_codes
            for pixel, top in zip(translucent, translucent_codes, strict=True):
                codes[pixel] = self._blend(int(top), int(codes[pixel]))
        return image

    def _blend(self, top: int, under: int) -> int:
        if under >> 24 == 0:  # over a transparent pixel a colour shows as itself
            return top
        if (top, under) not in self._mixed:
            pair = np.array([[top], [under]], np.uint32).view(np.uint8).reshape(2, 1, 4)
            self._mixed[(top, under)] = int(over(pair[0], pair[1]).view(np.uint32)[0, 0])
        return self._mixed[(top, under)]

    def layer_images(self, base: str, accessories: Iterable[str] = ()) -> list[np.ndarray]:
        """The punk after each layer, bottom first: the base alone, then one layer more each."""
        stack = self._stack(base, accessories)
        images = [self._bases[base]]
        for key in stack:
            images.append(over_with(self._accessories[key], images[-1], self._blends))
        return images

    def hidden_labels(self, base: str, accessories: Iterable[str]) -> list[str]:
        """The accessories whose removal leaves the pixels identical, in paint order."""
        names = [name for name, _ in self._stack(base, accessories)]
        full = self.render(base, names)
        return [
            name
            for name in names
            if np.array_equal(self.render(base, [n for n in names if n != name]), full)
        ]

    def covered_by(self, base: str, accessories: Iterable[str], hidden: str) -> list[str]:
        """The higher layers of this punk that paint over every pixel of `hidden`."""
        names = [name for name, _ in self._stack(base, accessories)]
        head = head_of(base)
        footprint = self._accessories[(hidden, head)][..., 3] > 0
        above = [n for n in names if LAYER_RANK[n] > LAYER_RANK[hidden]]
        return [n for n in above if (self._accessories[(n, head)][..., 3][footprint] > 0).any()]

    def base_of(self, image: np.ndarray) -> str:
        """The base a punk image is painted on.

        Raises:
            LayerError: the image shows no base's skin (it is not a painted punk).
        """
        image = _as_punk(image)
        best, best_score = None, 0
        for name in self.bases:
            sprite = self._bases[name]
            skin = _main_colour(sprite)
            shows_skin = (image == skin).all(-1)
            if not shows_skin.any():
                continue
            agree = ((image == sprite).all(-1) & (sprite[..., 3] == 255)).sum()
            outside = (shows_skin & ~(sprite == skin).all(-1)).sum()
            score = agree - 4 * outside
            if best is None or score > best_score:
                best, best_score = name, score
        if best is None:
            raise LayerError("this image shows none of the punks' skin colours: not a punk.")
        return best

    def decompose(self, image: np.ndarray) -> tuple[str, list[str]]:
        """The base and the visible accessories that paint this exact image.

        Raises:
            LayerError: no base and set of accessories paints this image exactly.
        """
        image = _as_punk(image)
        base = self.base_of(image)
        head = head_of(base)
        differs = (image != self._bases[base]).any(-1)
        # A visible accessory changes some pixel of the base (a translucent one on top may
        # have mixed with it, so its own colours need not show).
        candidates = [
            name
            for name in reversed(self.accessories_for(base))
            if (differs & (self._accessories[(name, head)][..., 3] > 0)).any()
        ]
        found = self._search(image, base, candidates)
        if found is None:
            raise LayerError(
                f"no {base} punk with any set of accessories paints exactly this image: it is "
                "not a CryptoPunk, or it has been edited."
            )
        return base, in_paint_order(found)

    def _search(self, image, base, candidates) -> list[str] | None:
        head = head_of(base)
        footprints = [self._accessories[(name, head)][..., 3] > 0 for name in candidates]
        reach = [np.zeros((24, 24), bool)]  # reach[i]: pixels candidates i.. can paint
        for footprint in reversed(footprints):
            reach.insert(0, reach[0] | footprint)
        differs = (image != self._bases[base]).any(-1)

        sprites = [self._accessories[(name, head)] for name in candidates]
        opaque = [sprite[..., 3] == 255 for sprite in sprites]
        matches = [(sprite == image).all(-1) for sprite in sprites]

        def walk(i: int, chosen: list[str], painted: np.ndarray) -> list[str] | None:
            # Top layer first: `painted` is what the chosen higher layers cover.
            if (differs & ~painted & ~reach[i]).any():
                return None  # a pixel that nothing left can explain
            if i == len(candidates):
                return chosen if np.array_equal(self.render(base, chosen), image) else None
            found = walk(i + 1, chosen, painted)
            if found is not None:
                return found
            shows = opaque[i] & ~painted
            # Worn and visible: its opaque pixels that nothing above covers are all on the image.
            if matches[i][shows].all():
                return walk(i + 1, [*chosen, candidates[i]], painted | footprints[i])
            return None

        return walk(0, [], np.zeros((24, 24), bool))

    def _check_base(self, base: str) -> str:
        if base not in self._bases:
            raise LayerError(f"unknown base {base!r}: choose one of {', '.join(self.bases)}.")
        return base

    def _check_accessory(self, name: str, base: str) -> str:
        label = canonical_label(str(name))
        if label not in LAYER_RANK:
            raise LayerError(f"unknown accessory {name!r}: use a name such as 'Cap' or 'Earring'.")
        if (label, head_of(base)) not in self._accessories:
            raise LayerError(f"{label} has no sprite for a {base} head: no such punk exists.")
        return label

    def _stack(self, base: str, accessories: Iterable[str]) -> list[tuple[str, str]]:
        base = self._check_base(base)
        if isinstance(accessories, str):
            accessories = [accessories]
        names = [self._check_accessory(name, base) for name in accessories]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise LayerError(f"{', '.join(twice)} is listed twice: a punk wears each once.")
        return [(name, head_of(base)) for name in in_paint_order(names)]


def _plan(sprite: np.ndarray) -> tuple:
    """Where a sprite paints: its opaque pixels and codes, its translucent pixels and codes."""
    codes = np.ascontiguousarray(sprite).view(np.uint32).reshape(-1)
    alpha = sprite[..., 3].reshape(-1)
    opaque = np.flatnonzero(alpha == 255)
    translucent = np.flatnonzero((alpha > 0) & (alpha < 255))
    return opaque, codes[opaque], translucent, codes[translucent]


def _as_punk(image) -> np.ndarray:
    image = np.asarray(image)
    if image.shape != (24, 24, 4) or image.dtype != np.uint8:
        raise LayerError(
            f"a punk image is 24x24 RGBA uint8, not {image.dtype} of shape {image.shape}."
        )
    return image


def _main_colour(sprite: np.ndarray) -> np.ndarray:
    opaque = sprite[sprite[..., 3] == 255]
    values, counts = np.unique(opaque, axis=0, return_counts=True)
    return values[counts.argmax()]


def save_layers(layers: Layers, folder: Path) -> None:
    """Write the sprite sheet, index and blend table into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = [(name, "", "base", -1, layers._bases[name]) for name in layers.bases]
    entries += [
        (name, head, "accessory", LAYER_RANK[name], sprite)
        for (name, head), sprite in sorted(
            layers._accessories.items(), key=lambda item: (LAYER_RANK[item[0][0]], item[0][1])
        )
    ]
    rows = -(-len(entries) // SHEET_COLUMNS)
    sheet = np.zeros((rows * 24, SHEET_COLUMNS * 24, 4), np.uint8)
    index = []
    for k, (name, head, kind, rank, sprite) in enumerate(entries):
        row, column = divmod(k, SHEET_COLUMNS)
        sheet[row * 24 : row * 24 + 24, column * 24 : column * 24 + 24] = sprite
        index.append({"layer": name, "head": head, "kind": kind, "rank": rank, "cell": k})
    Image.fromarray(sheet, "RGBA").save(folder / SHEET_FILE, optimize=True)
    pd.DataFrame(index).to_csv(folder / INDEX_FILE, index=False)
    blends = pd.DataFrame(
        [(_hex(t), _hex(u), _hex(r)) for (t, u), r in sorted(layers._blends.items())],
        columns=["top", "under", "result"],
    )
    blends.to_csv(folder / BLENDS_FILE, index=False)


def save_hidden(layers: Layers, punks, folder: Path) -> int:
    """Write each shipped punk's hidden labels to `hidden.csv`; returns how many punks have one."""
    rows = []
    for punk_id, base, names in zip(punks.ids, punks.bases, punks.accessory_lists, strict=True):
        hidden = layers.hidden_labels(base, names)
        if hidden:
            rows.append({"id": int(punk_id), "hidden": " / ".join(hidden)})
    pd.DataFrame(rows, columns=["id", "hidden"]).to_csv(folder / HIDDEN_FILE, index=False)
    return len(rows)


def hidden_table(punks) -> dict[int, list[str]]:
    """The hidden labels of each punk that has any: id -> accessory names.

    A punk labelled as in the shipped dataset takes the answer `build-layers` stored; any
    other (a partial or edited dataset) is re-rendered.
    """
    from punks_core.dataset import load_punks

    layers = load_layers()
    shipped = load_punks()
    stored = pd.read_csv(LAYERS_DIR / HIDDEN_FILE)
    stored = dict(zip(stored["id"], stored["hidden"].str.split(" / "), strict=True))
    table = {}
    for row, punk_id in enumerate(punks.ids):
        same = punks is shipped or (
            punk_id in shipped.labels.index
            and (punks.labels.iloc[row] == shipped.labels.loc[punk_id]).all()
        )
        if same:
            hidden = stored.get(int(punk_id), [])
        else:
            hidden = layers.hidden_labels(punks.bases.iloc[row], punks.accessory_lists[row])
        if hidden:
            table[int(punk_id)] = hidden
    return table


def _hex(code: int) -> str:
    return bytes(np.array([code], np.uint32).view(np.uint8)).hex()


def _code(text: str) -> int:
    return int(np.frombuffer(bytes.fromhex(text), np.uint32)[0])


def layers_hash(folder: Path) -> str:
    """SHA-256 of a layers folder: the sheet's decoded pixels, then the tables' bytes."""
    digest = hashlib.sha256()
    with Image.open(folder / SHEET_FILE) as sheet:
        digest.update(np.asarray(sheet.convert("RGBA")).tobytes())
    digest.update((folder / INDEX_FILE).read_bytes())
    digest.update((folder / BLENDS_FILE).read_bytes())
    if (folder / HIDDEN_FILE).is_file():
        digest.update((folder / HIDDEN_FILE).read_bytes())
    return digest.hexdigest()


def load_layers(folder: str | Path | None = None) -> Layers:
    """The shipped layers (or those in `folder`), checked against their hash.

    Raises:
        DatasetError: a file is missing, unreadable or not what `build-layers` wrote.
    """
    return _load(Path(folder) if folder else LAYERS_DIR, folder is None)


@functools.lru_cache(maxsize=2)
def _load(folder: Path, shipped: bool) -> Layers:
    paths = [folder / name for name in (SHEET_FILE, INDEX_FILE, BLENDS_FILE)]
    for path in paths:
        if not path.is_file():
            raise DatasetError(f"{path} is missing. {REBUILD_HINT}")
    try:
        digest = layers_hash(folder)
        with Image.open(paths[0]) as image:
            sheet = np.asarray(image.convert("RGBA"))
        index = pd.read_csv(paths[1], keep_default_na=False)
        blends = pd.read_csv(paths[2], dtype=str)
    except (OSError, ValueError) as error:
        raise DatasetError(
            f"the layers in {folder} cannot be read ({error}). {REBUILD_HINT}"
        ) from error
    if shipped and digest != LAYERS_SHA256:
        raise DatasetError(f"the layers in {folder} have been modified. {REBUILD_HINT}")
    bases, accessories = {}, {}
    for row in index.itertuples():
        r, c = divmod(int(row.cell), SHEET_COLUMNS)
        sprite = sheet[r * 24 : r * 24 + 24, c * 24 : c * 24 + 24].copy()
        sprite.setflags(write=False)
        if row.kind == "base":
            bases[row.layer] = sprite
        else:
            accessories[(row.layer, row.head)] = sprite
    table = {
        (_code(t), _code(u)): _code(r)
        for t, u, r in zip(blends.top, blends.under, blends.result, strict=True)
    }
    return Layers(bases, accessories, table)
