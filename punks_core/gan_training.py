"""Training the palette GAN: balanced batches, the per-epoch judge, snapshots, the best epoch.

`train_gan` (the `train-gan` command) trains `gan_networks.ConditionalGAN` on train punks
(ids 0-7999, tempered by type) and new compositions painted from the layers. After each epoch
it fits a quick noise prior (`gan_prior`) to the encoder's codes, and writes the fixed-noise
grid, a history row judged by the project's classifier against the validation punks
(8000-8999), and the generator with its prior if it is the best epoch so far. At the end the
best epoch's prior is fitted again at full size, and the better of the two is shipped.
"""

import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np

from punks_core.classifier import PunkClassifier, load_classifier
from punks_core.compositions import held_out_combinations, paint_new_punks
from punks_core.constants import IMAGE_SHAPE
from punks_core.dataset import SPLITS, Punks, load_punks
from punks_core.gan import PunkGenerator, conditions, latent
from punks_core.gan_networks import (
    ADVERSARIAL_WEIGHT,
    AUX_WEIGHT,
    KL_WEIGHT,
    LABEL_WEIGHT,
    LATENT_DIM,
    N_LABELS,
    N_TYPES,
    REAL_LABEL,
    ConditionalGAN,
    build_discriminator,
    build_generator,
)
from punks_core.gan_prior import FULL, QUICK, PriorFit, fit_prior, with_prior
from punks_core.gan_quality import RealPunks, frechet_distance, in_palette, to_unit_range
from punks_core.gan_snapshots import (
    BARE_GENERATOR_FILE,
    ENCODER_FILE,
    GAN_DIR,
    GENERATOR_FILE,
    GRID_COLUMNS,
    HISTORY_FILE,
    append_history,
    write_grid,
    write_run,
)
from punks_core.labels import LABELS, TYPES
from punks_core.layers import load_layers
from punks_core.model_files import library_versions

EPOCHS = 60
BATCH_SIZE = 64
# Train punks drawn each epoch (tempered by type), beside new compositions from the layers:
# 4,000 and 2,000 until the noise prior's fit joined every epoch, then 3,500 and 1,500 to keep
# 60 epochs within 90 minutes.
REAL_PER_EPOCH = 3500
NEW_PER_EPOCH = 1500
NEW_POOL = 30_000  # new compositions painted once, before training
# The generator and the encoder: Adam with beta_1 = 0.5. At the DCGAN paper's 2e-4 the
# repainting learned so slowly that every punk was still blank after 2 epochs (measured).
LEARNING_RATE = 1e-3
# The discriminator: at 2e-4 the pure GAN's rejected 96 % of fakes by epoch 22 (measured).
D_LEARNING_RATE = 1e-4
TYPE_TEMPERATURE = 0.5  # type share ∝ count ** 0.5 among the train punks of an epoch
GRID_SEED = 2024  # the fixed noise of every epoch's grid
METRIC_SEED = 7  # the fixed noise of every epoch's quality metrics
AGREEMENT_PER_TYPE = 100
ACCESSORY_SAMPLES = 32  # samples per checked accessory, each epoch
QUALITY_SAMPLES = 1000
COPIES_ALLOWED = 0.01  # share of samples that may be a training punk, pixel for pixel
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


def noise_prior(encoder, pixels, truth, fit: PriorFit, seed: int) -> keras.Model:
    """A prior fitted to the encoder's codes of `pixels` (in [-1, 1]) asked as in training."""
    rng = np.random.default_rng(seed)
    codes, requests = [], []
    for _ in range(fit.draws):
        asked = ask_for_some(truth, rng)
        mean, log_var = encoder.predict([pixels, asked], batch_size=1024, verbose=0)
        spread = rng.standard_normal(mean.shape, dtype=np.float32)
        codes.append(mean + np.exp(0.5 * log_var) * spread)
        requests.append(asked)
    return fit_prior(np.concatenate(codes), np.concatenate(requests), fit, seed)


