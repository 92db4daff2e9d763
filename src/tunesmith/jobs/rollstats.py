"""The ``rollstats`` job: the piano-roll GAN's quality check (MuseGAN's statistics against real phrases, the
decoding chosen on validation phrases), and keeping the chosen decoding in the run."""

from __future__ import annotations

import json
import os
from typing import Any

from ..dataset import Dataset
from ..errors import ConfigError
from ..evaluation.metrics import MUSEGAN_STATISTICS
from ..pretrained import shipped_name
from ..runfiles import DECODING
from ..utils import atomic_write_text
from .runs import load_run

__all__ = ["MUSEGAN_STATISTICS", "rollstats"]


def rollstats(
    run: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    n: int = 512,
    real: int = 2048,
    thresholds: tuple[float, ...] = (),
    holds: tuple[float, ...] = (),
    sample: bool = False,
    frames_only: bool = False,
    seed: int = 0,
    save: bool = False,
) -> dict[str, Any]:
    """The piano-roll statistics of a run whose family has the "roll_statistics" feature (the GAN's
    ``roll_quality``: MuseGAN's statistics, the decoding chosen on validation phrases); with ``save``, the chosen row's
    threshold and hold are written to the run's ``decoding.json`` (its path is returned under ``saved``)."""
    loaded, fam, model = load_run(run)
    if save and shipped_name(loaded.path) is not None:  # its card holds the sha256 of every file it ships
        raise ConfigError(
            f"{run}: a shipped model stays as shipped; export it ('tunesmith models --export') and --save into that run"
        )
    if not fam.can("roll_statistics"):
        raise ConfigError(f"{run}: a {loaded.kind} run; rollstats measures piano-roll runs (a GAN's)")
    for t in thresholds + holds:
        if not 0 < t <= 1:
            raise ConfigError(f"--threshold and --hold must lie in (0, 1], got {t}")
    if sample and holds:
        raise ConfigError("--hold is a second threshold; it does not apply with --sample")
    if sample and save:
        raise ConfigError("--save keeps a threshold and a hold; there is none to keep with --sample")
    q = fam.roll_statistics(
        model,
        Dataset.load(data),
        n=n,
        real=real,
        thresholds=thresholds,
        holds=holds or (None,),
        sample=sample,
        onsets=False if frames_only else None,
        seed=seed,
    )
    q["saved"] = None
    if save:
        r = q["rows"][q["chosen"]]
        saved = {
            "threshold": r["threshold"],
            "hold": r["hold"],
            "onsets": q["onsets"],
            "chosen_on": f"{q['real_phrases']} validation phrases" if q["validation"] is not None else "given",
            "stats": r["stats"],
            "real": q["real"],
            "met": r["met"],
        }
        path = loaded.path / DECODING
        atomic_write_text(path, json.dumps(saved, indent=1))
        q["saved"] = str(path)
    return q
