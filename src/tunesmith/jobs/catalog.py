"""What the faces show before any work, without torch (``tunesmith --help`` answers at once): the families'
declarations (names, presets, options, features), the demo's plan, the shipped models, a dataset's summary; the
threads a command that runs a model uses (``threads.use_threads``); and writing a result as JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..dataset import Dataset
from ..families import specs
from ..families.spec import CONTROLS, FamilySpec, OptionDecl, declared_options
from ..pretrained import search_path, shipped_models
from ..threads import use_threads
from ..utils import atomic_write_text
from .plan import DEMO_MODELS

#: the chord strictness (``--chord-strictness``) of voices written under a kept melody over chords (``arrange``,
#: ``harmonize --chords``; jobs/harmonize.py): chosen among 4 and 8 on OpenEWLD's validation sheets, where 8 with the
#: chords mended (``harmonize.on_chords``) had 92.5% of bars and halves heard as the sheet's chord, 4 had 89.1%
#: (docs/chords.md); generate's default, 4, was chosen on music written freely over a progression
KEPT_CHORD_STRICTNESS = 8.0

#: the modes of `tunesmith live` (jobs/live.py)
LIVE_MODES = ("answer", "accompany", "continue")

__all__ = [
    "CONTROLS",
    "DEMO_MODELS",
    "LIVE_MODES",
    "FamilySpec",
    "OptionDecl",
    "dataset_info",
    "declared_options",
    "search_path",
    "shipped_models",
    "specs",
    "use_threads",
    "write_json",
]


def dataset_info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A prepared dataset's summary (``tunesmith info``): pieces, notes and hours per split, pitch range, skipped."""
    return Dataset.load(path).info()


def write_json(path: str | os.PathLike[str], value: Any) -> Path:
    """``value`` as indented JSON at ``path``, written atomically."""
    atomic_write_text(path, json.dumps(value, indent=1))
    return Path(path)
