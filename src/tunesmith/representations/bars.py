"""Bar lines and each bar's sums: where a piece's bars fall (from its time signatures) and what each bar holds
(notes, pitch classes, polyphony, range, tempo, metre, instruments), the one home of the helpers that the token
cache (``tokens.py``) and the attribute controls (``controls.py``) both read. Pure functions of
:class:`~tunesmith.notes.Notes`."""

from __future__ import annotations

import numpy as np

from ..grid import bar_lines_qn  # noqa: F401 (re-exported: bar lines are the grid's, below every floor)
from ..notes import Notes

N_PROGRAMS = 129  # General MIDI programs 0-127, then drums
DRUMS = 128

#: one bar's sums, from which any run of bars' attributes follow
BAR_DTYPE = np.dtype(
    [
        ("notes", np.int32),  # onsets in the bar (drums included)
        ("pc", np.float32, 12),  # quarter notes sounded per pitch class (drums excluded)
        ("poly", np.float32),  # summed over the bar's onset times: notes sounding there
        ("onsets", np.int32),  # distinct onset times (on the grid)
        ("lo", np.uint8),  # lowest and highest pitch (255 and 0 when the bar has no pitched note)
        ("hi", np.uint8),
        ("qpm", np.float32),  # tempo at the bar line
        ("num", np.uint8),  # time signature at the bar line
        ("den", np.uint8),
        ("programs", np.uint8, 17),  # packed bits of the N_PROGRAMS programs that play
    ]
)


def _lookup(times: np.ndarray, at: np.ndarray) -> np.ndarray:
    """For each time in ``at``, the index of the last change in ``times`` at or before it (0 before the first)."""
    return np.clip(np.searchsorted(times, at, side="right") - 1, 0, None)


def bar_lines(notes: Notes, n_bars: int | None = None) -> np.ndarray:
    """The piece's bar lines (quarter notes): as many as ``n_bars`` when given (continued in the last bar's length
    past the end), else up to its last note."""
    end = float(notes.end_qn.max()) if len(notes) else 0.0
    lines = bar_lines_qn(notes, end)
    if n_bars is None:
        return lines
    if lines.size >= n_bars:
        return lines[:n_bars]
    step = float(lines[-1] - lines[-2]) if lines.size >= 2 else 4.0
    return np.concatenate([lines, lines[-1] + step * np.arange(1, n_bars - lines.size + 1)])


def bar_stats(notes: Notes, lines: np.ndarray, steps_per_quarter: int = 8) -> np.ndarray:
    """One :data:`BAR_DTYPE` row per bar line in ``lines`` (quarter notes); a note belongs to the bar its onset lies
    in (notes before the first line to the first bar, after the last to the last). Onsets and ends are rounded
    to the grid of ``steps_per_quarter`` for polyphony, so that a played chord counts as one onset."""
    n = max(int(lines.size), 1)
    out = np.zeros(n, dtype=BAR_DTYPE)
    out["lo"] = 255
    ts = notes.time_signatures
    at = _lookup(notes.tempos["qn"], lines[:n]) if notes.tempos.size else None
    out["qpm"] = notes.tempos["qpm"][at] if at is not None else 120.0
    if ts.size:
        k = _lookup(ts["qn"], lines[:n])
        before = ts["qn"][k] > lines[:n] + 1e-9  # a bar before the first signature is in 4/4
        out["num"] = np.where(before, 4, ts["numerator"][k])
        out["den"] = np.where(before, 4, ts["denominator"][k])
    else:
        out["num"], out["den"] = 4, 4
    if len(notes) == 0:
        return out
    a = notes.notes
    bar = np.clip(np.searchsorted(lines, a["start_qn"] + 1e-9, side="right") - 1, 0, n - 1)
    np.add.at(out["notes"], bar, 1)
    program = np.where(a["is_drum"], DRUMS, a["program"]).astype(np.int64)
    bits = np.zeros((n, N_PROGRAMS + 7), dtype=np.uint8)
    bits[bar, program] = 1
    out["programs"] = np.packbits(bits, axis=1)
    pitched = ~a["is_drum"]
    p, b = a[pitched], bar[pitched]
    if p.size == 0:
        return out
    pitch = p["pitch"].astype(np.int64)
    np.add.at(out["pc"], (b, pitch % 12), np.maximum(p["end_qn"] - p["start_qn"], 0.0).astype(np.float32))
    np.minimum.at(out["lo"], b, p["pitch"])
    np.maximum.at(out["hi"], b, p["pitch"])
    g = float(steps_per_quarter)
    starts = np.round(p["start_qn"] * g) / g
    ends = np.maximum(np.round(p["end_qn"] * g) / g, starts + 1.0 / g)
    onsets = np.unique(starts)
    sounding = np.searchsorted(np.sort(starts), onsets, side="right") - np.searchsorted(
        np.sort(ends), onsets, side="right"
    )
    ob = np.clip(np.searchsorted(lines, onsets + 1e-9, side="right") - 1, 0, n - 1)
    np.add.at(out["poly"], ob, sounding.astype(np.float32))
    np.add.at(out["onsets"], ob, 1)
    return out
