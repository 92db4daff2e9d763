"""Model families: what each model kind adds to the shared machinery.

A :class:`Family` names a model kind (``rnn``, ...) and gives its config class and presets, how to build its
``nn.Module``, how to turn a prepared dataset into a training :class:`~tunesmith.training.trainer.Task`, and
how to generate pieces from a trained model. The command line, the trainer, checkpoints and evaluation are
shared; adding a model means adding one module here and registering it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError


@dataclass
class GenerateOptions:
    n: int = 4
    length: int = 200
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    primer: str | None = None
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskBundle:
    """What ``Family.build_task`` returns: the task for the trainer, facts about the data for ``config.json``
    (e.g. window counts, feature normalisation that generation must invert) and arrays to keep in the run."""

    task: Any
    info: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Family:
    name: str
    summary: str
    config_cls: type
    presets: dict[str, dict[str, Any]]
    train_presets: dict[str, dict[str, Any]]
    build_model: Callable[[Any], nn.Module]
    #: (model, model_cfg, train_cfg, dataset, device) -> TaskBundle
    build_task: Callable[..., TaskBundle]
    #: (model, run config, run dir, options, device) -> list of Notes
    generate: Callable[..., list[Any]]
    representation: str = ""
    #: (model, run config, dataset, split, device, max_windows, seed) -> {feature: mean squared error in units of
    #: the feature's training-split standard deviation}, for models that predict the next event; None otherwise
    prediction_errors: Callable[..., dict[str, float]] | None = None


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    FAMILIES[family.name] = family
    return family


def get_family(kind: str) -> Family:
    _load_builtin()
    if kind not in FAMILIES:
        raise ConfigError(f"unknown model {kind!r}; choose one of {', '.join(FAMILIES)}")
    return FAMILIES[kind]


def family_names() -> list[str]:
    _load_builtin()
    return list(FAMILIES)


def _load_builtin() -> None:
    from . import gan  # noqa: F401, I001
    from . import rnn  # noqa: F401  (registers itself)
    from . import crnngan  # noqa: F401


def load_array(run: Path, name: str) -> np.ndarray:
    from ..training.checkpoint import CheckpointError

    path = Path(run) / f"{name}.npy"
    if not path.is_file():
        raise CheckpointError(f"{path}: missing from the run")
    return np.load(path, allow_pickle=False)


def seeded_generator(seed: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)
