"""Training Studio runs: build the learner's network, train it live, score it on validation.

A `Run` is the thread-safe record a page polls while a background thread trains: status,
progress and the curve points a Keras callback (`LiveCurve`) writes after every few batches.
Training sees train ids (0-7999) and validation ids (8000-8999) only, never the test split.
Keras is imported inside the functions that train, so that reading a run costs nothing.
"""

import math
import random
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from punks_core.dataset import SPLITS, Punks
from punks_core.labels import ACCESSORIES, LABELS, TYPES
from punks_core.scoring import decide, evaluate
from punks_core.studio_setup import Experiment

WALL_CAP_S = 90.0  # one run's training time on the shared server, preparation included
POINTS_PER_EPOCH = 10
MAX_POINTS = 300
TRAIN_SAMPLE = 1000  # training punks scored at each curve point, for a curve beside validation
EPSILON = 1e-7  # Keras' clipping in cross-entropy: log(0) never happens
FINAL = ("finished", "stopped", "time_limit", "diverged", "failed", "cancelled")
# Seeding and building touch Keras' global random state: two runs starting at the same moment
# must not interleave there, or the same setup would not give the same weights.
_BUILD_LOCK = threading.Lock()


@dataclass(frozen=True)
class Point:
    """One point of the live curves, `step` training batches in."""

    step: int
    epoch: float
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float


