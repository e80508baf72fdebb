"""Layers: every punk re-rendered and decomposed, render time, and the Builder's redraw.

Usage: .venv/bin/python -m bench.bench_layers [--skip-builder]
"""

import argparse
import os
import time

import numpy as np

from punks_core.baselines import hidden_counts, pixel_ceiling
from punks_core.dataset import load_punks
from punks_core.layers import load_layers


def median_ms(function, repeats: int = 200) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-builder", action="store_true", help="no classifier timing")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    punks, layers = load_punks(), load_layers()
    start = time.perf_counter()
    exact = sum(
        np.array_equal(layers.render(base, names), image)
        for image, base, names in zip(punks.images, punks.bases, punks.accessory_lists, strict=True)
    )
    render_all = time.perf_counter() - start
    print(f"re-rendered pixel-exact: {exact:,} / {len(punks.ids):,} ({render_all:.1f} s)")
    start = time.perf_counter()
    decomposed = sum(
        layers.decompose(image) == (base, names)
        for image, base, names in zip(
            punks.images, punks.bases, punks.visible_accessory_lists, strict=True
        )
    )
    decompose_all = time.perf_counter() - start
    print(
        f"decomposed to base + visible accessories: {decomposed:,} / {len(punks.ids):,} "
        f"({decompose_all:.1f} s, {1000 * decompose_all / len(punks.ids):.2f} ms a punk)"
    )
    busy = ("Male 2", ["Earring", "Normal Beard", "Hoodie", "Cigarette", "Big Shades"])
    print(f"render, 5 accessories: {median_ms(lambda: layers.render(*busy)):.3f} ms a punk")
    print(pixel_ceiling(punks).to_string(float_format=lambda v: f"{v:.4f}"))
    print(hidden_counts(punks).to_string())
    if not args.skip_builder:
        from punks_core.classifier import load_classifier

        classifier = load_classifier()

        def redraw() -> None:  # what the Builder page does after a change
            image = layers.render(*busy)
            classifier.predict_proba(image)
            layers.hidden_labels(*busy)
            variants = [[n for n in busy[1] if n != x] for x in busy[1]]
            classifier.predict_proba(np.stack([layers.render(busy[0], v) for v in variants]))

        redraw()
        print(f"Builder redraw + classify (5 accessories): {median_ms(redraw, 50):.1f} ms")


if __name__ == "__main__":
    main()
