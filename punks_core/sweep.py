"""Hyperparameter sweeps of the CNN with optuna: where studies live, and reading them.

The write-up tuned its CNN with a Bayesian sweep on Weights & Biases. Here optuna's TPE sampler
proposes the same hyperparameters (`SEARCH_SPACE`) and the study lives in a database: SQLite
under `assets/sweeps/` by default, or a PostgreSQL/MySQL URL that workers on several
machines share. `sweep_training` runs a study; this module creates one (refusing to mix two
scores in one study) and reads it: what it optimises, the trials as a table, a
parallel-coordinates figure, and what worked, in sentences. It never imports TensorFlow: the
Sweeps page reads studies through it alone.

Each study records what it optimises: `study.user_attrs["objective"]` (one of the records in
`OBJECTIVES`, or the older loss record) and optuna's own `study.direction`. The "type" study
minimises validation loss (every type trial reaches ~100 % accuracy, so the loss separates
them); the "all" study maximises validation exact match against what the pixels show
(`Punks.visible_labels`: an accessory drawn under another layer counts as absent).
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from sqlalchemy.exc import IntegrityError, OperationalError

from punks_core.constants import SWEEPS_DIR
from punks_core.errors import SweepError

DEFAULT_STORAGE = f"sqlite:///{SWEEPS_DIR / 'sweeps.db'}"
TASKS = ("type", "all")
SEARCH_SPACE = {
    "batch_size": [8, 16, 32, 64, 128, 256],
    "learning_rate": (1e-4, 1e-2),
    "dropout": (0.0, 0.25),
    "filters": [32, 64, 128],
    "blocks": [1, 2],
}
PRUNER = "median (5 startup trials, from epoch 3)"
# What the write-up read off its W&B parallel-coordinates plot.
WRITE_UP = {
    "type": "64 filters and a learning rate of 5e-5 did well",
    "all": "zero dropout and a higher learning rate did well",
}


@dataclass(frozen=True)
class Measure:
    """One number a trial records, as the trials table names it and a learner reads it."""

    column: str  # the column of `trials_table`
    name: str  # in words: "validation exact match (what the pixels show)"
    short: str  # table headers, axis titles, metrics: "val exact match (visible)"
    percent: bool = False  # a fraction shown as a percentage
    log: bool = False  # spans powers of ten: drawn on a log scale

    def format(self, value) -> str:
        if value is None or pd.isna(value):
            return "not measured"
        return f"{value:.1%}" if self.percent else f"{value:.4f}"


VAL_LOSS = Measure("val_loss", "validation loss", "val loss", log=True)
VISIBLE_EXACT_MATCH = Measure(
    "val_exact_match",
    "validation exact match (what the pixels show)",
    "val exact match (visible)",
    percent=True,
)
TYPE_ACCURACY = Measure("val_score", "validation type accuracy", "val type accuracy", percent=True)
# What "all" trials recorded before the study was scored on what the pixels show.
ALL_LABELS_EXACT_MATCH = Measure(
    "val_score",
    "validation exact match (all labels, hidden ones too)",
    "val exact match (all labels)",
    percent=True,
)


@dataclass(frozen=True)
class Objective:
    """What a study optimises: a trial's value is `measure` at its best epoch."""

    measure: Measure
    direction: str  # optuna's: "minimize" or "maximize"
    record: str  # what the study stores in user_attrs["objective"]

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"

    @property
    def better(self) -> str:
        return "higher is better" if self.maximize else "lower is better"


LOSS_OBJECTIVE = Objective(VAL_LOSS, "minimize", "val loss (best epoch); val split 8000-8999")
VISIBLE_OBJECTIVE = Objective(
    VISIBLE_EXACT_MATCH, "maximize", "visible exact match (best epoch); val split 8000-8999"
)
# What each task's study optimises now. The "all" study minimised the loss on all labels
# before; such a study is still read (as LOSS_OBJECTIVE), and re-run with `--replace`.
OBJECTIVES = {"type": LOSS_OBJECTIVE, "all": VISIBLE_OBJECTIVE}


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


def objective_of(study: optuna.Study) -> Objective:
    """What `study` optimises, from its recorded objective and optuna's direction."""
    direction = study.direction.name.lower()
    record = study.user_attrs.get("objective")
    for objective in (LOSS_OBJECTIVE, VISIBLE_OBJECTIVE):
        if objective.direction == direction and record in (objective.record, None):
            return objective
    raise SweepError(
        f"the study {study.study_name!r} records a score this version cannot read "
        f"({record or 'none'}, {direction}). Run it again with `python -m punks_core sweep "
        f"--task {task_of(study)} --trials 30 --replace`."
    )


def task_of(study: optuna.Study) -> str:
    """The study's task ("type" or "all"), as recorded, or read from its name."""
    return study.user_attrs.get("task") or study.study_name.removeprefix("cnn-")


def measures(study: optuna.Study) -> list[Measure]:
    """What the trials table of `study` holds, in the order to show it: the score first."""
    objective, task = objective_of(study), task_of(study)
    shown = [objective.measure]
    if objective.measure != VAL_LOSS:
        shown.append(VAL_LOSS)  # recorded beside the score at the best epoch
    if task == "type":
        shown.append(TYPE_ACCURACY)
    elif objective == LOSS_OBJECTIVE:
        shown.append(ALL_LABELS_EXACT_MATCH)
    # A visible-exact-match study's val_score is its score: shown once.
    return shown


def _direction_words(objective: Objective) -> str:
    return f"{objective.measure.name}, {objective.better}"


