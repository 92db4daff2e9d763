"""Loading a trained run: its config, its family and its model with the saved weights."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..errors import CheckpointError, ConfigError, TunesmithError
from ..families import Family, Run, get_family
from ..runfiles import WEIGHTS
from ..training.checkpoint import load_config, load_weights


def load_run(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[Run, Family, nn.Module]:
    """Rebuild a run's model from its config and weights, in eval mode on ``device``; errors name the run and the
    problem."""
    run = Run(Path(path), load_config(path))
    try:
        fam = get_family(run.kind)
    except ConfigError as e:
        raise CheckpointError(f"{run.config_path}: {e}") from e
    try:
        model_cfg = fam.config_cls.from_dict(run.config["model"])
    except (TunesmithError, TypeError) as e:
        raise CheckpointError(f"{run.config_path}: invalid model config ({e})") from e
    model = fam.build_model(model_cfg)
    load_weights(model, run.path / WEIGHTS)
    return run, fam, model.to(device).eval()
