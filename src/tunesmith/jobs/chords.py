"""The ``chords`` job: a piece's chords bar by bar, or as a list of timed Harte labels."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..grid import bar_lines_qn
from ..io import read
from ..representations.chords import recognise


def chords(path: str | os.PathLike[str], per: str = "half") -> dict[str, Any]:
    """The chords of the piece in ``path``: ``segments`` (``{"start", "end"`` in seconds, ``"chord"`` in Harte's
    syntax}, neighbours with one chord joined, ``N`` where nothing sounds) and ``bars`` (per bar, from 1, the labels
    of its segments in order)."""
    notes = read(path)
    found = recognise(notes, per)
    labels = found.labels()
    end = float(found.end_qn[-1]) if len(found) else 0.0
    lines = bar_lines_qn(notes, end)
    bar = np.clip(np.searchsorted(lines, found.start_qn + 1e-9, side="right") - 1, 0, None)
    bars: list[list[str]] = [[] for _ in range(int(bar.max()) + 1 if bar.size else 0)]
    for b, label in zip(bar.tolist(), labels, strict=True):
        bars[b].append(label)
    merged = found.merged()
    segments = [
        {"start": round(float(s), 4), "end": round(float(e), 4), "chord": c}
        for s, e, c in zip(merged.start, merged.end, merged.labels(), strict=True)
    ]
    return {"segments": segments, "bars": bars}


def bar_lines_text(bars: list[list[str]]) -> str:
    """One line per bar: its number and its chords (a chord that goes on from the segment before is ``.``)."""
    out = []
    for k, labels in enumerate(bars, 1):
        shown = [labels[0]] + ["." if b == a else b for a, b in zip(labels, labels[1:], strict=False)] if labels else []
        out.append(f"{k:>4}  " + "  ".join(f"{x:<10}" for x in shown).rstrip())
    return "\n".join(out)
