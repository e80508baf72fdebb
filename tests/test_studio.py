"""Training Studio library: settings and their limits, the URL form, live training, sharing."""

import dataclasses
import gc
import threading
import time
import weakref

import numpy as np
import pytest

from punks_core.dataset import SPLITS
from punks_core.labels import TYPES
from punks_core.studio_record import Run, precision_recall, score, split_for
from punks_core.studio_runs import Lease, Studio, TrainingSlots
from punks_core.studio_setup import (
    PRESETS,
    Experiment,
    SetupError,
    from_query,
    parameter_count,
)
from punks_core.studio_train import LiveCurve, build_model, train_run

# Small enough to train in a second or two on the shared 2-core machine.
TINY = Experiment(model="fnn", layers=1, units=8, punks=300, batch=50, epochs=2)


# --- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"units": 0}, "at least 1 unit"),
        ({"lr": 0.0}, "never changes the weights"),
        ({"lr": 1e9}, "1,000,000,000"),
        ({"lr": float("nan")}, "must be numbers"),
        ({"batch": 500, "punks": 200}, "larger than the 200 training punks"),
        ({"filters": 0}, "Filters must be between 1 and 64"),
        ({"epochs": 0}, "Epochs must be between 1 and 50"),
        ({"model": "cnn", "pooling": False, "filters": 64, "units": 1024}, "parameters"),
        ({"task": "colour"}, "Unknown task"),
        ({"task": "accessory", "accessory": "Jetpack"}, "not one of the 87 accessories"),
    ],
)
def test_settings_that_cannot_train_are_refused_in_words(changes, words):
    with pytest.raises(SetupError) as error:
        dataclasses.replace(Experiment(), **changes).check()
    message = str(error.value)
    assert words in message
    assert "nan" not in message.lower().replace("nano", "")
    assert "Traceback" not in message


def test_every_preset_can_train_and_says_what_to_look_for():
    for name, preset in PRESETS.items():
        assert preset.experiment.check() is preset.experiment, name
        assert len(preset.lesson) > 40


def test_equal_parameter_presets_are_within_two_percent():
    fnn = parameter_count(PRESETS["Equal parameters: FNN"].experiment)
    cnn = parameter_count(PRESETS["Equal parameters: CNN"].experiment)
    assert fnn != cnn and abs(fnn - cnn) / cnn < 0.02


def test_url_round_trip_gives_the_same_experiment():
    for preset in PRESETS.values():
        experiment, problems = from_query(preset.experiment.to_query())
        assert (experiment, problems) == (preset.experiment, [])


def test_nonsense_url_keeps_what_works_and_says_what_it_ignored():
    base = dataclasses.replace(Experiment(), epochs=7)
    params = {
        "lr": "abc",
        "units": "0",
        "epochs": "5",
        "batch": "1e400",
        "pool": "maybe",
        "hack": "<script>" + "x" * 5000,
        "seed": "1.5",
    }
    experiment, problems = from_query(params, base)
    assert experiment == dataclasses.replace(base, epochs=5)
    assert len(problems) == 6
    assert all(len(problem) < 300 for problem in problems)
    assert any("not one the studio knows" in problem for problem in problems)
    assert any("at least 1 unit" in problem for problem in problems)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"model": "fnn", "layers": 3, "units": 20},
        {"pooling": False, "kernel": 5, "dropout": 0.3},
        {"blocks": 3, "filters": 6, "kernel": 2},
        {"task": "accessory", "accessory": "Earring"},
        {"task": "visible", "model": "fnn"},
    ],
)
def test_parameter_count_matches_keras(changes):
    experiment = dataclasses.replace(Experiment(), **changes)
    assert parameter_count(experiment) == build_model(experiment).count_params()


def test_training_ids_are_a_seeded_choice_of_train_ids_and_never_test(punks):
    train, val = split_for(punks, dataclasses.replace(TINY, punks=500, seed=3))
    ids = punks.ids
    assert len(train) == 500 and len(val) == 1000
    assert set(ids[train]) <= set(SPLITS["train"]) and set(ids[val]) == set(SPLITS["val"])
    again, _ = split_for(punks, dataclasses.replace(TINY, punks=500, seed=3))
    other, _ = split_for(punks, dataclasses.replace(TINY, punks=500, seed=4))
    assert np.array_equal(train, again) and not np.array_equal(train, other)


# --- scores ----------------------------------------------------------------------------------


def test_type_scores_and_confusion_matrix():
    truth = np.array([4, 4, 3, 2, 3], dtype=np.uint8)  # Male, Male, Female, Zombie, Female
    scores = np.full((5, 5), 0.01)
    for row, answer in enumerate([4, 3, 3, 2, 3]):
        scores[row, answer] = 0.96
    metrics, table = score(Experiment(), scores, truth)
    assert table is None
    assert metrics["accuracy"] == pytest.approx(0.8)
    confusion = np.array(metrics["confusion"])
    assert confusion.sum() == 5 and confusion[4, 3] == 1 and confusion[3, 3] == 2
    assert list(TYPES)[4] == "Male"


