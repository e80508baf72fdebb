"""What a generated punk wears, chosen before it is painted: the GAN's recipe book.

Asked for only a type, the painter (`gan_networks`' generator with its noise prior) must pick
every accessory from 32 numbers of noise, and it picks too few and too alike: even repainting
the validation punks from the noise their encoder gives them, asked for the type alone, its
punks sat at an FID ratio of 3.0 from the real ones, and from the prior at 4.3. Asked for a
punk's full recipe it repaints it almost exactly (FID ratio 0.02). So the generator works in
two steps, as a punk is made: first it draws a full recipe (type and every accessory) that
holds what was asked for, then it paints that recipe.

The recipes are those of the new compositions the GAN trained on (`gan_data.new_compositions`:
the layers' accessory sets on every base, half of them with one accessory swapped; never a
validation or test punk's recipe), keeping only the ones no training punk wears on any skin,
so painting one never repeats a training punk. NumPy only: no TensorFlow.
"""

from pathlib import Path

import numpy as np

from punks_core.errors import ModelError
from punks_core.labels import LABELS, TYPES

RECIPES_FILE = "recipes.npz"
N_TYPES = len(TYPES)
RECIPE_STREAM = 1  # the recipe choice draws from seed's second stream; the noise from its first
# A request fewer recipes hold than this is completed from any recipe of its type instead
# (`RecipeBook.draw`): "a Male with a Pipe and a Big Beard" is held by 2 of 15,429.
MIN_CHOICES = 24


def one_hot(types) -> np.ndarray:
    """Type names -> (n, 5) float32 one-hot rows in `TYPES` order."""
    index = np.array([TYPES.index(t) for t in types], dtype=int)
    return np.eye(N_TYPES, dtype=np.float32)[index]


def conditions(types, accessories=()) -> np.ndarray:
    """(n, 92) float32 conditions: each type one-hot and the same accessories asked of all."""
    rows = np.zeros((len(types), len(LABELS)), np.float32)
    rows[:, :N_TYPES] = one_hot(types)
    for name in accessories:
        rows[:, LABELS.index(name)] = 1
    return rows


def _keys(labels: np.ndarray) -> list[bytes]:
    return [row.tobytes() for row in np.asarray(labels, np.uint8)]


def novel_recipes(labels: np.ndarray, train_labels: np.ndarray) -> np.ndarray:
    """The rows of `labels` (n, 92 visible labels) that no row of `train_labels` repeats."""
    worn = set(_keys(train_labels))
    labels = np.asarray(labels, np.uint8)
    return labels[[key not in worn for key in _keys(labels)]]


def worn_together(labels: np.ndarray) -> np.ndarray:
    """(92, 92) bool: which labels some punk of `labels` (n, 92) wears together. Real punks
    wear one hat, one beard, one pair of glasses: a pair no training punk wears is kept apart
    when a request is completed (the compositions' swaps do put a second hat on a few)."""
    labels = np.asarray(labels, np.int64)
    together = (labels.T @ labels) > 0
    together[:, :N_TYPES] = True
    return together


class RecipeBook:
    """Full recipes (type one-hot and accessories, (n, 92) of 0/1) to draw requests from,
    which labels may be worn together (`worn_together`, (92, 92) bool) and the training
    punks' recipes (`worn`), which a completed request must not repeat."""

    def __init__(self, recipes: np.ndarray, together: np.ndarray | None = None, worn=None):
        self.recipes = np.asarray(recipes, np.uint8)
        self._types = self.recipes[:, :N_TYPES].argmax(axis=1)
        self.together = worn_together(self.recipes) if together is None else together
        worn = np.zeros((0, len(LABELS)), np.uint8) if worn is None else worn
        self.worn = np.unique(np.asarray(worn, np.uint8), axis=0)
        self._worn_keys = set(_keys(self.worn))

    @classmethod
    def of_training(cls, pool: np.ndarray, train_labels: np.ndarray) -> "RecipeBook":
        """The book of a run: the recipes of `pool` (the new compositions' visible labels) no
        training punk wears, the pairs training punks wear together, and their recipes."""
        return cls(novel_recipes(pool, train_labels), worn_together(train_labels), train_labels)

    def __len__(self) -> int:
        return len(self.recipes)

    def holding(self, punk_type: str, accessories=()) -> np.ndarray:
        """Rows of the recipes of `punk_type` that wear every one of `accessories`."""
        match = self._types == TYPES.index(punk_type)
        for name in accessories:
            match &= self.recipes[:, LABELS.index(name)] == 1
        return np.flatnonzero(match)

    def draw(self, types, accessories=(), seed: int = 0) -> np.ndarray:
        """(n, 92) float32 conditions: for each of `types`, a recipe of that type holding all of
        `accessories`, chosen by `seed`.

        A request held by fewer than `MIN_CHOICES` recipes is completed instead: a recipe of
        its type, less the accessories no training punk wears beside one asked for (a second
        hat), plus what was asked, and never a training punk's recipe while another
        completion is not. A type the book has no recipe of is painted as asked (the painter
        then chooses the rest itself).
        """
        types = np.asarray(types)
        asked = conditions(types, accessories)
        columns = [LABELS.index(name) for name in accessories]
        rng = np.random.default_rng([seed, RECIPE_STREAM])
        for punk_type in dict.fromkeys(types.tolist()):
            rows = np.flatnonzero(types == punk_type)
            holding = self.holding(punk_type, accessories)
            if len(holding) >= MIN_CHOICES or (len(holding) and not columns):
                asked[rows] = self.recipes[rng.choice(holding, len(rows))]
                continue
            of_type = self.holding(punk_type)
            if len(of_type):
                completed = self.recipes[of_type] * self.together[:, columns].all(axis=1)
                completed[:, columns] = 1
                novel = [key not in self._worn_keys for key in _keys(completed)]
                choices = completed[novel] if any(novel) else completed
                asked[rows] = choices[rng.choice(len(choices), len(rows))]
        return asked

    def save(self, path: Path) -> None:
        packed = np.packbits(self.recipes, axis=1)
        together = np.packbits(self.together, axis=1)
        worn = np.packbits(self.worn, axis=1)
        np.savez_compressed(
            path, recipes=packed, together=together, worn=worn, labels=np.asarray(LABELS)
        )

    @classmethod
    def load(cls, path: Path, rebuild: str) -> "RecipeBook":
        """The book saved at `path`, or a `ModelError` naming `rebuild` (the command that
        writes it again) if it is missing, unreadable or for other labels."""
        try:
            with np.load(path, allow_pickle=False) as saved:
                packed, labels = saved["recipes"], saved["labels"]
                together, worn = saved["together"], saved["worn"]
        except KeyError:
            raise ModelError(
                f"the GAN's recipe book {path} is incomplete (an older version wrote it). "
                f"Write it again with `{rebuild}`."
            ) from None
        except (OSError, ValueError) as error:
            reason = "missing" if not Path(path).exists() else f"unreadable ({error})"
            raise ModelError(
                f"the GAN's recipe book {path} is {reason}. Write it again with `{rebuild}`."
            ) from None
        if tuple(labels.tolist()) != LABELS:
            raise ModelError(
                f"the GAN's recipe book {path} was written for other labels. "
                f"Write it again with `{rebuild}`."
            )
        return cls(_unpack(packed), _unpack(together).astype(bool), _unpack(worn))


def _unpack(bits: np.ndarray) -> np.ndarray:
    return np.unpackbits(bits, axis=1, count=len(LABELS))
