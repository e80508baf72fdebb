"""A Training Studio experiment: its settings, their limits, the URL form and the presets.

No TensorFlow here: the page reads and checks settings, writes them into the URL and counts a
model's parameters before anything is trained, and all of that must stay instant.
"""

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from punks_core.errors import SetupError
from punks_core.labels import ACCESSORIES, TYPES

TASKS = {
    "type": "Type (Alien, Ape, Zombie, Female, Male)",
    "accessory": "One accessory (worn or not)",
    "visible": "All labels the pixels show (type + accessories)",
}
MODELS = {"fnn": "FNN (Flatten + Dense)", "cnn": "CNN (convolutions)"}
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}
N_TRAIN = 8000  # ids 0-7999; validation is always the 1,000 punks 8000-8999
INPUT_VALUES = 24 * 24 * 4
# Sized for a 2-core server shared by a class: the biggest model trains a few seconds an epoch.
MAX_PARAMETERS = 2_000_000
LIMITS = {
    "layers": (1, 4),
    "units": (1, 1024),
    "blocks": (1, 3),
    "filters": (1, 64),
    "kernel": (1, 7),
    "dropout": (0.0, 0.9),
    "lr": (1e-6, 10.0),
    "batch": (1, 1024),
    "epochs": (1, 50),
    "punks": (10, N_TRAIN),
    "seed": (0, 2**31 - 1),
}
WORDS = {
    "layers": "hidden layers",
    "units": "units per layer",
    "blocks": "convolution blocks",
    "filters": "filters",
    "kernel": "kernel size",
    "dropout": "dropout",
    "lr": "learning rate",
    "batch": "batch size",
    "epochs": "epochs",
    "punks": "training punks",
    "seed": "seed",
}


