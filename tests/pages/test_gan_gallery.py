"""AppTest of the GAN Gallery: the epoch slider, play/pause, types, live generation on request
with the classifier's verdicts, walks, and what a user sees when the snapshots or the
generator are missing or broken."""

import io

import pandas as pd
import pytest
import streamlit as st
from PIL import Image

from punks_core import gan, gan_snapshots
from punks_core.gan_snapshots import Snapshots
from punks_core.labels import TYPES

PAGE = "pages/4_GAN_Gallery.py"


@pytest.fixture(scope="module")
def shipped() -> Snapshots:
    return Snapshots()


@pytest.fixture
def fresh_caches():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def metric(app, label: str) -> str:
    return next(m.value for m in app.metric if m.label.startswith(label))


def test_opens_on_the_shipped_epoch_with_its_metrics(open_page, shipped):
    app = open_page(PAGE)
    best = shipped.run["best_epoch"]
    last = shipped.history.set_index("epoch").loc[best]
    assert app.slider(key="gan_epoch").value == best
    assert metric(app, "FID ratio") == f"{last['fid_ratio']:.2f}"
    assert metric(app, "Accessories found") == f"{last['accessories_found']:.0%}"
    assert metric(app, "Copies of training punks") == f"{last['copies']:.1%}"
    assert not app.get("plotly_chart")  # the curves are drawn only when opened
    grids = [h.value for h in app.get("html") if "<img" in h.value]
    assert len(grids) >= 3  # the epoch grid, the live samples, the walk
    for name in ("Alien", "Ape", "Zombie", "Female", "Male"):  # every row says its type
        assert f">{name}</div>" in grids[0]
    assert "all types" in next(m.label for m in app.metric if m.label.startswith("FID ratio"))
    # The shipped generator's prior was fitted again after training: the page says so, with
    # its own numbers, under the shipped epoch only.
    refit = shipped.shipped_refit
    said = " ".join(c.value for c in app.caption)
    assert refit and f"FID ratio {refit['fid_ratio']:.2f}" in said and "fitted again" in said
    # So does its recipe book, with the numbers `gan-recipes` measured.
    judged = shipped.recipe_book["judged"]
    assert f"recipe book of {shipped.recipe_book['recipes']:,}" in said
    assert f"FID ratio {judged['fid_ratio']:.2f}, copies {judged['copies']:.1%}" in said
    app.slider(key="gan_epoch").set_value(best - 1).run()
    assert "fitted again" not in " ".join(c.value for c in app.caption)


def test_one_type_shows_one_labelled_row_and_says_fid_is_all_types(open_page):
    app = open_page(PAGE)
    app.segmented_control(key="gan_type").set_value("Zombie").run()
    assert not app.exception
    grid = next(h.value for h in app.get("html") if "<img" in h.value)
    assert ">Zombie</div>" in grid and ">Male</div>" not in grid
    assert "all types" in next(m.label for m in app.metric if m.label.startswith("FID ratio"))


def test_the_timelapse_names_its_epoch_and_rows(shipped):
    frames = Image.open(io.BytesIO(shipped.timelapse_gif("Ape")))
    plain = shipped.grid(shipped.epochs[0])[[TYPES.index("Ape")]]
    # a label strip on the left and a title strip on top, beside the 4x grid of one row
    assert frames.width > plain.shape[1] * 25 * 4 and frames.height > 24 * 4
    assert frames.n_frames == len(shipped.epochs)


def test_the_slider_shows_an_earlier_epoch(open_page, shipped):
    app = open_page(PAGE)
    app.slider(key="gan_epoch").set_value(1).run()
    assert not app.exception
    assert metric(app, "FID ratio") == f"{shipped.history.iloc[0]['fid_ratio']:.2f}"


def test_play_advances_and_pause_stops(open_page, shipped):
    app = open_page(PAGE)
    app.slider(key="gan_epoch").set_value(3).run()
    app.button(key="gan_play").click().run()
    assert not app.exception
    assert app.session_state["gan_playing"] is True
    assert app.slider(key="gan_epoch").value == 4
    assert app.button(key="gan_play").label == "⏸ Pause"
    app.button(key="gan_play").click().run()
    assert app.session_state["gan_playing"] is False
    assert app.button(key="gan_play").label == "▶ Play"


def test_play_at_the_end_starts_again_from_the_first_epoch(open_page, shipped):
    app = open_page(PAGE)
    app.slider(key="gan_epoch").set_value(shipped.epochs[-1]).run()
    app.button(key="gan_play").click().run()
    assert app.slider(key="gan_epoch").value == shipped.epochs[0] + 1


