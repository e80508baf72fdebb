"""AppTest of the Punk Builder: paint from layers, hidden labels flagged, heads respected, a real
punk's layers loaded, one layer off at a time, and the hand-over to the Convolution Lab."""

import numpy as np

from punks_core.layers import load_layers

PAGE = "pages/7_Punk_Builder.py"


def table_with(app, column: str):
    """The page's dataframe that has `column` (AppTest finds dataframes by position only)."""
    return next(frame.value for frame in app.dataframe if column in frame.value.columns)


def texts(app) -> str:
    return " ".join([m.value for m in app.markdown] + [c.value for c in app.caption])


def test_first_punk_shows_an_earring_hidden_under_the_hoodie(open_page):
    app = open_page(PAGE)
    verdicts = table_with(app, "on the punk")
    earring = verdicts.set_index("accessory").loc["Earring", "on the punk"]
    assert "hidden under Hoodie" in earring
    assert "The CNN reads a Male" in texts(app)
    one_off = table_with(app, "without")
    assert list(one_off["without"]) == ["Earring", "Hoodie", "Cigarette"]


def test_a_new_head_drops_what_it_cannot_wear_and_says_so(open_page):
    app = open_page(PAGE)
    app.multiselect(key="builder_accessories").set_value(["Big Beard", "Cap"]).run()
    app.selectbox(key="builder_base").set_value("Female 1").run()
    assert not app.exception
    assert app.multiselect(key="builder_accessories").value == ["Cap"]
    assert "Taken off: Big Beard" in texts(app)


def test_loading_a_real_punk_paints_it_pixel_exact(open_page, punks):
    app = open_page(PAGE)
    app.number_input(key="builder_from_id").set_value(2140).run()
    app.button(key="builder_load").click().run()
    base = app.session_state["builder_base"]
    worn = app.session_state["builder_accessories"]
    assert base == punks.bases[2140]
    assert np.array_equal(load_layers().render(base, worn), punks.images[punks.row(2140)])


def test_random_new_punk_is_always_paintable(open_page):
    app = open_page(PAGE)
    for _ in range(5):
        app.button(key="builder_random").click().run()
        assert not app.exception
        assert not app.error


def test_the_convolution_lab_takes_the_built_punk(open_page):
    from streamlit.testing.v1 import AppTest

    from .conftest import ROOT

    app = AppTest.from_file(str(ROOT / "pages/5_Convolution_Lab.py"), default_timeout=60)
    built = load_layers().render("Ape", ["Cap", "Pipe"])
    app.session_state["builder_punk"] = built
    app.session_state["conv_from_builder"] = True
    app.run()
    assert not app.exception
    assert app.radio(key="conv_source").value == "Punk Builder"
