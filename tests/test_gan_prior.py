"""The GAN's noise prior: it learns where codes lie, per request, and joins the generator."""

import keras
import numpy as np
import pytest

from punks_core.gan import PunkGenerator, conditions, load_generator
from punks_core.gan_networks import LATENT_DIM, N_LABELS, build_generator
from punks_core.gan_prior import PriorFit, fit_prior, with_prior
from punks_core.gan_quality import in_palette
from punks_core.gan_recipes import RECIPES_FILE, RecipeBook

SMALL = PriorFit(width=64, epochs=40, batch_size=128, draws=1)


@pytest.fixture(scope="module")
def two_requests():
    """Codes that N(0, 1) fits badly: for request A two clusters at x0 = -3 and +3 (none near
    0), for request B one tight cluster at x0 = 0."""
    rng = np.random.default_rng(0)
    n = 3000
    codes = rng.normal(0, 0.2, (2 * n, 4)).astype("float32")
    codes[:n, 0] += rng.choice([-3.0, 3.0], n)
    requests = np.zeros((2 * n, N_LABELS), "float32")
    requests[:n, 0] = 1
    requests[n:, 1] = 1
    keras.utils.set_random_seed(0)
    return fit_prior(codes, requests, SMALL, seed=0)


def _draw(prior, request_index: int, n: int = 2000) -> np.ndarray:
    noise = np.random.default_rng(1).standard_normal((n, 4)).astype("float32")
    requests = np.zeros((n, N_LABELS), "float32")
    requests[:, request_index] = 1
    return np.asarray(prior([noise, requests]))


def test_the_prior_puts_noise_where_the_codes_are_not_in_the_hole_between(two_requests):
    first = _draw(two_requests, 0)[:, 0]
    # N(0, 1) itself puts 68 % of draws within 1 of 0, where request A has no code at all.
    assert (np.abs(first) < 1).mean() < 0.15
    assert 0.3 < (first > 0).mean() < 0.7  # both clusters, not one
    assert (np.abs(np.abs(first) - 3) < 1).mean() > 0.8


def test_the_prior_follows_the_request(two_requests):
    second = _draw(two_requests, 1)[:, 0]
    assert (np.abs(second) < 1).mean() > 0.8


def test_a_generator_with_a_prior_keeps_its_interface_and_loads_in_safe_mode(tmp_path):
    keras.utils.set_random_seed(0)
    prior = fit_prior(
        np.random.default_rng(0).standard_normal((256, LATENT_DIM)).astype("float32"),
        np.eye(N_LABELS, dtype="float32")[np.arange(256) % 5],
        PriorFit(width=32, epochs=1, batch_size=128, draws=1),
    )
    combined = with_prior(prior, build_generator())
    combined.save(tmp_path / "generator.keras")
    book = RecipeBook(conditions(["Male", "Female"], ["Cap"]).astype("uint8"))
    book.save(tmp_path / RECIPES_FILE)
    loaded = load_generator(tmp_path / "generator.keras")
    punks = loaded.generate("Male", 3, seed=4, accessories=["Cap"])
    assert punks.shape == (3, 24, 24, 4) and in_palette(punks).all()
    again = PunkGenerator(combined, recipes=book).generate("Male", 3, 4, ["Cap"])
    np.testing.assert_array_equal(punks, again)


def test_the_shipped_generator_draws_its_noise_through_a_prior():
    model = load_generator().model
    assert any(layer.name == "noise_prior" for layer in model.layers)
