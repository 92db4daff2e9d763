"""``tunesmith render``: render a MIDI file to WAV."""

from __future__ import annotations

import argparse
from typing import Any

from .common import Formatter, positive_int


def add(sub: Any) -> None:
    p = sub.add_parser(
        "render",
        help="render a MIDI file to WAV",
        formatter_class=Formatter,
        description="Render a MIDI (or score) file to a 16-bit WAV file. Engines, in the order 'auto' tries them:\n"
        "midirenderer (a SoundFont synthesizer installed with tunesmith; .sf2 fonts only),\n"
        "fluidsynth (FluidSynth through pyfluidsynth: pip install 'tunesmith[soundfont]' and libfluidsynth),\n"
        "symusic (symusic's SoundFont synthesizer), builtin (decaying harmonics; needs nothing, always works).\n"
        "The SoundFont: --soundfont, else $TUNESMITH_SOUNDFONT, else pretty_midi's TimGM6mb.sf2, else a system\n"
        "General MIDI font (/usr/share/sounds/sf2). The engine used, and why others were passed over, is printed.",
    )
    p.add_argument("file", help="a MIDI or score file")
    p.add_argument("--out", required=True, help="the WAV file to write")
    p.add_argument("--sample-rate", type=positive_int, default=22050, help="samples per second")
    p.add_argument("--soundfont", default=None, metavar="FILE", help="a General MIDI SoundFont (.sf2/.sf3)")
    p.add_argument(
        "--engine",
        choices=("auto", "midirenderer", "fluidsynth", "symusic", "builtin"),
        default="auto",
        help="synthesizer; naming one that cannot run here is an error",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.render import render_file

    path, engine = render_file(
        args.file, args.out, sample_rate=args.sample_rate, soundfont=args.soundfont, engine=args.engine
    )
    print(f"{path}: rendered with {engine}")
    return 0
