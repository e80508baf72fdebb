"""AppTest of the Sweeps page: the shipped studies, the trial filters, and no study at all."""

import pytest
import streamlit as st

from punks_core import sweep

PAGE = "pages/6_Sweeps.py"


@pytest.mark.parametrize("task", ["Type (5 classes)", "Type + accessories (92 labels)"])
def test_each_task_shows_plots_reading_and_table(open_page, task):
    app = open_page(PAGE)
    app.button_group(key="sweep_task").set_value(task).run()
    assert not app.exception and not app.info
    assert len(app.get("plotly_chart")) == 1  # only the open tab is drawn
    finished, pruned = int(app.metric[0].value), int(app.metric[1].value)
    assert finished + pruned >= 30 and finished >= 5
    assert any("write-up found" in m.value for m in app.markdown)
    table = app.dataframe[0].value
    assert (table["state"] == "COMPLETE").all() and table["val_loss"].is_monotonic_increasing


@pytest.mark.parametrize(
    ("tab", "chart"),
    [("Parameter importances", "sweep_importances"), ("Optimisation history", "sweep_history")],
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