def _new_compositions(punks: Punks, n: int, seed: int, train: Punks):
    """New punks painted from the layers (never a validation or test punk's recipe), none of
    them a training punk."""
    painted = paint_new_punks(load_layers(), punks, n, seed, held_out_combinations(punks))
    # About 8 % of new recipes blend a translucent layer over a colour no real punk has under
    # it, giving a colour outside the palette: the generator could never paint those.
    exact = in_palette(painted.images).all(axis=(1, 2))
    # A fifth of them put a train punk's accessories back on its own base and repaint it
    # exactly (measured on the 30,000): kept, they made train punks 39 % of the noise prior's
    # codes, where copies must stay under 1 % of samples.
    seen = {image.tobytes() for image in train.images}
    new = np.array([image.tobytes() not in seen for image in painted.images])
    return painted.images[exact & new], painted.labels[exact & new]


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
    under 100 % (worst type) or of accessories asked for and not found, and a ten times
    larger one for every point of copies of training punks above the 1 % allowed."""
    worst_type = min(row[f"agree_{t.lower()}"] for t in TYPES)
    copies = 100 * max(0.0, row["copies"] - COPIES_ALLOWED)
    return row["fid_ratio"] + 10 * (1 - worst_type) + 10 * (1 - row["accessories_found"]) + copies


class Snapshot(keras.callbacks.Callback):
    """After each epoch: a quick noise prior, the fixed-noise grid, a history row, and the best
    generator so far (with its prior; its encoder and bare generator kept for the final fit)."""

    def __init__(self, out: Path, judge: QualityJudge, data: TrainingPunks, seed: int, **counts):
        super().__init__()
        self.out, self.judge, self.seed = out, judge, seed
        self.per_type, self.per_accessory = counts["per_type"], counts["per_accessory"]
        self.pixels = np.concatenate([data.real_pixels, data.new_pixels])
        self.truth = np.concatenate([data.real_labels, data.new_labels])
        self.grid_noise = np.tile(latent(GRID_COLUMNS, GRID_SEED), (N_TYPES, 1))
        self.grid_conditions = conditions(np.repeat(TYPES, GRID_COLUMNS))
        self.best = (np.inf, 0)

    def on_epoch_begin(self, epoch, logs=None):
        self.began = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        train_seconds = time.perf_counter() - self.began
        prior = noise_prior(self.model.encoder, self.pixels, self.truth, QUICK, self.seed)
        prior_seconds = time.perf_counter() - self.began - train_seconds
        generator = PunkGenerator(with_prior(prior, self.model.generator))
        grid = generator.decode(self.grid_noise, self.grid_conditions)
        write_grid(self.out, epoch + 1, grid.reshape(N_TYPES, GRID_COLUMNS, *IMAGE_SHAPE))
        quality = self.judge(generator, self.per_type, self.per_accessory)
        score = selection_score(quality)
        logs.update({k: quality[k] for k in ("fid_ratio", "accessories_found")})
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}, **quality}
        row["score"] = score
        row["seconds"] = round(train_seconds, 2)
        row["prior_seconds"] = round(prior_seconds, 2)
        append_history(self.out, row)
        if score < self.best[0]:
            self.best = (score, epoch + 1)
            _save_atomically(generator.model, self.out / GENERATOR_FILE)
            _save_atomically(self.model.generator, self.out / BARE_GENERATOR_FILE)
            _save_atomically(self.model.encoder, self.out / ENCODER_FILE)


def refit_best_prior(out: Path, snapshot: Snapshot) -> dict:
    """Fit the best epoch's prior again at full size; ship it if it scores better.

    Returns what was measured, for run.json. The best epoch's encoder and bare generator are
    removed afterwards: they are for training only.
    """
    started = time.perf_counter()
    encoder = keras.models.load_model(out / ENCODER_FILE)
    bare = keras.models.load_model(out / BARE_GENERATOR_FILE)
    prior = noise_prior(encoder, snapshot.pixels, snapshot.truth, FULL, snapshot.seed)
    generator = PunkGenerator(with_prior(prior, bare))
    quality = snapshot.judge(generator, snapshot.per_type, snapshot.per_accessory)
    score = selection_score(quality)
    shipped = score < snapshot.best[0]
    if shipped:
        _save_atomically(generator.model, out / GENERATOR_FILE)
    for file in (ENCODER_FILE, BARE_GENERATOR_FILE):
        (out / file).unlink()
    return {
        "per_epoch": {**asdict(QUICK), "best_score": round(snapshot.best[0], 3)},
        "full": {**asdict(FULL), "score": round(score, 3), **_rounded(quality)},
        "shipped": "full" if shipped else "per_epoch",
        "seconds": round(time.perf_counter() - started, 1),
    }


def _rounded(quality: dict) -> dict:
    return {k: round(float(v), 4) for k, v in quality.items()}


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
    new = _new_compositions(punks, pool, seed, train)
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
    counts = {"per_type": agreement_per_type, "per_accessory": accessory_samples}
    snapshot = Snapshot(out, judge, data, seed, **counts)
    gan.fit(data, epochs=epochs, callbacks=[snapshot], verbose=verbose)
    prior = refit_best_prior(out, snapshot)
    run = {
        "command": command or f"python -m punks_core train-gan --epochs {epochs} --seed {seed}",
        "seed": seed,
        "epochs": epochs,
        "best_epoch": snapshot.best[1],
        "selected_on": (
            "lowest selection score on the validation punks (ids 8000-8999): FID ratio "
            "+ 10 x (1 - worst type agreement) + 10 x (1 - accessories found) "
            "+ 100 x (copies - 1 %, if more)"
        ),
        "batch_size": BATCH_SIZE,
        "latent_dim": LATENT_DIM,
        "learning_rates": {"generator": LEARNING_RATE, "discriminator": D_LEARNING_RATE},
        "real_label": REAL_LABEL,
        "loss": (
            "generator and encoder: palette cross-entropy of the repainted punk + KL to N(0, 1) "
            "+ non-saturating GAN loss + label loss of punks painted from N(0, 1); "
            "discriminator: GAN loss + label loss on real punks"
        ),
        "loss_weights": {
            "kl": KL_WEIGHT,
            "adversarial": ADVERSARIAL_WEIGHT,
            "labels": LABEL_WEIGHT,
            "discriminator_labels": AUX_WEIGHT,
        },
        "encoder_parameters": int(gan.encoder.count_params()),
        "noise_prior": prior,
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
