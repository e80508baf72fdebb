"""The punks as layers: every punk re-renders exactly, decomposes back, and hides what it hides."""

import random
import shutil

import numpy as np
import pytest

from punks_core.dataset import load_punks
from punks_core.errors import DatasetError, LayerError
from punks_core.layer_order import BASES, PAINT_ORDER
from punks_core.layers import LAYERS_DIR, load_layers, save_layers

# How many punks have each base (the CryptopunksData contract).
BASE_COUNTS = {
    "Male 1": 1723, "Male 2": 1857, "Male 3": 1861, "Male 4": 598, "Female 1": 1101,
    "Female 2": 1174, "Female 3": 1145, "Female 4": 420, "Zombie": 88, "Ape": 24, "Alien": 9,
}  # fmt: skip


@pytest.fixture(scope="module")
def layers():
    return load_layers()


@pytest.fixture(scope="module")
def punks():
    return load_punks()


def test_every_punk_re_renders_pixel_exact(layers, punks):
    bases = punks.bases
    wrong = [
        punk_id
        for punk_id, image, base, accessories in zip(
            punks.ids, punks.images, bases, punks.accessory_lists, strict=True
        )
        if not np.array_equal(layers.render(base, accessories), image)
    ]
    assert wrong == []
    assert len(punks.ids) == 10_000


def test_bases_read_from_pixels_match_the_contract_counts(punks):
    assert punks.bases.value_counts().to_dict() == BASE_COUNTS


def test_base_of_agrees_with_the_bases_for_every_punk(layers, punks):
    found = [layers.base_of(image) for image in punks.images]
    assert found == list(punks.bases)


def test_decompose_recovers_base_and_visible_accessories_of_every_punk(layers, punks):
    visible = punks.visible_accessory_lists
    wrong = []
    for punk_id, image, base, expected in zip(
        punks.ids, punks.images, punks.bases, visible, strict=True
    ):
        if layers.decompose(image) != (base, expected):
            wrong.append(punk_id)
    assert wrong == []


def test_render_ignores_the_order_accessories_are_given_in(layers):
    names = ["Cigarette", "Earring", "Hoodie", "Big Shades", "Mustache"]
    reference = layers.render("Male 2", names)
    for seed in range(5):
        shuffled = names[:]
        random.Random(seed).shuffle(shuffled)
        assert np.array_equal(layers.render("Male 2", shuffled), reference)


def test_an_earring_under_a_hoodie_is_hidden_and_explained(layers):
    assert layers.hidden_labels("Male 1", ["Earring", "Hoodie"]) == ["Earring"]
    assert layers.covered_by("Male 1", ["Earring", "Hoodie"], "Earring") == ["Hoodie"]
    assert layers.hidden_labels("Male 1", ["Earring", "Cap"]) == []


def test_hidden_labels_are_about_five_percent_of_punks(punks):
    share = (punks.hidden_labels.sum(axis=1) > 0).mean()
    assert 0.03 < share < 0.08


def test_visible_labels_are_the_labels_minus_the_hidden_ones(punks):
    assert (punks.visible_labels <= punks.labels).all().all()
    difference = (punks.labels - punks.visible_labels).to_numpy().sum()
    assert difference == punks.hidden_labels.to_numpy().sum() > 100


def test_translucent_layers_blend_with_what_is_under_them(layers):
    # The smoke over the transparent background keeps its half transparency.
    smoke = layers.render("Male 1", ["Cigarette"])
    assert (smoke[..., 3] == 128).any()


@pytest.mark.parametrize(
    ("base", "accessories", "words"),
    [
        ("Male 9", [], "unknown base"),
        ("Male 1", ["Jetpack"], "unknown accessory"),
        ("Male 1", ["Cap", "cap"], "twice"),
        ("Female 1", ["Big Beard"], "no sprite for a Female 1 head"),
    ],
)
def test_impossible_requests_say_what_is_wrong(layers, base, accessories, words):
    with pytest.raises(LayerError, match=words):
        layers.render(base, accessories)


def test_decompose_refuses_an_image_that_is_not_a_punk(layers, punks):
    noise = np.random.default_rng(0).integers(0, 256, (24, 24, 4), dtype=np.uint8)
    with pytest.raises(LayerError, match="not a punk"):
        layers.decompose(noise)
    edited = punks.images[0].copy()
    edited[0, 0] = (255, 0, 255, 255)
    with pytest.raises(LayerError, match="not a CryptoPunk, or it has been edited"):
        layers.decompose(edited)
    with pytest.raises(LayerError, match="24x24 RGBA"):
        layers.decompose(np.zeros((12, 12, 4), np.uint8))


def test_every_accessory_has_a_sprite_for_some_head(layers):
    available = set(layers.accessories_for("Male 1")) | set(layers.accessories_for("Female 1"))
    assert available == set(PAINT_ORDER)
    assert layers.bases == BASES


def test_saved_layers_load_back_identical(layers, tmp_path):
    save_layers(layers, tmp_path)
    again = load_layers(tmp_path)
    names = ["Earring", "Pipe", "Hoodie", "Nerd Glasses"]
    assert np.array_equal(again.render("Male 3", names), layers.render("Male 3", names))


def test_modified_shipped_layers_are_refused_with_the_rebuild_command(tmp_path, monkeypatch):
    import punks_core.layers as module

    copy = tmp_path / "layers"
    shutil.copytree(LAYERS_DIR, copy)
    with (copy / "blends.csv").open("a") as blends:
        blends.write("ffffff80,00000000,ffffffff\n")
    monkeypatch.setattr(module, "LAYERS_DIR", copy)
    module._load.cache_clear()
    with pytest.raises(DatasetError, match="build-layers"):
        module.load_layers()
    (copy / "sprites.png").unlink()
    module._load.cache_clear()
    with pytest.raises(DatasetError, match="missing.*build-layers"):
        module.load_layers()
    module._load.cache_clear()
