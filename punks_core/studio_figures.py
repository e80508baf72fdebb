"""Plotly figures of the Training Studio: live curves, a confusion matrix, runs side by side.

Plain `graph_objects`: the live curves are redrawn twice a second while a run trains.
"""

import numpy as np
import plotly.graph_objects as go

from punks_core.constants import BACKGROUND_HEX
from punks_core.labels import TYPES
from punks_core.studio_record import Point

ACCURACY_NAMES = {
    "type": "type accuracy",
    "accessory": "accuracy (worn or not)",
    "visible": "exact match (every label right)",
}
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}
_COLOURS = {"train": "#1f77b4", "validation": "#d62728"}


def curve_figures(
    points: tuple[Point, ...], task: str, epochs: int, diverged_at: float | None = None
) -> tuple[go.Figure, go.Figure]:
    """Loss (log scale) and accuracy against epochs, for training and validation punks.

    The x axis always spans every epoch of the run, so the curves grow across a fixed frame.
    `diverged_at` (an epoch) draws where the loss stopped being a number.
    """
    epoch = [p.epoch for p in points]
    loss, accuracy = go.Figure(), go.Figure()
    for split, dash in (("train", "dot"), ("validation", "solid")):
        prefix = "train" if split == "train" else "val"
        style = {
            "mode": "lines+markers",
            "marker": {"size": 6 if len(points) < 20 else 4},
            "name": split,
        }
        style["line"] = {"color": _COLOURS[split], "dash": dash}
        loss.add_trace(
            go.Scatter(x=epoch, y=[getattr(p, f"{prefix}_loss") for p in points], **style)
        )
        accuracy.add_trace(
            go.Scatter(x=epoch, y=[getattr(p, f"{prefix}_accuracy") for p in points], **style)
        )
    margin = 0.02 * max(epochs, 1)  # room for the markers at epoch 0
    common = {
        "height": 320,
        "margin": _MARGIN,
        "legend": {"orientation": "h", "y": -0.25},
        "xaxis": {"title": "epoch", "range": [-margin, max(epochs, 1) + margin]},
    }
    losses = [v for p in points for v in (p.train_loss, p.val_loss) if v > 0]
    loss_axis = {"type": "log", "exponentformat": "none", "title": "loss"}
    if losses and max(losses) / min(losses) > 10:
        # One tick per power of ten, written out (1, 0.1, 0.01): no crowd of minor labels.
        loss_axis["dtick"] = 1
    loss.update_layout(title="Loss (log scale)", yaxis=loss_axis, **common)
    accuracy.update_layout(
        title=ACCURACY_NAMES[task].capitalize(),
        yaxis={"range": [0, 1.02], "tickformat": ".0%", "title": ACCURACY_NAMES[task]},
        **common,
    )
    if diverged_at is not None:
        for figure in (loss, accuracy):
            figure.add_vline(
                x=diverged_at, line={"dash": "dash", "color": "#d62728"},
                annotation_text="loss no longer a number", annotation_position="top right",
            )  # fmt: skip
    return loss, accuracy


def confusion_figure(confusion: list[list[int]]) -> go.Figure:
    """Counts of validation punks by true type (rows) and the network's answer (columns)."""
    counts = np.asarray(confusion)
    # Colour by share of each true type, so that 10 zombies read as clearly as 600 males.
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    figure = go.Figure(
        go.Heatmap(
            z=shares, x=list(TYPES), y=list(TYPES), text=counts, texttemplate="%{text}",
            colorscale="Blues", zmin=0, zmax=1, showscale=False,
            hovertemplate="true %{y}, answered %{x}: %{text} punks<extra></extra>",
        )
    )  # fmt: skip
    figure.update_layout(
        height=360,
        margin=_MARGIN,
        title="Confusion matrix (validation punks)",
        xaxis={"title": "the network's answer", "side": "bottom"},
        yaxis={"title": "true type", "autorange": "reversed"},
    )
    return figure


def runs_figure(runs: list[dict], task_names: dict[str, str]) -> go.Figure:
    """Validation accuracy against epochs for several runs, one line each.

    Args:
        runs: dicts with "name", "task" and "points" (tuples of `Point`).
        task_names: accuracy names by task, for the axis title.
    """
    figure = go.Figure()
    for run in runs:
        points = run["points"]
        figure.add_trace(
            go.Scatter(
                x=[p.epoch for p in points], y=[p.val_accuracy for p in points],
                mode="lines", name=run["name"],
            )
        )  # fmt: skip
    tasks = {run["task"] for run in runs}
    title = task_names[tasks.pop()] if len(tasks) == 1 else "validation accuracy"
    figure.update_layout(
        height=340,
        margin=_MARGIN,
        title="Your runs: validation curves",
        xaxis={"title": "epoch"},
        yaxis={"range": [0, 1.02], "tickformat": ".0%", "title": f"validation {title}"},
        legend={"orientation": "h", "y": -0.3},
    )
    return figure


def probability_figure(probabilities, names: list[str]) -> go.Figure:
    """The network's probability for each of `names`, in that order (the types' usual order)."""
    figure = go.Figure(
        go.Bar(
            x=names, y=[float(probabilities[name]) for name in names], marker_color=BACKGROUND_HEX
        )
    )
    figure.update_layout(
        height=220, margin=_MARGIN, yaxis={"range": [0, 1], "tickformat": ".0%"}, showlegend=False
    )
    return figure
