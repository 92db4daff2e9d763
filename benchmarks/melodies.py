"""Ten plain melodies written for the harmonisation benchmark (``bench_harmony.py``): major and minor, stepwise and
leaping, in 4/4 and 3/4, one with a pickup; eight bars each (the pickup's last bar is short by the pickup).

Each is (name, key, time signature, pickup in quarter notes, notes as "PITCH:QUARTERS", a bar line "|" for
reading only). No melody is taken from the chorales, so none was in the training data.
"""

from __future__ import annotations

import re

import numpy as np

from tunesmith.notes import Notes, make_tempo_map, make_time_signatures

MELODIES: list[tuple[str, str, str, float, str]] = [
    ("c-major-stepwise", "C major", "4/4", 0,
     "E4 D4 C4 D4 | E4 E4 E4:2 | D4 D4 D4:2 | E4 G4 G4:2 | E4 D4 C4 D4 | E4 E4 E4 E4 | D4 D4 E4 D4 | C4:4"),
    ("g-major-stepwise", "G major", "4/4", 0,
     "B4 B4 C5 D5 | D5 C5 B4 A4 | G4 G4 A4 B4 | B4:1.5 A4:0.5 A4:2 | B4 B4 C5 D5 | D5 C5 B4 A4 | G4 G4 A4 B4 | "
     "A4:1.5 G4:0.5 G4:2"),
    ("f-major-leaping", "F major", "3/4", 0,
     "F4:2 A4 | C5:2 A4 | F4 A4 C5 | F5:3 | D5:2 Bb4 | C5:2 A4 | G4 E4 C4 | F4:3"),
    ("d-major-leaping", "D major", "4/4", 0,
     "D4 F#4 A4 D5 | C#5 A4 E4:2 | B4 G4 E4 G4 | A4:4 | F#4 A4 D5 F#5 | E5 C#5 A4:2 | G4 E4 C#4 E4 | D4:4"),
    ("a-minor-stepwise", "A minor", "4/4", 0,
     "A4 B4 C5 B4 | A4 G#4 A4:2 | C5 D5 E5 D5 | C5 B4 A4:2 | E5 D5 C5 B4 | A4 B4 C5:2 | B4 A4 G#4 B4 | A4:4"),
    ("d-minor-stepwise", "D minor", "3/4", 0,
     "D4 E4 F4 | G4 F4 E4 | F4 G4 A4 | D4:3 | A4 Bb4 A4 | G4 F4 E4 | F4 E4 C#4 | D4:3"),
    ("e-minor-leaping", "E minor", "4/4", 0,
     "E4 G4 B4 E5 | D5 B4 G4:2 | A4 C5 E5 C5 | B4:4 | G4 B4 E5 G5 | F#5 D#5 B4:2 | C5 A4 F#4 D#4 | E4:4"),
    ("c-minor-leaping", "C minor", "3/4", 0,
     "C5:2 G4 | Eb5:2 C5 | G5 F5 Eb5 | D5:3 | Eb5 C5 Ab4 | G4 F4 D4 | Eb4 D4 B3 | C4:3"),
    ("bb-major-pickup", "Bb major", "4/4", 1,
     "F4 | Bb4 Bb4 C5 D5 | Eb5:2 D5 C5 | Bb4 C5 D5 Bb4 | C5:3 F4 | Bb4 Bb4 C5 D5 | Eb5 F5 G5 Eb5 | D5 C5 Bb4 C5 | "
     "Bb4:3"),
    ("g-minor-mixed", "G minor", "4/4", 0,
     "G4 A4 Bb4 C5 | D5:2 Bb4:2 | Eb5 D5 C5 Bb4 | A4:4 | Bb4 C5 D5 G4 | C5 Bb4 A4 G4 | F#4 G4 A4 F#4 | G4:4"),
]  # fmt: skip

_STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def midi_pitch(name: str) -> int:
    """``"C4"`` -> 60, ``"F#4"`` -> 66, ``"Bb3"`` -> 58."""
    m = re.fullmatch(r"([A-G])(#|b)?(-?\d)", name)
    if not m:
        raise ValueError(f"not a pitch: {name!r}")
    letter, accidental, octave = m.groups()
    return 12 * (int(octave) + 1) + _STEPS[letter] + {"#": 1, "b": -1, None: 0}[accidental]


def melody_notes(name: str, meter: str, pickup: float, text: str, qpm: float = 90.0) -> Notes:
    """The melody as Notes (program 0, one track), with its time signature (a pickup bar first where it has one)."""
    pitches, starts, ends, t = [], [], [], 0.0
    for token in text.replace("|", " ").split():
        pitch, _, dur = token.partition(":")
        length = float(dur or 1)
        pitches.append(midi_pitch(pitch))
        starts.append(t)
        ends.append(t + length)
        t += length
    num, den = (int(v) for v in meter.split("/"))
    if pickup:  # a bar of the pickup's length first (BWV 66.6 reads as 1/4 then 4/4 too)
        ts = make_time_signatures([0.0, pickup], [int(pickup), num], [4, den])
    else:
        ts = make_time_signatures([0.0], [num], [den])
    qn = np.asarray(starts)
    return Notes.from_arrays(
        pitches,
        qn * 60 / qpm,
        np.asarray(ends) * 60 / qpm,
        start_qn=qn,
        end_qn=np.asarray(ends),
        velocity=90,
        tempos=make_tempo_map([0.0], [qpm]),
        time_signatures=ts,
        source=name,
        metadata={"track_names": '{"0": "Melody"}'},
    )


def melodies() -> list[tuple[str, str, Notes]]:
    """(name, key, notes) of each melody."""
    return [(name, key, melody_notes(name, meter, pickup, text)) for name, key, meter, pickup, text in MELODIES]
