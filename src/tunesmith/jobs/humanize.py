"""The ``humanize`` job: a programmed drum part (on the grid, flat velocity) played as a drummer would, by a run
of a family that can (the shipped ``groove`` by default)."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from ..io import read, write_midi
from ..representations.drums import drum_cells
from ..training.trainer import choose_device
from .generate import companions, output_folder
from .runs import load_run

#: the shipped humanizer, what ``tunesmith humanize`` uses unless told otherwise
DEFAULT_RUN = "groove"


def humanize(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    run: str | os.PathLike[str] = DEFAULT_RUN,
    amount: float = 1.0,
    device: str = "cpu",
    wav: bool = False,
    png: bool = False,
) -> Path:
    """Write ``source`` with its drums humanized into the folder ``out`` (``<name>_humanized.mid``; its other
    tracks note for note) and return the file's path. ``amount`` scales how far each hit moves from where it is
    towards how the model plays it (0: unchanged, 1: as the model plays it)."""
    notes = read(source)
    if drum_cells(notes).index.size == 0:
        raise ConfigError(
            f"{source}: no drum notes to humanize (drums are notes on MIDI channel 10 of the 9 kit classes: kick, "
            "snare, toms, hi-hats, crash, ride)"
        )
    loaded, fam, model = load_run(run, choose_device(device))
    if not fam.can("humanize"):
        raise ConfigError(f"{run} is a {fam.name} run, which cannot humanize drums; use a humanizer run")
    played = fam.humanize(model, notes, float(amount), next(model.parameters()).device)
    folder = output_folder(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = write_midi(
        played.with_metadata(generator=f"tunesmith {loaded.kind}"), folder / f"{Path(source).stem}_humanized.mid"
    )
    companions(path, wav=wav, png=png)
    return path
