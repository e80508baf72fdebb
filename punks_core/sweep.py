"""Hyperparameter sweeps of the CNN with optuna: where studies live, and reading them.

The write-up tuned its CNN with a Bayesian sweep on Weights & Biases. Here optuna's TPE sampler
proposes the same hyperparameters (`SEARCH_SPACE`) and the study lives in a database: SQLite
under `assets/sweeps/` by default, or a PostgreSQL/MySQL URL that workers on several
machines share. `sweep_training` runs a study; this module opens one and reads it: the
trials as a table, a parallel-coordinates figure, and what worked, in sentences. It never
imports TensorFlow: the Sweeps page reads studies through it alone.
"""

import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from sqlalchemy.exc import IntegrityError, OperationalError

from punks_core.errors import PunksError

SWEEPS_DIR = Path(__file__).resolve().parent.parent / "assets" / "sweeps"
DEFAULT_STORAGE = f"sqlite:///{SWEEPS_DIR / 'sweeps.db'}"
TASKS = ("type", "all")
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
    """The study of `task` ("type" or "all") in the shared database: "cnn-type", "cnn-all"."""
    return f"cnn-{task}"


def open_storage(url: str | None, attempts: int = 5) -> optuna.storages.RDBStorage:
    """The study database at `url` (default: SQLite in `assets/sweeps/`), created if new."""
    url = url or DEFAULT_STORAGE
    options = {}
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # Several worker processes share one SQLite file: wait for its lock, don't fail.
        options["engine_kwargs"] = {"connect_args": {"timeout": 60}}
    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(url, **options)
        except (IntegrityError, OperationalError):
            # Workers started together race to create a new database's tables; the loser
            # finds them made on its next try.
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))


def load_study(task: str, storage: str | None = None, study: str | None = None) -> optuna.Study:
    """The task's study, or SweepError saying how to run one."""
    name = study or study_name(task)
    command = f"python -m punks_core sweep --task {task} --trials 30"
    if storage is None and not (SWEEPS_DIR / "sweeps.db").is_file():
        raise SweepError(f"no sweep has been run yet. Run one with `{command}`.")
    try:
        found = optuna.load_study(study_name=name, storage=open_storage(storage))
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
