"""``tunesmith harmonize``: keep a melody (or chosen tracks) note for note and write the other voices."""

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
        "harmonize",
        help="keep a melody (or chosen tracks) note for note and write the other voices",
        formatter_class=Formatter,
        description="Write N versions of MELODY with its tracks kept note for note and the other voices written by a\n"
        "transformer run that learned several instruments (e.g. one trained on the Bach chorales, whose voices are\n"
        "a string quartet: a melody is given to it as the soprano's violin). Each file holds the kept notes as they\n"
        "were and the new voices.",
    )
    p.add_argument("melody", help="a MIDI (or score) file: the melody, or the tracks to keep")
    p.add_argument("--run", required=True, help="a transformer run folder, or a shipped transformer's name")
    p.add_argument("--out", required=True, help="folder for the MIDI files")
    p.add_argument("-n", type=positive_int, default=4, help="how many versions (one batch; each with its own seed)")
    p.add_argument("--tracks", default=None, help="the tracks to keep, counted from 1 (default: all of them)")
    p.add_argument(
        "--as-program",
        type=int,
        default=None,
        help="the General MIDI program the kept tracks are given to the model as (default: their own where the "
        "model knows it, else its highest main instrument)",
    )
    sampling_arguments(p, "tokens")
    p.add_argument("--seed", type=int, default=0, help="version i is written with seed SEED + i")
    p.add_argument(
        "--allow-parallels",
        action="store_true",
        help="let the voices move in parallel fifths and octaves (forbidden by default, as in part writing)",
    )
    p.add_argument(
        "--candidates",
        type=positive_int,
        default=4,
        help="versions drawn per one written: the best are kept (in the melody's key, ending on its tonic, the "
        "melody a chord tone on strong beats, voices in order; docs/controls.md); 1 writes every version drawn",
    )
    p.add_argument(
        "--any-key",
        action="store_true",
        help="do not ask the model for the melody's key (by default a model with attribute controls is, unless "
        "--key names another)",
    )
    p.add_argument(
        "--as-drawn",
        action="store_true",
        help="write the voices as the model drew them (by default a written note above the voice over it goes down "
        "an octave, and under a melody that ends on the tonic the voices end on the tonic triad)",
    )
    device_arguments(p)
    for name in control_options():
        d = declared()[name]
        p.add_argument(d.cli_flag, dest=name, default=None, metavar=d.metavar, help=f"attribute control: {d.help}")
    kept_chord_strictness(p)
    file_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.harmonize import harmonize

    use_threads(args.threads)
    written = harmonize(
        args.melody,
        args.run,
        args.out,
        n=args.n,
        tracks=args.tracks,
        as_program=args.as_program,
        seed=args.seed,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        device=args.device,
        controls=given_options(args, [*control_options(), "chord_strictness"]),
        wav=args.wav,
        png=args.png,
        score=args.score,
        avoid_parallels=not args.allow_parallels,
        candidates=args.candidates,
        in_key=not args.any_key,
        part_writing=not args.as_drawn,
    )
    for p in [*written, *(path for path, _ in written.wav), *written.png]:
        print(p)
    return 0
