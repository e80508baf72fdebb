"""Training Studio training: build the learner's network and train it live into a `Run`.

Importing this module imports TensorFlow (Keras); the run record and the scores it reports
live in `studio_record`, which a page reads without it. `LiveCurve` is the Keras callback that
writes progress and curve points into the run after every few batches, and ends training
when the learner presses Stop, the run goes over its wall time, or the loss diverges.
"""

import math
import random
import threading
import time

import keras
import numpy as np
from keras import layers

from punks_core.classifier import PunkClassifier
from punks_core.constants import IMAGE_SHAPE
from punks_core.dataset import Punks
from punks_core.labels import ACCESSORIES, TYPES
from punks_core.studio_record import (
    Point,
    Result,
    Run,
    loss_and_accuracy,
    score,
    split_for,
    task_columns,
    task_truth,
)
from punks_core.studio_setup import Experiment

POINTS_PER_EPOCH = 10
MAX_POINTS = 300
TRAIN_SAMPLE = 1000  # training punks scored at each curve point, for a curve beside validation
# Seeding and building touch Keras' global random state: two runs starting at the same moment
# must not interleave there, or the same setup would not give the same weights.
_BUILD_LOCK = threading.Lock()


def build_model(experiment: Experiment):
    """The Keras network `experiment` describes, uncompiled; uint8-valued RGBA in, `task` out."""
    e = experiment
    inputs = keras.Input(IMAGE_SHAPE, name="rgba")
    x = layers.Rescaling(1 / 255, name="scale")(inputs)
    if e.model == "cnn":
        for block in range(1, e.blocks + 1):
            x = layers.Conv2D(
                e.filters, e.kernel, padding="same", activation="relu", name=f"conv{block}"
            )(x)
            if e.pooling:
                x = layers.MaxPooling2D(2, name=f"pool{block}")(x)
        x = layers.Flatten(name="flatten")(x)
        if e.dropout:
            x = layers.Dropout(e.dropout, name="dropout")(x)
        x = layers.Dense(e.units, activation="relu", name="dense")(x)
    else:
        x = layers.Flatten(name="flatten")(x)
        for k in range(1, e.layers + 1):
            x = layers.Dense(e.units, activation="relu", name=f"dense{k}")(x)
    if e.task == "type":
        outputs = layers.Dense(len(TYPES), activation="softmax", name="type")(x)
    elif e.task == "accessory":
        outputs = layers.Dense(1, activation="sigmoid", name="accessory")(x)
    else:  # one type (softmax) beside any accessories (sigmoids), as the shipped classifier
        types = layers.Dense(len(TYPES), activation="softmax", name="type")(x)
        worn = layers.Dense(len(ACCESSORIES), activation="sigmoid", name="accessories")(x)
        outputs = layers.Concatenate(name="labels")([types, worn])
    return keras.Model(inputs, outputs, name=f"studio_{e.model}")


def _optimizer(experiment: Experiment):
    kinds = {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return kinds[experiment.optimizer](learning_rate=experiment.lr)


class Batches(keras.utils.PyDataset):
    """Training batches in a new seeded order each epoch (the run's own random stream, so a
    second run training at the same time cannot change this one's order)."""

    def __init__(self, images: np.ndarray, truth: np.ndarray, batch: int, seed: int):
        super().__init__()
        self.images, self.truth, self.batch = images, truth, batch
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self):
        return math.ceil(len(self.images) / self.batch)

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.images))

    def __getitem__(self, index):
        rows = self.order[index * self.batch : (index + 1) * self.batch]
        return self.images[rows].astype("float32"), self.truth[rows]


class LiveCurve(keras.callbacks.Callback):
    """The Keras callback that feeds `run`: progress every batch, a curve point every few.

    It also ends training after the batch in which the learner pressed Stop, the run went
    over its wall time, or the loss stopped being a number (`ended` says which).

    Args:
        run: the run to report into; its experiment gives the task and the epochs.
        data: {"train": (images, truth), "val": (images, truth)}, float32 images, scored at
            each curve point.
        steps_per_epoch: training batches in one epoch.
    """

    def __init__(self, run: Run, data: dict, steps_per_epoch: int):
        super().__init__()
        self.run, self.data, self.steps_per_epoch = run, data, steps_per_epoch
        total = steps_per_epoch * run.experiment.epochs
        self.every = max(
            1, round(steps_per_epoch / POINTS_PER_EPOCH), math.ceil(total / MAX_POINTS)
        )
        self.step = 0
        self.ended = None  # why training ended early: stopped, time_limit or diverged

    def point(self) -> None:
        values = []
        for images, truth in (self.data["train"], self.data["val"]):
            scores = np.asarray(self.model(images, training=False))
            values += loss_and_accuracy(self.run.experiment.task, scores, truth)
        if all(math.isfinite(v) for v in values):
            self.run.add_point(Point(self.step, self.step / self.steps_per_epoch, *values))

    def on_train_begin(self, logs=None):
        self.point()  # the untrained network: where every curve starts

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        loss = float((logs or {}).get("loss", math.nan))
        self.run.batch_done(self.step, loss)
        if not math.isfinite(loss):
            self.ended = "diverged"
        elif self.run.stop_requested:
            self.ended = "stopped"
        elif self.run.over_time():
            self.ended = "time_limit"
        if self.ended:
            self.model.stop_training = True
            if self.ended != "diverged":
                self.point()
        elif (
            self.step % self.every == 0
            or self.step % self.steps_per_epoch == 0
            # Steps 1, 2, 4, 8, …: the first moves show early, and a run that blows up
            # within a few steps still draws its rise.
            or (self.step < self.every and self.step & (self.step - 1) == 0)
        ):
            self.point()


