"""What a Training Studio run learned: scores beside the shipped models', the confusion matrix
or per-label precision and recall, its layers and first-layer filters (each one link away from
the Convolution Lab), the network tried on a punk, and the session's runs compared."""

import random
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

from punks_core.dataset import N_PUNKS, SPLITS
from punks_core.errors import PunksError
from punks_core.heatmaps import tiles
from punks_core.labels import ACCESSORIES, TYPES
from punks_core.reports import load_report
from punks_core.studio_figures import (
    ACCURACY_NAMES,
    confusion_figure,
    probability_figure,
    runs_figure,
)
from punks_core.studio_record import score, shipped_scores, split_for, task_truth
from punks_core.studio_setup import Experiment
from punks_core.upload import DecodedUpload, known_punk, read_upload
from ui.loaders import cached_classifier, read_upload_or_stop, shipped_punks
from ui.navigation import LAB_PAGES
from ui.pixels import show_punk

CONVOLUTION_LAB = next(p.url for p in LAB_PAGES if p.file.endswith("5_Convolution_Lab.py"))
SHIPPED = {"cnn": "Shipped CNN", "fnn": "Shipped FNN"}
SOURCES = ["Random test punk", "Punk by id", "Upload an image"]
BUILDER = "The Punk Builder's punk"
CHANNELS = ["R", "G", "B", "A"]
state = st.session_state


@st.cache_data(show_spinner="Scoring the shipped model on the validation punks…")
def shipped_metrics(kind: str, task: str, accessory: str) -> dict | None:
    """The shipped classifier's validation scores on a task, or None if it is missing."""
    try:
        classifier = cached_classifier(kind)
    except PunksError:
        return None
    punks = shipped_punks()
    experiment = Experiment(task=task, accessory=accessory)
    _, val = split_for(punks, experiment)
    probabilities = classifier.predict_proba(punks.images[val])
    metrics, _ = score(experiment, shipped_scores(probabilities, experiment), task_truth(
        punks, val, experiment))  # fmt: skip
    report = load_report(kind) or {}
    metrics["parameters"] = int(classifier.model.count_params())
    metrics["seconds"] = report.get("train_seconds")
    return metrics


def comparison(result, experiment: Experiment, seconds: float | None) -> None:
    rows = {"Your network": result.metrics | {"parameters": result.parameters, "seconds": seconds}}
    for kind, name in SHIPPED.items():
        metrics = shipped_metrics(kind, experiment.task, experiment.accessory)
        if metrics is not None:
            rows[name] = metrics
    columns = {"accuracy": ACCURACY_NAMES[experiment.task], "loss": "loss"}
    if experiment.task == "accessory":
        columns |= {"precision": "precision", "recall": "recall", "f1": "F1"}
    columns |= {"parameters": "parameters", "seconds": "training seconds"}
    table = pd.DataFrame(
        {name: [metrics.get(key) for key in columns] for name, metrics in rows.items()},
        index=list(columns.values()),
    ).T
    percent = [ACCURACY_NAMES[experiment.task], "precision", "recall", "F1"]
    st.dataframe(
        table.style.format(
            {
                **{c: "{:.1%}" for c in percent if c in table},
                "loss": "{:.4f}",
                "parameters": "{:,.0f}",
                "training seconds": "{:,.0f}",
            },
            na_rep="—",
        ),
        key="studio_comparison",
    )
    st.caption(
        "All scored on the same 1,000 validation punks (ids 8000–8999). The shipped models "
        "learned all 92 labels at once, for minutes, with skin-tone augmentation, and were "
        "picked by their validation loss."
        + (
            f" Always answering 'no {experiment.accessory}' would score "
            f"{result.metrics['baseline_accuracy']:.1%}."
            if experiment.task == "accessory"
            else ""
        )
    )


def first_layer_filters(result) -> None:
    filters = result.filters  # (k, k, 4, n)
    st.subheader("The first layer's filters")
    channel = st.radio("Input channel", CHANNELS, horizontal=True, key="studio_channel")
    weights = filters[:, :, CHANNELS.index(channel), :]
    limit = float(np.abs(filters).max()) or 1.0
    n = weights.shape[-1]
    st.plotly_chart(
        tiles([weights[..., k] for k in range(n)], [f"#{k + 1}" for k in range(n)],
              (-limit, limit), columns=8),
        key="studio_filters_chart",
    )  # fmt: skip
    if filters.shape[0] != 3:
        st.caption("The Convolution Lab takes 3x3 filters: train with kernel size 3 to open one.")
        return
    pick = st.columns(4)[0].number_input("Filter", 1, n, key="studio_filter_pick")
    kernel = weights[..., pick - 1]
    weights_text = ",".join(f"{w:.4g}" for w in kernel.ravel())
    # A link, not st.page_link: it opens the lab in a new tab, and this run stays here.
    url = f"{CONVOLUTION_LAB}?{urlencode({'kernel': weights_text})}"
    st.markdown(f"🧮 [Open filter #{pick} ({channel} weights) in the Convolution Lab]({url})")
    st.caption(
        "Weights on RGBA values scaled to 0–1, blue negative, red positive. The lab applies "
        "the chosen channel's 3x3 weights to its own picture."
    )