@dataclass(frozen=True)
class Experiment:
    """Everything that decides a training run: the same experiment gives the same curve.

    Attributes:
        task: "type", "accessory" or "visible" (all labels the pixels show).
        accessory: the accessory to detect when `task` is "accessory".
        model: "fnn" or "cnn".
        layers: hidden Dense layers of the FNN.
        units: width of each hidden Dense layer (the CNN has one, after its convolutions).
        blocks: convolution blocks of the CNN (a convolution, then a 2x2 max-pool if `pooling`).
        filters: filters per convolution.
        kernel: the convolutions' kernel size (kernel x kernel).
        pooling: a 2x2 max-pool after each convolution.
        dropout: share of the CNN's flattened features dropped in each training step.
        optimizer: "adam", "sgd" or "rmsprop".
        lr: the learning rate (constant).
        batch: punks per training step.
        epochs: passes over the training punks.
        punks: how many of the 8,000 training punks to train on (a seeded random choice).
        seed: seeds the weights, the choice of punks and their order.
    """

    task: str = "type"
    accessory: str = "Cigarette"
    model: str = "cnn"
    layers: int = 1
    units: int = 32
    blocks: int = 1
    filters: int = 8
    kernel: int = 3
    pooling: bool = True
    dropout: float = 0.0
    optimizer: str = "adam"
    lr: float = 0.003
    batch: int = 64
    epochs: int = 3
    punks: int = N_TRAIN
    seed: int = 0

    def check(self) -> "Experiment":
        """Return the experiment if it can be trained.

        Raises:
            SetupError: the first setting that cannot work, said in words.
        """
        if self.task not in TASKS:
            raise SetupError(
                f"Unknown task {_short(self.task)}: choose type, accessory or visible."
            )
        if self.task == "accessory" and self.accessory not in ACCESSORIES:
            raise SetupError(f"{_short(self.accessory)} is not one of the 87 accessories.")
        if self.model not in MODELS:
            raise SetupError(f"Unknown model {_short(self.model)}: choose fnn or cnn.")
        if self.optimizer not in OPTIMIZERS:
            raise SetupError(
                f"Unknown optimizer {_short(self.optimizer)}: choose adam, sgd or rmsprop."
            )
        if self.units < 1:
            raise SetupError(
                f"A layer of {self.units} units passes nothing on: every hidden layer needs at "
                "least 1 unit (try 32)."
            )
        if not math.isfinite(self.lr) or not math.isfinite(self.dropout):
            raise SetupError("The learning rate and dropout must be numbers such as 0.001.")
        if self.lr <= 0:
            raise SetupError(
                f"A learning rate of {_say(self.lr)} never changes the weights, so nothing "
                "would be learned: try 0.001."
            )
        if self.lr > LIMITS["lr"][1]:
            raise SetupError(
                f"A learning rate of {_say(self.lr)} throws the weights so far each step "
                "that the numbers overflow at once: choose at most 10 (0.001 is a good start)."
            )
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise SetupError(
                    f"{WORDS[name].capitalize()} must be between {_say(low)} and {_say(high)}, "
                    f"not {_say(value)}."
                )
        if self.batch > self.punks:
            raise SetupError(
                f"A batch of {self.batch} punks is larger than the {self.punks} training punks: "
                f"choose a batch of at most {self.punks}, or more punks."
            )
        parameters = parameter_count(self)
        if parameters > MAX_PARAMETERS:
            raise SetupError(
                f"This network would have {parameters:,} parameters; on this shared server the "
                f"studio trains up to {MAX_PARAMETERS:,}. Use fewer units or filters"
                + (", or turn pooling on." if self.model == "cnn" and not self.pooling else ".")
            )
        return self

    @property
    def n_outputs(self) -> int:
        return {"type": len(TYPES), "accessory": 1, "visible": len(TYPES) + len(ACCESSORIES)}[
            self.task
        ]

    def describe(self) -> str:
        """One line a learner reads: "CNN 1x8 3x3 filters, pooling, 32 units · Adam 0.003 · …"."""
        if self.model == "cnn":
            net = (
                f"CNN {self.blocks}x{self.filters} {self.kernel}x{self.kernel} filters, "
                f"{'pooling' if self.pooling else 'no pooling'}, {self.units} units"
                + (f", dropout {self.dropout:g}" if self.dropout else "")
            )
        else:
            net = f"FNN {self.layers}x{self.units} units"
        task = self.accessory if self.task == "accessory" else self.task
        return (
            f"{task} · {net} · {OPTIMIZERS[self.optimizer]} {_number(self.lr)} · batch "
            f"{self.batch} · {self.epochs} epoch{'s' if self.epochs > 1 else ''} · {self.punks:,} "
            f"punks · seed {self.seed}"
        )

    def to_query(self) -> dict[str, str]:
        """The settings as URL query parameters (only those this model and task use)."""
        keys = ["task", "model"]
        keys += ["accessory"] if self.task == "accessory" else []
        if self.model == "cnn":
            keys += ["blocks", "filters", "kernel", "pool", "dropout", "units"]
        else:
            keys += ["layers", "units"]
        keys += ["opt", "lr", "batch", "epochs", "punks", "seed"]
        values = dataclasses.asdict(self) | {"pool": int(self.pooling), "opt": self.optimizer}
        return {key: _number(values[key]) for key in keys}


# URL name -> setting; short names where a teacher would type them.
QUERY_FIELDS = {
    **{name: name for name in ("task", "accessory", "model", "layers", "units", "blocks")},
    **{name: name for name in ("filters", "kernel", "dropout", "lr", "batch", "epochs")},
    **{"punks": "punks", "seed": "seed", "pool": "pooling", "opt": "optimizer"},
}
_TEXT_FIELDS = {"task", "accessory", "model", "optimizer"}
_FLOAT_FIELDS = {"dropout", "lr"}


def from_query(params: Mapping[str, str], base: Experiment | None = None):
    """Read an experiment from URL query parameters, keeping `base` for anything unusable.

    Args:
        params: e.g. `st.query_params`: names as written by `Experiment.to_query`.
        base: the settings to start from (default: `Experiment()`).

    Returns:
        (experiment, problems): a trainable experiment and one sentence per parameter that
        was ignored (unknown name, not a number, or settings that cannot train together).
    """
    base = base or Experiment()
    changes, problems = {}, []
    for key, raw in params.items():
        name = QUERY_FIELDS.get(key)
        if name is None:
            problems.append(f"The link's setting {_short(key)} is not one the studio knows.")
            continue
        try:
            changes[name] = _parse(name, str(raw))
        except ValueError:
            problems.append(
                f"The link's {WORDS.get(name, name)} {_short(raw)} is not a usable value."
            )
    try:
        return dataclasses.replace(base, **changes).check(), problems
    except SetupError:
        pass
    # Together they cannot train: keep each setting that works with those kept before it.
    kept = base
    for name, value in changes.items():
        try:
            kept = dataclasses.replace(kept, **{name: value}).check()
        except SetupError as error:
            problems.append(f"{error} The link's {WORDS.get(name, name)} was not used.")
    return kept, problems


