"""A learned prior for the GAN's noise: where the encoder puts real punks, drawn from N(0, 1).

The repainting generator (`gan_networks`) learns to paint from the noise its encoder gives real
punks. A KL term pulls that noise towards N(0, 1), but not all the way: the encoder's noise
fills N(0, 1) unevenly, and noise drawn where no real punk's noise lies paints a face speckled
with stray colours (the same noise column was speckled in every row of the grids). This is the
"prior hole" of VAEs; the fix here is the two-stage VAE of Dai & Wipf ("Diagnosing and
Enhancing VAE Models", ICLR 2019): a second, small VAE learns the first one's noise, given the
request, and its decoder turns N(0, 1) into noise where real punks lie.

`NoisePrior` is that second VAE (a Keras `Model` with its own `train_step`); `with_prior` joins
its decoder to the generator, so the shipped generator still takes (noise from N(0, 1),
condition) and everything that calls it is unchanged.
"""

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from punks_core.gan_data import ask_for_some
from punks_core.gan_networks import N_LABELS, _kl_to_normal

LEARNING_RATE = 1e-3
MIN_LOG_GAMMA = -8.0  # the learned reconstruction variance stops at exp(-8)


@dataclass(frozen=True)
class PriorFit:
    """How a prior is fitted: layer width, epochs over the codes, batch size, and how many
    requests (`gan_data.ask_for_some`) are drawn per training punk."""

    width: int
    epochs: int
    batch_size: int
    draws: int


# Measured on epoch 11 of the shipped recipe (docs/BENCHMARKS.md): QUICK fits in 14 s and gave
# an FID ratio of 9.9, FULL in 138 s and 5.7 (types and accessories were 100 % with either;
# N(0, 1) without a prior: 11.2, with 65-88 % of aliens, apes, zombies and males).
QUICK = PriorFit(width=256, epochs=10, batch_size=512, draws=1)  # every epoch, to judge it
FULL = PriorFit(width=512, epochs=30, batch_size=256, draws=2)  # the shipped epoch's


def _trunk(inputs, width: int):
    x = layers.Concatenate()(inputs)
    for _ in range(3):
        x = layers.Dense(width)(x)
        x = layers.LeakyReLU(0.2)(x)
    return x


def build_prior(latent_dim: int, width: int) -> keras.Model:
    """(noise from N(0, 1), condition) -> the generator's noise for that request."""
    noise = keras.Input((latent_dim,), name="noise")
    condition = keras.Input((N_LABELS,), name="condition")
    code = layers.Dense(latent_dim, name="code")(_trunk([noise, condition], width))
    return keras.Model([noise, condition], code, name="noise_prior")


def _build_prior_encoder(latent_dim: int, width: int) -> keras.Model:
    code = keras.Input((latent_dim,), name="code")
    condition = keras.Input((N_LABELS,), name="condition")
    x = _trunk([code, condition], width)
    mean = layers.Dense(latent_dim, name="mean")(x)
    log_var = layers.Dense(latent_dim, kernel_initializer="zeros", name="log_var")(x)
    return keras.Model([code, condition], [mean, log_var], name="noise_prior_encoder")


class NoisePrior(keras.Model):
    """The second-stage VAE: codes (the encoder's noise for real punks) given their requests.

    Its reconstruction is Gaussian with one learned variance (gamma), which Dai & Wipf show lets
    the second stage match the codes' distribution closely.
    """

    def __init__(self, latent_dim: int, width: int, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.encoder = _build_prior_encoder(latent_dim, width)
        self.decoder = build_prior(latent_dim, width)
        self.log_gamma = self.add_weight(shape=(), initializer="zeros", name="log_gamma")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {n: keras.metrics.Mean(name=n) for n in ("loss", "distance", "kl")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def train_step(self, data):
        code, condition = data
        weights = self.trainable_weights
        with tf.GradientTape() as tape:
            mean, log_var = self.encoder([code, condition], training=True)
            noise = mean + ops.exp(0.5 * log_var) * keras.random.normal(
                ops.shape(mean), seed=self.seed_generator
            )
            repainted = self.decoder([noise, condition], training=True)
            log_gamma = ops.maximum(self.log_gamma, MIN_LOG_GAMMA)
            distance = ops.sum((code - repainted) ** 2, axis=-1)
            reconstruction = distance / (2 * ops.exp(log_gamma)) + 0.5 * self.latent_dim * log_gamma
            kl = _kl_to_normal(mean, log_var)
            loss = ops.mean(reconstruction + kl)
        self.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))
        for name, value in (("loss", loss), ("distance", distance), ("kl", kl)):
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}


def fit_prior(codes: np.ndarray, requests: np.ndarray, fit: PriorFit, seed: int = 0):
    """Train a `NoisePrior` on codes (n, latent_dim) and their requests (n, 92); its decoder."""
    prior = NoisePrior(codes.shape[1], fit.width, seed=seed)
    prior.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), jit_compile=True)
    data = tf.data.Dataset.from_tensor_slices((codes.astype("float32"), requests.astype("float32")))
    data = data.shuffle(len(codes), seed=seed).batch(fit.batch_size)
    prior.fit(data, epochs=fit.epochs, verbose=0, shuffle=False)  # shuffled above
    return prior.decoder


def with_prior(prior: keras.Model, generator: keras.Model) -> keras.Model:
    """The generator that draws its noise through `prior`: same inputs, same outputs."""
    noise = keras.Input(generator.input[0].shape[1:], name="noise")
    condition = keras.Input(generator.input[1].shape[1:], name="condition")
    image, logits = generator([prior([noise, condition]), condition])
    return keras.Model([noise, condition], [image, logits], name="generator_with_prior")


def noise_prior(encoder, pixels, truth, fit: PriorFit, seed: int) -> keras.Model:
    """A prior fitted to the encoder's codes of `pixels` (in [-1, 1]) asked as in training."""
    rng = np.random.default_rng(seed)
    codes, requests = [], []
    for _ in range(fit.draws):
        asked = ask_for_some(truth, rng)
        mean, log_var = encoder.predict([pixels, asked], batch_size=1024, verbose=0)
        spread = rng.standard_normal(mean.shape, dtype=np.float32)
        codes.append(mean + np.exp(0.5 * log_var) * spread)
        requests.append(asked)
    return fit_prior(np.concatenate(codes), np.concatenate(requests), fit, seed)
