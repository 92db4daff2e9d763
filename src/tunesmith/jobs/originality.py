"""The ``originality`` job: for each music file (from any generator), the longest run of its notes that also
occurs in a piece of a dataset's split (docs/controls.md; ``evaluation/originality.py``)."""

from __future__ import annotations

import os
from typing import Any

from ..dataset import Dataset
from ..evaluation.originality import OriginalityIndex, originality
from .compare import read_folder


def check_originality(
    path: str | os.PathLike[str], data: str | os.PathLike[str], split: str = "train"
) -> dict[str, Any]:
    """Every music file at ``path`` (a file or a folder, searched recursively) against ``split`` of ``data``;
    unreadable files are listed with their reason and skipped."""
    pieces, bad = read_folder(path, at_least=1)
    index = OriginalityIndex.build(Dataset.load(data), split)
    return {**originality(pieces, index), "split": split, "unreadable": bad}
