"""Running a sweep: each optuna trial trains one CNN on a sample of train punks, in Keras.

A trial's value is its study's score (`sweep.OBJECTIVES`) at its best epoch: the validation
loss for "type" (minimised), the validation exact match against what the pixels show for
"all" (maximised; "all" trials train and are judged on `Punks.visible_labels`, so an
accessory drawn under another layer is a negative). A median pruner stops poor trials on that
same score epoch by epoch (from the third epoch on). Trials train on the train split and are
judged on the val split only; the test split is never read. `python -m punks_core sweep` runs
`run_sweep`; several workers given one database share a study. Creating and reading a study
(the Sweeps page) is `sweep`, without TensorFlow.
"""

import time
from dataclasses import dataclass

import keras
import numpy as np
import optuna

from punks_core.classifier_models import build_cnn
from punks_core.dataset import Punks, load_punks
from punks_core.labels import LABELS, TYPES
from punks_core.scoring import decide, split_rows
from punks_core.sweep import LOSS_OBJECTIVE, OBJECTIVES, SEARCH_SPACE, TASKS, create_study

MAX_EPOCHS = 5
TRAIN_SUBSET = 2000  # train punks per trial: a sweep of 30+ trials must fit a CPU session


@dataclass
class SweepData:
    """Train and val arrays of one task: images uint8 (N, 24, 24, 4), targets float32."""

    train_images: np.ndarray
    train_targets: np.ndarray
    val_images: np.ndarray
    val_targets: np.ndarray


