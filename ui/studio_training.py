"""The Training Studio's runs: one training service per server, a learner's run started and
watched live (progress and curves redrawn twice a second), and the session's short history."""

import sys

import streamlit as st

from punks_core.studio_figures import curve_figures
from punks_core.studio_runs import MAX_TRAININGS, Studio
from punks_core.studio_setup import parameter_count
from ui.loaders import shipped_punks

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
def studio() -> Studio:
    """One training service per server process; the limit it enforces spans the machine."""
    return Studio(shipped_punks())


@st.cache_resource(show_spinner=False)
def visible_task_ready() -> bool:
    # The "labels the pixels show" come from the layers; offer the task only where they load.
    try:
        ready = shipped_punks().visible_labels is not None  # computed once, then cached
    except Exception:  # noqa: BLE001 - missing layer files, or a library without them
        return False
    return ready


def train() -> None:
    old = state.get("studio_lease")
    if old is not None:
        old.close()  # one model per learner: the last run's weights are let go
    state.studio_lease = studio().start(state.studio_good)
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
