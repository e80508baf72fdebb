"""Training Studio: how fast a small CNN learns types, how soon curves and Stop answer, and
whether the explorer stays quick while two runs train.

    .venv/bin/python -m bench.bench_studio [--runs 3] [--stops 5] [--changes 10]

- small CNN: the "Equal parameters: CNN" preset (1 block of 8 3x3 filters, 2x2 pooling, 32
  Dense units, Adam 0.003, batch 64, 3 epochs, all 8,000 training punks), started through
  `Studio` as the page starts it (a background thread, a training slot). Reported: seconds
  from Train to the first curve point (the untrained network, scored before the first batch;
  TensorFlow already imported, as the app's warm-up does) and to the first point after
  training batches (Keras traces its training step first),
  training seconds (`model.fit`), the first curve point at >= 99 % validation type accuracy
  and when it came, and the final validation accuracy. Targets: >= 99 % within 20 s of
  training; first point <= 2 s after Train.
- Stop: a 20-epoch run is stopped after 50 batches; the time from `request_stop` to `fit`
  returning. Target: <= 1 s.
- explorer with two runs training: the Training Studio page is run once (as a learner opening
  it does, which keeps Keras' session across script runs), two 20-epoch runs train, and
  Dataset Explorer filter changes are timed with AppTest in this same process (the training
  threads share the process and its GIL, as in the server); the same changes with nothing
  training for comparison. Target: <= 1 s.
- The machine is shared: the load average (1 min) before and after each part is printed.
"""

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from pathlib import Path

from punks_core.dataset import load_punks
from punks_core.studio_runs import Studio, TrainingSlots
from punks_core.studio_setup import PRESETS

ROOT = Path(__file__).resolve().parent.parent
os.environ["PUNKLAB_WARM_UP"] = "0"

SMALL_CNN = PRESETS["Equal parameters: CNN"].experiment
LONG = dataclasses.replace(SMALL_CNN, epochs=20)


def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def wait(run, condition, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition(run.view()) and time.monotonic() < deadline:
        time.sleep(0.005)


def small_cnn(studio: Studio, runs: int) -> None:
    print(f"\n## small CNN to 99 % (load before: {load()})")
    print(
        "| run | first point (untrained) after Train | first trained point | training "
        "| 99 % reached | final val accuracy |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for k in range(runs):
        clicked = time.monotonic()
        lease = studio.start(SMALL_CNN)
        run = lease.run
        wait(run, lambda view: view.done)
        view = run.view()
        assert view.status == "finished", view.message
        reached = next(
            (
                (point, seconds)
                for point, seconds in zip(view.points, run.point_times, strict=True)
                if point.val_accuracy >= 0.99
            ),
            None,
        )
        reached_text = f"epoch {reached[0].epoch:.2f}, {reached[1]:.1f} s" if reached else "never"
        first = run.first_point_at - clicked
        trained = first + run.point_times[1] - run.point_times[0]
        print(
            f"| {k + 1} | {first:.2f} s | {trained:.2f} s | {view.train_seconds:.1f} s | "
            f"{reached_text} | {run.result.metrics['accuracy']:.1%} |"
        )
        lease.close()
    print(f"load after: {load()}")


def stops(studio: Studio, count: int) -> None:
    print(f"\n## Stop (load before: {load()})")
    latencies = []
    for _ in range(count):
        lease = studio.start(LONG)
        run = lease.run
        wait(run, lambda view: view.step >= 50)
        asked = time.monotonic()
        run.request_stop()
        wait(run, lambda view: view.done)
        assert run.view().status == "stopped", run.view().message
        latencies.append(run.stopped_at - asked)
        lease.close()
    print(
        f"Stop -> training ended: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms over {count} (load after: {load()})"
    )


def explorer_changes(changes: int) -> list[float]:
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "pages/1_Dataset_Explorer.py"), default_timeout=120)
    app.run()
    choices = [["Ape"], ["Zombie"], [], ["Alien", "Ape"], ["Female"]]
    times = []
    for k in range(changes):
        app.multiselect(key="explorer_types").set_value(choices[k % len(choices)])
        start = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - start)
        assert not app.exception, [e.value for e in app.exception]
    return times


def explorer_while_training(studio: Studio, changes: int) -> None:
    from streamlit.testing.v1 import AppTest

    print(f"\n## explorer filter change while two runs train (load before: {load()})")
    studio_page = AppTest.from_file(str(ROOT / "pages/8_Training_Studio.py"), default_timeout=120)
    studio_page.run()  # a learner opened the studio: Keras' session is kept from now on
    idle = explorer_changes(changes)
    leases = [studio.start(LONG) for _ in range(2)]
    for lease in leases:
        wait(lease.run, lambda view: view.status == "training" and view.step > 20)
    assert studio.slots.training_now() == 2
    busy = explorer_changes(changes)
    steps = [lease.run.view().step for lease in leases]
    for lease in leases:
        lease.close()
    print("| explorer filter change | median | max |")
    print("|---|---:|---:|")
    for name, times in (("nothing training", idle), ("two runs training", busy)):
        print(f"| {name} | {statistics.median(times) * 1000:.0f} ms | {max(times) * 1000:.0f} ms |")
    print(f"the two runs were at steps {steps} when the changes ended (load after: {load()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stops", type=int, default=5)
    parser.add_argument("--changes", type=int, default=10)
    args = parser.parse_args()
    print(f"CPUs: {os.cpu_count()}, load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    started = time.perf_counter()
    import keras  # noqa: F401 - the app's warm-up imports TensorFlow before anyone trains

    print(f"TensorFlow + Keras import: {time.perf_counter() - started:.1f} s")
    folder = tempfile.mkdtemp(prefix="bench-studio-")
    studio = Studio(load_punks(), slots=TrainingSlots(limit=2, folder=folder))
    small_cnn(studio, args.runs)
    stops(studio, args.stops)
    explorer_while_training(studio, args.changes)


if __name__ == "__main__":
    main()
