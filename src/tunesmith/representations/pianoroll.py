"""Piano rolls for the GAN: a (time step x pitch) grid on the beat, with a frame and an onset channel.

Layout: ``roll[t, p, c]`` for step ``t`` (``steps_per_quarter`` steps per quarter note, counted from quarter
note 0), pitch ``lowest_pitch + p`` and channel ``c``:

* ``FRAME`` (0): 1 while a note of that pitch sounds during the step;
* ``ONSET`` (1): 1 at the step where a note starts.

The onset channel keeps note boundaries: two repeated notes of one pitch (the second starting where the first
ends) are one unbroken run of frames, and only the onset tells that a second note starts there. A frame-only roll
(MidiNet's and pypianoroll's layout) merges them into one long note.

The grid is in quarter notes (the ``start_qn``/``end_qn`` that Notes carries, through the piece's tempo map), so
performance MIDI with tempo changes lands on its beats rather than on a grid of seconds. Quantisation rounds
start and end to the nearest step; a note shorter than half a step keeps one step.

Dropped on the way in (documented, not an error): drum notes (no pitch in the melodic sense) and pitches outside
``lowest_pitch .. lowest_pitch + n_pitches - 1``. Velocity and program are not represented. Two overlapping notes
of one pitch cannot be told apart on one grid row: the first ends where the second starts.

Phrases are cut on bar lines counted from quarter note 0 in bars of ``beats_per_bar`` quarter notes (4/4 by
default; time-signature changes and pick-up bars are not followed), always inside one piece.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..grid import DEFAULT_STEPS_PER_QUARTER, note_steps
from ..notes import DEFAULT_VELOCITY, Notes, make_tempo_map

#: Channels of a roll.
FRAME, ONSET = 0, 1
N_CHANNELS = 2

DEFAULT_LOWEST_PITCH = 24  # C1
DEFAULT_N_PITCHES = 84  # C1 .. B7, as MuseGAN
DEFAULT_BARS = 4
DEFAULT_BEATS_PER_BAR = 4  # quarter notes per bar (4/4)


@dataclass(frozen=True)
class PianoRollConfig:
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER
    lowest_pitch: int = DEFAULT_LOWEST_PITCH
    n_pitches: int = DEFAULT_N_PITCHES
    bars: int = DEFAULT_BARS  # bars per phrase
    beats_per_bar: int = DEFAULT_BEATS_PER_BAR  # quarter notes per bar

    def __post_init__(self) -> None:
        if self.steps_per_quarter <= 0 or self.bars <= 0 or self.beats_per_bar <= 0 or self.n_pitches <= 0:
            raise ConfigError("piano roll: steps_per_quarter, bars, beats_per_bar and n_pitches must be positive")
        if self.lowest_pitch < 0 or self.lowest_pitch + self.n_pitches > 128:
            raise ConfigError(
                f"piano roll: pitches {self.lowest_pitch}..{self.lowest_pitch + self.n_pitches - 1} leave MIDI's 0..127"
            )

    @property
    def steps_per_bar(self) -> int:
        return self.steps_per_quarter * self.beats_per_bar

    @property
    def phrase_steps(self) -> int:
        return self.steps_per_bar * self.bars

    @property
    def highest_pitch(self) -> int:
        return self.lowest_pitch + self.n_pitches - 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_CONFIG = PianoRollConfig()


def _grid(notes: Notes, config: PianoRollConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, start step, end step) of every note kept on the grid; end > start."""
    a = notes.notes
    keep = (~a["is_drum"]) & (a["pitch"] >= config.lowest_pitch) & (a["pitch"] <= config.highest_pitch)
    a = a[keep]
    start, end = note_steps(a["start_qn"], a["end_qn"], config.steps_per_quarter)
    return a["pitch"].astype(np.int64) - config.lowest_pitch, start, end


def n_steps(notes: Notes, config: PianoRollConfig) -> int:
    """Steps the roll of ``notes`` needs: up to the end of its last kept note."""
    _, _, end = _grid(notes, config)
    return int(end.max()) if end.size else 0


def to_pianoroll(notes: Notes, config: PianoRollConfig = DEFAULT_CONFIG, steps: int | None = None) -> np.ndarray:
    """Notes -> uint8 roll ``(T, n_pitches, 2)`` of (frame, onset), ``T`` = ``steps`` or up to the last note's
    end (notes past ``steps`` are cut there)."""
    rows, start, end = _grid(notes, config)
    total = (int(end.max()) if end.size else 0) if steps is None else int(steps)
    if total < 0:
        raise ConfigError(f"piano roll: steps must be >= 0, got {steps}")
    roll = np.zeros((total, config.n_pitches, N_CHANNELS), dtype=np.uint8)
    inside = start < total
    rows, start, end = rows[inside], start[inside], np.minimum(end[inside], total)
    # frames as a running sum of +1 at each start and -1 at each end (no Python loop over notes)
    count = np.zeros((total + 1, config.n_pitches), dtype=np.int32)
    np.add.at(count, (start, rows), 1)
    np.add.at(count, (end, rows), -1)
    roll[..., FRAME] = np.cumsum(count, axis=0)[:total] > 0
    roll[start, rows, ONSET] = 1
    return roll


