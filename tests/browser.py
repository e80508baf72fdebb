"""Run the app with `streamlit run` on 127.0.0.1 and drive it in Debian's chromium."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def chromium():
    """Debian's chromium under Playwright, headless; skip where it is missing (fail in CI)."""
    import pytest

    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def streamlit_server(timeout: float = 60):
    """Start `streamlit run app.py` headless on a free local port; yield its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
        "--server.address=127.0.0.1", f"--server.port={port}", "--browser.gatherUsageStats=false",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ.copy()
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode(errors="replace") if server.stdout else ""
                    raise RuntimeError(f"streamlit did not start:\n{output}") from None
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def page_url(base: str, page_file: str) -> str:
    """The URL the app's navigation gives a page file: `2_Class_Balance.py` -> `/Class_Balance`."""
    from ui.navigation import HOME, LAB_PAGES

    name = Path(page_file).name
    if name in ("app.py", Path(HOME.file).name):
        return base + "/"
    return f"{base}/{next(p.url for p in LAB_PAGES if Path(p.file).name == name)}"


def wait_until_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait for the script run to finish: the app is shown and no element is stale."""
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout_ms)
    # The app root says when the script run is over ("initial" until the first run starts).
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms
    )
    # Nothing stale, and no skeleton: a page opened on a fresh server can report its script
    # run over while its elements are still placeholders (the Home cards, measured: drawn
    # about a second later).
    page.wait_for_function(
        "() => !document.querySelector('[data-stale=\"true\"]')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')",
        timeout=timeout_ms,
    )
    # Images and icons arrive after the elements that hold them.
    page.wait_for_load_state("networkidle", timeout=timeout_ms)
    page.wait_for_function(
        "() => [...document.images].every(image => image.complete)"
        " && document.querySelectorAll('.js-plotly-plot').length"
        " >= document.querySelectorAll('[data-testid=\"stPlotlyChart\"]').length"
        " && [...document.querySelectorAll('.js-plotly-plot')]"
        ".every(plot => plot.querySelector('.main-svg'))",
        timeout=timeout_ms,
    )
