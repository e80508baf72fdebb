"""Class Balance & Baselines: how unbalanced the labels are, and the accuracy a model must beat."""

import streamlit as st

from punks_core.reports import load_report
from ui.class_balance import (
    baseline_question,
    show_baseline,
    show_ceiling,
    show_label_counts,
    show_lift,
    show_splits,
)
from ui.loaders import punks_or_stop
from ui.navigation import page_header

page_header(__file__)
punks = punks_or_stop()
st.markdown(
    "Six punks in ten are Male and most accessories are rare, so a model that learns nothing "
    "can still look accurate. Here is how unbalanced the labels are, and the score of a model "
    "that always answers **“Male, no accessories”** — the floor a real model must beat."
)
show_label_counts(punks, st.toggle("Logarithmic counts", value=True, key="balance_log"))
show_splits(punks)

st.header("Baseline calculator")
labels, split = baseline_question()
if not labels:
    st.info("Pick at least one label to compute its baseline.")
else:
    show_baseline(punks, labels, split)
    show_ceiling(punks, split)
    st.header("Lift of the trained classifier")
    report = load_report("cnn")
    if report is None:
        st.info("No trained classifier yet: `python -m punks_core train-classifier` makes one.")
    else:
        show_lift(punks, report)
