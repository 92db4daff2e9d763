"""The GAN's quality check (docs/gan.md): MuseGAN's four piano-roll statistics of generated phrases against real
ones, with the decoding (threshold, hold) chosen on validation phrases. ``tunesmith rollstats`` shows it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ...dataset import Dataset, choosing
from ...errors import ConfigError, DatasetError
from ...evaluation.metrics import MUSEGAN_STATISTICS
from ...training.stores import PhraseStore
from .model import GANConfig, PianoRollGAN
from .phrases import packed_phrases, phrase_statistics
from .sample import DEFAULT_THRESHOLD, Decoding, generate_rolls

#: The quality target of docs/gan.md: each of MuseGAN's four statistics of generated phrases within 25% of the real
#: training phrases' value, and a qualified-note rate of at least 0.8.
TARGET_BAND = 0.25
TARGET_QN = 0.8


def pooled_statistics(rolls: np.ndarray, model: PianoRollGAN) -> dict[str, float]:
    """MuseGAN's statistics of phrases (K, T, P, C) played one after another (each note counts once in QN, each
    beat once in EB), and the share of cells on: what the quality target compares."""
    return {"cells_on": float(rolls[..., 0].mean()), **phrase_statistics(rolls, model)}


def real_phrases(ds: Dataset, split: str, cfg: GANConfig, k: int, seed: int = 0) -> np.ndarray:
    """``k`` phrases (all if fewer) drawn without replacement from the split's phrases, in their dataset order."""
    store = PhraseStore(packed_phrases(ds, split, cfg), cfg.roll_shape, torch.device("cpu"))
    if len(store) == 0:
        raise DatasetError(f"{ds.root}: no {split} phrases of {cfg.roll.bars} bars to compare with")
    pick = np.random.default_rng(seed).choice(len(store), size=min(k, len(store)), replace=False)
    return store.numpy(np.sort(pick)).astype(np.uint8)


def _worst(stats: dict[str, float], ref: dict[str, float]) -> float:
    """The largest relative difference of the four statistics (``inf`` where the reference is 0 and stats not)."""
    worst = 0.0
    for k in MUSEGAN_STATISTICS:
        if ref[k] == 0:
            worst = max(worst, 0.0 if stats[k] == 0 else math.inf)
        else:
            worst = max(worst, abs(stats[k] - ref[k]) / ref[k])
    return worst


def _meets(stats: dict[str, float], ref: dict[str, float]) -> bool:
    """The quality target against ``ref``: every statistic within the band, and QN at least :data:`TARGET_QN`."""
    return _worst(stats, ref) <= TARGET_BAND and stats["qualified_note_rate"] >= TARGET_QN


def _pairs(thresholds: tuple[float, ...], holds: tuple[float | None, ...]) -> list[tuple[float, float]]:
    """Every (threshold, hold) to try (a hold of None is the threshold itself; holds above it are skipped)."""
    pairs = [(float(t), float(t if h is None else h)) for t in thresholds for h in holds if h is None or h <= t]
    if not pairs:
        raise ConfigError("every hold is above every threshold; a hold must not exceed its threshold")
    return pairs


def choose_row(rows: list[dict[str, Any]]) -> int:
    """Index of the row to use: of the rows whose ``val_met`` holds (else of all), the smallest ``val_worst``."""
    pool = [i for i, r in enumerate(rows) if r["val_met"]] or list(range(len(rows)))
    return min(pool, key=lambda i: rows[i]["val_worst"])


#: The decodings tried at each scoring during training (``select_by="statistics"``): every threshold with each
#: hold (None: the threshold itself), as ``tunesmith rollstats --threshold ... --hold ...`` would try them.
CALIBRATION_THRESHOLDS = (0.3, 0.5, 0.7, 0.9)
CALIBRATION_HOLDS: tuple[float | None, ...] = (None, 0.2)
CALIBRATION_PHRASES = 64


def calibrate(
    model: PianoRollGAN,
    val_stats: dict[str, float],
    device: torch.device,
    *,
    n: int = CALIBRATION_PHRASES,
    seed: int = 0,
    thresholds: tuple[float, ...] = CALIBRATION_THRESHOLDS,
    holds: tuple[float | None, ...] = CALIBRATION_HOLDS,
) -> tuple[Decoding, dict[str, Any]]:
    """The decoding (threshold, hold) whose ``n`` generated phrases come closest to ``val_stats`` (the statistics
    of real *validation* phrases), chosen as ``rollstats`` chooses (:func:`choose_row`), and its row."""
    rows = []
    for t, h in _pairs(thresholds, holds):
        decoding = Decoding(threshold=t, hold=h, onsets=model.cfg.onsets)
        stats = pooled_statistics(generate_rolls(model, n, model.cfg.roll.bars, seed, decoding, device), model)
        rows.append(
            {
                "decoding": decoding,
                "stats": stats,
                "val_worst": _worst(stats, val_stats),
                "val_met": _meets(stats, val_stats),
            }
        )
    row = rows[choose_row(rows)]
    return row["decoding"], row


def roll_quality(
    model: PianoRollGAN,
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
    with choosing("a decoding's choice (rollstats)"):  # reads the train and validation splits only
        return _roll_quality(model, ds, n=n, real=real, thresholds=thresholds, holds=holds, sample=sample,
                             onsets=onsets, seed=seed, device=device)


def _roll_quality(
    model: PianoRollGAN,
    ds: Dataset,
    *,
    n: int,
    real: int,
    thresholds: tuple[float, ...],
    holds: tuple[float | None, ...],
    sample: bool,
    onsets: bool | None,
    seed: int,
    device: torch.device | None,
) -> dict[str, Any]:
    device = device or torch.device("cpu")
    cfg = model.cfg
    if onsets is None:
        onsets = cfg.onsets
    if n <= 0 or real <= 0 or not thresholds or not holds:
        raise ConfigError("roll_quality: n, real, the thresholds and holds must be given and positive")
    pairs = _pairs(thresholds, holds)
    train_stats = pooled_statistics(real_phrases(ds, "train", cfg, real, seed), model)
    val_stats = None
    if len(pairs) > 1:
        if not len(ds.indices("validation")):
            raise DatasetError(f"{ds.root}: no validation pieces to choose a threshold on; give one threshold")
        val_stats = pooled_statistics(real_phrases(ds, "validation", cfg, real, seed), model)
    rows = []
    for t, h in pairs:
        decoding = Decoding(threshold=t, hold=h, sample=sample, onsets=bool(onsets))
        rolls = generate_rolls(model, n, cfg.roll.bars, seed, decoding, device)
        stats = pooled_statistics(rolls, model)
        within = {k: bool(abs(stats[k] - train_stats[k]) <= TARGET_BAND * train_stats[k]) for k in MUSEGAN_STATISTICS}
        rows.append(
            {
                "threshold": t,
                "hold": h,
                "stats": stats,
                "within": within,
                "qn_target": stats["qualified_note_rate"] >= TARGET_QN,
                "met": all(within.values()) and stats["qualified_note_rate"] >= TARGET_QN,
                "val_worst": None if val_stats is None else _worst(stats, val_stats),
                "val_met": None if val_stats is None else _meets(stats, val_stats),
            }
        )
    chosen = 0 if val_stats is None else choose_row(rows)
    return {
        "n": n,
        "real_phrases": real,
        "sample": sample,
        "onsets": bool(onsets),
        "steps_per_quarter": cfg.roll.steps_per_quarter,
        "real": train_stats,
        "validation": val_stats,
        "rows": rows,
        "chosen": chosen,
        "target_band": TARGET_BAND,
        "target_qn": TARGET_QN,
    }
