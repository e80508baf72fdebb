"""AppTest of the Convolution Lab: kernel edits (good and bad), presets, stride, padding, clicks,
uploads, worked examples, and the learned filters section, which alone may load TensorFlow."""

import io
import json
import subprocess
import sys
import types

import numpy as np
import pytest
import streamlit as st
from PIL import Image

from punks_core.errors import PunksError
from punks_core.filter_arithmetic import WORKED_EXAMPLES
from punks_core.kernels import PRESETS

from .conftest import ROOT

PAGE = "pages/5_Convolution_Lab.py"
FIRST = PRESETS["Horizontal lines (Keras intro)"]


def preset_box(app):
    """The preset selectbox: keyed by the preset it shows ("conv_preset_<index>")."""
    return next(box for box in app.selectbox if str(box.key).startswith("conv_preset_"))


def cell_box(app, row: int, col: int):
    """The text box of kernel cell (row, col), counted from 0."""
    return app.text_input(key=f"conv_cell_{app.session_state['conv_editor_version']}_{row}{col}")


def edit(app, cells: dict[tuple[int, int], object]) -> None:
    """Type into the kernel's text boxes (None: clear the box), then run the page once."""
    for (row, col), value in cells.items():
        text = "" if value is None else value if isinstance(value, str) else f"{value:g}"
        cell_box(app, row, col).set_value(text)
    app.run()


def panels(app) -> dict[str, dict]:
    """The pixel panels on the page, by key: what each was sent (title, tiles and values)."""
    return {str(panel.key): json.loads(panel.proto.json) for panel in app.get("bidi_component")}


def good_kernel(app) -> np.ndarray:
    return np.asarray(app.session_state["conv_good_kernel"])


def editor_kernel(app) -> np.ndarray:
    """The editor's cells, which are text (as typed), read as numbers."""
    return np.array([[float(cell_box(app, r, c).value) for c in range(3)] for r in range(3)])


def sum_line(app) -> str:
    return next(m.value for m in app.markdown if m.value.startswith("**Sum**"))


def test_default_run_draws_input_output_relu_and_the_arithmetic(open_page):
    app = open_page(PAGE)
    assert not app.error
    np.testing.assert_array_equal(good_kernel(app), FIRST)
    np.testing.assert_array_equal(editor_kernel(app), FIRST)
    assert cell_box(app, 0, 0).value == "1"  # shown as a person writes it, not 1.0
    assert preset_box(app).value == "Horizontal lines (Keras intro)"
    assert "n_out = ⌊(24 + 2·1 − 3) / 1⌋ + 1 = 24 = ⌈24 / 1⌉" in app.text[0].value
    assert (app.number_input(key="conv_row").value, app.number_input(key="conv_col").value) == (
        12,
        12,
    )
    assert sum_line(app).startswith("**Sum** = (")


def test_editing_a_cell_changes_the_kernel(open_page):
    app = open_page(PAGE)
    edit(app, {(1, 1): 4.0})
    assert not app.exception and not app.error
    expected = FIRST.copy()
    expected[1, 1] = 4.0
    np.testing.assert_array_equal(good_kernel(app), expected)
    assert "× 4)" in sum_line(app)


@pytest.mark.parametrize(("bad", "shown"), [(101.0, "101"), (-101.0, "-101"), (None, "empty")])
def test_a_bad_cell_shows_an_error_and_keeps_the_last_good_kernel(open_page, bad, shown):
    app = open_page(PAGE)
    edit(app, {(0, 0): 2.0})
    last_good = good_kernel(app).copy()
    edit(app, {(0, 0): 2.0, (2, 1): bad})
    assert not app.exception
    assert len(app.error) == 1
    message = app.error[0].value
    assert "row 3, column 2" in message and shown in message and "last good kernel" in message
    np.testing.assert_array_equal(good_kernel(app), last_good)
    assert "(1 × 2)" in sum_line(app) or "× 2)" in sum_line(app)  # the good kernel still drives it
    assert set(panels(app)) == {"conv_input_chart", "conv_output_chart", "conv_relu_chart"}
    edit(app, {(0, 0): 2.0, (2, 1): 0.5})  # fixing the cell clears the error
    assert not app.error and good_kernel(app)[2, 1] == 0.5


def test_text_in_a_cell_is_refused_too(open_page):
    app = open_page(PAGE)
    edit(app, {(0, 2): "abc"})
    assert not app.exception
    assert "row 1, column 3" in app.error[0].value and "'abc'" in app.error[0].value
    assert "NaN" not in app.error[0].value and "None" not in app.error[0].value
    np.testing.assert_array_equal(good_kernel(app), FIRST)


