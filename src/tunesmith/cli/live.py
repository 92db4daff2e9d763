"""``tunesmith live``: play with tunesmith in real time through MIDI ports."""

from __future__ import annotations

import argparse
from typing import Any

from ..jobs.catalog import LIVE_MODES, use_threads
from .common import Formatter, positive_int, sampling_arguments


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def channel(text: str) -> int:
    value = positive_int(text)
    if value > 16:
        raise argparse.ArgumentTypeError(f"a MIDI channel is 1..16, got {value}")
    return value - 1


def add(sub: Any) -> None:
    p = sub.add_parser(
        "live",
        help="play with tunesmith in real time: it answers your phrases, accompanies you or plays on (MIDI ports)",
        formatter_class=Formatter,
        description="Play with tunesmith through MIDI ports, from a keyboard or a DAW (docs/live.md):\n"
        "  answer     when you stop for --wait beats, it answers with --bars bars that continue your phrase\n"
        "  accompany  chords and bass under you, bar by bar at your tempo (the chords it hears in your last bar, or\n"
        "             --chords), and drums with --drums STYLE\n"
        "  continue   once you stop, it plays on from what you played until Ctrl-C (play along: it listens)\n"
        "Without --in / --out it opens virtual ports named 'tunesmith' (Linux, macOS) for a DAW to connect to.\n"
        "The tempo is yours (from your playing), --tempo's, or the DAW's MIDI clock (--clock). Ctrl-C stops,\n"
        "every note released.",
    )
    p.add_argument("mode", nargs="?", choices=LIVE_MODES, default="answer", help="what tunesmith does")
    p.add_argument("--list", action="store_true", help="list the MIDI inputs and outputs and stop")
    p.add_argument("--in", dest="port_in", default=None, metavar="PORT", help="the input port (a part of its name)")
    p.add_argument("--out", dest="port_out", default=None, metavar="PORT", help="the output port (a part of its name)")
    p.add_argument(
        "--run", default="piano", help="the model that answers and continues: a run folder or a shipped name"
    )
    p.add_argument(
        "--api", choices=("alsa", "jack", "coremidi", "windows"), default=None,
        help="the MIDI system (default: $TUNESMITH_MIDI_API, else the system's own: ALSA, CoreMIDI, Windows MM)",
    )  # fmt: skip
    p.add_argument("--wait", type=positive_float, default=1.0, help="beats of silence that end your phrase")
    p.add_argument("--bars", type=positive_int, default=2, help="bars an answer lasts")
    p.add_argument("--tempo", type=positive_float, default=None, help="beats a minute (default: follow yours)")
    p.add_argument("--clock", action="store_true", help="follow the DAW's MIDI clock (tempo, Start and Stop)")
    p.add_argument("--meter", type=positive_int, default=4, help="beats a bar")
    p.add_argument(
        "--thru", action="store_true",
        help="pass your notes through to --out as well (a keyboard without sound of its own, no DAW between)",
    )  # fmt: skip
    p.add_argument("--channel", type=channel, default=1, help="the MIDI channel tunesmith plays on (drums on 10)")
    p.add_argument(
        "--chords", default=None, metavar="PROGRESSION",
        help='accompany: play this progression (e.g. "C | G | Am | F") instead of the chords it hears',
    )  # fmt: skip
    p.add_argument("--drums", default=None, metavar="STYLE", help="accompany: drums in STYLE (e.g. funk, rock, any)")
    p.add_argument("--no-harmony", dest="harmony", action="store_false", help="accompany: drums only")
    p.add_argument(
        "--harmony-run", default=None, metavar="RUN",
        help="accompany: a model trained with chord controls writes the chords and bass, a bar ahead (e.g. bach; "
        "default: voiced by rule)",
    )  # fmt: skip
    p.add_argument("--drum-run", default="drums", help="accompany: the drum model (a run folder or a shipped name)")
    p.add_argument(
        "--key", action="store_true",
        help="answers asked for the key heard in what you played, where the model takes the key control: more of "
        "their notes in your scale, composed at half the speed (docs/live.md)",
    )  # fmt: skip
    p.add_argument("--memory", type=positive_float, default=16.0, help="beats of the music so far the model continues")
    sampling_arguments(p, "notes")
    p.add_argument("--seed", type=int, default=0, help="the first answer's seed (each next one the next seed)")
    p.add_argument("--threads", type=positive_int, default=None, help="CPU threads for the model (default: 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.live import LiveOptions, play, ports

    if args.list:
        found = ports(args.api)
        for what in ("inputs", "outputs"):
            print(f"{what}:")
            for name in found[what] or ["(none)"]:
                print(f"  {name}")
        return 0
    use_threads(args.threads)
    opts = LiveOptions(
        mode=args.mode, run=args.run, wait=args.wait, bars=args.bars, tempo=args.tempo, clock=args.clock,
        meter=args.meter, channel=args.channel, chords=args.chords, harmony=args.harmony, drums=args.drums,
        harmony_run=args.harmony_run, thru=args.thru, key=args.key,
        drum_run=args.drum_run, memory=args.memory, temperature=args.temperature, top_k=args.top_k,
        top_p=args.top_p, seed=args.seed,
    )  # fmt: skip
    stats = play(opts, port_in=args.port_in, port_out=args.port_out, api=args.api)
    if stats.latencies:
        ms = sorted(1000 * x for x in stats.latencies)
        print(f"{stats.answers} answer(s); first note out after it was due: median {ms[len(ms) // 2]:.1f} ms")
    return 0
