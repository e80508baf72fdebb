"""Sweeps: a tiny optuna study end to end, two workers sharing SQLite, and reading studies.

The "all" study maximises validation exact match against what the pixels show; the "type"
study minimises validation loss; a study scored one way never takes trials scored another.
"""

import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import optuna
import pandas as pd
import pytest

from punks_core import sweep
from punks_core.__main__ import main
from punks_core.labels import LABELS, TYPES
from punks_core.sweep import (
    LOSS_OBJECTIVE,
    VISIBLE_OBJECTIVE,
    SweepError,
    create_study,
    load_study,
    objective_of,
    parallel_coordinates,
    reading,
    trials_table,
)
from punks_core.sweep_training import ReportToOptuna, best_epoch, run_sweep, sweep_data

ROOT = Path(__file__).resolve().parents[1]


def old_all_study(storage: str) -> optuna.Study:
    """A "cnn-all" study as sweeps made it before: val loss minimised, one finished trial."""
    study = optuna.create_study(study_name="cnn-all", storage=storage, direction="minimize")
    study.set_user_attr("task", "all")
    study.set_user_attr("objective", "val loss (best epoch); val split 8000-8999")
    study.add_trial(optuna.trial.create_trial(value=0.02, user_attrs={"val_score": 0.5}))
    return study


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory, punks):
    # Over an old-style study: --replace's path, the one the shipped cnn-all is re-run with.
    storage = f"sqlite:///{tmp_path_factory.mktemp('sweep') / 'tiny.db'}"
    old_all_study(storage)
    study = run_sweep(
        "all", 2, storage=storage, epochs=1, subset=64, punks=punks, progress=False, replace=True
    )
    return storage, study


def test_two_trial_sweep_records_params_and_val_metrics(tiny_study):
    storage, study = tiny_study
    assert len(study.trials) == 2
    table = trials_table(study)
    assert {
        "val_loss",
        "state",
        "batch_size",
        "learning_rate",
        "dropout",
        "filters",
        "blocks",
    } <= set(table.columns)
    assert {"val_score", "best_epoch", "epochs_run", "seconds", "parameters"} <= set(table.columns)
    assert table["val_score"].between(0, 1).all()
    again = load_study("all", storage=storage)
    assert [t.params for t in again.trials] == [t.params for t in study.trials]
    assert again.user_attrs["train_subset"] == 64 and again.user_attrs["max_epochs"] == 1
    assert any("write-up" in line for line in reading(again, "all"))


def test_all_sweep_maximises_visible_exact_match_and_replaces_the_old_study(tiny_study):
    storage, study = tiny_study
    again = load_study("all", storage=storage)
    # The old loss-scored trial is gone: two new trials, numbered from 0, in a new study.
    assert [t.number for t in again.trials] == [0, 1]
    assert again.direction == optuna.study.StudyDirection.MAXIMIZE
    assert again.user_attrs["objective"] == VISIBLE_OBJECTIVE.record
    assert objective_of(again) == VISIBLE_OBJECTIVE
    table = trials_table(again)
    # The trial's value is the visible exact match of its best epoch; its loss is beside it.
    assert {"val_exact_match", "val_loss", "val_score"} <= set(table.columns)
    for trial in again.trials:
        assert trial.user_attrs["best_epoch"] == 1 and np.isfinite(trial.user_attrs["val_loss"])
        if trial.state == optuna.trial.TrialState.COMPLETE:
            assert trial.value == trial.user_attrs["val_score"]
    assert table["val_exact_match"].between(0, 1).all()
    lines = reading(again, "all")
    assert "validation exact match (what the pixels show)" in lines[0]
    assert "with the highest validation exact match" in lines[1]
    assert not any("--replace" in line for line in lines)


def test_sweep_data_for_all_is_what_the_pixels_show(punks):
    data = sweep_data("all", punks, subset=10_000)
    visible = punks.visible_labels[list(LABELS)].to_numpy()
    assert (data.val_targets == visible[8000:9000]).all()
    # Val punks labelled with an accessory no pixel shows: it is a negative here.
    hidden = punks.hidden_labels[list(LABELS)].to_numpy()[8000:9000] == 1
    assert hidden.any()
    assert (data.val_targets[hidden] == 0).all()
    assert (punks.labels[list(LABELS)].to_numpy()[8000:9000][hidden] == 1).all()
    train_hidden = punks.hidden_labels[list(LABELS)].to_numpy()[:8000].any(axis=1)
    assert train_hidden.any() and len(data.train_targets) == 8000
    assert (data.train_targets == visible[:8000]).all()


