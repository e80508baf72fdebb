"""Page loads in a real browser against the real server, and server time with AppTest.

    .venv/bin/python -m bench.bench_pages --browser [--runs 3]
    .venv/bin/python -m bench.bench_pages [--runs 5]          (AppTest server time)

--browser: `streamlit run app.py` as scripts/app.sh starts it (the repository's
.streamlit/config.toml, so no file watcher), Debian's chromium under Playwright. Per page:
"first load" is the first visit after a fresh server start (cold caches: TensorFlow and the
models load on the first page that needs them, unless warmed); "repeat" is a new tab on the same
server, in the same browser profile (one profile a run, cache empty at its start). A load is
timed from the start of navigation to the page's last change (last DOM mutation or download)
once the script run is over, nothing is stale, every image is decoded and every chart drawn
(tests/browser.py's wait_until_idle, whose 500 ms of network silence is not counted).
Targets: first <= 4 s, repeat <= 2 s.
Also reports the load average and whether the server logged an inotify overflow or a CUDA error.

- first render: a fresh Python process per run, as a just-started server (Streamlit itself
  warmed on a one-line script), with cold caches: the page's imports, the dataset load and
  hash, and the drawing; also whether TensorFlow got imported.
- explorer filter change: one warm process; each filter change is one `AppTest.run()`.
Targets: home first render <= 1.5 s; any explorer filter change <= 150 ms; no TensorFlow.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
COLD_RUN = """
import json, sys, time
from streamlit.testing.v1 import AppTest
# A started server has already scanned its components and loaded Streamlit's own modules:
# pay that once on a one-line script, so the timed run is the page's own first render.
AppTest.from_string("import streamlit as st; st.write('warm')").run()
app = AppTest.from_file({path!r}, default_timeout=120)
start = time.perf_counter()
app.run()
elapsed = time.perf_counter() - start
assert not app.exception, [e.value for e in app.exception]
print(json.dumps({{"seconds": elapsed, "tensorflow": "tensorflow" in sys.modules}}))
"""
FILTER_CHANGES = [
    ("type = Ape", lambda app: app.multiselect(key="explorer_types").set_value(["Ape"])),
    ("type = all", lambda app: app.multiselect(key="explorer_types").set_value([])),
    ("any of Cap, Beanie", lambda app: app.multiselect(key="explorer_any_of").set_value(["Cap"])),
    ("none of Earring", lambda app: app.multiselect(key="explorer_none_of").set_value(["Earring"])),
    ("3-4 accessories", lambda app: app.slider(key="explorer_count").set_value((3, 4))),
    ("ids 0-4999", lambda app: app.slider(key="explorer_ids").set_value((0, 4999))),
    ("rarest first", lambda app: app.selectbox(key="explorer_sort").set_value("Rarest first")),
    ("1000 a page", lambda app: app.select_slider(key="explorer_size").set_value(1000)),
    ("clear filters", lambda app: app.multiselect(key="explorer_any_of").set_value([])),
]  # fmt: skip


def cold_first_render(page: str, runs: int) -> list[dict]:
    script = COLD_RUN.format(path=str(ROOT / page))
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def explorer_filter_changes(runs: int) -> dict[str, list[float]]:
    app = AppTest.from_file(str(ROOT / "pages/1_Dataset_Explorer.py"), default_timeout=120)
    app.run()
    times = {name: [] for name, _ in FILTER_CHANGES}
    for _ in range(runs):
        for name, change in FILTER_CHANGES:
            change(app)
            start = time.perf_counter()
            app.run()
            times[name].append(time.perf_counter() - start)
            assert not app.exception, [e.value for e in app.exception]
    # Undo the changes so the next round changes something again.
    return times


# Records when the page last changed: a load is over at its last change, not at the end of
# the 500 ms of network silence that `wait_until_idle` waits for to be sure of it.
LAST_CHANGE_SCRIPT = """
window.__lastChange = 0;
new MutationObserver(() => { window.__lastChange = performance.now(); })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""


