"""A conditional DCGAN on punks: the networks, training with per-epoch snapshots, PunkGenerator.

Decisions (the README says more):

- **RGBA, not RGB on punk blue.** The dataset, the classifier that judges the samples and the
  `generate()` contract are all RGBA; the background is one constant, (0, 0, 0, 0), and the
  smoke's half alpha is part of the data. On blue, every sample would have to be un-composited
  again, and a punk colour near the blue would be ambiguous.
- **Tempered type sampling.** Each epoch draws punks with replacement so that a type's share is
  proportional to the square root of its count: Male 49 %, Female 39 %, Zombie 6 %, Ape 3 %,
  Alien 2 %. Plain sampling shows the 9 aliens 9 times in 9,000 draws, too rarely for the
  generator to learn the condition; balanced sampling shows each alien ~200 times an epoch, and
  the discriminator learns them by heart, which teaches the generator to copy them.
- **Train + val ids only (0-8999).** The test punks stay unseen: the punk FID compares samples
  with them, and the classifier that judges the samples was tested on them.
"""

import os
import shutil
import time
from pathlib import Path

import keras
import numpy as np
from keras import layers

from punks_core.classifier import PunkClassifier, _versions, load_classifier
from punks_core.dataset import SPLITS, Punks, load_punks
from punks_core.errors import ModelError
from punks_core.gan_quality import RealPunks, frechet_distance, to_uint8, to_unit_range
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
from punks_core.labels import TYPES

LATENT_DIM = 64
IMAGE_SHAPE = (24, 24, 4)
EPOCHS = 70
BATCH_SIZE = 64
LEARNING_RATE = 2e-4  # Adam with beta_1 = 0.5, the DCGAN paper's settings
REAL_LABEL = 0.9  # one-sided label smoothing: the discriminator never gets fully sure
TYPE_TEMPERATURE = 0.5  # type share ∝ count ** 0.5 (see the module docstring)
GRID_SEED = 2024  # the fixed noise of every epoch's grid
METRIC_SEED = 7  # the fixed noise of every epoch's quality metrics
AGREEMENT_PER_TYPE = 200
QUALITY_SAMPLES = 1000
MAX_SAMPLES = 1024
MAX_SEED = 2**32 - 1
MAX_STEPS = 32


# ---------------------------------------------------------------------------------------------
# Networks


