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
from ..io import read
from .generate import Written, generate
from .runs import open_run

MAIN_SHARE = 0.05  # an instrument playing at least this share of the training notes is one of its main ones


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
) -> Written:
    """``n`` harmonisations of ``melody``: its ``tracks`` (default: all of them) kept, the other voices written."""
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
    if table is not None and loaded.config["model"].get("controls") and "instruments" not in options:
        wanted = set(main_programs(table)) | ({options["keep_as"]} if options.get("keep_as") is not None else set())
        options["instruments"] = ",".join(str(p) for p in sorted(wanted))
    return generate(
        run,
        out,
        n=n,
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