def from_pianoroll(
    roll: np.ndarray,
    config: PianoRollConfig = DEFAULT_CONFIG,
    threshold: float = 0.5,
    qpm: float = 120.0,
    velocity: int = DEFAULT_VELOCITY,
) -> Notes:
    """Roll ``(T, P)`` (frames only), ``(T, P, 1)`` or ``(T, P, 2)`` (frame, onset) of values (binary or
    probabilities) -> Notes on a constant tempo of ``qpm``.

    A cell is on when its value is ``>= threshold``. A note starts where a frame turns on, or where an onset is on
    inside a run of frames (a repeated note); it lasts while its frames stay on and no new onset comes. An onset
    on a silent cell (which a generator may produce) starts nothing: the frame says whether anything sounds."""
    roll = np.asarray(roll)
    if roll.ndim == 2:
        roll = roll[..., None]
    if roll.ndim != 3 or roll.shape[1] != config.n_pitches or roll.shape[2] not in (1, N_CHANNELS):
        raise ConfigError(
            f"piano roll: expected shape (T, {config.n_pitches}[, 1 or 2]) for this config, got {roll.shape}"
        )
    if not 0 < threshold <= 1:
        raise ConfigError(f"piano roll: threshold must lie in (0, 1], got {threshold}")
    if not 1 <= velocity <= 127:
        raise ConfigError(f"piano roll: velocity must lie in 1..127, got {velocity}")
    steps, n_pitches = roll.shape[:2]
    # pitch-major, with one silent step after each row so that no note runs into the next pitch's row
    on = np.zeros((n_pitches, steps + 1), dtype=bool)
    on[:, :steps] = (roll[..., FRAME] >= threshold).T
    starts = on.copy()
    starts[:, 1:] &= ~on[:, :-1]
    if roll.shape[2] > ONSET:
        starts[:, :steps] |= on[:, :steps] & (roll[..., ONSET] >= threshold).T
    bounds = np.flatnonzero((starts | ~on).ravel())  # where a note may end: a silent cell or a new start
    first = np.flatnonzero(starts.ravel())
    last = bounds[np.searchsorted(bounds, first, side="right")]
    row, t0 = np.divmod(first, steps + 1)
    t1 = last - row * (steps + 1)
    order = np.lexsort((row, t0))
    spq = config.steps_per_quarter
    return Notes.from_arrays(
        (row[order] + config.lowest_pitch).astype(np.uint8),
        start_qn=t0[order] / spq,
        end_qn=t1[order] / spq,
        velocity=velocity,
        tempos=make_tempo_map([0.0], [qpm]),
    )


def phrases(
    notes: Notes, config: PianoRollConfig = DEFAULT_CONFIG, hop: int | None = None, channels: int = N_CHANNELS
) -> np.ndarray:
    """Phrases of one piece: uint8 ``(K, phrase_steps, n_pitches, channels)``, starting every ``hop`` steps
    (default: one phrase length, no overlap; a multiple of ``steps_per_bar`` keeps them on bar lines) from
    quarter note 0. A phrase in which no note starts is dropped; the last one is padded with silence.
    ``channels=1`` keeps the frame channel only."""
    length = config.phrase_steps
    hop = length if hop is None else int(hop)
    if hop <= 0:
        raise ConfigError(f"piano roll: the phrase hop must be positive, got {hop}")
    if channels not in (1, N_CHANNELS):
        raise ConfigError(f"piano roll: channels must be 1 or 2, got {channels}")
    total = n_steps(notes, config)
    if total == 0:
        return np.zeros((0, length, config.n_pitches, channels), dtype=np.uint8)
    count = math.ceil(max(total - length, 0) / hop) + 1
    roll = to_pianoroll(notes, config, steps=(count - 1) * hop + length)
    windows = np.lib.stride_tricks.sliding_window_view(roll, length, axis=0)[::hop]  # (K, P, C, T) view
    keep = windows[:, :, ONSET, :].any(axis=(1, 2))
    return np.ascontiguousarray(windows[keep].transpose(0, 3, 1, 2)[..., :channels])
