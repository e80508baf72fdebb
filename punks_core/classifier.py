"""CNN and FNN punk classifiers: builders, training, evaluation and `PunkClassifier`.

Every model takes raw uint8 RGBA punks (24x24x4, as `load_punks`/`load_image` return them) and
answers 92 probabilities in `LABELS` order: a softmax over the 5 types (a punk has exactly one)
beside 87 sigmoids, one per accessory. Keras is imported lazily inside the functions that need
it, so that importing this module stays cheap and TensorFlow-free.
"""

import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from punks_core.dataset import SPLITS, Punks, load_punks
from punks_core.errors import ModelError
from punks_core.labels import ACCESSORIES, LABELS, TYPES
from punks_core.reports import model_path, report_path_for

INPUT_SHAPE = (24, 24, 4)
N_TYPES = len(TYPES)
N_ACCESSORIES = len(ACCESSORIES)
THRESHOLD = 0.5
ACCESSORY_PRIOR_LOGIT = -3.4
PALETTE_EMBEDDING = 8  # width of the learned vector of each of the 222 palette colours

EPOCHS = 30
BATCH_SIZE = 64  # measured: 75 ms a step on 2 idle cores, about 23 s an epoch of 20,000 punks
LEARNING_RATE = 2e-3  # peak of a cosine decay to zero over the requested epochs
PATIENCE = 8
MAX_SAMPLE_WEIGHT = 4.0  # punks wearing rare accessories count up to this many times
SWAP_PROBABILITY = 0.5  # share of swappable train punks repainted in another skin tone per epoch
NEW_PUNKS = 48_000  # new compositions painted from the layers before training
NEW_PER_EPOCH = 12_000  # of which each epoch shows this many beside the 8,000 train punks
HELD_OUT_NEW = 2_000  # new compositions kept for the report, never trained on

REBUILD_COMMAND = {
    "cnn": "python -m punks_core train-classifier",
    "fnn": "python -m punks_core train-classifier --kind fnn",
}


# ---------------------------------------------------------------------------------------------
# Builders


def _heads(features, task: str = "all"):
    """Softmax over the types beside sigmoids for the accessories, as one 92-column output.

    For `task="type"` only the softmax over the five types.
    """
    from keras import initializers, layers

    if task == "type":
        return layers.Dense(N_TYPES, activation="softmax", name="type")(features)
    types = layers.Dense(N_TYPES, activation="softmax", name="type")(features)
    # Start every accessory at its typical prior (a punk wears 2.75 of 87, about 3 %: log
    # odds -3.4) instead of at 50 %, so the first steps do not slam rare outputs to zero.
    accessories = layers.Dense(
        N_ACCESSORIES,
        activation="sigmoid",
        bias_initializer=initializers.Constant(ACCESSORY_PRIOR_LOGIT),
        name="accessories",
    )(features)
    return layers.Concatenate(name="labels")([types, accessories])


