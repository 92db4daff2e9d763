"""How the piano-roll GAN generates: phrases from noise, decoded to notes by a threshold (or two: hysteresis) or
by sampling each cell, and chained into pieces of a number of bars."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...errors import ConfigError
from ...notes import DEFAULT_QPM, Notes
from ...representations.pianoroll import from_pianoroll
from ...runfiles import DECODING
from ...utils import eval_mode
from ..base import seeded_generator
from .model import PianoRollGAN
from .spec import GANOptions

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Decoding:
    """How probabilities become notes: every value decided and checked."""

    threshold: float = DEFAULT_THRESHOLD
    hold: float | None = None  # None: the threshold (plain thresholding)
    sample: bool = False
    onsets: bool = True

    def __post_init__(self) -> None:
        if self.hold is None:
            object.__setattr__(self, "hold", self.threshold)
        if not 0 < self.threshold <= 1:
            raise ConfigError(f"--threshold must lie in (0, 1], got {self.threshold}")
        if not 0 < self.hold <= self.threshold:  # type: ignore[operator]
            raise ConfigError(f"--hold must lie in (0, threshold = {self.threshold:g}], got {self.hold:g}")


def saved_decoding(run: Path) -> dict[str, Any]:
    """The decoding saved in ``run/decoding.json`` ({} if none), checked so that a broken file says so."""
    path = Path(run) / DECODING
    if not path.is_file():
        return {}
    try:
        saved = json.loads(path.read_text())
        decoding = {"threshold": float(saved["threshold"]), "hold": float(saved["hold"])}
        if "onsets" in saved:
            if not isinstance(saved["onsets"], bool):
                raise TypeError(f"onsets must be true or false, got {saved['onsets']!r}")
            decoding["onsets"] = saved["onsets"]
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{path}: not a decoding written by 'tunesmith rollstats --save' ({e}); delete it") from None
    return decoding


def resolve(opts: GANOptions, run: Path | None) -> Decoding:
    """The decoding ``opts`` asks for, the run's calibrated one where it asks for none (see :class:`GANOptions`);
    a ConfigError for options the GAN cannot honour."""
    if opts.primer is not None:
        raise ConfigError("the GAN composes phrases from noise; it cannot continue a --primer")
    if opts.top_k is not None or opts.top_p is not None or opts.temperature != 1.0:
        raise ConfigError("the GAN has no --temperature, --top-k or --top-p; use --threshold or --sample")
    if opts.n <= 0 or opts.length <= 0:
        raise ConfigError("gan: -n and --length (bars) must be positive")
    if not opts.qpm > 0:
        raise ConfigError(f"gan: qpm must be positive, got {opts.qpm}")
    if opts.sample and opts.hold is not None:
        raise ConfigError("--hold is a second threshold; it does not apply with --sample")
    asked = opts.threshold is not None or opts.hold is not None or opts.sample or opts.onsets is not None
    saved = saved_decoding(run) if run is not None and not asked else {}
    threshold = float(saved.get("threshold", DEFAULT_THRESHOLD) if opts.threshold is None else opts.threshold)
    hold = saved.get("hold", threshold) if opts.hold is None else opts.hold
    onsets = saved.get("onsets", True) if opts.onsets is None else opts.onsets
    return Decoding(threshold=threshold, hold=float(hold), sample=opts.sample, onsets=bool(onsets))


def hysteresis(probs: torch.Tensor, threshold: float, hold: float) -> torch.Tensor:
    """Frames (B, T, P) from probabilities with two thresholds: a cell starts sounding at ``threshold`` and, once
    sounding, goes on while its probability stays at least ``hold`` (<= ``threshold``).

    Hysteresis thresholding (Canny 1986; in music transcription a note is likewise started by a confident onset
    and continued by weaker frame evidence, Hawthorne et al. 2018). A single threshold splits a held note wherever
    its probability dips below it for a step, and on a fine grid these dips chop long notes into fragments;
    ``hold == threshold`` is plain thresholding."""
    start = probs >= threshold
    keep = probs >= hold
    out = start.clone()
    for t in range(1, probs.shape[1]):
        out[:, t] |= out[:, t - 1] & keep[:, t]
    return out


def generate_rolls(
    model: PianoRollGAN, n: int, bars: int, seed: int, decoding: Decoding, device: torch.device
) -> np.ndarray:
    """Binary rolls (n, bars x steps_per_bar, P, C) of ``bars`` bars each.

    Each piece chains ``ceil(bars / phrase bars)`` phrases from independent noise, cut to ``bars`` bars. Rolls are
    the generator's probabilities thresholded (``decoding.threshold``) or, with ``sample``, each cell drawn
    as a Bernoulli variable with its probability; the seed fixes both the noise and the draws. With ``hold`` below
    the threshold, frames are decoded by :func:`hysteresis` along each piece: a sounding cell goes on while its
    probability stays at least ``hold``.

    ``onsets=False`` keeps the frame channel only (C = 1), so that notes are the runs of frames and repeated notes
    of one pitch merge. For a generator whose onset channel is noisy it gives the more faithful notes: on MAESTRO
    the default preset's generator puts an onset on about 40% of the cells inside its held notes (real phrases: 8%),
    which chops its long notes into one-step notes (docs/gan.md)."""
    roll = model.cfg.roll
    per_piece = math.ceil(bars / roll.bars)
    gen = seeded_generator(seed, device)
    with eval_mode(model), torch.no_grad():
        probs = model(model.noise(n * per_piece, device, gen)).float()  # (n * per_piece, T, P, C)
        drawn = torch.bernoulli(probs, generator=gen) if decoding.sample else None
        rolls = (probs >= decoding.threshold).float() if drawn is None else drawn
    chained = (n, per_piece * roll.phrase_steps, *rolls.shape[2:])
    rolls = rolls.reshape(chained)
    hold = decoding.threshold if decoding.hold is None else decoding.hold
    if not decoding.sample and hold < decoding.threshold:  # frames decoded with two thresholds
        rolls[..., 0] = hysteresis(probs.reshape(chained)[..., 0], decoding.threshold, hold).float()
    rolls = rolls[:, : bars * roll.steps_per_bar]
    if not decoding.onsets:
        rolls = rolls[..., :1]
    return rolls.to(torch.uint8).cpu().numpy()


def decode_pieces(
    model: PianoRollGAN,
    n: int,
    bars: int,
    seed: int,
    decoding: Decoding,
    device: torch.device,
    qpm: float = DEFAULT_QPM,
) -> list[Notes]:
    """:func:`generate_rolls` read as notes, ``qpm`` quarter notes a minute."""
    rolls = generate_rolls(model, n, bars, seed, decoding, device)
    return [from_pianoroll(r, model.cfg.roll, threshold=0.5, qpm=qpm) for r in rolls]


def generate_pieces(model: PianoRollGAN, opts: GANOptions, run: Path | None, device: torch.device) -> list[Notes]:
    """``opts.n`` pieces of ``opts.length`` bars (see :func:`generate_rolls`) at ``opts.qpm`` quarter notes a
    minute, decoded as :func:`resolve` decides."""
    decoding = resolve(opts, run)
    return [
        piece.with_metadata(
            bars=str(opts.length),
            sampled=str(decoding.sample).lower(),
            threshold=str(decoding.threshold),
            hold=str(decoding.hold),
            onsets=str(decoding.onsets).lower(),
        )
        for piece in decode_pieces(model, opts.n, opts.length, opts.seed, decoding, device, opts.qpm)
    ]
