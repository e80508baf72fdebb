"""The GAN's recipe book: requests completed into full recipes before they are painted."""

import numpy as np
import pytest

from punks_core.dataset import SPLITS, load_punks
from punks_core.errors import ModelError
from punks_core.gan_recipes import (
    MIN_CHOICES,
    RECIPES_FILE,
    RecipeBook,
    conditions,
    novel_recipes,
    worn_together,
)
from punks_core.gan_snapshots import GAN_DIR
from punks_core.labels import LABELS, TYPES

COMMAND = "python -m punks_core gan-recipes"


@pytest.fixture(scope="module")
def book() -> RecipeBook:
    recipes = np.concatenate(
        [
            conditions(["Male"], ["Cap", "Pipe"]),
            conditions(["Male"], ["Cap", "Earring"]),
            conditions(["Male"], ["Mohawk"]),
            conditions(["Female"], ["Blonde Bob"]),
        ]
    )
    return RecipeBook(np.repeat(recipes.astype(np.uint8), MIN_CHOICES, axis=0))


def names(row) -> set[str]:
    return {LABELS[k] for k in np.flatnonzero(row)}


def test_a_drawn_recipe_is_of_the_type_and_holds_what_was_asked(book):
    drawn = book.draw(["Male"] * 50, ["Cap"], seed=3)
    assert all({"Male", "Cap"} <= names(row) for row in drawn)
    assert {frozenset(names(row)) for row in drawn} == {
        frozenset({"Male", "Cap", "Pipe"}),
        frozenset({"Male", "Cap", "Earring"}),
    }
    mixed = book.draw(["Female", "Male", "Female"], (), seed=0)
    assert [TYPES[k] for k in mixed[:, : len(TYPES)].argmax(1)] == ["Female", "Male", "Female"]


def test_the_seed_chooses_the_recipes(book):
    np.testing.assert_array_equal(book.draw(["Male"] * 20, (), 5), book.draw(["Male"] * 20, (), 5))
    assert not np.array_equal(book.draw(["Male"] * 20, (), 5), book.draw(["Male"] * 20, (), 6))


def test_a_rare_request_is_completed_without_what_is_never_worn_beside_it(book):
    # Pipe and Mohawk: no recipe holds both. Training punks wore Cap with Earring and with
    # Pipe, never Cap with Mohawk.
    worn = conditions(["Male", "Male", "Male"], ["Cap"]).astype(np.uint8)
    worn[1, LABELS.index("Earring")] = worn[2, LABELS.index("Pipe")] = 1
    worn = np.concatenate([worn, conditions(["Male"], ["Mohawk", "Earring"]).astype(np.uint8)])
    rare = RecipeBook(book.recipes, worn_together(worn))
    drawn = rare.draw(["Male"] * 40, ["Earring"], seed=1)  # 24 hold Earring: held
    assert {frozenset(names(row)) for row in drawn} == {frozenset({"Male", "Cap", "Earring"})}
    drawn = rare.draw(["Male"] * 40, ["Mohawk", "Earring"], seed=1)
    assert {frozenset(names(row)) for row in drawn} == {frozenset({"Male", "Mohawk", "Earring"})}
    drawn = rare.draw(["Male"] * 40, ["Pipe", "Cap", "Earring"], seed=1)
    assert all(names(row) == {"Male", "Cap", "Earring", "Pipe"} for row in drawn)


def test_a_completed_request_is_never_a_training_punks_recipe_while_another_can_be():
    # Asked for an Earring: completing "Cap, Pipe" gives a training punk's recipe, "Cap" not.
    pool = conditions(["Male", "Male"], ["Cap"]).astype(np.uint8)
    pool[0, LABELS.index("Pipe")] = 1
    trained = conditions(["Male"], ["Cap", "Pipe", "Earring"]).astype(np.uint8)
    book = RecipeBook(pool, np.ones((len(LABELS), len(LABELS)), bool), trained)
    drawn = book.draw(["Male"] * 40, ["Earring"], seed=0)
    assert {frozenset(names(row)) for row in drawn} == {frozenset({"Male", "Cap", "Earring"})}
    only_worn = RecipeBook(pool[:1], np.ones((len(LABELS), len(LABELS)), bool), trained)
    drawn = only_worn.draw(["Male"], ["Earring"], seed=0)  # nothing else to give: the request
    assert names(drawn[0]) == {"Male", "Cap", "Pipe", "Earring"}


def test_a_type_without_recipes_is_painted_as_asked(book):
    np.testing.assert_array_equal(book.draw(["Ape"] * 2, (), 0), conditions(["Ape"] * 2))
    np.testing.assert_array_equal(book.draw(["Ape"], ["Cap"], 0), conditions(["Ape"], ["Cap"]))


def test_novel_recipes_drop_what_a_training_punk_wears():
    train = conditions(["Male"], ["Cap"]).astype(np.uint8)
    pool = np.concatenate([train, conditions(["Male"], ["Pipe"]).astype(np.uint8), train])
    assert [names(row) for row in novel_recipes(pool, train)] == [{"Male", "Pipe"}]


def test_the_book_round_trips_and_a_broken_one_says_how_to_rebuild(book, tmp_path):
    book.save(tmp_path / RECIPES_FILE)
    loaded = RecipeBook.load(tmp_path / RECIPES_FILE, COMMAND)
    for part in ("recipes", "together", "worn"):
        np.testing.assert_array_equal(getattr(loaded, part), getattr(book, part))
    with pytest.raises(ModelError, match=f"missing. Write it again with `{COMMAND}`"):
        RecipeBook.load(tmp_path / "nowhere.npz", COMMAND)
    (tmp_path / "broken.npz").write_bytes(b"not an archive")
    with pytest.raises(ModelError, match="unreadable"):
        RecipeBook.load(tmp_path / "broken.npz", COMMAND)
    bits = np.zeros((1, 12), np.uint8)
    np.savez(tmp_path / "other.npz", recipes=bits, together=bits, worn=bits, labels=np.array(["x"]))
    with pytest.raises(ModelError, match="other labels"):
        RecipeBook.load(tmp_path / "other.npz", COMMAND)
    np.savez(tmp_path / "other.npz", recipes=bits, together=bits, labels=np.array(LABELS))
    with pytest.raises(ModelError, match="incomplete"):
        RecipeBook.load(tmp_path / "other.npz", COMMAND)


def test_the_shipped_book_holds_no_training_punk_and_every_type():
    shipped = RecipeBook.load(GAN_DIR / RECIPES_FILE, COMMAND)
    punks = load_punks()
    rows = np.isin(punks.ids, SPLITS["train"])
    worn = punks.visible_labels[list(LABELS)].to_numpy()[rows].astype(np.uint8)
    assert len(novel_recipes(shipped.recipes, worn)) == len(shipped) > 10_000
    np.testing.assert_array_equal(shipped.worn, np.unique(worn, axis=0))
    assert all(len(shipped.holding(t)) > 500 for t in TYPES)
    assert len(shipped.holding("Female", ["Pipe"])) > 0
