"""Draw the README's picture: generated punks beside real punks of the same types, 4x exact.

Run: `.venv/bin/python -m bench.gan_vs_real [--out docs/screenshots/gan_vs_real.png]`.
Per type, one row of the shipped generator's punks (seed 0, no accessories asked for) and one
row of real training punks of that type (the first ones by id), then rows asked for common
accessories. Every pixel is 4x4 screen pixels, on the punks' blue.
"""

import argparse
from pathlib import Path

import numpy as np

from punks_core.dataset import load_punks
from punks_core.gan import load_generator
from punks_core.gan_snapshots import _labelled_frame
from punks_core.imaging import grid, zoom
from punks_core.labels import TYPES

ROOT = Path(__file__).resolve().parent.parent

COLUMNS = 10
SCALE = 4
ASKED = [("Male", ("Cap",)), ("Male", ("Pipe", "Big Beard")), ("Female", ("Blonde Bob",)),
         ("Female", ("Tassle Hat", "Cigarette"))]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/screenshots/gan_vs_real.png")
    args = parser.parse_args()
    generator, punks = load_generator(), load_punks()
    train = punks.split("train")
    rows, names = [], []
    for punk_type in TYPES:
        rows.append(generator.generate(punk_type, COLUMNS, 0))
        names.append(f"{punk_type}, generated")
        real = train.images[np.flatnonzero(train.types.to_numpy() == punk_type)[:COLUMNS]]
        real = np.concatenate([real, np.zeros((COLUMNS - len(real), 24, 24, 4), np.uint8)])
        rows.append(real)
        names.append(f"{punk_type}, real")
    for punk_type, accessories in ASKED:
        rows.append(generator.generate(punk_type, COLUMNS, 0, accessories))
        names.append(f"{punk_type} + {' + '.join(accessories)}")
    picture = zoom(grid(np.concatenate(rows), COLUMNS, gap=1), SCALE)
    title = "generated (seed 0, the shipped generator) and real training punks"
    _labelled_frame(picture, names, title, SCALE, label_width=300).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
