"""Training Studio: choose a network, watch it learn punks live, then see what it learned."""

import dataclasses
import random
import sys
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

from lab_ui import (
    LAB_PAGES,
    cached_classifier,
    page_header,
    punks_or_stop,
    read_upload_or_stop,
    show_punk,
)
from punks_core.dataset import N_PUNKS, SPLITS, Punks, find_punk
from punks_core.errors import PunksError
from punks_core.heatmaps import tiles
from punks_core.imaging import load_image
from punks_core.labels import ACCESSORIES, TYPES
from punks_core.reports import load_report
from punks_core.studio_figures import (
    ACCURACY_NAMES,
    confusion_figure,
    curve_figures,
    probability_figure,
    runs_figure,
)
from punks_core.studio_runs import MAX_TRAININGS, Studio
from punks_core.studio_setup import (
    MODELS,
    OPTIMIZERS,
    PRESETS,
    TASKS,
    Experiment,
    SetupError,
    from_query,
    parameter_count,
)
from punks_core.studio_train import score, shipped_scores, split_for, task_truth

CONVOLUTION_LAB = next(p.url for p in LAB_PAGES if p.file.endswith("5_Convolution_Lab.py"))
CUSTOM = "Custom"
SHIPPED = {"cnn": "Shipped CNN", "fnn": "Shipped FNN"}
SOURCES = ["Random test punk", "Punk by id", "Upload an image"]
BUILDER = "The Punk Builder's punk"
CHANNELS = ["R", "G", "B", "A"]
POLL_S = 0.5  # the live view redraws twice a second
MAX_HISTORY = 8
state = st.session_state


def keep_keras_session() -> None:
    """Stop Streamlit from calling `keras.backend.clear_session()` after every script run.

    Streamlit does that for apps that build a model inside the script; here it would hit a
    run training in a background thread twice a second (each poll of the live view): a full
    garbage collection and an emptied TensorFlow kernel cache each time. Measured on this
    2-core machine: 2 training steps a second instead of 60. This lab keeps its models in
    `st.cache_resource` or a run, never in the script, so there is nothing to clear.
    """
    from streamlit.runtime.scriptrunner import script_runner

    def clean_problem_modules() -> None:  # what Streamlit does, minus Keras
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")

    script_runner._clean_problem_modules = clean_problem_modules


@st.cache_resource(show_spinner=False)
def studio(_punks: Punks) -> Studio:
    """One training service per server process; the limit it enforces spans the machine."""
    return Studio(_punks)


@st.cache_resource(show_spinner=False)
def visible_task_ready(_punks: Punks) -> bool:
    # The "labels the pixels show" come from the layers; offer the task only where they load.
    try:
        ready = _punks.visible_labels is not None  # computed once, then cached
    except Exception:  # noqa: BLE001 - missing layer files, or a library without them
        return False
    return ready


@st.cache_data(show_spinner="Scoring the shipped model on the validation punks…")
def shipped_metrics(kind: str, task: str, accessory: str) -> dict | None:
    """The shipped classifier's validation scores on a task, or None if it is missing."""
    try:
        classifier = cached_classifier(kind)
    except PunksError:
        return None
    punks = punks_or_stop()
    experiment = Experiment(task=task, accessory=accessory)
    _, val = split_for(punks, experiment)
    probabilities = classifier.predict_proba(punks.images[val])
    metrics, _ = score(experiment, shipped_scores(probabilities, experiment), task_truth(
        punks, val, experiment))  # fmt: skip
    report = load_report(kind) or {}
    metrics["parameters"] = int(classifier.model.count_params())
    metrics["seconds"] = report.get("train_seconds")
    return metrics


# --- settings <-> widgets <-> URL -----------------------------------------------------------


def put_in_widgets(experiment: Experiment, only_missing: bool = False) -> None:
    """Show `experiment` in the widgets (`only_missing`: refill those Streamlit dropped)."""
    for name, value in dataclasses.asdict(experiment).items():
        if not only_missing or f"studio_{name}" not in state:
            state[f"studio_{name}"] = f"{value:g}" if name == "lr" else value


def choose_preset() -> None:
    if state.studio_preset != CUSTOM:
        put_in_widgets(PRESETS[state.studio_preset].experiment)


def read_lr(text: str) -> float:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        raise SetupError(
            f"The learning rate must be a number such as 0.001 or 1e-3, not {text[:24]!r}."
        ) from None