def _parse(name: str, raw: str):
    raw = raw.strip()
    if name in _TEXT_FIELDS:
        if len(raw) > 64:
            raise ValueError(raw)
        return raw.lower() if name != "accessory" else raw
    if name == "pooling":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(raw)
    if len(raw) > 32:
        raise ValueError(raw)
    value = float(raw)
    if name in _FLOAT_FIELDS:
        return value
    if not value.is_integer():
        raise ValueError(raw)
    return int(value)


def parameter_count(experiment: Experiment) -> int:
    """The network's weights and biases, counted the textbook way, (inputs + 1) x outputs.

    Equal to Keras' `model.count_params()` for the model the studio builds.
    """
    e = experiment
    if e.model == "fnn":
        widths = [INPUT_VALUES] + [e.units] * e.layers + [e.n_outputs]
        return sum((a + 1) * b for a, b in zip(widths, widths[1:], strict=False))
    side, channels, total = 24, 4, 0
    for _ in range(e.blocks):
        total += (e.kernel * e.kernel * channels + 1) * e.filters
        channels = e.filters
        if e.pooling:
            side //= 2
    flat = side * side * channels
    return total + (flat + 1) * e.units + (e.units + 1) * e.n_outputs


@dataclass(frozen=True)
class Preset:
    """An instructive setup and what to look for when it trains."""

    experiment: Experiment
    lesson: str


_CNN = Experiment()
PRESETS = {
    "Equal parameters: FNN": Preset(
        Experiment(model="fnn", layers=1, units=16),
        "About 37,000 parameters, like the CNN preset below, all in one Dense layer that sees "
        "each of the 2,304 input values at its own place. Train both and compare their "
        "validation accuracy in 'Your runs'.",
    ),
    "Equal parameters: CNN": Preset(
        _CNN,
        "About 37,000 parameters, like the FNN preset: 8 small 3x3 filters slide over the "
        "whole punk and share their weights, then a Dense layer reads where they fired. "
        "It should pass 99 % validation type accuracy within its 3 epochs.",
    ),
    "Too high a learning rate": Preset(
        dataclasses.replace(_CNN, optimizer="sgd", lr=5.0),
        "SGD with a learning rate of 5: every step overshoots. The loss jumps up and down "
        "instead of falling, and accuracy flips between about 37 % and 62 %: the network "
        "keeps calling every punk Female, then every punk Male. Try 0.05.",
    ),
    "Diverging: learning rate 10": Preset(
        Experiment(
            model="fnn",
            layers=3,
            units=512,
            optimizer="sgd",
            lr=10.0,
            batch=20,
            punks=2000,
            epochs=1,
        ),
        "A wide FNN with SGD at a learning rate of 10: within a few steps the weights grow so "
        "large that the arithmetic overflows and the loss is no longer a number. The studio "
        "stops such a run and says so.",
    ),
    "Tiny data: 50 punks": Preset(
        dataclasses.replace(_CNN, punks=50, batch=10, epochs=30),
        "Only 50 training punks: the training loss falls almost to 0 while the validation "
        "loss stalls far above it. That gap is overfitting: the network learns these 50 "
        "punks rather than what makes a type.",
    ),
    "No pooling": Preset(
        dataclasses.replace(_CNN, pooling=False),
        "The same CNN without max-pooling: the Dense layer now reads 24x24 positions instead "
        "of 12x12, four times the parameters. Compare its accuracy and time with the CNN "
        "preset.",
    ),
    "One accessory: Cigarette": Preset(
        dataclasses.replace(_CNN, task="accessory", accessory="Cigarette"),
        "A yes/no question: about 9 % of punks smoke a cigarette. A model that always says "
        "'no' is already 91 % accurate, so look at precision and recall.",
    ),
}


def _number(value) -> str:
    # How a person writes it: 3, 0.003, 1e+09 (never 3.0 or 0.0030000).
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _say(value) -> str:
    # For sentences: 1,000,000,000 rather than 1e+09, which a learner may not read.
    if isinstance(value, float) and math.isfinite(value) and abs(value) >= 1e5:
        return f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return _number(value)


def _short(value, limit: int = 24) -> str:
    text = str(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
