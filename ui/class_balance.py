"""The Class Balance page's parts: label counts, the baseline calculator, the ceiling no
pixel-reading model passes, and the trained classifier's lift over the baseline."""

import pandas as pd
import plotly.express as px
import streamlit as st

from punks_core.baselines import (
    constant_baseline,
    hidden_counts,
    label_counts,
    pixel_ceiling,
    split_type_counts,
)
from punks_core.dataset import SPLITS, Punks
from punks_core.labels import ACCESSORIES, LABELS, TYPES
from ui.charts import bar_figure, plain_numbers, png_of

TASKS = {
    "Type only (5 labels)": list(TYPES),
    "Type + all 87 accessories (92 labels)": list(LABELS),
    "Any subset of labels": None,
}


COUNT_TABS = ("Punks per type", "Accessories per punk", "Punks per accessory")


@st.cache_data(max_entries=8, show_spinner=False)
def counts_png(_punks: Punks, tab: str, log_scale: bool) -> bytes:
    """One count tab's bars as a picture (the dataset is the shipped one: cached by tab)."""
    counts = label_counts(_punks)
    if tab == COUNT_TABS[0]:
        values, options = counts[list(TYPES)], {"names_label": "type"}
    elif tab == COUNT_TABS[1]:
        values = _punks.accessory_count.value_counts().sort_index()
        options = {"names_label": "accessories"}
    else:
        values = counts[list(ACCESSORIES)].sort_values(ascending=False)
        options = {"horizontal": True}
    return png_of(lambda: bar_figure(values, tab, log_scale, **options))


def show_label_counts(punks: Punks, log_scale: bool) -> None:
    """Punks per type, per number of accessories and per accessory, one tab at a time (only the
    open tab is drawn), as static pictures: the page's first view then needs no Plotly, which
    costs a new tab about 0.6 s before its first chart."""
    tabs = st.tabs(COUNT_TABS, key="balance_counts", on_change="rerun")
    for tab, name in zip(tabs, COUNT_TABS, strict=True):
        if tab.open:
            tab.image(counts_png(punks, name, log_scale))


def show_splits(punks: Punks) -> None:
    st.subheader("Punks per split")
    st.table(split_type_counts(punks).rename_axis("type"))
    ranges = ", ".join(f"{name} = ids {r.start}–{r.stop - 1}" for name, r in SPLITS.items())
    st.caption(f"{ranges}. The test split holds 2 apes and no alien: all 9 aliens are in train.")


def baseline_question() -> tuple[list[str], str]:
    """The calculator's task (labels) and split; the labels may be an empty choice."""
    task_column, split_column = st.columns(2)
    task = task_column.radio("Task", list(TASKS), key="balance_task")
    split = split_column.radio("Split", ["all", *SPLITS], horizontal=True, key="balance_split")
    labels = TASKS[task]
    if labels is None:
        labels = st.multiselect("Labels", LABELS, default=["Male", "Earring"], key="balance_labels")
    return labels, split


def show_baseline(punks: Punks, labels: list[str], split: str) -> None:
    """The constant prediction on `labels` over `split`: its answer, scores and formulas."""
    baseline = constant_baseline(punks, labels, split)
    answer = [name for name, value in baseline.prediction.items() if value] or ["nothing"]
    st.markdown(f"Constant prediction (majority on train): **{', '.join(answer)}**, always.")
    majority, hamming, exact = st.columns(3)
    if baseline.majority_type is not None:
        majority.metric("Majority-class accuracy (type)", f"{baseline.majority_type:.2%}")
    hamming.metric("Per-label (Hamming) accuracy", f"{baseline.hamming:.2%}")
    exact.metric("Exact match (all labels right)", f"{baseline.exact_match:.2%}")
    if set(labels) <= set(TYPES):
        st.caption(
            "With types only, the per-label accuracy treats each type as its own yes/no "
            "question (“is it an Ape?”). Answering Male is right on the four other questions "
            "for any punk, so it scores higher than the plain share of Male punks, which is "
            "the majority-class accuracy and the exact match."
        )
    # Lazy: typeset maths loads KaTeX, about 0.1 s of every visit (measured).
    formulas = st.expander("How the two scores are computed", key="balance_formulas",
                           on_change="rerun")  # fmt: skip
    if formulas.open:
        formulas.latex(
            r"\text{Hamming} = \frac{1}{N\,L}\sum_{i=1}^{N}\sum_{j=1}^{L}[\hat y_{j} = y_{ij}]"
            r"\qquad \text{exact match} = \frac{1}{N}\sum_{i=1}^{N}[\hat y = y_i]"
        )
        formulas.caption(
            f"N = {baseline.n_punks:,} punks of the {split} split, L = {len(labels)} labels: "
            "the per-label accuracy counts every right yes/no answer, the exact match only "
            "punks with all L right."
        )
    why_not_92_percent(punks)
    per_label = baseline.per_label.rename("baseline accuracy").rename_axis("label").to_frame()
    if len(per_label) <= 12:
        st.table(per_label.style.format("{:.2%}"))
    else:  # 92 rows would push the rest of the page far down: a scrolling grid
        st.dataframe(per_label.style.format("{:.2%}"), key="balance_per_label")