def train_run(run: Run, punks: Punks) -> None:
    """Train `run.experiment` on `punks`, reporting into `run`; never raises.

    Ends in one of the statuses "finished", "stopped", "time_limit", "diverged" or "failed",
    each with a message a learner can read; `run.result` holds what was learned unless the
    run diverged or failed.
    """
    try:
        _train(run, punks)
    except Exception as error:  # noqa: BLE001 - a background thread must report, not vanish
        run.set_status(
            "failed",
            f"Training stopped on an unexpected error ({type(error).__name__}). "
            "Try smaller settings, or press Train again.",
        )


def _train(run: Run, punks: Punks) -> None:
    e = run.experiment
    run.set_status("preparing")
    train_rows, val_rows = split_for(punks, e)
    images = punks.images[train_rows]
    truth = task_truth(punks, train_rows, e)
    sample = slice(0, TRAIN_SAMPLE)  # the rows are a seeded random choice: any slice is fair
    data = {
        "train": (images[sample].astype("float32"), truth[sample]),
        "val": (punks.images[val_rows].astype("float32"), task_truth(punks, val_rows, e)),
    }
    with _BUILD_LOCK:
        # The seed fixes the initial weights; Python's and NumPy's global generators are
        # given back afterwards, so that a run never makes other pages' "random punk" repeat.
        saved = random.getstate(), np.random.get_state()
        try:
            keras.utils.set_random_seed(e.seed)
            model = build_model(e)
            loss = "sparse_categorical_crossentropy" if e.task == "type" else "binary_crossentropy"
            # XLA compiles for seconds before the first step; these networks are too small to
            # gain that back within a run.
            model.compile(optimizer=_optimizer(e), loss=loss, jit_compile=False)
        finally:
            random.setstate(saved[0])
            np.random.set_state(saved[1])
    batches = Batches(images, truth, e.batch, e.seed)
    callback = LiveCurve(run, data, len(batches))
    run.set_total(len(batches) * e.epochs)
    run.set_status("training")
    start = time.perf_counter()
    # shuffle=False: the batches come in the run's own seeded order; Keras would shuffle them
    # again with the global generator, which another run may be using at the same moment.
    model.fit(batches, epochs=e.epochs, callbacks=[callback], shuffle=False, verbose=0)
    run.training_ended(time.perf_counter() - start)

    if callback.ended == "diverged":
        run.set_status(
            "diverged",
            f"The loss stopped being a number after {callback.step} training steps: the "
            f"learning rate {e.lr:g} made the weights jump so far that the arithmetic "
            "overflowed. The run was stopped there; its model is useless. Try a learning "
            "rate 10 to 100 times smaller.",
        )
        return
    run.set_status("evaluating")
    scores = np.asarray(model(data["val"][0], training=False))
    metrics, per_label = score(e, scores, data["val"][1])
    if not math.isfinite(metrics["loss"]):
        run.set_status("diverged", "The model's answers are not numbers any more: it diverged.")
        return
    inspector = PunkClassifier(model)  # its layer table fits any Keras model
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    run.keep(
        Result(
            model=model,
            metrics=metrics,
            per_label=per_label,
            layers=inspector.layer_table(),
            filters=np.asarray(convs[0].kernel) if convs else None,
            parameters=int(model.count_params()),
            names=task_columns(e),
        )
    )
    seconds = f"{run.view().train_seconds:.1f} s"
    endings = {
        None: ("finished", f"Trained {e.epochs} epoch{'s' if e.epochs > 1 else ''} in {seconds}."),
        "stopped": ("stopped", f"Stopped after {seconds}; the model keeps what it learned."),
        "time_limit": (
            "time_limit",
            f"This run reached the {run.wall_cap:.0f}-second limit each run has on this shared "
            "server, so it was stopped; the model keeps what it learned. For a full run, "
            "choose fewer epochs or training punks, or a smaller network.",
        ),
    }
    run.set_status(*endings[callback.ended])
