"""Sweeps: what an optuna search over the CNN's hyperparameters found, read as the write-up did."""

import streamlit as st

from punks_core.sweep import trials_table
from ui.navigation import page_header
from ui.sweeps import show_how_to_run, show_summary, show_views, study_or_stop

TASKS = {"Type (5 classes)": "type", "Type + accessories (92 labels)": "all"}

page_header(__file__)
st.caption(
    "An optuna study (TPE sampler, median pruning) over the CNN's batch size, learning rate, "
    "dropout, filters and conv blocks — the write-up's W&B sweep, offline, on the train and "
    "val splits only."
)

# required: clicking the chosen task again keeps it chosen instead of clearing both buttons.
label = st.segmented_control(
    "Task", list(TASKS), default=next(iter(TASKS)), required=True, key="sweep_task"
)
task = TASKS[label or next(iter(TASKS))]
study = study_or_stop(task)
table = trials_table(study)
show_summary(study, table, task)
show_views(study, table)
show_how_to_run(task)
