"""Server time of a kernel change in the Convolution Lab, and of `convolve` alone.

    .venv/bin/python -m bench.bench_convolution [--runs 20]

- kernel change: one warm AppTest per scenario; the page is run once (dataset and upload
  decoded, caches filled), then each run types a new value into one kernel cell (the editor's
  edit state, as the browser sends it) and times `AppTest.run()`.
  Scenarios: a punk in grayscale and in colour; a 1024x1024 upload in grayscale and in colour.
- AppTest compiles the page afresh on every run (a running server caches the bytecode); that
  share is timed on its own and reported, not subtracted.
- convolve: `punks_core.filters.convolve` with a 3x3 kernel, stride 1, "same".
- wall time is `time.perf_counter`; CPU time (`time.process_time`, all threads of this process)
  is printed beside it because on a shared machine the wall time mostly measures the neighbours.
Targets: punk <= 100 ms, 1024x1024 upload <= 300 ms (median server time of a kernel change).
"""

import argparse
import io
import os
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest

from punks_core.filters import convolve
from punks_core.kernels import PRESETS

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "pages/5_Convolution_Lab.py"


def upload_bytes(side: int = 1024) -> bytes:
    """A smooth picture with edges (not noise: a real photo compresses, noise would not)."""
    y, x = np.mgrid[0:side, 0:side] / side
    rgb = np.stack([x, y, ((x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.1) * 1.0], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray((rgb * 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def kernel_changes(runs: int, upload: bool, colour: bool) -> list[float]:
    app = AppTest.from_file(str(PAGE), default_timeout=120)
    app.run()
    if upload:
        app.radio(key="conv_source").set_value("Upload").run()
        app.file_uploader(key="conv_upload").upload("bench.png", upload_bytes(), "image/png")
        app.run()
    if colour:
        app.radio(key="conv_channels").set_value("Colour (R, G, B)").run()
    app.run()  # warm: every cache filled, every chart drawn once
    assert not app.exception and not app.error, [e.value for e in (*app.exception, *app.error)]
    key = f"conv_kernel_{app.session_state['conv_editor_version']}"
    times = []
    for k in range(runs):
        edit = {0: {"1": float(k % 7 + 1)}}
        app.session_state[key] = {"edited_rows": edit, "added_rows": [], "deleted_rows": []}
        start, cpu = time.perf_counter(), time.process_time()
        app.run()
        times.append((time.perf_counter() - start, time.process_time() - cpu))
        assert not app.exception and not app.error
        assert app.session_state["conv_good_kernel"][0][0] == k % 7 + 1
    return times


def compile_times(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        ScriptCache().get_bytecode(str(PAGE))
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    return times


def convolve_times(shape: tuple[int, ...], runs: int) -> list[float]:
    image = np.random.default_rng(0).uniform(size=shape)
    kernel = PRESETS["Sobel x"]
    convolve(image, kernel)
    times = []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        convolve(image, kernel)
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    return times


def row(name: str, times: list[tuple[float, float]], target: str = "") -> str:
    ms = sorted(wall * 1000 for wall, _ in times)
    p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
    cpu = statistics.median(cpu * 1000 for _, cpu in times)
    return (
        f"| {name} | {statistics.median(ms):.1f} ms | {p90:.1f} ms | {ms[-1]:.1f} ms "
        f"| {cpu:.1f} ms | {target} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{runs} runs each on {os.cpu_count()} CPUs, load average {load} at the start.\n")
    print("| measurement | median wall | p90 wall | max wall | median CPU | target (wall) |")
    print("|---|---|---|---|---|---|")
    scenarios = [
        ("kernel change, punk, grayscale", False, False, "≤ 100 ms"),
        ("kernel change, punk, colour (R, G, B)", False, True, "≤ 100 ms"),
        ("kernel change, 1024x1024 upload, grayscale", True, False, "≤ 300 ms"),
        ("kernel change, 1024x1024 upload, colour (R, G, B)", True, True, "≤ 300 ms"),
    ]
    for name, upload, colour, target in scenarios:
        print(row(name, kernel_changes(runs, upload, colour), target), flush=True)
    print(row("of which AppTest recompiling the page (once per run)", compile_times(runs)))
    for shape in [(24, 24), (24, 24, 3), (1024, 1024), (1024, 1024, 3)]:
        label = "x".join(map(str, shape))
        print(row(f"`convolve` alone, {label}, 3x3, stride 1, same", convolve_times(shape, runs)))


if __name__ == "__main__":
    main()
