"""Shared fixtures: every test is seeded, and the shipped dataset is loaded once."""

import random
import sys

import numpy as np
import pytest

from punks_core.dataset import Punks, load_punks


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    # Keras too, but only where a test module has imported it already: seeding must never
    # make a TensorFlow-free test import TensorFlow.
    keras = sys.modules.get("keras")
    if keras is not None:
        keras.utils.set_random_seed(0)


@pytest.fixture(scope="session")
def punks() -> Punks:
    return load_punks()
