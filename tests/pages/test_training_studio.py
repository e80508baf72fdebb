"""Training Studio page: settings, the URL, bad input, and a tiny network trained end to end."""

import time

import numpy as np
import pytest

from punks_core.studio_setup import PRESETS, Experiment

PAGE = "pages/8_Training_Studio.py"
# A CNN small enough to train in a few seconds, with first-layer filters to link.
TINY = {
    "model": "cnn", "filters": "2", "units": "4", "punks": "300", "batch": "50", "epochs": "2",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _own_training_slots(tmp_path, monkeypatch):
    # Runs started here queue among themselves, not behind a server someone else is running.
    monkeypatch.setenv("PUNKLAB_TRAINING_DIR", str(tmp_path / "slots"))


@pytest.fixture
def open_studio(open_page):
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import ROOT

    def _open(query: dict | None = None):
        if not query:
            return open_page(PAGE)
        app = AppTest.from_file(str(ROOT / PAGE), default_timeout=60)
        app.query_params.update(query)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    return _open


def texts(elements) -> str:
    return " ".join(element.value for element in elements)


def wait_for_result(app, seconds: float = 180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.5)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        if "What your network learned" in texts(app.header) or app.error:
            return app
    raise AssertionError("the run did not finish in time")


def test_opens_with_the_default_setup_in_the_url(open_studio):
    app = open_studio()
    assert dict(app.query_params) == Experiment().to_query()
    assert "37,357 parameters" in texts(app.markdown)
    assert app.button(key="studio_train").disabled is False
    assert not app.error and not app.warning


def test_a_shared_url_opens_the_same_setup(open_studio):
    app = open_studio({"model": "fnn", "layers": "2", "units": "24", "lr": "0.01", "seed": "7"})
    assert app.radio(key="studio_model").value == "fnn"
    assert app.number_input(key="studio_layers").value == 2
    assert app.number_input(key="studio_units").value == 24
    assert app.text_input(key="studio_lr").value == "0.01"
    assert app.number_input(key="studio_seed").value == 7
    assert "FNN 2x24 units" in texts(app.markdown)


def test_nonsense_url_gets_messages_and_working_settings(open_studio):
    app = open_studio({"lr": "1e9", "units": "-3", "zzz": "1", "epochs": "two"})
    warnings = texts(app.warning)
    assert "1,000,000,000" in warnings and "at least 1 unit" in warnings
    assert "not one the studio knows" in warnings and "not a usable value" in warnings
    assert dict(app.query_params) == Experiment().to_query()
    assert not app.error


@pytest.mark.parametrize(
    ("widget", "value", "words"),
    [
        ("units", 0, "at least 1 unit"),
        ("lr", "0", "never changes the weights"),
        ("lr", "1e9", "1,000,000,000"),
        ("lr", "fast", "must be a number"),
        ("batch", 9000, "between 1 and 1,024"),
        ("punks", 30, "larger than the 30 training punks"),
    ],
)
def test_bad_settings_get_words_and_the_last_good_settings_stay(open_studio, widget, value, words):
    app = open_studio()
    if widget == "lr":
        app.text_input(key="studio_lr").input(value).run()
    else:
        app.number_input(key=f"studio_{widget}").set_value(value).run()
    assert not app.exception
    message = texts(app.error)
    assert words in message and "Still using the last good settings" in message
    assert dict(app.query_params) == Experiment().to_query()


def test_a_preset_fills_the_settings_and_says_what_to_look_for(open_studio):
    app = open_studio()
    app.selectbox(key="studio_preset").set_value("No pooling").run()
    assert app.toggle(key="studio_pooling").value is False
    assert PRESETS["No pooling"].lesson in texts(app.info)
    assert app.query_params["pool"] == "0"
    assert "147,949 parameters" in texts(app.markdown)
    app.number_input(key="studio_seed").set_value(5).run()
    assert app.selectbox(key="studio_preset").value == "Custom"


def test_cnn_settings_survive_a_look_at_the_fnn(open_studio):
    app = open_studio()
    app.number_input(key="studio_filters").set_value(12).run()
    app.radio(key="studio_model").set_value("fnn").run()
    app.radio(key="studio_model").set_value("cnn").run()
    assert app.number_input(key="studio_filters").value == 12


def test_a_tiny_cnn_trains_end_to_end(open_studio):
    app = open_studio(TINY)
    app.button(key="studio_train").click().run()
    wait_for_result(app)
    assert "Trained 2 epochs" in texts(app.success), texts(app.error)
    comparison, layers = (frame.value for frame in app.dataframe[:2])
    assert list(comparison.index) == ["Your network", "Shipped CNN", "Shipped FNN"]
    assert comparison.loc["Shipped CNN", "type accuracy"] > 0.99
    assert 0 <= comparison.loc["Your network", "type accuracy"] <= 1
    assert list(layers["layer"]) == ["rgba", "scale", "conv1", "pool1", "flatten", "dense", "type"]
    charts = {chart.proto.id for chart in app.get("plotly_chart")}
    assert charts  # loss and accuracy curves, confusion matrix, filters
    link = [m.value for m in app.markdown if "Convolution_Lab?kernel=" in m.value]
    assert link and "Open filter #1 (R weights)" in link[0]
    assert "Network:" in texts(app.markdown) and "Truth:" in texts(app.markdown)


def test_the_builders_punk_can_be_tried_and_is_named_when_it_is_an_original(open_studio, punks):
    app = open_studio(TINY)
    app.button(key="studio_train").click().run()
    wait_for_result(app)
    app.session_state["builder_punk"] = np.array(punks.images[punks.row(1234)])
    app.run()
    app.radio(key="studio_try_source").set_value("The Punk Builder's punk").run()
    assert not app.exception, [e.value for e in app.exception]
    assert "CryptoPunk #1234" in texts(app.caption)
    assert "Network:" in texts(app.markdown)


def test_stop_keeps_what_was_learned(open_studio):
    app = open_studio(TINY | {"punks": "4000", "batch": "10", "epochs": "20"})
    app.button(key="studio_train").click().run()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.3)
        app.run()
        if "Epoch" in str([p.proto for p in app.get("progress")]):
            break
    app.button(key="studio_stop").click().run()
    wait_for_result(app)
    assert "keeps what it learned" in texts(app.info)


