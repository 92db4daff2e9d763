"""C-RNN-GAN (Mogren 2016) as three families: ``crnngan`` (one tone per step), ``crnngan3`` (up to three tones
that start together per step, the paper's C-RNN-GAN-3) and ``baseline`` (G alone, trained on next-event squared
error). Tone events in, generated tone events out; the feature normalisation fitted on the training split is kept
in the run's ``config.json`` (``data.tones``) so that generation inverts it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..dataset import Dataset
from ..errors import ConfigError, DatasetError
from ..models import crnngan as gan_model
from ..notes import DEFAULT_QPM, Notes
from ..representations.tones import TICKS_PER_QUARTER, ToneConfig, ToneNormalizer, from_tones, to_tones
from ..training.checkpoint import CheckpointError
from ..training.trainer import TrainConfig
from . import Family, GenerateOptions, TaskBundle, register, seeded_generator

#: The paper's training setup: SGD with learning rate 0.1, gradient clipping (norm 5, the reference code's value),
#: batch 20 (the reference code's). GANs do not stop early (patience none); validation is capped at 10 batches
#: (200 windows of 100 steps) to keep its cost a small share of an epoch. The paper does not state its epoch count.
TRAIN_PRESET: dict[str, Any] = {
    "batch_size": 20,
    "lr": 0.1,
    "grad_clip": 5.0,
    "epochs": 100,
    "patience": None,
    "val_max_batches": 10,
    "log_every": 50,
}


#: The default preset's learning rate (Adam), from the runs in docs/crnngan.md.
DEFAULT_LR = 5e-4


def tones_by_split(ds: Dataset, split: str, tones: ToneConfig) -> list[np.ndarray]:
    return [to_tones(ds[int(i)], tones) for i in ds.indices(split)]


def build_task(
    model: gan_model.CRNNGAN,
    cfg: gan_model.CRNNGANConfig,
    train_cfg: TrainConfig,
    ds: Dataset,
    device: torch.device,
) -> TaskBundle:
    from ..training.crnngan_task import CRNNGANTask

    if train_cfg.precision != "fp32":
        raise ConfigError("crnngan: only precision fp32 is supported (G's unrolled pass is written for it)")
    tones = ToneConfig(tones_per_step=cfg.tones_per_step)
    train = tones_by_split(ds, "train", tones)
    val = tones_by_split(ds, "validation", tones)
    long_enough = sum(len(p) >= cfg.max_length for p in train) * cfg.windows_per_piece
    if long_enough < train_cfg.batch_size:
        raise DatasetError(
            f"{ds.root}: only {long_enough} training windows of {cfg.max_length} tone steps (pieces at least that "
            f"long x windows_per_piece), fewer than one batch of {train_cfg.batch_size}; use more data or "
            "--set max_length=N / batch_size=N / windows_per_piece=N"
        )
    norm = ToneNormalizer.fit(train, cfg.tones_per_step)
    task = CRNNGANTask(model, train, val, train_cfg, device, norm)
    info = {
        "tones": {
            "ticks_per_quarter": TICKS_PER_QUARTER,
            "tones_per_step": cfg.tones_per_step,
            **norm.to_dict(),
        },
        "train_pieces": len(train),
        "train_steps": int(sum(len(p) for p in train)),
        "val_pieces": len(val),
        "val_windows": len(task.val_starts),
    }
    return TaskBundle(task, info)


def normalizer_of(config: dict[str, Any], run: Path) -> tuple[ToneConfig, ToneNormalizer]:
    try:
        t = config["data"]["tones"]
        return ToneConfig(int(t["ticks_per_quarter"]), int(t["tones_per_step"])), ToneNormalizer.from_dict(t)
    except (KeyError, TypeError, ValueError, ConfigError) as e:
        raise CheckpointError(f"{run / 'config.json'}: no valid tone normalisation in data.tones ({e})") from e


def generate(
    model: gan_model.CRNNGAN, config: dict[str, Any], run: Path, opts: GenerateOptions, device: torch.device
) -> list[Notes]:
    """``opts.n`` sequences of ``opts.length`` tone steps each (one tone per step; up to three for crnngan3), from
    seeded noise, at 120 quarter notes per minute. With a primer, G reads it first and continues it (the piece
    holds the primer, then the continuation, at the primer's first tempo). Tones shorter than one tick get one
    tick, so that every generated tone survives in a MIDI file."""
    if opts.temperature != 1.0 or opts.top_k is not None or opts.top_p is not None:
        raise ConfigError(
            f"{config.get('kind', 'crnngan')} generates continuous tone features: --temperature, --top-k and --top-p "
            "do not apply"
        )
    tones, norm = normalizer_of(config, run)
    if tones.tones_per_step != model.cfg.tones_per_step or norm.mean.size != model.cfg.n_features:
        raise CheckpointError(f"{run / 'config.json'}: data.tones does not match the model's tones_per_step")
    gen = seeded_generator(opts.seed, device)
    z = model.noise(opts.n, opts.length, generator=gen, device=device)
    primer = primer_noise = None
    primer_raw = np.zeros((0, tones.n_features))
    qpm = DEFAULT_QPM
    if opts.primer is not None:
        from ..io import read

        notes = read(opts.primer)
        primer_raw = to_tones(notes, tones)
        if len(primer_raw) == 0:
            raise ConfigError(f"{opts.primer}: the primer has no notes to continue")
        qpm = float(notes.tempos["qpm"][0])
        p = torch.as_tensor(norm.normalize(primer_raw), dtype=torch.float32, device=device)
        primer = p.unsqueeze(0).expand(opts.n, -1, -1)
        primer_noise = model.noise(opts.n, len(primer_raw), generator=gen, device=device)
    x = model.generate(z, primer, primer_noise)  # (n, length, F) standardised
    raw = norm.denormalize(x.cpu().double().numpy())
    pieces = []
    for seq in raw:
        notes = from_tones(np.concatenate([primer_raw, seq]), tones, qpm, min_length=1)
        pieces.append(notes.with_metadata(primer_steps=str(len(primer_raw))))
    return pieces


@torch.no_grad()
def prediction_errors(
    model: gan_model.CRNNGAN,
    config: dict[str, Any],
    ds: Dataset,
    split: str,
    device: torch.device,
    max_windows: int,
    seed: int,
) -> dict[str, float]:
    """G's next-event squared error, teacher-forced (noise from ``seed`` concatenated as in training), on up to
    ``max_windows`` non-overlapping windows of ``max_length`` tone steps of ``split``, per feature (length,
    frequency, intensity, time; pooled over the tone slots of crnngan3) in units of the training split's standard
    deviation (the run's normalisation)."""
    from ..training.crnngan_task import ToneSequences

    tones, norm = normalizer_of(config, Path(config.get("data", {}).get("path", ".")))
    seqs = ToneSequences([norm.normalize(p) for p in tones_by_split(ds, split, tones)], tones.n_features, device)
    length = model.cfg.max_length
    starts = seqs.fixed_windows(length, max_windows)
    if starts.size == 0:
        return {}
    x = seqs.gather(starts, length)  # (B, T, F)
    z = model.noise(len(starts), length, generator=seeded_generator(seed, device), device=device)
    pred, _ = model.g.teacher_forced(z, model.g.shifted(x))
    err = ((pred - x) ** 2).double().mean(dim=(0, 1)).cpu().numpy()  # (F,)
    k = tones.tones_per_step
    names = ("length", "frequency", "intensity")
    per = {name: float(err[i : 3 * k : 3].mean()) for i, name in enumerate(names)}
    per["time"] = float(err[-1])
    return per


def _family(kind: str, summary: str) -> Family:
    presets = {name: {**gan_model.KINDS[kind], **values} for name, values in gan_model.PRESETS.items()}
    return Family(
        name=kind,
        summary=summary,
        config_cls=gan_model.CRNNGANConfig,
        presets=presets,
        train_presets={"paper": dict(TRAIN_PRESET), "default": {**TRAIN_PRESET, "lr": DEFAULT_LR}},
        build_model=gan_model.CRNNGAN,
        build_task=build_task,
        generate=generate,
        representation="tones",
        prediction_errors=prediction_errors,
    )


FAMILIES = [
    register(_family("crnngan", "C-RNN-GAN: recurrent GAN over tone events (Mogren 2016)")),
    register(_family("crnngan3", "C-RNN-GAN-3: up to three tones that start together per step")),
    register(_family("baseline", "C-RNN-GAN's baseline: G alone, trained to predict the next tone event")),
]
