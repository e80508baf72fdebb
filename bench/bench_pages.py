"""Server time of the foundation pages, measured with Streamlit's AppTest.

    .venv/bin/python bench/bench_pages.py [--runs 5]

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
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # pages import lab_ui from the root, as `streamlit run` allows
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs

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
