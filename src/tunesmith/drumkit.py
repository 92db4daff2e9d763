"""A drum kit's notes as the Groove MIDI Dataset paper's 9 drum classes (Gillick et al. 2019, "Learning to Groove
with Inverse Sequence Transformations", table of the Roland TD-11's notes), and where each drum note falls on the
16th-note grid: what the drum representations (``representations/drums.py``) and the drum statistics
(``evaluation/drums.py``) both stand on, so it sits below both. A played kit sends one note for a pad's head and
another for its rim or edge, which are one instrument to a drummer.

Each class is named by its General MIDI pitch; the pitches that join it are the TD-11's (the kit the dataset was
recorded on). A drum note of any other pitch belongs to no class (-1). Pure functions; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import bar_lines_qn
from .notes import Notes

#: class pitch -> (name, the kit's pitches that are that class)
DRUM_CLASSES: dict[int, tuple[str, tuple[int, ...]]] = {
    36: ("kick", (36,)),
    38: ("snare", (38, 40, 37)),  # head, rim, cross-stick
    50: ("high tom", (48, 50)),  # tom 1 head, rim
    47: ("low-mid tom", (45, 47)),  # tom 2 head, rim
    43: ("high floor tom", (43, 58)),  # tom 3 head, rim
    46: ("open hi-hat", (46, 26)),  # bow, edge
    42: ("closed hi-hat", (42, 22, 44)),  # bow, edge, pedal
    49: ("crash", (49, 55, 57, 52)),  # crash 1 bow, edge, crash 2 bow, edge
    51: ("ride", (51, 59, 53)),  # bow, edge, bell
}
#: every MIDI pitch -> its class's pitch, or -1
CLASS_OF = np.full(128, -1, dtype=np.int16)
for _target, (_name, _pitches) in DRUM_CLASSES.items():
    CLASS_OF[list(_pitches)] = _target


def drum_class(pitch: np.ndarray | int) -> np.ndarray:
    """The class pitch of each drum pitch (-1: none of the 9)."""
    return CLASS_OF[np.asarray(pitch, dtype=np.int64)]


# ------------------------------------------------------------------------------------------------ the 16th grid
#: grid steps per quarter note: the 16th-note grid that drum machines and the Groove MIDI Dataset's papers use
STEPS_PER_QUARTER = 4
#: positions in the bar that a grid step is told apart by (a 4/4 bar's 16 sixteenths; later steps of longer bars
#: share the last)
POSITIONS = 16
#: the classes in a fixed order (the model's channels): kick, snare, toms, hi-hats, crash, ride
CLASS_PITCHES = np.array(list(DRUM_CLASSES), dtype=np.int16)
#: every MIDI pitch -> its class's index in :data:`CLASS_PITCHES`, or -1
CLASS_INDEX = np.full(128, -1, dtype=np.int16)
for _k, _target in enumerate(CLASS_PITCHES.tolist()):
    CLASS_INDEX[list(DRUM_CLASSES[_target][1])] = _k
N_CLASSES = len(CLASS_PITCHES)


@dataclass(frozen=True)
class DrumCells:
    """Where each drum note of a piece falls on the 16th grid: the notes' indices in the piece (drum notes of one
    of the 9 classes), their grid step (from the piece's start), class index, offset from the step's line (in
    steps, in [-0.5, 0.5)), and the step's position in its bar (0 on the bar line, at most ``POSITIONS - 1``)."""

    index: np.ndarray
    step: np.ndarray
    cls: np.ndarray
    offset: np.ndarray
    position: np.ndarray


def drum_cells(notes: Notes) -> DrumCells:
    """The grid cells of ``notes``' drum notes (see :class:`DrumCells`); a note of no class has none."""
    a = notes.notes
    cls = np.where(a["is_drum"], CLASS_INDEX[a["pitch"].astype(np.int64)], -1)
    index = np.flatnonzero(cls >= 0)
    qn = a["start_qn"][index]
    exact = qn * STEPS_PER_QUARTER
    step = np.floor(exact + 0.5).astype(np.int64)
    lines = bar_lines_qn(notes, float(qn.max()) + 1.0 if qn.size else 1.0)
    bar = np.clip(np.searchsorted(lines, step / STEPS_PER_QUARTER + 1e-9, side="right") - 1, 0, None)
    position = np.floor((step / STEPS_PER_QUARTER - lines[bar]) * STEPS_PER_QUARTER + 0.5).astype(np.int64)
    return DrumCells(index, step, cls[index].astype(np.int64), exact - step, np.clip(position, 0, POSITIONS - 1))
