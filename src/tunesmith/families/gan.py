"""The piano-roll GAN as a family: phrases of training pieces in, generated phrases chained into pieces out."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..dataset import Dataset
from ..errors import ConfigError, DatasetError
from ..evaluation.metrics import PIANOROLL_STATISTICS
from ..models import gan as gan_model
from ..notes import Notes
from ..representations.pianoroll import from_pianoroll, phrases
from ..training.trainer import TrainConfig
from . import Family, GenerateOptions, TaskBundle, register, seeded_generator

DEFAULT_THRESHOLD = 0.5
DEFAULT_QPM = 120.0


def packed_phrases(ds: Dataset, split: str, cfg: gan_model.GANConfig) -> np.ndarray:
    """Every phrase of the split's pieces, bit-packed (K, bytes), cut within each piece (never across two)."""
    from ..training.gan_task import pack_phrases

    roll = cfg.roll_config
    hop = None if cfg.hop_bars is None else cfg.hop_bars * roll.steps_per_bar
    width = math.ceil(int(np.prod(cfg.roll_shape)) / 8)
    parts = [pack_phrases(phrases(ds[int(i)], roll, hop=hop, channels=cfg.n_channels)) for i in ds.indices(split)]
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.uint8)


def build_task(
    model: gan_model.PianoRollGAN,
    cfg: gan_model.GANConfig,
    train_cfg: TrainConfig,
    ds: Dataset,
    device: torch.device,
) -> TaskBundle:
    from ..training.gan_task import GANTask, PhraseBatches

    train = packed_phrases(ds, "train", cfg)
    val = packed_phrases(ds, "validation", cfg)
    need = train_cfg.batch_size * cfg.d_steps
    if len(train) < need:
        raise DatasetError(
            f"{ds.root}: only {len(train)} training phrases of {cfg.bars} bars, fewer than one iteration's "
            f"{need} (batch_size {train_cfg.batch_size} x d_steps {cfg.d_steps}); use more data or --set batch_size=N"
        )
    shape = cfg.roll_shape
    task = GANTask(model, PhraseBatches(train, shape, device), PhraseBatches(val, shape, device), train_cfg, device)
    return TaskBundle(task, {"train_phrases": len(train), "val_phrases": len(val)})


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
    model: gan_model.PianoRollGAN, opts: GenerateOptions, device: torch.device
) -> tuple[np.ndarray, dict[str, Any]]:
    """Binary rolls (n, bars x steps_per_bar, P, C) of ``opts.length`` bars each, and the options used.

    Each piece chains ``ceil(length / bars)`` phrases from independent noise, cut to ``length`` bars. Rolls are
    the generator's probabilities thresholded (``threshold``, default 0.5) or, with ``sample``, each cell drawn
    as a Bernoulli variable with its probability; the seed fixes both the noise and the draws. With ``hold`` below
    the threshold, frames are decoded by :func:`hysteresis` along each piece: a sounding cell goes on while its
    probability stays at least ``hold``.

    ``onsets=False`` keeps the frame channel only (C = 1), so that notes are the runs of frames and repeated notes
    of one pitch merge. For a generator whose onset channel is noisy it gives the more faithful notes: on MAESTRO
    the default preset's generator puts an onset on about 40% of the cells inside its held notes (real phrases: 8%),
    which chops its long notes into one-step notes (docs/gan.md)."""
    extra = dict(opts.extra)
    unknown = set(extra) - {"threshold", "hold", "sample", "qpm", "onsets"}
    if unknown:
        raise ConfigError(
            f"gan: unknown generation options {sorted(unknown)}; it takes threshold, hold, sample, qpm, onsets"
        )
    threshold = float(extra.get("threshold", DEFAULT_THRESHOLD))
    hold = extra.get("hold")
    hold = threshold if hold is None else float(hold)
    sample = bool(extra.get("sample", False))
    qpm = float(extra.get("qpm", DEFAULT_QPM))
    onsets = extra.get("onsets", True)
    if not isinstance(onsets, bool):
        raise ConfigError(f"gan: onsets must be True or False, got {onsets!r}")
    if not 0 < threshold <= 1:
        raise ConfigError(f"--threshold must lie in (0, 1], got {threshold}")
    if not 0 < hold <= threshold:
        raise ConfigError(f"--hold must lie in (0, threshold = {threshold:g}], got {hold:g}")
    if sample and "hold" in extra:
        raise ConfigError("--hold is a second threshold; it does not apply with --sample")
    if not qpm > 0:
        raise ConfigError(f"gan: qpm must be positive, got {qpm}")
    if opts.primer is not None:
        raise ConfigError("the GAN composes phrases from noise; it cannot continue a --primer")
    if opts.top_k is not None or opts.top_p is not None or opts.temperature != 1.0:
        raise ConfigError("the GAN has no --temperature, --top-k or --top-p; use --threshold or --sample")
    if opts.n <= 0 or opts.length <= 0:
        raise ConfigError("gan: -n and --length (bars) must be positive")
    cfg = model.cfg
    roll = cfg.roll_config
    per_piece = math.ceil(opts.length / cfg.bars)
    gen = seeded_generator(opts.seed, device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            probs = model(model.noise(opts.n * per_piece, device, gen)).float()  # (n * per_piece, T, P, C)
            rolls = torch.bernoulli(probs, generator=gen) if sample else (probs >= threshold).float()
    finally:
        model.train(was_training)
    chained = (opts.n, per_piece * roll.phrase_steps, *rolls.shape[2:])
    rolls = rolls.reshape(chained)
    if not sample and hold < threshold:  # frames of the chained piece, decoded with two thresholds
        rolls[..., 0] = hysteresis(probs.reshape(chained)[..., 0], threshold, hold).float()
    rolls = rolls[:, : opts.length * roll.steps_per_bar]
    if not onsets:
        rolls = rolls[..., :1]
    used = {"threshold": threshold, "hold": hold, "sample": sample, "qpm": qpm, "onsets": onsets}
    return rolls.to(torch.uint8).cpu().numpy(), used


#: A run's calibrated decoding, written by ``tunesmith rollstats --save``: threshold, hold and onsets chosen on
#: validation phrases, used by ``generate`` (and ``evaluate``) when none of them is asked for.
DECODING_FILE = "decoding.json"
_DECODING_KEYS = ("threshold", "hold", "sample", "onsets")


def saved_decoding(run: Path) -> dict[str, Any]:
    """The decoding saved in ``run/decoding.json`` ({} if none), checked so that a broken file says so."""
    import json

    path = Path(run) / DECODING_FILE
    if not path.is_file():
        return {}
    try:
        saved = json.loads(path.read_text())
        decoding = {"threshold": float(saved["threshold"]), "hold": float(saved["hold"])}
        if "onsets" in saved:
            decoding["onsets"] = bool(saved["onsets"])
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{path}: not a decoding written by 'tunesmith rollstats --save' ({e}); delete it") from None
    return decoding


def generate(
    model: gan_model.PianoRollGAN, config: dict[str, Any], run: Path, opts: GenerateOptions, device: torch.device
) -> list[Notes]:
    """``opts.n`` pieces of ``opts.length`` bars (see :func:`generate_rolls`) at ``qpm`` quarter notes a minute.

    When the run holds a calibrated decoding (:data:`DECODING_FILE`) and ``opts`` asks for none of threshold,
    hold, sample or onsets, that decoding is used."""
    if not any(k in opts.extra for k in _DECODING_KEYS):
        saved = saved_decoding(run)
        if saved:
            opts = dataclasses.replace(opts, extra={**opts.extra, **saved})
    rolls, used = generate_rolls(model, opts, device)
    roll = model.cfg.roll_config
    return [
        from_pianoroll(r, roll, threshold=0.5, qpm=used["qpm"]).with_metadata(
            bars=str(opts.length),
            sampled=str(used["sample"]).lower(),
            threshold=str(used["threshold"]),
            hold=str(used["hold"]),
            onsets=str(used["onsets"]).lower(),
        )
        for r in rolls
    ]


FAMILY = register(
    Family(
        name="gan",
        summary="the piano-roll GAN (DCGAN-style convolutional generator and discriminator)",
        config_cls=gan_model.GANConfig,
        presets=gan_model.PRESETS,
        train_presets={
            # TensorFlow's DCGAN tutorial (which the paper's GAN follows): BATCH_SIZE 256, Adam(1e-4); the paper's
            # 1000 iterations. epochs is only an upper bound (1000 epochs of >= 1 batch reach 1000 steps); there is
            # no validation loss to stop early on.
            "paper": {"batch_size": 256, "lr": 1e-4, "max_steps": 1000, "epochs": 1000, "patience": None},
            # MuseGAN's optimiser: Adam 1e-3 (with betas (0.5, 0.9), in the model config), batch 64. On MAESTRO,
            # 1e-3 came closer to the real statistics than 2e-4 after 200 steps (3 of 4). 5000 steps: about an hour
            # on 2 CPU cores.
            "default": {"batch_size": 64, "lr": 1e-3, "max_steps": 5000, "epochs": 100000, "patience": None},
            # the same optimiser on MuseGAN's 24-step grid (6x the cells: about 1.2 s a step on 2 CPU cores)
            "musegan": {"batch_size": 64, "lr": 1e-3, "max_steps": 3000, "epochs": 100000, "patience": None},
        },
        build_model=gan_model.PianoRollGAN,
        build_task=build_task,
        generate=generate,
        representation="pianoroll",
    )
)


# ------------------------------------------------------------------------------------------------ quality check
#: The quality target of docs/gan.md: each of MuseGAN's four statistics of generated phrases within 25% of the real
#: training phrases' value, and a qualified-note rate of at least 0.8.
TARGET_BAND = 0.25
TARGET_QN = 0.8


def _pooled(rolls: np.ndarray, model: gan_model.PianoRollGAN) -> dict[str, float]:
    """MuseGAN's statistics of phrases (K, T, P, C) played one after another (each note counts once in QN, each
    beat once in EB), and the share of cells on."""
    from ..training.gan_task import roll_statistics

    return {"cells_on": float(rolls[..., 0].mean()), **roll_statistics(rolls, model)}


def real_phrases(ds: Dataset, split: str, cfg: gan_model.GANConfig, k: int, seed: int = 0) -> np.ndarray:
    """``k`` phrases (all if fewer) drawn without replacement from the split's phrases, in their dataset order."""
    from ..training.gan_task import PhraseBatches

    store = PhraseBatches(packed_phrases(ds, split, cfg), cfg.roll_shape, torch.device("cpu"))
    if len(store) == 0:
        raise DatasetError(f"{ds.root}: no {split} phrases of {cfg.bars} bars to compare with")
    pick = np.random.default_rng(seed).choice(len(store), size=min(k, len(store)), replace=False)
    return store.numpy(np.sort(pick)).astype(np.uint8)


def _worst(stats: dict[str, float], ref: dict[str, float]) -> float:
    """The largest relative difference of the four statistics (``inf`` where the reference is 0 and stats not)."""
    worst = 0.0
    for k in PIANOROLL_STATISTICS:
        if ref[k] == 0:
            worst = max(worst, 0.0 if stats[k] == 0 else math.inf)
        else:
            worst = max(worst, abs(stats[k] - ref[k]) / ref[k])
    return worst


def choose_row(rows: list[dict[str, Any]]) -> int:
    """Index of the row to use: of the rows whose ``val_met`` holds (else of all), the smallest ``val_worst``."""
    pool = [i for i, r in enumerate(rows) if r["val_met"]] or list(range(len(rows)))
    return min(pool, key=lambda i: rows[i]["val_worst"])


def roll_quality(
    model: gan_model.PianoRollGAN,
    ds: Dataset,
    *,
    n: int = 512,
    real: int = 2048,
    thresholds: tuple[float, ...] = (DEFAULT_THRESHOLD,),
    holds: tuple[float | None, ...] = (None,),
    sample: bool = False,
    onsets: bool | None = None,
    seed: int = 0,
    device: torch.device | None = None,
) -> dict[str, Any]:
    """MuseGAN's four statistics of ``n`` generated phrases (one per noise vector) at each threshold, against
    ``real`` random training phrases, and whether each lies within :data:`TARGET_BAND` of the real value.

    Every pair of a threshold and a ``hold`` (None: the threshold itself; pairs with hold above the threshold
    are skipped) is one row. With several rows the one to use is chosen on held-out data, ``real`` random
    *validation* phrases: among the rows that meet the target against them (every statistic within the band, QN at
    least :data:`TARGET_QN`), the one closest to them (smallest largest relative difference); if none does, the
    closest row. The verdict is then read against the training phrases, which played no part in the choice.
    ``onsets`` (default: the model's own channels) decodes notes with (True) or without (False) the onset
    channel."""
    device = device or torch.device("cpu")
    cfg = model.cfg
    if onsets is None:
        onsets = cfg.onsets
    if n <= 0 or real <= 0 or not thresholds or not holds:
        raise ConfigError("roll_quality: n, real, the thresholds and holds must be given and positive")
    pairs = [(float(t), float(t if h is None else h)) for t in thresholds for h in holds if h is None or h <= t]
    if not pairs:
        raise ConfigError("roll_quality: every hold is above every threshold; a hold must not exceed its threshold")
    train_stats = _pooled(real_phrases(ds, "train", cfg, real, seed), model)
    val_stats = None
    if len(pairs) > 1:
        if not len(ds.indices("validation")):
            raise DatasetError(f"{ds.root}: no validation pieces to choose a threshold on; give one threshold")
        val_stats = _pooled(real_phrases(ds, "validation", cfg, real, seed), model)
    rows = []
    for t, h in pairs:
        extra: dict[str, Any] = {"threshold": t, "sample": sample, "onsets": bool(onsets)}
        if h != t:
            extra["hold"] = h
        rolls, _ = generate_rolls(model, GenerateOptions(n=n, length=cfg.bars, seed=seed, extra=extra), device)
        stats = _pooled(rolls, model)
        within = {k: bool(abs(stats[k] - train_stats[k]) <= TARGET_BAND * train_stats[k]) for k in PIANOROLL_STATISTICS}
        rows.append(
            {
                "threshold": t,
                "hold": h,
                "stats": stats,
                "within": within,
                "qn_target": stats["qualified_note_rate"] >= TARGET_QN,
                "met": all(within.values()) and stats["qualified_note_rate"] >= TARGET_QN,
                "val_worst": None if val_stats is None else _worst(stats, val_stats),
                "val_met": None
                if val_stats is None
                else _worst(stats, val_stats) <= TARGET_BAND and stats["qualified_note_rate"] >= TARGET_QN,
            }
        )
    chosen = 0 if val_stats is None else choose_row(rows)
    return {
        "n": n,
        "real_phrases": real,
        "sample": sample,
        "onsets": bool(onsets),
        "steps_per_quarter": cfg.steps_per_quarter,
        "real": train_stats,
        "validation": val_stats,
        "rows": rows,
        "chosen": chosen,
    }
