"""Each page's main controls, used in a real browser as a person would use them.

Playwright drives Debian's chromium (headless) against `streamlit run app.py` on 127.0.0.1.
Every interaction waits for the script run to finish, then checks concrete text or values and
that no exception block or page error appeared. Widgets are found by their `st-key-<key>` class.

Skipped where chromium is not installed, except in CI (CI=true), where that is a failure.
Set PUNKLAB_SCREENSHOTS=1 to save `docs/screenshots/<page>_controls.png` after each page's
main interaction.
"""

import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from punks_core.filter_arithmetic import window_arithmetic
from punks_core.filters import PRESETS, convolve, to_grayscale
from punks_core.imaging import composite, grid, zoom
from tests.browser import (
    ROOT,
    chromium,
    page_url,
    streamlit_server,
    wait_until_idle,
)

pytestmark = pytest.mark.browser
SLOW_MS = 120_000  # TensorFlow starts and models load on first use, on a busy 2-core machine
EXPECT_MS = 60_000  # how long an `expect` polls for the text a rerun brings
EXCEPTION = '[data-testid="stException"]'
GAN_RUN = ROOT / "assets" / "gan" / "run.json"


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        from playwright.sync_api import expect as playwright_expect

        playwright_expect.set_options(timeout=EXPECT_MS)
        try:
            yield browser
        finally:
            playwright_expect.set_options(timeout=5_000)  # Playwright's default, for others


@pytest.fixture(scope="module")
def app_url():
    with streamlit_server() as url:
        yield url


@pytest.fixture
def open_page(browser, app_url):
    """Open a file of the app in a fresh tab; yields a function `(page_file) -> page`.

    At the end: no exception block on the page and no uncaught error in the browser.
    """
    opened = []

    def _open(page_file: str):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(SLOW_MS)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        opened.append((page, errors))
        page.goto(page_url(app_url, page_file))
        wait_until_idle(page, SLOW_MS)
        assert_clean(page, errors)
        return page

    yield _open
    try:
        for page, errors in opened:
            assert_clean(page, errors)
    finally:
        for page, _ in opened:
            page.close()


def assert_clean(page, errors) -> None:
    exceptions = page.locator(EXCEPTION)
    assert exceptions.count() == 0, exceptions.first.inner_text()
    assert not errors, errors


def settle(page) -> None:
    """Wait for the rerun an interaction started, then for the page to be idle again."""
    page.wait_for_timeout(300)  # the rerun request leaves the browser before the state changes
    wait_until_idle(page, SLOW_MS)
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()


def screenshot(page, page_file: str) -> None:
    if os.environ.get("PUNKLAB_SCREENSHOTS"):
        folder = Path(ROOT, "docs", "screenshots")
        folder.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(1500)  # canvas grids and charts paint after they mount
        page.screenshot(path=folder / f"{Path(page_file).stem}_controls.png", full_page=False)


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def key(page, widget_key: str):
    if widget_key == "conv_preset":  # keyed by the preset it shows: conv_preset_<index>
        return page.locator('[class*="st-key-conv_preset_"]')
    return page.locator(f".st-key-{widget_key}")


def metric(page, label: str):
    """The value of the `st.metric` whose label contains `label`."""
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return box.locator('[data-testid="stMetricValue"]')


def metric_value(page, label: str) -> str:
    return metric(page, label).inner_text().strip()


def pick_option(page, widget_key: str, option: str) -> None:
    """Choose `option` in a selectbox or multiselect as a person would: open it, type the
    start of the name (long menus draw only their first options), click."""
    key(page, widget_key).locator("input").click()
    page.keyboard.type(option[:4])
    page.get_by_role("option", name=option, exact=True).click()


def expect_grid_height(page, height: int) -> None:
    """Wait until the explorer's punk grid is a loaded picture `height` pixels high."""
    page.wait_for_function(
        """height => {
            const image = document.querySelector('[role="tabpanel"] .punk-grid img');
            return image && image.complete && image.naturalHeight === height;
        }""",
        arg=height,
    )


# 1. Dataset Explorer ---------------------------------------------------------------------------


