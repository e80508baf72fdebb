"""AppTest of the Sweeps page: the shipped studies, the trial filters, and no study at all;
small studies in tmp storage for how each score reads (visible exact match for "all", val
loss for "type", and an "all" study still scored the old way)."""

import json

import optuna
import pytest
import streamlit as st

from punks_core import sweep
from punks_core.sweep import SEARCH_SPACE, load_study, objective_of

PAGE = "pages/6_Sweeps.py"
ALL = "Type + accessories (92 labels)"
TASKS = {"Type (5 classes)": "type", ALL: "all"}
DISTRIBUTIONS = {
    "batch_size": optuna.distributions.CategoricalDistribution(SEARCH_SPACE["batch_size"]),
    "learning_rate": optuna.distributions.FloatDistribution(
        *SEARCH_SPACE["learning_rate"], log=True
    ),
    "dropout": optuna.distributions.FloatDistribution(*SEARCH_SPACE["dropout"]),
    "filters": optuna.distributions.CategoricalDistribution(SEARCH_SPACE["filters"]),
    "blocks": optuna.distributions.CategoricalDistribution(SEARCH_SPACE["blocks"]),
}


def add_trials(study: optuna.Study, values: list[float], user_attrs) -> None:
    """Finished trials with `values` (the last one pruned), recorded as a sweep records them."""
    for k, value in enumerate(values):
        params = {
            "batch_size": SEARCH_SPACE["batch_size"][k % 6],
            "learning_rate": 10 ** (-4 + k * 0.3),
            "dropout": 0.05 * k,
            "filters": SEARCH_SPACE["filters"][k % 3],
            "blocks": SEARCH_SPACE["blocks"][k % 2],
        }
        pruned = k == len(values) - 1
        attrs = {"best_epoch": 5, "epochs_run": 3 if pruned else 5, "seconds": 10.0}
        study.add_trial(
            optuna.trial.create_trial(
                state=optuna.trial.TrialState.PRUNED
                if pruned
                else optuna.trial.TrialState.COMPLETE,
                value=None if pruned else value,
                intermediate_values={1: value, 2: value, 3: value} if pruned else {},
                params=params,
                distributions=DISTRIBUTIONS,
                user_attrs={**attrs, "parameters": 1000 + k, **user_attrs(value)},
            )
        )


@pytest.fixture
def tmp_studies(tmp_path, monkeypatch):
    """The page's default storage pointed at a tmp SQLite file; `make(task, old=False)` adds
    a small study there, made as `run_sweep` makes it (or as sweeps made "all" before)."""
    storage = f"sqlite:///{tmp_path / 'sweeps.db'}"
    monkeypatch.setattr(sweep, "SWEEPS_DIR", tmp_path)
    monkeypatch.setattr(sweep, "DEFAULT_STORAGE", storage)

    def make(task: str, old: bool = False) -> optuna.Study:
        if old:  # the shipped cnn-all before it is re-run: val loss, minimised, all labels
            study = optuna.create_study(
                study_name=f"cnn-{task}", storage=storage, direction="minimize"
            )
            study.set_user_attr("task", task)
            study.set_user_attr("objective", sweep.LOSS_OBJECTIVE.record)
        else:
            study = sweep.create_study(task, storage)
        if objective_of(study).maximize:  # visible exact match; its loss beside it
            values = [0.42, 0.61, 0.55, 0.3, 0.2, 0.1]
            add_trials(study, values, lambda v: {"val_score": v, "val_loss": 0.05 - v / 20})
        else:
            values = [0.002, 0.0008, 0.004, 0.01, 0.003, 0.05]
            score = 1.0 if task == "type" else 0.5
            add_trials(study, values, lambda v: {"val_score": score})
        return study

    st.cache_resource.clear()
    yield make
    st.cache_resource.clear()


def shown_text(app) -> str:
    """The words the page says about its study: metrics, the reading, captions and the
    table's headers (not the commands of "run a sweep yourself")."""
    words = [m.label + " " + m.value + " " + m.proto.help for m in app.metric]
    words += [m.value for m in app.markdown if "postgresql" not in m.value]
    words += [c.value for c in app.caption]
    table = app.dataframe[0].proto
    config = json.loads(table.columns)
    words += [config[c]["label"] for c in table.column_order]
    return "\n".join(words)


