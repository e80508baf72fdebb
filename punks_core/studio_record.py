"""Training Studio runs without TensorFlow: the live run record, and scoring on validation.

A `Run` is the thread-safe record a page polls while a background thread trains (see
`studio_train`): status, progress and the curve points written after every few batches. The
scores are NumPy: the page scores the shipped classifiers with the same functions as a run.
Training sees train ids (0-7999) and validation ids (8000-8999) only, never the test split.
"""

import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from punks_core.dataset import SPLITS, Punks
from punks_core.labels import LABELS, TYPES
from punks_core.scoring import decide, evaluate
from punks_core.studio_setup import Experiment

WALL_CAP_S = 90.0  # one run's training time on the shared server, preparation included
EPSILON = 1e-7  # Keras' clipping in cross-entropy: log(0) never happens
FINAL = ("finished", "stopped", "time_limit", "diverged", "failed", "cancelled")


@dataclass(frozen=True)
class Point:
    """One point of the live curves, `step` training batches in.

    `studio_figures.curve_figures` reads the train_/val_ fields by name (`getattr`).
    """

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
