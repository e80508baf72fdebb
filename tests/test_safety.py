"""What the app trusts: model files cannot run code (Keras safe mode)."""

import keras
import pytest

from punks_core.classifier import load_classifier
from punks_core.errors import ModelError
from punks_core.gan import load_generator


def lambda_model_file(folder, inputs) -> str:
    """A Keras file whose Lambda layer would run arbitrary Python when deserialised."""
    x = [keras.Input(shape) for shape in inputs]
    y = keras.layers.Lambda(lambda t: t * 2)(x[0])
    model = keras.Model(x if len(x) > 1 else x[0], y)
    path = folder / "evil.keras"
    model.save(path)
    return path


def test_classifier_files_load_in_safe_mode(tmp_path):
    path = lambda_model_file(tmp_path, [(24, 24, 4)])
    with pytest.raises(ModelError, match="cannot be loaded") as caught:
        load_classifier(path)
    assert "safe_mode" in str(caught.value) or "unsafe" in str(caught.value).lower()


def test_generator_files_load_in_safe_mode(tmp_path):
    path = lambda_model_file(tmp_path, [(64,), (5,)])
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_generator(path)