def settled_seconds(page) -> float:
    """Seconds from the start of navigation to the page's last change: its last DOM mutation
    or the end of its last download, whichever came later."""
    return page.evaluate(
        """() => Math.max(window.__lastChange,
            ...performance.getEntriesByType('resource').map(entry => entry.responseEnd)) / 1000"""
    )


def browser_loads(runs: int, only: list[str] | None = None) -> None:
    import os

    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_FLAGS, chromium_path, page_url, wait_until_idle
    from ui.navigation import HOME, lab_pages

    pages = [HOME, *lab_pages()]
    if only:
        pages = [p for p in pages if any(word.lower() in p.title.lower() for word in only)]
    first = {p.title: [] for p in pages}
    repeat = {p.title: [] for p in pages}
    load = [os.getloadavg()[0]]
    log = ""
    for _ in range(runs):
        with browser_server() as (url, server_log), sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(), args=CHROMIUM_FLAGS
            )
            # One browser profile a run, as one learner's browser: its cache starts empty and
            # keeps Streamlit's and Plotly's scripts between tabs, as a real browser does.
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_init_script(LAST_CHANGE_SCRIPT)
            for times in (first, repeat):
                for page_info in pages:
                    page = context.new_page()
                    page.goto(page_url(url, Path(page_info.file).name))
                    wait_until_idle(page, 120_000)
                    times[page_info.title].append(settled_seconds(page))
                    page.close()
            browser.close()
            load.append(os.getloadavg()[0])
            log += server_log()
    cpus = os.cpu_count()
    print(f"load average (1 min) during the runs: {min(load):.2f}–{max(load):.2f} on {cpus} CPUs")
    print(
        f"server log: inotify overflow {'YES' if 'inotify' in log.lower() else 'no'}, "
        f"cuInit error {'YES' if 'cuinit' in log.lower() else 'no'}"
    )
    print("| page | first load (median, max) | repeat visit (median, max) | targets |")
    print("|---|---|---|---|")
    for page_info in pages:
        f, r = first[page_info.title], repeat[page_info.title]
        print(
            f"| {page_info.title} | {statistics.median(f):.2f} s, {max(f):.2f} s "
            f"| {statistics.median(r):.2f} s, {max(r):.2f} s | ≤ 4 s, ≤ 2 s |"
        )


@contextmanager
def browser_server():
    """`streamlit run app.py` as the README starts it; yields (url, a reader of its log)."""
    import tempfile

    from tests.browser import free_port

    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - read while the server runs, closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)

        def read() -> str:
            log.seek(0)
            return log.read().decode(errors="replace")

        yield url, read
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--browser", action="store_true", help="real browser, real server")
    parser.add_argument(
        "--pages", nargs="*", help="--browser: only the pages whose title holds one of these words"
    )
    args = parser.parse_args()
    runs = args.runs
    if args.browser:
        browser_loads(runs, args.pages)
        return

    print("| measurement | median | max | target |")
    print("|---|---|---|---|")
    for page in ["app.py", "pages/1_Dataset_Explorer.py", "pages/2_Class_Balance.py"]:
        results = cold_first_render(page, runs)
        seconds = [r["seconds"] for r in results]
        tf = "imports TensorFlow!" if any(r["tensorflow"] for r in results) else "no TensorFlow"
        target = "≤ 1.5 s" if page == "app.py" else "—"
        print(
            f"| {page} first render (cold, {tf}) | {statistics.median(seconds):.2f} s "
            f"| {max(seconds):.2f} s | {target} |"
        )
    for name, seconds in explorer_filter_changes(runs).items():
        print(
            f"| explorer filter change: {name} | {statistics.median(seconds) * 1000:.0f} ms "
            f"| {max(seconds) * 1000:.0f} ms | ≤ 150 ms |"
        )


if __name__ == "__main__":
    main()