def create_study(
    task: str,
    storage: str | None = None,
    study: str | None = None,
    *,
    seed: int | None = 0,
    replace: bool = False,
) -> optuna.Study:
    """The task's study to add trials to: created if new, deleted first if `replace`.

    A study that exists with another score (an "all" study made when sweeps minimised the
    loss) is refused with a SweepError naming `--replace`: optuna would otherwise load it and
    add trials scored another way to it. A study with the same score is shared, as workers do.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    name = study or study_name(task)
    wanted = OBJECTIVES[task]
    opened = open_storage(storage)
    if name in optuna.get_all_study_names(opened):
        old = optuna.load_study(study_name=name, storage=opened)
        if replace:
            optuna.delete_study(study_name=name, storage=opened)
        else:
            try:
                same = objective_of(old) == wanted
                was = _direction_words(objective_of(old))
            except SweepError:
                same, was = False, "a score this version cannot read"
            if not same:
                raise SweepError(
                    f"the study {name!r} already holds {len(old.trials)} "
                    f"trial{'' if len(old.trials) == 1 else 's'} scored by {was}; "
                    f"this sweep scores {_direction_words(wanted)}, and one study cannot mix "
                    "the two. Add --replace to delete the old study and start it again, or "
                    "give a new name with --study."
                )
    created = optuna.create_study(
        study_name=name,
        storage=opened,
        direction=wanted.direction,
        sampler=optuna.samplers.TPESampler(seed=seed),
        # Median pruning, not Hyperband: with 30 trials of at most 5 epochs, Hyperband stopped
        # 22 of 30 early (measured), leaving too few finished trials to read a plot from.
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2),
        load_if_exists=True,
    )
    created.set_user_attr("task", task)
    created.set_user_attr("objective", wanted.record)
    created.set_user_attr("pruner", PRUNER)
    return created


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
    objective_of(found)  # a score it cannot read is said now, not as a broken page
    return found


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, the score (its column named by `objective_of`, e.g.
    "val_loss" or "val_exact_match"), the hyperparameters and what else it measured."""
    column = objective_of(study).measure.column
    table = study.trials_dataframe(attrs=("number", "value", "state", "params", "user_attrs"))
    table.columns = [c.removeprefix("params_").removeprefix("user_attrs_") for c in table.columns]
    table = table.drop(columns=[column], errors="ignore")  # the value is the score
    return table.rename(columns={"value": column}).set_index("number")


def ranked(table: pd.DataFrame, objective: Objective) -> pd.DataFrame:
    """The trials best first by the study's score (trials without one last)."""
    return table.sort_values(objective.measure.column, ascending=not objective.maximize)


def parallel_coordinates(
    table: pd.DataFrame, include_pruned: bool = True, objective: Objective | None = None
):
    """A Plotly parallel-coordinates figure of the trials, coloured by the study's score
    (`objective`: validation loss on a log axis, or exact match in %), the best yellow.
    Without `objective`, the score is the one whose column `table` holds (see `trials_table`).

    optuna's own plot shows finished trials only; with median pruning most trials stop early,
    and their score when stopped still says which region was poor, so they may be included
    (marked by the "finished" axis).
    """
    import plotly.express as px

    if objective is None:
        objective = next(
            (o for o in (VISIBLE_OBJECTIVE, LOSS_OBJECTIVE) if o.measure.column in table),
            LOSS_OBJECTIVE,
        )
    measure = objective.measure
    states = ["COMPLETE", "PRUNED"] if include_pruned else ["COMPLETE"]
    shown = table[table["state"].isin(states) & table[measure.column].notna()].copy()
    shown["log10 learning rate"] = np.log10(shown["learning_rate"].astype(float))
    shown["log2 batch size"] = np.log2(shown["batch_size"].astype(float))
    score = shown[measure.column].astype(float)
    if measure.log:
        axis, shown[f"log10 {measure.short}"] = f"log10 {measure.short}", np.log10(score)
    elif measure.percent:
        axis, shown[f"{measure.short}, %"] = f"{measure.short}, %", 100 * score
    else:
        axis, shown[measure.short] = measure.short, score
    shown["finished"] = (shown["state"] == "COMPLETE").astype(int)
    dimensions = ["log2 batch size", "log10 learning rate", "dropout", "filters", "blocks"]
    if include_pruned:
        dimensions.append("finished")
    figure = px.parallel_coordinates(
        shown,
        dimensions=[*dimensions, axis],
        color=axis,
        # Viridis ends in yellow: the best trials are yellow whichever way is better.
        color_continuous_scale="Viridis" if objective.maximize else "Viridis_r",
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
    objective = objective_of(study)
    table = trials_table(study)
    done = ranked(table[table["state"] == "COMPLETE"], objective)
    # A quarter, rounded up, but at least 3 trials (or all there are) for a median to mean
    # anything; the text says how many it is, so "quarter" is never claimed for a half.
    top = done.head(max(min(3, len(done)), -(-len(done) // 4)))
    best = done.iloc[0]
    scores = ", ".join(f"{m.name} {m.format(best.get(m.column))}" for m in measures(study))
    most = "highest" if objective.maximize else "lowest"
    lines = [
        f"Best of {len(done)} finished trials (#{best.name}): {scores}; with "
        f"{int(best['filters'])} filters, {int(best['blocks'])} block(s), batch "
        f"{int(best['batch_size'])}, learning rate {best['learning_rate']:.1e}, dropout "
        f"{best['dropout']:.2f}.",
        f"The {len(top)} finished trials of {len(done)} with the {most} "
        f"{objective.measure.name} used a median learning rate of "
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
    if objective != OBJECTIVES.get(task, objective):
        lines.append(
            f"This study is an older one, scored by {objective.measure.name} on all labels, "
            f"hidden accessories too. Run it again to score it by "
            f"{OBJECTIVES[task].measure.name}: `python -m punks_core sweep --task {task} "
            "--trials 30 --replace`."
        )
    return lines
