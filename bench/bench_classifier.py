"""Benchmark the shipped punk classifiers: test quality and CPU latency.

Run: `.venv/bin/python bench/bench_classifier.py` (prints a Markdown table). Quality is scored
on the test split (ids 9000-9999), which no model saw in training or selection, and on every
swappable test punk repainted in its other skin tones (mostly images that are not among the
10,000). Timings use time.perf_counter; latencies are medians of several runs after a warm-up.
"""

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from punks_core.augment import SkinSwapper  # noqa: E402
from punks_core.classifier import evaluate, load_classifier, skin_swap_set  # noqa: E402
from punks_core.dataset import load_punks  # noqa: E402
from punks_core.labels import LABELS  # noqa: E402

REPEATS = 7

LOAD_SNIPPET = """
import time
start = time.perf_counter()
from punks_core.classifier import load_classifier
load_classifier(kind={kind!r})
print(time.perf_counter() - start)
"""


def median_seconds(function, repeats: int = REPEATS) -> float:
    function()  # warm-up: the first call traces the graph
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def load_seconds(kind: str) -> float:
    """Import TensorFlow and load the model in a fresh interpreter, as the app's first visit."""
    result = subprocess.run(
        [sys.executable, "-c", LOAD_SNIPPET.format(kind=kind)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def bench(kind: str, punks, swapped) -> dict:
    classifier = load_classifier(kind=kind)
    test = punks.split("test")
    truth = test.labels[list(LABELS)].to_numpy()
    metrics = evaluate(classifier.predict_proba(test.images).to_numpy(), truth)
    images, swap_truth, new = swapped
    swap = evaluate(classifier.predict_proba(images).to_numpy(), swap_truth)
    thousand = punks.images[:1000]
    one = punks.images[9000]
    row = {
        "test exact match": f"{metrics['exact_match']:.2%}",
        "test type accuracy": f"{metrics['type_accuracy']:.2%}",
        "test Hamming accuracy": f"{metrics['hamming_accuracy']:.3%}",
        "test micro AUC": f"{metrics['micro_auc']:.5f}",
        "test macro AUC": f"{metrics['macro_auc']:.5f}",
        f"skin-swapped test punks exact match ({len(images):,}, {new:,} new)": (
            f"{swap['exact_match']:.2%}"
        ),
        "skin-swapped type accuracy": f"{swap['type_accuracy']:.2%}",
        "predict_proba, 1,000 punks (median)": (
            f"{median_seconds(lambda: classifier.predict_proba(thousand)) * 1000:.0f} ms"
        ),
        "classify, 1 punk (median)": (
            f"{median_seconds(lambda: classifier.classify(one)) * 1000:.1f} ms"
        ),
        "saliency, 576 occlusions (median)": (
            f"{median_seconds(lambda: classifier.saliency(one, 'Male')) * 1000:.0f} ms"
        ),
        "load incl. TF import (fresh process)": f"{load_seconds(kind):.1f} s",
        "parameters": f"{classifier.model.count_params():,}",
    }
    return row


def main() -> None:
    punks = load_punks()
    swapper = SkinSwapper.fit(punks.split("train"))
    swapped = skin_swap_set(punks.split("test"), swapper, punks)
    rows = {kind: bench(kind, punks, swapped) for kind in ("cnn", "fnn")}
    print("| metric | CNN | FNN |")
    print("| --- | ---: | ---: |")
    for name in rows["cnn"]:
        print(f"| {name} | {rows['cnn'][name]} | {rows['fnn'][name]} |")
    print(
        f"\n{len(os.sched_getaffinity(0))} CPU cores, {platform.processor() or platform.machine()}"
    )


if __name__ == "__main__":
    main()
