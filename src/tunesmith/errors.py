"""The one exception family of tunesmith.

Every error the library raises on purpose is a :class:`TunesmithError`; its message names the file (when there
is one) and the problem, so the command line can print it without a traceback.
"""

from __future__ import annotations

import os


class TunesmithError(Exception):
    """Base class of every error tunesmith raises on purpose."""


class ReadError(TunesmithError):
    """A music file could not be read. ``path`` names it and ``reason`` says why."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class MidiReadError(ReadError):
    """A MIDI file is empty, not MIDI, truncated or otherwise unreadable."""


class ScoreReadError(ReadError):
    """A score file (MusicXML, ABC, Humdrum) could not be parsed."""


class UnsupportedFormatError(ReadError):
    """The file's extension is not one tunesmith reads."""


class SourceError(TunesmithError):
    """A corpus source (folder, name, MAESTRO layout) is missing or malformed."""


class DatasetError(TunesmithError):
    """A prepared dataset is missing, incomplete or of another format version."""


class DownloadError(TunesmithError):
    """A download failed: no network, bad status, or a checksum mismatch."""


class ConfigError(TunesmithError):
    """An option or configuration value is invalid."""


class CheckpointError(TunesmithError):
    """A run directory is missing, corrupt, or does not match the model being built."""


class EngineUnavailable(TunesmithError):
    """A synthesis engine cannot run here; the message says why (audio falls back to the next engine)."""


class CorruptArchiveError(TunesmithError):
    """A downloaded zip cannot be read or a member fails its CRC check: the archive itself is bad."""


class PortError(TunesmithError):
    """A MIDI port could not be opened or went away (``tunesmith live``)."""