def test_precision_and_recall_per_label():
    truth = np.array([[1, 0], [1, 0], [0, 0], [0, 1]])
    predicted = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])
    table = precision_recall(predicted, truth, ["Cap", "Mole"])
    cap, mole = table.iloc[0], table.iloc[1]
    assert (cap["precision"], cap["recall"], cap["F1"]) == (0.5, 0.5, 0.5)
    assert np.isnan(mole["precision"]) and mole["recall"] == 0


def test_accessory_scores_name_the_always_no_baseline():
    truth = np.array([[0], [0], [0], [1]], dtype=np.uint8)
    metrics, table = score(
        Experiment(task="accessory"), np.array([[0.1], [0.2], [0.7], [0.9]]), truth
    )
    assert metrics["baseline_accuracy"] == 0.75
    assert metrics["accuracy"] == 0.75 and metrics["precision"] == 0.5 and metrics["recall"] == 1


# --- training --------------------------------------------------------------------------------


def test_a_run_trains_reports_a_curve_and_keeps_a_model(punks):
    run = Run(TINY)
    train_run(run, punks)
    view = run.view()
    assert view.status == "finished", view.message
    assert view.points[0].step == 0  # the untrained network starts the curve
    assert view.points[-1].step == view.total_steps == 12
    assert [p.step for p in view.points] == sorted({p.step for p in view.points})
    result = run.result
    assert 0 <= result.metrics["accuracy"] <= 1 and result.metrics["n_punks"] == 1000
    assert result.parameters == parameter_count(TINY)
    assert list(result.layers["layer"])[-1] == "type"
    answer = result.predict(punks.images[9000:9003])
    assert answer.shape == (3, 5) and np.allclose(answer.sum(axis=1), 1, atol=1e-5)


def test_live_curve_writes_progress_and_points_into_the_run():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (8, 24, 24, 4)).astype("float32")
    truth = rng.integers(0, len(TYPES), 8).astype(np.uint8)
    model = build_model(TINY)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=False)
    run = Run(TINY)
    callback = LiveCurve(run, {"train": (images, truth), "val": (images, truth)}, 4)
    model.fit(images, truth, batch_size=2, epochs=1, callbacks=[callback], verbose=0)
    view = run.view()
    # 4 steps an epoch over TINY's 2 epochs: a point after every step, from the untrained one.
    assert [p.step for p in view.points] == [0, 1, 2, 3, 4]
    assert [p.epoch for p in view.points] == [0, 0.25, 0.5, 0.75, 1]
    assert all(np.isfinite(dataclasses.astuple(p)).all() for p in view.points)
    assert view.step == 4 and np.isfinite(view.batch_loss) and callback.ended is None

    stopping = Run(TINY)
    stopping.request_stop()  # pressed Stop: training ends after this batch, with a last point
    stopped = LiveCurve(stopping, {"train": (images, truth), "val": (images, truth)}, 4)
    model.fit(images, truth, batch_size=2, epochs=1, callbacks=[stopped], verbose=0)
    assert stopped.ended == "stopped" and stopped.step == 1 and model.stop_training
    assert [p.step for p in stopping.view().points] == [0, 1]


def test_the_same_setup_gives_the_same_curve(punks):
    curves = []
    for _ in range(2):
        run = Run(dataclasses.replace(TINY, model="cnn", filters=2, units=4))
        train_run(run, punks)
        curves.append(np.array([dataclasses.astuple(p) for p in run.view().points]))
    assert curves[0].shape == curves[1].shape
    np.testing.assert_allclose(curves[0], curves[1], rtol=1e-5, atol=1e-6)


def test_stop_ends_training_soon_and_keeps_what_was_learned(punks):
    run = Run(dataclasses.replace(TINY, punks=4000, batch=10, epochs=5))
    thread = threading.Thread(target=train_run, args=(run, punks))
    thread.start()
    deadline = time.monotonic() + 120
    while run.view().step < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    run.request_stop()
    asked = time.monotonic()
    thread.join(timeout=120)
    view = run.view()
    assert view.status == "stopped" and "keeps what it learned" in view.message
    assert view.step < view.total_steps and run.result is not None
    assert view.points[-1].step == view.step  # the curve ends where training ended
    assert run.stopped_at - asked < 5  # the bench measures the real latency (< 1 s)


def test_wall_time_limit_stops_the_run_with_a_message(punks):
    run = Run(dataclasses.replace(TINY, epochs=20), wall_cap=0.0)
    train_run(run, punks)
    view = run.view()
    assert view.status == "time_limit"
    assert "0-second limit" in view.message and run.result is not None
    assert view.step == 1


def test_a_diverging_run_is_stopped_and_explained(punks):
    run = Run(PRESETS["Diverging: learning rate 10"].experiment)
    train_run(run, punks)
    view = run.view()
    assert view.status == "diverged"
    assert "stopped being a number" in view.message and "learning rate" in view.message
    assert run.result is None
    assert all(np.isfinite(dataclasses.astuple(p)).all() for p in view.points)
    assert view.step < view.total_steps


