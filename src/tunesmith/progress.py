"""Progress bars that suit where the output goes: a live bar on a terminal, whole lines in a log file or CI.

tqdm redraws its bar in place with a carriage return, many times a second. Written to a file (``make demo > log``,
a CI log) every redraw stays: megabytes of half-lines. When the stream is not a terminal, :func:`progress_bar`
prints a complete line at most every :data:`LOG_INTERVAL` seconds, and one when the bar closes.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from tqdm.auto import tqdm

#: Seconds between progress lines when the output is not a terminal.
LOG_INTERVAL = 10.0


class _Lines:
    """A file-like wrapper that turns tqdm's in-place redraws (``\\r`` + bar) into one line per redraw."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        line = text.replace("\r", "").replace("\x1b[A", "").strip()
        if line:
            self.stream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def is_terminal(stream: IO[str] | None = None) -> bool:
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


#: set by :func:`quiet` (a command's ``-q``): every bar is off, also those deep in a job that no flag reaches
_QUIET = {"on": False}


def quiet(on: bool = True) -> None:
    """Turn every progress bar of this process off (``-q``) or back on."""
    _QUIET["on"] = bool(on)


def progress_bar(*, disable: bool = False, stream: IO[str] | None = None, **kwargs: Any) -> tqdm:
    """A tqdm bar on ``stream`` (stderr by default): live on a terminal; elsewhere whole lines, at most one every
    :data:`LOG_INTERVAL` seconds (``kwargs`` are tqdm's). Off where ``disable`` or :func:`quiet` says so."""
    disable = disable or _QUIET["on"]
    stream = sys.stderr if stream is None else stream
    if disable or is_terminal(stream):
        return tqdm(file=stream, disable=disable, dynamic_ncols=True, **kwargs)
    kwargs.setdefault("mininterval", LOG_INTERVAL)
    kwargs.setdefault("maxinterval", max(LOG_INTERVAL, kwargs["mininterval"]))
    return tqdm(file=_Lines(stream), ncols=100, **kwargs)
