"""Note events: one row per note, ``(pitch, step, duration, velocity)``, for the RNN note model.

``step`` is the time in seconds from the previous note's start (0 for the first note and for notes of a chord),
``duration`` the note's length in seconds. This is the representation of TensorFlow's "Generate music with an
RNN" tutorial, which the paper's RNN follows; velocity is kept as a fourth column for models that use it.

Notes of all non-drum tracks are merged and ordered by start time, then pitch (drums carry no pitch in the
melodic sense and are dropped).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..notes import Notes

#: Columns of an event array.
PITCH, STEP, DURATION, VELOCITY = 0, 1, 2, 3
N_FEATURES = 4


def to_note_events(notes: Notes) -> np.ndarray:
    """Notes -> float64 array ``(N, 4)`` of (pitch, step, duration, velocity), in start order (then pitch)."""
    a = notes.notes[~notes.notes["is_drum"]]
    a = a[np.lexsort((a["pitch"], a["start"]))]
    ev = np.empty((a.size, N_FEATURES), dtype=np.float64)
    ev[:, PITCH] = a["pitch"]
    ev[:, STEP] = np.diff(a["start"], prepend=a["start"][:1]) if a.size else 0.0
    ev[:, DURATION] = a["end"] - a["start"]
    ev[:, VELOCITY] = a["velocity"]
    return ev


def event_starts(events: np.ndarray, start: float = 0.0) -> np.ndarray:
    """Start times of events (cumulative steps) from ``start``."""
    return start + np.cumsum(events[:, STEP])


def from_note_events(events: np.ndarray, *, start: float = 0.0, velocity: int | None = None, program: int = 0) -> Notes:
    """Event array ``(N, 3 or 4)`` -> Notes (one track). Negative steps or durations are clipped to 0, pitches
    rounded and clipped to 0..127; ``velocity`` overrides the fourth column (or fills it when there is none;
    default 80). ``start`` is the time of the first event's step origin (the previous note's start)."""
    events = np.asarray(events, dtype=np.float64)
    if events.ndim != 2 or events.shape[1] < 3:
        raise ConfigError(f"note events must have shape (N, 3) or (N, 4), got {events.shape}")
    if not np.all(np.isfinite(events)):
        raise ConfigError("note events contain NaN or infinity")
    ev = events.copy()
    ev[:, STEP] = np.maximum(ev[:, STEP], 0.0)
    ev[:, DURATION] = np.maximum(ev[:, DURATION], 0.0)
    starts = event_starts(ev, start)
    if velocity is not None:
        if not 1 <= velocity <= 127:
            raise ConfigError(f"velocity must lie in 1..127, got {velocity}")
        vel = np.full(len(ev), velocity)
    elif ev.shape[1] > VELOCITY:
        vel = np.clip(np.rint(ev[:, VELOCITY]), 1, 127)
    else:
        vel = np.full(len(ev), 80)
    return Notes.from_arrays(
        np.clip(np.rint(ev[:, PITCH]), 0, 127).astype(np.uint8),
        starts,
        starts + ev[:, DURATION],
        velocity=vel.astype(np.uint8),
        program=program,
    )


@dataclass
class Windows:
    """Training windows over many pieces' events, never crossing a piece boundary.

    ``events`` is every piece's event array stacked; window ``k`` is ``events[starts[k] : starts[k] + length]``
    with the target ``events[starts[k] + length]`` (the next note), all inside one piece."""

    events: np.ndarray
    starts: np.ndarray
    length: int

    @classmethod
    def build(cls, pieces: list[np.ndarray], length: int) -> Windows:
        if length <= 0:
            raise ConfigError(f"seq_length must be positive, got {length}")
        events = np.concatenate(pieces) if pieces else np.zeros((0, N_FEATURES))
        offsets = np.cumsum([0] + [len(p) for p in pieces])
        starts = [np.arange(a, b - length) for a, b in zip(offsets[:-1], offsets[1:], strict=True) if b - a > length]
        return cls(events, np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64), length)

    def __len__(self) -> int:
        return int(self.starts.size)
