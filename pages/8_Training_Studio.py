"""Training Studio: choose a network, watch it learn punks live, then see what it learned."""

import streamlit as st

from punks_core.studio_setup import PRESETS, TASKS, parameter_count
from ui.loaders import punks_or_stop
from ui.navigation import page_header
from ui.studio_results import show_history, show_results
from ui.studio_settings import CUSTOM, keep_url, settings_sidebar, start_from_url
from ui.studio_training import (
    POLL_S,
    keep_keras_session,
    live_panel,
    remember,
    train,
    visible_task_ready,
)

state = st.session_state

keep_keras_session()
page_header(__file__)
punks = punks_or_stop()
tasks = [t for t in TASKS if t != "visible" or visible_task_ready()]
start_from_url(tasks)
for problem in state.pop("studio_url_problems", []):
    st.warning(problem)
experiment = settings_sidebar(tasks)
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
            show_results(view, result, punks)
show_history()
