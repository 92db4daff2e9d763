"""The ``originality`` job: for each music file (from any generator), the longest run of its notes that also
occurs in a piece of a dataset's split (docs/controls.md; ``evaluation/originality.py``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..dataset import Dataset
from ..errors import ConfigError
from ..evaluation.originality import OriginalityIndex, originality
from ..pretrained import CARD, read_card, resolve_run
from ..runfiles import ORIGINALITY
from .compare import read_folder


def check_originality(
    path: str | os.PathLike[str],
    data: str | os.PathLike[str] | None = None,
    split: str = "train",
    *,
    run: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Every music file at ``path`` (a file or a folder, searched recursively) against ``split`` of ``data``, or
    against the training data of ``run`` (a run folder or a shipped model's name that keeps an index of it,
    ``originality.npz``: no dataset needed); unreadable files are listed with their reason and skipped."""
    if (data is None) == (run is None):
        raise ConfigError("originality: give --data (a prepared dataset) or --run (a model that keeps an index)")
    if run is not None:
        folder = index_folder(resolve_run(run))
        if not (folder / ORIGINALITY).is_file():
            raise ConfigError(
                f"{run}: keeps no index of its training data ({ORIGINALITY}); give --data with the dataset it was "
                "trained on instead"
            )
        index, split = OriginalityIndex.load(folder / ORIGINALITY), f"{Path(os.fspath(run)).name} training"
    pieces, bad = read_folder(path, at_least=1)
    if run is None:
        index = OriginalityIndex.build(Dataset.load(data), split)
    return {**originality(pieces, index), "split": split, "unreadable": bad}


def index_folder(folder: Path) -> Path:
    """Where the run ``folder``'s training index is: its own folder, or, for a shipped model trained on the same
    split as another (its card's ``originality_index.same_as``), that model's."""
    if (folder / ORIGINALITY).is_file() or not (folder / CARD).is_file():
        return folder
    same_as = (read_card(folder).get("originality_index") or {}).get("same_as")
    return resolve_run(same_as, roots=[folder.parent]) if same_as else folder
