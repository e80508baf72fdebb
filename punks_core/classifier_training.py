"""Training a punk classifier: the batches, the selection callback, and `train_classifier`.

Training sees the train punks (ids 0-7999) and, each epoch, a fresh draw of new punks painted
from the layers; the epoch kept is the best on the val punks (8000-8999) by exact match on
visible labels; the test punks (9000-9999) are scored once, after the model is saved, for the
JSON report written beside it. `python -m punks_core train-classifier` runs this.
"""

import json
import os
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from punks_core.augment import SkinSwapper
from punks_core.classifier import PunkClassifier
from punks_core.classifier_models import BUILDERS, build_cnn
from punks_core.compositions import combination, held_out_combinations, paint_new_punks
from punks_core.dataset import SPLITS, Punks, load_punks
from punks_core.labels import LABELS
from punks_core.layers import load_layers
from punks_core.model_files import library_versions
from punks_core.palette import punk_palette
from punks_core.reports import model_path, report_path_for
from punks_core.scoring import (
    decide,
    evaluate,
    per_label_table,
    sample_weights,
    skin_swap_set,
    split_rows,
)

EPOCHS = 30
BATCH_SIZE = 64  # measured: 52-56 ms a step on 2 idle cores, 21-23 s an epoch of 26,000 punks
LEARNING_RATE = 2e-3  # peak of a cosine decay to zero over the requested epochs
PATIENCE = 8
NEW_PUNKS = 72_000  # new compositions painted from the layers before training
NEW_PER_EPOCH = 18_000  # of which each epoch shows this many beside the 8,000 train punks
HELD_OUT_NEW = 2_000  # new compositions kept for the report, never trained on


def batches_per_epoch(n_train: int, n_new: int, batch_size: int) -> int:
    """Batches in one epoch: every train punk once and `NEW_PER_EPOCH` new ones (at most)."""
    return int(np.ceil((n_train + min(NEW_PER_EPOCH, n_new)) / batch_size))


