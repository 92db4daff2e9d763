"""``tunesmith humanize``: a programmed drum part played as a drummer would."""

from __future__ import annotations

import argparse
from typing import Any

from ..jobs.catalog import use_threads
from .common import Formatter, device_arguments, file_arguments


def non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def add(sub: Any) -> None:
    p = sub.add_parser(
        "humanize",
        help="play a programmed drum part (on the grid, flat velocity) as a drummer would",
        formatter_class=Formatter,
        description="Write DRUMS with every hit of its drum track played as a drummer would: its timing moved off the\n"
        "16th grid and its velocity changed as a model trained on the Groove MIDI Dataset's drummers plays that hit\n"
        "in that groove (GrooVAE's humanization). The file's other tracks are kept note for note; its tempo map and\n"
        "time signatures too. Measured against three baselines: docs/drums.md.",
    )
    p.add_argument("drums", help="a MIDI file with a drum track (channel 10)")
    p.add_argument("--out", default="humanized", help="folder to write DRUMS_humanized.mid into")
    p.add_argument(
        "--amount",
        type=non_negative,
        default=1.0,
        help="how far each hit moves towards how the model plays it: 0 leaves the file as it is, 0.5 halfway, "
        "above 1 exaggerates",
    )
    p.add_argument(
        "--run",
        default="groove",
        help="a run that can humanize (trained with 'tunesmith train humanizer'), or a shipped one's name",
    )
    device_arguments(p)
    file_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.humanize import humanize

    use_threads(args.threads)
    print(
        humanize(
            args.drums, args.out, run=args.run, amount=args.amount, device=args.device, wav=args.wav, png=args.png,
            score=args.score,
        )
    )
    return 0
