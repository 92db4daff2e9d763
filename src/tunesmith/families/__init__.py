"""Model families: one package per model kind, and the registry that names them.

Each package (``rnn/``, ``gan/``, ``crnngan/``) holds everything its model adds: ``model.py`` (the config
dataclass beside the ``nn.Module``), ``task.py`` (batches and the training step), ``sample.py`` (how it
generates) and, in its ``__init__``, a :class:`~tunesmith.families.base.Family` (or several) in ``FAMILIES``.
Adding a model is one new package and one line in :data:`PACKAGES` (docs/architecture.md has the checklist).
"""

from __future__ import annotations

from ..errors import ConfigError
from . import crnngan, gan, rnn, transformer
from .base import Family, GenerateOptions, Run, TaskBundle

#: The registry: one line per family package.
PACKAGES = (
    rnn,
    gan,
    crnngan,
    transformer,
)

REGISTRY: dict[str, Family] = {family.name: family for package in PACKAGES for family in package.FAMILIES}


def get_family(kind: str) -> Family:
    if kind not in REGISTRY:
        raise ConfigError(f"unknown model {kind!r}; choose one of {', '.join(REGISTRY)}")
    return REGISTRY[kind]


def family_names() -> list[str]:
    return list(REGISTRY)


__all__ = ["REGISTRY", "Family", "GenerateOptions", "Run", "TaskBundle", "family_names", "get_family"]
