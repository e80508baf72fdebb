"""Sweeps: a tiny optuna study end to end, two workers sharing SQLite, and reading studies."""

import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import optuna
import pytest

from punks_core import sweep
from punks_core.labels import LABELS, TYPES
from punks_core.sweep import SweepError, load_study, reading, trials_table
from punks_core.sweep_training import ReportToOptuna, run_sweep, sweep_data

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory, punks):
    storage = f"sqlite:///{tmp_path_factory.mktemp('sweep') / 'tiny.db'}"
    study = run_sweep("all", 2, storage=storage, epochs=1, subset=64, punks=punks, progress=False)
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


def fit_with_reporter(punks, pruner: optuna.pruners.BasePruner, epochs: int):
    """Fit a 92-output model that always answers "Male", reporting to one trial."""
    dense = keras.layers.Dense(len(LABELS), activation="sigmoid")
    model = keras.Sequential([keras.Input((24, 24, 4)), keras.layers.Flatten(), dense])
    bias = np.full(len(LABELS), -5.0, dtype="float32")
    bias[TYPES.index("Male")] = 5.0
    dense.set_weights([np.zeros_like(dense.get_weights()[0]), bias])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="binary_crossentropy")
    images = punks.images[:4].astype("float32")
    truth = np.zeros((4, len(LABELS)), dtype="float32")
    truth[:, TYPES.index("Male")] = 1
    truth[0, LABELS.index("Cap")] = 1  # one punk the model gets wrong: exact match 0.75
    study = optuna.create_study(pruner=pruner)
    trial = study.ask()
    reporter = ReportToOptuna(trial, "all", images, truth)
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
    assert trial.intermediate_values == {1: losses[0], 2: losses[1]}


def test_report_to_optuna_stops_the_fit_when_the_pruner_says_so(punks):
    # Any val loss above 0 is pruned: the fit ends after its first epoch.
    reporter, history, trial = fit_with_reporter(
        punks, optuna.pruners.ThresholdPruner(upper=0.0), 3
    )
    assert reporter.pruned
    assert len(reporter.epochs) == 1 and len(history.history["val_loss"]) == 1
    assert list(trial.intermediate_values) == [1]
