"""Hyperparameter sweeps of the CNN with optuna: the studies, their storage, and their reading.

The write-up tuned its CNN with a Bayesian sweep on Weights & Biases. Here optuna's TPE sampler
proposes the same hyperparameters, a median pruner stops poor trials on their validation
loss epoch by epoch (from the third epoch on), and the study lives in a database: SQLite
under `assets/sweeps/` by default, or a PostgreSQL/MySQL URL that workers on several
machines share.

Trials train on the train split and are judged on the val split only; the test split is never
read. Keras is imported inside the objective alone, so the Sweeps page reads studies without
TensorFlow.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna
import pandas as pd

from punks_core.dataset import Punks, load_punks
from punks_core.errors import PunksError
from punks_core.labels import LABELS, TYPES

SWEEPS_DIR = Path(__file__).resolve().parent.parent / "assets" / "sweeps"
DEFAULT_STORAGE = f"sqlite:///{SWEEPS_DIR / 'sweeps.db'}"
TASKS = ("type", "all")
MAX_EPOCHS = 5
TRAIN_SUBSET = 2000  # train punks per trial: a sweep of 30+ trials must fit a CPU session
SEARCH_SPACE = {
    "batch_size": [8, 16, 32, 64, 128, 256],
    "learning_rate": (1e-4, 1e-2),
    "dropout": (0.0, 0.25),
    "filters": [32, 64, 128],
    "blocks": [1, 2],
}
# What the write-up read off its W&B parallel-coordinates plot.
WRITE_UP = {
    "type": "64 filters and a learning rate of 5e-5 did well",
    "all": "zero dropout and a higher learning rate did well",
}


class SweepError(PunksError):
    """A study is missing or its storage cannot be opened."""


def study_name(task: str) -> str:
    return f"cnn-{task}"


def _storage(url: str | None, attempts: int = 5):
    url = url or DEFAULT_STORAGE
    options = {}
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # Several worker processes share one SQLite file: wait for its lock, don't fail.
        options["engine_kwargs"] = {"connect_args": {"timeout": 60}}
    from sqlalchemy.exc import IntegrityError, OperationalError

    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(url, **options)
        except (IntegrityError, OperationalError):
            # Workers started together race to create a new database's tables; the loser
            # finds them made on its next try.
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))


@dataclass
class SweepData:
    """Train and val arrays of one task: images uint8 (N, 24, 24, 4), targets float32."""

    train_images: np.ndarray
    train_targets: np.ndarray
    val_images: np.ndarray
    val_targets: np.ndarray


def sweep_data(task: str, punks: Punks | None = None, subset: int = TRAIN_SUBSET, seed: int = 0):
    """A seeded sample of `subset` train punks and the val split (capped at `subset` too)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    from punks_core.classifier import split_rows

    punks = load_punks() if punks is None else punks
    train_rows, val_rows = split_rows(punks)
    rng = np.random.default_rng(seed)
    train_rows = np.sort(rng.permutation(train_rows)[:subset])
    val_rows = val_rows[:subset]
    columns = list(TYPES) if task == "type" else list(LABELS)
    targets = punks.labels[columns].to_numpy(dtype="float32")
    return SweepData(
        punks.images[train_rows], targets[train_rows], punks.images[val_rows], targets[val_rows]
    )


def suggest(trial: optuna.Trial) -> dict:
    space = SEARCH_SPACE
    return {
        "batch_size": trial.suggest_categorical("batch_size", space["batch_size"]),
        "learning_rate": trial.suggest_float("learning_rate", *space["learning_rate"], log=True),
        "dropout": trial.suggest_float("dropout", *space["dropout"]),
        "filters": trial.suggest_categorical("filters", space["filters"]),
        "blocks": trial.suggest_categorical("blocks", space["blocks"]),
    }


