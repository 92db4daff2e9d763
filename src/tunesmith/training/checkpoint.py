"""Run directories: saving and loading a run's config, weights and trainer state (the file names are in
:mod:`tunesmith.runfiles`)."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from .. import __version__
from ..errors import CheckpointError
from ..runfiles import CONFIG
from ..utils import atomic_path, atomic_write_text


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module under DistributedDataParallel / torch.compile wrappers."""
    while True:
        if hasattr(model, "module") and isinstance(model.module, nn.Module):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            return model


def versions() -> dict[str, str]:
    import numpy

    return {
        "tunesmith": __version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def save_config(run: Path, config: dict[str, Any]) -> None:
    atomic_write_text(run / CONFIG, json.dumps({**config, "versions": versions()}, indent=1))


def load_config(run: str | os.PathLike[str]) -> dict[str, Any]:
    run = Path(run)
    path = run / CONFIG
    if not path.is_file():
        raise CheckpointError(f"{run}: not a tunesmith run (no {CONFIG}); train one with 'tunesmith train'")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: unreadable ({e})") from e
    if not isinstance(config, dict) or "kind" not in config or "model" not in config:
        raise CheckpointError(f"{path}: not a tunesmith run config (no 'kind' or 'model')")
    return config


def tied_names(model: nn.Module) -> dict[str, str]:
    """State-dict entries that are the same tensor as an earlier entry (tied weights, such as a Transformer's
    output projection and its embedding): later name -> the name that is saved."""
    seen: dict[tuple[int, tuple[int, ...]], str] = {}
    tied = {}
    for k, v in model.state_dict().items():
        key = (v.data_ptr(), tuple(v.shape))
        if key in seen and v.numel():
            tied[k] = seen[key]
        else:
            seen[key] = k
    return tied


def state_dict_to_safetensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """The weights to save: each tensor once (safetensors refuses shared storage; a tied name is left out and
    restored from its twin on loading)."""
    model = unwrap(model)
    tied = tied_names(model)
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k not in tied}


def save_weights(model: nn.Module, path: Path) -> None:
    with atomic_path(path) as tmp:
        save_file(state_dict_to_safetensors(model), str(tmp))


def load_weights(model: nn.Module, path: str | os.PathLike[str]) -> None:
    """Load safetensors weights into ``model``; any mismatch is a CheckpointError naming the tensors."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: missing; the run has no weights yet (did its training finish an epoch?)")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: corrupt weights file ({e})") from e
    load_tensors(model, tensors, path)


def load_tensors(model: nn.Module, tensors: dict[str, torch.Tensor], path: Path) -> None:
    """Weights read from ``path`` into ``model`` (tied twins filled in, cast to the model's dtypes); any mismatch is a
    CheckpointError naming the tensors."""
    model = unwrap(model)
    for name, twin in tied_names(model).items():
        if name not in tensors and twin in tensors:
            tensors[name] = tensors[twin]
    check_state_dict(model, tensors, path)
    model.load_state_dict(cast_like(model, tensors))


def cast_like(model: nn.Module, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``tensors`` in the dtypes of ``model``'s own state: a shipped model's bf16 or fp16 weights become the float32
    that a freshly built model trains and generates in (floating tensors only; the others are left alone)."""
    own = model.state_dict()
    return {
        k: v.to(own[k].dtype) if v.is_floating_point() and own[k].is_floating_point() and v.dtype != own[k].dtype else v
        for k, v in tensors.items()
    }


def check_state_dict(model: nn.Module, tensors: dict[str, torch.Tensor], path: Path) -> None:
    own = model.state_dict()
    missing, unexpected = sorted(set(own) - set(tensors)), sorted(set(tensors) - set(own))
    if missing or unexpected:
        raise CheckpointError(
            f"{path}: weights do not match the model of {CONFIG} (missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    bad = [f"{k} {tuple(tensors[k].shape)} != {tuple(v.shape)}" for k, v in own.items() if tensors[k].shape != v.shape]
    if bad:
        raise CheckpointError(f"{path}: weights do not match the model of {CONFIG}: {'; '.join(bad[:5])}")


def save_trainer_state(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_trainer_state(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CheckpointError(f"{path}: missing, so the run cannot be resumed; train without --resume")
    try:
        # weights_only: plain tensors, numbers and dicts; nothing is unpickled as code
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a damaged file
        raise CheckpointError(f"{path}: corrupt trainer state ({type(e).__name__}: {e})") from e