def test_explorer_filter_and_detail(open_page, punks):
    page = open_page("1_Dataset_Explorer.py")
    caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="punks match")
    expect(caption).to_contain_text("10,000 of 10,000 punks match")
    # The grid is one picture, 18 punks a row at zoom 2: 250 punks are 14 rows, 9 aliens one.
    expect_grid_height(page, grid(punks.images[:250], 18, gap=1).shape[0])

    pick_option(page, "explorer_types", "Alien")
    page.keyboard.press("Escape")  # close the multiselect's menu
    settle(page)
    aliens = punks.types[punks.types == "Alien"].index
    expect(caption).to_contain_text(f"{len(aliens)} of 10,000 punks match · 1 page(s)")
    expect_grid_height(page, grid(punks.images[punks.row(aliens[0])][None], 25, gap=1).shape[0])
    detail = page.locator('[data-testid="stMain"] h3').filter(has_text="CryptoPunk #")
    expect(detail).to_have_text(f"CryptoPunk #{aliens[0]}: Alien")

    punk_id = 2
    goto = key(page, "explorer_goto").locator("input")
    goto.fill(str(punk_id))
    goto.press("Enter")
    settle(page)
    expect(detail).to_have_text(f"CryptoPunk #{punk_id}: {punks.types[punk_id]}")
    expect(page.get_by_text("Rarity rank")).to_be_visible()
    # Choosing a punk of the page after typing an id shows the chosen one.
    pick_option(page, "explorer_detail", f"#{aliens[1]}")
    settle(page)
    expect(detail).to_have_text(f"CryptoPunk #{aliens[1]}: Alien")
    screenshot(page, "1_Dataset_Explorer.py")


def test_explorer_zoom_is_exact(open_page):
    page = open_page("1_Dataset_Explorer.py")
    zoom_slider = key(page, "explorer_zoom").get_by_role("slider")
    zoom_slider.focus()
    for _ in range(2):  # 2x -> 4x
        page.keyboard.press("ArrowRight")
    settle(page)
    page.wait_for_function("() => document.querySelector('.punk-grid img')?.dataset.scale === '4'")
    image = page.locator(".punk-grid img")
    natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    box = image.bounding_box()
    # Every punk pixel is 4x4 CSS pixels: a 24-pixel punk is 96 wide, the grid never shrunk.
    assert box["width"] == natural[0] * 4 and box["height"] == natural[1] * 4
    assert natural[0] == 9 * 25 - 1  # 9 punks a row at 4x, one pixel between them
    assert image.evaluate("img => getComputedStyle(img).imageRendering") == "pixelated"


# 2. Class Balance ------------------------------------------------------------------------------


def test_balance_task_changes_baselines(open_page):
    page = open_page("2_Class_Balance.py")
    hamming = "Per-label (Hamming) accuracy"
    exact = "Exact match (all labels right)"
    expect(metric(page, "Majority-class accuracy (type)")).to_have_text("60.39%")
    type_only = metric_value(page, hamming), metric_value(page, exact)
    assert type_only != ("96.15%", "0.04%")

    key(page, "balance_task").get_by_text("Type + all 87 accessories (92 labels)").click()
    settle(page)
    expect(metric(page, hamming)).to_have_text("96.15%")
    expect(metric(page, exact)).to_have_text("0.04%")
    page.get_by_text("How the two scores are computed").click()  # drawn when opened
    settle(page)
    expect(page.get_by_text("L = 92 labels")).to_be_visible()
    expect(page.locator(".katex").first).to_be_visible()

    key(page, "balance_split").get_by_text("test", exact=True).click()
    settle(page)
    expect(metric(page, hamming)).to_have_text("95.91%")
    expect(page.get_by_text("N = 1,000 punks of the test split, L = 92 labels:")).to_be_visible()
    screenshot(page, "2_Class_Balance.py")


# 3. Live Classifier ----------------------------------------------------------------------------


def choose_upload(page) -> None:
    key(page, "classifier_source").get_by_text("Upload an image").click()
    settle(page)
    expect(page.get_by_text("Upload a punk image, or pick a test punk")).to_be_visible()


def test_classifier_upload_a_punk(open_page, punks, tmp_path):
    punk_id = 9005
    picture = zoom(composite(punks.images[punks.row(punk_id)][None], "#638596")[0], 10)
    path = tmp_path / "punk_9005.png"
    Image.fromarray(np.ascontiguousarray(picture)).save(path)

    page = open_page("3_Live_Classifier.py")
    choose_upload(page)
    key(page, "classifier_upload").locator('input[type="file"]').set_input_files(path)
    settle(page)
    headers = page.locator('[data-testid="stMain"] h3')
    expect(headers.filter(has_text="Model:")).to_have_text(re.compile(r"Model: \w+"))
    expect(headers.filter(has_text="Truth:")).to_have_text(f"Truth: {punks.types[punk_id]}")
    expect(page.get_by_text(f"CryptoPunk #{punk_id}", exact=True)).to_be_visible()
    screenshot(page, "3_Live_Classifier.py")


