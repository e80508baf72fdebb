"""The trained palette GAN as the app uses it: `load_generator` and `PunkGenerator`.

`PunkGenerator.generate(type, n, seed, accessories=())` paints punks whose every pixel is one of
the 222 punk colours; requests are checked first (`check_request`), and a bad one raises
`GeneratorRequestError` in words. A request is first completed into a full recipe from the
recipe book (`gan_recipes`), then painted. The networks are in `gan_networks`, their training
in `gan_training`; the decisions behind them are in `gan_networks`' docstring.
"""

from pathlib import Path

import keras
import numpy as np

from punks_core.constants import IMAGE_SHAPE
from punks_core.errors import GeneratorRequestError, ModelError
from punks_core.gan_networks import LATENT_DIM, N_LABELS
from punks_core.gan_quality import to_uint8
from punks_core.gan_recipes import RECIPES_FILE, RecipeBook, conditions
from punks_core.gan_snapshots import GAN_DIR, GENERATOR_FILE, rebuild_command, recipes_command
from punks_core.labels import ACCESSORIES, TYPES
from punks_core.layers import load_layers
from punks_core.model_files import load_keras_model

MAX_SAMPLES = 1024
MAX_SEED = 2**32 - 1
MAX_STEPS = 32


# ---------------------------------------------------------------------------------------------
# Noise


def latent(n: int, seed: int, latent_dim: int = LATENT_DIM) -> np.ndarray:
    """The noise of `seed`: the same seed always gives the same punks."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def _slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation: Gaussian noise keeps its typical length along the path."""
    cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    omega = np.arccos(np.clip(cos, -1, 1))
    if omega < 1e-6:
        return (1 - t)[:, None] * a + t[:, None] * b
    return (np.sin((1 - t) * omega)[:, None] * a + np.sin(t * omega)[:, None] * b) / np.sin(omega)


def _check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise GeneratorRequestError(f"{name} must be a whole number, not {value!r}.")
    if not low <= value <= high:
        raise GeneratorRequestError(f"{name} must be between {low:,} and {high:,}; got {value:,}.")
    return int(value)


def _check_type(punk_type: str) -> str:
    if punk_type not in TYPES:
        raise GeneratorRequestError(
            f"unknown punk type {punk_type!r}; choose one of {', '.join(TYPES)}."
        )
    return punk_type


def wearable(punk_type: str) -> tuple[str, ...]:
    """The accessories a punk type is ever drawn with (the layers' head: female or male)."""
    base = {"Female": "Female 1", "Male": "Male 1"}.get(_check_type(punk_type), punk_type)
    worn = set(load_layers().accessories_for(base))
    return tuple(name for name in ACCESSORIES if name in worn)


def check_request(punk_type: str, accessories=()) -> tuple[str, tuple[str, ...]]:
    """A type and accessories a generator can be asked for, or a `GeneratorRequestError`."""
    _check_type(punk_type)
    accessories = tuple(dict.fromkeys(accessories))
    unknown = [name for name in accessories if name not in ACCESSORIES]
    if unknown:
        raise GeneratorRequestError(
            f"unknown accessory {unknown[0]!r}; the accessories are the 87 of the dataset "
            "(for example Cap, Pipe, Blonde Bob)."
        )
    allowed = set(wearable(punk_type))
    never = [name for name in accessories if name not in allowed]
    if never:
        head = "female" if punk_type == "Female" else "male"
        article = "an" if punk_type[0] in "AEIOU" else "a"
        raise GeneratorRequestError(
            f"{article} {punk_type} never wears {never[0]}: it is drawn only for the other "
            f"head shape, and {punk_type} punks wear the {head} sprites."
        )
    return punk_type, accessories


# ---------------------------------------------------------------------------------------------
# Generating


