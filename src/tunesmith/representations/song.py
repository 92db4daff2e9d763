"""A song read bar by bar for a part to follow it (``tunesmith drums``): its bars on its own time signatures, how
much goes on in each (:func:`bar_energy`) and where its sections change (:func:`section_starts`). Pure functions
of :class:`~tunesmith.notes.Notes`; drum notes are left out (the part to write may replace them).

**Energy** of a bar: its onsets (pitched notes starting in it) times their mean velocity / 127, the loudness and
busyness a drummer answers, as the bar's rank among the song's bars (0: the calmest, 1: the busiest; equal bars
share a rank), so a quiet song and a loud one both span the drummer's range.

**Sections** (Foote 2000's novelty, on bars): each bar is described by its pitch-class histogram (duration
weighted, normalised) and its energy; a section starts at bar ``b`` where the ``span`` bars from ``b`` differ from
the ``span`` bars before ``b`` more than :data:`NOVELTY` (the cosine distance of their mean pitch-class histograms,
plus the difference of their mean energy ranks), ``b`` a multiple of ``span`` from the song's first bar (songs turn
on phrase boundaries) and at least ``span`` bars after the last start. Bars without notes (a break) start a section
where notes return.
"""

from __future__ import annotations

import numpy as np

from ..grid import bar_lines_qn
from ..notes import Notes

#: the novelty from which a phrase boundary starts a section (cosine distance + energy-rank difference)
NOVELTY = 0.35


def song_bars(notes: Notes) -> np.ndarray:
    """The song's bar lines in quarter notes, the last one closing the bar that holds the song's last note end."""
    end = float(notes.notes["end_qn"].max(initial=0.0))
    lines = bar_lines_qn(notes, end + 16.0)
    last = int(np.searchsorted(lines, end - 1e-9, side="left"))
    return lines[: max(last, 1) + 1]


def _pitched(notes: Notes) -> np.ndarray:
    a = notes.notes
    return a[~a["is_drum"]]


def _bar_index(lines: np.ndarray, qn: np.ndarray) -> np.ndarray:
    return np.clip(np.searchsorted(lines, qn + 1e-9, side="right") - 1, 0, len(lines) - 2)


def bar_energy(notes: Notes, lines: np.ndarray | None = None) -> np.ndarray:
    """``(bars,)``: each bar's energy as its rank among the song's bars in [0, 1] (module docstring)."""
    lines = song_bars(notes) if lines is None else lines
    bars = len(lines) - 1
    a = _pitched(notes)
    raw = np.zeros(bars)
    if a.size and bars > 0:  # onsets x their mean velocity / 127: the sum of their velocities / 127
        raw = np.bincount(_bar_index(lines, a["start_qn"]), weights=a["velocity"] / 127.0, minlength=bars)
    if bars <= 1:
        return np.zeros(bars)
    order = raw.argsort(kind="stable")
    ranks = np.empty(bars)
    ranks[order] = np.arange(bars)
    for v in np.unique(raw):  # equal bars share their mean rank
        same = raw == v
        ranks[same] = ranks[same].mean()
    return ranks / (bars - 1)


def bar_chroma(notes: Notes, lines: np.ndarray) -> np.ndarray:
    """``(bars, 12)``: each bar's pitch classes weighted by how long they sound in it (each row sums to 1, or 0)."""
    bars = len(lines) - 1
    out = np.zeros((max(bars, 0), 12))
    a = _pitched(notes)
    for b in range(bars):
        lo, hi = lines[b], lines[b + 1]
        overlap = np.clip(np.minimum(a["end_qn"], hi) - np.maximum(a["start_qn"], lo), 0, None)
        out[b] = np.bincount(a["pitch"] % 12, weights=overlap, minlength=12)
    total = out.sum(1, keepdims=True)
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def section_starts(notes: Notes, span: int = 4, lines: np.ndarray | None = None) -> list[int]:
    """The bars (from 0) where a new section starts, the first bar not counted (module docstring)."""
    lines = song_bars(notes) if lines is None else lines
    bars = len(lines) - 1
    chroma, energy = bar_chroma(notes, lines), bar_energy(notes, lines)
    sounding = chroma.sum(1) > 0
    starts: list[int] = []
    last = 0
    for b in range(1, bars):
        if sounding[b] and not sounding[b - 1] and b - last >= 1:
            starts.append(b)
            last = b
            continue
        if b % span or b - last < span or b + span > bars:
            continue
        before, after = chroma[b - span : b].mean(0), chroma[b : b + span].mean(0)
        norm = np.linalg.norm(before) * np.linalg.norm(after)
        distance = 1.0 - float(before @ after) / norm if norm > 0 else 0.0
        novelty = distance + abs(float(energy[b : b + span].mean() - energy[b - span : b].mean()))
        if novelty > NOVELTY:
            starts.append(b)
            last = b
    return starts
