"""The ``train`` job: configs from a family's preset and ``--set`` overrides, then the one training loop on a
prepared dataset into a run folder (a fresh run or ``--resume``)."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..config import ConfigBase
from ..dataset import Dataset, choosing
from ..errors import CheckpointError, ConfigError
from ..families import Run, get_family
from ..pretrained import shipped_name
from ..runfiles import STATE, WEIGHTS, array_file
from ..training.checkpoint import load_config, save_config
from ..training.distributed import local_batch, rank, setup_distributed, shutdown_distributed  # noqa: F401 (the face ends the group)
from ..training.trainer import TrainConfig, Trainer, choose_device, seed_everything
from ..utils import atomic_write_bytes, sha256_file
from .runs import open_run

#: Training settings that a resumed run may change (limits and where it runs), not what it learns.
RESUMABLE_SETTINGS = ("epochs", "max_steps", "max_time", "patience", "device", "threads")


def _coerce(value: str, current: Any, key: str) -> Any:
    if isinstance(current, bool):
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"--set {key}: expected true or false, got {value!r}")
    if value.lower() in ("none", "null"):
        return None
    for kind in (int, float):
        if isinstance(current, kind) and not isinstance(current, bool):
            try:
                return kind(value)
            except ValueError:
                raise ConfigError(f"--set {key}: expected a {kind.__name__}, got {value!r}") from None
    if current is None:
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                pass
    return value


def build_configs(
    kind: str, preset: str, overrides: dict[str, str] | None = None, model: dict[str, Any] | None = None
) -> tuple[ConfigBase, TrainConfig]:
    """Model and training configs for ``kind`` and ``preset`` with ``--set key=value`` overrides applied.
    A key is a field of the model config or of the training config (``model.x`` / ``train.x`` to be explicit).
    ``model``: the model settings to start from instead of the preset's (a run's, for ``--init``)."""
    fam = get_family(kind)
    fam.check_preset(preset)
    model_kw = dict(fam.presets[preset] if model is None else model)
    train_kw = dict(fam.train_presets[preset])
    model_defaults = fam.config_cls.from_dict(model_kw).settings()
    train_defaults = TrainConfig(**train_kw).settings()
    model_fields, train_fields = list(model_defaults), list(train_defaults)
    for raw_key, value in (overrides or {}).items():
        scope, _, key = raw_key.rpartition(".")
        if scope not in ("", "model", "train"):
            raise ConfigError(f"--set {raw_key}: the prefix must be model. or train.")
        in_model, in_train = key in model_fields, key in train_fields
        if scope == "model" or (scope == "" and in_model and not in_train):
            if not in_model:
                raise ConfigError(f"--set {raw_key}: {kind} has no setting {key!r}; it has {', '.join(model_fields)}")
            model_kw[key] = _coerce(value, model_defaults[key], raw_key)
        elif scope == "train" or (scope == "" and in_train and not in_model):
            if not in_train:
                raise ConfigError(f"--set {raw_key}: training has no setting {key!r}; it has {', '.join(train_fields)}")
            train_kw[key] = _coerce(value, train_defaults[key], raw_key)
        elif in_model and in_train:
            raise ConfigError(f"--set {raw_key}: ambiguous; write model.{key} or train.{key}")
        else:
            raise ConfigError(
                f"--set {raw_key}: unknown setting; model settings: {', '.join(model_fields)}; "
                f"training settings: {', '.join(train_fields)}"
            )
    return fam.config_cls.from_dict(model_kw), TrainConfig(**train_kw)


def train(
    kind: str,
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    preset: str | None = None,
    overrides: dict[str, str] | None = None,
    resume: bool = False,
    init: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train ``kind`` on a prepared dataset into the run directory ``out``; with ``resume``, continue the run
    there exactly (its saved configs are used; ``overrides`` may only change training limits).

    With ``init`` (a run folder or a shipped model's name), a new run starts from that run's weights: its model
    settings are the run's (``overrides`` may change those that leave the weights' shapes alone), its training
    settings those of ``preset`` (default: the preset the run was trained with) and ``overrides``, and the family
    keeps what the weights depend on (the Transformer's tokenizer; settings that would change it are refused).
    ``config.json`` records where the run started (``init``). ``preset`` defaults to "default" otherwise.

    Started by torchrun (``WORLD_SIZE > 1``), every process calls this with the same arguments: the process group
    is started here (it stays up for the rest of the process), each process trains on its share of every batch
    (``batch_size`` is the global batch) and rank 0 alone writes the run folder (see
    the docstring of :mod:`tunesmith.training.distributed`).

    Training reads the train and validation splits only (:func:`~tunesmith.dataset.choosing`): the weights it
    keeps, by validation loss or by statistics, are a choice."""
    with choosing("training"):
        return _train(kind, data, out, preset=preset, overrides=overrides, resume=resume, init=init,
                      progress=progress)


