"""The trained punk classifier: `load_classifier` and `PunkClassifier`, its answers and views.

`load_classifier()` loads a shipped `.keras` network (see `classifier_models` for how it is
built, `classifier_training` for how it is trained); `PunkClassifier` answers 92 probabilities
in `LABELS` order for raw uint8 RGBA punks, the decisions they make (`classify`), and what
the app shows inside the network: the features layer, the first convolution's filters and
maps, occlusion maps in probability and in log odds, and a table of layers and parameters.
Importing this module imports TensorFlow; score predictions without it with `scoring`.
"""

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from punks_core.classifier_models import INPUT_SHAPE
from punks_core.labels import ACCESSORIES, LABELS, TYPES
from punks_core.model_files import load_keras_model
from punks_core.reports import model_path
from punks_core.scoring import THRESHOLD

REBUILD_COMMAND = {
    "cnn": "python -m punks_core train-classifier",
    "fnn": "python -m punks_core train-classifier --kind fnn",
}


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


def _occluded(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Copies of a punk with one pixel made transparent each, then the intact punk last, and
    which pixels (flat indices) were erased. Pixels that are already transparent are skipped:
    erasing them changes nothing (their share of the map is exactly 0), and they are half of
    a punk, so a map costs half the forward passes."""
    image = np.asarray(image, dtype=np.uint8)
    side = INPUT_SHAPE[0]
    pixels = np.flatnonzero(image.reshape(side * side, -1).any(axis=1))
    occluded = np.repeat(image[None], len(pixels) + 1, axis=0)
    occluded[np.arange(len(pixels)), pixels // side, pixels % side] = 0
    return occluded, pixels


def _per_pixel(drops: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """A (24, 24) map holding `drops` at the flat `pixels` and 0 elsewhere."""
    side = INPUT_SHAPE[0]
    result = np.zeros(side * side, dtype=np.float64)
    result[pixels] = drops
    return result.reshape(side, side)


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
        if self._features is None:
            layer = self.model.get_layer("features")
            self._features = keras.Model(self.model.input, layer.output)
        return self._run(self._features, images)

    def _first_conv(self):
        for layer in self.model.layers:
            if isinstance(layer, keras.layers.Conv2D):
                return layer
        raise ValueError(f"the {self.kind} classifier has no Conv2D layer.")

    def first_layer_filters(self) -> np.ndarray:
        """The first Conv2D kernel, (3, 3, 4, n_filters), to show beside hand-made filters.

        Its input is RGBA scaled to [0, 1].
        """
        return np.asarray(self._first_conv().kernel)

    def first_layer_activations(self, image: np.ndarray) -> np.ndarray:
        """The first convolution's feature maps (after its ReLU) for one punk, (24, 24, n)."""
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

        Each pixel that is not already transparent is in turn made transparent (the
        background) and the drop in the label's probability is recorded; positive = the
        pixel supports the label (a transparent pixel's share is 0: erasing it changes
        nothing). The occluded copies go through the network in batches.

        Args:
            image: one uint8 RGBA punk (24, 24, 4).
            label: one of `LABELS`.
        """
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r}.")
        column = LABELS.index(label)
        # Batches of at most 193 instead of one of up to 577: a third of the peak memory per
        # request, which matters when many sessions ask at once.
        occluded, pixels = _occluded(image)
        probabilities = self._run(self.model, occluded, batch_size=193)[:, column]
        return _per_pixel(probabilities[-1] - probabilities[:-1], pixels)

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
        occluded, pixels = _occluded(image)
        odds = self.log_odds(occluded, label)
        return _per_pixel(odds[-1] - odds[:-1], pixels)

    def layer_table(self) -> pd.DataFrame:
        """Each layer: name, type, output shape, parameters and how they are counted."""
        rows = []
        for layer in self.model.layers:
            params = int(layer.count_params())
            formula = ""
            if isinstance(layer, keras.layers.Conv2D):
                f_h, f_w, c_in, n = layer.kernel.shape
                formula = f"({f_h}·{f_w}·{c_in} + 1)·{n} = {params:,}"
            elif isinstance(layer, keras.layers.Dense):
                n_in, n_out = layer.kernel.shape
                formula = f"({n_in} + 1)·{n_out} = {params:,}"
            elif isinstance(layer, keras.layers.Embedding):
                formula = f"{layer.input_dim} colours · {layer.output_dim} = {params:,}"
            shape = layer.output.shape if hasattr(layer, "output") else None
            rows.append(
                {
                    "layer": layer.name,
                    "type": type(layer).__name__,
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
    model = load_keras_model(file, what="classifier model", rebuild=rebuild)
    return PunkClassifier(model, path=file, kind=kind)
