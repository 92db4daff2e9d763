"""``tunesmith compare``: compare folders of MIDI files (from any generator) with a dataset split."""

from __future__ import annotations

import argparse
from typing import Any

from .common import Formatter


def add(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help="compare folders of MIDI files (from any generator) with a dataset split",
        formatter_class=Formatter,
        description="Set each PATH's pieces against excerpts of a prepared dataset's split as long (in notes) as\n"
        "each piece, as 'tunesmith evaluate' does for runs (docs/evaluation.md): MSE/RMSE of the set statistics,\n"
        "Yang & Lerch's overlapping area and KL. Unreadable files are listed and skipped.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="folders (or files) of MIDI or score files")
    p.add_argument("--data", required=True, help="a prepared dataset: the reference")
    p.add_argument("--split", choices=("train", "validation", "test"), default="test", help="reference split")
    p.add_argument("--seed", type=int, default=0, help="seed of the reference excerpts")
    p.add_argument("--json", default=None, help="also write every number to this JSON file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.catalog import write_json
    from ..jobs.compare import compare_folders

    results = compare_folders(args.paths, args.data, args.split, args.seed)
    print(f"{'folder':<28}{'pieces':>7}{'MSE':>9}{'RMSE':>9}{'overlap':>9}{'KL':>8}")
    for r in results:
        name = r["path"] if len(r["path"]) <= 27 else "..." + r["path"][-24:]
        e = r["errors"]
        print(f"{name:<28}{r['pieces']:>7}{e['mse']:>9.4f}{e['rmse']:>9.4f}{r['overlap']:>9.3f}{r['kl']:>8.3f}")
        for f, reason in r["unreadable"]:
            print(f"  skipped {f}: {reason}")
    if args.json:
        write_json(args.json, results)
        print(args.json)
    return 0
