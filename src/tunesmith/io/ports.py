"""MIDI ports through mido with python-rtmidi (ALSA or JACK on Linux, CoreMIDI on macOS, Windows MultiMedia):
ports chosen by name, a virtual port where the system allows one, and in-process ports for tests and benchmarks.

Every failure is a :class:`~tunesmith.errors.PortError` that says what to do. rtmidi's ALSA backend prints its
own complaints to the process's C-level stderr (``ALSA lib seq_hw.c: ... open /dev/snd/seq failed``) before it
raises; those lines are kept off the terminal here (:func:`_quiet`) and the error says it in one line instead."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator

import mido

from ..errors import PortError

#: the name of the virtual ports tunesmith opens (what a DAW lists)
VIRTUAL_NAME = "tunesmith"
#: the MIDI systems by the name ``--api`` takes, as rtmidi names them (None: the system's own)
APIS = {"alsa": "LINUX_ALSA", "jack": "UNIX_JACK", "coremidi": "MACOSX_CORE", "windows": "WINDOWS_MM"}
#: the environment variable that chooses one where ``--api`` is not given
API_ENV = "TUNESMITH_MIDI_API"


def backend(api: str | None = None) -> mido.Backend:
    """mido's rtmidi backend on ``api`` (a key of :data:`APIS`; None: ``$TUNESMITH_MIDI_API``, else the system's
    default: ALSA on Linux, CoreMIDI on macOS, Windows MultiMedia)."""
    api = api or os.environ.get(API_ENV) or None
    if api is None:
        return mido.Backend("mido.backends.rtmidi")
    if api not in APIS:
        raise PortError(f"--api {api!r}: choose one of {', '.join(APIS)}")
    return mido.Backend(f"mido.backends.rtmidi/{APIS[api]}")


NO_SYSTEM = (
    "no MIDI system to open ports with ({why}); on Linux load ALSA's sequencer (the snd-seq module) or start a JACK "
    "server (then --api jack); on macOS and Windows any MIDI device or IAC / loopMIDI port will do (docs/live.md)"
)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The C-level stderr sent to the null device for a moment (rtmidi's ALSA messages)."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a captured stderr (tests): nothing to hide
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def port_names(api: str | None = None) -> tuple[list[str], list[str]]:
    """The names of the system's MIDI inputs and outputs."""
    b = backend(api)
    try:
        with _quiet():
            return list(b.get_input_names()), list(b.get_output_names())
    except Exception as e:  # rtmidi raises its own SystemError where there is no MIDI system
        raise PortError(NO_SYSTEM.format(why=str(e).strip() or type(e).__name__)) from None


def choose(name: str, names: list[str], what: str) -> str:
    """The one port of ``names`` that ``name`` names: exactly, else as a part of it, ignoring case."""
    if name in names:
        return name
    hits = [n for n in names if name.lower() in n.lower()]
    if len(hits) == 1:
        return hits[0]
    listed = ", ".join(repr(n) for n in names) or "none"
    if not hits:
        raise PortError(f"no MIDI {what} named {name!r}; the {what}s are: {listed} ('tunesmith live --list')")
    raise PortError(f"{name!r} names {len(hits)} MIDI {what}s ({', '.join(map(repr, hits))}): give more of the name")


def open_input(
    name: str | None, callback: Callable[[mido.Message], None], api: str | None = None
) -> mido.ports.BaseInput:
    """The input ``name`` (None: a virtual input named :data:`VIRTUAL_NAME`), calling ``callback`` with each
    message from rtmidi's thread."""
    b = backend(api)
    try:
        with _quiet():
            if name is None:
                return b.open_input(VIRTUAL_NAME, virtual=True, callback=callback)
            return b.open_input(choose(name, port_names(api)[0], "input"), callback=callback)
    except PortError:
        raise
    except Exception as e:
        raise PortError(_why("input", name, e)) from None


def open_output(name: str | None, api: str | None = None) -> mido.ports.BaseOutput:
    """The output ``name`` (None: a virtual output named :data:`VIRTUAL_NAME`)."""
    b = backend(api)
    try:
        with _quiet():
            if name is None:
                return b.open_output(VIRTUAL_NAME, virtual=True)
            return b.open_output(choose(name, port_names(api)[1], "output"))
    except PortError:
        raise
    except Exception as e:
        raise PortError(_why("output", name, e)) from None


def _why(what: str, name: str | None, e: Exception) -> str:
    text = str(e).strip() or type(e).__name__
    if "ALSA" in text or "JACK" in text or "sequencer" in text:
        return NO_SYSTEM.format(why=text)
    if name is None:
        flag = "--in" if what == "input" else "--out"
        return (
            f"this system cannot open a virtual MIDI {what} ({text}): name a port with {flag} "
            "(Windows: create one with loopMIDI; docs/live.md)"
        )
    return f"could not open the MIDI {what} {name or VIRTUAL_NAME!r}: {text}"


class InProcessPort:
    """A port inside the process: what is sent to it is kept (``sent``, with the time it arrived on ``clock``
    where one is given) and handed to ``listener`` where one is set. Two of them, each the other's listener,
    are a cable: what a test or benchmark plays into tunesmith and what comes back."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.clock = clock
        self.sent: list[tuple[float, mido.Message]] = []
        self.listener: Callable[[mido.Message], None] | None = None
        self.closed = False
        self._lock = threading.Lock()

    def send(self, msg: mido.Message) -> None:
        if self.closed:
            raise PortError("the MIDI port was closed")
        with self._lock:
            self.sent.append((self.clock() if self.clock else 0.0, msg))
        if self.listener is not None:
            self.listener(msg)

    def close(self) -> None:
        self.closed = True
