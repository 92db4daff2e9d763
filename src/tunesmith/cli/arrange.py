"""``tunesmith arrange``: a lead sheet's melody kept note for note, an accompaniment over its chords."""

from __future__ import annotations

import argparse
from typing import Any

from ..jobs.catalog import use_threads
from .common import (
    Formatter,
    control_options,
    declared,
    device_arguments,
    file_arguments,
    given_options,
    kept_chord_strictness,
    positive_int,
    sampling_arguments,
)


def add(sub: Any) -> None:
    p = sub.add_parser(
        "arrange",
        help="arrange a lead sheet: its melody kept, the other voices written over its chords",
        formatter_class=Formatter,
        description="Write N arrangements of SHEET: its melody kept note for note and the other voices written by a\n"
        "transformer run trained with chord controls, bar by bar over the sheet's chord symbols (MusicXML or ABC;\n"
        "one chord a bar, or two where it changes at the half), or over --chords for a melody without them.\n"
        "Each file holds the melody as it was and the new voices. Of the --candidates versions drawn, those kept\n"
        "follow the chords in the most bars (then harmonize's ranking), and a bar the voices make another chord is\n"
        "mended by moving a written note to the chord tone they leave out.",
    )
    p.add_argument("sheet", help="a lead sheet (MusicXML .mxl/.musicxml, ABC), or a MIDI melody with --chords")
    p.add_argument("--run", required=True, help="a transformer run folder, or a shipped transformer's name")
    p.add_argument("--out", required=True, help="folder for the MIDI files")
    p.add_argument("-n", type=positive_int, default=1, help="how many arrangements (each with its own seed)")
    p.add_argument("--tracks", default=None, help="the melody's tracks, counted from 1 (default: all of them)")
    sampling_arguments(p, "tokens")
    p.add_argument("--seed", type=int, default=0, help="arrangement i is written with seed SEED + i")
    p.add_argument(
        "--candidates", type=positive_int, default=4,
        help="versions drawn per one written: the best are kept (as harmonize ranks them)",
    )  # fmt: skip
    device_arguments(p)
    for name in control_options():
        d = declared()[name]
        extra = " (default: the sheet's chord symbols)" if name == "chords" else ""
        help_text = f"attribute control: {d.help}{extra}"
        p.add_argument(d.cli_flag, dest=name, default=None, metavar=d.metavar, help=help_text)
    kept_chord_strictness(p)
    file_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.arrange import arrange

    use_threads(args.threads)
    controls = given_options(args, [*control_options(), "chord_strictness"])
    written = arrange(
        args.sheet,
        args.run,
        args.out,
        n=args.n,
        chords=controls.pop("chords", None),
        tracks=args.tracks,
        seed=args.seed,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        device=args.device,
        controls=controls,
        candidates=args.candidates,
        wav=args.wav,
        png=args.png,
        score=args.score,
    )
    for p in [*written, *(path for path, _ in written.wav), *written.png]:
        print(p)
    return 0
