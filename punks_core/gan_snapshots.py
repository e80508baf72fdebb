"""The GAN's training record on disk: one grid PNG per epoch, the history, the run's facts.

Layout of a snapshot folder (the shipped one is `assets/gan/`):

    epoch_001.png ...   one row per type (`TYPES` order), `GRID_COLUMNS` punks per row, each
                        punk exactly 24x24 RGBA with no gaps: the same noise every epoch
    history.csv         one row per epoch: losses, type agreement, punk FID, memorisation
    run.json            command, seed, timings, sampling, versions, grid noise seed
    generator.keras     the shipped generator: the best epoch's, drawing its noise through its
                        prior (`gan_prior`)
    encoder.keras, generator_without_prior.keras
                        that epoch's encoder and bare generator, to fit its prior again
                        (`python -m punks_core fit-gan-prior`)
    recipes.npz         the recipe book a request is completed from before it is painted
                        (`gan_recipes`; `python -m punks_core gan-recipes` writes it again)

TF-free, so the gallery can show training before (or without) loading the generator.
"""

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from punks_core.constants import GAN_DIR
from punks_core.dataset import PUNK_SIZE, atomic_write
from punks_core.errors import ModelError
from punks_core.imaging import grid, zoom
from punks_core.labels import TYPES

GENERATOR_FILE = "generator.keras"
# The shipped epoch's encoder and its generator without the prior: what `fit-gan-prior` needs.
ENCODER_FILE = "encoder.keras"
BARE_GENERATOR_FILE = "generator_without_prior.keras"
HISTORY_FILE = "history.csv"
RUN_FILE = "run.json"
REBUILD_COMMAND = "python -m punks_core train-gan"
RECIPES_COMMAND = "python -m punks_core gan-recipes"
GRID_COLUMNS = 10
_EPOCH_FILE = re.compile(r"epoch_(\d{3,})\.png")


def rebuild_command(folder: Path, command: str = REBUILD_COMMAND) -> str:
    """The command that writes the snapshot folder `folder` again (or, with `RECIPES_COMMAND`,
    its recipe book)."""
    if folder.resolve() == GAN_DIR.resolve():
        return command
    return f"{command} --out {folder}"


def recipes_command(folder: Path) -> str:
    return rebuild_command(folder, RECIPES_COMMAND)


def epoch_file(folder: Path, epoch: int) -> Path:
    return Path(folder) / f"epoch_{epoch:03d}.png"


def write_grid(folder: Path, epoch: int, images: np.ndarray) -> Path:
    """Save one epoch's fixed-noise samples, (len(TYPES), GRID_COLUMNS, 24, 24, 4) uint8."""
    images = np.asarray(images, np.uint8)
    rows, columns = images.shape[:2]
    picture = images.transpose(0, 2, 1, 3, 4).reshape(rows * PUNK_SIZE, columns * PUNK_SIZE, 4)
    buffer = io.BytesIO()
    Image.fromarray(picture, "RGBA").save(buffer, format="PNG", optimize=True)
    path = epoch_file(folder, epoch)
    atomic_write(path, buffer.getvalue())
    return path


def read_grid(folder: Path, epoch: int) -> np.ndarray:
    """One epoch's samples as (len(TYPES), columns, 24, 24, 4) uint8.

    Raises:
        ModelError: the file is missing or is not a grid of punks.
    """
    path = epoch_file(folder, epoch)
    try:
        with Image.open(path) as image:
            picture = np.asarray(image.convert("RGBA"))
    except (OSError, ValueError) as error:
        raise ModelError(
            f"the GAN snapshot {path} is missing or unreadable ({error}). "
            f"Rebuild the snapshots with `{rebuild_command(Path(folder))}`."
        ) from error
    height, width = picture.shape[:2]
    if height != len(TYPES) * PUNK_SIZE or width % PUNK_SIZE:
        raise ModelError(
            f"the GAN snapshot {path} is {width}x{height}, not a grid of {len(TYPES)} rows "
            f"of 24x24 punks. Rebuild the snapshots with `{rebuild_command(Path(folder))}`."
        )
    columns = width // PUNK_SIZE
    return picture.reshape(len(TYPES), PUNK_SIZE, columns, PUNK_SIZE, 4).transpose(0, 2, 1, 3, 4)


def append_history(folder: Path, row: dict) -> None:
    """Add one epoch's row to history.csv (rewritten whole, atomically)."""
    path = Path(folder) / HISTORY_FILE
    old = pd.read_csv(path) if path.exists() else pd.DataFrame()
    table = pd.concat([old, pd.DataFrame([row])], ignore_index=True)
    atomic_write(path, table.to_csv(index=False).encode())


