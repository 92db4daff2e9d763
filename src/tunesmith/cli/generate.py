"""``tunesmith generate``: compose new pieces with a trained run."""

from __future__ import annotations

import argparse
from typing import Any

from ..jobs.catalog import specs, use_threads
from .common import (
    Formatter,
    device_arguments,
    family_options,
    file_arguments,
    given_options,
    positive_int,
    sampling_arguments,
)


def add(sub: Any) -> None:
    p = sub.add_parser(
        "generate",
        help="compose new pieces with a trained run",
        formatter_class=Formatter,
        description="Write N generated pieces as MIDI files into OUT. With --primer, each continues that MIDI\n"
        "file (the output holds the primer, then the new notes); without, each starts from a training excerpt.",
    )
    p.add_argument("run", help="a run folder written by 'tunesmith train', or a shipped model's name ('models' lists)")
    p.add_argument("--out", required=True, help="folder for the MIDI files")
    p.add_argument("-n", type=positive_int, default=4, help="how many pieces (generated in one batch)")
    p.add_argument(
        "--length",
        type=int,
        default=200,
        help="new notes (rnn, transformer), tone events (crnngan, baseline) or bars (gan) per piece",
    )
    sampling_arguments(p, "pitches (rnn) or tokens (transformer)")
    p.add_argument("--primer", default=None, help="a MIDI (or score) file to continue")
    p.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same pieces")
    device_arguments(p)
    family_options(p, specs())
    file_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.generate import generate

    use_threads(args.threads)
    written = generate(
        args.run,
        args.out,
        n=args.n,
        length=args.length,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        primer=args.primer,
        seed=args.seed,
        device=args.device,
        options=given_options(args),
        wav=args.wav,
        png=args.png,
        score=args.score,
    )
    engines = {engine for _, engine in written.wav}
    for p in written:
        print(p)
    for path, _ in written.wav:
        print(path)
    if engines:
        print(f"WAV files rendered with {'; '.join(sorted(engines))}")
    for path in written.png:
        print(path)
    return 0
