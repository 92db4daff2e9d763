"""Drum parts for models: a kit reduced to the 9 drum classes (:func:`to_drum_classes`; the classes and the grid
cells themselves are :mod:`tunesmith.drumkit`'s, re-exported here), the 16th grid that drum parts are played
against (:func:`drum_grid`: hits, velocities and offsets per step and class) and a part programmed onto it
(:func:`quantized`). Pure functions; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..drumkit import (  # noqa: F401 (re-exported: the representation's names)
    CLASS_INDEX,
    CLASS_OF,
    CLASS_PITCHES,
    DRUM_CLASSES,
    N_CLASSES,
    POSITIONS,
    STEPS_PER_QUARTER,
    DrumCells,
    drum_cells,
    drum_class,
)
from ..grid import bar_lines_qn
from ..notes import Notes


def to_drum_classes(notes: Notes) -> Notes:
    """``notes`` with every drum note's pitch its class's, and drum notes of no class dropped; pitched notes as
    they are."""
    a = notes.notes
    drum = a["is_drum"]
    cls = np.where(drum, CLASS_OF[a["pitch"].astype(np.int64)], a["pitch"].astype(np.int64))
    keep = ~drum | (cls >= 0)
    out = notes.copy()
    out.notes = out.notes[keep]
    out.notes["pitch"] = cls[keep].astype(out.notes["pitch"].dtype)
    return out


@dataclass(frozen=True)
class DrumGrid:
    """A drum part on the 16th grid, ``T`` steps from the piece's start: per step and class (``(T, 9)``) a hit, its
    velocity (0-1, MIDI velocity / 127) and its offset from the grid line (steps); per step its position in the
    bar and the tempo there (quarter notes per minute). Of several hits of one class on one step, the loudest
    (the others are a drummer's flams and buzzes: a step holds one hit per class, as in GrooVAE)."""

    hits: np.ndarray
    velocity: np.ndarray
    offset: np.ndarray
    position: np.ndarray
    qpm: np.ndarray


def drum_grid(notes: Notes, cells: DrumCells | None = None) -> DrumGrid:
    """``notes``' drum part on the 16th grid (:class:`DrumGrid`); empty (``T`` = 0) without drum notes."""
    c = drum_cells(notes) if cells is None else cells
    steps = int(c.step.max()) + 1 if c.step.size else 0
    hits = np.zeros((steps, N_CLASSES), dtype=bool)
    velocity = np.zeros((steps, N_CLASSES), dtype=np.float32)
    offset = np.zeros((steps, N_CLASSES), dtype=np.float32)
    vel = notes.notes["velocity"][c.index].astype(np.float32) / 127.0
    order = np.argsort(vel, kind="stable")  # the loudest written last wins its cell
    keep = c.step[order] >= 0
    s, k = c.step[order][keep], c.cls[order][keep]
    hits[s, k] = True
    velocity[s, k] = vel[order][keep]
    offset[s, k] = c.offset[order][keep]
    grid_qn = np.arange(steps) / STEPS_PER_QUARTER
    lines = bar_lines_qn(notes, steps / STEPS_PER_QUARTER + 1.0)
    bar = np.clip(np.searchsorted(lines, grid_qn + 1e-9, side="right") - 1, 0, None)
    position = np.clip(np.floor((grid_qn - lines[bar]) * STEPS_PER_QUARTER + 0.5), 0, POSITIONS - 1).astype(np.int64)
    t = notes.tempos
    qpm = t["qpm"][np.clip(np.searchsorted(t["qn"], grid_qn, side="right") - 1, 0, None)].astype(np.float32)
    return DrumGrid(hits, velocity, offset, position, qpm)


def quantized(notes: Notes, velocity: int) -> Notes:
    """``notes`` with every drum note of a class programmed: its onset on the nearest 16th (its length kept) and its
    velocity ``velocity``; other notes as they are, and every note where it was in the table (note ``i`` is note
    ``i``). What a drum machine or a mouse-drawn part sounds like."""
    out = notes.copy()
    c = drum_cells(out)
    a = out.notes
    length = a["end_qn"][c.index] - a["start_qn"][c.index]
    a["start_qn"][c.index] = c.step / STEPS_PER_QUARTER
    a["end_qn"][c.index] = a["start_qn"][c.index] + length
    a["velocity"][c.index] = velocity
    return out.with_qn_times(a)
