"""Scoring a classifier's 92 outputs with NumPy alone: decisions, metrics, the per-label table.

A model answers 92 probabilities in `LABELS` order: a softmax over the 5 types beside 87
sigmoids, one per accessory. This module turns them into 0/1 decisions and scores them, picks
the rows a model trains and is selected on, and weights rare punks up. It never imports
TensorFlow, so the Training Studio, the sweeps and the benchmarks score without loading it.
"""

import numpy as np
import pandas as pd

from punks_core.augment import TONE_NAMES, skin_tones
from punks_core.baselines import constant_baseline, lift_over_baseline
from punks_core.dataset import SPLITS, Punks
from punks_core.labels import LABELS, TYPES

N_TYPES = len(TYPES)
THRESHOLD = 0.5
MAX_SAMPLE_WEIGHT = 4.0  # punks wearing rare accessories count up to this many times


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


def decide(probabilities: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """0/1 predictions: the most probable type, and each accessory at `threshold`."""
    predicted = np.zeros(probabilities.shape, dtype=np.uint8)
    predicted[np.arange(len(probabilities)), probabilities[:, :N_TYPES].argmax(axis=1)] = 1
    predicted[:, N_TYPES:] = probabilities[:, N_TYPES:] >= threshold
    return predicted


def roc_auc(truth: np.ndarray, scores: np.ndarray) -> float | None:
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
    per_label_auc = [roc_auc(truth[:, k], probabilities[:, k]) for k in range(len(LABELS))]
    defined = [a for a in per_label_auc if a is not None]
    return {
        "n_punks": len(truth),
        "exact_match": float((predicted == truth).all(axis=1).mean()),
        "type_accuracy": float(
            (probabilities[:, :N_TYPES].argmax(axis=1) == truth[:, :N_TYPES].argmax(axis=1)).mean()
        ),
        "hamming_accuracy": float((predicted == truth).mean()),
        "micro_auc": roc_auc(truth.ravel(), probabilities.ravel()),
        "macro_auc": float(np.mean(defined)) if defined else None,
        "macro_auc_labels": len(defined),
    }


def per_label_table(probabilities: np.ndarray, test: Punks, all_punks: Punks) -> pd.DataFrame:
    """Per label, against what the test punks' pixels show: positives, how many labels of it
    are hidden, constant-baseline and model accuracy, precision, recall, F1 and lift."""
    truth = test.visible_labels[list(LABELS)].to_numpy()
    predicted = decide(probabilities)
    baseline = constant_baseline(all_punks, list(LABELS), "test")
    true_pos = ((predicted == 1) & (truth == 1)).sum(axis=0)
    predicted_pos, actual_pos = predicted.sum(axis=0), truth.sum(axis=0)
    # Undefined for a label that is neither present nor predicted: left empty.
    precision = np.where(predicted_pos > 0, true_pos / np.maximum(predicted_pos, 1), np.nan)
    recall = np.where(actual_pos > 0, true_pos / np.maximum(actual_pos, 1), np.nan)
    denominator = predicted_pos + actual_pos
    f1 = np.where(denominator > 0, 2 * true_pos / np.maximum(denominator, 1), np.nan)
    accuracy = pd.Series((predicted == truth).mean(axis=0), index=list(LABELS))
    lift = lift_over_baseline(accuracy, baseline).reindex(list(LABELS))
    return pd.DataFrame(
        {
            "label": list(LABELS),
            "test_positives": actual_pos.astype(int),
            "test_hidden": test.hidden_labels[list(LABELS)].to_numpy().sum(axis=0).astype(int),
            "test_prevalence": truth.mean(axis=0),
            "baseline_accuracy": lift["baseline"].to_numpy(),
            "model_accuracy": lift["model"].to_numpy(),
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "lift": lift["lift"].to_numpy(),
        }
    )


def skin_swap_set(test: Punks, swapper, all_punks: Punks) -> tuple[np.ndarray, np.ndarray, int]:
    """Every swappable test punk repainted in each of its other skin tones.

    Args:
        test: the punks to repaint (the test split).
        swapper: an `augment.SkinSwapper` fitted on the train split.
        all_punks: the 10,000 real punks, to count how many repaints are new.

    Returns:
        images, their labels (those of the source punk) and how many of the images are not
        among the 10,000 real punks (new punk-style images made of the same parts).
    """
    types = test.types.to_numpy()
    rows = np.flatnonzero(swapper.swappable(test.images, types))
    tones = skin_tones(test.images[rows])
    images, labels = [], []
    for shift in range(1, len(TONE_NAMES)):
        targets = (tones + shift) % len(TONE_NAMES)
        images.append(swapper.swap(test.images[rows], types[rows], targets))
        labels.append(test.labels[list(LABELS)].to_numpy()[rows])
    images, labels = np.concatenate(images), np.concatenate(labels)
    new = sum(image not in all_punks.index for image in images)
    return images, labels, int(new)
