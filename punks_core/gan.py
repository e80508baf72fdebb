"""A conditional GAN on punks that paints with the punk palette: networks, training, PunkGenerator.

Decisions (the README says more):

- **Every pixel a palette choice.** The generator's last layer gives, for each of the 576
  pixels, a logit per colour of the 222-colour punk palette, and the pixel is its most likely
  colour, in training too (straight through: exact colours forward, the softmax's gradient
  back; `palette_layers.PaletteChoice` says what failed before). No pixel can be a blend
  between two colours, and no snapping is needed afterwards.
- **Conditioned on the type and any accessories.** The condition is 92 numbers in `LABELS`
  order: the type one-hot and the accessories asked for. In training the accessories asked for
  are all, none or a random half of what a punk shows, so the generator learns "a Male", "a
  Male with a Cap" and a punk's full recipe with one network; accessories not asked for are
  the generator's free choice.
- **A discriminator kept in check.** The DCGAN recipe this project's first GAN trained stably
  with (two strided convolutions, dropout, one-sided label smoothing, Adam 2e-4 with
  beta_1 = 0.5), the condition as constant planes beside RGBA, and an auxiliary head that
  learns every label from real punks; the generator is rewarded when that head finds what
  was asked for (AC-GAN). Spectral normalisation with a projection discriminator and the
  hinge loss was tried first: with palette outputs it rejected 99.5 % of fakes by epoch 4.
- **Balanced, and never the test punks.** Each epoch mixes train punks (ids 0-7999) drawn with
  tempered type weights with new compositions painted from the layers on every base (the
  recipes of validation and test punks are never painted), so the 9 aliens and 24 apes are
  learned as bases wearing many accessories, not as 33 pictures to copy. The best epoch is
  chosen on the validation punks (8000-8999); the test punks are only the benchmark's.
"""

import os
import shutil
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from punks_core.classifier import PunkClassifier, load_classifier
from punks_core.dataset import SPLITS, Punks, load_punks
from punks_core.errors import GeneratorRequestError, ModelError
from punks_core.gan_quality import (
    RealPunks,
    frechet_distance,
    in_palette,
    to_uint8,
    to_unit_range,
)
from punks_core.gan_snapshots import (
    GAN_DIR,
    GENERATOR_FILE,
    GRID_COLUMNS,
    HISTORY_FILE,
    REBUILD_COMMAND,
    append_history,
    write_grid,
    write_run,
)
from punks_core.labels import ACCESSORIES, LABELS, TYPES
from punks_core.model_files import library_versions, load_keras_model
from punks_core.palette import load_palette, punk_palette
from punks_core.palette_layers import PaletteChoice

LATENT_DIM = 64
IMAGE_SHAPE = (24, 24, 4)
N_LABELS = len(LABELS)
N_TYPES = len(TYPES)
EPOCHS = 60
BATCH_SIZE = 64
REAL_PER_EPOCH = 4000  # train punks drawn each epoch (tempered by type) ...
NEW_PER_EPOCH = 2000  # ... beside this many new compositions from the layers
NEW_POOL = 30_000  # new compositions painted once, before training
LEARNING_RATE = 2e-4  # Adam with beta_1 = 0.5, the DCGAN paper's settings (the generator)
# The discriminator learns at half that: at 2e-4 it rejected 96 % of fakes by epoch 22 and
# the FID ratio climbed from 16 (epoch 10) to 31 (measured).
D_LEARNING_RATE = 1e-4
REAL_LABEL = 0.9  # one-sided label smoothing: the discriminator never gets fully sure
AUX_WEIGHT = 0.2  # the label losses sum over 87 accessories: kept beside the GAN loss
TYPE_TEMPERATURE = 0.5  # type share ∝ count ** 0.5 among the train punks of an epoch
GRID_SEED = 2024  # the fixed noise of every epoch's grid
METRIC_SEED = 7  # the fixed noise of every epoch's quality metrics
AGREEMENT_PER_TYPE = 100
ACCESSORY_SAMPLES = 32  # samples per checked accessory, each epoch
QUALITY_SAMPLES = 1000
MAX_SAMPLES = 1024
MAX_SEED = 2**32 - 1
MAX_STEPS = 32
# Common accessories whose presence the classifier checks in samples that ask for them.
CHECKED_ACCESSORIES = {
    "Male": ("Cap", "Big Beard", "Pipe", "Hoodie", "VR", "Mohawk", "Earring", "Wild Hair"),
    "Female": (
        "Blonde Bob",
        "Tiara",
        "Hot Lipstick",
        "Pilot Helmet",
        "Big Shades",
        "Cigarette",
        "Wild Blonde",
        "Mole",
    ),
}


