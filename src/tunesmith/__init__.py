"""tunesmith: learn from MIDI collections and compose new music."""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import DatasetError, MidiReadError, ReadError, TunesmithError
from .notes import NOTE_DTYPE, Notes

__all__ = ["NOTE_DTYPE", "DatasetError", "MidiReadError", "Notes", "ReadError", "TunesmithError", "__version__"]
