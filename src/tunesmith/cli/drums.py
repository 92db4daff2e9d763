"""``tunesmith drums``: a drum track for a song that has none."""

from __future__ import annotations

import argparse
from typing import Any

from ..jobs.catalog import use_threads
from .common import Formatter, device_arguments, file_arguments, positive_int

#: the styles the shipped drum model knows, for --help (a run's own are checked when it plays)
STYLE_HELP = "rock, latin, funk, jazz, hiphop, neworleans, afrobeat, afrocuban, dance, soul, reggae, blues, ..."


def add(sub: Any) -> None:
    p = sub.add_parser(
        "drums",
        help="add a drum track that follows a song (its tempo, bars, energy and sections)",
        formatter_class=Formatter,
        description="Write SONG with a drum track added, played by a drum model (the shipped 'drums' by default):\n"
        "on the song's own tempo map and time signatures, bar by bar; busier where the song is (its notes and\n"
        "their loudness per bar) and calmer where it is calm; a fill in the bar before each change of section (a\n"
        "4-bar phrase whose harmony or energy differs from the one before; docs/drums.md). The song's tracks are\n"
        "kept note for note. A song that has drums keeps them unless --replace.",
    )
    p.add_argument("song", help="a MIDI (or score) file")
    p.add_argument("--out", default="drums", help="folder to write SONG_drums.mid into")
    p.add_argument("--style", default=None, help=f"the drumming style: {STYLE_HELP} (default: any)")
    p.add_argument("--replace", action="store_true", help="replace the song's drum track instead of refusing")
    p.add_argument("--run", default="drums", help="a drum model's run folder, or a shipped one's name")
    p.add_argument("-n", type=positive_int, default=1, help="how many drum tracks to write (one file each)")
    p.add_argument("--seed", type=int, default=0, help="random seed: the same seed plays the same drums")
    p.add_argument("--temperature", type=float, default=1.0, help="> 1 more adventurous, < 1 plainer")
    device_arguments(p)
    file_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..jobs.drums import drums_for_song

    use_threads(args.threads)
    r = drums_for_song(
        args.song, args.out, run=args.run, style=args.style, replace=args.replace, n=args.n, seed=args.seed,
        temperature=args.temperature, device=args.device, wav=args.wav, png=args.png, score=args.score,
    )  # fmt: skip
    sections = ", ".join(map(str, r["sections"])) or "none found"
    print(f"{r['bars']} bars; sections start at bars {sections} (a fill before each)")
    for path in r["files"]:
        print(path)
    return 0
