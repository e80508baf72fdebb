"""ui.pixel_panel's server side: colour bar labels and the pictures it paints."""

import numpy as np

from ui.pixel_panel import _diverging, _picture, _rounded, readable


def test_colour_bar_labels_are_plain_numbers_with_a_true_minus():
    assert readable(2.7912) == "2.79"
    assert readable(-2.7912) == "−2.79"
    assert readable(0) == "0"
    assert readable(0.00012) == "1.2e−04"  # no "120μ"


def test_diverging_colours_blue_white_red_around_zero():
    red, white, blue = _diverging(np.array([[2.0, 0.0, -2.0]]), limit=2.0)[0].astype(int)
    assert red[0] > 2 * max(red[1], red[2])
    assert blue[2] > 2 * max(blue[0], blue[1])
    assert white.min() > 240
    assert _diverging(np.array([[9.0]]), limit=2.0)[0, 0].tolist() == red.tolist()  # clipped


def test_pictures_are_clipped_to_0_1():
    grey = _picture(np.array([[-1.0, 0.5, 2.0]]))
    assert grey.shape == (1, 3, 3) and grey[0, :, 0].tolist() == [0, 128, 255]
    assert _picture(np.full((2, 2, 3), 0.25)).max() == 64


def test_big_colour_pictures_send_no_readout_numbers():
    assert len(_rounded(np.zeros((256, 256)))) == 256 * 256  # a big gray output map: sent
    assert _rounded(np.zeros((256, 256, 3))) is None  # a big colour input picture: not
    assert _rounded(np.array([[0.123456]])) == [0.1235]