def test_a_preset_replaces_the_kernel_and_the_editor(open_page):
    app = open_page(PAGE)
    edit(app, {(0, 0): 9.0})
    preset_box(app).set_value("Sobel x").run()
    assert not app.exception and not app.error
    np.testing.assert_array_equal(good_kernel(app), PRESETS["Sobel x"])
    np.testing.assert_array_equal(editor_kernel(app), PRESETS["Sobel x"])
    assert preset_box(app).value == "Sobel x"
    edit(app, {(1, 1): 1.0})  # edits now apply on top of the preset, not the old kernel
    assert good_kernel(app)[0, 0] == -1 and good_kernel(app)[1, 1] == 1


def test_normalise_divides_by_the_sum(open_page):
    app = open_page(PAGE)
    preset_box(app).set_value("Emboss").run()
    app.button(key="conv_normalise").click().run()
    assert not app.exception
    np.testing.assert_allclose(good_kernel(app), PRESETS["Emboss"])  # sums to 1 already
    preset_box(app).set_value("Sobel y").run()
    app.button(key="conv_normalise").click().run()
    np.testing.assert_allclose(good_kernel(app), PRESETS["Sobel y"] / 8)
    assert preset_box(app).value == "Custom"  # no preset is Sobel y / 8


@pytest.mark.parametrize(
    ("typed", "value"), [("1/9", 1 / 9), ("-0.5", -0.5), (".25", 0.25), ("1e-1", 0.1)]
)
def test_a_cell_takes_what_a_person_types(open_page, typed, value):
    app = open_page(PAGE)
    edit(app, {(0, 0): typed})
    assert not app.exception and not app.error
    assert good_kernel(app)[0, 0] == pytest.approx(value)
    assert preset_box(app).value == "Custom"


def test_the_preset_box_names_the_kernel_and_stays_put(open_page):
    app = open_page(PAGE)
    edit(app, {(1, 1): "3"})
    assert preset_box(app).value == "Custom"
    edit(app, {(1, 1): "0"})  # back to the preset's own weights
    assert preset_box(app).value == "Horizontal lines (Keras intro)"
    preset_box(app).set_value("Sharpen").run()
    app.radio(key="conv_source").set_value("Upload").run()  # the page stops: no upload yet
    app.radio(key="conv_source").set_value("Punk").run()
    assert preset_box(app).value == "Sharpen"
    np.testing.assert_array_equal(good_kernel(app), PRESETS["Sharpen"])


@pytest.mark.parametrize(
    ("stride", "padding", "expected", "size"),
    [
        (2, "same", "n_out = ⌊(24 + 0 + 1 − 3) / 2⌋ + 1 = 12 = ⌈24 / 2⌉", 12),
        (3, "valid", "n_out = ⌊(24 + 2·0 − 3) / 3⌋ + 1 = 8", 8),
        (1, "valid", "n_out = ⌊(24 + 2·0 − 3) / 1⌋ + 1 = 22", 22),
    ],
)
def test_stride_and_padding_change_the_output_size(open_page, stride, padding, expected, size):
    app = open_page(PAGE)
    app.radio(key="conv_stride").set_value(stride).run()
    app.radio(key="conv_padding").set_value(padding).run()
    assert not app.exception
    assert expected in app.text[0].value
    row = app.number_input(key="conv_row")
    assert row.max == size - 1 and row.value <= size - 1
    output = panels(app)["conv_output_chart"]
    assert output["title"] == f"Output {size}x{size}"
    assert (output["rows"], output["cols"]) == (size, size)
    assert len(output["tiles"][0]["values"]) == size * size


def test_clicking_the_output_picks_the_pixel(open_page):
    app = open_page(PAGE)
    app.session_state["conv_output_chart"] = {"picked": {"row": 7, "col": 5}}
    app.run()
    assert not app.exception
    assert app.number_input(key="conv_row").value == 7
    assert app.number_input(key="conv_col").value == 5
    app.number_input(key="conv_col").set_value(9).run()  # the pickers stay free after a click
    assert app.number_input(key="conv_col").value == 9


def test_worked_examples_show_2_8_and_0_3(open_page):
    app = open_page(PAGE)
    source = app.radio(key="conv_arithmetic_source")
    for key, example in WORKED_EXAMPLES.items():
        source.set_value(example.title).run()
        assert not app.exception
        assert sum_line(app).endswith(f"= {key}")
        assert rf"\Sigma = {key}" in app.latex[0].value
        assert any(example.note == caption.value for caption in app.caption)
    assert "−0.1" in WORKED_EXAMPLES["0.3"].note