def build_cnn(
    filters: int = 48,
    dense: int = 256,
    dropout: float = 0.0,
    batch_norm: bool = True,
    blocks: int = 2,
    task: str = "all",
):
    """A small CNN that sees every pixel at full 24x24 resolution before any pooling.

    Mole, Earring or Clown Nose are one or two pixels wide. A 3x3 convolution at full
    resolution finds colours and edges; each block then adds a 3x3 convolution (twice the
    filters of the block before) and a 2x2 max-pool, so the second block's features see 10x10
    pixels: a whole eye region, a beard, the edge of a hat. The Dense layer then learns, like
    a template, where each sprite is drawn. Beside the first RGBA convolution, each pixel's
    palette colour enters as a learned 8-number vector (`PaletteIndex` + `Embedding`), so
    colours a few levels apart, as rosy cheeks and spots are on skin, are told apart as
    easily as any two. (The previous shipped CNN, a 3x3 and a 1x1
    convolution and one pool, never learned Vampire Hair or Wild Blonde: their outputs died
    at probability 0 on every punk.)

    Args:
        filters: filters of the first two convolutions; each further block doubles them.
        dense: width of the penultimate ("features") layer.
        dropout: dropout rate before the features layer.
        batch_norm: normalise each convolution's output before its ReLU (measured: several
            times faster to a high exact match than the same network without it).
        blocks: how many conv-pool blocks after the first convolution (the sweeps try 1 and
            2; the shipped CNN has 2).
        task: "all" for the 92 labels, "type" for the five types only.
    """
    import keras
    from keras import layers

    def conv(x, width, name):
        if not batch_norm:
            return layers.Conv2D(width, 3, padding="same", activation="relu", name=name)(x)
        # The bias is redundant before batch norm but kept, so that the layer table shows
        # the textbook (f·f·c_in + 1)·filters count.
        x = layers.Conv2D(width, 3, padding="same", name=name)(x)
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
        return layers.ReLU(name=f"{name}_relu")(x)

    from punks_core.palette_layers import PaletteIndex
    from punks_core.upload import punk_palette

    inputs = keras.Input(INPUT_SHAPE, name="rgba")
    x = layers.Rescaling(1 / 255, name="scale")(inputs)  # alpha too: smoke is half-transparent
    x = conv(x, filters, "conv1")
    # Beside the RGBA filters, each pixel's palette colour as a learned vector: colours a few
    # levels apart (rosy cheeks, spots on skin) become as distinct as any two.
    palette = punk_palette()
    tokens = PaletteIndex(palette, name="palette_index")(inputs)
    colours = layers.Embedding(len(palette), PALETTE_EMBEDDING, name="palette_embedding")(tokens)
    x = layers.Concatenate(name="rgba_and_colours")([x, colours])
    for block in range(blocks):
        x = conv(x, filters * 2**block, f"conv{block + 2}")
        x = layers.MaxPooling2D(2, name=f"pool{block + 1}")(x)
    # Flatten, not global pooling: where a thing is drawn matters (a hat vs a beard).
    x = layers.Flatten(name="flatten")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    features = layers.Dense(dense, activation="relu", name="features")(x)
    return keras.Model(inputs, _heads(features, task), name="punk_cnn")


def build_fnn(hidden: tuple[int, ...] = (256, 128)):
    """A plain fully connected network over the 2,304 flattened RGBA values (the lesson's FNN).

    Args:
        hidden: widths of the hidden Dense layers; the last one is the "features" layer.
    """
    import keras
    from keras import layers

    inputs = keras.Input(INPUT_SHAPE, name="rgba")
    x = layers.Rescaling(1 / 255, name="scale")(inputs)
    x = layers.Flatten(name="flatten")(x)
    for k, width in enumerate(hidden):
        name = "features" if k == len(hidden) - 1 else f"dense{k + 1}"
        x = layers.Dense(width, activation="relu", name=name)(x)
    outputs = _heads(x)
    return keras.Model(inputs, outputs, name="punk_fnn")


BUILDERS = {"cnn": build_cnn, "fnn": build_fnn}


# ---------------------------------------------------------------------------------------------
# Data


