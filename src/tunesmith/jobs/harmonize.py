"""``tunesmith harmonize``: keep a melody (or any tracks) note for note and have a Transformer write the rest.

A thin layer over ``generate --keep-tracks``: it chooses the program the kept tracks are given to the model as
(their own where the model's training data used it, else the training data's highest-sounding main instrument,
e.g. the soprano's violin of the string-quartet chorales) and, for a run with attribute controls, asks for the
instruments its training data mainly used, so that the voices written are the ones the model knows.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import CheckpointError, ConfigError
from ..evaluation.harmony import Key, harmony, key_of
from ..evaluation.voiceleading import voice_leading
from ..io import read
from ..notes import Notes
from .generate import Written, generate
from .runs import open_run

MAIN_SHARE = 0.05  # an instrument playing at least this share of the training notes is one of its main ones
#: versions drawn per one written (chosen on the chorales' validation sopranos: docs/controls.md)
DEFAULT_CANDIDATES = 4


def kept_tracks(tracks: str, piece: Notes) -> list[int]:
    """The ``track`` values of ``tracks`` ("1,3": counted from 1 in the file's order)."""
    ids = [int(t) for t in np.unique(piece.notes["track"])]
    return [ids[int(t) - 1] for t in tracks.split(",") if t.strip().isdigit() and 1 <= int(t) <= len(ids)]


def harmony_faults(piece: Notes, kept: list[int], key: Key) -> tuple[int, float]:
    """How far a harmonisation is from one a musician would keep, to rank versions by (lower is better): first the
    count of its faults of key (not in ``key``, the melody's) and of ending (not on its tonic), then the share of
    strong beats where the melody is no chord tone plus voice crossings and parallel fifths and octaves per beat.
    Voices by track: the kept ones (the melody) first, then the written ones from the highest-sounding down."""
    a = piece.notes[~piece.notes["is_drum"]]
    others = sorted(
        (int(t) for t in np.unique(a["track"]) if int(t) not in kept),
        key=lambda t: -float(np.median(a["pitch"][a["track"] == t])),
    )
    voices = {f"voice {i}": t for i, t in enumerate([*kept[:1], *others])}
    h = harmony(piece, key, voices, by="track")
    v = voice_leading(piece, voices, by="track", ranges={}).summary()
    faults = (1 - h.in_key) + (1 - h.on_tonic)
    rough = (1 - h.summary()["strong_beat_chord_tone_share"]) + (
        v["crossing_per_100_beats"] + v["parallel_fifths_per_100_beats"] + v["parallel_octaves_per_100_beats"]
    ) / 100
    return faults, rough


def main_programs(table: np.ndarray) -> list[int]:
    """The programs (128: drums) that play at least :data:`MAIN_SHARE` of the training notes."""
    share = table[:, 0] / max(table[:, 0].sum(), 1)
    return [int(p) for p in np.flatnonzero(share >= MAIN_SHARE)]


def melody_program(table: np.ndarray, kept: list[int]) -> int | None:
    """None when the model's data used every kept program; else its highest-sounding main program."""
    if all(table[p, 0] > 0 for p in kept):
        return None
    main = [p for p in main_programs(table) if p != 128]
    return max(main, key=lambda p: table[p, 1]) if main else None


def harmonize(
    melody: str | os.PathLike[str],
    run: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    n: int = 4,
    tracks: str | None = None,
    as_program: int | None = None,
    seed: int = 0,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    device: str = "cpu",
    controls: dict[str, str] | None = None,
    wav: bool = False,
    png: bool = False,
    avoid_parallels: bool = True,
    candidates: int = DEFAULT_CANDIDATES,
    in_key: bool = True,
) -> Written:
    """``n`` harmonisations of ``melody``: its ``tracks`` (default: all of them) kept, the other voices written.

    ``in_key``: a run trained with attribute controls is asked for the melody's key (music21's analysis), unless
    ``controls`` name one. ``candidates``: versions drawn per one written; the ``n`` written are those that
    :func:`harmony_faults` ranks best (in the melody's key, ending on its tonic, the melody a chord tone on strong
    beats, voices in order, few parallels), each with its own seed in ``harmonies.json``."""
    if candidates < 1:
        raise ConfigError(f"--candidates {candidates}: at least 1 (1: every version drawn is written)")
    piece = read(melody)
    if len(piece) == 0:
        raise ConfigError(f"{melody}: no notes to harmonise")
    loaded = open_run(run)  # a folder or a shipped model's name
    if loaded.kind != "transformer":
        raise ConfigError(f"{run}: a {loaded.kind} run; harmonize needs a transformer run (it keeps tracks)")
    n_tracks = len(np.unique(piece.notes["track"]))
    tracks = tracks or ",".join(str(i + 1) for i in range(n_tracks))
    options: dict[str, object] = {"keep_tracks": tracks, "avoid_parallels": avoid_parallels, **(controls or {})}
    try:
        table = loaded.array("programs")
    except CheckpointError:  # a run from before the table: the kept tracks go in as they are
        table = None
    if as_program is not None:
        if not 0 <= as_program <= 127:
            raise ConfigError(f"--as-program {as_program}: a General MIDI program, 0-127")
        options["keep_as"] = as_program
    elif table is not None:
        kept_programs = sorted({int(p) for p in piece.notes["program"][~piece.notes["is_drum"]]})
        options["keep_as"] = melody_program(table, kept_programs)
    if table is not None:
        seen_as = [options["keep_as"]] if options.get("keep_as") is not None else sorted(
            {int(p) for p in piece.notes["program"]}
        )
        if not set(main_programs(table)) - set(seen_as):
            raise ConfigError(
                f"{run}: its training data has no main instrument besides the kept one ({', '.join(map(str, seen_as))})"
                "; the parts it writes are told apart from the kept ones by instrument: use a model that learned "
                "several (e.g. one trained on the Bach chorales), or --as-program to give the kept tracks another"
            )
    melody_key = key_of(piece[np.isin(piece.notes["track"], kept_tracks(tracks, piece))])
    if in_key and loaded.config["model"].get("controls") and "key" not in options:
        options["key"] = str(melody_key)
    if table is not None and loaded.config["model"].get("controls") and "instruments" not in options:
        wanted = set(main_programs(table)) | ({options["keep_as"]} if options.get("keep_as") is not None else set())
        options["instruments"] = ",".join(str(p) for p in sorted(wanted))
    keep = kept_tracks(tracks, piece)

    def best(pieces: list[Notes]) -> list[int]:
        faults = [harmony_faults(p, keep, melody_key) for p in pieces]
        return sorted(sorted(range(len(pieces)), key=lambda i: faults[i])[:n])  # the n best, in seed order

    return generate(
        run,
        out,
        n=n * candidates,
        choose=best if candidates > 1 else None,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        primer=melody,
        seed=seed,
        device=device,
        prefix="harmony",
        listing="harmonies.json",
        options={k: v for k, v in options.items() if v is not None},
        wav=wav,
        png=png,
    )