def sweep_data(task: str, punks: Punks | None = None, subset: int = TRAIN_SUBSET, seed: int = 0):
    """A seeded sample of `subset` train punks and the val split (capped at `subset` too).

    Targets are the five types for "type"; for "all", the 92 labels the pixels show
    (`visible_labels`: a hidden accessory is a 0), to train on and to be judged against.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    punks = load_punks() if punks is None else punks
    train_rows, val_rows = split_rows(punks)
    rng = np.random.default_rng(seed)
    train_rows = np.sort(rng.permutation(train_rows)[:subset])
    val_rows = val_rows[:subset]
    columns = list(TYPES) if task == "type" else list(LABELS)
    labels = punks.labels if task == "type" else punks.visible_labels
    targets = labels[columns].to_numpy(dtype="float32")
    return SweepData(
        punks.images[train_rows], targets[train_rows], punks.images[val_rows], targets[val_rows]
    )


def suggest(trial: optuna.Trial) -> dict:
    """The trial's hyperparameters, drawn from `SEARCH_SPACE` by the study's sampler."""
    space = SEARCH_SPACE
    return {
        "batch_size": trial.suggest_categorical("batch_size", space["batch_size"]),
        "learning_rate": trial.suggest_float("learning_rate", *space["learning_rate"], log=True),
        "dropout": trial.suggest_float("dropout", *space["dropout"]),
        "filters": trial.suggest_categorical("filters", space["filters"]),
        "blocks": trial.suggest_categorical("blocks", space["blocks"]),
    }


def _val_score(task: str, scores: np.ndarray, truth: np.ndarray) -> float:
    """Type accuracy for "type"; exact match (all 92 labels right against `truth`, the visible
    labels in a sweep) for "all"."""
    if task == "type":
        return float((scores.argmax(1) == truth.argmax(1)).mean())
    return float((decide(scores) == truth.astype(np.uint8)).all(axis=1).mean())


def _reports_loss(task: str) -> bool:
    return OBJECTIVES[task] == LOSS_OBJECTIVE


class ReportToOptuna(keras.callbacks.Callback):
    """Tell the pruner each epoch's score (the study's: val loss for "type", val exact match
    for "all"); stop the fit when it says so.

    Each epoch appends (val loss, val score) to `epochs`; `pruned` says whether the pruner
    stopped the fit.
    """

    def __init__(self, trial: optuna.Trial, task: str, val_images, val_targets):
        super().__init__()
        self.trial, self.task = trial, task
        self.val_images, self.val_targets = val_images, val_targets
        self.epochs: list[tuple[float, float]] = []
        self.pruned = False

    def on_epoch_end(self, epoch, logs=None):
        scores = np.asarray(self.model(self.val_images, training=False))
        loss, score = logs["val_loss"], _val_score(self.task, scores, self.val_targets)
        self.epochs.append((loss, score))
        self.trial.report(loss if _reports_loss(self.task) else score, epoch + 1)
        if self.trial.should_prune():
            self.pruned = self.model.stop_training = True


def best_epoch(task: str, epochs: list[tuple[float, float]]) -> int:
    """The index of the best of a trial's (val loss, val score) epochs, by its study's score:
    the lowest loss for "type", the highest exact match for "all" (ties: the lower loss)."""
    losses = np.array([loss for loss, _ in epochs], dtype=float)
    if _reports_loss(task):
        return int(np.nanargmin(losses)) if np.isfinite(losses).any() else len(losses) - 1
    scores = np.array([score for _, score in epochs], dtype=float)
    losses = np.where(np.isfinite(losses), losses, np.inf)
    return int(np.lexsort((losses, -scores))[0])


def objective(trial: optuna.Trial, task: str, data: SweepData, epochs: int, seed: int) -> float:
    """Train one CNN with the trial's hyperparameters; its study's score at the best epoch."""
    params = suggest(trial)
    keras.utils.set_random_seed(seed + trial.number)
    model = build_cnn(
        filters=params["filters"], dropout=params["dropout"], blocks=params["blocks"], task=task
    )
    model.compile(
        optimizer=keras.optimizers.Adam(params["learning_rate"]),
        loss="categorical_crossentropy" if task == "type" else "binary_crossentropy",
        jit_compile=False,
    )
    val_images = data.val_images.astype("float32")
    reporter = ReportToOptuna(trial, task, val_images, data.val_targets)
    started = time.perf_counter()
    model.fit(
        data.train_images.astype("float32"),
        data.train_targets,
        batch_size=params["batch_size"],
        epochs=epochs,
        validation_data=(val_images, data.val_targets),
        callbacks=[reporter],
        verbose=0,
    )
    epochs_log = reporter.epochs
    best = best_epoch(task, epochs_log)
    loss, score = epochs_log[best]
    trial.set_user_attr("val_score", score)
    if not _reports_loss(task) and np.isfinite(loss):
        trial.set_user_attr("val_loss", float(loss))  # beside the score, at the best epoch
    trial.set_user_attr("best_epoch", best + 1)
    trial.set_user_attr("epochs_run", len(epochs_log))
    trial.set_user_attr("seconds", round(time.perf_counter() - started, 1))
    trial.set_user_attr("parameters", int(model.count_params()))
    if reporter.pruned:
        raise optuna.TrialPruned()
    if not _reports_loss(task):
        return float(score)
    return float(loss) if np.isfinite(loss) else float("inf")


def run_sweep(
    task: str,
    trials: int,
    *,
    storage: str | None = None,
    study: str | None = None,
    seed: int | None = 0,
    epochs: int = MAX_EPOCHS,
    subset: int = TRAIN_SUBSET,
    punks: Punks | None = None,
    progress: bool = True,
    replace: bool = False,
) -> optuna.Study:
    """Add `trials` trials to the task's study (created on first use), and return it.

    A study of that name scored another way (an "all" study that minimised the loss) raises
    SweepError unless `replace`, which deletes the old study first.

    Args:
        task: "type" (five types) or "all" (92 labels).
        trials: how many trials this worker runs.
        storage: a database URL (default: SQLite in `assets/sweeps/`). Workers given the same
            URL and study name share one study: start one per machine or per core.
        study: the study's name (default "cnn-<task>").
        seed: seeds the TPE sampler and each trial's Keras run; give each worker its own.
        epochs: the most epochs of a trial (the pruner may stop it sooner).
        subset: train punks per trial.
        punks: the dataset (default: the shipped one).
        progress: show optuna's progress bar.
        replace: delete the study first if it exists (one worker only, before the others).
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    # The study first: a refusal comes before minutes of loading and training.
    study = create_study(task, storage, study, seed=seed, replace=replace)
    data = sweep_data(task, punks, subset, seed or 0)
    study.set_user_attr("train_subset", len(data.train_images))
    study.set_user_attr("max_epochs", epochs)
    study.optimize(
        lambda trial: objective(trial, task, data, epochs, seed or 0),
        n_trials=trials,
        show_progress_bar=progress,
    )
    return study
