"""Shared fixtures: every test is seeded, and the shipped dataset is loaded once."""

import random

import numpy as np
import pytest

from punks_core.dataset import Punks, load_punks


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)


@pytest.fixture(scope="session")
def punks() -> Punks:
    return load_punks()