def why_not_92_percent(punks: Punks) -> None:
    """The constant model's score on all 92 labels, against a figure quoted elsewhere."""
    everyone = constant_baseline(punks, list(LABELS), "all")
    on_test = constant_baseline(punks, list(LABELS), "test")
    test_rows = punks.ids >= SPLITS["test"].start
    wrong_all = (1 - everyone.hamming) * len(LABELS)
    with st.expander("Why not “about 92 %”?"):
        st.markdown(
            "A well-known write-up quoted *about 92 %* for the constant model on all 92 labels. "
            f"The labels give **{everyone.hamming:.2%}** over all punks and "
            f"**{on_test.hamming:.2%}** on the test split: the constant answer is wrong on "
            f"{wrong_all:.1f} labels of 92 per punk on average — every accessory the punk wears "
            f"({punks.accessory_count.mean():.2f} on average, "
            f"{punks.accessory_count[test_rows].mean():.2f} on the test split), plus its type "
            "when it is not Male, counted twice (Male wrongly yes, its own type wrongly no). "
            "92 % would mean 7.4 wrong labels per punk, more than almost any punk even carries, "
            "so that figure cannot come from this constant prediction; the write-up gave no "
            "computation to check. What matters is the lesson: 96 % per-label accuracy is what "
            f"*learning nothing* scores, while the exact match is {everyone.exact_match:.2%}."
        )


def show_ceiling(punks: Punks, split: str) -> None:
    """The share of punks with a label no pixel shows, and the exact match it leaves."""
    st.header("The ceiling: labels no pixel shows")
    ceiling = pixel_ceiling(punks)
    st.markdown(
        "Every punk is painted from layers — a base, then its accessories in one fixed order — "
        "so a later layer can cover an earlier one completely: an earring under a hoodie or "
        "long hair, a smile under a beard, lipstick under a medical mask. The label says "
        "*Earring*; no pixel does. A model that reads pixels sees exactly the same image as "
        f"for the punk without it, so on the **{ceiling.loc['test', 'hidden share']:.1%}** of "
        "test punks that carry such a label it cannot get every label right. That is the "
        "ceiling for the exact match: the best score any pixel-reading model can reach, beside "
        "the constant baseline's floor."
    )
    floor, top = st.columns(2)
    floor.metric(
        f"Constant baseline, exact match ({split})",
        f"{constant_baseline(punks, list(LABELS), split).exact_match:.2%}",
    )
    top.metric(
        f"Ceiling, exact match ({split})", f"{ceiling.loc[split, 'exact-match ceiling']:.2%}"
    )
    st.table(
        ceiling.style.format(
            {"punks": "{:,.0f}", "with a hidden label": "{:,.0f}", "hidden share": "{:.2%}",
             "exact-match ceiling": "{:.2%}"}
        )
    )  # fmt: skip
    hiding = st.expander(
        "Which accessories hide, and how often", key="balance_hiding", on_change="rerun"
    )
    if hiding.open:
        hiding.dataframe(hidden_counts(punks), key="balance_hidden_counts")


def show_weakest(weakest: pd.DataFrame) -> None:
    """The weakest labels' F1 as bars, worst at the top."""
    figure = px.bar(
        weakest,
        x="f1",
        y=weakest.index,
        orientation="h",
        range_x=[0, 1],
        hover_data={"test_positives": True, "lift": ":.3f"},
        labels={"f1": "F1 on the test split", "test_positives": "punks wearing it", "lift": "lift"},
    )
    figure.update_layout(yaxis={"title": None, "autorange": "reversed"}, height=620)
    st.plotly_chart(plain_numbers(figure), key="balance_lift")
    st.caption(
        "F1 = 2PR / (P + R): P (precision) is the share of the punks it tags that really wear "
        "the label, R (recall) the share of the wearers it finds. Lift = its accuracy − the "
        "baseline's."
    )


def show_lift(punks: Punks, report: dict) -> None:
    """The trained CNN's weakest labels by F1, and its lift over the baseline on each."""
    on_test = constant_baseline(punks, list(LABELS), "test")
    lift = pd.DataFrame(report["per_label"]).set_index("label")
    lift = lift[lift["test_positives"] > 0].sort_values(["f1", "lift"])
    weakest = lift.head(20)
    st.markdown(
        f"On the test split the CNN gets **{report['test']['exact_match']:.1%}** of punks fully "
        f"right (the constant answer: {on_test.exact_match:.1%}). Accuracy flatters rare labels "
        "(always answering “no” is already right on nearly every punk), so the labels are "
        "ranked by **F1**, which only rewards finding the punks that do wear it. "
        f"{(lift['lift'] > 0).sum()} of {len(lift)} labels present in the test split beat "
        "their baseline's accuracy. The five weakest:"
    )
    five = weakest.head(5)[["f1", "test_positives", "lift"]]
    five.columns = ["F1", "punks wearing it (test)", "lift"]
    st.table(five.rename_axis("label").style.format({"F1": "{:.3f}", "lift": "{:+.3f}"}))
    # Lazy, like the table below: the page opens without Plotly (it costs a new tab about
    # 0.6 s to start, and each chart's drawing on every visit).
    weakest_box = st.expander(
        "The 20 weakest labels by F1, worst at the top", key="balance_weakest", on_change="rerun"
    )
    if weakest_box.open:
        with weakest_box:
            show_weakest(weakest)
    every_label = st.expander(
        f"All {len(lift)} labels, as a table", key="balance_every_label", on_change="rerun"
    )
    if not every_label.open:
        return
    table = lift[["test_positives", "baseline_accuracy", "model_accuracy", "f1", "lift"]]
    every_label.dataframe(
        table,
        column_config={
            "test_positives": st.column_config.NumberColumn("punks wearing it (test)"),
            "baseline_accuracy": st.column_config.NumberColumn(
                "baseline accuracy", format="percent"
            ),
            "model_accuracy": st.column_config.NumberColumn("model accuracy", format="percent"),
            "f1": st.column_config.NumberColumn("F1", format="%.3f"),
            "lift": st.column_config.NumberColumn("lift", format="%+.3f"),
        },
        key="balance_lift_table",
    )
