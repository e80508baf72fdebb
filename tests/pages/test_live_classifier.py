import io

import numpy as np
import pytest
import streamlit as st
from PIL import Image

from punks_core import reports
from punks_core.imaging import composite, zoom

PAGE = "pages/3_Live_Classifier.py"


def png_of(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(app, name: str, data: bytes, mime: str = "image/png"):
    app.radio(key="classifier_source").set_value("Upload an image").run()
    app.get("file_uploader")[0].set_value((name, data, mime)).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def subheaders(app) -> list[str]:
    return [s.value for s in app.subheader]


def test_random_test_punk_gets_a_prediction_truth_and_saliency(open_page):
    app = open_page(PAGE)
    assert any(s.startswith("Model: ") for s in subheaders(app))
    assert any(s.startswith("Truth: ") for s in subheaders(app))
    assert app.session_state["classifier_random"] in range(9000, 10_000)
    assert any("Each pixel in turn is erased" in c.value for c in app.caption)
    assert not app.get("plotly_chart")  # the evidence map is a picture: no Plotly to load


def test_punk_by_id_is_classified_right(open_page, punks):
    app = open_page(PAGE)
    app.radio(key="classifier_source").set_value("Punk by id").run()
    app.number_input(key="classifier_id").set_value(9001).run()
    assert f"Model: {punks.types[9001]}" in subheaders(app)
    assert f"Truth: {punks.types[9001]}" in subheaders(app)
    assert any("right on everything the pixels show" in m.value for m in app.markdown)


def test_upscaled_upload_is_recognised_as_the_known_punk(open_page, punks):
    app = upload(
        open_page(PAGE), "punk.png", png_of(zoom(composite(punks.images[9002:9003])[0], 10))
    )
    assert "CryptoPunk #9002" in [c.value for c in app.caption]
    assert f"Truth: {punks.types[9002]}" in subheaders(app)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"this is not an image", "not an image"),
        (b"", "empty"),
        (
            png_of((np.random.default_rng(0).random((240, 240, 3)) * 255).astype(np.uint8)),
            "CryptoPunk",
        ),
    ],
)
def test_bad_uploads_get_a_message_not_a_traceback(open_page, data, message):
    app = upload(open_page(PAGE), "upload.png", data)
    assert app.error and message.lower() in app.error[0].value.lower()


def test_fnn_model_can_be_chosen(open_page):
    app = open_page(PAGE)
    app.radio(key="classifier_model").set_value("FNN (Flatten + Dense)").run()
    assert not app.exception
    assert any(s.startswith("Model: ") for s in subheaders(app))


def test_missing_model_says_how_to_rebuild_it(open_page, monkeypatch, tmp_path):
    st.cache_resource.clear()
    monkeypatch.setattr(reports, "MODELS_DIR", tmp_path)
    try:
        app = open_page(PAGE)
        assert "python -m punks_core train-classifier" in app.error[0].value
    finally:
        st.cache_resource.clear()


def test_one_neuron_learns_the_line(open_page):
    app = open_page(PAGE)
    app.button(key="classifier_neuron").click().run()
    assert not app.exception
    learned = {
        m.label: float(m.value) for m in app.metric if m.label.startswith(("learned", "pred"))
    }
    assert abs(learned["learned w (true 2)"] - 2) < 0.01
    assert abs(learned["learned b (true −1)"] + 1) < 0.01
    assert abs(learned["prediction at x = 10 (true 19)"] - 19) < 0.1


def test_the_explanation_defaults_to_an_accessory_and_is_never_blank(open_page):

    app = open_page(PAGE)
    app.radio(key="classifier_source").set_value("Punk by id").run()
    app.number_input(key="classifier_id").set_value(9005).run()
    label = app.selectbox(key="classifier_saliency_label").value
    assert label in ("Clown Hair Green", "Classic Shades")  # a predicted accessory, not "Male"
    for choice in (label, "Male"):  # the type too, which the model is sure of
        app.selectbox(key="classifier_saliency_label").set_value(choice).run()
        note = next(c.value for c in app.caption if "The strongest pixel" in c.value)
        worth = float(note.rsplit("is worth ", 1)[1].rstrip("."))
        assert worth >= 0.5, choice  # a pixel that moves the odds threefold, not micro-units


def test_the_evidence_scale_is_symmetric_and_reads_plainly():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from ui.live_classifier import MIN_EVIDENCE_SCALE, evidence_figure

    faint = np.zeros((24, 24))
    faint[10, 10] = 3e-6  # a model sure of its answer: erasing one pixel barely moves it
    strong = faint.copy()
    strong[5, 5], strong[6, 6] = 1.7, -0.4
    for evidence, limit in ((faint, MIN_EVIDENCE_SCALE), (strong, 1.7)):
        figure = evidence_figure(evidence, "Male")
        FigureCanvasAgg(figure).draw()
        heat, bar = figure.axes
        assert heat.images[0].get_clim() == (-limit, limit)  # 0 is white, the middle
        ticks = [t.get_text() for t in bar.get_yticklabels()]
        assert ticks and not any(c in "".join(ticks) for c in "μfpnke")  # no 1e-06, no SI
        assert "10^x" in bar.get_ylabel() and "Male" in heat.get_title()


def test_the_model_card_draws_only_its_open_tab(open_page):
    app = open_page(PAGE)
    card = [c for c in app.get("plotly_chart") if "classifier_curves" in str(c.proto.id)]
    assert not card  # "Layers" is open: the curves' chart is not drawn
    layer_tables = [t.value for t in app.table if "layer" in t.value.columns]
    assert "palette_embedding" in layer_tables[0]["layer"].tolist()
    app.session_state["classifier_card"] = "Test metrics"
    app.run()
    labels = [m.label for m in app.metric]
    assert "Exact match, what the pixels show" in labels and "Exact match, all labels" in labels
    report = reports.load_report("cnn")
    shown = next(m.value for m in app.metric if m.label == "Exact match, what the pixels show")
    assert shown == f"{report['test']['exact_match']:.2%}"
    app.session_state["classifier_card"] = "Training curves"
    app.run()
    assert any("classifier_curves" in str(c.proto.id) for c in app.get("plotly_chart"))
