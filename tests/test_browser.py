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

pytestmark = pytest.mark.browser
PAGES = ["app.py", *sorted(p.name for p in (ROOT / "pages").glob("*.py"))]


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def app_url():
    with streamlit_server() as url:
        yield url


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
        if os.environ.get("PUNKLAB_SCREENSHOTS"):
            folder = Path(ROOT, "docs", "screenshots")
            folder.mkdir(parents=True, exist_ok=True)
            page.wait_for_timeout(1500)  # canvas grids and charts paint after they mount
            page.screenshot(path=folder / f"{Path(page_file).stem}.png", full_page=False)
    finally:
        page.close()
