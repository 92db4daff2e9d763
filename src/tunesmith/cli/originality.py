"""``tunesmith originality``: is it a copy? the longest run of each piece's notes found in a dataset's pieces."""

from __future__ import annotations

import argparse
from typing import Any

from .common import Formatter


def add(sub: Any) -> None:
    p = sub.add_parser(
        "originality",
        help="is it a copy? the longest run of each piece's notes found in a dataset's pieces",
        formatter_class=Formatter,
        description="For each music file (a file, or every one in a folder), the longest run of consecutive notes\n"
        "that also occurs in a piece of the dataset's split, with that piece named. Transposed and re-timed copies\n"
        "count (intervals and ratios of onset intervals are compared). A run of 16 notes or more is a copy.\n"
        "The index of the split is built once and kept beside the dataset; a shipped model that keeps one of its\n"
        "training data (--run bach) needs no dataset.",
    )
    p.add_argument("path", help="a music file or a folder of them")
    p.add_argument("--data", default=None, help="a prepared dataset folder to search")
    p.add_argument(
        "--run",
        default=None,
        metavar="RUN",
        help="instead of --data: a shipped model (or run) that keeps an index of its training data, e.g. bach",
    )
    p.add_argument("--split", default="train", choices=("train", "validation", "test"), help="the pieces to search")
    p.add_argument("--json", default=None, help="also write every figure to this JSON file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.catalog import write_json
    from ..jobs.originality import check_originality

    r = check_originality(args.path, args.data, args.split, run=args.run)
    n = r["copy_notes"]
    for p in r["pieces"]:
        where = f"  from {p['from']} (at its note {p['at_note']})" if p["longest"] else ""
        flag = "  COPY" if p["longest"] >= n else ""
        if p["longest"]:
            print(f"{p['source']}: longest run {p['longest']} notes{flag}{where}")
        else:  # the index finds runs of WINDOW + 1 notes and longer
            print(f"{p['source']}: no run of {r['shortest_found']} notes or more")
    for f, reason in r["unreadable"]:
        print(f"  skipped {f}: {reason}")
    print(f"{r['copied_share']:.0%} of {len(r['pieces'])} piece(s) hold a run of {n}+ notes of a {r['split']} piece")
    if args.json:
        write_json(args.json, r)
        print(args.json)
    return 0
