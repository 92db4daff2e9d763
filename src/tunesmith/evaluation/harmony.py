"""Harmonisation as a musician hears it: is the result in the melody's key, does it end on the tonic, is the melody
a chord tone on strong beats? Pure functions of :class:`~tunesmith.notes.Notes` (music21's key analysis); the
voice-leading half (parallels, crossings) is :mod:`tunesmith.evaluation.voiceleading`.

- **Key**: music21's key analysis of the notes (``Stream.analyze("key")``: the Krumhansl-Schmuckler method with
  the Aarden-Essen weightings, on durations), as tonic pitch class and mode.
- **Last chord**: the pitch classes sounding at the piece's last onset (notes starting then, and notes held over
  it). It *is the tonic* when it fits a triad (:data:`TEMPLATES`) whose root is the key's tonic (a minor piece may
  end on a major tonic, Bach's Picardy third); a bare unison or octave on the tonic counts too.
- **Chord tones on strong beats** (voiceleading's strong beats): where the melody (the highest voice) and at least
  two other voices sound, the melody note is a *chord tone* when all the pitch classes sounding fit one triad or
  seventh chord of :data:`TEMPLATES` (on some root). A passing or neighbour note, a suspension or an appoggiatura
  in the melody makes a sonority that fits none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..corpora import CHORALE_VOICE_PROGRAMS
from ..notes import Notes
from .voiceleading import _line, _pitch_at, strong_beats

#: Chords as pitch-class sets above their root: triads, then seventh chords.
TEMPLATES: dict[str, frozenset[int]] = {
    "major": frozenset({0, 4, 7}),
    "minor": frozenset({0, 3, 7}),
    "diminished": frozenset({0, 3, 6}),
    "augmented": frozenset({0, 4, 8}),
    "dominant seventh": frozenset({0, 4, 7, 10}),
    "minor seventh": frozenset({0, 3, 7, 10}),
    "major seventh": frozenset({0, 4, 7, 11}),
    "half-diminished seventh": frozenset({0, 3, 6, 10}),
    "diminished seventh": frozenset({0, 3, 6, 9}),
}
TRIADS = ("major", "minor", "diminished", "augmented")
PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class, 0 = C
    mode: str  # "major" or "minor"

    def __str__(self) -> str:
        return f"{PITCH_CLASSES[self.tonic]} {self.mode}"


def key_of(notes: Notes) -> Key:
    """music21's key of the piece's pitched notes (their durations weigh them)."""
    from music21 import note, stream

    a = notes.notes[~notes.notes["is_drum"]]
    if a.size == 0:
        raise ValueError("a piece without pitched notes has no key")
    s = stream.Stream()
    for p, start, end in zip(a["pitch"], a["start_qn"], a["end_qn"], strict=True):
        n = note.Note(int(p))
        n.quarterLength = max(float(end - start), 1 / 16)
        s.insert(float(start), n)
    k = s.analyze("key")
    return Key(int(k.tonic.pitchClass), str(k.mode))


def fits(pcs: set[int], names: Sequence[str] = tuple(TEMPLATES)) -> list[int]:
    """The roots (pitch classes) on which ``pcs`` fit inside one chord of ``names`` (every pitch class a member)."""
    return [r for r in range(12) if any({(p - r) % 12 for p in pcs} <= TEMPLATES[t] for t in names)]


def last_chord(notes: Notes) -> set[int]:
    """The pitch classes sounding at the last onset: notes starting then and notes held over it."""
    a = notes.notes[~notes.notes["is_drum"]]
    if a.size == 0:
        return set()
    t = float(a["start_qn"].max())
    sounding = a[(a["start_qn"] <= t + 1e-6) & (a["end_qn"] > t + 1e-6)]
    return {int(p) % 12 for p in sounding["pitch"]}


def ends_on_tonic(notes: Notes, key: Key) -> bool:
    """Whether the last chord is the key's tonic triad (either mode) or the tonic alone."""
    pcs = last_chord(notes)
    if not pcs:
        return False
    if pcs == {key.tonic}:
        return True
    return key.tonic in fits(pcs, TRIADS)


