"""The GAN's data in phrases: every phrase of a split bit-packed, and MuseGAN's statistics of phrases pooled."""

from __future__ import annotations

import math

import numpy as np

from ...dataset import Dataset
from ...evaluation.metrics import musegan_statistics
from ...notes import Notes
from ...representations.pianoroll import from_pianoroll, phrases
from ...training.stores import pack_phrases
from .model import GANConfig, PianoRollGAN


def packed_phrases(ds: Dataset, split: str, cfg: GANConfig) -> np.ndarray:
    """Every phrase of the split's pieces, bit-packed (K, bytes), cut within each piece (never across two)."""
    roll = cfg.roll
    hop = None if cfg.hop_bars is None else cfg.hop_bars * roll.steps_per_bar
    width = math.ceil(int(np.prod(cfg.roll_shape)) / 8)
    parts = [pack_phrases(phrases(ds[int(i)], roll, hop=hop, channels=cfg.n_channels)) for i in ds.indices(split)]
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.uint8)


def phrase_statistics(rolls: np.ndarray, model: PianoRollGAN, threshold: float = 0.5) -> dict[str, float]:
    """MuseGAN's statistics (:func:`~tunesmith.evaluation.metrics.musegan_statistics`) of phrases (K, T, P, C)
    played one after another (so note and bar rates pool over them)."""
    notes: Notes = from_pianoroll(rolls.reshape(-1, *rolls.shape[2:]), model.cfg.roll, threshold=threshold)
    spq = model.cfg.roll.steps_per_quarter
    return {k: float(v) for k, v in musegan_statistics(notes, steps_per_quarter=spq).items()}
