import numpy as np
import pytest

from punks_core.compositions import Compositions, twin_recipes
from punks_core.labels import LABELS
from punks_core.layers import load_layers


@pytest.fixture(scope="module")
def layers():
    return load_layers()


def painted(layers, recipes) -> Compositions:
    images = np.stack([layers.render(base, names) for base, names in recipes])
    return Compositions(images, np.zeros((len(recipes), len(LABELS)), np.uint8), recipes)


def test_a_recipe_whose_pixels_another_recipe_paints_is_a_twin(layers):
    recipes = [
        # Under a Normal Beard Black, a Chinstrap shows exactly the pixels a Front Beard would.
        ("Male 1", ("Normal Beard Black", "Chinstrap", "Eye Patch")),
        ("Male 1", ("Cap",)),
        ("Ape", ("Mole",)),
    ]
    compositions = painted(layers, recipes)
    chinstrap, front_beard = (
        compositions.images[0],
        layers.render("Male 1", ["Normal Beard Black", "Front Beard", "Eye Patch"]),
    )
    assert np.array_equal(chinstrap, front_beard)  # the premise of the test
    assert twin_recipes(layers, compositions).tolist() == [True, False, False]
