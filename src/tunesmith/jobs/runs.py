"""Loading a trained run: its config, its family and its model with the saved weights. A run is named by its
folder or by a shipped model's name (:func:`tunesmith.pretrained.resolve_run`)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..errors import CheckpointError, ConfigError, TunesmithError
from ..families import Family, Run, get_family
from ..pretrained import model_names, resolve_run
from ..runfiles import WEIGHTS
from ..training.checkpoint import load_config, load_weights


def open_run(run: str | os.PathLike[str]) -> Run:
    """The run that a RUN argument names (a folder, or a shipped model's name) with its ``config.json``."""
    path = resolve_run(run)
    try:
        return Run(path, load_config(path))
    except CheckpointError as e:
        if os.fspath(run) in model_names():  # a folder of that name hides the shipped model
            raise CheckpointError(f"{e}; (a shipped model is also called {run}: this folder hides it here)") from e
        raise


def load_run(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[Run, Family, nn.Module]:
    """Rebuild a run's model from its config and weights (bf16 or fp16 weights of a shipped model become float32),
    in eval mode on ``device``; ``path`` is a run folder or a shipped model's name. Errors name the run and the
    problem."""
    run = open_run(path)
    try:
        fam = get_family(run.kind)
    except ConfigError as e:
        raise CheckpointError(f"{run.config_path}: {e}") from e
    try:
        model_cfg = fam.config_cls.from_dict(run.config["model"])
    except (TunesmithError, TypeError) as e:
        raise CheckpointError(f"{run.config_path}: invalid model config ({e})") from e
    model = fam.build_model(model_cfg)
    load_weights(model, Path(run.path) / WEIGHTS)
    return run, fam, model.to(device).eval()