def write_run(folder: Path, run: dict) -> None:
    atomic_write(Path(folder) / RUN_FILE, (json.dumps(run, indent=2) + "\n").encode())


class Snapshots:
    """A snapshot folder, checked on opening: history, run facts and every epoch's grid file.

    Raises:
        ModelError: something is missing or unreadable; the message gives the rebuild command.
    """

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else GAN_DIR
        rebuild = rebuild_command(self.folder)
        try:
            self.history = pd.read_csv(self.folder / HISTORY_FILE)
            self.run = json.loads((self.folder / RUN_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ModelError(
                f"the GAN training record in {self.folder} is missing or unreadable "
                f"({type(error).__name__}: {error}). Rebuild it with `{rebuild}`."
            ) from error
        if self.history.empty or "epoch" not in self.history:
            raise ModelError(f"{self.folder / HISTORY_FILE} has no epochs. Run `{rebuild}`.")
        found = {
            int(m.group(1)) for p in self.folder.iterdir() if (m := _EPOCH_FILE.fullmatch(p.name))
        }
        self.epochs = [int(e) for e in self.history["epoch"] if int(e) in found]
        if not self.epochs:
            raise ModelError(f"no epoch grids in {self.folder}. Rebuild them with `{rebuild}`.")

    @property
    def shipped_refit(self) -> dict | None:
        """The last prior fitted again after training that shipped (`fit-gan-prior`), or
        None when the shipped generator is its epoch's, as the grid shows it."""
        refits = self.run.get("noise_prior", {}).get("refits", [])
        shipped = [refit for refit in refits if refit.get("shipped")]
        return shipped[-1] if shipped else None

    @property
    def recipe_book(self) -> dict | None:
        """What the shipped recipe book holds and how the shipped generator did with it on the
        validation punks (`gan-recipes`), or None for a run written before the book."""
        return self.run.get("recipes")

    def grid(self, epoch: int) -> np.ndarray:
        """(len(TYPES), columns, 24, 24, 4) uint8 samples of `epoch` (clamped to the range)."""
        epoch = min(max(int(epoch), self.epochs[0]), self.epochs[-1])
        return read_grid(self.folder, epoch)

    def timelapse_gif(
        self, punk_type: str | None = None, scale: int = 4, frame_ms: int = 120
    ) -> bytes:
        """Every epoch's grid (one type's row, or all) as an animated GIF on punk blue.

        Each frame names its epoch at the top and each row's type on its left, so a frame
        saved or shared on its own still says what it shows.
        """
        rows = [punk_type] if punk_type is not None else list(TYPES)
        frames = []
        for epoch in self.epochs:
            samples = self.grid(epoch)[[TYPES.index(name) for name in rows]]
            picture = zoom(grid(samples.reshape(-1, 24, 24, 4), samples.shape[1], gap=1), scale)
            frames.append(_labelled_frame(picture, rows, f"epoch {epoch}", scale))
        buffer = io.BytesIO()
        frames[0].save(
            buffer,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=[frame_ms] * (len(frames) - 1) + [frame_ms * 10],
            loop=0,
        )
        return buffer.getvalue()


def _labelled_frame(
    picture: np.ndarray, rows: list[str], title: str, scale: int, label_width: int | None = None
) -> Image.Image:
    """`picture` (one row of punks per name in `rows`) with the names on the left, `title` on
    top, white on punk blue."""
    font = ImageFont.load_default(size=max(10, 4 * scale))
    label_width = label_width or 20 * scale + 8
    title_height = 8 * scale
    row_height = picture.shape[0] / len(rows)
    background = tuple(int(picture[0, 0, c]) for c in range(3))
    frame = Image.new("RGB", (picture.shape[1] + label_width, picture.shape[0] + title_height))
    frame.paste(background, (0, 0, *frame.size))
    frame.paste(Image.fromarray(picture, "RGB"), (label_width, title_height))
    draw = ImageDraw.Draw(frame)
    draw.text((label_width, title_height / 2), title, fill="white", font=font, anchor="lm")
    for k, name in enumerate(rows):
        middle = title_height + (k + 0.5) * row_height
        draw.text((label_width - 6, middle), name, fill="white", font=font, anchor="rm")
    return frame


def punks_png(images: np.ndarray, columns: int, scale: int = 8) -> bytes:
    """Punks as one PNG for download: transparent background, crisp `scale`x pixels."""
    picture = zoom(grid(np.asarray(images, np.uint8), columns, background=None, gap=1), scale)
    buffer = io.BytesIO()
    Image.fromarray(picture, "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()
