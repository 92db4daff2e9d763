"""How decoded notes are played: moved off the tokenizer's grid as the training data's notes lie off it.

Played music (MAESTRO) is not quantised: only 2% of its onsets lie on a 32nd-note grid, and a chord's notes start
a few milliseconds apart. Decoded as they are, grid tokens start every note of a chord on one tick (56% of the
notes against 8% in MAESTRO, the evaluation's polyphony). So the run keeps a small model of the data's timing
(:func:`grid_offsets`, ``onset_offsets.npy``; :func:`chord_shapes`, ``chord_shapes.npy``) and generation plays
its notes through it (:func:`performed`):

- the notes on one grid step (a chord) share one offset, drawn from the data's offsets of whole steps (the mean
  of their notes'), and spread around it as one of the data's chords of as many notes is spread around its own;
- within a piece, a chord of the same pitches is spread the same way each time it comes back, as a pianist plays
  one chord shape with one hand shape. The order of a chord's notes decides the order of the notes in the piece,
  and with it which passages repeat note for note: drawn afresh for each chord, held-out MAESTRO excerpts put on
  the grid and played back lose 38% of their 4-note repetitions (0.076 -> 0.048);
  kept per chord shape, they keep the statistics they were played with (docs/benchmarks.md, "Playing the
  grid", ``benchmarks/bench_perform.py``).

Older runs play as they were evaluated: without ``chord_shapes.npy``, a chord's notes are spread one by one (drawn
from the data's spreads of single notes); with a 1-d ``onset_offsets.npy`` (one distribution of single notes'
offsets, before 2026-12-03), each note is moved on its own.
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
        chord, count, mean = _chords(starts, steps_per_quarter, chord_width_qn)
        onsets.append(mean - np.round(mean * steps_per_quarter) / steps_per_quarter)
        spreads.append((starts - mean[chord])[count[chord] >= 2])
    if total == 0 or on_grid / total >= 0.5:
        return None
    q = np.linspace(0, 1, quantiles)
    spread = np.concatenate(spreads)
    within = np.quantile(spread, q) if spread.size else np.zeros(q.size)
    return np.stack([np.quantile(np.concatenate(onsets), q), within])


def chord_shapes(
    pieces: Sequence[tuple[np.ndarray, np.ndarray]],
    steps_per_quarter: int,
    chord_width_qn: float = 0.0,
    per_size: int = 256,
    least: int = 16,
) -> np.ndarray | None:
    """Real chords' spreads, to play whole generated chords with: ``(chords, widest)``, each row one chord of the
    pieces (``(start_qn, pitch)`` arrays, chords as :func:`grid_offsets` finds them) as its notes' offsets from the
    chord's mean onset in order of pitch, NaN past its size; up to ``per_size`` chords of each size (evenly spread
    over the pieces), for the sizes with at least ``least``; None where no size has that many.

    Why whole chords: drawn note by note from one distribution (row 1 of :func:`grid_offsets`), a chord's notes
    spread as a pianist's do alone but not together; real chords are mostly struck as one (all notes within a few
    ms) or rolled (all spread wide). Snapped chords (``tokens.snap_chords``) come back about 1.5 times as
    simultaneous as played (the evaluation's polyphony), drawn whole as played (docs/benchmarks.md, "Playing the
    grid")."""
    by_size: dict[int, list[np.ndarray]] = {}
    for start, pitch in pieces:
        start = np.asarray(start, dtype=np.float64)
        order = np.argsort(start, kind="stable")
        s, p = start[order], np.asarray(pitch)[order]
        chord, count, mean = _chords(s, steps_per_quarter, chord_width_qn)
        kept = np.flatnonzero(count[chord] >= 2)
        kept = kept[np.lexsort((p[kept], chord[kept]))]  # chord by chord, each in order of pitch
        spread = s[kept] - mean[chord[kept]]
        bounds = np.flatnonzero(np.diff(chord[kept])) + 1
        for row in np.split(spread, bounds) if kept.size else []:
            by_size.setdefault(row.size, []).append(row)
    rows = []
    for size in sorted(by_size):
        found = by_size[size]
        if len(found) >= least:
            pick = np.unique(np.linspace(0, len(found) - 1, min(per_size, len(found))).round().astype(int))
            rows += [found[i] for i in pick]
    if not rows:
        return None
    out = np.full((len(rows), max(r.size for r in rows)), np.nan)
    for i, r in enumerate(rows):
        out[i, : r.size] = r
    return out


def _chords(starts: np.ndarray, steps_per_quarter: int, chord_width_qn: float):
    """The chord of each of the sorted onsets ``starts`` (indices from 0), each chord's size and mean onset."""
    if chord_width_qn > 0:
        chord = chord_groups(starts, chord_width_qn)
    else:
        chord = np.unique(np.round(starts * steps_per_quarter), return_inverse=True)[1].ravel()
    count = np.bincount(chord)
    return chord, count, np.bincount(chord, starts) / count


def performed(
    notes: Notes, offsets: np.ndarray | None, rng: np.random.Generator, shapes: np.ndarray | None = None
) -> Notes:
    """``notes`` (on the grid, as decoded) played with the timing model ``offsets`` (:func:`grid_offsets`): each
    onset, and its end with it, moved; unchanged where the data was on the grid (``offsets`` is None). A chord whose
    size ``shapes`` has (:func:`chord_shapes`) is spread as one real chord of that size, in order of pitch; others
    note by note. A 1-d ``offsets`` (runs from before 2026-12-03: quantiles of single notes' offsets) moves each
    note on its own."""
    if offsets is None or len(notes) == 0:
        return notes
    arr = notes.notes.copy()
    if offsets.ndim == 1:
        draw = _draw(rng, offsets, len(arr))
    else:
        draw = _chord_offsets(arr["start_qn"], arr["pitch"], offsets, rng, _by_size(shapes))
    arr["start_qn"] = np.maximum(arr["start_qn"] + draw, 0.0)
    arr["end_qn"] = np.maximum(arr["end_qn"] + draw, arr["start_qn"] + 1e-3)
    return notes.with_qn_times(arr)


def _draw(rng: np.random.Generator, quantiles: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws from the distribution whose quantiles (evenly spaced probabilities) are ``quantiles``."""
    return np.interp(rng.random(n), np.linspace(0, 1, quantiles.size), quantiles)


def _by_size(shapes: np.ndarray | None) -> dict[int, np.ndarray]:
    """The rows of a :func:`chord_shapes` table by chord size, without their padding."""
    if shapes is None:
        return {}
    size = np.count_nonzero(np.isfinite(shapes), axis=1)
    return {int(n): shapes[size == n, :n] for n in np.unique(size)}


def _chord_offsets(
    start_qn: np.ndarray,
    pitch: np.ndarray,
    offsets: np.ndarray,
    rng: np.random.Generator,
    shapes: dict[int, np.ndarray],
) -> np.ndarray:
    """Each note's offset: its onset's (shared by the notes that start with it) plus its place in the chord's
    spread (a real chord's of its size where ``shapes`` has one, else drawn note by note), the same spread for
    every chord of the same pitches in the piece (centred: the chord's mean offset is its onset's)."""
    _, step, count = np.unique(start_qn, return_inverse=True, return_counts=True)
    out = _draw(rng, offsets[0], count.size)[step]
    played: dict[bytes, np.ndarray] = {}
    for s in np.flatnonzero(count >= 2):
        members = np.flatnonzero(step == s)
        members = members[np.argsort(pitch[members], kind="stable")]
        key = pitch[members].tobytes()
        if key not in played:
            if members.size in shapes:
                real = shapes[members.size]
                played[key] = real[rng.integers(len(real))]
            else:
                spread = _draw(rng, offsets[1], members.size)
                played[key] = spread - spread.mean()
        out[members] += played[key]
    return out
