"""``tunesmith demo``: run the main job on the built-in Bach chorales."""

from __future__ import annotations

import argparse
from typing import Any

from ..jobs.catalog import DEMO_MODELS
from .common import Formatter, positive_int


def add(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="run the main job on the built-in Bach chorales",
        formatter_class=Formatter,
        description="First, where models are shipped with tunesmith ('tunesmith models'), a few pieces of each into\n"
        "OUT/shipped (MIDI, WAV, piano roll; said and skipped where none is). Then\n"
        "prepare the built-in Bach chorales into OUT/data (with OUT/data.png), train the RNN note\n"
        "model, the piano-roll GAN, C-RNN-GAN and its baseline on them into OUT/runs (curves in OUT/training.png),\n"
        "then evaluate them against the test split: OUT/report.md and OUT/report.json compare the models, and\n"
        "OUT/samples holds MIDI, WAV and piano-roll PNG samples of each.",
    )
    p.add_argument("--out", default="out", help="output folder")
    p.add_argument("--workers", type=positive_int, default=None, help="parallel parser processes")
    p.add_argument("--limit", type=positive_int, default=None, help="use only the first N chorales")
    p.add_argument("--models", default=",".join(DEMO_MODELS), help="models to train, comma-separated")
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every model's step budget (" + ", ".join(f"{k} {v['max_steps']}" for k, v in DEMO_MODELS.items())
        + "); 0.1 for a quick look",
    )
    p.add_argument("-n", type=positive_int, default=64, help="pieces per model for the evaluation")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.demo import demo

    demo(
        args.out,
        models=[m.strip() for m in args.models.split(",") if m.strip()],
        scale=args.scale,
        n=args.n,
        workers=args.workers,
        limit=args.limit,
        progress=not args.quiet,
    )
    return 0
