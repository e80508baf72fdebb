"""Keras in five steps: one Dense(1) neuron learns y = 2x - 1 from six points.

Build, summary, compile (SGD, mean squared error), fit, predict: the smallest complete Keras
program, before the lab moves on to punks. The true line gives y(10) = 2 * 10 - 1 = 19.
"""

import io
from contextlib import redirect_stdout
from dataclasses import dataclass

import numpy as np

XS = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0], dtype="float32")
YS = 2 * XS - 1  # (-1, -3), (0, -1), (1, 1), (2, 3), (3, 5), (4, 7)
QUERY_X = 10.0  # the true line gives 19 there: the neuron should predict close to it

EPOCHS = 200
# Larger than the classic 0.01, still below the 0.19 where full-batch SGD on these six points
# diverges: w and b settle within 1e-6 in 200 steps instead of 500+.
LEARNING_RATE = 0.1


@dataclass(frozen=True)
class LineFit:
    """What the neuron learned.

    Attributes:
        weight: the learned w of y = w·x + b (≈ 2).
        bias: the learned b (≈ -1).
        prediction: the neuron's y at x = 10 (≈ 19, the true 2·10 − 1).
        loss: mean squared error over the six points after each epoch (one step each).
        summary: `model.summary()` as text.
        seconds: time spent in fit.
    """

    weight: float
    bias: float
    prediction: float
    loss: list[float]
    summary: str
    seconds: float


def fit_line(epochs: int = EPOCHS, seed: int = 0) -> LineFit:
    """Train one neuron on the six points of y = 2x − 1 and predict y at x = 10.

    Args:
        epochs: full-batch SGD steps (each epoch is one step over the six points).
        seed: seeds the initial weight through `keras.utils.set_random_seed`.
    """
    import time

    import keras

    keras.utils.set_random_seed(seed)
    # 1. Build: one Dense unit is exactly w·x + b.
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, name="neuron")])
    # 2. Summary: two parameters, the weight and the bias.
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        model.summary(line_length=70)
    # 3. Compile: stochastic gradient descent on the mean squared error.
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss="mean_squared_error")
    # 4. Fit: each epoch is one pass over the six points in one batch, i.e. one gradient step.
    # The passes are handed to fit() at once, because fit's own per-epoch work (~0.1 s on a
    # busy CPU) would make 500 one-step epochs last a minute; the step-by-step maths is the same.
    losses: list[float] = []

    neuron = model.get_layer("neuron")

    class RecordLoss(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            w, b = float(neuron.kernel.numpy()[0, 0]), float(neuron.bias.numpy()[0])
            losses.append(float(np.mean((XS * w + b - YS) ** 2)))

    start = time.perf_counter()
    model.fit(
        np.tile(XS, epochs)[:, None],
        np.tile(YS, epochs)[:, None],
        batch_size=len(XS),
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[RecordLoss()],
    )
    seconds = time.perf_counter() - start
    # 5. Predict, calling the model directly: predict() has setup cost for a single number.
    prediction = float(np.asarray(model(np.array([[QUERY_X]], dtype="float32")))[0, 0])
    kernel, bias = model.get_layer("neuron").get_weights()
    return LineFit(
        weight=float(kernel[0, 0]),
        bias=float(bias[0]),
        prediction=prediction,
        loss=losses,
        summary=buffer.getvalue(),
        seconds=seconds,
    )
