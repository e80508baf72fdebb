"""CPU per rerun of the heaviest interactions, and where it goes (cProfile), with AppTest.

Run: `.venv/bin/python -m bench.bench_reruns --runs 8 [--profile gan_epoch]`

Each interaction is what a learner does most on a page: the Explorer's type filter (and a
punk opened by id), a new punk in the Live Classifier, the GAN Gallery's epoch slider (the
player moves the same slider, 2.5 times a second), a kernel cell typed in the Convolution Lab.
The page is opened and the interaction done twice to warm the caches; then `--runs` more
reruns, each with a new value, are timed: process CPU time (all threads: TensorFlow's too) and
wall time. AppTest runs the script in this process, without a browser, so this is the server's
share of a rerun (plus AppTest's own ~20 ms); `--profile NAME` prints the top of cProfile's
cumulative list for that interaction.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import time
from pathlib import Path

os.environ["PUNKLAB_WARM_UP"] = "0"  # as in the AppTests: no background model loading
ROOT = Path(__file__).resolve().parent.parent
os.chdir(ROOT)

from streamlit.testing.v1 import AppTest  # noqa: E402  (after the chdir)

FILTERS = [["Ape"], [], ["Zombie"], ["Female"]]


def explorer_filter(app: AppTest, k: int) -> None:
    app.multiselect(key="explorer_types").set_value(FILTERS[k % len(FILTERS)])


def classifier_punk(app: AppTest, k: int) -> None:
    if app.radio(key="classifier_source").value != "Punk by id":
        app.radio(key="classifier_source").set_value("Punk by id").run()
    app.number_input(key="classifier_id").set_value(9000 + 37 * k)


def gan_epoch(app: AppTest, k: int) -> None:
    slider = app.slider(key="gan_epoch")
    low, high = slider.min, slider.max
    slider.set_value(low + (7 * k) % (high - low + 1))


def conv_kernel(app: AppTest, k: int) -> None:
    editor = next(w for w in app.get("arrow_data_frame") if "conv_kernel" in str(w.id))
    edits = {"edited_rows": {"0": {"1": str(2 + k)}}, "added_rows": [], "deleted_rows": []}
    # AppTest has no data_editor setter: the widget state is the browser's JSON of edits.
    app.session_state[editor.key] = edits


INTERACTIONS = {
    "explorer_filter": ("pages/1_Dataset_Explorer.py", explorer_filter),
    "classifier_punk": ("pages/3_Live_Classifier.py", classifier_punk),
    "gan_epoch": ("pages/4_GAN_Gallery.py", gan_epoch),
    "conv_kernel": ("pages/5_Convolution_Lab.py", conv_kernel),
}


def profile_script_thread(profiler: cProfile.Profile) -> None:
    """Profile the page script itself: AppTest runs it in a thread of its own."""
    from streamlit.runtime.scriptrunner.script_runner import ScriptRunner

    original = ScriptRunner._run_script

    def profiled(self, *args, **kwargs):
        profiler.enable()
        try:
            return original(self, *args, **kwargs)
        finally:
            profiler.disable()

    ScriptRunner._run_script = profiled


def measure(name: str, runs: int, profile: bool) -> dict:
    page, act = INTERACTIONS[name]
    app = AppTest.from_file(str(ROOT / page), default_timeout=300)
    app.run()
    for k in range(2):  # warm: caches filled, first-call costs paid
        act(app, k)
        app.run()
    cpu, wall = [], []
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profile_script_thread(profiler)
    for k in range(2, 2 + runs):
        act(app, k)
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        app.run()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
        if app.exception:
            raise RuntimeError(f"{name}: {app.exception[0].value}")
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
        print(text.getvalue())
    return {
        "interaction": name,
        "cpu_ms_median": round(1000 * statistics.median(cpu)),
        "cpu_ms_max": round(1000 * max(cpu)),
        "wall_ms_median": round(1000 * statistics.median(wall)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--only", nargs="*", choices=list(INTERACTIONS), default=None)
    parser.add_argument("--profile", choices=list(INTERACTIONS), default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows = [
        measure(name, args.runs, name == args.profile)
        for name in (args.only or ([args.profile] if args.profile else INTERACTIONS))
    ]
    print(f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after; {args.runs} runs")
    print("| interaction | CPU per rerun (median) | max | wall (median) |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['interaction']} | {row['cpu_ms_median']} ms | {row['cpu_ms_max']} ms | "
            f"{row['wall_ms_median']} ms |"
        )
    if args.json:
        args.json.write_text(json.dumps({"load": load, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
