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
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np

from punks_core.classifier import PunkClassifier, load_classifier
from punks_core.constants import IMAGE_SHAPE
from punks_core.dataset import SPLITS, Punks, load_punks
from punks_core.gan import PunkGenerator, conditions, latent
from punks_core.gan_data import NEW_POOL, TYPE_TEMPERATURE, TrainingPunks, new_compositions
from punks_core.gan_judge import (
    ACCESSORY_SAMPLES,
    AGREEMENT_PER_TYPE,
    METRIC_SEED,
    QUALITY_SAMPLES,
    QualityJudge,
    selection_score,
)
from punks_core.gan_networks import (
    ADVERSARIAL_WEIGHT,
    AUX_WEIGHT,
    KL_WEIGHT,
    LABEL_WEIGHT,
    LATENT_DIM,
    N_TYPES,
    REAL_LABEL,
    ConditionalGAN,
    build_discriminator,
    build_generator,
)
from punks_core.gan_prior import FULL, QUICK, PriorFit, noise_prior, with_prior
from punks_core.gan_recipes import RECIPES_FILE, RecipeBook
from punks_core.gan_snapshots import (
    BARE_GENERATOR_FILE,
    ENCODER_FILE,
    GAN_DIR,
    GENERATOR_FILE,
    GRID_COLUMNS,
    HISTORY_FILE,
    Snapshots,
    append_history,
    rebuild_command,
    write_grid,
    write_run,
)
from punks_core.labels import LABELS, TYPES
from punks_core.model_files import library_versions, load_keras_model

EPOCHS = 60
BATCH_SIZE = 64
# Train punks drawn each epoch (tempered by type), beside new compositions from the layers:
# 4,000 and 2,000 until the noise prior's fit joined every epoch, then 3,500 and 1,500 to keep
# 60 epochs within 90 minutes.
REAL_PER_EPOCH = 3500
NEW_PER_EPOCH = 1500
# The generator and the encoder: Adam with beta_1 = 0.5. At the DCGAN paper's 2e-4 the
# repainting learned so slowly that every punk was still blank after 2 epochs (measured).
LEARNING_RATE = 1e-3
# The discriminator: at 2e-4 the pure GAN's rejected 96 % of fakes by epoch 22 (measured).
D_LEARNING_RATE = 1e-4
GRID_SEED = 2024  # the fixed noise of every epoch's grid


@dataclass
class PriorJudging:
    """What fitting and judging a noise prior needs: the punks whose codes it learns (in
    [-1, 1], with their labels), the judge and its sample counts, and the recipe book the
    judged generator completes its requests from."""

    pixels: np.ndarray
    truth: np.ndarray
    judge: QualityJudge
    seed: int
    per_type: int
    per_accessory: int
    recipes: RecipeBook

    def generator(self, encoder, bare, fit: PriorFit) -> PunkGenerator:
        """The generator `bare` drawing its noise through a prior fitted to `encoder`'s codes."""
        prior = noise_prior(encoder, self.pixels, self.truth, fit, self.seed)
        return PunkGenerator(with_prior(prior, bare), recipes=self.recipes)

    def __call__(self, generator: PunkGenerator) -> tuple[dict, float]:
        quality = self.judge(generator, self.per_type, self.per_accessory)
        return quality, selection_score(quality)


class Snapshot(keras.callbacks.Callback):
    """After each epoch: a quick noise prior, the fixed-noise grid, a history row, and the best
    generator so far (with its prior, and its encoder and bare generator for `fit_gan_prior`)."""

    def __init__(self, out: Path, judging: PriorJudging):
        super().__init__()
        self.out, self.judging = out, judging
        self.grid_noise = np.tile(latent(GRID_COLUMNS, GRID_SEED), (N_TYPES, 1))
        self.grid_conditions = conditions(np.repeat(TYPES, GRID_COLUMNS))
        self.best = (np.inf, 0)

    def on_epoch_begin(self, epoch, logs=None):
        self.began = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        train_seconds = time.perf_counter() - self.began
        generator = self.judging.generator(self.model.encoder, self.model.generator, QUICK)
        prior_seconds = time.perf_counter() - self.began - train_seconds
        grid = generator.decode(self.grid_noise, self.grid_conditions)
        write_grid(self.out, epoch + 1, grid.reshape(N_TYPES, GRID_COLUMNS, *IMAGE_SHAPE))
        quality, score = self.judging(generator)
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


def refit_prior(out: Path, judging: PriorJudging, shipped_score: float, fit: PriorFit) -> dict:
    """Fit the shipped epoch's prior again (`fit`) and ship it if it scores below
    `shipped_score`. Returns what was measured, for run.json."""
    started = time.perf_counter()
    rebuild = rebuild_command(out)
    encoder = load_keras_model(out / ENCODER_FILE, what="GAN encoder", rebuild=rebuild)
    bare = load_keras_model(out / BARE_GENERATOR_FILE, what="GAN generator", rebuild=rebuild)
    generator = judging.generator(encoder, bare, fit)
    quality, score = judging(generator)
    better = score < shipped_score
    if better:
        _save_atomically(generator.model, out / GENERATOR_FILE)
    return {
        **asdict(fit),
        **_recorded(quality, score),
        "shipped": bool(better),
        "seconds": round(time.perf_counter() - started, 1),
    }