# ---------------------------------------------------------------------------------------------
# Networks


def colour_log_frequencies() -> np.ndarray:
    """log of each palette colour's share of the 10,000 punks' pixels."""
    return load_palette().log_prior.astype(np.float32)


def build_generator(latent_dim: int = LATENT_DIM) -> keras.Model:
    """(noise, condition) -> a 24x24 RGBA punk in [-1, 1], every generated pixel a palette colour.

    Dense -> 6x6 -> two stride-2 transposed convolutions -> 24x24 -> a 3x3 convolution, then
    a 1x1 convolution giving 222 logits a pixel, one per punk colour.
    """
    palette = punk_palette()
    noise = keras.Input((latent_dim,), name="noise")
    condition = keras.Input((N_LABELS,), name="condition")
    x = layers.Concatenate()([noise, condition])
    x = layers.Dense(6 * 6 * 128, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((6, 6, 128))(x)
    for width in (64, 32):
        x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    # A 3x3 convolution before the colour choice, so neighbouring pixels agree on a colour: a
    # 1x1 head chose each pixel alone and sprinkled stray colours over the faces.
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    # Start every pixel at the palette's own frequencies (log share of each colour among the
    # real punks' pixels): at first the generator paints a blank, transparent punk rather
    # than the speckle of argmax over random logits, which a discriminator rejects at once.
    logits = layers.Conv2D(
        len(palette),
        1,
        bias_initializer=keras.initializers.Constant(colour_log_frequencies()),
        name="palette_logits",
    )(x)
    image = PaletteChoice(palette, name="rgba")(logits)
    return keras.Model([noise, condition], [image, logits], name="generator")


def build_discriminator() -> keras.Model:
    """(punk, condition) -> (a real/fake logit, 92 label logits).

    The condition enters as eight learned constant channels beside RGBA (as the type did in
    Keras' conditional GAN example), so every filter can check the pixels against the recipe.
    The label logits (AC-GAN) learn all 92 labels from real punks.
    """
    image = keras.Input(IMAGE_SHAPE, name="punk")
    condition = keras.Input((N_LABELS,), name="condition")
    planes = layers.Dense(8, name="condition_planes")(condition)
    planes = layers.RepeatVector(IMAGE_SHAPE[0] * IMAGE_SHAPE[1])(planes)
    planes = layers.Reshape((*IMAGE_SHAPE[:2], 8))(planes)
    x = layers.Concatenate()([image, planes])
    for width in (64, 128):
        x = layers.Conv2D(width, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    logit = layers.Dense(1, name="logit")(x)
    labels = layers.Dense(N_LABELS, name="labels")(x)
    return keras.Model([image, condition], [logit, labels], name="discriminator")


def _pixel_entropy(logits):
    """Entropy in nats of each pixel's colour distribution, (n, 24, 24)."""
    log_p = tf.nn.log_softmax(logits, axis=-1)
    return -tf.reduce_sum(tf.exp(log_p) * log_p, axis=-1)


def _label_loss(target, logits, accessory_mask):
    """Softmax cross-entropy over the types plus masked sigmoid cross-entropy per accessory."""
    type_loss = ops.mean(
        keras.losses.categorical_crossentropy(
            target[:, :N_TYPES], logits[:, :N_TYPES], from_logits=True
        )
    )
    per_accessory = ops.binary_crossentropy(target[:, N_TYPES:], logits[:, N_TYPES:], True)
    return type_loss + ops.mean(ops.sum(per_accessory * accessory_mask, axis=1))


class ConditionalGAN(keras.Model):
    """Generator and discriminator trained against each other, one `train_step` per batch.

    A batch is (real punks in [-1, 1], the conditions asked for, their full visible labels).
    Only the generator is saved, so this wrapper is never serialised.
    """

    def __init__(self, generator, discriminator, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = generator.input[0].shape[-1]
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("d_loss", "g_loss", "d_real", "d_fake", "d_labels", "g_labels", "entropy")
        }

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    @property
    def metrics(self):
        # Listed here so Keras resets them at the start of every epoch.
        return list(self.trackers.values())

    def train_step(self, data):
        real, asked, truth = keras.utils.unpack_x_y_sample_weight(data)
        batch = tf.shape(real)[0]
        everything = tf.ones_like(truth[:, N_TYPES:])

        # 1. The discriminator: real punks of their recipe against fakes of the same recipe;
        #    its label head learns every label a real punk shows.
        noise = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        fake, _ = self.generator([noise, asked], training=True)
        with tf.GradientTape() as tape:
            real_logit, real_labels = self.discriminator([real, asked], training=True)
            fake_logit, _ = self.discriminator([fake, asked], training=True)
            adversarial = self.loss_fn(
                tf.fill(tf.shape(real_logit), REAL_LABEL), real_logit
            ) + self.loss_fn(tf.zeros_like(fake_logit), fake_logit)
            d_labels = _label_loss(truth, real_labels, everything)
            d_loss = adversarial + AUX_WEIGHT * d_labels
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(
            zip(grads, self.discriminator.trainable_weights, strict=True)
        )

        # 2. The generator: new noise, rewarded when the discriminator calls its punks real
        #    and its label head finds the type and every accessory that was asked for.
        noise = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake, colour_logits = self.generator([noise, asked], training=True)
            logit, labels = self.discriminator([fake, asked], training=True)
            g_labels = _label_loss(asked, labels, asked[:, N_TYPES:])
            # Logged, not weighed: how unsure the generator still is of its pixels' colours.
            entropy = tf.reduce_mean(_pixel_entropy(colour_logits))
            g_loss = self.loss_fn(tf.ones_like(logit), logit) + AUX_WEIGHT * g_labels
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights, strict=True))

        values = {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real": tf.sigmoid(real_logit),
            "d_fake": tf.sigmoid(fake_logit),
            "entropy": entropy,
            "d_labels": d_labels,
            "g_labels": g_labels,
        }
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}


