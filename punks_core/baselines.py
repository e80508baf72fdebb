"""Class balance and the accuracy a model must beat: majority and constant-prediction baselines.

The constant predictor answers every punk with each label's majority value on the train split:
"Male, no accessories". Its accuracy is the floor a classifier has to clear on each label.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from punks_core.dataset import SPLITS, Punks
from punks_core.labels import ACCESSORIES, TYPES


def label_counts(punks: Punks) -> pd.Series:
    """How many punks carry each label, in `LABELS` order."""
    return punks.labels.sum(axis=0).rename("count")


def split_type_counts(punks: Punks) -> pd.DataFrame:
    """Punks of each type in each split (rows: types; columns: train, val, test, all)."""
    counts = {name: punks.split(name).types.value_counts() for name in [*SPLITS, "all"]}
    return pd.DataFrame(counts).reindex(list(TYPES)).fillna(0).astype(int)


def majority_prediction(punks: Punks, labels: list[str]) -> pd.Series:
    """Each label's majority value (0/1) on the train split: the constant prediction."""
    train = punks.split("train").labels[labels]
    prediction = (train.mean(axis=0) > 0.5).astype(int)
    if set(TYPES) <= set(labels):
        # Over all five types the constant answer is one type: the most frequent one.
        prediction[list(TYPES)] = 0
        prediction[train[list(TYPES)].sum().idxmax()] = 1
    return prediction


@dataclass(frozen=True)
class Baseline:
    """How the constant prediction scores on a set of labels and punks.

    Attributes:
        prediction: the constant 0/1 answer per label.
        per_label: accuracy of the constant answer on each label.
        hamming: mean of `per_label` (share of all label cells that are right).
        exact_match: share of punks with every chosen label right.
        majority_type: accuracy of "always the majority type" (None unless all five types
            are chosen).
        n_punks: how many punks were scored.
    """

    prediction: pd.Series
    per_label: pd.Series
    hamming: float
    exact_match: float
    majority_type: float | None
    n_punks: int


def constant_baseline(punks: Punks, labels: list[str], split: str = "all") -> Baseline:
    """Score the train-majority constant prediction on `labels` over `split`."""
    if not labels:
        raise ValueError("choose at least one label.")
    prediction = majority_prediction(punks, labels)
    truth = punks.split(split).labels[labels].to_numpy()
    correct = truth == prediction.to_numpy()
    per_label = pd.Series(correct.mean(axis=0), index=labels, name="baseline accuracy")
    majority_type = None
    if set(TYPES) <= set(labels):
        type_truth = punks.split(split).labels[list(TYPES)]
        majority_type = float(type_truth[prediction[list(TYPES)].idxmax()].mean())
    return Baseline(
        prediction=prediction,
        per_label=per_label,
        hamming=float(correct.mean()),
        exact_match=float(correct.all(axis=1).mean()),
        majority_type=majority_type,
        n_punks=len(truth),
    )


def lift_over_baseline(model_accuracy: pd.Series, baseline: Baseline) -> pd.DataFrame:
    """The lift of a model on each label: its accuracy minus the constant baseline's.

    Returns:
        One row per label in both: "baseline" and "model" accuracy and their difference,
        "lift" (above 0: the model beats answering the majority value), worst lift first.
    """
    table = pd.DataFrame({"baseline": baseline.per_label, "model": model_accuracy})
    table = table.dropna()
    table["lift"] = table["model"] - table["baseline"]
    return table.sort_values("lift")


def cooccurrence(labels: pd.DataFrame, names: tuple[str, ...] = ACCESSORIES) -> pd.DataFrame:
    """How many punks carry both labels of each pair (diagonal: each label's count)."""
    matrix = labels[list(names)].to_numpy(dtype=np.int32)
    return pd.DataFrame(matrix.T @ matrix, index=list(names), columns=list(names))


def pixel_ceiling(punks: Punks) -> pd.DataFrame:
    """The best exact match a model that reads pixels can reach, per split.

    A punk labelled with an accessory that no pixel shows (drawn under a later layer) looks
    exactly like the same punk without it, so a model that reads pixels gets at most one of
    the two right: the ceiling is the share of punks whose every label shows.

    Returns:
        One row per split ("train", "val", "test", "all"): punks, punks with a hidden label,
        their share, and the ceiling on all-label exact match.
    """
    hidden_any = punks.hidden_labels.to_numpy().any(axis=1)
    rows = {}
    for name in (*SPLITS, "all"):
        mask = np.ones(len(punks.ids), bool) if name == "all" else np.isin(punks.ids, SPLITS[name])
        count = int(hidden_any[mask].sum())
        rows[name] = {
            "punks": int(mask.sum()),
            "with a hidden label": count,
            "hidden share": count / mask.sum(),
            "exact-match ceiling": 1 - count / mask.sum(),
        }
    return pd.DataFrame(rows).T


def hidden_counts(punks: Punks) -> pd.DataFrame:
    """Per accessory: punks labelled with it, how many of those hide it, per split."""
    columns = {}
    for name in (*SPLITS, "all"):
        mask = np.ones(len(punks.ids), bool) if name == "all" else np.isin(punks.ids, SPLITS[name])
        columns[f"hidden ({name})"] = punks.hidden_labels[list(ACCESSORIES)][mask].sum()
    table = pd.DataFrame(columns)
    table.insert(0, "labelled", punks.labels[list(ACCESSORIES)].sum())
    return table[table["hidden (all)"] > 0].sort_values("hidden (all)", ascending=False)
