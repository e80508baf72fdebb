"""The palette GAN's networks: a generator that paints with the punk palette, the encoder that
teaches it, its critic, and `ConditionalGAN`, whose `train_step` trains them together.

Decisions (the README says more):

- **Every pixel a palette choice.** The generator's last layer gives, for each of the 576
  pixels, a logit per colour of the 222-colour punk palette, and the pixel is its most likely
  colour, in training too (straight through: exact colours forward, the softmax's gradient
  back; `palette_layers.PaletteChoice` says what failed before). No pixel can be a blend
  between two colours, and no snapping is needed afterwards.
- **Conditioned on the type and any accessories.** The condition is 92 numbers in `LABELS`
  order: the type one-hot and the accessories asked for. In training the accessories asked for
  are all, none or a random half of what a punk shows, so the generator learns "a Male", "a
  Male with a Cap" and a punk's full recipe with one network; accessories not asked for are
  the generator's free choice.
- **Taught by repainting, sharpened by a critic (a VAE-GAN).** An encoder reads a real punk
  and what was asked for into noise from which the generator must repaint that punk exactly:
  cross-entropy over the palette at every pixel, a signal about every pixel at every step,
  where a critic's verdict is one number a punk. A KL term keeps that noise close to the
  N(0, 1) the app draws from, so the noise comes to mean what the request leaves open (the
  skin tone, the accessories not asked for). Punks painted from N(0, 1) noise face the
  discriminator and its label head, which must find the type and every accessory asked for.
  The pure GANs of 2026-12-03 (the DCGAN recipe with an AC head, spectral norm with a
  projection discriminator and the hinge loss, palette one-hots) never passed an FID ratio
  of 15 and painted 4-50 % of aliens, apes and zombies as their type; this one reached 11
  with 81-97 % in 8 epochs (docs/BENCHMARKS.md).
- **The condition at every size.** The condition enters the first dense layer and again as
  eight learned constant planes at 12x12 and 24x24, so every stage knows what to paint where:
  with it only at the start, the rare types were painted from the noise more than from the
  request (8 epochs: 59 / 67 / 40 % of aliens / apes / zombies without, 81 / 76 / 97 % with).
- **A discriminator kept in check.** The small DCGAN one (two strided convolutions, dropout,
  one-sided label smoothing), the condition as constant planes beside RGBA, and an auxiliary
  head that learns every label from real punks (AC-GAN).
- **Balanced, and never the test punks.** Each epoch mixes train punks (ids 0-7999) drawn with
  tempered type weights with new compositions painted from the layers on every base (the
  recipes of validation and test punks are never painted), so the 9 aliens and 24 apes are
  learned as bases wearing many accessories, not as 33 pictures to copy. The best epoch is
  chosen on the validation punks (8000-8999); the test punks are only the benchmark's.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from punks_core.constants import IMAGE_SHAPE
from punks_core.labels import LABELS, TYPES
from punks_core.palette import load_palette, punk_palette
from punks_core.palette_layers import PaletteChoice

LATENT_DIM = 32
PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
N_LABELS = len(LABELS)
N_TYPES = len(TYPES)
REAL_LABEL = 0.9  # one-sided label smoothing: the discriminator never gets fully sure
AUX_WEIGHT = 0.2  # the label losses sum over 87 accessories: kept beside the GAN loss
# The generator's loss: repainting (nats a pixel) + KL_WEIGHT x the KL term (nats a pixel:
# the ELBO of a VAE) + ADVERSARIAL_WEIGHT x the GAN loss + LABEL_WEIGHT x the label loss of
# punks painted from N(0, 1). Measured over 6-7 epochs (docs/BENCHMARKS.md): at 0.05 and
# 0.01 the faces stayed speckled with stray colours; at 0.3 and 0.03 they were clean by epoch
# 6, but fewer aliens and apes were painted as their type; 0.05 and 0.1 found more
# accessories (40 % against 28 %) and no alien. A 60-epoch run at 0.15 and 0.02 was best at
# epoch 6 (FID ratio 14.3) and then lost to its discriminator (20.8 by epoch 22).
KL_WEIGHT = 1.0
ADVERSARIAL_WEIGHT = 0.05
LABEL_WEIGHT = 0.01


def colour_log_frequencies() -> np.ndarray:
    """log of each palette colour's share of the 10,000 punks' pixels."""
    return load_palette().log_prior.astype(np.float32)


def build_generator(latent_dim: int = LATENT_DIM) -> keras.Model:
    """(noise, condition) -> a 24x24 RGBA punk in [-1, 1], every generated pixel a palette colour.

    Dense -> 6x6 -> two stride-2 transposed convolutions (the condition joins again as planes
    after each, at 12x12 and 24x24) -> a 3x3 convolution, then a 1x1 convolution giving 222
    logits a pixel, one per punk colour.
    """
    palette = punk_palette()
    noise = keras.Input((latent_dim,), name="noise")
    condition = keras.Input((N_LABELS,), name="condition")
    x = layers.Concatenate()([noise, condition])
    x = layers.Dense(6 * 6 * 128, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((6, 6, 128))(x)
    for width, side in ((64, 12), (32, 24)):
        x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
        # The condition again at this size, so that every stage knows what to paint where.
        x = layers.Concatenate()([x, _condition_planes(condition, f"condition_{side}", side)])
    # A 3x3 convolution before the colour choice, so neighbouring pixels agree on a colour: a
    # 1x1 head chose each pixel alone and sprinkled stray colours over the faces.
    x = layers.Conv2D(64, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    # Start every pixel at the palette's own frequencies (log share of each colour among the
    # real punks' pixels): at first the generator paints a blank, transparent punk rather
    # than the speckle of argmax over random logits, which a discriminator rejects at once.
    logits = layers.Conv2D(
        len(palette),
        1,
        bias_initializer=keras.initializers.Constant(colour_log_frequencies()),
        name="palette_logits",
    )(x)
    image = PaletteChoice(palette, name="rgba")(logits)
    return keras.Model([noise, condition], [image, logits], name="generator")


def build_encoder(latent_dim: int = LATENT_DIM) -> keras.Model:
    """(punk, condition) -> (mean, log variance) of the noise that repaints that punk.

    Used in training only: it teaches the generator what each part of the noise is for (the
    skin tone, the accessories not asked for), so that noise drawn from N(0, 1) paints whole
    punks rather than a blur of the possible ones.
    """
    image, condition, x = _punk_reader("encoder_condition", (32, 64))
    x = layers.Dense(256)(x)
    x = layers.LeakyReLU(0.2)(x)
    mean = layers.Dense(latent_dim, name="mean")(x)
    log_var = layers.Dense(latent_dim, kernel_initializer="zeros", name="log_var")(x)
    return keras.Model([image, condition], [mean, log_var], name="encoder")


def _condition_planes(condition, name: str, side: int = IMAGE_SHAPE[0]):
    """The condition as eight learned constant side x side planes, to sit beside pixels."""
    planes = layers.Dense(8, name=name)(condition)
    planes = layers.RepeatVector(side * side)(planes)
    return layers.Reshape((side, side, 8))(planes)


def _punk_reader(planes_name: str, widths: tuple[int, int]):
    """(punk, condition) inputs and their flattened features: the condition as planes beside
    RGBA, then two stride-2 convolutions (the encoder's and the discriminator's trunk)."""
    image = keras.Input(IMAGE_SHAPE, name="punk")
    condition = keras.Input((N_LABELS,), name="condition")
    x = layers.Concatenate()([image, _condition_planes(condition, planes_name)])
    for width in widths:
        x = layers.Conv2D(width, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
    return image, condition, layers.Flatten()(x)


def _palette_colours() -> np.ndarray:
    return punk_palette().astype(np.float32) / 127.5 - 1


def build_discriminator() -> keras.Model:
    """(punk, condition) -> (a real/fake logit, 92 label logits).

    The condition enters as eight learned constant channels beside RGBA (as the type did in
    Keras' conditional GAN example), so every filter can check the pixels against the recipe.
    The label logits (AC-GAN) learn all 92 labels from real punks.
    """
    image, condition, x = _punk_reader("condition_planes", (64, 128))
    x = layers.Dropout(0.3)(x)
    logit = layers.Dense(1, name="logit")(x)
    labels = layers.Dense(N_LABELS, name="labels")(x)
    return keras.Model([image, condition], [logit, labels], name="discriminator")


def _pixel_entropy(logits):
    """Entropy in nats of each pixel's colour distribution, (n, 24, 24)."""
    log_p = tf.nn.log_softmax(logits, axis=-1)
    return -tf.reduce_sum(tf.exp(log_p) * log_p, axis=-1)


def _label_loss(target, logits, accessory_mask):
    """Softmax cross-entropy over the types plus masked sigmoid cross-entropy per accessory."""
    type_loss = ops.mean(
        keras.losses.categorical_crossentropy(
            target[:, :N_TYPES], logits[:, :N_TYPES], from_logits=True
        )
    )
    per_accessory = ops.binary_crossentropy(target[:, N_TYPES:], logits[:, N_TYPES:], True)
    return type_loss + ops.mean(ops.sum(per_accessory * accessory_mask, axis=1))


def palette_targets(real, colours):
    """Real punks in [-1, 1] (n, 24, 24, 4) -> each pixel's palette index (n, 24, 24), exact for
    punk colours (the nearest colour, by a distance whose |x|^2 term is dropped)."""
    distance = ops.sum(colours**2, axis=-1) - 2 * ops.einsum("nhwc,pc->nhwp", real, colours)
    return ops.argmin(distance, axis=-1)


def _kl_to_normal(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, 1)) in nats, summed over the latent dimensions."""
    return 0.5 * ops.sum(ops.exp(log_var) + mean**2 - 1 - log_var, axis=-1)


class ConditionalGAN(keras.Model):
    """Encoder, generator and discriminator trained together, one `train_step` per batch.

    A batch is (real punks in [-1, 1], the conditions asked for, their full visible labels).
    Only the generator is saved, so this wrapper is never serialised.

    Each step: the encoder reads a real punk and its conditions into noise from which the
    generator must repaint that punk exactly (cross-entropy over the palette, per pixel), and
    that noise is kept close to the N(0, 1) the app draws from (a VAE's KL term); the
    discriminator tells real punks from punks painted from N(0, 1) noise, and the generator is
    rewarded when it calls them real and its label head finds what was asked for.
    """

    def __init__(self, generator, discriminator, encoder=None, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = generator.input[0].shape[-1]
        self.encoder = encoder if encoder is not None else build_encoder(self.latent_dim)
        self.colours = ops.convert_to_tensor(_palette_colours())
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in (
                "d_loss",
                "g_loss",
                "d_real",
                "d_fake",
                "d_labels",
                "g_labels",
                "entropy",
                "reconstruction",
                "kl",
            )
        }

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    @property
    def metrics(self):
        # Listed here so Keras resets them at the start of every epoch.
        return list(self.trackers.values())

    def train_step(self, data):
        real, asked, truth = keras.utils.unpack_x_y_sample_weight(data)
        batch = tf.shape(real)[0]
        everything = tf.ones_like(truth[:, N_TYPES:])
        target = palette_targets(real, self.colours)
        g_weights = self.generator.trainable_weights + self.encoder.trainable_weights
        d_weights = self.discriminator.trainable_weights

        with tf.GradientTape(persistent=True) as tape:
            # The encoder's noise for each real punk, and fresh noise from N(0, 1), painted in
            # one generator call.
            mean, log_var = self.encoder([real, asked], training=True)
            shape = tf.shape(mean)
            posterior = mean + ops.exp(0.5 * log_var) * keras.random.normal(
                shape, seed=self.seed_generator
            )
            prior = keras.random.normal(shape, seed=self.seed_generator)
            images, colour_logits = self.generator(
                [ops.concatenate([posterior, prior]), ops.concatenate([asked, asked])],
                training=True,
            )
            fake = images[batch:]
            reconstruction = ops.mean(
                keras.losses.sparse_categorical_crossentropy(
                    target, colour_logits[:batch], from_logits=True
                )
            )
            kl = ops.mean(_kl_to_normal(mean, log_var)) / PIXELS

            real_logit, real_labels = self.discriminator([real, asked], training=True)
            fake_logit, fake_labels = self.discriminator([fake, asked], training=True)
            d_labels = _label_loss(truth, real_labels, everything)
            d_loss = (
                self.loss_fn(tf.fill(tf.shape(real_logit), REAL_LABEL), real_logit)
                + self.loss_fn(tf.zeros_like(fake_logit), fake_logit)
                + AUX_WEIGHT * d_labels
            )
            g_labels = _label_loss(asked, fake_labels, asked[:, N_TYPES:])
            adversarial = self.loss_fn(tf.ones_like(fake_logit), fake_logit)
            g_loss = (
                reconstruction
                + KL_WEIGHT * kl
                + ADVERSARIAL_WEIGHT * adversarial
                + LABEL_WEIGHT * g_labels
            )
            # Logged, not weighed: how unsure the generator still is of its pixels' colours.
            entropy = tf.reduce_mean(_pixel_entropy(colour_logits[batch:]))
        d_grads = tape.gradient(d_loss, d_weights)
        g_grads = tape.gradient(g_loss, g_weights)
        del tape
        self.d_optimizer.apply_gradients(zip(d_grads, d_weights, strict=True))
        self.g_optimizer.apply_gradients(zip(g_grads, g_weights, strict=True))

        values = {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real": tf.sigmoid(real_logit),
            "d_fake": tf.sigmoid(fake_logit),
            "entropy": entropy,
            "d_labels": d_labels,
            "g_labels": g_labels,
            "reconstruction": reconstruction,
            "kl": kl * PIXELS,
        }
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}
