"""``tunesmith prepare``: parse a corpus once into a dataset folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import DEFAULT_CACHE, Formatter, positive_int


def add(sub: Any) -> None:
    p = sub.add_parser(
        "prepare",
        help="parse a corpus once into a dataset folder",
        formatter_class=Formatter,
        description="Parse every music file of SOURCE (in parallel) into a dataset folder that loads fast.\n"
        "SOURCE is 'bach' (the built-in Bach chorales), a folder (searched recursively; a MAESTRO folder is\n"
        "recognised by its maestro-v*.csv and its official split is used), or one file. Unreadable files are\n"
        "skipped and listed in skipped.csv. Running it again over an unchanged source reuses the dataset.",
    )
    p.add_argument("source", nargs="?", help="'bach', a folder, or a music file")
    p.add_argument("--out", required=True, help="dataset folder to write")
    p.add_argument(
        "--workers", type=positive_int, default=None, help="parallel parser processes (default: cores, at most 8)"
    )
    p.add_argument("--limit", type=positive_int, default=None, help="use only the first N files (sorted by path)")
    p.add_argument(
        "--layout",
        choices=("auto", "folder", "maestro", "groove"),
        default="auto",
        help="how to read a folder: auto detects MAESTRO by its csv and the Groove MIDI Dataset by its info.csv; "
        "folder ignores them",
    )
    p.add_argument(
        "--download",
        choices=("maestro", "groove"),
        default=None,
        help="fetch an official MIDI archive (checksum verified, resumable) and prepare it: maestro (MAESTRO v3, "
        "piano) or groove (the Groove MIDI Dataset v1.0.0, drums)",
    )
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="where downloads are kept")
    p.add_argument("--force", action="store_true", help="rebuild even if the dataset is up to date")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.prepare import describe, prepare_dataset

    ds = prepare_dataset(
        args.source,
        args.out,
        download=args.download,
        cache_dir=args.cache_dir,
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
    print(describe(info))
    return 0
