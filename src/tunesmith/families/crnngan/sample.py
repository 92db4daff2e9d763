"""How C-RNN-GAN and its baseline generate: G unrolled from seeded noise (after reading a primer, if given), its
standardised tone features mapped back with the run's normalisation and decoded to notes."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...errors import CheckpointError, ConfigError
from ...io import read
from ...notes import DEFAULT_QPM, Notes
from ...representations.tones import ToneConfig, ToneNormalizer, from_tones, presence_thresholds, to_tones
from ...utils import eval_mode
from ..base import GenerateOptions, Run, seeded_generator
from .model import CRNNGAN


def normalizer_of(run: Run) -> tuple[ToneConfig, ToneNormalizer]:
    """The tone grid and the feature normalisation fitted on the run's training split (``config.json``'s
    ``data.tones``)."""
    try:
        t: dict[str, Any] = run.data()["tones"]
        return ToneConfig(int(t["ticks_per_quarter"]), int(t["tones_per_step"])), ToneNormalizer.from_dict(t)
    except (KeyError, TypeError, ValueError, ConfigError) as e:
        raise CheckpointError(f"{run.config_path}: no valid tone normalisation in data.tones ({e})") from e


#: The fixed batch on which C-RNN-GAN-3's slot presence is calibrated (independent of the pieces asked for).
CALIBRATION_PIECES, CALIBRATION_LENGTH, CALIBRATION_SEED = 64, 100, 7_777


def presence_of(
    model: CRNNGAN, tones: ToneConfig, norm: ToneNormalizer, shares: list[float] | None, device: torch.device
) -> list[float] | None:
    """Frequencies (Hz) from which each tone slot of a C-RNN-GAN-3 step sounds, calibrated so that the model's
    fixed calibration batch fills each slot as often as the training data does (``shares``, kept in the run's
    ``data.tones.slot_shares``; :func:`~tunesmith.representations.tones.presence_thresholds`). None (the fixed
    rule) for one tone per step or a run without the shares."""
    if tones.tones_per_step == 1 or not shares:
        return None
    gen = seeded_generator(CALIBRATION_SEED, device)
    with eval_mode(model), torch.no_grad():
        x = model.generate(model.noise(CALIBRATION_PIECES, CALIBRATION_LENGTH, generator=gen, device=device))
    return presence_thresholds(norm.denormalize(x.cpu().double().numpy()), shares)


def generate_tones(model: CRNNGAN, run: Run, opts: GenerateOptions, device: torch.device) -> list[Notes]:
    """``opts.n`` sequences of ``opts.length`` tone steps each (one tone per step; up to three for crnngan3), from
    seeded noise, at 120 quarter notes per minute. With a primer, G reads it first and continues it (the piece
    holds the primer, then the continuation, at the primer's first tempo). Tones shorter than one tick get one
    tick, so that every generated tone survives in a MIDI file."""
    if opts.temperature != 1.0 or opts.top_k is not None or opts.top_p is not None:
        raise ConfigError(
            f"{run.kind or 'crnngan'} generates continuous tone features: --temperature, --top-k and --top-p "
            "do not apply"
        )
    tones, norm = normalizer_of(run)
    if tones.tones_per_step != model.cfg.tones_per_step or norm.mean.size != model.cfg.n_features:
        raise CheckpointError(f"{run.config_path}: data.tones does not match the model's tones_per_step")
    gen = seeded_generator(opts.seed, device)
    z = model.noise(opts.n, opts.length, generator=gen, device=device)
    primer = primer_noise = None
    primer_raw = np.zeros((0, tones.n_features))
    qpm = DEFAULT_QPM
    if opts.primer is not None:
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
    present = presence_of(model, tones, norm, run.data()["tones"].get("slot_shares"), device)
    pieces = []
    for seq in raw:
        notes = from_tones(np.concatenate([primer_raw, seq]), tones, qpm, min_length=1, present_hz=present)
        pieces.append(notes.with_metadata(primer_steps=str(len(primer_raw))))
    return pieces


def sample_pieces(
    model: CRNNGAN,
    tones: ToneConfig,
    norm: ToneNormalizer,
    n: int,
    length: int,
    seed: int,
    device: torch.device,
    present: list[float] | None = None,
) -> list[Notes]:
    """``n`` pieces of ``length`` tone steps from noise drawn with ``seed``, as :func:`generate_tones` makes them
    without a primer, slots read with the presence thresholds ``present`` (:func:`presence_of`; None: the fixed
    rule); the model's mode is restored after (for scoring during training)."""
    gen = seeded_generator(seed, device)
    with eval_mode(model), torch.no_grad():
        x = model.generate(model.noise(n, length, generator=gen, device=device))
    raw = norm.denormalize(x.cpu().double().numpy())
    return [from_tones(seq, tones, DEFAULT_QPM, min_length=1, present_hz=present) for seq in raw]