def test_cli_refuses_to_add_to_a_study_scored_another_way(tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'old.db'}"
    old_all_study(storage)
    command = ["sweep", "--task", "all", "--trials", "1", "--storage", storage]
    assert main([*command, "--subset", "16", "--max-epochs", "1"]) == 1
    error = capsys.readouterr().err
    assert "--replace" in error and "validation loss" in error and "cnn-all" in error
    assert "validation exact match (what the pixels show)" in error
    kept = optuna.load_study(study_name="cnn-all", storage=storage)
    assert kept.direction == optuna.study.StudyDirection.MINIMIZE and len(kept.trials) == 1


def test_create_study_replaces_or_shares_by_score(tmp_path):
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    old_all_study(storage)
    with pytest.raises(SweepError, match="--replace"):
        create_study("all", storage)
    new = create_study("all", storage, replace=True)
    assert new.direction == optuna.study.StudyDirection.MAXIMIZE and not new.trials
    new.add_trial(optuna.trial.create_trial(value=0.4))
    # Same score: a second worker shares the study, as workers on several machines do.
    shared = create_study("all", storage, seed=1)
    assert len(shared.trials) == 1 and objective_of(shared) == VISIBLE_OBJECTIVE
    # The type study keeps its score: val loss, minimised; it never meets the all study.
    typed = create_study("type", storage)
    assert typed.direction == optuna.study.StudyDirection.MINIMIZE
    assert objective_of(typed) == LOSS_OBJECTIVE
    assert sorted(optuna.get_all_study_names(sweep.open_storage(storage))) == [
        "cnn-all",
        "cnn-type",
    ]


def test_a_study_with_an_unknown_score_is_refused_in_words(tmp_path):
    storage = f"sqlite:///{tmp_path / 'odd.db'}"
    odd = optuna.create_study(study_name="cnn-type", storage=storage, direction="maximize")
    odd.set_user_attr("objective", "val loss (best epoch); val split 8000-8999")
    odd.add_trial(optuna.trial.create_trial(value=0.1))
    with pytest.raises(SweepError, match="cannot read"):
        load_study("type", storage=storage)
    with pytest.raises(SweepError, match="--replace"):
        create_study("type", storage)


def test_best_epoch_is_chosen_by_the_study_score():
    epochs = [(0.30, 0.20), (0.20, 0.40), (0.25, 0.40), (0.10, 0.30)]
    assert best_epoch("type", epochs) == 3  # the lowest val loss
    assert best_epoch("all", epochs) == 1  # the highest exact match; a tie: the lower loss
    assert best_epoch("type", [(float("nan"), 0.1), (float("nan"), 0.2)]) == 1


def test_parallel_coordinates_colour_by_the_study_score():
    table = pd.DataFrame(
        {
            "val_exact_match": [0.5, 0.25, 0.1],
            "state": ["COMPLETE", "COMPLETE", "PRUNED"],
            "learning_rate": [1e-3, 1e-4, 1e-2],
            "batch_size": [8, 16, 256],
            "dropout": [0.0, 0.1, 0.2],
            "filters": [32, 64, 128],
            "blocks": [1, 2, 1],
        }
    )
    figure = parallel_coordinates(table, objective=VISIBLE_OBJECTIVE)
    axis = figure.data[0].dimensions[-1]
    assert axis.label == "val exact match (visible), %" and list(axis.values) == [50, 25, 10]
    # Higher is better here: the colour scale ends (yellow) at the highest score.
    assert list(figure.data[0].line.color) == [50, 25, 10]
    assert figure.layout.coloraxis.colorscale[-1][1] == "#fde725"
    # The table names its score: read without being told, the figure is the same.
    assert parallel_coordinates(table).data[0].dimensions[-1].label == axis.label


