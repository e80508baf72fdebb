"""Saved Keras models: load a `.keras` file safely, and name the library versions that made it.

The classifier and the GAN generator load the same way: Keras' safe mode (no code from the
file runs), the punk palette layers registered first, and a missing or broken file turned
into a `ModelError` that names the file and the command that rebuilds it.
"""

import platform
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

import punks_core.palette_layers  # noqa: F401 - registers the palette layers for loading
from punks_core.errors import ModelError


def load_keras_model(file: str | Path, *, what: str, rebuild: str) -> keras.Model:
    """The model saved in `file`, or a `ModelError` a learner can act on.

    Args:
        file: the `.keras` file.
        what: what the file holds, for the message ("classifier model", "GAN generator").
        rebuild: the command that writes the file again.

    Raises:
        ModelError: the file is missing, or is not a loadable Keras model; the message names
            the file and `rebuild`.
    """
    file = Path(file)
    if not file.is_file():
        raise ModelError(f"the {what} {file} is missing. Rebuild it with `{rebuild}`.")
    try:
        return keras.saving.load_model(file, compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - Keras raises many types for a broken file
        raise ModelError(
            f"the {what} {file} cannot be loaded ({type(error).__name__}: {error}). "
            f"Rebuild it with `{rebuild}`."
        ) from error


def library_versions() -> dict:
    """The versions of Python and the libraries a training run used, for its report."""
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
