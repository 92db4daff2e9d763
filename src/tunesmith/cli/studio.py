"""``tunesmith studio``: a page in the browser to generate, regenerate bars, harmonise, see and hear
(docs/studio.md)."""

from __future__ import annotations

import argparse
from typing import Any

from ..jobs.catalog import use_threads
from .common import Formatter, positive_int


def add(sub: Any) -> None:
    p = sub.add_parser(
        "studio",
        help="a page in the browser to generate, regenerate bars, harmonise, see and hear (docs/studio.md)",
        formatter_class=Formatter,
        description="Serve the studio: a page on this machine where you pick a model (the shipped ones and every run\n"
        "under --runs), give it a MIDI file or an example, generate variations, see their piano rolls, hear\n"
        "them and download MIDI, with the command line that writes the same files. Needs the 'studio' extra:\n"
        "pip install 'tunesmith[studio]'. It listens on 127.0.0.1 (this machine only) unless --host says otherwise.",
    )
    p.add_argument("--runs", default=None, metavar="DIR", help="a folder of run folders to offer as models")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every network; see the docs)")
    p.add_argument("--port", type=positive_int, default=7860, help="port to listen on")
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="keep uploads and results in DIR (default: a temporary folder, removed when the studio stops)",
    )
    p.add_argument(
        "--concurrency", type=positive_int, default=1, help="generations run at once; the others wait in a queue"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    use_threads(None)
    from ..studio import serve

    serve(args.runs, host=args.host, port=args.port, work=args.out, concurrency=args.concurrency)
    return 0