def settings_ui(tasks: list[str]) -> Experiment:
    """The sidebar's settings; returns the last good experiment (and says what is wrong)."""
    # Streamlit forgets a widget's value while it is not drawn (the CNN's settings while the
    # FNN is chosen): bring those back from the last good settings.
    put_in_widgets(state.studio_good, only_missing=True)
    with st.sidebar:
        preset_box = st.container()
        st.header("Task")
        task = st.selectbox("Learn to tell", tasks, format_func=TASKS.get, key="studio_task")
        if task == "accessory":
            st.selectbox("Accessory", ACCESSORIES, key="studio_accessory")
        st.header("Network")
        model = st.radio(
            "Model", list(MODELS), format_func=MODELS.get, key="studio_model", horizontal=True
        )
        if model == "cnn":
            st.number_input("Convolution blocks", 1, 3, key="studio_blocks")
            st.number_input("Filters per convolution", 0, 256, key="studio_filters")
            st.number_input("Kernel size", 1, 7, key="studio_kernel")
            st.toggle("2x2 max-pooling after each convolution", key="studio_pooling")
            st.slider("Dropout", 0.0, 0.9, step=0.05, key="studio_dropout")
            st.number_input("Units in the Dense layer", 0, 4096, key="studio_units")
        else:
            st.number_input("Hidden layers", 1, 4, key="studio_layers")
            st.number_input("Units per hidden layer", 0, 4096, key="studio_units")
        with st.expander("Training", expanded=True):
            st.selectbox("Optimizer", list(OPTIMIZERS), format_func=OPTIMIZERS.get,
                         key="studio_optimizer")  # fmt: skip
            lr_text = st.text_input("Learning rate", key="studio_lr", help="e.g. 0.001 or 1e-3")
            st.number_input("Batch size", 1, 100_000, key="studio_batch")
            st.number_input("Epochs", 1, 50, key="studio_epochs")
            st.number_input("Training punks (of 8,000)", 1, 8000, step=100, key="studio_punks")
            st.number_input("Seed", 0, 2**31 - 1, key="studio_seed")
    good = state.studio_good
    try:
        fields = [f.name for f in dataclasses.fields(Experiment) if f.name != "lr"]
        wanted = Experiment(
            lr=read_lr(lr_text), **{name: state[f"studio_{name}"] for name in fields}
        )
        state.studio_good = good = wanted.check()
    except SetupError as error:
        st.error(f"{error} Still using the last good settings: {good.describe()}.")
    # Named after the settings are read, so it never names a preset they no longer are.
    state.studio_preset = next(
        (name for name, preset in PRESETS.items() if preset.experiment == good), CUSTOM
    )
    preset_box.selectbox(
        "Preset", [CUSTOM, *PRESETS], key="studio_preset", on_change=choose_preset,
        help="Instructive setups; each says what to look for.",
    )  # fmt: skip
    return good


def start_from_url(tasks: list[str]) -> None:
    """On a session's first run: the experiment in the URL, or the default, in the widgets."""
    if "studio_good" in state:
        return
    experiment, problems = from_query(st.query_params.to_dict()) if st.query_params else (
        Experiment(), [])  # fmt: skip
    if experiment.task not in tasks:
        problems.append("This lab cannot train on the labels the pixels show yet.")
        experiment = dataclasses.replace(experiment, task="type")
    state.studio_good = experiment
    state.studio_url_problems = problems
    put_in_widgets(experiment)


def keep_url(experiment: Experiment) -> None:
    # The address bar always holds the setup, so a teacher can copy it and share it.
    query = experiment.to_query()
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


# --- training ------------------------------------------------------------------------------


def train() -> None:
    old = state.get("studio_lease")
    if old is not None:
        old.close()  # one model per learner: the last run's weights are let go
    state.studio_lease = studio(punks_or_stop()).start(state.studio_good)
    state.studio_run_number = state.get("studio_run_number", 0) + 1


