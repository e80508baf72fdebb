"""The palette GAN's networks: a generator that paints with the punk palette, its critic, and
`ConditionalGAN`, whose `train_step` trains one against the other.

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
- **A discriminator kept in check.** The DCGAN recipe this project's first GAN trained stably
  with (two strided convolutions, dropout, one-sided label smoothing, Adam 2e-4 with
  beta_1 = 0.5), the condition as constant planes beside RGBA, and an auxiliary head that
  learns every label from real punks; the generator is rewarded when that head finds what
  was asked for (AC-GAN). Spectral normalisation with a projection discriminator and the
  hinge loss was tried first: with palette outputs it rejected 99.5 % of fakes by epoch 4.
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

LATENT_DIM = 64
N_LABELS = len(LABELS)
N_TYPES = len(TYPES)
REAL_LABEL = 0.9  # one-sided label smoothing: the discriminator never gets fully sure
AUX_WEIGHT = 0.2  # the label losses sum over 87 accessories: kept beside the GAN loss


def colour_log_frequencies() -> np.ndarray:
    """log of each palette colour's share of the 10,000 punks' pixels."""
    return load_palette().log_prior.astype(np.float32)


def build_generator(latent_dim: int = LATENT_DIM) -> keras.Model:
    """(noise, condition) -> a 24x24 RGBA punk in [-1, 1], every generated pixel a palette colour.

    Dense -> 6x6 -> two stride-2 transposed convolutions -> 24x24 -> a 3x3 convolution, then
    a 1x1 convolution giving 222 logits a pixel, one per punk colour.
    """
    palette = punk_palette()
    noise = keras.Input((latent_dim,), name="noise")
    condition = keras.Input((N_LABELS,), name="condition")
    x = layers.Concatenate()([noise, condition])
    x = layers.Dense(6 * 6 * 128, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((6, 6, 128))(x)
    for width in (64, 32):
        x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
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


def build_discriminator() -> keras.Model:
    """(punk, condition) -> (a real/fake logit, 92 label logits).

    The condition enters as eight learned constant channels beside RGBA (as the type did in
    Keras' conditional GAN example), so every filter can check the pixels against the recipe.
    The label logits (AC-GAN) learn all 92 labels from real punks.
    """
    image = keras.Input(IMAGE_SHAPE, name="punk")
    condition = keras.Input((N_LABELS,), name="condition")
    planes = layers.Dense(8, name="condition_planes")(condition)
    planes = layers.RepeatVector(IMAGE_SHAPE[0] * IMAGE_SHAPE[1])(planes)
    planes = layers.Reshape((*IMAGE_SHAPE[:2], 8))(planes)
    x = layers.Concatenate()([image, planes])
    for width in (64, 128):
        x = layers.Conv2D(width, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
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


class ConditionalGAN(keras.Model):
    """Generator and discriminator trained against each other, one `train_step` per batch.

    A batch is (real punks in [-1, 1], the conditions asked for, their full visible labels).
    Only the generator is saved, so this wrapper is never serialised.
    """

    def __init__(self, generator, discriminator, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = generator.input[0].shape[-1]
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("d_loss", "g_loss", "d_real", "d_fake", "d_labels", "g_labels", "entropy")
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

        # 1. The discriminator: real punks of their recipe against fakes of the same recipe;
        #    its label head learns every label a real punk shows.
        noise = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        fake, _ = self.generator([noise, asked], training=True)
        with tf.GradientTape() as tape:
            real_logit, real_labels = self.discriminator([real, asked], training=True)
            fake_logit, _ = self.discriminator([fake, asked], training=True)
            adversarial = self.loss_fn(
                tf.fill(tf.shape(real_logit), REAL_LABEL), real_logit
            ) + self.loss_fn(tf.zeros_like(fake_logit), fake_logit)
            d_labels = _label_loss(truth, real_labels, everything)
            d_loss = adversarial + AUX_WEIGHT * d_labels
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(
            zip(grads, self.discriminator.trainable_weights, strict=True)
        )

        # 2. The generator: new noise, rewarded when the discriminator calls its punks real
        #    and its label head finds the type and every accessory that was asked for.
        noise = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake, colour_logits = self.generator([noise, asked], training=True)
            logit, labels = self.discriminator([fake, asked], training=True)
            g_labels = _label_loss(asked, labels, asked[:, N_TYPES:])
            # Logged, not weighed: how unsure the generator still is of its pixels' colours.
            entropy = tf.reduce_mean(_pixel_entropy(colour_logits))
            g_loss = self.loss_fn(tf.ones_like(logit), logit) + AUX_WEIGHT * g_labels
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights, strict=True))

        values = {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "d_real": tf.sigmoid(real_logit),
            "d_fake": tf.sigmoid(fake_logit),
            "entropy": entropy,
            "d_labels": d_labels,
            "g_labels": g_labels,
        }
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}
