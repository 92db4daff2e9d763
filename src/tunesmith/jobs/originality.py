"""The ``originality`` job: for each music file (from any generator), the longest run of its notes that also
occurs in a piece of a dataset's split (docs/controls.md; ``evaluation/originality.py``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..dataset import Dataset
from ..errors import DatasetError, ReadError
from ..evaluation.originality import OriginalityIndex, originality
from ..io import SUPPORTED_EXTENSIONS, read


def check_originality(
    path: str | os.PathLike[str], data: str | os.PathLike[str], split: str = "train"
) -> dict[str, Any]:
    """Every music file at ``path`` (a file or a folder, searched recursively) against ``split`` of ``data``;
    unreadable files are listed with their reason and skipped."""
    root = Path(path)
    if not root.exists():
        raise DatasetError(f"{root}: no such file or folder")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix.lower() in SUPPORTED_EXTENSIONS)
    pieces, bad = [], []
    for f in files:
        try:
            pieces.append(read(f))
        except ReadError as e:
            bad.append((str(f), str(e)))
    if not pieces:
        raise DatasetError(f"{root}: no readable music file to check")
    index = OriginalityIndex.build(Dataset.load(data), split)
    return {**originality(pieces, index), "split": split, "unreadable": bad}
