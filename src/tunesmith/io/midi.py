"""MIDI files <-> :class:`~tunesmith.notes.Notes`, through symusic (a fast C++ parser).

What symusic does not do, and this module adds:

* **RMID** (RIFF-wrapped MIDI, ``RIFF....RMIDdata`` before ``MThd``) is a legitimate container that symusic
  rejects ("header is not MThd"); we unwrap its ``data`` chunk first.
* **Out-of-range data bytes** (velocity 176, controller value 143, ...) make symusic's strict parse fail; we
  parse again with ``sanitize_data=True``, which clamps them to 0..127 as mido's ``clip=True`` does, and warn.
* Seconds in float64 and re-struck keys re-paired: in :mod:`tunesmith.scores`, where a symusic score becomes Notes
  (files or not).
* **Typed errors**: symusic raises a bare ``RuntimeError``; we raise :class:`~tunesmith.errors.MidiReadError`
  naming the file and the reason (empty, not MIDI, truncated).
"""

from __future__ import annotations

import os
import struct
import warnings
from pathlib import Path

import symusic

from ..errors import MidiReadError
from ..notes import Notes
from ..scores import DEFAULT_TPQ, notes_to_score, score_to_notes
from ..utils import atomic_path

MIDI_EXTENSIONS = (".mid", ".midi", ".rmi", ".kar")


class MidiWarning(UserWarning):
    """A MIDI file was read, but something in it had to be repaired (the message says what)."""


def unwrap_rmid(data: bytes, path: str = "<bytes>") -> bytes:
    """Return the standard MIDI payload of an RMID (``RIFF`` / ``RMID`` / ``data`` chunk) container."""
    if len(data) < 12 or data[8:12] != b"RMID":
        raise MidiReadError(path, f"RIFF file of form {data[8:12]!r}, not RMID: not a MIDI file")
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        if chunk_id == b"data":
            return data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)  # RIFF chunks are padded to even sizes
    raise MidiReadError(path, "RMID file without a 'data' chunk")


def _parse(data: bytes, path: str) -> symusic.Score:
    if len(data) == 0:
        raise MidiReadError(path, "empty file (0 bytes)")
    if data[:4] == b"RIFF":
        data = unwrap_rmid(data, path)
    if data[:4] != b"MThd":
        raise MidiReadError(path, f"not a MIDI file (it starts with {data[:4]!r}, not b'MThd')")
    try:
        return symusic.Score.from_midi(data)
    except RuntimeError as strict_error:
        reason = str(strict_error).replace(": iostream error", "")
        try:
            score = symusic.Score.from_midi(data, sanitize_data=True)
        except RuntimeError as e:
            msg = str(e).replace(": iostream error", "").replace("MiniMidi: ", "")
            if "EOF" in msg or "chunk length" in msg or "remaining bytes" in msg:
                raise MidiReadError(path, f"truncated or corrupt MIDI ({msg})") from None
            raise MidiReadError(path, f"invalid MIDI ({msg})") from None
        warnings.warn(f"{path}: out-of-range data bytes clamped to 0..127 ({reason})", MidiWarning, stacklevel=3)
        return score


def read_midi(source: str | os.PathLike[str] | bytes, *, name: str | None = None) -> Notes:
    """Read a MIDI file (path or bytes) into Notes.

    Raises :class:`MidiReadError` naming the file for empty, non-MIDI, truncated or corrupt input. RMID
    containers are unwrapped; out-of-range data bytes are clamped with a :class:`MidiWarning`.
    """
    if isinstance(source, bytes | bytearray):
        path, data = name or "<bytes>", bytes(source)
    else:
        path = os.fspath(source)
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise MidiReadError(path, "no such file") from None
        except IsADirectoryError:
            raise MidiReadError(path, "is a directory, not a MIDI file") from None
        except OSError as e:
            raise MidiReadError(path, f"cannot be read ({e.strerror})") from None
    return score_to_notes(_parse(data, path), source=path)


def write_midi(notes: Notes, path: str | os.PathLike[str], *, tpq: int = DEFAULT_TPQ) -> Path:
    """Write Notes as a standard MIDI file (format 1), atomically. Returns the path."""
    path = Path(path)
    data = notes_to_score(notes, tpq).dumps_midi()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path
