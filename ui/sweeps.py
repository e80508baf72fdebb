"""The Sweeps page's parts: the optuna study of a task (or why there is none), its charts one tab
at a time, the trials table with its filters, and how to run a sweep."""

import optuna
import streamlit as st
from optuna.visualization import plot_optimization_history, plot_param_importances

from punks_core.errors import PunksError
from punks_core.sweep import SEARCH_SPACE, load_study, parallel_coordinates, reading
from ui.charts import plain_numbers

SCORE = {"type": "type accuracy", "all": "exact match"}


@st.cache_resource(ttl=60, show_spinner="Reading the study…")
def cached_study(task: str) -> optuna.Study:
    # ttl: a sweep may still be adding trials to the database.
    return load_study(task)


def study_or_stop(task: str) -> optuna.Study:
    """The shipped study of `task`, or how to make one and the end of the page."""
    try:
        return cached_study(task)
    except PunksError as error:
        st.info(f"Nothing to show for this task: {error}")
        st.stop()


def show_summary(study: optuna.Study, table, task: str) -> None:
    """Trials finished and pruned, the best one, and the study read in words."""
    done = table[table["state"] == "COMPLETE"]
    best = done.loc[done["val_loss"].idxmin()]
    stats = st.columns(4)
    stats[0].metric("Finished trials", len(done))
    stats[1].metric("Pruned early", int((table["state"] == "PRUNED").sum()))
    stats[2].metric("Best val loss", f"{best['val_loss']:.4f}", help=f"trial #{best.name}")
    stats[3].metric(f"Best trial's val {SCORE[task]}", f"{best['val_score']:.1%}")
    st.markdown("\n".join(f"- {line}" for line in reading(study, task)))


def dark(figure):
    # optuna draws on plotly's white template; match the app's dark theme and leave the
    # (bold) title room at the top.
    figure.update_layout(
        template="plotly_dark",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin={**figure.layout.margin.to_plotly_json(), "t": 90},
    )
    return plain_numbers(figure)


def show_charts(study: optuna.Study, table) -> None:
    """Parallel coordinates, importances and history; only the open tab is drawn (a rerun on
    switching): three Plotly charts cost every visit."""
    coordinates, importances, history = st.tabs(
        ["Parallel coordinates", "Parameter importances", "Optimisation history"],
        key="sweep_view",
        on_change="rerun",
    )
    if coordinates.open:
        with coordinates:
            with_pruned = st.toggle("Include pruned trials", value=True, key="sweep_with_pruned")
            st.caption(
                "Each line is a trial, coloured by the lowest validation loss it reached (yellow "
                "is best); a pruned trial's loss is the one it had when the pruner stopped it."
            )
            st.plotly_chart(dark(parallel_coordinates(table, with_pruned)), key="sweep_parallel")
    if importances.open:
        with importances:
            st.caption("How much of the variation in validation loss each hyperparameter explains.")
            st.plotly_chart(dark(plot_param_importances(study)), key="sweep_importances")
    if history.open:
        with history:
            st.caption(
                "Validation loss of each finished trial in the order they ran, and the best so "
                "far; on a log scale, so one poor trial does not flatten all the others."
            )
            progress = dark(plot_optimization_history(study))
            st.plotly_chart(
                progress.update_yaxes(type="log", title="val loss"), key="sweep_history"
            )


def trial_columns(task: str) -> dict:
    return {
        "val_loss": st.column_config.NumberColumn("val loss", format="%.4f"),
        "val_score": st.column_config.NumberColumn(f"val {SCORE[task]}", format="percent"),
        "state": st.column_config.TextColumn("state"),
        "learning_rate": st.column_config.NumberColumn("learning rate", format="%.1e"),
        "batch_size": st.column_config.NumberColumn("batch size"),
        "filters": st.column_config.NumberColumn("filters"),
        "blocks": st.column_config.NumberColumn("conv blocks"),
        "dropout": st.column_config.NumberColumn("dropout", format="%.2f"),
        "epochs_run": st.column_config.NumberColumn("epochs run"),
        "parameters": st.column_config.NumberColumn("parameters", format="localized"),
        "seconds": st.column_config.NumberColumn("seconds", format="%.0f"),
    }


def show_trials(table, task: str) -> None:
    """The trials, filtered by state, filters and conv blocks, best first."""
    filters = st.columns(3)
    states = filters[0].multiselect(
        "State", sorted(table["state"].unique()), default=["COMPLETE"], key="sweep_states"
    )
    widths = filters[1].multiselect(
        "Filters", SEARCH_SPACE["filters"], default=SEARCH_SPACE["filters"], key="sweep_filters"
    )
    blocks = filters[2].multiselect(
        "Conv blocks", SEARCH_SPACE["blocks"], default=SEARCH_SPACE["blocks"], key="sweep_blocks"
    )
    shown = table[
        table["state"].isin(states) & table["filters"].isin(widths) & table["blocks"].isin(blocks)
    ]
    columns = trial_columns(task)
    # Scores first: the column a reader looks for must not sit off the right edge.
    st.dataframe(
        shown.sort_values("val_loss").rename_axis("trial"),
        column_order=[c for c in columns if c in shown],
        column_config=columns,
        key="sweep_table",
    )


def show_how_to_run(task: str) -> None:
    with st.expander("Run a sweep yourself, on one machine or many"):
        st.markdown(
            f"""
`python -m punks_core sweep --task {task} --trials 30` adds 30 trials to the shipped study
(SQLite in `assets/sweeps/sweeps.db`). To share one study between machines, give every worker
the same database URL and its own seed:

```
python -m punks_core sweep --task {task} --trials 20 --seed 1 \\
    --storage postgresql://user:password@db-host/sweeps
```
"""
        )
