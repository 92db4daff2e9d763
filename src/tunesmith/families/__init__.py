"""Model families: one package per model kind, and the registry that names them.

Each package (``rnn/``, ``gan/``, ``crnngan/``, ``transformer/``) holds everything its model adds: ``config.py``
(its settings dataclass and presets) and ``spec.py`` (what it declares: ``SPECS``), both without torch, then
``model.py`` (the ``nn.Module``), ``task.py`` (batches and the training step), ``sample.py`` (how it generates)
and ``family.py`` (a :class:`~tunesmith.families.base.Family`, or several, in ``FAMILIES``). Adding a model is one
new package and one line in :data:`PACKAGES` (docs/architecture.md has the checklist).

The command line reads only the declarations (:func:`specs`: no torch, so ``--help`` answers at once); the
families themselves are loaded when a model is first asked for (:func:`get_family`).
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .spec import FamilySpec, GenerateOptions

if TYPE_CHECKING:
    from .base import Family

#: The registry: one line per family package.
PACKAGES = (
    "rnn",
    "gan",
    "crnngan",
    "transformer",
)


@cache
def specs() -> dict[str, FamilySpec]:
    """Every family's declarations by name, in the registry's order (imports no torch)."""
    return {s.name: s for p in PACKAGES for s in importlib.import_module(f"{__name__}.{p}").SPECS}


@cache
def _registry() -> dict[str, Family]:
    return {f.name: f for p in PACKAGES for f in importlib.import_module(f"{__name__}.{p}.family").FAMILIES}


def get_family(kind: str) -> Family:
    if kind not in specs():
        raise ConfigError(f"unknown model {kind!r}; choose one of {', '.join(specs())}")
    return _registry()[kind]


def family_names() -> list[str]:
    return list(specs())


def __getattr__(name: str) -> Any:  # REGISTRY and the contract's torch half, loaded when first asked for
    if name == "REGISTRY":
        return _registry()
    if name in ("Family", "Run", "TaskBundle"):
        return getattr(importlib.import_module(f"{__name__}.base"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "REGISTRY",
    "Family",
    "FamilySpec",
    "GenerateOptions",
    "Run",
    "TaskBundle",
    "family_names",
    "get_family",
    "specs",
]