# ---------------------------------------------------------------------------------------------
# Conditions and noise


def one_hot(types: list[str] | np.ndarray) -> np.ndarray:
    """Type names -> (n, 5) float32 one-hot rows in `TYPES` order."""
    index = np.array([TYPES.index(t) for t in types], dtype=int)
    return np.eye(N_TYPES, dtype=np.float32)[index]


def conditions(types, accessories=()) -> np.ndarray:
    """(n, 92) float32 conditions: each type one-hot and the same accessories asked of all."""
    rows = np.zeros((len(types), N_LABELS), np.float32)
    rows[:, :N_TYPES] = one_hot(types)
    for name in accessories:
        rows[:, LABELS.index(name)] = 1
    return rows


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
    from punks_core.layers import load_layers

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
    """The trained generator: punks of a chosen type and accessories from a seed, and walks."""

    def __init__(self, model: keras.Model, path: Path | None = None):
        self.model = model
        self.path = path
        self.latent_dim = int(model.input[0].shape[-1])

    def decode(self, noise: np.ndarray, condition: np.ndarray) -> np.ndarray:
        """Noise (n, latent_dim) and conditions (n, 92) -> (n, 24, 24, 4) uint8 RGBA."""
        outputs = [
            np.asarray(self.model([noise[k : k + 512], condition[k : k + 512]], training=False)[0])
            for k in range(0, len(noise), 512)
        ]
        return to_uint8(np.concatenate(outputs)) if outputs else np.zeros((0, *IMAGE_SHAPE))

    def generate(self, punk_type: str, n: int, seed: int, accessories=()) -> np.ndarray:
        """`n` punks of `punk_type` wearing at least `accessories`, from the noise of `seed`.

        Accessories not asked for are the generator's own choice.

        Raises:
            GeneratorRequestError (a ValueError): an unknown type or accessory, an accessory
                that type never wears, n outside 1..1024, or seed outside 0..2**32-1.
        """
        punk_type, accessories = check_request(punk_type, accessories)
        n = _check_int("the number of punks", n, 1, MAX_SAMPLES)
        seed = _check_int("the seed", seed, 0, MAX_SEED)
        return self.decode(
            latent(n, seed, self.latent_dim), conditions([punk_type] * n, accessories)
        )

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
    """Load the trained generator (Keras safe mode: no code runs from the file).

    Raises:
        ModelError: the file is missing or broken; the message names the rebuild command.
    """
    file = Path(path) if path is not None else GAN_DIR / GENERATOR_FILE
    rebuild = REBUILD_COMMAND if path is None else f"{REBUILD_COMMAND} --out {file.parent}"
    model = load_keras_model(file, what="GAN generator", rebuild=rebuild)
    if model.input[1].shape[-1] != N_LABELS:
        raise ModelError(
            f"the GAN generator {file} is an older model that takes only a type. "
            f"Rebuild it with `{rebuild}`."
        )
    return PunkGenerator(model, path=file)


