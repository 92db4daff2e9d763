"""The ``plot`` job: a music file's piano roll, a dataset's distributions, or runs' training curves side by side."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from ..io import read
from ..plots import plot_dataset, plot_pianoroll, plot_runs
from ..pretrained import resolve_run
from ..runfiles import METRICS


def plot(
    paths: list[str | os.PathLike[str]],
    out: str | os.PathLike[str] | None = None,
    *,
    time: str = "seconds",
    split: str = "all",
    stats: list[str] | None = None,
) -> Path:
    """The figure of ``paths``: one music file (its piano roll, time in ``time``), one prepared dataset (its
    distributions over ``split``), or one or more run folders or shipped models' names (their curves)."""
    folders = [resolve_run(p) for p in paths]  # a shipped model's name is its folder
    if len(folders) == 1 and folders[0].is_file():
        return Path(plot_pianoroll(read(folders[0]), out, unit=time))
    if not all(p.is_dir() for p in folders):
        raise ConfigError("plot: give one music file, one prepared dataset folder, or one or more run folders")
    if len(folders) == 1 and (folders[0] / "manifest.json").is_file() and not (folders[0] / METRICS).is_file():
        return Path(plot_dataset(folders[0], out, split=split))
    for p in folders:
        if not (p / METRICS).is_file():
            raise ConfigError(
                f"{p}: neither a run folder (no {METRICS}) nor a prepared dataset (no manifest.json)"
                if len(folders) == 1
                else f"{p}: not a run folder (no {METRICS}); several folders are compared as runs"
            )
    return Path(plot_runs(folders, out, stats=stats))