def test_an_unexpected_error_becomes_a_message(punks, monkeypatch):
    import punks_core.studio_train as studio_train

    def broken(experiment):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(studio_train, "build_model", broken)
    run = Run(TINY)
    train_run(run, punks)
    assert run.view().status == "failed"
    assert "RuntimeError" in run.view().message and "Traceback" not in run.view().message


# --- sharing the server ------------------------------------------------------------------------


def test_slots_let_runs_train_in_order_and_show_queue_positions(tmp_path):
    slots = TrainingSlots(limit=1, folder=tmp_path)
    first, second = Run(TINY), Run(TINY)
    events = []
    release_first = threading.Event()

    def hold(run, name, wait):
        with slots.turn(run) as may_train:
            events.append((name, may_train))
            if wait:
                release_first.wait(10)

    a = threading.Thread(target=hold, args=(first, "first", True))
    a.start()
    while not events:
        time.sleep(0.01)
    b = threading.Thread(target=hold, args=(second, "second", False))
    b.start()
    deadline = time.monotonic() + 10
    while second.view().queue_position != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert second.view().queue_position == 1 and events == [("first", True)]
    assert slots.training_now() == 1
    release_first.set()
    a.join(10), b.join(10)
    assert events == [("first", True), ("second", True)]
    assert not list(tmp_path.glob("*.ticket"))


def test_a_stopped_run_leaves_the_queue(tmp_path):
    slots = TrainingSlots(limit=1, folder=tmp_path)
    holder, waiting = Run(TINY), Run(TINY)
    outcome = []
    with slots.turn(holder):
        thread = threading.Thread(
            target=lambda: outcome.append(slots.turn(waiting).__enter__()), daemon=True
        )
        thread.start()
        while waiting.view().queue_position is None:
            time.sleep(0.01)
        waiting.request_stop()
        thread.join(5)
    assert outcome == [False]


def test_tickets_of_a_dead_process_are_cleared(tmp_path):
    (tmp_path / "00000000000000000001-999999-dead.ticket").write_text("")  # nobody holds it
    slots = TrainingSlots(limit=1, folder=tmp_path)
    run = Run(TINY)
    with slots.turn(run) as may_train:
        assert may_train
    assert not list(tmp_path.glob("*.ticket"))


def test_dropping_the_lease_stops_the_run_and_frees_its_model(punks, tmp_path):
    studio = Studio(punks, slots=TrainingSlots(limit=1, folder=tmp_path))
    lease = studio.start(TINY)
    run = lease.run
    deadline = time.monotonic() + 120
    while not run.view().done and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.view().status == "finished"
    model = weakref.ref(run.result.model)
    del lease
    gc.collect()
    assert run.stop_requested and run.result is None
    assert model() is None


def test_closing_a_lease_during_training_keeps_no_model(punks, tmp_path):
    studio = Studio(punks, slots=TrainingSlots(limit=1, folder=tmp_path))
    lease = studio.start(dataclasses.replace(TINY, punks=4000, batch=10, epochs=5))
    while lease.run.view().step < 3:
        time.sleep(0.02)
    lease.close()
    deadline = time.monotonic() + 60
    while studio.busy_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lease.run.view().status == "stopped" and lease.run.result is None


def test_lease_is_a_plain_owner():
    run = Run(TINY)
    lease = Lease(run)
    lease.close()
    lease.close()  # twice is harmless
    assert run.stop_requested


def test_training_leaves_the_global_random_generators_alone(punks):
    import random

    random.seed(123)
    np.random.seed(123)
    expected = random.random(), np.random.random()
    random.seed(123)
    np.random.seed(123)
    train_run(Run(dataclasses.replace(TINY, epochs=1)), punks)
    assert (random.random(), np.random.random()) == expected


def test_two_runs_training_at_once_still_give_the_seeded_curve(punks):
    setup = dataclasses.replace(TINY, model="cnn", filters=2, units=4, dropout=0.2)
    alone = Run(setup)
    train_run(alone, punks)
    together = [Run(setup), Run(dataclasses.replace(setup, seed=9))]
    threads = [threading.Thread(target=train_run, args=(run, punks)) for run in together]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    curve = [dataclasses.astuple(p) for p in alone.view().points]
    np.testing.assert_allclose(
        [dataclasses.astuple(p) for p in together[0].view().points], curve, rtol=1e-5, atol=1e-6
    )


def test_the_visible_labels_task_trains_on_what_the_pixels_show(punks):
    try:
        visible = punks.visible_labels
    except Exception as error:  # noqa: BLE001 - the layers are not there to say
        pytest.skip(f"no visible labels here: {error}")
    run = Run(dataclasses.replace(TINY, task="visible", epochs=1))
    train_run(run, punks)
    assert run.view().status == "finished", run.view().message
    result = run.result
    assert result.names[:5] == list(TYPES) and len(result.names) == 92
    assert {"exact_match", "hamming_accuracy", "micro_auc"} <= set(result.metrics)
    table = result.per_label.set_index("label")
    val = np.isin(punks.ids, SPLITS["val"])
    assert table.loc["Earring", "punks with it"] == visible.loc[val, "Earring"].sum()
    assert table.loc["Earring", "punks with it"] < punks.labels.loc[val, "Earring"].sum()