def fit_gan_prior(
    *,
    out: str | Path | None = None,
    fit: PriorFit = FULL,
    punks: Punks | None = None,
    classifier: PunkClassifier | None = None,
    command: str | None = None,
) -> dict:
    """Fit the shipped GAN's noise prior again from its kept encoder (`train-gan` writes it),
    ship it if it scores better on the validation punks than the shipped one judged the same
    way now, and record it in run.json."""
    out = Path(out) if out is not None else GAN_DIR
    run = Snapshots(out).run
    judging = _setup(punks, run["seed"], run.get("subset"), classifier, run["judge_samples"])[1]
    shipped_score = judging(_shipped_generator(out, judging))[1]
    refit = refit_prior(out, judging, shipped_score, fit)
    refit["command"] = command or "python -m punks_core fit-gan-prior"
    refit["shipped_score_before"] = round(shipped_score, 3)
    run["noise_prior"]["refits"].append(refit)
    write_run(out, run)
    return refit


def write_gan_recipes(
    *,
    out: str | Path | None = None,
    punks: Punks | None = None,
    classifier: PunkClassifier | None = None,
    command: str | None = None,
) -> dict:
    """Write the recipe book of a trained GAN's folder again (it is a function of the run's
    seed and the dataset: `train-gan` writes it before training), and judge the shipped
    generator with it on the validation punks. Recorded in run.json."""
    out = Path(out) if out is not None else GAN_DIR
    run = Snapshots(out).run
    started = time.perf_counter()
    judging = _setup(punks, run["seed"], run.get("subset"), classifier, run["judge_samples"])[1]
    judging.recipes.save(out / RECIPES_FILE)
    quality, score = judging(_shipped_generator(out, judging))
    run["recipes"] = _recipes_record(judging.recipes, command or "python -m punks_core gan-recipes")
    run["recipes"]["judged"] = _recorded(quality, score)
    run["recipes"]["seconds"] = round(time.perf_counter() - started, 1)
    write_run(out, run)
    return run["recipes"]


def _shipped_generator(out: Path, judging: PriorJudging) -> PunkGenerator:
    """The generator shipped in `out`, completing its requests from `judging`'s recipe book."""
    shipped = load_keras_model(
        out / GENERATOR_FILE, what="GAN generator", rebuild=rebuild_command(out)
    )
    return PunkGenerator(shipped, recipes=judging.recipes)


def _recorded(quality: dict, score: float) -> dict:
    """A judge's verdict as run.json records it: the score and every measure, rounded."""
    return {"score": round(score, 3), **{k: round(float(v), 4) for k, v in quality.items()}}


def _recipes_record(recipes: RecipeBook, command: str) -> dict:
    return {
        "file": RECIPES_FILE,
        "recipes": len(recipes),
        "distinct": len(np.unique(recipes.recipes, axis=0)),
        "per_type": {t: len(recipes.holding(t)) for t in TYPES},
        "from": "the run's new compositions whose type and accessories no training punk wears",
        "worn_together": "pairs of labels some training punk wears together",
        "worn": f"the {len(recipes.worn):,} training recipes, never completed into",
        "command": command,
    }


def _setup(punks, seed, subset, classifier, samples: dict):
    """The training punks (TrainingPunks) and the PriorJudging of a run."""
    punks = load_punks() if punks is None else punks
    classifier = load_classifier() if classifier is None else classifier
    rows = np.flatnonzero(np.isin(punks.ids, SPLITS["train"]))[:subset]
    train = Punks(punks.images[rows], punks.labels.iloc[rows])
    visible = punks.visible_labels[list(LABELS)].to_numpy()
    validation = punks.split("val")
    quality = samples["quality"]
    reference = Punks(validation.images[:quality], validation.labels.iloc[:quality])
    judge = QualityJudge(classifier, train, reference, seed)
    pool = NEW_POOL if subset is None else subset
    new = new_compositions(punks, pool, seed, train)
    per_epoch = (REAL_PER_EPOCH, NEW_PER_EPOCH) if subset is None else (subset, subset // 2)
    data = TrainingPunks((train.images, visible[rows]), new, seed, BATCH_SIZE, *per_epoch)
    judging = PriorJudging(
        np.concatenate([data.real_pixels, data.new_pixels]),
        np.concatenate([data.real_labels, data.new_labels]),
        judge, seed, samples["per_type"], samples["per_accessory"],
        RecipeBook.of_training(new[1], visible[rows]),
    )  # fmt: skip
    return data, judging, train, rows


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
    samples = {
        "quality": quality_samples,
        "per_type": agreement_per_type,
        "per_accessory": accessory_samples,
    }
    data, judging, train, rows = _setup(punks, seed, subset, classifier, samples)

    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("epoch_*.png"), out / HISTORY_FILE]:
        old.unlink(missing_ok=True)
    judging.recipes.save(out / RECIPES_FILE)

    gan = ConditionalGAN(build_generator(), build_discriminator(), seed=seed)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(D_LEARNING_RATE, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5),
        jit_compile=True,
    )
    snapshot = Snapshot(out, judging)
    gan.fit(data, epochs=epochs, callbacks=[snapshot], verbose=verbose)
    best_score = snapshot.best[0]
    prior = {
        "per_epoch": {**asdict(QUICK), "best_score": round(best_score, 3)},
        "refits": [{**refit_prior(out, judging, best_score, FULL), "command": "train-gan"}],
    }
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
        "recipes": _recipes_record(judging.recipes, "train-gan"),
        "subset": subset,
        "judge_samples": samples,
        "type_temperature": TYPE_TEMPERATURE,
        "train_ids": [int(punks.ids[rows].min()), int(punks.ids[rows].max())],
        "n_train": len(rows),
        "per_epoch": {"train_punks": data.real_per_epoch, "new_compositions": data.new_per_epoch},
        "new_compositions": len(data.new_pixels),
        "type_counts": train.types.value_counts().to_dict(),
        "reference": f"the first {len(judging.judge.reference_types)} validation punks (ids 8000+)",
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
