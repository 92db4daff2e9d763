"""The ``tunesmith`` command line. It only parses options and calls the library; errors from the library
(:class:`~tunesmith.errors.TunesmithError`) are printed without a traceback and exit with status 1."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .errors import TunesmithError

DEFAULT_CACHE = Path(os.environ.get("TUNESMITH_CACHE", Path.home() / ".cache" / "tunesmith"))

Handler = Callable[[argparse.Namespace], int]


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    pass


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


# ---------------------------------------------------------------------------------------------- prepare / info
def _print_info(info: dict) -> None:
    p = print
    p(f"dataset   {info['path']}")
    p(f"source    {info['source']}")
    p(f"pieces    {info['pieces']}   notes {info['notes']:,}   hours {info['hours']:.2f}")
    p(f"{'split':<11}{'pieces':>8}{'notes':>12}{'hours':>9}")
    for name, s in info["splits"].items():
        p(f"{name:<11}{s['pieces']:>8}{s['notes']:>12,}{s['hours']:>9.2f}")
    if info["pitch_range"]:
        lo, hi = info["pitch_range"]
        p(f"pitches   {lo}..{hi}")
    skipped = info["skipped"]
    p(f"skipped   {len(skipped)} file(s)" + (":" if skipped else ""))
    for s in skipped[:20]:
        p(f"  {s['path']}: {s['reason']}")
    if len(skipped) > 20:
        p(f"  ... and {len(skipped) - 20} more (see skipped.csv)")


def cmd_prepare(args: argparse.Namespace) -> int:
    from .dataset import prepare

    source = args.source
    if args.download:
        if source is not None:
            raise TunesmithError("give either SOURCE or --download, not both")
        from .corpora.download import fetch_maestro

        source = fetch_maestro(args.cache_dir, progress=not args.quiet)
    if source is None:
        raise TunesmithError("no SOURCE given: name a folder, a MIDI file, 'bach', or use --download maestro")
    ds = prepare(
        source,
        args.out,
        workers=args.workers,
        limit=args.limit,
        layout=args.layout,
        force=args.force,
        progress=not args.quiet,
    )
    info = ds.info()
    if ds.reused:
        print(f"{args.out}: up to date with its source, nothing to do (--force rebuilds)")
    else:
        print(f"prepared {info['pieces']} pieces in {ds.manifest['seconds_to_prepare']:.1f} s")
    _print_info(info)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .dataset import Dataset

    info = Dataset.load(args.dir).info()
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        _print_info(info)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .dataset import prepare

    out = Path(args.out)
    print(f"[1/1] preparing the built-in Bach chorales into {out / 'data'}")
    ds = prepare("bach", out / "data", workers=args.workers, limit=args.limit, progress=not args.quiet)
    _print_info(ds.info())
    return 0


# ---------------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tunesmith",
        description="Learn from MIDI collections and compose new music.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"tunesmith {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "prepare",
        help="parse a corpus once into a dataset folder",
        formatter_class=_Formatter,
        description="Parse every music file of SOURCE (in parallel) into a dataset folder that loads fast.\n"
        "SOURCE is 'bach' (the built-in Bach chorales), a folder (searched recursively; a MAESTRO folder is\n"
        "recognised by its maestro-v*.csv and its official split is used), or one file. Unreadable files are\n"
        "skipped and listed in skipped.csv. Running it again over an unchanged source reuses the dataset.",
    )
    p.add_argument("source", nargs="?", help="'bach', a folder, or a music file")
    p.add_argument("--out", required=True, help="dataset folder to write")
    p.add_argument(
        "--workers", type=_positive_int, default=None, help="parallel parser processes (default: cores, at most 8)"
    )
    p.add_argument("--limit", type=_positive_int, default=None, help="use only the first N files (sorted by path)")
    p.add_argument(
        "--layout",
        choices=("auto", "folder", "maestro"),
        default="auto",
        help="how to read a folder: auto detects MAESTRO by its csv; folder ignores the csv",
    )
    p.add_argument(
        "--download",
        choices=("maestro",),
        default=None,
        help="fetch the official MAESTRO v3 MIDI archive (checksum verified, resumable) and prepare it",
    )
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="where downloads are kept")
    p.add_argument("--force", action="store_true", help="rebuild even if the dataset is up to date")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser(
        "info",
        help="summarise a prepared dataset",
        formatter_class=_Formatter,
        description="Pieces, notes and hours per split, pitch range and skipped files of a dataset.",
    )
    p.add_argument("dir", help="a folder written by 'tunesmith prepare'")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser(
        "demo",
        help="run the main job on the built-in Bach chorales",
        formatter_class=_Formatter,
        description="Prepare the built-in Bach chorales into OUT/data and summarise them.",
    )
    p.add_argument("--out", default="out", help="output folder")
    p.add_argument("--workers", type=_positive_int, default=None, help="parallel parser processes")
    p.add_argument("--limit", type=_positive_int, default=None, help="use only the first N chorales")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.func
    try:
        return handler(args)
    except TunesmithError as e:
        print(f"tunesmith {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"tunesmith {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
