"""tunesmith: learn from MIDI collections and compose new music."""

from __future__ import annotations

__version__ = "0.1.0"

import os as _os

# torch's OpenMP threads sleep instead of spinning while they wait, so that a machine busy with other work slows
# tunesmith in proportion instead of stalling it (tunesmith/threads.py); read once, when torch first loads
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .errors import DatasetError, MidiReadError, ReadError, TunesmithError
from .notes import NOTE_DTYPE, Notes

__all__ = ["NOTE_DTYPE", "DatasetError", "MidiReadError", "Notes", "ReadError", "TunesmithError", "__version__"]
