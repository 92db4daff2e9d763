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
import os
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
    "humanizer",
    "drummer",
)


#: families from outside the package: importable modules, comma-separated, each laid out as a family package
#: (``SPECS`` in it, ``FAMILIES`` in its ``family`` module): a model of one's own without changing tunesmith
PLUGINS_ENV = "TUNESMITH_FAMILIES"


def _modules() -> tuple[str, ...]:
    extra = tuple(m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(",") if m.strip())
    return tuple(f"{__name__}.{p}" for p in PACKAGES) + extra


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ConfigError(f"{PLUGINS_ENV} names {module!r}, which cannot be imported ({e})") from None


def specs() -> dict[str, FamilySpec]:
    """Every family's declarations by name, in the registry's order, then those of :data:`PLUGINS_ENV`'s modules
    (imports no torch)."""
    return _specs(_modules())


@cache
def _specs(modules: tuple[str, ...]) -> dict[str, FamilySpec]:
    out: dict[str, FamilySpec] = {}
    for m in modules:
        for s in _import(m).SPECS:
            if s.name in out:
                raise ConfigError(f"{m}: declares a family {s.name!r}, a name already taken")
            out[s.name] = s
    return out


@cache
def _families(modules: tuple[str, ...]) -> dict[str, Family]:
    return {f.name: f for m in modules for f in _import(f"{m}.family").FAMILIES}


def _registry() -> dict[str, Family]:
    return _families(_modules())


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
