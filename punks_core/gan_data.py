"""The GAN's training data: train punks drawn by tempered type weights, new compositions
painted from the layers, and the partial requests a punk is asked for.

Never the validation or test punks: no recipe of theirs is painted, and the train punks are
ids 0-7999.
"""

import keras
import numpy as np

from punks_core.compositions import held_out_combinations, paint_new_punks
from punks_core.dataset import Punks
from punks_core.gan_networks import N_LABELS, N_TYPES
from punks_core.gan_quality import in_palette, to_unit_range
from punks_core.labels import TYPES
from punks_core.layers import load_layers

NEW_POOL = 30_000  # new compositions painted once, before training
TYPE_TEMPERATURE = 0.5  # type share ∝ count ** 0.5 among the train punks of an epoch


def type_weights(types: np.ndarray, temperature: float = TYPE_TEMPERATURE) -> np.ndarray:
    """Per-punk sampling probabilities giving each type a share ∝ count ** temperature."""
    names, inverse, counts = np.unique(types, return_inverse=True, return_counts=True)
    weights = counts[inverse].astype(np.float64) ** (temperature - 1)
    return weights / weights.sum()


def ask_for_some(truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The conditions to ask for a punk of labels `truth` (n, 92): always its type; then all
    of its accessories (a third of the punks), none (a third) or a random half of them."""
    asked = truth.astype(np.float32).copy()
    mode = rng.integers(3, size=len(truth))
    asked[mode == 1, N_TYPES:] = 0
    half = mode == 2
    asked[half, N_TYPES:] *= rng.random((int(half.sum()), N_LABELS - N_TYPES)) < 0.5
    return asked


class TrainingPunks(keras.utils.PyDataset):
    """Each epoch: train punks drawn by tempered type weights, then new compositions, shuffled.

    A batch is (pixels in [-1, 1], conditions asked for, full visible labels).
    """

    def __init__(self, real, new, seed: int, batch_size: int, real_per_epoch, new_per_epoch):
        super().__init__()
        self.real_pixels, self.real_labels = to_unit_range(real[0]), real[1].astype(np.float32)
        self.new_pixels, self.new_labels = to_unit_range(new[0]), new[1].astype(np.float32)
        types = np.asarray(TYPES)[self.real_labels[:, :N_TYPES].argmax(axis=1)]
        self.real_weights = type_weights(types)
        self.real_per_epoch = real_per_epoch
        self.new_per_epoch = min(new_per_epoch, len(self.new_pixels))
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self):
        return int(np.ceil((self.real_per_epoch + self.new_per_epoch) / self.batch_size))

    def on_epoch_end(self):
        reals = self.rng.choice(len(self.real_pixels), self.real_per_epoch, p=self.real_weights)
        news = self.rng.choice(len(self.new_pixels), self.new_per_epoch, replace=False)
        self.pixels = np.concatenate([self.real_pixels[reals], self.new_pixels[news]])
        self.truth = np.concatenate([self.real_labels[reals], self.new_labels[news]])
        self.order = self.rng.permutation(len(self.pixels))
        self.asked = ask_for_some(self.truth, self.rng)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.pixels[rows], self.asked[rows], self.truth[rows]


def new_compositions(punks: Punks, n: int, seed: int, train: Punks):
    """New punks painted from the layers (never a validation or test punk's recipe), none of
    them a training punk."""
    painted = paint_new_punks(load_layers(), punks, n, seed, held_out_combinations(punks))
    # About 8 % of new recipes blend a translucent layer over a colour no real punk has under
    # it, giving a colour outside the palette: the generator could never paint those.
    exact = in_palette(painted.images).all(axis=(1, 2))
    # A fifth of them put a train punk's accessories back on its own base and repaint it
    # exactly (measured on the 30,000): kept, they made train punks 39 % of the noise prior's
    # codes, where copies must stay under 1 % of samples.
    seen = {image.tobytes() for image in train.images}
    new = np.array([image.tobytes() not in seen for image in painted.images])
    return painted.images[exact & new], painted.labels[exact & new]