def test_sweep_data_never_reads_test_punks(punks):
    data = sweep_data("type", punks, subset=10_000)
    assert len(data.train_images) == 8000 and len(data.val_images) == 1000
    assert data.train_targets.shape[1] == 5 and data.val_targets.sum(axis=1).max() == 1
    # Row i of the shipped dataset is punk #i: the val split's images are punks 8000-8999.
    assert (data.val_images == punks.images[8000:9000]).all()


def test_two_workers_share_one_sqlite_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    command = [sys.executable, "-m", "punks_core", "sweep", "--task", "type", "--trials", "2"]
    command += ["--storage", storage, "--subset", "48", "--max-epochs", "1"]
    workers = [
        subprocess.Popen([*command, "--seed", str(seed)], cwd=ROOT, stderr=subprocess.PIPE)
        for seed in (1, 2)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=300)
        assert worker.returncode == 0, errors.decode()[-2000:]
    study = optuna.load_study(study_name="cnn-type", storage=storage)
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3]
    assert all(t.state.is_finished() for t in study.trials)


def test_missing_study_says_how_to_run_one(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep, "SWEEPS_DIR", tmp_path)
    with pytest.raises(SweepError, match="python -m punks_core sweep --task type"):
        load_study("type")
    with pytest.raises(SweepError, match="no study 'cnn-all'"):
        load_study("all", storage=f"sqlite:///{tmp_path / 'empty.db'}")


def fit_with_reporter(punks, pruner: optuna.pruners.BasePruner, epochs: int, task: str = "all"):
    """Fit a model that always answers "Male" (92 outputs, or 5 for "type"), reporting to one
    trial of a study scored as the task's is."""
    outputs = len(TYPES) if task == "type" else len(LABELS)
    dense = keras.layers.Dense(outputs, activation="sigmoid")
    model = keras.Sequential([keras.Input((24, 24, 4)), keras.layers.Flatten(), dense])
    bias = np.full(outputs, -5.0, dtype="float32")
    bias[TYPES.index("Male")] = 5.0
    dense.set_weights([np.zeros_like(dense.get_weights()[0]), bias])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="binary_crossentropy")
    images = punks.images[:4].astype("float32")
    truth = np.zeros((4, outputs), dtype="float32")
    truth[:, TYPES.index("Male")] = 1
    if task == "all":
        truth[0, LABELS.index("Cap")] = 1  # one punk the model gets wrong: exact match 0.75
    study = optuna.create_study(pruner=pruner, direction=sweep.OBJECTIVES[task].direction)
    trial = study.ask()
    reporter = ReportToOptuna(trial, task, images, truth)
    history = model.fit(
        images,
        truth,
        epochs=epochs,
        validation_data=(images, truth),
        callbacks=[reporter],
        verbose=0,
    )
    return reporter, history, study.trials[0]


def test_report_to_optuna_records_each_epoch_for_the_pruner(punks):
    reporter, history, trial = fit_with_reporter(punks, optuna.pruners.NopPruner(), epochs=2)
    assert not reporter.pruned
    losses = history.history["val_loss"]
    assert reporter.epochs == [(losses[0], 0.75), (losses[1], 0.75)]
    # "all": the pruner is told the exact match, the study's score, not the loss.
    assert trial.intermediate_values == {1: 0.75, 2: 0.75}


def test_report_to_optuna_tells_a_type_trial_its_val_loss(punks):
    reporter, history, trial = fit_with_reporter(punks, optuna.pruners.NopPruner(), 2, "type")
    losses = history.history["val_loss"]
    assert reporter.epochs == [(losses[0], 1.0), (losses[1], 1.0)]
    assert trial.intermediate_values == {1: losses[0], 2: losses[1]}


def test_report_to_optuna_stops_the_fit_when_the_pruner_says_so(punks):
    # Any exact match below 90 % is pruned: the fit ends after its first epoch.
    reporter, history, trial = fit_with_reporter(
        punks, optuna.pruners.ThresholdPruner(lower=0.9), 3
    )
    assert reporter.pruned
    assert len(reporter.epochs) == 1 and len(history.history["val_loss"]) == 1
    assert list(trial.intermediate_values) == [1]
