import base64

import numpy as np
import pytest
import streamlit as st

from tests.test_opensea import KEY, FakeOpenSea

PAGE = "pages/1_Dataset_Explorer.py"


def test_default_view_shows_all_punks_in_pages(open_page):
    app = open_page(PAGE)
    assert "**10,000** of 10,000 punks match · 40 page(s)" in app.caption[0].value
    assert app.selectbox(key="explorer_detail").value == 0
    assert "CryptoPunk #0: Female" in app.subheader[0].value


def test_filters_narrow_the_grid_and_the_export(open_page):
    app = open_page(PAGE)
    app.multiselect(key="explorer_types").set_value(["Ape"]).run()
    assert not app.exception
    assert "**24** of 10,000" in app.caption[0].value
    app.multiselect(key="explorer_any_of").set_value(["Cap Forward", "Beanie"]).run()
    app.slider(key="explorer_count").set_value((1, 1)).run()
    assert not app.exception
    matches = app.session_state["explorer_types"]
    assert matches == ["Ape"]


def test_no_match_says_so_instead_of_failing(open_page):
    app = open_page(PAGE)
    app.multiselect(key="explorer_all_of").set_value(["Beanie", "Cap"]).run()
    assert not app.exception
    assert "No punk matches" in app.info[0].value


def test_rarest_first_puts_rank_one_on_top(open_page):
    app = open_page(PAGE)
    app.selectbox(key="explorer_sort").set_value("Rarest first").run()
    assert not app.exception
    assert app.selectbox(key="explorer_detail").value == 8348


def test_detail_view_of_a_chosen_punk(open_page):
    app = open_page(PAGE)
    app.number_input(key="explorer_goto").set_value(7804).run()
    assert not app.exception
    assert "CryptoPunk #7804: Alien" in app.subheader[0].value
    assert any("Rarity rank" in m.value for m in app.markdown)


def test_out_of_range_id_is_refused_by_the_widget(open_page):
    app = open_page(PAGE)
    app.number_input(key="explorer_goto").set_value(10_000).run()
    assert not app.exception
    assert "CryptoPunk #0:" in app.subheader[0].value


def test_live_opensea_without_a_key_says_how_to_add_one(open_page, monkeypatch):
    monkeypatch.delenv("OPENSEA_API_KEY", raising=False)
    app = open_page(PAGE)
    app.toggle(key="explorer_opensea").set_value(True).run()
    assert not app.exception
    assert any("OPENSEA_API_KEY" in c.value for c in app.caption)


@pytest.fixture
def opensea(punks, monkeypatch):
    """The local OpenSea stand-in, with the app pointed at it."""
    server = FakeOpenSea(punks)
    monkeypatch.setenv("OPENSEA_BASE_URL", server.url)
    st.cache_data.clear()
    yield server
    server.close()
    st.cache_data.clear()


def open_detail(open_page, punk_id: int):
    app = open_page(PAGE)
    app.number_input(key="explorer_goto").set_value(punk_id).run()
    app.toggle(key="explorer_opensea").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_live_opensea_data_with_a_key(open_page, opensea, monkeypatch):
    monkeypatch.setenv("OPENSEA_API_KEY", KEY)
    app = open_detail(open_page, 67)
    text = " ".join(m.value for m in app.markdown)
    assert "CryptoPunk #67" in text and "0xb88f" in text
    assert KEY not in text + " ".join(c.value for c in app.caption)


def test_a_rejected_key_is_a_message_not_a_traceback(open_page, opensea, monkeypatch):
    monkeypatch.setenv("OPENSEA_API_KEY", "wrong-key")
    app = open_detail(open_page, 67)
    assert "rejected the API key" in app.warning[0].value


def test_choosing_a_punk_after_typing_an_id_shows_the_chosen_one(open_page):
    app = open_page(PAGE)
    app.number_input(key="explorer_goto").set_value(2).run()
    assert "CryptoPunk #2:" in app.subheader[0].value
    app.selectbox(key="explorer_detail").set_value(7).run()
    assert not app.exception
    assert "CryptoPunk #7:" in app.subheader[0].value
    assert app.number_input(key="explorer_goto").value is None


def test_zoom_keeps_pixels_exact_and_pages_rather_than_shrinks(open_page):
    app = open_page(PAGE)
    app.slider(key="explorer_zoom").set_value(4).run()
    grid = next(h.value for h in app.get("html") if "punk-grid" in h.value)
    assert 'data-scale="4"' in grid and "image-rendering: pixelated" in grid
    assert "max-width: none" in grid  # never scaled down to the column
    assert any("9 a row" in c.value for c in app.caption)  # 940 // (25 * 4)


def test_the_cooccurrence_heatmap_labels_all_87_and_leaves_out_the_diagonal(open_page):
    import json

    app = open_page(PAGE)
    assert not app.get("plotly_chart")  # a hidden tab is not drawn
    app.session_state["explorer_view"] = "Accessory co-occurrence"
    app.run()
    chart = next(c for c in app.get("plotly_chart") if "explorer_heatmap" in str(c.proto.id))
    figure = json.loads(chart.proto.spec)
    assert len(figure["layout"]["xaxis"]["tickvals"]) == 87
    assert len(figure["layout"]["yaxis"]["tickvals"]) == 87
    z = figure["data"][0]["z"]  # plotly's base64 typed array
    shape = [int(n) for n in str(z["shape"]).split(",")]
    values = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    assert np.isnan(np.diag(values)).all()  # the diagonal is blank: the scale is the pairs'