# ---------------------------------------------------------------------------------------------
# Training data


def type_weights(types: np.ndarray, temperature: float = TYPE_TEMPERATURE) -> np.ndarray:
    """Per-punk sampling probabilities giving each type a share ∝ count ** temperature."""
    names, inverse, counts = np.unique(types, return_inverse=True, return_counts=True)
    weights = counts[inverse].astype(np.float64) ** (temperature - 1)
    return weights / weights.sum()


def ask_for_some(truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The conditions to ask for a punk of labels `truth` (n, 92): always its type; then all
    of its accessories (a third of the punks), none (a third) or a random half of them."""
    asked = truth.astype(np.float32).copy()
    mode = rng.integers(3, size=len(truth))
    asked[mode == 1, N_TYPES:] = 0
    half = mode == 2
    asked[half, N_TYPES:] *= rng.random((int(half.sum()), N_LABELS - N_TYPES)) < 0.5
    return asked


class TrainingPunks(keras.utils.PyDataset):
    """Each epoch: train punks drawn by tempered type weights, then new compositions, shuffled.

    A batch is (pixels in [-1, 1], conditions asked for, full visible labels).
    """

    def __init__(self, real, new, seed: int, batch_size: int, real_per_epoch, new_per_epoch):
        super().__init__()
        self.real_pixels, self.real_labels = to_unit_range(real[0]), real[1].astype(np.float32)
        self.new_pixels, self.new_labels = to_unit_range(new[0]), new[1].astype(np.float32)
        types = np.asarray(TYPES)[self.real_labels[:, :N_TYPES].argmax(axis=1)]
        self.real_weights = type_weights(types)
        self.real_per_epoch = real_per_epoch
        self.new_per_epoch = min(new_per_epoch, len(self.new_pixels))
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self):
        return int(np.ceil((self.real_per_epoch + self.new_per_epoch) / self.batch_size))

    def on_epoch_end(self):
        reals = self.rng.choice(len(self.real_pixels), self.real_per_epoch, p=self.real_weights)
        news = self.rng.choice(len(self.new_pixels), self.new_per_epoch, replace=False)
        self.pixels = np.concatenate([self.real_pixels[reals], self.new_pixels[news]])
        self.truth = np.concatenate([self.real_labels[reals], self.new_labels[news]])
        self.order = self.rng.permutation(len(self.pixels))
        self.asked = ask_for_some(self.truth, self.rng)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.pixels[rows], self.asked[rows], self.truth[rows]


def _new_compositions(punks: Punks, n: int, seed: int):
    """New punks painted from the layers (never a validation or test punk's recipe)."""
    from punks_core.compositions import held_out_combinations, paint_new_punks
    from punks_core.layers import load_layers

    painted = paint_new_punks(load_layers(), punks, n, seed, held_out_combinations(punks))
    # About 8 % of new recipes blend a translucent layer over a colour no real punk has under
    # it, giving a colour outside the palette: the generator could never paint those.
    exact = in_palette(painted.images).all(axis=(1, 2))
    return painted.images[exact], painted.labels[exact]


# ---------------------------------------------------------------------------------------------
# Judging


class QualityJudge:
    """The project's classifier judging samples against real punks the GAN never trained on.

    Type agreement per type, the accessories asked for and found, the punk FID against the
    reference punks (with the reference's types asked for), the same distance for a
    type-matched sample of training punks (what a generator that had learned the training
    punks perfectly would score), the share of pixels in the palette and exact copies.
    """

    def __init__(self, classifier: PunkClassifier, train: Punks, reference: Punks, seed: int):
        rng = np.random.default_rng(seed)
        self.classifier = classifier
        self.train = RealPunks(train.images)
        self.reference_types = reference.types.to_numpy()
        self.reference_features = classifier.features(reference.images)
        train_types = train.types.to_numpy()
        matched = [
            rng.choice(np.flatnonzero(train_types == t))
            for t in self.reference_types
            if (train_types == t).any()
        ]
        self.real_fid = frechet_distance(
            classifier.features(train.images[matched]), self.reference_features
        )
        self.noise = latent(max(len(reference.images), AGREEMENT_PER_TYPE * N_TYPES), METRIC_SEED)

    def palette_share(self, samples: np.ndarray) -> float:
        return float(in_palette(samples).mean())

    def accessories_found(self, generator: "PunkGenerator", per_accessory: int) -> dict:
        """For each checked accessory, the share of samples asking for it where it is found."""
        found = {}
        noise = self.noise[:per_accessory]
        for punk_type, names in CHECKED_ACCESSORIES.items():
            for name in names:
                samples = generator.decode(noise, conditions([punk_type] * len(noise), [name]))
                found[name] = float((self.classifier.predict_proba(samples)[name] >= 0.5).mean())
        return found

    def __call__(
        self,
        generator: "PunkGenerator",
        per_type: int = AGREEMENT_PER_TYPE,
        per_accessory: int = ACCESSORY_SAMPLES,
    ) -> dict:
        row = {}
        noise = self.noise[:per_type]
        for punk_type in TYPES:
            samples = generator.decode(noise, conditions([punk_type] * per_type))
            chosen = self.classifier.predict_proba(samples)[list(TYPES)].idxmax(axis=1)
            row[f"agree_{punk_type.lower()}"] = float((chosen == punk_type).mean())
        found = self.accessories_found(generator, per_accessory)
        row["accessories_found"] = float(np.mean(list(found.values())))
        n = len(self.reference_types)
        samples = generator.decode(self.noise[:n], conditions(self.reference_types))
        row["fid"] = frechet_distance(self.classifier.features(samples), self.reference_features)
        row["real_fid"] = self.real_fid
        row["fid_ratio"] = row["fid"] / self.real_fid
        row["palette_share"] = self.palette_share(samples)
        row.update(self.train.memorisation(samples))
        return row


def selection_score(row: dict) -> float:
    """Lower is better: the FID ratio, plus a penalty for every point of type agreement
    under 100 % (worst type) or of accessories asked for and not found."""
    worst_type = min(row[f"agree_{t.lower()}"] for t in TYPES)
    return row["fid_ratio"] + 10 * (1 - worst_type) + 10 * (1 - row["accessories_found"])


class Snapshot(keras.callbacks.Callback):
    """After each epoch: the fixed-noise grid, a history row, and the best generator so far."""

    def __init__(self, out: Path, judge: QualityJudge, per_type: int, per_accessory: int):
        super().__init__()
        self.out, self.judge = out, judge
        self.per_type, self.per_accessory = per_type, per_accessory
        self.grid_noise = np.tile(latent(GRID_COLUMNS, GRID_SEED), (N_TYPES, 1))
        self.grid_conditions = conditions(np.repeat(TYPES, GRID_COLUMNS))
        self.best = (np.inf, 0)

    def on_epoch_begin(self, epoch, logs=None):
        self.began = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        train_seconds = time.perf_counter() - self.began
        generator = PunkGenerator(self.model.generator)
        grid = generator.decode(self.grid_noise, self.grid_conditions)
        write_grid(self.out, epoch + 1, grid.reshape(N_TYPES, GRID_COLUMNS, *IMAGE_SHAPE))
        quality = self.judge(generator, self.per_type, self.per_accessory)
        score = selection_score(quality)
        logs.update({k: quality[k] for k in ("fid_ratio", "accessories_found")})
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}, **quality}
        row["score"] = score
        row["seconds"] = round(train_seconds, 2)
        append_history(self.out, row)
        if score < self.best[0]:
            self.best = (score, epoch + 1)
            _save_atomically(self.model.generator, self.out / GENERATOR_FILE)