def try_it(result, experiment: Experiment, punks) -> None:
    st.subheader("Try it")
    # The Builder leaves its last painted punk in the session.
    sources = SOURCES + ([BUILDER] if "builder_punk" in state else [])
    source = st.radio("Punk", sources, horizontal=True, key="studio_try_source")
    if source == BUILDER:
        punk = DecodedUpload(state.builder_punk, punks.index.find(state.builder_punk))
    elif source == "Upload an image":
        upload = st.file_uploader(
            "A CryptoPunk image: 24x24 or any upscale, PNG, JPEG, WebP or GIF",
            type=["png", "jpg", "jpeg", "webp", "gif"], key="studio_upload",
        )  # fmt: skip
        if upload is None:
            st.info("Upload a punk image, or pick one by id or at random.")
            return
        punk = read_upload_or_stop(upload, read_upload)
    elif source == "Punk by id":
        chosen = st.number_input("Punk id", 0, N_PUNKS - 1, 9000, key="studio_try_id")
        punk = known_punk(punks, int(chosen))
    else:
        if st.button("🎲 Another test punk", key="studio_reroll") or "studio_random" not in state:
            state.studio_random = random.choice(SPLITS["test"])
        punk = known_punk(punks, state.studio_random)
    image, known = punk.image, punk.punk_id
    probabilities = result.predict(image).iloc[0]
    picture, answer, truth = st.columns([1, 2, 2])
    with picture:
        show_punk(image, scale=6)
        st.caption(f"CryptoPunk #{known}" if known is not None else "Not one of the 10,000")
    with answer:
        if experiment.task == "accessory":
            worn = probabilities.iloc[0] >= 0.5
            st.markdown(f"**Network:** {'wears' if worn else 'no'} {experiment.accessory} "
                        f"({probabilities.iloc[0]:.1%})")  # fmt: skip
        else:
            kind = probabilities[list(TYPES)].idxmax()
            st.markdown(f"**Network:** {kind} ({probabilities[kind]:.1%})")
            if experiment.task == "visible":
                said = [a for a in ACCESSORIES if probabilities[a] >= 0.5]
                st.markdown(", ".join(said) or "*no accessories*")
            st.plotly_chart(probability_figure(probabilities, list(TYPES)), key="studio_try_chart")
    with truth:
        if known is not None:
            labels = punks.visible_labels if experiment.task == "visible" else punks.labels
            worn = [a for a in ACCESSORIES if labels.loc[known, a]]
            st.markdown(f"**Truth:** {punks.types[known]}")
            st.markdown(", ".join(worn) or "*no accessories*")
            if known < SPLITS["val"].start:
                st.caption("This punk may have been among the training punks.")
            elif known < SPLITS["test"].start:
                st.caption("A validation punk: the run was scored on it, never trained on it.")
            else:
                st.caption("A test punk: the run never saw it.")


def show_results(view, result, punks) -> None:
    """Everything a finished run learned, and the network tried on a punk."""
    e = view.experiment
    st.header("What your network learned")
    comparison(result, e, view.train_seconds)
    if e.task == "type":
        st.plotly_chart(confusion_figure(result.metrics["confusion"]), key="studio_confusion")
        st.caption("No alien is among the validation punks: all nine are in the training ids.")
    else:
        table = result.per_label
        table = table[(table["punks with it"] > 0) | (table["predicted"] > 0)]
        st.subheader("Precision and recall per label (validation)")
        st.dataframe(
            table.sort_values("F1").style.format(
                {c: "{:.1%}" for c in ("precision", "recall", "F1")}, na_rep="—"
            ),
            key="studio_per_label",
            hide_index=True,
        )
    st.subheader("Layers and parameters")
    st.dataframe(
        result.layers,
        key="studio_layers_table",
        hide_index=True,
        column_config={"parameters": st.column_config.NumberColumn(format="localized")},
    )
    st.caption(f"{result.parameters:,} parameters in all.")
    if result.filters is not None:
        first_layer_filters(result)
    try_it(result, e, punks)


def show_history() -> None:
    """The session's runs side by side, once there are two."""
    history = state.get("studio_history", [])
    if len(history) < 2:
        return
    st.header("Your runs")
    table = pd.DataFrame(history).set_index("name")[
        ["setup", "parameters", "validation", "seconds", "ended"]
    ]
    st.dataframe(
        table.style.format(
            {"validation": "{:.1%}", "seconds": "{:.1f}", "parameters": "{:,}"}, na_rep="—"
        ),
        key="studio_history_table",
    )
    st.plotly_chart(runs_figure(history, ACCURACY_NAMES), key="studio_runs_chart")