def test_colour_channels_and_a_second_layer(open_page):
    app = open_page(PAGE)
    app.radio(key="conv_channels").set_value("Colour (R, G, B)").run()
    app.selectbox(key="conv_channel").set_value("G").run()
    app.selectbox(key="conv_second").set_value("Box blur").run()
    assert not app.exception and not app.error
    shown = panels(app)
    assert [tile["title"] for tile in shown["conv_output_chart"]["tiles"]] == [
        "Red channel",
        "Green channel",
        "Blue channel",
    ]
    assert shown["conv_second_chart"]["title"] == "Second layer output"
    app.toggle(key="conv_relu_between").set_value(False).run()
    assert not app.exception


def test_random_punk_and_upload(open_page):
    app = open_page(PAGE)
    app.button(key="conv_random").click().run()
    assert not app.exception
    app.radio(key="conv_source").set_value("Upload").run()
    assert "Upload a picture" in app.info[0].value
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 30, 3), np.uint8)).save(
        buffer, format="PNG"
    )
    app.file_uploader(key="conv_upload").upload("noise.png", buffer.getvalue(), "image/png").run()
    assert not app.exception and not app.error
    assert "(40 + 2·1 − 3)" in app.text[0].value and "(30 + 2·1 − 3)" in app.text[0].value


def test_an_unreadable_upload_is_an_error_not_a_traceback(open_page):
    app = open_page(PAGE)
    app.radio(key="conv_source").set_value("Upload").run()
    app.file_uploader(key="conv_upload").upload("x.png", b"not an image", "image/png").run()
    assert not app.exception
    assert "cannot be used" in app.error[0].value


def fake_classifier_module(monkeypatch, load):
    module = types.ModuleType("punks_core.classifier")
    module.load_classifier = lambda **options: load()  # the app passes kind="cnn"
    monkeypatch.setitem(sys.modules, "punks_core.classifier", module)


def test_learned_filters_without_a_model_say_how_to_build_one(open_page, monkeypatch):
    def missing():
        raise PunksError("the classifier model assets/models/classifier.keras is missing.")

    fake_classifier_module(monkeypatch, missing)
    app = open_page(PAGE)
    app.toggle(key="conv_learned").set_value(True).run()
    assert not app.exception
    assert "python -m punks_core train-classifier" in app.info[0].value


def test_learned_filters_and_their_maps(open_page, monkeypatch):
    class FakeClassifier:
        def first_layer_filters(self):
            return np.random.default_rng(0).normal(size=(3, 3, 4, 8))

        def first_layer_activations(self, image):
            assert image.shape == (24, 24, 4) and image.dtype == np.uint8
            return np.random.default_rng(1).normal(size=(24, 24, 8))

    st.cache_resource.clear()
    fake_classifier_module(monkeypatch, FakeClassifier)
    try:
        app = open_page(PAGE)
        app.toggle(key="conv_learned").set_value(True).run()
        assert not app.exception and not app.info
        keys = [chart.key for chart in app.get("plotly_chart")]
        assert {"conv_learned_filters", "conv_learned_maps"} <= set(keys)
        app.selectbox(key="conv_learned_channel").set_value("A").run()
        assert not app.exception
    finally:
        st.cache_resource.clear()  # no other test may meet the fake model


NO_TENSORFLOW = """
import sys
from streamlit.testing.v1 import AppTest
app = AppTest.from_file({path!r}, default_timeout=60)
app.run()
next(b for b in app.selectbox if str(b.key).startswith("conv_preset_")).set_value("Sobel x").run()
app.radio(key="conv_stride").set_value(2).run()
app.radio(key="conv_channels").set_value("Colour (R, G, B)").run()
app.selectbox(key="conv_second").set_value("Sharpen").run()
assert not app.exception, [e.value for e in app.exception]
print("tensorflow" in sys.modules, "keras" in sys.modules)
"""


def test_the_page_never_imports_tensorflow_unless_asked():
    result = subprocess.run(
        [sys.executable, "-c", NO_TENSORFLOW.format(path=str(ROOT / PAGE))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["False", "False"]


def test_learned_filters_of_the_shipped_classifier(open_page):
    """The real model, not a stand-in: its 3x3 first layer beside the hand-made filters."""
    st.cache_resource.clear()
    app = open_page(PAGE)
    app.toggle(key="conv_learned").set_value(True).run()
    assert not app.exception and not app.error
    keys = {chart.proto.id for chart in app.get("plotly_chart")}
    assert any("conv_learned_filters" in key for key in keys)
    assert any("conv_learned_maps" in key for key in keys)
