"""The Training Studio's settings: sidebar widgets <-> the experiment <-> the page's URL.

The widgets hold the settings as typed; the last good `Experiment` lives in the session
(`studio_good`), so a bad value is explained while the last good settings stay in use, and the
address bar always holds those, ready to share.
"""

import dataclasses

import streamlit as st

from punks_core.labels import ACCESSORIES
from punks_core.studio_setup import (
    MODELS,
    OPTIMIZERS,
    PRESETS,
    TASKS,
    Experiment,
    SetupError,
    from_query,
)

CUSTOM = "Custom"
state = st.session_state


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


def settings_sidebar(tasks: list[str]) -> Experiment:
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


def keep_url(experiment: Experiment) -> None:
    # The address bar always holds the setup, so a teacher can copy it and share it.
    query = experiment.to_query()
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