def _val_score(task: str, scores: np.ndarray, truth: np.ndarray) -> float:
    """Type accuracy for "type"; exact match (all 92 labels right) for "all"."""
    if task == "type":
        return float((scores.argmax(1) == truth.argmax(1)).mean())
    from punks_core.classifier import decide

    return float((decide(scores) == truth.astype(np.uint8)).all(axis=1).mean())


def objective(trial: optuna.Trial, task: str, data: SweepData, epochs: int, seed: int) -> float:
    """Train one CNN with the trial's hyperparameters; the best val loss over its epochs."""
    import keras

    from punks_core.classifier import build_cnn

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
    epochs_log: list[tuple[float, float]] = []

    class ReportToOptuna(keras.callbacks.Callback):
        """Tell the pruner each epoch's val loss; stop the fit when it says so."""

        pruned = False

        def on_epoch_end(self, epoch, logs=None):
            scores = np.asarray(self.model(val_images, training=False))
            epochs_log.append((logs["val_loss"], _val_score(task, scores, data.val_targets)))
            trial.report(logs["val_loss"], epoch + 1)
            if trial.should_prune():
                self.pruned = self.model.stop_training = True

    reporter = ReportToOptuna()
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
    losses = np.array([loss for loss, _ in epochs_log])
    best = int(np.nanargmin(losses)) if np.isfinite(losses).any() else len(losses) - 1
    trial.set_user_attr("val_score", epochs_log[best][1])
    trial.set_user_attr("best_epoch", best + 1)
    trial.set_user_attr("epochs_run", len(epochs_log))
    trial.set_user_attr("seconds", round(time.perf_counter() - started, 1))
    trial.set_user_attr("parameters", int(model.count_params()))
    if reporter.pruned:
        raise optuna.TrialPruned()
    return float(losses[best]) if np.isfinite(losses[best]) else float("inf")


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
) -> optuna.Study:
    """Add `trials` trials to the task's study (created on first use), and return it.

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
    """
    data = sweep_data(task, punks, subset, seed or 0)
    study = optuna.create_study(
        study_name=study or study_name(task),
        storage=_storage(storage),
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        # Median pruning, not Hyperband: with 30 trials of at most 5 epochs, Hyperband stopped
        # 22 of 30 early (measured), leaving too few finished trials to read a plot from.
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2),
        load_if_exists=True,
    )
    study.set_user_attr("task", task)
    study.set_user_attr("objective", "val loss (best epoch); val split 8000-8999")
    study.set_user_attr("train_subset", len(data.train_images))
    study.set_user_attr("max_epochs", epochs)
    study.set_user_attr("pruner", "median (5 startup trials, from epoch 3)")
    study.optimize(
        lambda trial: objective(trial, task, data, epochs, seed or 0),
        n_trials=trials,
        show_progress_bar=progress,
    )
    return study


# ---------------------------------------------------------------------------------------------
# Reading studies (no TensorFlow)