def build_generator(latent_dim: int = LATENT_DIM) -> keras.Model:
    """(noise, type one-hot) -> a 24x24 RGBA punk in [-1, 1]: 6x6 -> 12x12 -> 24x24."""
    noise = keras.Input((latent_dim,), name="noise")
    punk_type = keras.Input((len(TYPES),), name="type")
    x = layers.Concatenate()([noise, punk_type])
    x = layers.Dense(6 * 6 * 128, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((6, 6, 128))(x)
    for width in (64, 32):
        x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    image = layers.Conv2D(4, 3, padding="same", activation="tanh", name="rgba")(x)
    return keras.Model([noise, punk_type], image, name="generator")


def build_discriminator() -> keras.Model:
    """(punk, type one-hot) -> a logit: real punk of that type, or not.

    The type enters as five constant channels beside RGBA (as in Keras' conditional GAN
    example), so every filter can check the pixels against the claimed type.
    """
    image = keras.Input(IMAGE_SHAPE, name="punk")
    punk_type = keras.Input((len(TYPES),), name="type")
    planes = layers.RepeatVector(IMAGE_SHAPE[0] * IMAGE_SHAPE[1])(punk_type)
    planes = layers.Reshape((*IMAGE_SHAPE[:2], len(TYPES)))(planes)
    x = layers.Concatenate()([image, planes])
    for width in (64, 128):
        x = layers.Conv2D(width, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model([image, punk_type], logit, name="discriminator")


class ConditionalGAN(keras.Model):
    """Generator and discriminator trained against each other, one `train_step` per batch.

    Only the generator is saved, so this wrapper is never serialised.
    """

    def __init__(self, generator, discriminator, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = generator.input[0].shape[-1]
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    @property
    def metrics(self):
        # Listed here so Keras resets them at the start of every epoch.
        return [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker]

    def train_step(self, data):
        import tensorflow as tf

        real, types, _ = keras.utils.unpack_x_y_sample_weight(data)
        batch = tf.shape(real)[0]

        # 1. The discriminator: real punks of their type against fakes of the same types.
        noise = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        fake = self.generator([noise, types], training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator([real, types], training=True)
            fake_logits = self.discriminator([fake, types], training=True)
            d_loss = self.loss_fn(
                tf.fill(tf.shape(real_logits), REAL_LABEL), real_logits
            ) + self.loss_fn(tf.zeros_like(fake_logits), fake_logits)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(
            zip(grads, self.discriminator.trainable_weights, strict=True)
        )

        # 2. The generator: new noise, rewarded when the discriminator calls its punks real.
        noise = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            logits = self.discriminator([self.generator([noise, types], training=True), types])
            g_loss = self.loss_fn(tf.ones_like(logits), logits)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights, strict=True))

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(tf.sigmoid(real_logits))
        self.d_fake_tracker.update_state(tf.sigmoid(fake_logits))
        return {m.name: m.result() for m in self.metrics}


# ---------------------------------------------------------------------------------------------
# Generating


def one_hot(types: list[str] | np.ndarray) -> np.ndarray:
    """Type names -> (n, 5) float32 one-hot rows in `TYPES` order."""
    index = np.array([TYPES.index(t) for t in types], dtype=int)
    return np.eye(len(TYPES), dtype=np.float32)[index]


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
        raise ValueError(f"{name} must be a whole number, not {value!r}.")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:,} and {high:,}; got {value:,}.")
    return int(value)


def _check_type(punk_type: str) -> str:
    if punk_type not in TYPES:
        raise ValueError(f"unknown punk type {punk_type!r}; choose one of {', '.join(TYPES)}.")
    return punk_type


class PunkGenerator:
    """The trained generator: punks of a chosen type from a seed, and walks between them."""

    def __init__(self, model: keras.Model, path: Path | None = None):
        self.model = model
        self.path = path
        self.latent_dim = int(model.input[0].shape[-1])

    def decode(self, noise: np.ndarray, conditions: np.ndarray) -> np.ndarray:
        """Noise (n, latent_dim) and type rows (n, 5) -> (n, 24, 24, 4) uint8 RGBA."""
        outputs = [
            np.asarray(self.model([noise[k : k + 512], conditions[k : k + 512]], training=False))
            for k in range(0, len(noise), 512)
        ]
        return to_uint8(np.concatenate(outputs)) if outputs else np.zeros((0, *IMAGE_SHAPE))

    def generate(self, punk_type: str, n: int, seed: int) -> np.ndarray:
        """`n` punks of `punk_type` from the noise of `seed`.

        Raises:
            ValueError: an unknown type, n outside 1..1024, or seed outside 0..2**32-1.
        """
        _check_type(punk_type)
        n = _check_int("the number of punks", n, 1, MAX_SAMPLES)
        seed = _check_int("the seed", seed, 0, MAX_SEED)
        return self.decode(latent(n, seed, self.latent_dim), one_hot([punk_type] * n))

    def interpolate(self, start: tuple[str, int], end: tuple[str, int], steps: int) -> np.ndarray:
        """Walk from the first punk of (type, seed) `start` to that of `end` in `steps` punks.

        The noise moves along a great circle and the type one-hot blends linearly, so the
        middle of a Male -> Female walk is conditioned on "half of each".
        """
        steps = _check_int("the number of steps", steps, 2, MAX_STEPS)
        (type_a, seed_a), (type_b, seed_b) = start, end
        noise_a = latent(1, _check_int("the seed", seed_a, 0, MAX_SEED), self.latent_dim)[0]
        noise_b = latent(1, _check_int("the seed", seed_b, 0, MAX_SEED), self.latent_dim)[0]
        t = np.linspace(0, 1, steps, dtype=np.float32)
        cond_a, cond_b = one_hot([_check_type(type_a), _check_type(type_b)])
        conditions = (1 - t)[:, None] * cond_a + t[:, None] * cond_b
        return self.decode(_slerp(noise_a, noise_b, t).astype(np.float32), conditions)


def load_generator(path: str | Path | None = None) -> PunkGenerator:
    """Load the trained generator (Keras safe mode: no code runs from the file).

    Raises:
        ModelError: the file is missing or broken; the message names the rebuild command.
    """
    file = Path(path) if path is not None else GAN_DIR / GENERATOR_FILE
    rebuild = REBUILD_COMMAND if path is None else f"{REBUILD_COMMAND} --out {file.parent}"
    if not file.is_file():
        raise ModelError(f"the GAN generator {file} is missing. Rebuild it with `{rebuild}`.")
    try:
        model = keras.saving.load_model(file, compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - Keras raises many types for a broken file
        raise ModelError(
            f"the GAN generator {file} cannot be loaded ({type(error).__name__}: {error}). "
            f"Rebuild it with `{rebuild}`."
        ) from error
    return PunkGenerator(model, path=file)


# ---------------------------------------------------------------------------------------------
# Training


def type_weights(types: np.ndarray, temperature: float = TYPE_TEMPERATURE) -> np.ndarray:
    """Per-punk sampling probabilities giving each type a share ∝ count ** temperature."""
    names, inverse, counts = np.unique(types, return_inverse=True, return_counts=True)
    weights = counts[inverse].astype(np.float64) ** (temperature - 1)
    return weights / weights.sum()


def _batches(images: np.ndarray, types: np.ndarray, seed: int, batch_size: int):
    """Each epoch, len(images) punks drawn with replacement by tempered type weights."""
    probabilities = type_weights(types)
    conditions = one_hot(types)
    pixels = to_unit_range(images)

    class TemperedPunks(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.on_epoch_end()

        def __len__(self):
            return int(np.ceil(len(images) / batch_size))

        def on_epoch_end(self):
            self.order = self.rng.choice(len(images), len(images), p=probabilities)

        def __getitem__(self, index):
            rows = self.order[index * batch_size : (index + 1) * batch_size]
            return pixels[rows], conditions[rows]

    return TemperedPunks()


class QualityJudge:
    """The project's classifier judging samples: type agreement, punk FID, memorisation.

    The reference is real punks the GAN never saw (the test split); the real-vs-real FID
    compares a type-matched sample of training punks with it: the value a generator that had
    learned the training punks perfectly would score.
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
        self.noise = latent(
            max(len(reference.images), AGREEMENT_PER_TYPE * len(TYPES)), METRIC_SEED
        )

    def __call__(self, generator: PunkGenerator, per_type: int = AGREEMENT_PER_TYPE) -> dict:
        row = {}
        noise = self.noise[:per_type]
        for punk_type in TYPES:
            samples = generator.decode(noise, one_hot([punk_type] * per_type))
            chosen = self.classifier.predict_proba(samples)[list(TYPES)].idxmax(axis=1)
            row[f"agree_{punk_type.lower()}"] = float((chosen == punk_type).mean())
        n = len(self.reference_types)
        samples = generator.decode(self.noise[:n], one_hot(self.reference_types))
        row["fid"] = frechet_distance(self.classifier.features(samples), self.reference_features)
        row["real_fid"] = self.real_fid
        row.update(self.train.memorisation(samples))
        return row


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
    command: str | None = None,
    verbose: int | str = "auto",
) -> dict:
    """Train the conditional DCGAN on ids 0-8999, snapshotting every epoch into `out`.

    After each epoch: the fixed-noise grid (PNG), a history row (losses and the classifier's
    verdicts), and the generator so far (so an interrupted run still leaves a usable model).

    Args:
        epochs: how many epochs.
        seed: seeds Keras, NumPy and Python (`keras.utils.set_random_seed`).
        out: snapshot folder (default `assets/gan/`); its old epochs are removed first.
        punks: the dataset (default: the shipped 10,000).
        subset: train on only the first `subset` training punks (for tests).
        classifier: the judge (default: the shipped CNN).
        quality_samples: how many test punks (and samples) the punk FID compares.
        agreement_per_type: samples per type for type agreement.
        command: the command line to record.
        verbose: Keras' fit verbosity (its progress bar by default).

    Returns:
        The run facts written to run.json.
    """
    keras.utils.set_random_seed(seed)
    punks = load_punks() if punks is None else punks
    out = Path(out) if out is not None else GAN_DIR
    classifier = load_classifier() if classifier is None else classifier
    ids = punks.ids
    rows = np.flatnonzero(ids < SPLITS["test"].start)[:subset]
    train = Punks(punks.images[rows], punks.labels.iloc[rows])
    test = punks.split("test")
    reference = Punks(test.images[:quality_samples], test.labels.iloc[:quality_samples])
    judge = QualityJudge(classifier, train, reference, seed)

    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("epoch_*.png"), out / HISTORY_FILE]:
        old.unlink(missing_ok=True)

    gan = ConditionalGAN(build_generator(), build_discriminator(), seed=seed)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5),
        jit_compile=True,  # XLA: 170 instead of 320 ms a step on this CPU (measured)
    )
    grid_noise = np.tile(latent(GRID_COLUMNS, GRID_SEED), (len(TYPES), 1))
    grid_types = one_hot(np.repeat(TYPES, GRID_COLUMNS))
    started = time.perf_counter()
    cpu_started = time.process_time()

    class Snapshot(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.began = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            generator = PunkGenerator(gan.generator)
            grid = generator.decode(grid_noise, grid_types)
            write_grid(out, epoch + 1, grid.reshape(len(TYPES), GRID_COLUMNS, *IMAGE_SHAPE))
            train_seconds = time.perf_counter() - self.began
            quality = judge(generator, agreement_per_type)
            logs.update({k: v for k, v in quality.items() if k in ("fid", "agree_male")})
            row = {"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}, **quality}
            row["seconds"] = round(train_seconds, 2)
            append_history(out, row)
            _save_atomically(gan.generator, out / GENERATOR_FILE)

    gan.fit(
        _batches(train.images, train.types.to_numpy(), seed, BATCH_SIZE),
        epochs=epochs,
        callbacks=[Snapshot()],
        verbose=verbose,
    )
    shares = type_weights(train.types.to_numpy())
    run = {
        "command": command or f"python -m punks_core train-gan --epochs {epochs} --seed {seed}",
        "seed": seed,
        "epochs": epochs,
        "batch_size": BATCH_SIZE,
        "latent_dim": LATENT_DIM,
        "learning_rate": LEARNING_RATE,
        "real_label": REAL_LABEL,
        "type_temperature": TYPE_TEMPERATURE,
        "train_ids": [int(ids[rows].min()), int(ids[rows].max())],
        "n_train": len(rows),
        "type_counts": train.types.value_counts().to_dict(),
        "type_shares": {
            t: round(float(shares[train.types == t].sum()), 4)
            for t in TYPES
            if (train.types == t).any()
        },
        "reference": f"the first {len(reference.images)} test punks (ids 9000+)",
        "grid_seed": GRID_SEED,
        "grid_columns": GRID_COLUMNS,
        "metric_seed": METRIC_SEED,
        "train_seconds": round(time.perf_counter() - started, 1),
        "train_cpu_seconds": round(time.process_time() - cpu_started, 1),
        "cpu_count": os.cpu_count(),
        "generator_parameters": int(gan.generator.count_params()),
        "discriminator_parameters": int(gan.discriminator.count_params()),
        "judge": classifier.path.name if classifier.path else "in-memory classifier",
        "versions": _versions(),
    }
    write_run(out, run)
    return run


def _save_atomically(model: keras.Model, path: Path) -> None:
    partial = path.with_name(f".{path.stem}.tmp.keras")
    model.save(partial)
    shutil.move(partial, path)
