"""New punks painted from the layers: combinations of base and accessories the 10,000 never show.

A classifier trained on the 10,000 alone learns that an accessory comes with the skin tones
and companions it happens to have there. Painting the same accessories on every base, and
swapping one accessory for another the head can wear, breaks those accidents. The labels of a
new punk are the ones its pixels show (an accessory drawn under another counts as absent).
"""

from dataclasses import dataclass

import numpy as np

from punks_core.dataset import SPLITS, Punks
from punks_core.labels import LABELS
from punks_core.layer_order import BASES, head_of

LABEL_INDEX = {name: k for k, name in enumerate(LABELS)}
SWAP_PROBABILITY = 0.5  # share of new punks with one accessory exchanged for another
TYPE_OF_BASE = {base: ("Female" if head_of(base) == "female" else "Male") for base in BASES}
TYPE_OF_BASE.update({"Zombie": "Zombie", "Ape": "Ape", "Alien": "Alien"})


@dataclass(frozen=True)
class Compositions:
    """New punks: images (N, 24, 24, 4) uint8 and their visible labels (N, 92) uint8."""

    images: np.ndarray
    labels: np.ndarray
    recipes: list[tuple[str, tuple[str, ...]]]


def combination(base: str, accessories) -> tuple[str, frozenset]:
    """A punk's recipe as a comparable key (order of accessories does not matter)."""
    return base, frozenset(accessories)


def held_out_combinations(punks: Punks) -> set:
    """The recipes of every validation and test punk: never to be painted for training."""
    keep = np.isin(punks.ids, [*SPLITS["val"], *SPLITS["test"]])
    return {
        combination(base, names)
        for base, names, held in zip(punks.bases, punks.accessory_lists, keep, strict=True)
        if held
    }


def paint_new_punks(
    layers, punks: Punks, n: int, seed: int, exclude: set, source_split: str = "train"
) -> Compositions:
    """Paint `n` new punks: a `source_split` punk's accessories on a random base of the same
    head, half of them with one accessory exchanged for another that head wears.

    Args:
        layers: the `Layers` to paint with.
        punks: the dataset whose `source_split` punks lend their accessory sets.
        n: how many to paint.
        seed: for the random choices.
        exclude: recipes never to paint (see `held_out_combinations`); recipes painted here
            are added to it, so two calls with the same set never repeat one.
    """
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(np.isin(punks.ids, SPLITS[source_split]))
    heads = {head: [b for b in BASES if head_of(b) == head] for head in ("male", "female")}
    wearable = {head: layers.accessories_for(bases[0]) for head, bases in heads.items()}
    images = np.zeros((n, 24, 24, 4), np.uint8)
    labels = np.zeros((n, len(LABELS)), np.uint8)
    recipes = []
    while len(recipes) < n:
        row = rows[rng.integers(len(rows))]
        head = head_of(punks.bases.iloc[row])
        base = heads[head][rng.integers(len(heads[head]))]
        names = list(punks.accessory_lists[row])
        if rng.random() < SWAP_PROBABILITY:
            options = [a for a in wearable[head] if a not in names]
            new = options[rng.integers(len(options))]
            if names:
                names[rng.integers(len(names))] = new
            else:
                names = [new]
        key = combination(base, names)
        if key in exclude:
            continue
        exclude.add(key)
        k = len(recipes)
        images[k] = layers.render(base, names)
        hidden = set(layers.hidden_labels(base, names))
        labels[k, LABEL_INDEX[TYPE_OF_BASE[base]]] = 1
        for name in names:
            if name not in hidden:
                labels[k, LABEL_INDEX[name]] = 1
        recipes.append((base, tuple(names)))
    return Compositions(images, labels, recipes)


def twin_recipes(layers, compositions: Compositions) -> np.ndarray:
    """Which compositions have a twin: the same pixels painted with other visible labels.

    Exchanging one visible accessory for another the head wears can repaint the very same
    image (a Chinstrap under a Normal Beard Black shows exactly the pixels a Front Beard would),
    so no pixel reader can be right on both. Only single exchanges are tried: a lower bound.

    Returns:
        (N,) bool, True where a twin exists.
    """
    twins = np.zeros(len(compositions.recipes), bool)
    for k, (base, names) in enumerate(compositions.recipes):
        hidden = set(layers.hidden_labels(base, names))
        others = [name for name in layers.accessories_for(base) if name not in names]
        shown = [name for name in names if name not in hidden]
        twins[k] = any(
            np.array_equal(layers.render(base, [n for n in names if n != name] + [other]),
                           compositions.images[k])
            for name in shown
            for other in others
        )  # fmt: skip
    return twins
