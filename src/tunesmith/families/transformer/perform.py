"""How decoded notes are played: moved off the tokenizer's grid as the training data's notes lie off it.

Played music (MAESTRO) is not quantised: only 2% of its onsets lie on a 32nd-note grid, and a chord's notes start
a few milliseconds apart. Decoded as they are, grid tokens start every note of a chord on one tick (56% of the
notes against 8% in MAESTRO, the evaluation's polyphony). So the run keeps a small model of the data's timing
(:func:`grid_offsets`, ``onset_offsets.npy``) and generation plays its notes through it (:func:`performed`):

- the notes on one grid step (a chord) share one offset, drawn from the data's offsets of whole steps (the mean
  of their notes'), and spread around it as the notes of the data's chords spread around theirs;
- within a piece, a chord of the same pitches is spread the same way each time it comes back, as a pianist plays
  one chord shape with one hand shape. The order of a chord's notes decides the order of the notes in the piece,
  and with it which passages repeat note for note: drawn afresh for each chord, held-out MAESTRO excerpts put on
  the grid and played back lose 38% of their 4-note repetitions (0.076 -> 0.048);
  kept per chord shape, they keep the statistics they were played with (docs/benchmarks.md, "Playing the
  grid", ``benchmarks/bench_perform.py``).

Runs from before 2026-12-03 keep one distribution of single notes' offsets (a 1-d ``onset_offsets.npy``): their
notes are moved one by one, as they were when those runs were evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...notes import Notes
from ...representations.tokens import chord_groups


def grid_offsets(
    starts_qn: Sequence[np.ndarray], steps_per_quarter: int, chord_width_qn: float = 0.0, quantiles: int = 65
) -> np.ndarray | None:
    """The timing model of pieces whose onsets are ``starts_qn`` (one array per piece, quarter notes), or None
    when most onsets lie on the grid (scores, quantised MIDI): then decoded notes stay on it.

    ``(2, quantiles)``: row 0 the quantiles of each onset's offset from the grid (a chord's: its notes' mean), row 1
    those of a note's offset from its chord's mean, over chords of two notes or more. A chord is what the tokenizer
    puts on one grid position: the notes within ``chord_width_qn`` of the chord's first where it snaps chords
    (``tokens.snap_chords``), else the notes that round to one grid step."""
    onsets, spreads, on_grid, total = [], [], 0, 0
    for starts in starts_qn:
        starts = np.sort(np.asarray(starts, dtype=np.float64))
        if starts.size == 0:
            continue
        off = starts - np.round(starts * steps_per_quarter) / steps_per_quarter
        on_grid += int(np.count_nonzero(np.abs(off) < 1e-6))
        total += starts.size
        if chord_width_qn > 0:
            chord = chord_groups(starts, chord_width_qn)
        else:
            chord = np.unique(np.round(starts * steps_per_quarter), return_inverse=True)[1].ravel()
        count = np.bincount(chord)
        mean = np.bincount(chord, starts) / count
        onsets.append(mean - np.round(mean * steps_per_quarter) / steps_per_quarter)
        spreads.append((starts - mean[chord])[count[chord] >= 2])
    if total == 0 or on_grid / total >= 0.5:
        return None
    q = np.linspace(0, 1, quantiles)
    spread = np.concatenate(spreads)
    within = np.quantile(spread, q) if spread.size else np.zeros(q.size)
    return np.stack([np.quantile(np.concatenate(onsets), q), within])


def performed(notes: Notes, offsets: np.ndarray | None, rng: np.random.Generator) -> Notes:
    """``notes`` (on the grid, as decoded) played with the timing model ``offsets`` (:func:`grid_offsets`): each
    onset, and its end with it, moved; unchanged where the data was on the grid (``offsets`` is None). A 1-d
    ``offsets`` (runs from before 2026-12-03: quantiles of single notes' offsets) moves each note on its own."""
    if offsets is None or len(notes) == 0:
        return notes
    arr = notes.notes.copy()
    if offsets.ndim == 1:
        draw = _draw(rng, offsets, len(arr))
    else:
        draw = _chord_offsets(arr["start_qn"], arr["pitch"], offsets, rng)
    arr["start_qn"] = np.maximum(arr["start_qn"] + draw, 0.0)
    arr["end_qn"] = np.maximum(arr["end_qn"] + draw, arr["start_qn"] + 1e-3)
    return notes.with_qn_times(arr)


def _draw(rng: np.random.Generator, quantiles: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws from the distribution whose quantiles (evenly spaced probabilities) are ``quantiles``."""
    return np.interp(rng.random(n), np.linspace(0, 1, quantiles.size), quantiles)


def _chord_offsets(
    start_qn: np.ndarray, pitch: np.ndarray, offsets: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Each note's offset: its onset's (shared by the notes that start with it) plus its place in the chord's
    spread, the same spread for every chord of the same pitches in the piece (centred: the chord's mean offset is
    its onset's)."""
    _, step, count = np.unique(start_qn, return_inverse=True, return_counts=True)
    out = _draw(rng, offsets[0], count.size)[step]
    shapes: dict[bytes, np.ndarray] = {}
    for s in np.flatnonzero(count >= 2):
        members = np.flatnonzero(step == s)
        members = members[np.argsort(pitch[members], kind="stable")]
        key = pitch[members].tobytes()
        if key not in shapes:
            spread = _draw(rng, offsets[1], members.size)
            shapes[key] = spread - spread.mean()
        out[members] += shapes[key]
    return out
