"""Every page in a real browser: Playwright drives Debian's chromium against `streamlit run`.

Skipped where chromium is not installed, except in CI (CI=true), where that is a failure.
Set PUNKLAB_SCREENSHOTS=1 to save a screenshot of each page under docs/screenshots/.
"""

import os
from pathlib import Path

import pytest

from tests.browser import (
    ROOT,
    chromium,
    page_url,
    streamlit_server,
    wait_until_idle,
)
from ui.navigation import HOME, lab_pages

pytestmark = pytest.mark.browser
PAGES = [Path(HOME.file).name, *(Path(p.file).name for p in lab_pages())]


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def app_url():
    with streamlit_server() as url:
        yield url


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def test_home_cards_read_in_order_on_a_phone(browser, app_url):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto(page_url(app_url, "app.py"))
        wait_until_idle(page)
        cards = page.locator('[data-testid="stMain"] [data-testid="stPageLink"]')
        tops = [box["y"] for box in (c.bounding_box() for c in cards.all())]
        assert [c.inner_text().split("\n")[-1] for c in cards.all()] == [
            p.title for p in lab_pages()
        ]
        assert tops == sorted(tops)  # one under the other, in reading order
    finally:
        page.close()


@pytest.mark.parametrize("page_file", PAGES)
def test_page_renders_without_exception(browser, app_url, page_file):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(page_url(app_url, page_file))
        wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert not errors, errors
        # One title everywhere: the tab, the page's heading and the sidebar entry agree.
        registered = next((p for p in lab_pages() if Path(p.file).name == page_file), HOME)
        title = "Punk Lab" if registered is HOME else registered.title
        assert page.title() == (title if registered is HOME else f"{title} · Punk Lab")
        expect(page.locator('[data-testid="stMain"] h1')).to_contain_text(title)
        nav = page.locator('[data-testid="stSidebarNav"]')
        expect(nav).to_contain_text(registered.title)
        assert "app" not in nav.inner_text().split()  # Streamlit's old page list is gone
        if os.environ.get("PUNKLAB_SCREENSHOTS"):
            folder = Path(ROOT, "docs", "screenshots")
            folder.mkdir(parents=True, exist_ok=True)
            page.wait_for_timeout(1500)  # canvas grids and charts paint after they mount
            full = page.evaluate(
                "Math.max(...[...document.querySelectorAll('[data-testid=stMain] *')]"
                ".map(e => e.getBoundingClientRect().bottom))"
            )
            page.set_viewport_size({"width": 1400, "height": min(int(full) + 60, 6000)})
            page.wait_for_timeout(1500)
            page.screenshot(path=folder / f"{Path(page_file).stem}.png", full_page=False)
    finally:
        page.close()