def test_classifier_rejects_a_file_that_is_not_an_image(open_page, tmp_path):
    path = tmp_path / "not_a_punk.png"
    path.write_text("This is text, not a picture.\n")

    page = open_page("3_Live_Classifier.py")
    choose_upload(page)
    key(page, "classifier_upload").locator('input[type="file"]').set_input_files(path)
    settle(page)
    error = page.locator('[data-testid="stAlert"]').filter(has_text="not_a_punk.png")
    expect(error).to_be_visible()
    expect(error).to_contain_text(re.compile(r"\bimage\b", re.IGNORECASE))
    assert len(error.inner_text().strip()) > len("not_a_punk.png: ") + 10  # says what is wrong
    assert page.locator('[data-testid="stMain"] h3').filter(has_text="Model:").count() == 0


# 4. GAN Gallery --------------------------------------------------------------------------------


def epoch_input(page):
    # This Streamlit's slider is react-aria's: a visually hidden <input type="range">.
    return key(page, "gan_epoch").get_by_role("slider")


def epoch_label(page):
    """The epoch the slider's thumb label shows, as a person reads it."""
    return key(page, "gan_epoch").locator('[data-testid="stSliderThumbValue"]')


def shown_epoch(page) -> int:
    return int(epoch_label(page).inner_text())


@pytest.mark.skipif(not GAN_RUN.exists(), reason="the GAN's training run has not finished")
def test_gan_epoch_slider_and_play(open_page):
    page = open_page("4_GAN_Gallery.py")
    slider = epoch_input(page)
    first, last = int(slider.get_attribute("min")), int(slider.get_attribute("max"))
    assert last > first + 4, "too few epochs to test the slider and the player"
    best = json.loads(GAN_RUN.read_text())["best_epoch"]
    assert shown_epoch(page) == best  # the gallery opens on the shipped generator's epoch
    fid = metric_value(page, "FID ratio")

    slider.focus()
    page.keyboard.press("ArrowLeft")
    settle(page)
    expect(epoch_label(page)).to_have_text(str(best - 1))
    expect(slider).to_have_value(str(best - 1))
    slider.focus()
    page.keyboard.press("Home")
    settle(page)
    expect(epoch_label(page)).to_have_text(str(first))
    expect(metric(page, "FID ratio")).not_to_have_text(fid)  # the first epoch's, not the last's

    key(page, "gan_play").get_by_role("button", name="▶ Play").click()
    pause = key(page, "gan_play").get_by_role("button", name="⏸ Pause")
    expect(pause).to_be_visible()
    # A frame every 0.4 s; give a slow machine room, but the epoch must move on its own.
    page.wait_for_function(
        """first => Number(document.querySelector(
            '.st-key-gan_epoch [data-testid="stSliderThumbValue"]').innerText) >= first + 2""",
        arg=first,
        timeout=30_000,
    )
    pause.click()
    settle(page)
    expect(key(page, "gan_play").get_by_role("button", name="▶ Play")).to_be_visible()
    stopped = shown_epoch(page)
    assert stopped >= first + 2
    page.wait_for_timeout(1500)
    assert shown_epoch(page) == stopped  # paused: no more frames
    screenshot(page, "4_GAN_Gallery.py")


@pytest.mark.skipif(not GAN_RUN.exists(), reason="the GAN's training run has not finished")
def test_gan_paints_a_female_with_a_pipe_and_a_tassle_hat(open_page):
    page = open_page("4_GAN_Gallery.py")
    pick_option(page, "gan_live_accessories_Female", "Pipe")
    settle(page)
    pick_option(page, "gan_live_accessories_Female", "Tassle Hat")
    page.keyboard.press("Escape")
    settle(page)
    main = page.locator('[data-testid="stMain"]')
    expect(main).to_contain_text("Asked for a Female with Pipe, Tassle Hat")
    outfits = page.locator('[data-testid="stTable"]').nth(1)
    expect(outfits).to_contain_text("drawn from the recipe book")
    rows = outfits.locator("tbody tr")
    expect(rows).to_have_count(8)
    for row in rows.all():  # every punk's drawn outfit holds the request
        drawn = row.locator("td").first.inner_text()
        assert "Pipe" in drawn and "Tassle Hat" in drawn, drawn
    page.set_viewport_size({"width": 1400, "height": 1700})  # the samples and both tables
    key(page, "gan_live_type").scroll_into_view_if_needed()
    screenshot(page, "4_GAN_Gallery_request.py")


