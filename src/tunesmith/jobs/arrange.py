"""The ``arrange`` job: a lead sheet's melody kept note for note, an accompaniment written over its chords.

A lead sheet is a melody and its chord symbols (MusicXML's ``<harmony>``, ABC's chord annotations). The symbols
become a progression bar by bar (``representations/chords.symbols_by_bar``: one chord a bar, or two where it
changes at the half) and the melody is harmonised by a Transformer run trained with chord controls, told that
progression (``harmonize`` with ``--chords``): the voices it writes keep to the chords' tones
(``KEPT_CHORD_STRICTNESS``), the versions that follow the most bars are kept, and a bar whose voices the
recogniser hears as another chord is mended with the tone they leave out (``harmonize.on_chords``).
``chords`` (a progression as ``--chords`` takes it) replaces the sheet's own, or gives chords to a melody without
any (a MIDI file).
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import ConfigError
from ..grid import bar_lines_qn
from ..io import read
from ..io.score import read_lead_sheet
from ..representations.chords import progression_text, symbols_by_bar
from .generate import Written
from .harmonize import DEFAULT_CANDIDATES, harmonize

#: the files a lead sheet comes in, with chord symbols
SHEETS = (".mxl", ".musicxml", ".xml", ".abc")


def sheet_progression(path: str | os.PathLike[str]) -> str:
    """The chord progression of a lead sheet, bar by bar, in Harte's syntax (``"C:maj | G:7 | A:min F:maj"``); an
    error naming the file where it has no chord symbols."""
    if os.fspath(path).lower().endswith(SHEETS):
        notes, symbols = read_lead_sheet(path)
    else:
        notes, symbols = read(path), []
    if not any(root >= 0 for _, root, _, _ in symbols):
        raise ConfigError(
            f"{path}: no chord symbols to arrange over (a lead sheet in MusicXML or ABC carries them); give the "
            'progression with --chords "C | G | Am | F"'
        )
    end = max(float(notes.end_qn.max()) if len(notes) else 0.0, symbols[-1][0] + 1e-6)
    lines = bar_lines_qn(notes, end)
    while lines[-1] < end - 1e-9:  # the line that closes the last bar
        lines = np.append(lines, lines[-1] + (lines[-1] - lines[-2] if lines.size > 1 else 4.0))
    return progression_text(symbols_by_bar(symbols, lines))


def arrange(
    sheet: str | os.PathLike[str],
    run: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    n: int = 1,
    chords: str | None = None,
    tracks: str | None = None,
    seed: int = 0,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    device: str = "cpu",
    controls: dict[str, str] | None = None,
    candidates: int = DEFAULT_CANDIDATES,
    wav: bool = False,
    png: bool = False,
    score: bool = False,
) -> Written:
    """``n`` arrangements of ``sheet`` (``arrangement_00.mid`` ...): its melody (``tracks``, default all of its
    tracks) as it was, the other voices written over its chords (``chords``: a progression instead of the
    sheet's), by ``run``, a Transformer trained with chord controls."""
    progression = chords if chords is not None else sheet_progression(sheet)
    return harmonize(
        sheet, run, out, n=n, tracks=tracks, seed=seed, temperature=temperature, top_k=top_k, top_p=top_p,
        device=device, controls={**(controls or {}), "chords": progression}, candidates=candidates, wav=wav,
        png=png, score=score, prefix="arrangement", listing="arrangements.json",
    )  # fmt: skip
