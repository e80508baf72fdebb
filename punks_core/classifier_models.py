"""The classifier networks: a small CNN and a plain FNN over raw RGBA punks, in Keras.

Both take uint8 RGBA punks (24x24x4, as `load_punks`/`load_image` return them) and answer 92
probabilities in `LABELS` order: a softmax over the 5 types (a punk has exactly one) beside
87 sigmoids, one per accessory. The penultimate layer is always named "features" (the punk
FID and the occlusion maps in odds read it).
"""

import keras
from keras import initializers, layers

from punks_core.constants import IMAGE_SHAPE
from punks_core.labels import ACCESSORIES, TYPES
from punks_core.palette import punk_palette
from punks_core.palette_layers import ColourIndex

INPUT_SHAPE = IMAGE_SHAPE
N_TYPES = len(TYPES)
N_ACCESSORIES = len(ACCESSORIES)
ACCESSORY_PRIOR_LOGIT = -3.4
PALETTE_EMBEDDING = 8  # width of the learned vector of each colour the CNN tells apart


def label_heads(features, task: str = "all"):
    """Softmax over the types beside sigmoids for the accessories, as one 92-column output.

    For `task="type"` only the softmax over the five types.
    """
    if task == "type":
        return layers.Dense(N_TYPES, activation="softmax", name="type")(features)
    types = layers.Dense(N_TYPES, activation="softmax", name="type")(features)
    # Start every accessory at its typical prior (a punk wears 2.75 of 87, about 3 %: log
    # odds -3.4) instead of at 50 %, so the first steps do not slam rare outputs to zero.
    accessories = layers.Dense(
        N_ACCESSORIES,
        activation="sigmoid",
        bias_initializer=initializers.Constant(ACCESSORY_PRIOR_LOGIT),
        name="accessories",
    )(features)
    return layers.Concatenate(name="labels")([types, accessories])


def _convolution(x, width: int, name: str, batch_norm: bool):
    """A 3x3 "same" convolution and its ReLU, with batch norm between them if asked."""
    if not batch_norm:
        return layers.Conv2D(width, 3, padding="same", activation="relu", name=name)(x)
    # The bias is redundant before batch norm but kept, so that the layer table shows
    # the textbook (f·f·c_in + 1)·filters count.
    x = layers.Conv2D(width, 3, padding="same", name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_cnn(
    filters: int = 48,
    dense: int = 256,
    dropout: float = 0.0,
    batch_norm: bool = True,
    blocks: int = 2,
    task: str = "all",
    colours=None,
) -> keras.Model:
    """A small CNN that sees every pixel at full 24x24 resolution before any pooling.

    Mole, Earring or Clown Nose are one or two pixels wide. A 3x3 convolution at full
    resolution finds colours and edges; each block then adds a 3x3 convolution (twice the
    filters of the block before) and a 2x2 max-pool, so the second block's features see 10x10
    pixels: a whole eye region, a beard, the edge of a hat. The Dense layer then learns, like
    a template, where each sprite is drawn. Beside the first RGBA convolution, each pixel's
    colour enters as a learned 8-number vector (`ColourIndex` + `Embedding`), so
    colours a few levels apart, as rosy cheeks and spots are on skin, are told apart as
    easily as any two. (The previous shipped CNN, a 3x3 and a 1x1
    convolution and one pool, never learned Vampire Hair or Wild Blonde: their outputs died
    at probability 0 on every punk.)

    Args:
        filters: filters of the first two convolutions; each further block doubles them.
        dense: width of the penultimate ("features") layer.
        dropout: dropout rate before the features layer.
        batch_norm: normalise each convolution's output before its ReLU (measured: several
            times faster to a high exact match than the same network without it).
        blocks: how many conv-pool blocks after the first convolution (the sweeps try 1 and
            2; the shipped CNN has 2).
        task: "all" for the 92 labels, "type" for the five types only.
        colours: the RGBA colours (K, 4) that get a token of their own (default: the 222 of
            the punk palette); any other colour shares token 0. Training adds the blends that
            new compositions show (a Mole on an Ape is a colour no real punk has).
    """
    inputs = keras.Input(INPUT_SHAPE, name="rgba")
    x = layers.Rescaling(1 / 255, name="scale")(inputs)  # alpha too: smoke is half-transparent
    x = _convolution(x, filters, "conv1", batch_norm)
    # Beside the RGBA filters, each pixel's colour as a learned vector: colours a few
    # levels apart (rosy cheeks, spots on skin) become as distinct as any two.
    index = ColourIndex(punk_palette() if colours is None else colours, name="palette_index")
    vectors = layers.Embedding(index.tokens, PALETTE_EMBEDDING, name="palette_embedding")
    x = layers.Concatenate(name="rgba_and_colours")([x, vectors(index(inputs))])
    for block in range(blocks):
        x = _convolution(x, filters * 2**block, f"conv{block + 2}", batch_norm)
        x = layers.MaxPooling2D(2, name=f"pool{block + 1}")(x)
    # Flatten, not global pooling: where a thing is drawn matters (a hat vs a beard).
    x = layers.Flatten(name="flatten")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    features = layers.Dense(dense, activation="relu", name="features")(x)
    return keras.Model(inputs, label_heads(features, task), name="punk_cnn")


def build_fnn(hidden: tuple[int, ...] = (256, 128)) -> keras.Model:
    """A plain fully connected network over the 2,304 flattened RGBA values (the lesson's FNN).

    Args:
        hidden: widths of the hidden Dense layers; the last one is the "features" layer.
    """
    inputs = keras.Input(INPUT_SHAPE, name="rgba")
    x = layers.Rescaling(1 / 255, name="scale")(inputs)
    x = layers.Flatten(name="flatten")(x)
    for k, width in enumerate(hidden):
        name = "features" if k == len(hidden) - 1 else f"dense{k + 1}"
        x = layers.Dense(width, activation="relu", name=name)(x)
    return keras.Model(inputs, label_heads(x), name="punk_fnn")


BUILDERS = {"cnn": build_cnn, "fnn": build_fnn}
