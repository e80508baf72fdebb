"""Keras in five steps: one neuron learns y = 2x - 1."""

import pytest

from punks_core.first_neuron import fit_line


@pytest.fixture(scope="module")
def line():
    return fit_line()


def test_neuron_learns_the_line(line):
    assert line.weight == pytest.approx(2.0, abs=1e-3)
    assert line.bias == pytest.approx(-1.0, abs=1e-3)
    assert line.prediction == pytest.approx(19.0, abs=1e-2)


def test_loss_history_falls_to_zero(line):
    assert len(line.loss) == 200
    assert line.loss[-1] < 1e-6 < line.loss[0]


def test_summary_shows_two_parameters(line):
    assert "neuron" in line.summary
    assert "Total params: 2" in line.summary


def test_fit_is_quick(line):
    # "About a second": generous bound for a shared, busy CPU.
    assert line.seconds < 5


def test_same_seed_same_result():
    a, b = fit_line(epochs=20, seed=3), fit_line(epochs=20, seed=3)
    assert a.loss == b.loss