def test_convolution_lab_opens_a_kernel_from_a_link(open_page):
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import ROOT

    app = AppTest.from_file(str(ROOT / "pages/5_Convolution_Lab.py"), default_timeout=60)
    app.query_params["kernel"] = "0.5,-1,0,1e-1,0,0,0,0,-0.25"
    app.run()
    assert not app.exception
    expected = np.array([[0.5, -1, 0], [0.1, 0, 0], [0, 0, -0.25]])
    assert np.array_equal(app.session_state["conv_good_kernel"], expected)
    preset = next(box for box in app.selectbox if str(box.key).startswith("conv_preset_"))
    assert preset.value == "Custom"
    app.query_params["kernel"] = "1,2,3"
    app.run()
    assert "kernel in the link cannot be used" in texts(app.warning)


def test_a_learner_waiting_for_a_slot_sees_their_place(open_studio, tmp_path):
    import contextlib

    from punks_core.studio_record import Run
    from punks_core.studio_runs import TrainingSlots

    app = open_studio(TINY)
    slots = TrainingSlots(limit=2, folder=tmp_path / "slots")
    with contextlib.ExitStack() as others:  # two other learners' runs hold both slots
        for _ in range(2):
            assert others.enter_context(slots.turn(Run(Experiment())))
        app.button(key="studio_train").click().run()
        deadline = time.monotonic() + 30
        while "in the queue" not in texts(app.info) and time.monotonic() < deadline:
            time.sleep(0.3)
            app.run()
        assert "you are number 1 in the queue" in texts(app.info)
    wait_for_result(app)
    assert "Trained 2 epochs" in texts(app.success)


def test_an_accessory_run_shows_precision_and_recall_and_runs_compare(open_studio):
    app = open_studio(TINY | {"task": "accessory", "accessory": "Earring", "model": "fnn"})
    app.button(key="studio_train").click().run()
    wait_for_result(app)
    comparison = app.dataframe[0].value
    assert {"precision", "recall", "F1"} <= set(comparison.columns)
    assert "Always answering 'no Earring' would score" in texts(app.caption)
    per_label = app.dataframe[1].value
    assert list(per_label["label"]) == ["Earring"]
    app.radio(key="studio_model").set_value("cnn").run()
    app.button(key="studio_train").click().run()
    wait_for_result(app)
    assert "Your runs" in texts(app.header)
    history = app.dataframe[-1].value
    assert [name.split()[1] for name in history.index] == ["FNN", "CNN"]


def test_the_pixels_task_is_offered_only_where_the_layers_load(open_studio, punks):
    from punks_core.studio_setup import TASKS

    try:
        available = punks.visible_labels is not None
    except Exception:  # noqa: BLE001 - no layers, no task
        available = False
    options = open_studio().selectbox(key="studio_task").options
    assert (TASKS["visible"] in options) == available
    assert TASKS["type"] in options and TASKS["accessory"] in options
