"""Where the trained classifiers and their JSON reports live; read a report without TensorFlow.

The Class Balance page reads per-label test accuracy from a report to show the lift over the
baseline, and that page must not import TensorFlow: keep this module free of Keras.
"""

import json
from pathlib import Path

from punks_core.constants import MODELS_DIR

MODEL_FILES = {"cnn": "classifier.keras", "fnn": "classifier_fnn.keras"}
KINDS = tuple(MODEL_FILES)


def model_path(kind: str = "cnn") -> Path:
    """The shipped model file of `kind` ("cnn" or "fnn")."""
    if kind not in MODEL_FILES:
        raise ValueError(f"unknown classifier kind {kind!r}; choose one of {', '.join(KINDS)}.")
    return MODELS_DIR / MODEL_FILES[kind]


def report_path_for(model_file: str | Path) -> Path:
    """The report beside a model file: `classifier.keras` -> `classifier.report.json`."""
    model_file = Path(model_file)
    return model_file.with_name(model_file.stem + ".report.json")


def load_report(kind: str = "cnn", path: str | Path | None = None) -> dict | None:
    """The training report of the shipped classifier of `kind`, or None if there is none.

    Args:
        kind: "cnn" or "fnn".
        path: read this report file instead of the shipped one.

    Returns:
        The report as written by `train-classifier`: "command", "seed", "train_seconds",
        "versions", "history", "test" (exact_match, type_accuracy, micro_auc, macro_auc, ...)
        and "per_label" (a list of rows: label, test_prevalence, baseline_accuracy,
        model_accuracy, f1, lift). None when the file is missing or is not valid JSON.
    """
    file = Path(path) if path is not None else report_path_for(model_path(kind))
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
