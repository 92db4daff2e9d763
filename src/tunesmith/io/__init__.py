"""Reading and writing music files: MIDI through symusic, score formats through music21."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import UnsupportedFormatError
from ..notes import Notes
from .midi import MIDI_EXTENSIONS, MidiWarning, read_midi, write_midi
from .score import SCORE_EXTENSIONS, read_score

SUPPORTED_EXTENSIONS = MIDI_EXTENSIONS + SCORE_EXTENSIONS


def read(path: str | os.PathLike[str]) -> Notes:
    """Read any supported file (by extension) into Notes."""
    ext = Path(path).suffix.lower()
    if ext in MIDI_EXTENSIONS:
        return read_midi(path)
    if ext in SCORE_EXTENSIONS:
        return read_score(path)
    raise UnsupportedFormatError(
        path, f"unsupported extension {ext!r}; tunesmith reads {', '.join(SUPPORTED_EXTENSIONS)}"
    )


__all__ = [
    "MIDI_EXTENSIONS",
    "SCORE_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "MidiWarning",
    "read",
    "read_midi",
    "read_score",
    "write_midi",
]
