"""The Live Classifier's model card: layers, training curves, test metrics, per label, FNN vs CNN.

Only the open tab is drawn (`st.tabs(..., on_change="rerun")`), so a visit pays for one of the
five, not for a Plotly chart in a hidden tab.
"""

import pandas as pd
import plotly.express as px
import streamlit as st

from punks_core.reports import load_report
from ui.charts import plain_numbers

TABS = ["Layers", "Training curves", "Test metrics", "Per label", "FNN vs CNN"]


def layers_tab(classifier) -> None:
    layers = classifier.layer_table()
    # Keras writes the batch axis as None: "(None, 24, 24, 4)" reads as a bug to a learner.
    layers["output shape"] = layers["output shape"].str.replace("None, ", "", regex=False)
    # A static table: the page opens on this tab, and a data grid would cost every visit.
    st.table(layers.style.format({"parameters": "{:,}"}), hide_index=True)
    st.caption(
        "A Conv2D layer learns (f·f·c_in + 1)·filters numbers: one f×f kernel per input "
        "channel, plus a bias, for each filter. A Dense layer learns (n_in + 1)·n_out; an "
        "Embedding learns one vector per colour it tells apart (the punk palette, the blends "
        "that new compositions show, and one for any other colour)."
    )


def curves_tab(report: dict) -> None:
    history = pd.DataFrame(report["history"])
    history.index = history.index + 1
    losses = history[[c for c in history if "loss" in c]]
    losses.columns = [c.replace("val_", "validation ").replace("_", " ") for c in losses.columns]
    curves = px.line(
        losses, labels={"index": "epoch", "value": "loss", "variable": ""},
        color_discrete_sequence=px.colors.qualitative.Plotly,
    )  # fmt: skip
    st.plotly_chart(plain_numbers(curves), key="classifier_curves")
    st.caption(f"`{report['command']}` · seed {report['seed']} · {report['train_seconds']} s")


def metrics_tab(report: dict) -> None:
    test = report["test"]
    visible, every, types, macro = st.columns(4)
    visible.metric(
        "Exact match, what the pixels show", f"{test['exact_match']:.2%}",
        help="All 92 answers right, where a label drawn under another layer counts as absent.",
    )  # fmt: skip
    if "all_labels" in test:
        every.metric(
            "Exact match, all labels", f"{test['all_labels']['exact_match']:.2%}",
            help=f"Against the official labels; no model can pass "
            f"{test['all_labels_ceiling']:.1%}, the share of test punks with no hidden label.",
        )  # fmt: skip
    types.metric("Type accuracy", f"{test['type_accuracy']:.2%}")
    macro.metric("Macro AUC", f"{test['macro_auc']:.4f}")
    st.caption("On the test split (ids 9000–9999), never seen in training or model selection.")


def labels_tab(report: dict) -> None:
    per_label = pd.DataFrame(report["per_label"]).set_index("label")
    per_label.columns = [c.replace("_", " ").replace("f1", "F1") for c in per_label.columns]
    percent = ["test prevalence", "baseline accuracy", "model accuracy"]
    styled = per_label.style.format("{:.2%}", subset=[c for c in percent if c in per_label])
    styled = styled.format("{:.3f}", subset=["F1"], na_rep="no test punk wears it")
    st.dataframe(styled.format("{:+.3f}", subset=["lift"]), key="classifier_per_label")


def versus_tab(report: dict, other: dict | None) -> None:
    reports = {r["kind"].upper(): r for r in (report, other) if r is not None}
    versus = pd.DataFrame(
        {
            name: {
                "parameters": f"{r['parameters']:,}",
                "exact match (test)": f"{r['test']['exact_match']:.1%}",
                "type accuracy (test)": f"{r['test']['type_accuracy']:.1%}",
                "micro AUC (test)": f"{r['test']['micro_auc']:.4f}",
                "training time": f"{r['train_seconds'] / 60:.0f} min",
            }
            for name, r in reports.items()
        }
    )
    st.dataframe(versus, key="classifier_versus")
    st.markdown(
        "The FNN flattens the 24×24×4 punk into 2,304 numbers and loses where each pixel sits; "
        "the CNN slides small filters over the image, so an earring is found wherever it is "
        "and one kernel's weights serve every position."
    )


def show_model_card(classifier, kind: str) -> None:
    """The model card of the shipped `kind` classifier, one tab drawn at a time."""
    report, other = load_report(kind), load_report("fnn" if kind == "cnn" else "cnn")
    tabs = st.tabs(TABS, key="classifier_card", on_change="rerun")
    if tabs[0].open:
        with tabs[0]:
            layers_tab(classifier)
    if report is None:
        st.info(f"No training report beside the {kind.upper()} model: retrain it to get one.")
        return
    for tab, draw in zip(tabs[1:4], (curves_tab, metrics_tab, labels_tab), strict=True):
        if tab.open:
            with tab:
                draw(report)
    if tabs[4].open:
        with tabs[4]:
            versus_tab(report, other)