@dataclass(frozen=True)
class RunView:
    """A consistent copy of a run's state, for drawing."""

    experiment: Experiment
    status: str
    message: str
    step: int
    total_steps: int
    batch_loss: float | None
    points: tuple[Point, ...]
    queue_position: int | None
    elapsed: float
    train_seconds: float | None

    @property
    def done(self) -> bool:
        return self.status in FINAL

    @property
    def progress(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0


@dataclass
class Result:
    """What a run learned: its model and its validation scores (None where it diverged)."""

    model: object
    metrics: dict
    per_label: pd.DataFrame | None = None
    layers: pd.DataFrame | None = None
    filters: np.ndarray | None = None  # the first convolution's kernel, (k, k, 4, filters)
    parameters: int = 0
    names: list[str] = field(default_factory=list)  # the output columns, in order

    def predict(self, images: np.ndarray) -> pd.DataFrame:
        """The model's probabilities for uint8 RGBA punks (N, 24, 24, 4), one column per output.

        For the accessory task the one column is the accessory's probability.
        """
        batch = np.asarray(images)
        batch = batch[None] if batch.ndim == 3 else batch
        scores = np.asarray(self.model(batch.astype("float32"), training=False))
        return pd.DataFrame(scores, columns=self.names)


class Run:
    """One training run, shared by the thread that trains and the page that watches.

    Every field is read and written under one lock; the page takes `view()` copies.
    """

    def __init__(self, experiment: Experiment, wall_cap: float = WALL_CAP_S):
        self.experiment = experiment
        self.wall_cap = wall_cap
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._released = False
        self._status, self._message = "queued", ""
        self._step, self._total, self._batch_loss = 0, 0, None
        self._points: list[Point] = []
        self.point_times: list[float] = []  # seconds after training began, one per point
        self._queue_position: int | None = None
        self._created = time.monotonic()
        self._started: float | None = None
        self._train_seconds: float | None = None
        self.result: Result | None = None
        self.first_point_at: float | None = None  # monotonic time of the first curve point
        self.stopped_at: float | None = None  # monotonic time training actually ended

    # The page's side -----------------------------------------------------------------------

    def view(self) -> RunView:
        with self._lock:
            since = self._started if self._started is not None else self._created
            return RunView(
                self.experiment, self._status, self._message, self._step, self._total,
                self._batch_loss, tuple(self._points), self._queue_position,
                time.monotonic() - since, self._train_seconds,
            )  # fmt: skip

    def request_stop(self) -> None:
        """End training after the current batch, keeping the weights learned so far."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def release(self) -> None:
        """Stop the run and drop its model: called when the session that owns it ends."""
        with self._lock:
            self._released = True
            self.result = None
        self._stop.set()

    # The trainer's side --------------------------------------------------------------------

    def set_status(self, status: str, message: str = "") -> None:
        with self._lock:
            self._status, self._message = status, message
            if status == "preparing":
                self._started, self._queue_position = time.monotonic(), None

    def set_queue_position(self, position: int | None) -> None:
        with self._lock:
            self._queue_position = position

    def set_total(self, total: int) -> None:
        with self._lock:
            self._total = total

    def batch_done(self, step: int, loss: float) -> None:
        with self._lock:
            self._step, self._batch_loss = step, loss

    def add_point(self, point: Point) -> None:
        with self._lock:
            if self._points and self._points[-1].step == point.step:
                return
            self._points.append(point)
            self.point_times.append(time.monotonic() - (self._started or self._created))
            if self.first_point_at is None:
                self.first_point_at = time.monotonic()

    def training_ended(self, seconds: float) -> None:
        with self._lock:
            self._train_seconds = seconds
            self.stopped_at = time.monotonic()

    def keep(self, result: Result | None) -> None:
        with self._lock:
            if not self._released:  # a session that is gone gets no model kept for it
                self.result = result

    def over_time(self) -> bool:
        with self._lock:
            return self._started is not None and time.monotonic() - self._started > self.wall_cap


# ---------------------------------------------------------------------------------------------
# Data and scores


def task_columns(experiment: Experiment) -> list[str]:
    """The labels the network answers, in its output order."""
    if experiment.task == "type":
        return list(TYPES)
    if experiment.task == "accessory":
        return [experiment.accessory]
    return list(LABELS)


def task_truth(punks: Punks, rows: np.ndarray, experiment: Experiment) -> np.ndarray:
    """Targets of `rows`: type index (type task) or 0/1 columns (the other tasks), uint8."""
    if experiment.task == "type":
        return punks.labels[list(TYPES)].to_numpy()[rows].argmax(axis=1).astype(np.uint8)
    labels = punks.visible_labels if experiment.task == "visible" else punks.labels
    return labels[task_columns(experiment)].to_numpy()[rows].astype(np.uint8)


def loss_and_accuracy(task: str, scores: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """The training loss and the task's accuracy, as the curves show them.

    Type: cross-entropy and the share of punks with the right type. One accessory: binary
    cross-entropy and the share answered right. All labels: mean binary cross-entropy and the
    share of punks with every label right (exact match).
    """
    scores = np.clip(scores.astype(np.float64), EPSILON, 1 - EPSILON)
    if task == "type":
        loss = -np.log(scores[np.arange(len(truth)), truth]).mean()
        return float(loss), float((scores.argmax(axis=1) == truth).mean())
    loss = -(truth * np.log(scores) + (1 - truth) * np.log(1 - scores)).mean()
    if task == "accessory":
        return float(loss), float(((scores >= 0.5) == truth).mean())
    return float(loss), float((decide(scores) == truth).all(axis=1).mean())


def precision_recall(predicted: np.ndarray, truth: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Per label: punks that have it, punks said to have it, precision, recall and F1.

    Precision is empty for a label never predicted, recall for a label no punk has.
    """
    hits = ((predicted == 1) & (truth == 1)).sum(axis=0)
    said, present = predicted.sum(axis=0), truth.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(said > 0, hits / np.maximum(said, 1), np.nan)
        recall = np.where(present > 0, hits / np.maximum(present, 1), np.nan)
        f1 = np.where(said + present > 0, 2 * hits / np.maximum(said + present, 1), np.nan)
    return pd.DataFrame(
        {
            "label": names,
            "punks with it": present.astype(int),
            "predicted": said.astype(int),
            "precision": precision,
            "recall": recall,
            "F1": f1,
        }
    )


def score(experiment: Experiment, scores: np.ndarray, truth: np.ndarray):
    """Validation metrics of `scores` (the task's columns) against `truth`.

    Returns:
        (metrics, per_label): `metrics` holds "accuracy" (the task's headline), "loss" and,
        for the type task, "confusion" (5x5 counts, rows = truth, columns = answer in `TYPES`
        order); `per_label` is a precision/recall table, or None for the type task.
    """
    loss, accuracy = loss_and_accuracy(experiment.task, scores, truth)
    metrics = {"n_punks": len(truth), "loss": loss, "accuracy": accuracy}
    if experiment.task == "type":
        confusion = np.zeros((len(TYPES), len(TYPES)), dtype=int)
        np.add.at(confusion, (truth, scores.argmax(axis=1)), 1)
        metrics["confusion"] = confusion.tolist()
        return metrics, None
    if experiment.task == "accessory":
        predicted = (scores >= 0.5).astype(np.uint8)
        metrics["baseline_accuracy"] = float((truth == 0).mean())  # always "not worn"
        table = precision_recall(predicted, truth, task_columns(experiment))
        for name in ("precision", "recall", "F1"):
            value = table[name].iloc[0]
            metrics[name.lower()] = None if math.isnan(value) else float(value)
        return metrics, table
    metrics |= {k: v for k, v in evaluate(scores, truth).items() if k != "n_punks"}
    return metrics, precision_recall(decide(scores), truth, task_columns(experiment))


def shipped_scores(probabilities: pd.DataFrame, experiment: Experiment) -> np.ndarray:
    """A shipped 92-label classifier's answer, cut down to the task's columns."""
    return probabilities[task_columns(experiment)].to_numpy()


def split_for(punks: Punks, experiment: Experiment) -> tuple[np.ndarray, np.ndarray]:
    """Rows to train on (a seeded choice of `experiment.punks` train ids) and all val rows."""
    train = np.flatnonzero(np.isin(punks.ids, SPLITS["train"]))
    val = np.flatnonzero(np.isin(punks.ids, SPLITS["val"]))
    if experiment.punks < len(train):
        rng = np.random.default_rng(experiment.seed)
        train = np.sort(rng.choice(train, experiment.punks, replace=False))
    return train, val


# ---------------------------------------------------------------------------------------------
# The network


def build_model(experiment: Experiment):
    """The Keras network `experiment` describes, uncompiled; uint8-valued RGBA in, `task` out."""
    import keras
    from keras import layers

    e = experiment
    inputs = keras.Input((24, 24, 4), name="rgba")
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
    import keras

    kinds = {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return kinds[experiment.optimizer](learning_rate=experiment.lr)


def _batches(images, truth, batch: int, seed: int):
    """Training batches in a new seeded order each epoch (the run's own random stream, so a
    second run training at the same time cannot change this one's order)."""
    import keras

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.on_epoch_end()

        def __len__(self):
            return math.ceil(len(images) / batch)

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(images))

        def __getitem__(self, index):
            rows = self.order[index * batch : (index + 1) * batch]
            return images[rows].astype("float32"), truth[rows]

    return Batches()


def live_curve(run: Run, data: dict, steps_per_epoch: int):
    """The Keras callback that feeds `run`: progress every batch, a curve point every few.

    It also ends training after the batch in which the learner pressed Stop, the run went
    over its wall time, or the loss stopped being a number.
    """
    import keras

    task = run.experiment.task
    total = steps_per_epoch * run.experiment.epochs
    every = max(1, round(steps_per_epoch / POINTS_PER_EPOCH), math.ceil(total / MAX_POINTS))

    class LiveCurve(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.step = 0
            self.ended = None  # why training ended early: stopped, time_limit or diverged

        def point(self) -> None:
            values = []
            for images, truth in (data["train"], data["val"]):
                scores = np.asarray(self.model(images, training=False))
                values += loss_and_accuracy(task, scores, truth)
            if all(math.isfinite(v) for v in values):
                run.add_point(Point(self.step, self.step / steps_per_epoch, *values))

        def on_train_begin(self, logs=None):
            self.point()  # the untrained network: where every curve starts

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            loss = float((logs or {}).get("loss", math.nan))
            run.batch_done(self.step, loss)
            if not math.isfinite(loss):
                self.ended = "diverged"
            elif run.stop_requested:
                self.ended = "stopped"
            elif run.over_time():
                self.ended = "time_limit"
            if self.ended:
                self.model.stop_training = True
                if self.ended != "diverged":
                    self.point()
            elif (
                self.step % every == 0
                or self.step % steps_per_epoch == 0
                # Steps 1, 2, 4, 8, …: the first moves show early, and a run that blows up
                # within a few steps still draws its rise.
                or (self.step < every and self.step & (self.step - 1) == 0)
            ):
                self.point()

    return LiveCurve()


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
    import keras

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
    batches = _batches(images, truth, e.batch, e.seed)
    callback = live_curve(run, data, len(batches))
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
    from punks_core.classifier import PunkClassifier  # its layer table fits any Keras model

    inspector = PunkClassifier(model)
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
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