def training_batches(images, labels, new_images, new_labels, *, seed, batch_size, epochs):
    """A `tf.data.Dataset` of every epoch's batches, one epoch after the other.

    Each epoch shows every train punk once and a fresh draw of `NEW_PER_EPOCH` new
    compositions, shuffled together. A batch is (images float32 (B, 24, 24, 4) in 0..255,
    labels (B, 92), sample weights (B,)); the weights are computed for each epoch's mix
    (`scoring.sample_weights`). Every epoch's rows are drawn up front, so the steps never
    wait on Python (a `PyDataset` stalled about 18 s at the start of some epochs, measured).
    Pass `steps_per_epoch=batches_per_epoch(...)` to `fit`.
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    pool_images = np.concatenate([images, new_images])
    pool_labels = np.concatenate([labels, new_labels]).astype("float32")
    per_epoch = min(NEW_PER_EPOCH, len(new_images))
    rows, weights = [], []
    for _ in range(epochs):
        drawn = len(images) + rng.choice(len(new_images), per_epoch, replace=False)
        epoch_rows = rng.permutation(np.concatenate([np.arange(len(images)), drawn]))
        rows.append(epoch_rows)
        weights.append(sample_weights(pool_labels[epoch_rows]))
    pool_images, pool_labels = tf.constant(pool_images), tf.constant(pool_labels)

    def one_epoch(epoch_rows, epoch_weights):
        return tf.data.Dataset.from_tensor_slices((epoch_rows, epoch_weights)).batch(batch_size)

    def gather(batch_rows, batch_weights):
        pixels = tf.cast(tf.gather(pool_images, batch_rows), tf.float32)
        return pixels, tf.gather(pool_labels, batch_rows), batch_weights

    epochs_data = tf.data.Dataset.from_tensor_slices((np.stack(rows), np.stack(weights)))
    return epochs_data.flat_map(one_epoch).map(gather).prefetch(tf.data.AUTOTUNE)


class ValExactMatch(keras.callbacks.Callback):
    """Log the share of validation punks with all 92 labels right, each epoch.

    Written to the epoch's logs as "val_exact_match", which early stopping monitors.
    """

    def __init__(self, images: np.ndarray, truth: np.ndarray):
        super().__init__()
        self.images = np.asarray(images, dtype="float32")
        self.truth = np.asarray(truth).astype(np.uint8)

    def on_epoch_end(self, epoch, logs=None):
        scores = np.asarray(self.model(self.images, training=False))
        logs["val_exact_match"] = float((decide(scores) == self.truth).all(axis=1).mean())


def train_classifier(
    kind: str = "cnn",
    *,
    epochs: int = EPOCHS,
    seed: int = 0,
    out: str | Path | None = None,
    punks: Punks | None = None,
    subset: int | None = None,
    augment: bool = True,
    command: str | None = None,
    verbose: int | str = "auto",
) -> dict:
    """Train a classifier on ids 0-7999, select it on 8000-8999, test it on 9000-9999.

    The best epoch by validation exact match on visible labels is kept (early stopping with
    restored weights); the test split is only scored after training. Writes the model and a
    JSON report beside it.

    Args:
        kind: "cnn" or "fnn".
        epochs: the most epochs to train (early stopping may end sooner).
        seed: seeds Keras, NumPy and Python through `keras.utils.set_random_seed`.
        out: the model file to write (default: the shipped `assets/models/` file of `kind`).
        punks: the dataset (default: the shipped 10,000 punks).
        subset: train and select on only the first `subset` rows of each split (for tests).
        augment: repaint train punks in other skin tones (label-safe augmentation).
        command: the command line to record in the report.
        verbose: Keras' fit verbosity (its progress bar by default).

    Returns:
        The report that was written beside the model.
    """
    if kind not in BUILDERS:
        raise ValueError(f"unknown classifier kind {kind!r}; choose cnn or fnn.")
    keras.utils.set_random_seed(seed)
    punks = load_punks() if punks is None else punks
    out = Path(out) if out is not None else model_path(kind)
    train_rows, val_rows = split_rows(punks)
    if subset is not None:
        train_rows, val_rows = train_rows[:subset], val_rows[:subset]
    # Train and select on what the pixels show: a label drawn under another layer is a
    # negative (no pixel could tell it from the same punk without it).
    labels = punks.visible_labels[list(LABELS)].to_numpy(dtype="float32")
    train = Punks(punks.images[train_rows], punks.labels.iloc[train_rows])
    swapper = SkinSwapper.fit(train) if augment else None

    start, cpu_start = time.perf_counter(), time.process_time()
    painted, held_out = _new_compositions(punks, seed, NEW_PUNKS if augment else 0, subset)
    if kind == "cnn":
        model = build_cnn(colours=colours_to_tell_apart(painted.images))
    else:
        model = BUILDERS[kind]()
    steps_per_epoch = batches_per_epoch(len(train_rows), len(painted.images), BATCH_SIZE)
    steps = steps_per_epoch * epochs
    model.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps)
        ),
        loss="binary_crossentropy",
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
        # XLA made CPU training slower here (measured), so stay with plain TF graphs.
        jit_compile=False,
    )
    val_images = punks.images[val_rows].astype("float32")
    batches = training_batches(
        punks.images[train_rows],
        labels[train_rows],
        painted.images,
        painted.labels,
        seed=seed,
        batch_size=BATCH_SIZE,
        epochs=epochs,
    )
    history = model.fit(
        batches,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        shuffle=False,  # each epoch's rows are already shuffled
        validation_data=(val_images, labels[val_rows]),
        callbacks=[
            ValExactMatch(val_images, labels[val_rows]),
            keras.callbacks.EarlyStopping(
                monitor="val_exact_match",
                mode="max",
                patience=PATIENCE,
                restore_best_weights=True,
            ),
        ],
        verbose=verbose,
    )
    train_seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    out.parent.mkdir(parents=True, exist_ok=True)
    # Ship the network without Adam's two moment copies of every weight: a third of the size.
    model = keras.Model(model.input, model.output, name=model.name)
    if kind == "cnn":
        # Token 0 ("a colour not listed") never occurs in training, so its vector kept its
        # random start: zero it, and an unlisted colour adds nothing to the RGBA filters.
        vectors = model.get_layer("palette_embedding")
        weights = vectors.get_weights()[0]
        weights[0] = 0.0
        vectors.set_weights([weights])
    model.save(out)

    # Only now, with the model fixed, is the test split looked at.
    classifier = PunkClassifier(model, path=out, kind=kind)
    test_metrics, table = score_on_test(classifier, punks, held_out, swapper)
    report = {
        "kind": kind,
        "model_file": out.name,
        "command": command or _default_command(kind, epochs, seed, out),
        "seed": seed,
        "epochs_requested": epochs,
        "epochs_run": len(history.history["loss"]),
        "best_epoch": int(np.argmax(history.history["val_exact_match"])) + 1,
        "selected_on": "validation exact match on visible labels (ids 8000-8999)",
        "train_seconds": round(train_seconds, 1),
        # CPU time of all threads: on a shared machine, wall time also counts others' work.
        "train_cpu_seconds": round(cpu_seconds, 1),
        "cpu_count": os.cpu_count(),
        "parameters": int(model.count_params()),
        "splits": {
            "train": [int(punks.ids[train_rows].min()), int(punks.ids[train_rows].max())],
            "val": [int(punks.ids[val_rows].min()), int(punks.ids[val_rows].max())],
            "test": [SPLITS["test"].start, SPLITS["test"].stop - 1],
            "n_train": len(train_rows),
            "n_val": len(val_rows),
        },
        "targets": "visible labels (a label drawn under another layer is a negative)",
        "augmentation": (
            f"{len(painted.images):,} new compositions painted from the layers "
            f"({min(NEW_PER_EPOCH, len(painted.images)):,} drawn each epoch)"
            if augment
            else None
        ),
        "versions": library_versions(),
        "history": {
            name: [round(float(v), 6) for v in values] for name, values in history.history.items()
        },
        "test": test_metrics,
        "per_label": json.loads(table.to_json(orient="records")),
    }
    report_path_for(out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def score_on_test(
    classifier: PunkClassifier, punks: Punks, held_out, swapper: SkinSwapper | None
) -> tuple[dict, pd.DataFrame]:
    """The report's "test" metrics and its per-label table, from the test split (9000-9999).

    Besides the visible labels: all labels beside their ceiling, the held-out new
    compositions, and the test punks repainted in other skin tones (when `swapper` is given).
    """
    test = punks.split("test")
    probabilities = classifier.predict_proba(test.images).to_numpy()
    visible = test.visible_labels[list(LABELS)].to_numpy()
    test_metrics = evaluate(probabilities, visible)
    every_label = evaluate(probabilities, test.labels[list(LABELS)].to_numpy())
    test_metrics["all_labels"] = {
        key: every_label[key] for key in ("exact_match", "hamming_accuracy", "type_accuracy")
    }
    hidden_share = float(test.hidden_labels.to_numpy().any(axis=1).mean())
    test_metrics["hidden_share"] = hidden_share
    test_metrics["all_labels_ceiling"] = 1 - hidden_share
    if len(held_out.images):
        scores = classifier.predict_proba(held_out.images).to_numpy()
        test_metrics["new_compositions"] = {
            "n_images": len(held_out.images),
            "bases": sorted({base for base, _ in held_out.recipes}),
            **{k: v for k, v in evaluate(scores, held_out.labels).items() if "auc" not in k},
        }
    table = per_label_table(probabilities, test, punks)
    present = table[table["test_positives"] > 0]
    test_metrics["labels_above_baseline"] = int((present["lift"] > 0).sum())
    test_metrics["labels_with_positives"] = len(present)
    if swapper is not None:
        images, swap_truth, new = skin_swap_set(test, swapper, punks)
        swapped = evaluate(classifier.predict_proba(images).to_numpy(), swap_truth)
        test_metrics["skin_swap"] = {
            "n_images": len(images),
            "n_new_images": new,
            "exact_match": swapped["exact_match"],
            "type_accuracy": swapped["type_accuracy"],
            "hamming_accuracy": swapped["hamming_accuracy"],
        }
    return test_metrics, table


def _new_compositions(punks: Punks, seed: int, n: int, subset: int | None):
    """New punks to train on, and new ones held out for the report (see `compositions`).

    Neither ever repeats a validation or test punk's base and accessories; the held-out ones
    repeat no real punk at all, and the training ones repeat none of them. The held-out ones
    are painted first, so that they are the same 2,000 whatever is painted to train on.
    """
    layers = load_layers()
    never = held_out_combinations(punks)
    if subset is not None:  # tests: a few of each
        n = min(n, subset)
    real = {combination(b, a) for b, a in zip(punks.bases, punks.accessory_lists, strict=True)}
    held = paint_new_punks(layers, punks, min(HELD_OUT_NEW, n), seed + 1, never | real)
    exclude = never | {combination(base, names) for base, names in held.recipes}
    return paint_new_punks(layers, punks, n, seed, exclude), held


def colours_to_tell_apart(new_images: np.ndarray) -> np.ndarray:
    """The punk palette and every colour the new compositions show: (K, 4) uint8.

    About 160 colours beyond the palette's 222: translucent layers over bases no real punk
    combines them with (a Mole on an Ape, shades on an Alien). Each gets its own token.
    """
    seen = np.unique(np.ascontiguousarray(new_images).view(np.uint32))
    palette = np.ascontiguousarray(punk_palette()).view(np.uint32)
    return np.unique(np.concatenate([palette.ravel(), seen])).view(np.uint8).reshape(-1, 4)


def _default_command(kind: str, epochs: int, seed: int, out: Path) -> str:
    return (
        f"{Path(sys.executable).name} -m punks_core train-classifier --kind {kind} "
        f"--epochs {epochs} --seed {seed} --out {out}"
    )
