"""The ``tunesmith`` command line: one module per command, each its parser (``add``) beside its handler (``run``),
short, and each calling one job. Errors from the library (:class:`~tunesmith.errors.TunesmithError`) are printed
without a traceback and exit with status 1.

The faces import only ``jobs`` (and ``errors``, ``config``, ``progress``; the command line also starts
the studio): ``tests/test_architecture.py`` checks it. Building the parser imports neither torch nor MidiTok: the
families' declarations and the jobs' catalog are torch-free.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import __version__, progress
from ..errors import TunesmithError
from . import (
    arrange,
    chords,
    compare,
    demo,
    drums,
    evaluate,
    generate,
    harmonize,
    humanize,
    info,
    live,
    models,
    originality,
    plot,
    prepare,
    render,
    rollstats,
    studio,
    train,
)
from .common import Formatter, Handler

#: the commands, in the order ``--help`` lists them
COMMANDS = (
    prepare, info, train, generate, harmonize, arrange, drums, humanize, chords, originality, evaluate, rollstats,
    compare, render, plot, models, demo, studio, live,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tunesmith",
        description="Learn from MIDI collections and compose new music.",
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"tunesmith {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.func
    progress.quiet(bool(getattr(args, "quiet", False)))  # -q: no bar at all, also the jobs' inner ones
    try:
        return handler(args)
    except TunesmithError as e:
        print(f"tunesmith {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"tunesmith {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`tunesmith chords song.mid | head`): a normal end, no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that the exit's flush does not fail
        return 0
    finally:
        progress.quiet(False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
