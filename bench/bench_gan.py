"""Benchmark the shipped GAN generator: quality judged by the project's classifier, and speed.

Run: `.venv/bin/python -m bench.bench_gan [--per-type 1000] [--per-accessory 200]` (prints
Markdown tables).

- Palette: the share of generated pixels that are one of the 222 punk colours.
- Type agreement: the share of generated punks that the shipped CNN classifies as the type
  they were asked for (`--per-type` samples per type, seed 0, no accessories asked for).
  Every request is completed from the generator's recipe book before it is painted, as
  `generate` does; the painter's own numbers, asked for the type alone, are printed too.
- Accessories: for each checked common accessory, `--per-accessory` punks of its head asked
  to wear it; the share in which the CNN finds it (probability 0.5 or more).
- Rare requests: combinations fewer than 24 recipes hold (`gan_recipes.MIN_CHOICES`), which
  are completed from any recipe of the type: the share of punks in which the CNN finds every
  asked accessory, and the share identical to a training punk.
- Punk FID: the Fréchet distance between the CNN's penultimate features of 1,000 generated
  punks and of the 1,000 test punks (ids 9000-9999, never seen by the GAN or its selection),
  the generated types matching the test punks' types; beside it the same distance between a
  type-matched sample of training punks (0-7999) and the test punks, and their ratio.
- Memorisation: the share of samples identical to a training punk, and the median count of
  pixels that differ from the nearest training punk.
- Speed: median time to generate 1 and 64 punks (after a warm-up), and to load the generator.
"""

import argparse
import time
from pathlib import Path

from bench.bench_classifier import median_seconds
from punks_core.classifier import load_classifier
from punks_core.dataset import SPLITS, Punks, load_punks
from punks_core.gan import conditions, latent, load_generator
from punks_core.gan_judge import CHECKED_ACCESSORIES, QualityJudge
from punks_core.gan_quality import frechet_distance
from punks_core.labels import TYPES

ROOT = Path(__file__).resolve().parent.parent
RARE_REQUESTS = (
    ("Female", ("Pipe", "Tassle Hat")),
    ("Female", ("Tassle Hat", "Cigarette")),
    ("Female", ("Tiara", "Big Shades", "Mole")),
    ("Male", ("Pipe", "Big Beard")),
    ("Male", ("Hoodie", "VR", "Pipe")),
    ("Zombie", ("Cap", "Pipe")),
    ("Alien", ("Cap Forward", "Pipe")),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-type", type=int, default=1000, help="samples per type")
    parser.add_argument("--per-accessory", type=int, default=200, help="samples per accessory")
    args = parser.parse_args()

    start = time.perf_counter()
    generator = load_generator()
    load_seconds = time.perf_counter() - start
    classifier = load_classifier()
    punks = load_punks()
    rows = punks.ids < SPLITS["train"].stop
    train = Punks(punks.images[rows], punks.labels[rows])
    test = punks.split("test")
    judge = QualityJudge(classifier, train, test, seed=0)

    command = f"-m bench.bench_gan --per-type {args.per_type} --per-accessory {args.per_accessory}"
    print(f"Command: `.venv/bin/python {command}`\n")
    print("| type | type agreement | pixels in the punk palette | n |\n|---|---:|---:|---:|")
    noise = latent(args.per_type, 0)
    for punk_type in TYPES:
        samples = generator.decode(noise, generator.requests([punk_type] * args.per_type, (), 0))
        chosen = classifier.predict_proba(samples)[list(TYPES)].idxmax(axis=1)
        palette = judge.palette_share(samples)
        print(
            f"| {punk_type} | {(chosen == punk_type).mean():.1%} | {palette:.2%} | {len(noise)} |"
        )

    print("\n| asked for | found by the classifier | n |\n|---|---:|---:|")
    noise = latent(args.per_accessory, 1)
    found = []
    for punk_type, names in CHECKED_ACCESSORIES.items():
        for name in names:
            asked = generator.requests([punk_type] * len(noise), [name], 1)
            samples = generator.decode(noise, asked)
            share = float((classifier.predict_proba(samples)[name] >= 0.5).mean())
            found.append(share)
            print(f"| {punk_type} with {name} | {share:.1%} | {len(noise)} |")
    print(f"| **mean of {len(found)}** | **{sum(found) / len(found):.1%}** | |")

    print("\n| rare request | every asked accessory found | copies | n |\n|---|---:|---:|---:|")
    for punk_type, names in RARE_REQUESTS:
        samples = generator.generate(punk_type, args.per_accessory, 2, names)
        all_found = (classifier.predict_proba(samples)[list(names)] >= 0.5).all(axis=1).mean()
        copies = judge.train.memorisation(samples)["copies"]
        asked = f"{punk_type} with {', '.join(names)}"
        print(f"| {asked} | {all_found:.1%} | {copies:.1%} | {len(samples)} |")

    noise, types = latent(len(test.images), 1), test.types.to_numpy()
    samples = generator.decode(noise, generator.requests(types, (), 1))
    fid = frechet_distance(classifier.features(samples), judge.reference_features)
    copied = judge.train.memorisation(samples)
    painter = generator.decode(noise, conditions(types))
    painter_fid = frechet_distance(classifier.features(painter), judge.reference_features)
    print("\n| measure | value |\n|---|---:|")
    print(f"| punk FID, 1,000 generated vs the 1,000 test punks | {fid:.1f} |")
    print(f"| punk FID, 1,000 training punks vs the 1,000 test punks | {judge.real_fid:.1f} |")
    print(f"| FID ratio (generated / real) | {fid / judge.real_fid:.2f} |")
    print(f"| samples identical to a training punk | {copied['copies']:.2%} |")
    nearest = copied["nearest_pixels"]
    print(f"| median pixels differing from the nearest training punk | {nearest:.0f} |")
    alone = painter_fid / judge.real_fid
    print(f"| FID ratio of the painter alone, asked for the type only | {alone:.2f} |")
    print(f"| copies, the painter alone | {judge.train.memorisation(painter)['copies']:.2%} |")
    one = median_seconds(lambda: generator.generate("Male", 1, 0))
    many = median_seconds(lambda: generator.generate("Male", 64, 0, ["Cap"]))
    print(f"| generate 1 punk (median) | {one * 1000:.1f} ms |")
    print(f"| generate 64 punks (median) | {many * 1000:.1f} ms |")
    print(f"| load the generator (TensorFlow already imported) | {load_seconds:.2f} s |")


if __name__ == "__main__":
    main()
