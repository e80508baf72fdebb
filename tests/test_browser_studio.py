"""The Training Studio in a real browser: train a tiny CNN end to end and read its curves.

Set PUNKLAB_SCREENSHOTS=1 to save `docs/screenshots/8_Training_Studio.png` (the whole page after
training).
"""

import os
from pathlib import Path

import pytest

from tests.browser import ROOT, chromium, page_url, streamlit_server, wait_until_idle

pytestmark = pytest.mark.browser
EXCEPTION = '[data-testid="stException"]'
TINY = "?task=type&model=cnn&filters=4&units=16&punks=2000&batch=50&epochs=2&seed=0"
SLOW_MS = 180_000  # TensorFlow starts in the server on the first run: seconds on a busy machine
# The plotted values of the live charts: [loss, accuracy], each {train: [...], validation: [...]}.
CURVES_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].slice(0, 2).map(
    plot => Object.fromEntries(plot.data.map(trace => [trace.name, Array.from(trace.y)])))"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    os.environ["PUNKLAB_TRAINING_DIR"] = str(tmp_path_factory.mktemp("slots"))
    try:
        with streamlit_server() as url:
            yield url
    finally:
        os.environ.pop("PUNKLAB_TRAINING_DIR", None)


def test_a_tiny_cnn_trains_live_and_shows_what_it_learned(app_url):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_url(app_url, "8_Training_Studio.py") + TINY)
        wait_until_idle(page)
        assert "filters=4" in page.url and "epochs=2" in page.url
        assert page.get_by_text("CNN 1x4 3x3 filters").count() == 1

        page.get_by_role("button", name="Train").click()
        page.wait_for_selector("text=What your network learned", timeout=SLOW_MS)
        wait_until_idle(page, SLOW_MS)
        assert page.locator(EXCEPTION).count() == 0 and not errors, errors
        assert page.get_by_text("Trained 2 epochs").count() == 1

        loss, accuracy = page.evaluate(CURVES_JS)
        assert set(accuracy) == {"train", "validation"}
        validation = accuracy["validation"]
        assert len(validation) >= 10  # a point every few batches, not one per epoch
        assert validation[0] < 0.7 < 0.95 < validation[-1]  # from guessing to knowing types
        assert loss["validation"][-1] < loss["validation"][0] / 5
        for name in (
            "Confusion matrix (validation punks)", "Layers and parameters",
            "The first layer's filters", "Try it", "Truth:",
        ):  # fmt: skip
            assert page.get_by_text(name).count() >= 1, name

        if os.environ.get("PUNKLAB_SCREENSHOTS"):
            full = page.evaluate(
                "Math.max(...[...document.querySelectorAll('[data-testid=stMain] *')]"
                ".map(e => e.getBoundingClientRect().bottom))"
            )
            page.set_viewport_size({"width": 1400, "height": min(int(full) + 60, 8000)})
            page.wait_for_timeout(2000)
            page.screenshot(path=Path(ROOT, "docs", "screenshots", "8_Training_Studio.png"))

        # The first learned filter opens in the Convolution Lab.
        link = page.get_by_role("link", name="Open filter #1 (R weights) in the Convolution Lab")
        href = link.get_attribute("href")
        assert "Convolution_Lab?kernel=" in href
        page.goto(href if href.startswith("http") else app_url + "/" + href.lstrip("/"))
        wait_until_idle(page, SLOW_MS)
        assert page.locator(EXCEPTION).count() == 0
        assert page.get_by_text("cannot be used").count() == 0
        page.close()