def _train(
    kind: str,
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    preset: str | None,
    overrides: dict[str, str] | None,
    resume: bool,
    init: str | os.PathLike[str] | None,
    progress: bool,
) -> dict[str, Any]:
    out = Path(out)
    ds = Dataset.load(data)
    fam = get_family(kind)
    start: Run | None = None
    if init is not None and resume:
        raise ConfigError("--init starts a new run from a trained one and --resume continues a run: give one of them")
    if resume:
        saved = load_config(out)
        if saved["kind"] != kind:
            raise CheckpointError(f"{out}: is a {saved['kind']} run, not {kind}")
        model_cfg = fam.config_cls.from_dict(saved["model"])
        train_dict = dict(saved["train"])
        for k, v in (overrides or {}).items():
            k = k.removeprefix("train.")
            if k not in RESUMABLE_SETTINGS:
                raise ConfigError(f"--set {k}: cannot change a resumed run's {k}; start a new run instead")
            train_dict[k] = _coerce(v, train_dict.get(k), k)
        train_cfg = TrainConfig.from_dict(train_dict)
        fingerprint = saved.get("data", {}).get("fingerprint")
        # an exported shipped model records none: its data was on another machine, --data is taken as given
        if fingerprint is not None and fingerprint != ds.manifest.get("fingerprint"):
            raise CheckpointError(f"{out}: was trained on other data than {data}; resume it with the same --data")
        start = Run(out, saved)
    else:
        model_base = None
        if init is not None:
            start = open_run(init)
            if start.kind != kind:
                raise CheckpointError(f"--init {init}: is a {start.kind} run, not {kind}")
            model_base = dict(start.config["model"])
            if preset is None:
                preset = str(start.config.get("preset", "default"))
                preset = preset if preset in fam.presets else "default"
        preset = preset or "default"
        model_cfg, train_cfg = build_configs(kind, preset, overrides, model=model_base)
        if (out / STATE).exists():
            raise CheckpointError(f"{out}: already holds a run; use --resume to continue it or choose another --out")
    if train_cfg.threads:
        torch.set_num_threads(train_cfg.threads)
    device = setup_distributed(choose_device(train_cfg.device))
    local_batch(train_cfg.batch_size)  # the global batch must split evenly among the processes
    seed_everything(train_cfg.seed)
    model = fam.build_model(model_cfg)
    if start is not None and not resume:
        try:
            fam.load_start(model, start.path / WEIGHTS)
        except CheckpointError as e:
            raise CheckpointError(
                f"--init {init}: its weights do not fit the model these settings build ({e}); training from a run "
                "keeps its architecture: leave the settings that shape the model out of --set"
            ) from e
    bundle = fam.build_task(model, model_cfg, train_cfg, ds, device, start=start)
    out.mkdir(parents=True, exist_ok=True)
    if not resume and rank() == 0:
        save_config(
            out,
            {
                "kind": kind,
                "preset": preset,
                "model": model_cfg.to_dict(),
                "train": train_cfg.to_dict(),
                "representation": fam.representation,
                "data": {
                    "path": str(Path(data).resolve()),
                    "fingerprint": ds.manifest.get("fingerprint"),
                    **bundle.info,
                },
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                **({"init": init_record(init, start)} if start is not None else {}),
            },
        )
        for name, arr in bundle.arrays.items():
            _save_npy(out / array_file(name), arr)
        for name, data in bundle.files.items():
            atomic_write_bytes(out / name, data)
    trainer = Trainer(bundle.task, train_cfg, out, progress=progress)
    if resume:
        trainer.resume()
    summary = trainer.fit()
    return {**summary, "run": str(out), **bundle.info}


def init_record(init: str | os.PathLike[str], start: Run) -> dict[str, Any]:
    """What ``config.json`` keeps of the run that a new run started from (``--init``)."""
    return {
        "from": os.fspath(init),
        "shipped_model": shipped_name(start.path),
        "path": str(start.path.resolve()),
        "kind": start.kind,
        "preset": start.config.get("preset"),
        "weights_sha256": sha256_file(start.path / WEIGHTS),
        "created": start.config.get("created"),
    }


def _save_npy(path: Path, arr: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, arr)
    atomic_write_bytes(path, buf.getvalue())
