"""Keras layers that know the punk palette: every real punk pixel is one of 222 RGBA colours.

- `PaletteIndex` (the classifier until 2026-12-03): which palette colour each pixel is, as an
  integer token that an `Embedding` turns into a learned vector. Rosy Cheeks and Spots are one or
  two pixels a few levels off the skin tone; in RGBA scaled to [0, 1] that is a difference of
  0.03, which the first CNN missed on 2 of 3 punks even in training. As tokens the two colours
  are as different as any two.
- `ColourIndex` (the classifier since 2026-12-03): the same, by exact lookup in a list of
  colours that may be longer than the palette (the blends that punks painted from the layers
  show, such as a Mole on an Ape), with token 0 for any colour not in the list. A binary
  search instead of a distance to every colour: cheaper, and no colour borrows another's
  token. `PaletteIndex` stays for model files saved before.
- `PaletteChoice` (the GAN): per-pixel logits over the palette -> one exact colour a pixel.

Each stores its colours in its config, so a saved model loads without the dataset.
"""

import keras
import numpy as np
from keras import layers, ops


def _palette_array(palette) -> np.ndarray:
    return np.asarray(palette, dtype=np.float32).reshape(-1, 4)


@keras.saving.register_keras_serializable(package="punks_core")
class PaletteIndex(layers.Layer):
    """RGBA pixels in 0..255 (N, H, W, 4) -> the index of the nearest palette colour (N, H, W).

    Exact for punk pixels; a colour outside the palette (a blend no real punk shows) takes the
    nearest one.
    """

    def __init__(self, palette, **kwargs):
        super().__init__(**kwargs)
        self.palette = np.asarray(palette, dtype=np.uint8).tolist()
        colours = _palette_array(self.palette)
        self.colours = ops.convert_to_tensor(colours.T)
        self.squares = ops.convert_to_tensor((colours**2).sum(axis=1))

    def call(self, pixels):
        pixels = ops.cast(pixels, "float32")
        # |x - c|^2 without the |x|^2 term, which is the same for every colour c.
        distance = self.squares - 2 * ops.matmul(pixels, self.colours)
        return ops.argmin(distance, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])

    def get_config(self):
        return {**super().get_config(), "palette": self.palette}


def colour_codes(rgba) -> np.ndarray:
    """One int64 per RGBA colour (..., 4) uint8 -> (...): R, G, B and A as one 32-bit number."""
    rgba = np.asarray(rgba, dtype=np.int64)
    return ((rgba[..., 0] * 256 + rgba[..., 1]) * 256 + rgba[..., 2]) * 256 + rgba[..., 3]


@keras.saving.register_keras_serializable(package="punks_core")
class ColourIndex(layers.Layer):
    """RGBA pixels in 0..255 (N, H, W, 4) -> a token per pixel (N, H, W), int.

    Token k + 1 for the k-th of `colours` (kept sorted by code), 0 for a colour not among them.
    An `Embedding` of `len(colours) + 1` rows reads the tokens.
    """

    def __init__(self, colours, **kwargs):
        super().__init__(**kwargs)
        colours = np.asarray(colours, dtype=np.uint8).reshape(-1, 4)
        codes = colour_codes(colours)
        order = np.argsort(codes)
        self.colours = colours[order].tolist()
        self.codes = ops.convert_to_tensor(codes[order])
        self.weights_of_channels = ops.convert_to_tensor(np.array([256**3, 256**2, 256, 1]))

    @property
    def tokens(self) -> int:
        """How many tokens there are: the colours and the one for "any other colour"."""
        return len(self.colours) + 1

    def call(self, pixels):
        channels = ops.cast(ops.round(pixels), "int64")
        codes = ops.sum(channels * self.weights_of_channels, axis=-1)
        place = ops.searchsorted(self.codes, ops.reshape(codes, (-1,)))
        place = ops.reshape(ops.minimum(place, len(self.colours) - 1), ops.shape(codes))
        found = ops.equal(ops.take(self.codes, place), codes)
        return ops.where(found, place + 1, ops.zeros_like(place))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])

    def get_config(self):
        return {**super().get_config(), "colours": self.colours}


@keras.saving.register_keras_serializable(package="punks_core")
class PaletteChoice(layers.Layer):
    """Per-pixel logits over the punk palette -> each pixel's most likely colour, RGBA in [-1, 1].

    Every pixel is exactly one of the 222 colours, in training too: there the choice is
    straight through (the exact colour forward, the softmax's gradient backward), so a
    discriminator sees exact punk colours from the generator as from real punks.

    Two alternatives failed in this project's first runs (measured, 4-6 epochs each): feeding
    the discriminator the probability-weighted mean colour, which it told from real punks at
    once by the in-between alpha values no real punk has; and a Gumbel-softmax sample, whose
    random colours a discriminator rejected from the first epoch. The generator's bias starts
    at the palette's own colour frequencies, so its first punks are blank and transparent.
    """

    def __init__(self, palette, temperature: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.palette = np.asarray(palette, dtype=np.uint8).tolist()
        self.temperature = float(temperature)
        self.colours = ops.convert_to_tensor(_palette_array(self.palette) / 127.5 - 1)

    def call(self, logits, training=False):
        hard = ops.one_hot(ops.argmax(logits, axis=-1), len(self.palette), dtype=logits.dtype)
        if training:
            soft = ops.softmax(logits / self.temperature, axis=-1)
            hard = hard + soft - ops.stop_gradient(soft)
        return ops.matmul(hard, ops.cast(self.colours, logits.dtype))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 4)

    def get_config(self):
        return {**super().get_config(), "palette": self.palette, "temperature": self.temperature}