@dataclass
class Harmony:
    """One harmonisation (or a set of them: :func:`pool_harmony`) against its melody."""

    pieces: int = 1
    in_key: int = 0  # pieces whose key is the melody's
    on_tonic: int = 0  # pieces whose last chord is the tonic of the melody's key
    strong_beats: int = 0  # strong beats where the melody and at least two other voices sound
    chord_tones: int = 0  # those of them where the melody note is a chord tone

    def summary(self) -> dict[str, float]:
        return {
            "pieces": self.pieces,
            "in_key_share": self.in_key / self.pieces if self.pieces else 0.0,
            "ends_on_tonic_share": self.on_tonic / self.pieces if self.pieces else 0.0,
            "strong_beat_chord_tone_share": self.chord_tones / self.strong_beats if self.strong_beats else 0.0,
        }


def harmony(
    piece: Notes,
    melody_key: Key,
    voices: Mapping[str, int] = CHORALE_VOICE_PROGRAMS,
    *,
    by: str = "program",
) -> Harmony:
    """The harmony statistics of ``piece`` (voices as in :func:`~tunesmith.evaluation.voiceleading.voice_leading`,
    the melody first) against the key of its melody, ``melody_key``."""
    a = piece.notes[~piece.notes["is_drum"]]
    names = list(voices)
    lines = [_line(a[a[by] == voices[v]]) for v in names]
    result = Harmony(in_key=int(key_of(piece) == melody_key), on_tonic=int(ends_on_tonic(piece, melody_key)))
    if a.size and lines and lines[0][0].size:
        first, last = float(a["start_qn"].min()), float(a["end_qn"].max())
        beats = strong_beats(piece.time_signatures, first, last)
        sounding = np.stack([_pitch_at(line, beats) for line in lines])  # (voices, beats); -1: silent
        for k in range(beats.size):
            melody, others = sounding[0, k], sounding[1:, k]
            if melody < 0 or np.count_nonzero(others >= 0) < 2:
                continue
            result.strong_beats += 1
            pcs = {int(p) % 12 for p in sounding[:, k] if p >= 0}
            result.chord_tones += int(bool(fits(pcs)))
    return result


def pool_harmony(results: Sequence[Harmony]) -> Harmony:
    out = Harmony(pieces=0)
    for r in results:
        out.pieces += r.pieces
        out.in_key += r.in_key
        out.on_tonic += r.on_tonic
        out.strong_beats += r.strong_beats
        out.chord_tones += r.chord_tones
    return out


def chord_tone_time(notes: Notes, bars: Sequence[Sequence[frozenset[int]]], lines: np.ndarray) -> tuple[float, float]:
    """How much of a melody sounds on the tones of the chords it is over: ``(on, total)`` quarter notes, summed over
    the bars of ``lines`` (bar lines, the last one the end), ``bars[k]`` the pitch classes of bar ``k``'s chords (one
    for the bar, or two, a half each; an empty set: no chord there, not counted), repeated where the bars run
    longer. Drums aside."""
    a = notes.notes[~notes.notes["is_drum"]]
    on = total = 0.0
    for k, (lo, hi) in enumerate(zip(lines[:-1], lines[1:], strict=True)):
        chords = bars[k % len(bars)] if bars else []
        step = (hi - lo) / max(len(chords), 1)
        for h, tones in enumerate(chords):
            if not tones:
                continue
            a0, a1 = lo + h * step, lo + (h + 1) * step
            held = np.clip(np.minimum(a["end_qn"], a1) - np.maximum(a["start_qn"], a0), 0.0, None)
            total += float(held.sum())
            on += float(held[np.isin(a["pitch"] % 12, sorted(tones))].sum())
    return on, total
