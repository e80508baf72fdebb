"""Benchmark the shipped punk classifiers: test quality and CPU latency.

Run: `.venv/bin/python -m bench.bench_classifier` (prints a Markdown table). Quality is scored
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

import numpy as np

from punks_core.augment import SkinSwapper
from punks_core.classifier import load_classifier
from punks_core.compositions import twin_recipes
from punks_core.dataset import load_punks
from punks_core.labels import LABELS
from punks_core.layers import load_layers
from punks_core.scoring import evaluate, skin_swap_set

ROOT = Path(__file__).resolve().parent.parent

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


def held_out_new_compositions(punks):
    """The 2,000 new compositions the training report scores: painted with seed 1 after the
    training pool (seed 0) and every real punk's recipe were excluded, as training does."""
    from punks_core.classifier_training import NEW_PUNKS, _new_compositions

    return _new_compositions(punks, 0, NEW_PUNKS, None)[1]


def reencoded_test_punks(punks) -> tuple[np.ndarray, np.ndarray, int]:
    """The test punks encoded the nine ways of bench_upload.py and decoded by the app's
    upload reader: what a model sees after an upload. Refused files are left out (counted)."""
    from bench.bench_upload import ENCODINGS, with_options
    from punks_core.errors import InvalidImageError
    from punks_core.imaging import load_image

    test = punks.split("test")
    truth = test.visible_labels[list(LABELS)].to_numpy()
    images, labels, refused = [], [], 0
    for options in ENCODINGS.values():
        make = with_options(options)
        rng = np.random.default_rng(0)
        for image, label in zip(test.images, truth, strict=True):
            try:
                images.append(load_image(make(image, rng)))
                labels.append(label)
            except InvalidImageError:
                refused += 1
    return np.stack(images), np.stack(labels), refused


def bench(kind: str, punks, swapped, new, reencoded, twins) -> dict:
    classifier = load_classifier(kind=kind)
    test = punks.split("test")
    scores = classifier.predict_proba(test.images).to_numpy()
    visible = evaluate(scores, test.visible_labels[list(LABELS)].to_numpy())
    metrics = evaluate(scores, test.labels[list(LABELS)].to_numpy())
    on_new = evaluate(classifier.predict_proba(new.images).to_numpy(), new.labels)
    alone = ~twins  # compositions whose pixels no other recipe paints with other labels
    on_alone = evaluate(classifier.predict_proba(new.images[alone]).to_numpy(), new.labels[alone])
    images, truth, refused = reencoded
    on_uploads = evaluate(classifier.predict_proba(images).to_numpy(), truth)
    swap_images, swap_truth, swap_new = swapped
    swap = evaluate(classifier.predict_proba(swap_images).to_numpy(), swap_truth)
    thousand = punks.images[:1000]
    one = punks.images[9000]
    row = {
        "test exact match, labels the pixels show": f"{visible['exact_match']:.2%}",
        "test exact match, all labels (ceiling 94.3 %)": f"{metrics['exact_match']:.2%}",
        f"new compositions ({len(new.images):,}, 11 bases), visible exact match": (
            f"{on_new['exact_match']:.2%}"
        ),
        f"… of them the {alone.sum():,} with no twin recipe ({twins.sum()} twins: about "
        f"{1 - twins.mean() / 2:.2%} expected at best)": f"{on_alone['exact_match']:.2%}",
        f"test punks re-encoded 9 ways ({len(images):,} decoded, {refused} refused), "
        "visible exact match": f"{on_uploads['exact_match']:.2%}",
        "test type accuracy": f"{metrics['type_accuracy']:.2%}",
        "test Hamming accuracy": f"{metrics['hamming_accuracy']:.3%}",
        "test micro AUC": f"{metrics['micro_auc']:.5f}",
        "test macro AUC": f"{metrics['macro_auc']:.5f}",
        f"skin-swapped test punks exact match ({len(swap_images):,}, {swap_new:,} new)": (
            f"{swap['exact_match']:.2%}"
        ),
        "skin-swapped type accuracy": f"{swap['type_accuracy']:.2%}",
        "predict_proba, 1,000 punks (median)": (
            f"{median_seconds(lambda: classifier.predict_proba(thousand)) * 1000:.0f} ms"
        ),
        "classify, 1 punk (median)": (
            f"{median_seconds(lambda: classifier.classify(one)) * 1000:.1f} ms"
        ),
        "saliency, one occlusion per visible pixel (median)": (
            f"{median_seconds(lambda: classifier.saliency(one, 'Male')) * 1000:.0f} ms"
        ),
        "load incl. TF import (fresh process)": f"{load_seconds(kind):.1f} s",
        "parameters": f"{classifier.model.count_params():,}",
    }
    return row


def main() -> None:
    punks = load_punks()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    swapper = SkinSwapper.fit(punks.split("train"))
    swapped = skin_swap_set(punks.split("test"), swapper, punks)
    new = held_out_new_compositions(punks)
    twins = twin_recipes(load_layers(), new)
    reencoded = reencoded_test_punks(punks)
    rows = {kind: bench(kind, punks, swapped, new, reencoded, twins) for kind in ("cnn", "fnn")}
    print("| metric | CNN | FNN |")
    print("| --- | ---: | ---: |")
    for name in rows["cnn"]:
        print(f"| {name} | {rows['cnn'][name]} | {rows['fnn'][name]} |")
    print(
        f"\n{len(os.sched_getaffinity(0))} CPU cores, {platform.processor() or platform.machine()}"
    )


if __name__ == "__main__":
    main()
