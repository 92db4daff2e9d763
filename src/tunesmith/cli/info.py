"""``tunesmith info``: summarise a prepared dataset."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import Formatter


def add(sub: Any) -> None:
    p = sub.add_parser(
        "info",
        help="summarise a prepared dataset",
        formatter_class=Formatter,
        description="Pieces, notes and hours per split, pitch range and skipped files of a dataset.",
    )
    p.add_argument("dir", help="a folder written by 'tunesmith prepare'")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.catalog import dataset_info
    from ..jobs.prepare import describe

    info = dataset_info(args.dir)
    print(json.dumps(info, indent=1) if args.json else describe(info))
    return 0
