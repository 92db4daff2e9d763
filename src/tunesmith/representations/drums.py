"""Drum kits reduced to the Groove MIDI Dataset paper's 9 drum classes (Gillick et al. 2019, "Learning to Groove
with Inverse Sequence Transformations", table of the Roland TD-11's notes), for representations that ask for
classes rather than a kit's every pad: a played kit sends one note for a pad's head and another for its rim or
edge, which are one instrument to a drummer.

Each class is named by its General MIDI pitch; the pitches that join it are the TD-11's (the kit the dataset was
recorded on). A drum note of any other pitch belongs to no class (-1). Pure functions; no I/O.
"""

from __future__ import annotations

import numpy as np

from ..notes import Notes

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
