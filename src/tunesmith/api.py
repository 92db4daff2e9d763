"""High-level jobs shared by the command line and the demo: train a model on a dataset, load a run, generate.

Each model family is registered in :data:`FAMILIES` with its config class, presets and how to build its task.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .dataset import Dataset
from .errors import ConfigError, DatasetError
from .models import rnn as rnn_model
from .notes import Notes
from .representations.note_events import N_FEATURES, Windows, from_note_events, to_note_events
from .training.checkpoint import CONFIG, STATE, WEIGHTS, CheckpointError, load_config, load_weights, save_config
from .training.trainer import TrainConfig, Trainer, choose_device, seed_everything
from .utils import atomic_write_bytes

N_PRIMERS = 256  # training windows kept in a run, to seed generation without the dataset


@dataclass(frozen=True)
class Family:
    name: str
    config_cls: type
    presets: dict[str, dict[str, Any]]
    train_presets: dict[str, dict[str, Any]]


FAMILIES: dict[str, Family] = {
    "rnn": Family(
        "rnn",
        rnn_model.RNNConfig,
        rnn_model.PRESETS,
        {
            # the paper and the TensorFlow tutorial: batch 64, Adam 0.005, 50 epochs with early stopping (5)
            "paper": {"batch_size": 64, "lr": 0.005, "epochs": 50, "patience": 5},
            "default": {"batch_size": 64, "lr": 0.002, "epochs": 30, "patience": 3, "grad_clip": 1.0},
        },
    ),
}


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


def build_configs(kind: str, preset: str, overrides: dict[str, str] | None = None) -> tuple[Any, TrainConfig]:
    """Model and training configs for ``kind`` and ``preset`` with ``--set key=value`` overrides applied.
    A key is a field of the model config or of the training config (``model.x`` / ``train.x`` to be explicit)."""
    if kind not in FAMILIES:
        raise ConfigError(f"unknown model {kind!r}; choose one of {', '.join(FAMILIES)}")
    fam = FAMILIES[kind]
    if preset not in fam.presets:
        raise ConfigError(f"unknown preset {preset!r} for {kind}; choose one of {', '.join(fam.presets)}")
    model_kw = dict(fam.presets[preset])
    train_kw = dict(fam.train_presets[preset])
    model_fields = {f.name: f for f in dataclasses.fields(fam.config_cls)}
    train_fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    model_defaults = fam.config_cls(**model_kw)
    train_defaults = TrainConfig(**train_kw)
    for raw_key, value in (overrides or {}).items():
        scope, _, key = raw_key.rpartition(".")
        if scope not in ("", "model", "train"):
            raise ConfigError(f"--set {raw_key}: the prefix must be model. or train.")
        in_model, in_train = key in model_fields, key in train_fields
        if scope == "model" or (scope == "" and in_model and not in_train):
            if not in_model:
                raise ConfigError(f"--set {raw_key}: {kind} has no setting {key!r}; it has {', '.join(model_fields)}")
            model_kw[key] = _coerce(value, getattr(model_defaults, key), raw_key)
        elif scope == "train" or (scope == "" and in_train and not in_model):
            if not in_train:
                raise ConfigError(f"--set {raw_key}: training has no setting {key!r}; it has {', '.join(train_fields)}")
            train_kw[key] = _coerce(value, getattr(train_defaults, key), raw_key)
        elif in_model and in_train:
            raise ConfigError(f"--set {raw_key}: ambiguous; write model.{key} or train.{key}")
        else:
            raise ConfigError(
                f"--set {raw_key}: unknown setting; model settings: {', '.join(model_fields)}; "
                f"training settings: {', '.join(train_fields)}"
            )
    return fam.config_cls(**model_kw), TrainConfig(**train_kw)


def events_by_split(ds: Dataset, split: str) -> list[np.ndarray]:
    return [to_note_events(ds[int(i)]) for i in ds.indices(split)]


def build_model(kind: str, model_cfg: Any) -> torch.nn.Module:
    if kind == "rnn":
        return rnn_model.NoteRNN(model_cfg)
    raise ConfigError(f"unknown model {kind!r}")


def train(
    kind: str,
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    preset: str = "default",
    overrides: dict[str, str] | None = None,
    resume: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Train ``kind`` on a prepared dataset into the run directory ``out``; with ``resume``, continue the run
    there exactly (its saved configs are used; ``overrides`` may only change training limits)."""
    out = Path(out)
    ds = Dataset.load(data)
    if resume:
        saved = load_config(out)
        if saved["kind"] != kind:
            raise CheckpointError(f"{out}: is a {saved['kind']} run, not {kind}")
        model_cfg = FAMILIES[kind].config_cls.from_dict(saved["model"])
        train_dict = dict(saved["train"])
        for k, v in (overrides or {}).items():
            k = k.removeprefix("train.")
            if k not in ("epochs", "max_steps", "max_time", "patience", "device", "threads"):
                raise ConfigError(f"--set {k}: cannot change a resumed run's {k}; start a new run instead")
            train_dict[k] = _coerce(v, train_dict.get(k), k)
        train_cfg = TrainConfig.from_dict(train_dict)
        if saved.get("data", {}).get("fingerprint") != ds.manifest.get("fingerprint"):
            raise CheckpointError(f"{out}: was trained on other data than {data}; resume it with the same --data")
    else:
        model_cfg, train_cfg = build_configs(kind, preset, overrides)
        if (out / STATE).exists():
            raise CheckpointError(f"{out}: already holds a run; use --resume to continue it or choose another --out")
    if train_cfg.threads:
        torch.set_num_threads(train_cfg.threads)
    device = choose_device(train_cfg.device)
    seed_everything(train_cfg.seed)
    model = build_model(kind, model_cfg)
    length = model_cfg.seq_length
    train_w = Windows.build(events_by_split(ds, "train"), length)
    val_w = Windows.build(events_by_split(ds, "validation"), length)
    if len(train_w) < train_cfg.batch_size:
        raise DatasetError(
            f"{data}: only {len(train_w)} training windows of {length + 1} notes, fewer than one batch of "
            f"{train_cfg.batch_size}; use more data or --set batch_size=N"
        )
    from .training.tasks import RNNTask

    task = RNNTask(model, train_w, val_w, train_cfg, device)
    out.mkdir(parents=True, exist_ok=True)
    if not resume:
        save_config(
            out,
            {
                "kind": kind,
                "preset": preset,
                "model": model_cfg.to_dict(),
                "train": train_cfg.to_dict(),
                "representation": {"name": "note_events", "features": ["pitch", "step", "duration", "velocity"]},
                "data": {
                    "path": str(Path(data).resolve()),
                    "fingerprint": ds.manifest.get("fingerprint"),
                    "train_windows": len(train_w),
                    "val_windows": len(val_w),
                },
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
        )
        rng = np.random.default_rng(train_cfg.seed)
        pick = rng.choice(len(train_w), size=min(N_PRIMERS, len(train_w)), replace=False)
        primers = np.stack([train_w.events[s : s + length] for s in train_w.starts[pick]]).astype(np.float32)
        _save_npy(out / "primers.npy", primers)
    trainer = Trainer(task, train_cfg, out, progress=progress)
    if resume:
        trainer.resume()
    summary = trainer.fit()
    return {**summary, "run": str(out), "train_windows": len(train_w), "val_windows": len(val_w)}


def _save_npy(path: Path, arr: np.ndarray) -> None:
    import io

    buf = io.BytesIO()
    np.save(buf, arr)
    atomic_write_bytes(path, buf.getvalue())


def load_run(run: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[dict[str, Any], Any]:
    """Rebuild a run's model from its config and weights; errors name the run and the problem."""
    run = Path(run)
    config = load_config(run)
    kind = config["kind"]
    if kind not in FAMILIES:
        raise CheckpointError(f"{run / CONFIG}: unknown model kind {kind!r}")
    try:
        model_cfg = FAMILIES[kind].config_cls.from_dict(config["model"])
    except (ConfigError, TypeError) as e:
        raise CheckpointError(f"{run / CONFIG}: invalid model config ({e})") from e
    model = build_model(kind, model_cfg)
    load_weights(model, run / WEIGHTS)
    return config, model.to(device).eval()


def load_primer(path: str | os.PathLike[str]) -> np.ndarray:
    from .io import read

    events = to_note_events(read(path))
    if len(events) == 0:
        raise ConfigError(f"{path}: the primer has no notes to continue")
    return events


def generate(
    run: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    n: int = 4,
    length: int = 200,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    primer: str | os.PathLike[str] | None = None,
    seed: int = 0,
    device: str = "cpu",
    prefix: str = "sample",
) -> list[Path]:
    """Generate ``n`` pieces of ``length`` new notes with a trained run and write them as MIDI into ``out``.

    A primer MIDI file is continued (the written file holds the primer, then the continuation); without one,
    each piece starts from a training window kept in the run."""
    from .io import write_midi
    from .sampling import check_options, generate_rnn

    check_options(temperature=temperature, top_k=top_k, top_p=top_p, length=length, n=n)
    config, model = load_run(run, choose_device(device))
    dev = next(model.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(seed)
    if primer is not None:
        p = load_primer(primer)
        primers = np.repeat(p[None].astype(np.float32), n, axis=0)
    else:
        path = Path(run) / "primers.npy"
        if not path.is_file():
            raise CheckpointError(f"{path}: missing; pass --primer FILE.mid to seed generation")
        pool = np.load(path)
        pick = np.random.default_rng(seed).choice(len(pool), size=n, replace=n > len(pool))
        primers = pool[pick]
    x = torch.as_tensor(primers[..., :N_FEATURES], dtype=torch.float32, device=dev)
    events = generate_rnn(model, x, length, temperature=temperature, top_k=top_k, top_p=top_p, generator=gen)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        whole = np.concatenate([primers[i].astype(np.float64), events[i].cpu().numpy().astype(np.float64)])
        notes: Notes = from_note_events(whole).with_metadata(
            generator=f"tunesmith {config['kind']}", primer_notes=str(len(primers[i]))
        )
        paths.append(write_midi(notes, out / f"{prefix}_{i:02d}.mid"))
    (out / f"{prefix}s.json").write_text(
        json.dumps(
            {
                "run": str(run),
                "n": n,
                "length": length,
                "temperature": temperature,
                "top_k": top_k,
                "top_p": top_p,
                "primer": str(primer) if primer else None,
                "seed": seed,
                "files": [p.name for p in paths],
            },
            indent=1,
        )
    )
    return paths