def live_status(view) -> None:
    e = view.experiment
    if view.status == "queued":
        place = view.queue_position or 1
        st.info(
            f"⏳ Waiting for a free training slot: you are number {place} in the queue. This "
            f"server trains {MAX_TRAININGS} runs at a time so the rest of the lab stays quick."
        )
    elif view.status == "preparing":
        st.info("Starting TensorFlow and building the network…")
    elif view.status in ("training", "evaluating"):
        steps_per_epoch = max(1, view.total_steps // e.epochs)
        epoch = min(e.epochs, view.step // steps_per_epoch + 1)
        loss = f" · batch loss {view.batch_loss:.4f}" if view.batch_loss is not None else ""
        text = (
            f"Epoch {epoch} of {e.epochs} · step {view.step} of {view.total_steps}{loss} · "
            f"{view.elapsed:.0f} s"
        )
        if view.status == "evaluating":
            text = "Scoring the 1,000 validation punks…"
        st.progress(view.progress, text=text)
    else:
        show = {"finished": st.success, "stopped": st.info, "cancelled": st.info}
        show.get(view.status, st.warning if view.status == "time_limit" else st.error)(view.message)


def draw_curves(view) -> None:
    if not view.points:
        return
    epochs = view.experiment.epochs
    diverged_at = None
    if view.status == "diverged" and view.total_steps:
        diverged_at = view.step / (view.total_steps / epochs)
    loss, accuracy = curve_figures(view.points, view.experiment.task, epochs, diverged_at)
    left, right = st.columns(2)
    left.plotly_chart(loss, key="studio_loss_chart")
    right.plotly_chart(accuracy, key="studio_accuracy_chart")


def live_panel() -> None:
    """Progress and curves of the run in training, redrawn every `POLL_S` seconds."""
    lease = state.get("studio_lease")
    if lease is None:
        return
    view = lease.run.view()
    live_status(view)
    if not view.done:
        st.button("⏹ Stop", key="studio_stop", on_click=lease.run.request_stop,
                  help="End training now; the network keeps what it has learned.")  # fmt: skip
    draw_curves(view)
    if view.done and not state.get("studio_shown_done"):
        state.studio_shown_done = True
        st.rerun()  # the whole page, to draw the results


# --- after training --------------------------------------------------------------------------


def remember(view, result) -> None:
    """Add a finished run to the session's short history, once."""
    number = state.studio_run_number
    history = state.setdefault("studio_history", [])
    if any(entry["number"] == number for entry in history):
        return
    e = view.experiment
    history.append(
        {
            "number": number,
            "name": f"#{number} {e.model.upper()}",
            "task": e.task,
            "setup": e.describe(),
            "parameters": result.parameters if result else parameter_count(e),
            "validation": result.metrics["accuracy"] if result else None,
            "seconds": view.train_seconds,
            "ended": view.status,
            "points": view.points,
        }
    )
    del history[:-MAX_HISTORY]


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


def filters_ui(result) -> None:
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
        image = state.builder_punk
    elif source == "Upload an image":
        upload = st.file_uploader(
            "A CryptoPunk image: 24x24 or any upscale, PNG, JPEG, WebP or GIF",
            type=["png", "jpg", "jpeg", "webp", "gif"], key="studio_upload",
        )  # fmt: skip
        if upload is None:
            st.info("Upload a punk image, or pick one by id or at random.")
            return
        image = read_upload_or_stop(upload, load_image)
    elif source == "Punk by id":
        chosen = st.number_input("Punk id", 0, N_PUNKS - 1, 9000, key="studio_try_id")
        image = punks.images[punks.row(int(chosen))]
    else:
        if st.button("🎲 Another test punk", key="studio_reroll") or "studio_random" not in state:
            state.studio_random = random.choice(SPLITS["test"])
        image = punks.images[punks.row(state.studio_random)]
    probabilities = result.predict(image).iloc[0]
    known = find_punk(punks, image)
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


def results(view, result, punks) -> None:
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
        filters_ui(result)
    try_it(result, e, punks)


def history_ui() -> None:
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


# --- the page ----------------------------------------------------------------------------------

keep_keras_session()
page_header(__file__)
punks = punks_or_stop()
tasks = [t for t in TASKS if t != "visible" or visible_task_ready(punks)]
start_from_url(tasks)
for problem in state.pop("studio_url_problems", []):
    st.warning(problem)
experiment = settings_ui(tasks)
keep_url(experiment)

preset = state.studio_preset
if preset != CUSTOM:
    st.info(f"**{preset}.** {PRESETS[preset].lesson}")
st.markdown(
    f"**Your network:** {experiment.describe()} — **{parameter_count(experiment):,} parameters**"
)
st.caption(
    "Trains on the chosen training punks (ids 0–7999) and is scored on the 1,000 validation "
    "punks (8000–8999); the test punks stay unseen. The same settings and seed give the same "
    "curve. The address bar holds this setup: copy it to share it."
)
lease = state.get("studio_lease")
running = lease is not None and not lease.run.view().done
st.button("▶ Train", key="studio_train", type="primary", on_click=train, disabled=running)
if lease is not None:
    state.studio_shown_done = not running
    if running:
        st.fragment(run_every=POLL_S)(live_panel)()
    else:
        live_panel()
        view = lease.run.view()
        result = lease.run.result
        remember(view, result)
        if result is not None:
            results(view, result, punks)
history_ui()