# 5. Convolution Lab ----------------------------------------------------------------------------


def kernel_cells(page):
    """The kernel's nine text boxes, row by row."""
    return key(page, "conv_cells").locator("input")


def expect_cells(page, texts: list[str]) -> None:
    for cell, text in zip(kernel_cells(page).all(), texts, strict=True):
        expect(cell).to_have_value(text)


def hand_sum(page):
    return page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Sum =").last


def output_map(page) -> np.ndarray | None:
    """The output map's values as the browser holds them (the pixel panel's first tile)."""
    panel = key(page, "conv_output_chart").locator(".panel")
    if panel.count() == 0:
        return None
    values, shape = panel.evaluate("panel => [panel.punkValues[0], panel.punkShape]")
    return np.asarray(values, dtype=np.float64).reshape(shape)


def expect_output(page, expected: np.ndarray, timeout_ms: int = 30_000) -> None:
    """Wait until the output map shows `expected` (panels redraw after the rerun)."""
    for _ in range(timeout_ms // 250):
        shown = output_map(page)
        same_shape = shown is not None and shown.shape == expected.shape
        if same_shape and np.allclose(shown, expected, atol=1e-4):
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the output map is not the expected one:\n{shown}\n{expected}")


def test_convolution_preset_and_kernel_edit(open_page, punks):
    page = open_page("5_Convolution_Lab.py")
    gray = to_grayscale(punks.images[punks.row(0)])  # punk #0, grayscale: the page's defaults
    expect_output(page, convolve(gray, PRESETS["Horizontal lines (Keras intro)"]))
    expect(kernel_cells(page)).to_have_count(9)
    expect_cells(page, ["1", "1", "1", "0", "0", "0", "-1", "-1", "-1"])  # horizontal lines
    before = hand_sum(page).inner_text()
    assert before.count("× 1)") == 3 and before.count("× −1)") == 3

    pick_option(page, "conv_preset", "Identity")
    settle(page)
    expect_cells(page, ["0", "0", "0", "0", "1", "0", "0", "0", "0"])
    expect(hand_sum(page)).to_contain_text(" + ".join(["(0.567 × 0)"] * 4 + ["(0.567 × 1)"]))
    identity = hand_sum(page).inner_text()
    assert identity.endswith("= 0.567")  # the identity kernel passes the centre pixel through
    expect_output(page, gray)

    type_in_first_cell(page, "7")
    expect(hand_sum(page)).to_contain_text("(0.567 × 7) + (0.567 × 0)")
    settle(page)
    expect(kernel_cells(page).first).to_have_value("7")
    assert hand_sum(page).inner_text().endswith("= 4.539")  # 0.567 × (7 + 1)
    expect_output(page, convolve(gray, np.array([[7.0, 0, 0], [0, 1, 0], [0, 0, 0]])))
    assert page.locator('[data-testid="stAlert"]').count() == 0
    preset = key(page, "conv_preset").get_by_role("combobox")
    expect(preset).to_have_value("Custom")  # an edit is no preset any more
    screenshot(page, "5_Convolution_Lab.py")


def test_convolution_panels_point_click_and_match_in_size(open_page, punks):
    page = open_page("5_Convolution_Lab.py")
    gray = to_grayscale(punks.images[punks.row(0)])
    expected = convolve(gray, PRESETS["Horizontal lines (Keras intro)"])
    expect_output(page, expected)
    widths = [
        key(page, name).locator("img").bounding_box()["width"]
        for name in ("conv_input_chart", "conv_output_chart", "conv_relu_chart")
    ]
    assert max(widths) - min(widths) < 1, widths  # input, output and ReLU at one size
    image = key(page, "conv_output_chart").locator("img")
    box = image.bounding_box()
    spot = {"x": box["width"] * 5.5 / 24, "y": box["height"] * 7.5 / 24}  # row 7, column 5
    image.hover(position=spot)
    readout = key(page, "conv_output_chart").locator(".readout")
    value = f"{float(f'{expected[7, 5]:.3g}'):g}".replace("-", "−")
    expect(readout).to_have_text(f"row 7, column 5: {value}")
    image.click(position=spot)
    settle(page)
    expect(key(page, "conv_row").locator("input")).to_have_value("7")
    expect(key(page, "conv_col").locator("input")).to_have_value("5")
    sums = window_arithmetic(gray, PRESETS["Horizontal lines (Keras intro)"], 7, 5, 1, "same")
    expect(hand_sum(page)).to_contain_text(sums.formula())  # that pixel's sum, opened up
    frame = key(page, "conv_output_chart").locator(".box").bounding_box()
    assert abs(frame["x"] - (box["x"] + box["width"] * 5 / 24)) < 2  # the box moved there
    assert abs(frame["y"] - (box["y"] + box["height"] * 7 / 24)) < 2


def type_in_first_cell(page, text: str) -> None:
    """Type `text` into the kernel's row 1, column 1 and press Enter, as a person would."""
    cell = kernel_cells(page).first
    cell.fill(text)
    cell.press("Enter")
    settle(page)


def test_convolution_cells_take_fractions_and_refuse_words(open_page, punks):
    page = open_page("5_Convolution_Lab.py")
    gray = to_grayscale(punks.images[punks.row(0)])
    pick_option(page, "conv_preset", "Identity")
    settle(page)
    type_in_first_cell(page, "1/9")
    expect(kernel_cells(page).first).to_have_value("1/9")  # the cell keeps what was typed
    expected = np.array([[1 / 9, 0, 0], [0, 1, 0], [0, 0, 0]])
    expect_output(page, convolve(gray, expected))  # 1/9 is 0.111..., not 19
    assert page.locator('[data-testid="stAlert"]').count() == 0

    type_in_first_cell(page, "abc")
    error = page.locator('[data-testid="stAlert"]')
    expect(error).to_contain_text("row 1, column 1")
    expect(error).to_contain_text("Still using the last good kernel")
    assert "NaN" not in error.inner_text() and "None" not in error.inner_text()
    expect(kernel_cells(page).first).to_have_value("abc")
    expect_output(page, convolve(gray, expected))  # the last good kernel still drives it


# 6. Sweeps -------------------------------------------------------------------------------------


def test_sweeps_show_the_shipped_studies(open_page):
    page = open_page("6_Sweeps.py")
    expect(page.locator('[data-testid="stDataFrame"]')).to_be_visible()  # opens on the trials
    page.get_by_role("tab", name="Optimisation history").click()
    wait_until_idle(page, SLOW_MS)
    expect(key(page, "sweep_history").locator(".js-plotly-plot")).to_be_visible()
    page.get_by_role("tab", name="Parallel coordinates").click()
    wait_until_idle(page, SLOW_MS)
    chart = key(page, "sweep_parallel").locator(".js-plotly-plot")
    axes = ("log2 batch size", "log10 learning rate", "dropout", "filters", "blocks")
    for axis in (*axes, "finished", "log10 val loss"):
        expect(chart).to_contain_text(axis)  # one vertical axis per hyperparameter
    assert int(metric_value(page, "Finished trials")) > 0
    expect(page.get_by_text("Best trial's val type accuracy")).to_be_visible()
    key(page, "sweep_task").get_by_role("radio", name="Type + accessories (92 labels)").click()
    wait_until_idle(page, SLOW_MS)
    expect(page.get_by_text("Best val exact match (visible)")).to_be_visible()
    chosen = key(page, "sweep_task").get_by_role("radio", name="Type + accessories (92 labels)")
    chosen.click()  # again: the task stays chosen, its figures stay
    wait_until_idle(page, SLOW_MS)
    expect(chosen).to_be_checked()
    expect(page.get_by_text("Best val exact match (visible)")).to_be_visible()
    expect(key(page, "sweep_parallel").locator(".js-plotly-plot")).to_contain_text("dropout")
    screenshot(page, "6_Sweeps.py")


def test_classifier_explains_a_confident_label(open_page):
    page = open_page("3_Live_Classifier.py")
    picture = key(page, "classifier_saliency").locator("img")
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.naturalWidth") >= 400  # legible: axes and colour bar
    pixels = np.asarray(Image.open(io.BytesIO(picture.screenshot())).convert("RGB")).astype(int)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    supporting = (red > 150) & (red - blue > 80) & (red - green > 60)
    assert supporting.sum() > 50  # the pixels behind the answer are drawn red, not blank