class PunkGenerator:
    """The trained generator: punks of a chosen type and accessories from a seed, and walks.

    With a `RecipeBook`, each request is first completed into a full recipe that holds it
    (`requests`); without one, the painter is asked for exactly what was asked.
    """

    def __init__(
        self, model: keras.Model, path: Path | None = None, recipes: RecipeBook | None = None
    ):
        self.model = model
        self.path = path
        self.recipes = recipes
        self.latent_dim = int(model.input[0].shape[-1])

    def requests(self, types, accessories=(), seed: int = 0) -> np.ndarray:
        """(n, 92) conditions to paint for punks of `types` wearing at least `accessories`:
        recipes drawn from the book by `seed`, or the request itself without a book."""
        if self.recipes is None:
            return conditions(types, accessories)
        return self.recipes.draw(types, accessories, seed)

    def decode(self, noise: np.ndarray, condition: np.ndarray) -> np.ndarray:
        """Noise (n, latent_dim) and conditions (n, 92) -> (n, 24, 24, 4) uint8 RGBA."""
        outputs = [
            np.asarray(self.model([noise[k : k + 512], condition[k : k + 512]], training=False)[0])
            for k in range(0, len(noise), 512)
        ]
        return to_uint8(np.concatenate(outputs)) if outputs else np.zeros((0, *IMAGE_SHAPE))

    def generate(self, punk_type: str, n: int, seed: int, accessories=()) -> np.ndarray:
        """`n` punks of `punk_type` wearing at least `accessories`, from the noise of `seed`.

        Accessories not asked for are the generator's own choice: a recipe from its book that
        holds the request, chosen by `seed` too.

        Raises:
            GeneratorRequestError (a ValueError): an unknown type or accessory, an accessory
                that type never wears, n outside 1..1024, or seed outside 0..2**32-1.
        """
        return self.generate_with_recipes(punk_type, n, seed, accessories)[0]

    def generate_with_recipes(
        self, punk_type: str, n: int, seed: int, accessories=()
    ) -> tuple[np.ndarray, np.ndarray]:
        """`generate`'s punks and the (n, 92) recipes they were painted from."""
        punk_type, accessories = check_request(punk_type, accessories)
        n = _check_int("the number of punks", n, 1, MAX_SAMPLES)
        seed = _check_int("the seed", seed, 0, MAX_SEED)
        recipes = self.requests([punk_type] * n, accessories, seed)
        return self.decode(latent(n, seed, self.latent_dim), recipes), recipes

    def interpolate(
        self, start: tuple[str, int], end: tuple[str, int], steps: int, accessories=()
    ) -> np.ndarray:
        """Walk from the first punk of (type, seed) `start` to that of `end` in `steps` punks.

        The noise moves along a great circle and the type one-hot blends linearly, so the
        middle of a Male -> Female walk is conditioned on "half of each".
        """
        steps = _check_int("the number of steps", steps, 2, MAX_STEPS)
        (type_a, seed_a), (type_b, seed_b) = start, end
        check_request(type_a, accessories)
        check_request(type_b, accessories)
        noise_a = latent(1, _check_int("the seed", seed_a, 0, MAX_SEED), self.latent_dim)[0]
        noise_b = latent(1, _check_int("the seed", seed_b, 0, MAX_SEED), self.latent_dim)[0]
        t = np.linspace(0, 1, steps, dtype=np.float32)
        cond_a, cond_b = conditions([type_a, type_b], accessories)
        blended = (1 - t)[:, None] * cond_a + t[:, None] * cond_b
        return self.decode(_slerp(noise_a, noise_b, t).astype(np.float32), blended)


def load_generator(path: str | Path | None = None) -> PunkGenerator:
    """Load the trained generator (Keras safe mode: no code runs from the file) and the recipe
    book beside it (`gan_recipes.RECIPES_FILE`).

    Raises:
        ModelError: a file is missing or broken; the message names the command to rebuild it.
    """
    file = Path(path) if path is not None else GAN_DIR / GENERATOR_FILE
    rebuild = rebuild_command(file.parent)
    model = load_keras_model(file, what="GAN generator", rebuild=rebuild)
    if model.input[1].shape[-1] != N_LABELS:
        raise ModelError(
            f"the GAN generator {file} is an older model that takes only a type. "
            f"Rebuild it with `{rebuild}`."
        )
    recipes = RecipeBook.load(file.parent / RECIPES_FILE, recipes_command(file.parent))
    return PunkGenerator(model, path=file, recipes=recipes)