def test_one_type_shows_its_agreement(open_page, shipped):
    app = open_page(PAGE)
    app.button_group(key="gan_type").set_value("Zombie").run()
    assert not app.exception
    expected = shipped.history.set_index("epoch").loc[shipped.run["best_epoch"]]["agree_zombie"]
    assert metric(app, "Type agreement") == f"{expected:.0%}"


def test_live_generation_walk_and_downloads(open_page):
    app = open_page(PAGE)
    app.selectbox(key="gan_live_type").set_value("Ape").run()
    app.number_input(key="gan_seed").set_value(123).run()
    app.slider(key="gan_steps").set_value(5).run()
    assert not app.exception and not app.error
    captions = [c.value for c in app.caption]
    assert any(c.startswith("Nearest real punks (pixel distance): #") for c in captions)
    assert len(app.get("download_button")) == 1  # the GIF is only prepared on request
    app.button(key="gan_gif").click().run()
    assert len(app.get("download_button")) == 2


def test_asking_for_accessories_shows_the_classifiers_verdict_on_each(open_page):
    app = open_page(PAGE)
    app.selectbox(key="gan_live_type").set_value("Female").run()
    wearing = app.multiselect(key="gan_live_accessories_Female")
    assert "Big Beard" not in wearing.options and "Tassle Hat" in wearing.options
    wearing.set_value(["Pipe", "Tassle Hat"]).run()
    app.slider(key="gan_count").set_value(4).run()
    assert not app.exception and not app.error
    verdicts = app.table[0].value
    assert list(verdicts.index) == ["Female", "Pipe", "Tassle Hat"]
    assert list(verdicts.columns) == ["#1", "#2", "#3", "#4"]
    assert verdicts.map(lambda cell: cell[0] in "✓✗" and cell.endswith("%")).all().all()
    assert any("Asked for a Female with Pipe, Tassle Hat" in c.value for c in app.caption)
    # Each punk's whole outfit, drawn from the recipe book, holds the request; the classifier's
    # reading of every punk stands beside it.
    outfits = app.table[1].value
    assert list(outfits.index) == ["#1", "#2", "#3", "#4"]
    drawn = outfits["drawn from the recipe book"].str.split(", ")
    assert drawn.map(lambda names: {"Pipe", "Tassle Hat"} <= set(names)).all()
    assert (outfits["painted as drawn"] == drawn.map(lambda n: f"{len(n)} of {len(n)}")).any()
    assert not outfits.map(lambda cell: "None" in cell or "nan" in cell).any().any()
    assert any("two steps" in c.value for c in app.caption)


@pytest.mark.parametrize(
    ("tab", "title"),
    [
        ("Type agreement", "Type agreement"),
        ("Punk FID", "Punk FID"),
        ("Accessories found", "Accessories asked for and found"),
        ("Losses", "Losses"),
    ],
)
def test_each_curve_tab_draws_its_chart_alone(open_page, tab, title):
    app = open_page(PAGE)
    assert not app.get("plotly_chart")  # the curves wait, closed, for a click
    app.session_state["gan_curves_box"] = True
    app.session_state["gan_curves"] = tab
    app.run()
    charts = app.get("plotly_chart")
    assert len(charts) == 1
    assert title in charts[0].proto.spec


def test_missing_snapshots_say_how_to_rebuild(open_page, tmp_path, monkeypatch, fresh_caches):
    monkeypatch.setattr(gan_snapshots, "GAN_DIR", tmp_path)
    app = open_page(PAGE)
    assert "python -m punks_core train-gan" in app.info[0].value
    assert not app.get("plotly_chart")


def test_broken_generator_keeps_the_gallery(open_page, tmp_path, monkeypatch, fresh_caches):
    (tmp_path / "generator.keras").write_bytes(b"broken")
    monkeypatch.setattr(gan, "GAN_DIR", tmp_path)
    app = open_page(PAGE)
    assert any("Live generation is unavailable" in i.value for i in app.info)
    assert "train-gan" in app.info[0].value
    assert app.slider(key="gan_epoch").value  # the training record is still shown
    assert any(e.label.startswith("Training curves") for e in app.expander)


def test_history_is_complete(shipped):
    assert isinstance(shipped.history, pd.DataFrame)
    assert shipped.epochs == list(range(1, len(shipped.epochs) + 1))
