"""``tunesmith plot``: draw a piano roll, training curves, or a dataset's distributions."""

from __future__ import annotations

import argparse
from typing import Any

from .common import Formatter


def add(sub: Any) -> None:
    p = sub.add_parser(
        "plot",
        help="draw a piano roll, training curves, or a dataset's distributions",
        formatter_class=Formatter,
        description="FILE.mid: a piano roll (time in seconds or bars, pitch names on the axis, velocity as shade).\n"
        "RUN [RUN ...]: training curves from each run's metrics.jsonl in one figure (losses over steps); runs\n"
        "that log musical statistics of their samples (C-RNN-GAN, GAN) get one panel per statistic, real data\n"
        "dashed. DIR (a prepared dataset): histograms of pitch, step, duration and velocity, each piece's pitch\n"
        "range, and piece lengths.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a MIDI or score file, a dataset folder, or run folders (or shipped models' names)",
    )
    p.add_argument("--out", required=True, help="the PNG file to write")
    p.add_argument(
        "--time", "--unit", dest="time", choices=("seconds", "bars"), default="seconds", help="piano roll: time axis"
    )
    p.add_argument("--stats", default=None, help="runs: comma-separated panels to draw (default: losses, statistics)")
    p.add_argument(
        "--split", choices=("all", "train", "validation", "test"), default="all", help="dataset: pieces to count"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.plot import plot

    stats = args.stats.split(",") if args.stats else None
    print(plot(args.paths, args.out, time=args.time, split=args.split, stats=stats))
    return 0
