"""``tunesmith chords``: a piece's chords, bar by bar."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import Formatter


def add(sub: Any) -> None:
    p = sub.add_parser(
        "chords",
        help="print a piece's chords bar by bar (root, quality and bass, in Harte's syntax)",
        formatter_class=Formatter,
        description="Name the chord of every half bar (or beat, or bar) of FILE: root, quality and bass in Harte's\n"
        "syntax (C:maj, A:min7, G:7/3; N where nothing sounds), from what sounds in it, every voice together.\n"
        "Measured against Bach chorales analysed by hand: docs/chords.md.",
    )
    p.add_argument("file", help="a MIDI or score file (MusicXML, ABC, ...)")
    p.add_argument("--per", choices=("half", "beat", "bar"), default="half", help="one chord per half bar, beat or bar")
    p.add_argument(
        "--json",
        action="store_true",
        help='print a list of {"start": seconds, "end": seconds, "chord": "C:maj"} (a chord that lasts several '
        "segments once)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.chords import bar_lines_text, chords

    found = chords(args.file, args.per)
    print(json.dumps(found["segments"], indent=1) if args.json else bar_lines_text(found["bars"]))
    return 0
