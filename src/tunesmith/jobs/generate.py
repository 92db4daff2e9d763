"""The ``generate`` job: pieces from a trained run written as MIDI files (and, if asked, WAV, piano-roll PNG and
MusicXML score files beside them)."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import render
from ..errors import ConfigError
from ..grid import on_beat_grid
from ..io import read_midi, write_midi
from ..io.score import write_score
from ..notes import Notes
from ..plots import plot_pianoroll
from ..representations.chords import recognise
from ..representations.controls import attributes_of
from ..sampling import check_options
from ..training.trainer import choose_device
from ..utils import atomic_write_text
from .runs import load_run


class Written(list[Path]):
    """What :func:`generate` wrote: the list of MIDI files, with the WAV files beside them (each with the engine
    that rendered it) in ``wav`` and the piano-roll PNG files in ``png``."""

    def __init__(self) -> None:
        super().__init__()
        self.wav: list[tuple[Path, str]] = []
        self.png: list[Path] = []


def score_beside(midi: Path) -> Path:
    """A MusicXML score beside a MIDI file (``.musicxml``): its notes on the beat grid (16ths or 8th triplets,
    whichever each time is nearer), the key its notes are in (Krumhansl-Schmuckler), the chords the recogniser hears
    in each half bar as chord symbols, one part per track, a piano on a grand staff (docs/chords.md)."""
    notes = on_beat_grid(read_midi(midi))
    k = attributes_of(notes).key
    pitched = notes[np.flatnonzero(~notes.notes["is_drum"])]
    chords = recognise(pitched, "half").merged() if len(pitched) else None
    marks = [] if chords is None else list(zip(chords.start_qn, chords.root, chords.quality, chords.bass, strict=True))
    return write_score(notes, midi.with_suffix(".musicxml"), key=None if k < 0 else (k % 12, k >= 12), chords=marks)


def companions(
    midi: Path, *, wav: bool, png: bool, score: bool = False
) -> tuple[tuple[Path, str] | None, Path | None]:
    """A WAV (with the engine that rendered it) and/or a piano-roll PNG beside a MIDI file, as the file reads;
    with ``score``, a MusicXML score too (:func:`score_beside`)."""
    if score:
        score_beside(midi)
    if not (wav or png):
        return None, None
    notes = read_midi(midi)
    rendered = render(notes, midi.with_suffix(".wav")) if wav else None
    drawn = plot_pianoroll(notes, midi.with_suffix(".png")) if png else None
    return rendered, drawn


def output_folder(out: str | os.PathLike[str]) -> Path:
    """``out`` as a folder to write into; a ConfigError when it is an existing file."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: is a file; --out names a folder for the generated files")
    return out


def generate(
    run: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    n: int = 4,
    length: int = 200,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    primer: str | os.PathLike[str] | None = None,
    seed: int = 0,
    device: str = "cpu",
    prefix: str = "sample",
    listing: str = "samples.json",
    options: dict[str, Any] | None = None,
    wav: bool = False,
    png: bool = False,
    score: bool = False,
    choose: Callable[[list[Notes]], list[int]] | None = None,
    finish: Callable[[Notes], Notes] | None = None,
) -> Written:
    """Generate ``n`` pieces of ``length`` new events (bars for the GAN) with a trained run and write them as MIDI
    into the folder ``out`` (``PREFIX_00.mid`` ..., listed with their settings and seeds in ``listing``);
    ``options`` are the family's own generation options (e.g. the GAN's ``threshold``). The same run, options
    and seed give the same files. ``finish``: applied to every piece generated (an edit, e.g. harmonize's cadence);
    ``choose``: given the ``n`` pieces, the indices of those to write, in order (the rest are dropped; each written
    piece keeps its own seed in the listing)."""
    check_options(temperature=temperature, top_k=top_k, top_p=top_p, length=length, n=n)
    out = output_folder(out)
    loaded, fam, model = load_run(run, choose_device(device))
    opts = fam.options(
        n=n,
        length=length,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        primer=None if primer is None else str(primer),
        seed=seed,
        **(options or {}),
    )
    dev = next(model.parameters()).device
    pieces = fam.generate(model, loaded, opts, dev)
    if finish is not None:
        pieces = [finish(p) for p in pieces]
    if choose is not None:
        pieces = [pieces[i] for i in choose(pieces)]
    out.mkdir(parents=True, exist_ok=True)
    written = Written()
    for i, p in enumerate(pieces):
        p = p[p.notes["end_qn"] > p.notes["start_qn"]]  # a note of no length sounds for no time: players drop it
        path = write_midi(p.with_metadata(generator=f"tunesmith {loaded.kind}"), out / f"{prefix}_{i:02d}.mid")
        written.append(path)
        rendered, drawn = companions(path, wav=wav, png=png, score=score)
        written.wav += [rendered] if rendered else []
        written.png += [drawn] if drawn else []
    meta = {"run": str(run), "kind": loaded.kind, **dataclasses.asdict(opts), "files": [p.name for p in written]}
    seeds = [p.metadata.get("seed") for p in pieces]
    if all(s is not None for s in seeds):  # each piece's own seed: --seed S -n 1 writes that piece alone
        meta["seeds"] = {w.name: int(s) for w, s in zip(written, seeds, strict=True)}
    atomic_write_text(out / listing, json.dumps(meta, indent=1))
    return written