@pytest.mark.parametrize("task", list(TASKS))
def test_each_task_shows_plots_reading_and_table(open_page, task):
    app = open_page(PAGE)
    app.button_group(key="sweep_task").set_value(task).run()
    assert not app.exception and not app.info
    assert not app.get("plotly_chart")  # it opens on the trials; only the open tab is drawn
    finished, pruned = int(app.metric[0].value), int(app.metric[1].value)
    assert finished + pruned >= 30 and finished >= 5
    assert any("write-up found" in m.value for m in app.markdown)
    table = app.dataframe[0].value
    # Best first by the study's own score: val loss (lowest first) or visible exact match
    # (highest first), whichever the shipped study records.
    objective = objective_of(load_study(TASKS[task]))
    column = table[objective.measure.column]
    best_first = (
        column.is_monotonic_decreasing if objective.maximize else column.is_monotonic_increasing
    )
    assert (table["state"] == "COMPLETE").all() and best_first


@pytest.mark.parametrize(
    ("tab", "chart"),
    [
        ("Parameter importances", "sweep_importances"),
        ("Optimisation history", "sweep_history"),
        ("Parallel coordinates", "sweep_parallel"),
    ],
)
def test_opening_a_tab_draws_its_chart_alone(open_page, tab, chart):
    app = open_page(PAGE)
    app.session_state["sweep_view"] = tab
    app.run()
    assert not app.exception
    charts = app.get("plotly_chart")
    assert len(charts) == 1 and chart in str(charts[0].proto.id)


def test_filters_narrow_the_table(open_page):
    app = open_page(PAGE)
    before = len(app.dataframe[0].value)
    app.multiselect(key="sweep_filters").set_value([32]).run()
    after = app.dataframe[0].value
    assert set(after["filters"]) <= {32} and len(after) < before


def test_no_study_says_how_to_run_one(open_page, tmp_path, monkeypatch):
    st.cache_resource.clear()
    monkeypatch.setattr(sweep, "SWEEPS_DIR", tmp_path)
    try:
        app = open_page(PAGE)
        assert "python -m punks_core sweep --task type" in app.info[0].value
        assert not app.get("plotly_chart")
    finally:
        st.cache_resource.clear()


def history_axis(app) -> dict:
    app.session_state["sweep_view"] = "Optimisation history"
    app.run()
    assert not app.exception
    return json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]["yaxis"]


def test_an_all_study_reads_visible_exact_match(open_page, tmp_studies):
    tmp_studies("type")
    tmp_studies("all")
    app = open_page(PAGE)
    app.button_group(key="sweep_task").set_value(ALL).run()
    assert not app.exception and not app.info
    assert app.metric[2].label == "Best val exact match (visible)"
    assert app.metric[2].value == "61.0%" and "trial #1" in app.metric[2].proto.help
    assert "higher is better" in app.metric[2].proto.help
    assert app.metric[3].label == "Best trial's val loss"
    text = shown_text(app)
    assert "validation exact match (what the pixels show)" in text
    assert "with the highest validation exact match" in text
    for unwanted in ("None", "NaN", "_", "--replace"):
        assert unwanted not in text, unwanted
    table = app.dataframe[0].value
    assert list(table.index) == [1, 2, 0, 3, 4]  # finished trials, highest score first
    assert list(app.dataframe[0].proto.column_order)[:2] == ["val_exact_match", "val_loss"]
    axis = history_axis(app)
    assert axis["title"]["text"] == "val exact match (visible)"
    assert axis.get("type") == "linear" and axis["tickformat"] == ".0%"
    app.session_state["sweep_view"] = "Parameter importances"
    app.run()
    assert not app.exception and "validation exact match" in app.caption[-1].value


def test_a_type_study_still_reads_val_loss(open_page, tmp_studies):
    tmp_studies("type")
    app = open_page(PAGE)
    assert not app.exception and not app.info
    assert app.metric[2].label == "Best val loss" and app.metric[2].value == "0.0008"
    assert "lower is better" in app.metric[2].proto.help
    assert app.metric[3].label == "Best trial's val type accuracy"
    text = shown_text(app)
    assert "with the lowest validation loss" in text and "exact match" not in text
    table = app.dataframe[0].value
    assert list(table.index) == [1, 0, 4, 2, 3] and table["val_loss"].is_monotonic_increasing
    axis = history_axis(app)
    assert axis["title"]["text"] == "val loss" and axis["type"] == "log"


def test_an_old_all_study_is_read_as_it_was_scored_and_says_how_to_replace_it(
    open_page, tmp_studies
):
    tmp_studies("type")
    tmp_studies("all", old=True)
    app = open_page(PAGE)
    app.button_group(key="sweep_task").set_value(ALL).run()
    assert not app.exception and not app.info
    assert app.metric[2].label == "Best val loss"
    assert app.metric[3].label == "Best trial's val exact match (all labels)"
    assert any(
        "python -m punks_core sweep --task all --trials 30 --replace" in m.value
        for m in app.markdown
    )
