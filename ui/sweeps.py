"""The Sweeps page's parts: the optuna study of a task (or why there is none), its charts one tab
at a time, the trials table with its filters, and how to run a sweep. Every part reads the
study's own score, its name and which way is better (`punks_core.sweep.objective_of`): the
"type" study minimises the validation loss, the "all" study maximises the validation exact
match against what the pixels show."""

import optuna
import streamlit as st
from optuna.visualization import plot_optimization_history, plot_param_importances

from punks_core.errors import PunksError
from punks_core.sweep import (
    SEARCH_SPACE,
    load_study,
    measures,
    objective_of,
    parallel_coordinates,
    ranked,
    reading,
)
from ui.charts import plain_numbers


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


def sentence(words: str) -> str:
    """`words` capitalised to start a sentence ("validation loss" -> "Validation loss")."""
    return words[:1].upper() + words[1:]


def show_summary(study: optuna.Study, table, task: str) -> None:
    """What the study scores, trials finished and pruned, the best one, and the study read in
    words."""
    objective = objective_of(study)
    score, other = measures(study)[:2]
    st.caption(
        f"Each trial is scored by its {score.name} at its best epoch ({objective.better}); "
        "the pruner stops a trial whose score is worse than the median of the earlier trials "
        "at the same epoch, from the third epoch on."
    )
    best = ranked(table[table["state"] == "COMPLETE"], objective).iloc[0]
    stats = st.columns(4)
    stats[0].metric("Finished trials", int((table["state"] == "COMPLETE").sum()))
    stats[1].metric("Pruned early", int((table["state"] == "PRUNED").sum()))
    stats[2].metric(
        f"Best {score.short}",
        score.format(best[score.column]),
        help=f"{sentence(score.name)}, {objective.better}: trial #{best.name}",
    )
    stats[3].metric(
        f"Best trial's {other.short}", other.format(best.get(other.column)), help=other.name
    )
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


def show_views(study: optuna.Study, table) -> None:
    """The trials table, then the history, parallel coordinates and importances; only the open
    tab is drawn (a rerun on switching)."""
    objective = objective_of(study)
    score = objective.measure
    best = "highest" if objective.maximize else "lowest"
    # The page opens on the table: every Plotly chart makes a new tab load Plotly's 4.7 MB
    # script (about 0.6 s of its main thread here, measured), and the parallel coordinates are
    # WebGL, which a browser without a GPU draws in software (about 1.3 s).
    trials, history, coordinates, importances = st.tabs(
        ["Trials", "Optimisation history", "Parallel coordinates", "Parameter importances"],
        key="sweep_view",
        on_change="rerun",
    )
    if trials.open:
        with trials:
            show_trials(study, table)
    if coordinates.open:
        with coordinates:
            with_pruned = st.toggle("Include pruned trials", value=True, key="sweep_with_pruned")
            st.caption(
                f"Each line is a trial, coloured by the {best} {score.name} it reached (yellow "
                "is best); a pruned trial's score is the one it had when the pruner stopped it."
            )
            figure = parallel_coordinates(table, with_pruned, objective)
            st.plotly_chart(dark(figure), key="sweep_parallel")
    if importances.open:
        with importances:
            st.caption(f"How much of the variation in {score.name} each hyperparameter explains.")
            st.plotly_chart(dark(plot_param_importances(study)), key="sweep_importances")
    if history.open:
        with history:
            scale = (
                "; on a log scale, so one poor trial does not flatten all the others"
                if score.log
                else ""
            )
            st.caption(
                f"{sentence(score.name)} of each finished trial in the order "
                f"they ran, and the best so far ({objective.better}){scale}."
            )
            st.plotly_chart(history_figure(study, objective), key="sweep_history")


def history_figure(study: optuna.Study, objective):
    """optuna's optimisation history, its axis and legend in the study's score."""
    score = objective.measure
    figure = dark(plot_optimization_history(study))
    names = {"Objective Value": score.short, "Best Value": "best so far"}
    figure.for_each_trace(lambda trace: trace.update(name=names.get(trace.name, trace.name)))
    figure.update_yaxes(
        type="log" if score.log else "linear",
        title=score.short,
        tickformat=".0%" if score.percent else None,
    )
    return figure.update_xaxes(title="trial")


def trial_columns(study: optuna.Study) -> dict:
    """The table's columns in words, the study's score first: what the reader looks for must
    not sit off the right edge."""
    scores = {
        m.column: st.column_config.NumberColumn(
            m.short, format="percent" if m.percent else "%.4f", help=m.name
        )
        for m in measures(study)
    }
    return {
        **scores,
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


def show_trials(study: optuna.Study, table) -> None:
    """The trials, filtered by state, filters and conv blocks, best first by the study's score."""
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
    columns = trial_columns(study)
    st.dataframe(
        ranked(shown, objective_of(study)).rename_axis("trial"),
        column_order=[c for c in columns if c in shown],
        column_config=columns,
        key="sweep_table",
    )


def show_how_to_run(task: str) -> None:
    with st.expander("Run a sweep yourself, on one machine or many"):
        st.markdown(
            f"""
`python -m punks_core sweep --task {task} --trials 30` adds 30 trials to the shipped study
(SQLite in `assets/sweeps/sweeps.db`); with `--replace` it deletes the study and starts it
again, as it must when the study was scored another way. To share one study between machines,
give every worker the same database URL and its own seed:

```
python -m punks_core sweep --task {task} --trials 20 --seed 1 \\
    --storage postgresql://user:password@db-host/sweeps
```
"""
        )