def split_rows(punks: Punks) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `punks` to train on (ids 0-7999) and to select the model on (ids 8000-8999).

    Test ids (9000-9999) are in neither: no model sees them before its final evaluation.
    """
    ids = punks.ids
    train = np.flatnonzero(np.isin(ids, SPLITS["train"]))
    val = np.flatnonzero(np.isin(ids, SPLITS["val"]))
    return train, val


def sample_weights(labels: np.ndarray) -> np.ndarray:
    """Up-weight punks that carry a rare label, so that 35 Beanies are not drowned by 8,000.

    A punk's weight is sqrt(median label count / count of its rarest label), within
    [1, MAX_SAMPLE_WEIGHT].
    """
    counts = labels.sum(axis=0)
    rarest = np.where(labels > 0, counts, np.inf).min(axis=1)
    weight = np.sqrt(np.median(counts[counts > 0]) / np.maximum(rarest, 1))
    return np.clip(weight, 1.0, MAX_SAMPLE_WEIGHT).astype("float32")


def _train_batches(images, labels, new_images, new_labels, seed: int, batch_size: int):
    """Batches of the train punks plus, each epoch, a fresh draw of new compositions."""
    import keras

    class TrainPunksAndNewOnes(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.per_epoch = min(NEW_PER_EPOCH, len(new_images))
            self.on_epoch_end()

        def __len__(self):
            return int(np.ceil((len(images) + self.per_epoch) / batch_size))

        def on_epoch_end(self):
            drawn = self.rng.choice(len(new_images), self.per_epoch, replace=False)
            self.images = np.concatenate([images, new_images[drawn]])
            self.labels = np.concatenate([labels, new_labels[drawn]])
            self.weights = sample_weights(self.labels)
            self.order = self.rng.permutation(len(self.images))

        def __getitem__(self, index):
            rows = self.order[index * batch_size : (index + 1) * batch_size]
            return self.images[rows].astype("float32"), self.labels[rows], self.weights[rows]

    return TrainPunksAndNewOnes()


# ---------------------------------------------------------------------------------------------
# Evaluation


def decide(probabilities: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """0/1 predictions: the most probable type, and each accessory at `threshold`."""
    predicted = np.zeros(probabilities.shape, dtype=np.uint8)
    predicted[np.arange(len(probabilities)), probabilities[:, :N_TYPES].argmax(axis=1)] = 1
    predicted[:, N_TYPES:] = probabilities[:, N_TYPES:] >= threshold
    return predicted


def _auc(truth: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC by the rank-sum formula (ties share ranks); None if one class is absent."""
    positives = int(truth.sum())
    negatives = len(truth) - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    return float(
        (ranks[truth == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    )


def evaluate(probabilities: np.ndarray, truth: np.ndarray) -> dict:
    """Exact match, type accuracy, Hamming accuracy and micro/macro AUC of 92-column scores."""
    predicted = decide(probabilities)
    per_label_auc = [_auc(truth[:, k], probabilities[:, k]) for k in range(len(LABELS))]
    defined = [a for a in per_label_auc if a is not None]
    return {
        "n_punks": len(truth),
        "exact_match": float((predicted == truth).all(axis=1).mean()),
        "type_accuracy": float(
            (probabilities[:, :N_TYPES].argmax(axis=1) == truth[:, :N_TYPES].argmax(axis=1)).mean()
        ),
        "hamming_accuracy": float((predicted == truth).mean()),
        "micro_auc": _auc(truth.ravel(), probabilities.ravel()),
        "macro_auc": float(np.mean(defined)) if defined else None,
        "macro_auc_labels": len(defined),
    }


def per_label_table(probabilities: np.ndarray, test: Punks, all_punks: Punks) -> pd.DataFrame:
    """Per label, against what the test punks' pixels show: positives, how many labels of it
    are hidden, constant-baseline and model accuracy, precision, recall, F1 and lift."""
    from punks_core.baselines import constant_baseline

    truth = test.visible_labels[list(LABELS)].to_numpy()
    predicted = decide(probabilities)
    baseline = constant_baseline(all_punks, list(LABELS), "test").per_label
    true_pos = ((predicted == 1) & (truth == 1)).sum(axis=0)
    predicted_pos, actual_pos = predicted.sum(axis=0), truth.sum(axis=0)
    # Undefined for a label that is neither present nor predicted: left empty.
    precision = np.where(predicted_pos > 0, true_pos / np.maximum(predicted_pos, 1), np.nan)
    recall = np.where(actual_pos > 0, true_pos / np.maximum(actual_pos, 1), np.nan)
    denominator = predicted_pos + actual_pos
    f1 = np.where(denominator > 0, 2 * true_pos / np.maximum(denominator, 1), np.nan)
    accuracy = (predicted == truth).mean(axis=0)
    table = pd.DataFrame(
        {
            "label": list(LABELS),
            "test_positives": actual_pos.astype(int),
            "test_hidden": test.hidden_labels[list(LABELS)].to_numpy().sum(axis=0).astype(int),
            "test_prevalence": truth.mean(axis=0),
            "baseline_accuracy": baseline.reindex(list(LABELS)).to_numpy(),
            "model_accuracy": accuracy,
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    )
    table["lift"] = table["model_accuracy"] - table["baseline_accuracy"]
    return table


def skin_swap_set(test: Punks, swapper, all_punks: Punks) -> tuple[np.ndarray, np.ndarray, int]:
    """Every swappable test punk repainted in each of its other skin tones.

    Returns:
        images, their labels (those of the source punk) and how many of the images are not
        among the 10,000 real punks (new punk-style images made of the same parts).
    """
    from punks_core.augment import TONE_NAMES, skin_tones

    types = test.types.to_numpy()
    rows = np.flatnonzero(swapper.swappable(test.images, types))
    tones = skin_tones(test.images[rows])
    images, labels = [], []
    for shift in range(1, len(TONE_NAMES)):
        targets = (tones + shift) % len(TONE_NAMES)
        images.append(swapper.swap(test.images[rows], types[rows], targets))
        labels.append(test.labels[list(LABELS)].to_numpy()[rows])
    images, labels = np.concatenate(images), np.concatenate(labels)
    known = {punk.tobytes() for punk in all_punks.images}
    new = sum(image.tobytes() not in known for image in images)
    return images, labels, int(new)


# ---------------------------------------------------------------------------------------------
# Training


def _versions() -> dict:
    import keras
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }


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
    import keras

    from punks_core.augment import SkinSwapper

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
    model = BUILDERS[kind]()
    per_epoch = len(train_rows) + min(NEW_PER_EPOCH, len(painted.images))
    steps = int(np.ceil(per_epoch / BATCH_SIZE)) * epochs
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
    val_truth = labels[val_rows].astype(np.uint8)

    class ValExactMatch(keras.callbacks.Callback):
        """Log the share of validation punks with all 92 labels right, each epoch."""

        def on_epoch_end(self, epoch, logs=None):
            scores = np.asarray(self.model(val_images, training=False))
            logs["val_exact_match"] = float((decide(scores) == val_truth).all(axis=1).mean())

    batches = _train_batches(
        punks.images[train_rows],
        labels[train_rows],
        painted.images,
        painted.labels,
        seed,
        BATCH_SIZE,
    )
    history = model.fit(
        batches,
        epochs=epochs,
        validation_data=(val_images, labels[val_rows]),
        callbacks=[
            ValExactMatch(),
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
    model.save(out)

    # Only now, with the model fixed, is the test split looked at.
    classifier = PunkClassifier(model, path=out, kind=kind)
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

    epochs_run = len(history.history["loss"])
    report = {
        "kind": kind,
        "model_file": out.name,
        "command": command or _default_command(kind, epochs, seed, out),
        "seed": seed,
        "epochs_requested": epochs,
        "epochs_run": epochs_run,
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
        "versions": _versions(),
        "history": {
            name: [round(float(v), 6) for v in values] for name, values in history.history.items()
        },
        "test": test_metrics,
        "per_label": json.loads(table.to_json(orient="records")),
    }
    report_path_for(out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _new_compositions(punks: Punks, seed: int, n: int, subset: int | None):
    """New punks to train on, and new ones held out for the report (see `compositions`).

    Neither ever repeats a validation or test punk's base and accessories; the held-out ones
    repeat no real punk at all and none of the training ones.
    """
    from punks_core.compositions import held_out_combinations, paint_new_punks
    from punks_core.layers import load_layers

    layers = load_layers()
    exclude = held_out_combinations(punks)
    if subset is not None:  # tests: a few of each
        n = min(n, subset)
    train = paint_new_punks(layers, punks, n, seed, exclude)
    exclude |= {(b, frozenset(a)) for b, a in zip(punks.bases, punks.accessory_lists, strict=True)}
    held = min(HELD_OUT_NEW, n)
    return train, paint_new_punks(layers, punks, held, seed + 1, exclude)


def _default_command(kind: str, epochs: int, seed: int, out: Path) -> str:
    return (
        f"{Path(sys.executable).name} -m punks_core train-classifier --kind {kind} "
        f"--epochs {epochs} --seed {seed} --out {out}"
    )


# ---------------------------------------------------------------------------------------------
# Inference


@dataclass(frozen=True)
class Prediction:
    """A classifier's answer for one punk.

    Attributes:
        type: the most probable of the five types.
        accessories: accessories with probability at or above the threshold, most probable first.
        probabilities: all 92 probabilities, indexed by `LABELS`.
    """

    type: str
    accessories: list[str]
    probabilities: pd.Series


def _as_batch(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[1:] != INPUT_SHAPE:
        raise ValueError(f"expected punks of shape (N, 24, 24, 4), got {images.shape}.")
    return images.astype("float32")


def _occluded(image: np.ndarray) -> np.ndarray:
    """577 copies of a punk: copy k has pixel k made transparent, the last one is intact."""
    image = np.asarray(image, dtype=np.uint8)
    side = INPUT_SHAPE[0]
    occluded = np.repeat(image[None], side * side + 1, axis=0)
    pixels = np.arange(side * side)
    occluded[pixels, pixels // side, pixels % side] = 0
    return occluded


class PunkClassifier:
    """A trained punk classifier: probabilities, decisions, and views inside the network."""

    def __init__(self, model, path: Path | None = None, kind: str = "cnn"):
        self.model = model
        self.path = path
        self.kind = kind
        self._features = None
        self._first = None

    def _run(self, model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        # Calling the model directly skips predict()'s per-call setup, which dominates on
        # small batches (one punk, or the 576 occlusions of a saliency map).
        batch = _as_batch(images)
        parts = [
            np.asarray(model(batch[k : k + batch_size], training=False))
            for k in range(0, len(batch), batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, *model.output_shape[1:]))

    def predict_proba(self, images: np.ndarray) -> pd.DataFrame:
        """The 92 label probabilities of each punk.

        Args:
            images: uint8 RGBA punks, (N, 24, 24, 4) (or one punk, (24, 24, 4)).

        Returns:
            DataFrame of N rows (index 0..N-1) and the columns `LABELS`, float32.
        """
        return pd.DataFrame(self._run(self.model, images), columns=list(LABELS))

    def classify(self, image: np.ndarray, threshold: float = THRESHOLD) -> Prediction:
        """The type and accessories of one punk (24, 24, 4).

        Args:
            image: one uint8 RGBA punk.
            threshold: the probability from which an accessory is reported.
        """
        probabilities = self.predict_proba(image).iloc[0]
        accessories = probabilities[list(ACCESSORIES)]
        accessories = accessories[accessories >= threshold].sort_values(ascending=False)
        return Prediction(
            type=str(probabilities[list(TYPES)].idxmax()),
            accessories=list(accessories.index),
            probabilities=probabilities.rename("probability"),
        )

    def features(self, images: np.ndarray) -> np.ndarray:
        """Penultimate-layer ("features") activations, (N, width): for FID-like comparisons."""
        import keras

        if self._features is None:
            layer = self.model.get_layer("features")
            self._features = keras.Model(self.model.input, layer.output)
        return self._run(self._features, images)

    def _first_conv(self):
        for layer in self.model.layers:
            if type(layer).__name__ == "Conv2D":
                return layer
        raise ValueError(f"the {self.kind} classifier has no Conv2D layer.")

    def first_layer_filters(self) -> np.ndarray:
        """The first Conv2D kernel, (3, 3, 4, n_filters), to show beside hand-made filters.

        Its input is RGBA scaled to [0, 1].
        """
        return np.asarray(self._first_conv().kernel)

    def first_layer_activations(self, image: np.ndarray) -> np.ndarray:
        """The first convolution's feature maps (after its ReLU) for one punk, (24, 24, n)."""
        import keras

        if self._first is None:
            conv = self._first_conv()
            try:  # with batch norm the ReLU is a layer of its own
                output = self.model.get_layer(f"{conv.name}_relu").output
            except ValueError:
                output = conv.output
            self._first = keras.Model(self.model.input, output)
        return self._run(self._first, image)[0]

    def saliency(self, image: np.ndarray, label: str) -> np.ndarray:
        """How much each pixel matters to `label`: an occlusion map (24, 24).

        Each of the 576 pixels in turn is made transparent (the background) and the drop in
        the label's probability is recorded; positive = the pixel supports the label. All
        occluded copies go through the network in one batch.

        Args:
            image: one uint8 RGBA punk (24, 24, 4).
            label: one of `LABELS`.
        """
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r}.")
        column = LABELS.index(label)
        # Three batches of 193 instead of one of 577: a third of the peak memory per request,
        # which matters when many sessions ask at once.
        probabilities = self._run(self.model, _occluded(image), batch_size=193)[:, column]
        side = INPUT_SHAPE[0]
        return (probabilities[-1] - probabilities[:-1]).reshape(side, side)

    def log_odds(self, images: np.ndarray, label: str) -> np.ndarray:
        """log10 of the odds the model gives `label`, (N,), from the layer before the outputs.

        Probabilities saturate: a label the model is sure of reads 1.0 in float32 whatever a
        pixel does, while its odds still move. A type's odds are its softmax share against
        the other four types together.
        """
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r}.")
        features = self.features(images).astype(np.float64)
        head, names = ("type", TYPES) if label in TYPES else ("accessories", ACCESSORIES)
        kernel, bias = self.model.get_layer(head).get_weights()
        logits = features @ kernel.astype(np.float64) + bias
        column = names.index(label)
        if head == "accessories":
            natural = logits[:, column]
        else:
            others = np.delete(logits, column, axis=1)
            natural = logits[:, column] - np.logaddexp.reduce(others, axis=1)
        return natural / np.log(10)

    def evidence(self, image: np.ndarray, label: str) -> np.ndarray:
        """How much each pixel supports `label`: the fall in log10 odds when it is erased.

        An occlusion map like `saliency`, in odds rather than probability, so it is never
        blank for a label the model is sure of: +1 means erasing that pixel makes the odds
        ten times smaller.

        Args:
            image: one uint8 RGBA punk (24, 24, 4).
            label: one of `LABELS`.

        Returns:
            (24, 24) float64; positive = the pixel supports the label.
        """
        odds = self.log_odds(_occluded(image), label)
        side = INPUT_SHAPE[0]
        return (odds[-1] - odds[:-1]).reshape(side, side)

    def layer_table(self) -> pd.DataFrame:
        """Each layer: name, type, output shape, parameters and how they are counted."""
        rows = []
        for layer in self.model.layers:
            kind = type(layer).__name__
            params = int(layer.count_params())
            formula = ""
            if kind == "Conv2D":
                f_h, f_w, c_in, n = layer.kernel.shape
                formula = f"({f_h}·{f_w}·{c_in} + 1)·{n} = {params:,}"
            elif kind == "Dense":
                n_in, n_out = layer.kernel.shape
                formula = f"({n_in} + 1)·{n_out} = {params:,}"
            elif kind == "Embedding":
                formula = f"{layer.input_dim} colours · {layer.output_dim} = {params:,}"
            shape = layer.output.shape if hasattr(layer, "output") else None
            rows.append(
                {
                    "layer": layer.name,
                    "type": kind,
                    "output shape": str(tuple(shape)) if shape is not None else "",
                    "parameters": params,
                    "formula": formula,
                }
            )
        return pd.DataFrame(rows)


def load_classifier(path: str | Path | None = None, kind: str = "cnn") -> PunkClassifier:
    """Load a trained classifier (safe mode: no arbitrary code runs from the file).

    Args:
        path: a `.keras` file (default: the shipped model of `kind`).
        kind: "cnn" or "fnn".

    Raises:
        ModelError: the file is missing or is not a loadable Keras model; the message names the
            file and the command that rebuilds it.
    """
    file = Path(path) if path is not None else model_path(kind)
    rebuild = REBUILD_COMMAND.get(kind, REBUILD_COMMAND["cnn"])
    if path is not None:
        rebuild += f" --out {file}"
    if not file.is_file():
        raise ModelError(f"the classifier model {file} is missing. Rebuild it with `{rebuild}`.")
    import keras

    import punks_core.palette_layers  # noqa: F401 - registers the palette layers for loading

    try:
        model = keras.saving.load_model(file, compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - Keras raises many types for a broken file
        raise ModelError(
            f"the classifier model {file} cannot be loaded ({type(error).__name__}: {error}). "
            f"Rebuild it with `{rebuild}`."
        ) from error
    return PunkClassifier(model, path=file, kind=kind)
