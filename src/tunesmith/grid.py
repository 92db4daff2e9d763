"""The one quantiser of quarter-note times onto a grid of ``steps_per_quarter`` steps per quarter note, and a
piece's bar lines (:func:`bar_lines_qn`, from its time signatures).

Piano rolls (:mod:`tunesmith.representations.pianoroll`) and the grid-based metrics
(:mod:`tunesmith.evaluation.metrics`: MuseGAN's statistics, groove consistency) both place notes with these
functions, so a roll and the metrics computed on it agree on every note's steps.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError
from .notes import Notes

#: MuseGAN's and the piano-roll GAN's default resolution: 4 steps per quarter note (16th notes).
DEFAULT_STEPS_PER_QUARTER = 4


def check_steps(steps_per_quarter: int) -> int:
    """``steps_per_quarter`` as an int; a ConfigError unless it is a positive whole number."""
    if int(steps_per_quarter) != steps_per_quarter or steps_per_quarter < 1:
        raise ConfigError(f"steps_per_quarter must be a positive integer, got {steps_per_quarter!r}")
    return int(steps_per_quarter)


def to_steps(qn: np.ndarray, steps_per_quarter: int) -> np.ndarray:
    """Quarter-note times -> grid steps, rounded half up (``floor(x + 0.5)``).

    Not NumPy's half-to-even ``rint``: an onset half a step late lands on the next step whichever step it is, and
    starts and ends round the same way."""
    return np.floor(np.asarray(qn) * steps_per_quarter + 0.5).astype(np.int64)


def note_steps(start_qn: np.ndarray, end_qn: np.ndarray, steps_per_quarter: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end step of each note (end exclusive): ``start = max(to_steps(start_qn), 0)``,
    ``end = max(to_steps(end_qn), start + 1)``, so every note covers at least one step."""
    start = np.maximum(to_steps(start_qn, steps_per_quarter), 0)
    end = np.maximum(to_steps(end_qn, steps_per_quarter), start + 1)
    return start, end


def bar_lines_qn(notes: Notes, end_qn: float) -> np.ndarray:
    """The bar lines of a piece, in quarter notes, from its time signatures, up to ``end_qn``."""
    ts = notes.time_signatures
    if ts.size == 0 or ts["qn"][0] > 0:
        ts = np.concatenate([np.array([(0.0, 4, 4)], dtype=ts.dtype), ts])
    lines: list[float] = []
    for k in range(ts.size):
        start = float(ts["qn"][k])
        stop = float(ts["qn"][k + 1]) if k + 1 < ts.size else max(end_qn, start + 1e-9)
        length = 4.0 * int(ts["numerator"][k]) / max(int(ts["denominator"][k]), 1)
        if length <= 0:
            length = 4.0
        lines.extend(np.arange(start, stop, length).tolist())
    return np.array(lines or [0.0])


def parse_bars(text: str) -> tuple[int, int]:
    """``"5-8"`` -> bars 5 to 8 (numbered from 1, inclusive) as ``(4, 8)``: the first index and one past the last."""
    try:
        lo, _, hi = text.partition("-")
        a, b = int(lo), int(hi or lo)
    except ValueError:
        raise ConfigError(f"--infill-bars takes bars as FIRST-LAST counted from 1, e.g. 5-8; got {text!r}") from None
    if a < 1 or b < a:
        raise ConfigError(f"--infill-bars {text}: bars count from 1 and the last may not come before the first")
    return a - 1, b


def beat_grid(qn: np.ndarray) -> np.ndarray:
    """Quarter-note times each moved to the nearer of the 16th grid and the 8th-triplet grid (a tie goes to the
    16th), so that a piece's triplets stay triplets in a score and its straight notes straight; exact multiples of
    1/12."""
    q = np.asarray(qn, dtype=np.float64)
    sixteenth = np.floor(q * 4 + 0.5) / 4
    triplet = np.floor(q * 3 + 0.5) / 3
    return np.where(np.abs(triplet - q) < np.abs(sixteenth - q) - 1e-9, triplet, sixteenth)


def on_beat_grid(notes: Notes) -> Notes:
    """``notes`` with starts and ends on :func:`beat_grid` (a note at least one unit of its start's grid long:
    a 16th, or an 8th triplet), seconds from the tempo map; the notation a score is written in."""
    a = notes.notes.copy()
    start, end = beat_grid(a["start_qn"]), beat_grid(a["end_qn"])
    unit = np.where(np.isclose((start * 4) % 1, 0), 0.25, 1 / 3)
    a["start_qn"], a["end_qn"] = start, np.maximum(end, start + unit)
    return notes.with_qn_times(a)
