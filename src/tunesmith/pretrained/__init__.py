"""Shipped models: trained runs that travel inside the package, found by name (docs/models.md).

Each shipped model is a folder beside this file (``pretrained/bach/``, ``pretrained/piano/``) holding what a run
folder needs to generate: ``config.json``, ``model.safetensors`` (bf16 or fp16; loading casts to the model's
float32), the family's files (the Transformer's ``tokenizer.json``), its arrays (``primers.npy``), its training
log ``metrics.jsonl``, and ``card.json``: what it is, what it was trained on, how well it does, and the sha256
of every other file of the folder (so that a config and the weights it ships with cannot drift apart).

Where models are looked for (:func:`search_path`): the folders named by the environment variable
:data:`MODELS_ENV` (``TUNESMITH_MODELS``, several separated by ``os.pathsep``), then this package's own folder.
A name found earlier hides the same name later, so a folder of one's own models can be used by name too. When no
model is shipped the registry is simply empty.

Everything here is files and JSON (no torch): the command line names and lists models cheaply. Making a shipped
folder from a run (weights to bf16, the card and its hashes) and exporting one back to an ordinary float32 run
are jobs (``jobs/pretrained.py``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from ..runfiles import CONFIG, WEIGHTS
from ..utils import sha256_file

#: The environment variable naming folders of shipped models searched before the package's own.
MODELS_ENV = "TUNESMITH_MODELS"
#: The card of a shipped model: what it is, its figures and the sha256 of every other file in its folder.
CARD = "card.json"
#: The package's own folder of shipped models.
PACKAGE_MODELS = Path(__file__).resolve().parent

#: What every card holds (``card.json``); :func:`check_card` refuses a card that lacks one.
CARD_FIELDS = (
    "name",
    "summary",
    "kind",
    "data",
    "split",
    "license",
    "parameters",
    "weights_dtype",
    "size_bytes",
    "held_out_bits_per_note",
    "overlap_fraction_of_ceiling",
    "date_trained",
    "preset",
    "steps",
    "hardware",
    "train_seconds",
    "seed",
    "command",
    "files",
)

Roots = Sequence[str | os.PathLike[str]] | None


def search_path(roots: Roots = None) -> list[Path]:
    """The folders searched for shipped models, first first: ``roots`` when given, else those of
    ``$TUNESMITH_MODELS`` followed by the package's own folder."""
    if roots is not None:
        return [Path(r) for r in roots]
    extra = [Path(p) for p in os.environ.get(MODELS_ENV, "").split(os.pathsep) if p.strip()]
    return [*extra, PACKAGE_MODELS]


@dataclass(frozen=True)
class ShippedModel:
    """A shipped model: its name, its folder (a run folder that generation reads as any other) and its card."""

    name: str
    path: Path
    card: dict[str, Any]

    @property
    def summary(self) -> str:
        return str(self.card.get("summary", ""))

    @property
    def size_bytes(self) -> int:
        return int(self.card.get("size_bytes") or sum((self.path / f).stat().st_size for f in self.files))

    @property
    def files(self) -> dict[str, str]:
        """Every file of the model but its card, with its sha256 as the card records it."""
        return dict(self.card.get("files") or {})


def read_card(folder: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(folder) / CARD
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: unreadable model card ({e})") from e
    if not isinstance(card, dict):
        raise CheckpointError(f"{path}: not a model card (a JSON object)")
    return card


def check_card(card: dict[str, Any], where: str | os.PathLike[str]) -> None:
    """A CheckpointError naming the fields a card lacks, if any (:data:`CARD_FIELDS`)."""
    missing = [f for f in CARD_FIELDS if f not in card]
    if missing:
        raise CheckpointError(f"{where}: the model card lacks {', '.join(missing)}")
    for required in (CONFIG, WEIGHTS):
        if required not in card["files"]:
            raise CheckpointError(f"{where}: the model card records no sha256 of {required}")


def shipped_models(roots: Roots = None) -> dict[str, ShippedModel]:
    """Every shipped model by name (a folder with a ``card.json``), in the order of :func:`search_path` and by
    name within a folder; a name found in an earlier folder hides the same name in a later one."""
    found: dict[str, ShippedModel] = {}
    for root in search_path(roots):
        if not root.is_dir():
            continue
        # hidden folders are left out: a model being written is one until it is complete
        folders = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / CARD).is_file()]
        for folder in sorted(folders):
            if folder.name not in found:
                found[folder.name] = ShippedModel(folder.name, folder, read_card(folder))
    return found


def model_names(roots: Roots = None) -> list[str]:
    return list(shipped_models(roots))


def _available(roots: Roots) -> str:
    names = model_names(roots)
    if names:
        return f"the shipped models are {', '.join(names)} ('tunesmith models' lists them)"
    return "no models are shipped with this tunesmith (docs/models.md)"


def get_model(name: str, roots: Roots = None) -> ShippedModel:
    """The shipped model ``name``; a CheckpointError listing the shipped ones where there is none of that name."""
    model = shipped_models(roots).get(name)
    if model is None:
        raise CheckpointError(f"{name!r}: no shipped model of that name; {_available(roots)}")
    return model


def file_hashes(folder: str | os.PathLike[str]) -> dict[str, str]:
    """The sha256 of every file directly in ``folder`` except its card, by name (what a card records)."""
    folder = Path(folder)
    files = [p for p in sorted(folder.iterdir()) if p.is_file() and p.name != CARD and not p.name.startswith(".")]
    return {p.name: sha256_file(p) for p in files}


def verify(model: ShippedModel) -> None:
    """Check a shipped model against its card: every field there, every file it names present with the sha256
    it records (``config.json`` and the weights among them). A CheckpointError names what differs."""
    check_card(model.card, model.path / CARD)
    if model.card["name"] != model.name:
        raise CheckpointError(f"{model.path / CARD}: names the model {model.card['name']!r}, its folder {model.name!r}")
    for name, digest in model.files.items():
        path = model.path / name
        if not path.is_file():
            raise CheckpointError(f"{path}: missing from the shipped model {model.name} (its card lists it)")
        if sha256_file(path) != digest:
            raise CheckpointError(
                f"{path}: its sha256 is not the one the card of {model.name} records; the shipped files were "
                "changed after the card was written (reinstall tunesmith, or ship the model again)"
            )


def resolve_run(run: str | os.PathLike[str], roots: Roots = None) -> Path:
    """The run folder that a RUN argument names: an existing path wins; otherwise a shipped model of that name
    (checked against its card); otherwise a CheckpointError that names the path and lists the shipped models."""
    path = Path(run)
    if path.exists():
        return path
    model = shipped_models(roots).get(os.fspath(run))
    if model is None:
        raise CheckpointError(
            f"{run}: no such file or folder, so not a tunesmith run, and no shipped model has that name; "
            f"{_available(roots)}"
        )
    verify(model)
    return model.path


def shipped_name(path: str | os.PathLike[str], roots: Roots = None) -> str | None:
    """The name of the shipped model whose folder is ``path``, or None for any other run folder."""
    try:
        target = Path(path).resolve()
    except OSError:
        return None
    for model in shipped_models(roots).values():
        if model.path.resolve() == target:
            return model.name
    return None


__all__ = [
    "CARD",
    "CARD_FIELDS",
    "MODELS_ENV",
    "PACKAGE_MODELS",
    "ShippedModel",
    "check_card",
    "file_hashes",
    "get_model",
    "model_names",
    "read_card",
    "resolve_run",
    "search_path",
    "shipped_models",
    "shipped_name",
    "verify",
]