def load_study(task: str, storage: str | None = None, study: str | None = None) -> optuna.Study:
    """The task's study, or SweepError saying how to run one."""
    name = study or study_name(task)
    command = f"python -m punks_core sweep --task {task} --trials 30"
    if storage is None and not (SWEEPS_DIR / "sweeps.db").is_file():
        raise SweepError(f"no sweep has been run yet. Run one with `{command}`.")
    try:
        found = optuna.load_study(study_name=name, storage=_storage(storage))
    except KeyError:
        raise SweepError(f"there is no study {name!r}. Run one with `{command}`.") from None
    except Exception as error:  # noqa: BLE001 - SQLAlchemy raises many types for a bad file
        raise SweepError(
            f"the sweep database cannot be read ({type(error).__name__}). "
            f"Delete it and run `{command}`."
        ) from error
    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in found.trials):
        raise SweepError(f"the study {name!r} has no finished trial yet. Run `{command}`.")
    return found


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, val loss, hyperparameters and what it measured."""
    table = study.trials_dataframe(attrs=("number", "value", "state", "params", "user_attrs"))
    table.columns = [c.removeprefix("params_").removeprefix("user_attrs_") for c in table.columns]
    return table.rename(columns={"value": "val_loss"}).set_index("number")


def parallel_coordinates(table: pd.DataFrame, include_pruned: bool = True):
    """A Plotly parallel-coordinates figure of the trials, coloured by validation loss.

    optuna's own plot shows finished trials only; with median pruning most trials stop early,
    and their best loss before stopping still says which region was poor, so they may be
    included (marked by the "finished" axis).
    """
    import plotly.express as px

    states = ["COMPLETE", "PRUNED"] if include_pruned else ["COMPLETE"]
    shown = table[table["state"].isin(states) & table["val_loss"].notna()].copy()
    shown["log10 learning rate"] = np.log10(shown["learning_rate"].astype(float))
    shown["log2 batch size"] = np.log2(shown["batch_size"].astype(float))
    shown["log10 val loss"] = np.log10(shown["val_loss"].astype(float))
    shown["finished"] = (shown["state"] == "COMPLETE").astype(int)
    dimensions = ["log2 batch size", "log10 learning rate", "dropout", "filters", "blocks"]
    if include_pruned:
        dimensions.append("finished")
    figure = px.parallel_coordinates(
        shown,
        dimensions=[*dimensions, "log10 val loss"],
        color="log10 val loss",
        color_continuous_scale="Viridis_r",
    )
    # Discrete axes tick at the values a trial can take, not at fractions such as 2.5 blocks.
    discrete = {
        "log2 batch size": np.log2(SEARCH_SPACE["batch_size"]),
        "filters": SEARCH_SPACE["filters"],
        "blocks": SEARCH_SPACE["blocks"],
        "finished": [0, 1],
    }
    for dimension in figure.data[0].dimensions:
        if dimension.label in discrete:
            ticks = list(discrete[dimension.label])
            dimension.tickvals = ticks
            dimension.ticktext = ["no", "yes"] if dimension.label == "finished" else ticks
            dimension.range = [min(ticks), max(ticks)]
    # The first axis' title is centred on it: room on the left keeps it from being cut off.
    return figure.update_layout(margin={"l": 80, "r": 150, "t": 90, "b": 30})


def reading(study: optuna.Study, task: str) -> list[str]:
    """What worked, in a few sentences computed from the trials, beside the write-up's finding."""
    table = trials_table(study)
    done = table[table["state"] == "COMPLETE"].sort_values("val_loss")
    # A quarter, rounded up, but at least 3 trials (or all there are) for a median to mean
    # anything; the text says how many it is, so "quarter" is never claimed for a half.
    top = done.head(max(min(3, len(done)), -(-len(done) // 4)))
    best = done.iloc[0]
    score = "type accuracy" if task == "type" else "exact match"
    lines = [
        f"Best of {len(done)} finished trials (#{best.name}): val loss {best['val_loss']:.4f}, "
        f"val {score} {best['val_score']:.1%}, with {int(best['filters'])} filters, "
        f"{int(best['blocks'])} block(s), batch {int(best['batch_size'])}, learning rate "
        f"{best['learning_rate']:.1e}, dropout {best['dropout']:.2f}.",
        f"The best {len(top)} of the {len(done)} finished trials used a median learning rate of "
        f"{top['learning_rate'].median():.1e} (all trials: {done['learning_rate'].median():.1e}) "
        f"and a median dropout of {top['dropout'].median():.2f} "
        f"(all: {done['dropout'].median():.2f}); most often "
        f"{int(top['filters'].mode().iloc[0])} filters and batch "
        f"{int(top['batch_size'].mode().iloc[0])}.",
        f"The write-up found that {WRITE_UP[task]}.",
    ]
    pruned = int((table["state"] == "PRUNED").sum())
    if pruned:
        lines.append(f"The pruner stopped {pruned} of {len(table)} trials early.")
    return lines