# ---------------------------------------------------------------------------------------------
# Training


def train_gan(
    *,
    epochs: int = EPOCHS,
    seed: int = 0,
    out: str | Path | None = None,
    punks: Punks | None = None,
    subset: int | None = None,
    classifier: PunkClassifier | None = None,
    quality_samples: int = QUALITY_SAMPLES,
    agreement_per_type: int = AGREEMENT_PER_TYPE,
    accessory_samples: int = ACCESSORY_SAMPLES,
    command: str | None = None,
    verbose: int | str = "auto",
) -> dict:
    """Train the palette GAN on train punks (0-7999) and new compositions, snapshotting every
    epoch into `out`, and keep the best epoch by the validation punks (8000-8999).

    After each epoch: the fixed-noise grid (PNG), a history row (losses and the classifier's
    verdicts against the validation punks), and the generator if it is the best so far.

    Args:
        epochs: how many epochs.
        seed: seeds Keras, NumPy and Python (`keras.utils.set_random_seed`).
        out: snapshot folder (default `assets/gan/`); its old epochs are removed first.
        punks: the dataset (default: the shipped 10,000).
        subset: train on only the first `subset` training punks and as many compositions
            (for tests).
        classifier: the judge (default: the shipped CNN).
        quality_samples: how many validation punks (and samples) the punk FID compares.
        agreement_per_type: samples per type for type agreement.
        accessory_samples: samples per checked accessory.
        command: the command line to record.
        verbose: Keras' fit verbosity (its progress bar by default).

    Returns:
        The run facts written to run.json.
    """
    keras.utils.set_random_seed(seed)
    punks = load_punks() if punks is None else punks
    out = Path(out) if out is not None else GAN_DIR
    classifier = load_classifier() if classifier is None else classifier
    started = time.perf_counter()
    cpu_started = time.process_time()
    rows = np.flatnonzero(np.isin(punks.ids, SPLITS["train"]))[:subset]
    train = Punks(punks.images[rows], punks.labels.iloc[rows])
    visible = punks.visible_labels[list(LABELS)].to_numpy()
    validation = punks.split("val")
    reference = Punks(validation.images[:quality_samples], validation.labels.iloc[:quality_samples])
    judge = QualityJudge(classifier, train, reference, seed)
    pool = NEW_POOL if subset is None else subset
    new = _new_compositions(punks, pool, seed)
    per_epoch = (REAL_PER_EPOCH, NEW_PER_EPOCH) if subset is None else (subset, subset // 2)
    data = TrainingPunks((train.images, visible[rows]), new, seed, BATCH_SIZE, *per_epoch)

    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("epoch_*.png"), out / HISTORY_FILE]:
        old.unlink(missing_ok=True)

    gan = ConditionalGAN(build_generator(), build_discriminator(), seed=seed)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(D_LEARNING_RATE, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5),
        jit_compile=True,
    )
    snapshot = Snapshot(out, judge, agreement_per_type, accessory_samples)
    gan.fit(data, epochs=epochs, callbacks=[snapshot], verbose=verbose)
    run = {
        "command": command or f"python -m punks_core train-gan --epochs {epochs} --seed {seed}",
        "seed": seed,
        "epochs": epochs,
        "best_epoch": snapshot.best[1],
        "selected_on": (
            "lowest selection score on the validation punks (ids 8000-8999): FID ratio "
            "+ 10 x (1 - worst type agreement) + 10 x (1 - accessories found)"
        ),
        "batch_size": BATCH_SIZE,
        "latent_dim": LATENT_DIM,
        "learning_rates": {"generator": LEARNING_RATE, "discriminator": D_LEARNING_RATE},
        "real_label": REAL_LABEL,
        "loss": "non-saturating GAN loss plus the label losses",
        "aux_weight": AUX_WEIGHT,
        "type_temperature": TYPE_TEMPERATURE,
        "train_ids": [int(punks.ids[rows].min()), int(punks.ids[rows].max())],
        "n_train": len(rows),
        "per_epoch": {"train_punks": per_epoch[0], "new_compositions": data.new_per_epoch},
        "new_compositions": len(new[0]),
        "type_counts": train.types.value_counts().to_dict(),
        "reference": f"the first {len(reference.images)} validation punks (ids 8000+)",
        "grid_seed": GRID_SEED,
        "grid_columns": GRID_COLUMNS,
        "metric_seed": METRIC_SEED,
        "train_seconds": round(time.perf_counter() - started, 1),
        "train_cpu_seconds": round(time.process_time() - cpu_started, 1),
        "cpu_count": os.cpu_count(),
        "generator_parameters": int(gan.generator.count_params()),
        "discriminator_parameters": int(gan.discriminator.count_params()),
        "judge": classifier.path.name if classifier.path else "in-memory classifier",
        "versions": library_versions(),
    }
    write_run(out, run)
    return run


def _save_atomically(model: keras.Model, path: Path) -> None:
    partial = path.with_name(f".{path.stem}.tmp.keras")
    model.save(partial)
    shutil.move(partial, path)
