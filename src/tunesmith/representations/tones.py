"""Tone events for C-RNN-GAN (Mogren 2016): per tone its length, frequency, intensity and the time since the
previous tone's start.

Mogren's representation (section 3 of the paper): "each tone is represented by four real-valued scalars: tone
length, frequency, intensity, and time spent since the previous tone", with times in MIDI ticks at 384 ticks per
quarter note. Here ticks are counted from the quarter-note times of :class:`~tunesmith.notes.Notes`
(``tick = round(qn * 384)``), so tempo changes in a file do not bend the grid; frequency is the equal-tempered
frequency of the MIDI pitch, ``f = 440 * 2 ** ((pitch - 69) / 12)`` Hz; intensity is the MIDI velocity.

C-RNN-GAN-3 (the paper's polyphonic variant, section 4) lets one recurrent step carry up to three tones that
start together. An array of ``tones_per_step = k`` has ``3 k + 1`` columns::

    [length_1, frequency_1, intensity_1, ..., length_k, frequency_k, intensity_k, time_since_previous_step]

Tones of one step share their start (the step's time since the previous step's start, the last column); tones
of a chord are ordered by pitch, and a chord of more than ``k`` tones continues in the next step with time 0,
so no tone is lost. Absent tones are all zeros. With ``k = 1`` the columns are the paper's four:
``(length, frequency, intensity, time since the previous tone)``.

``to_tones`` / ``from_tones`` round-trip pitch exactly (frequency back to the nearest MIDI number) and timing to
the tick. Networks see the features standardised (:class:`ToneNormalizer`, fitted on the training split and
kept in the run's config so that generation inverts it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..notes import Notes, make_tempo_map

#: Ticks per quarter note of the tone grid (Mogren 2016).
TICKS_PER_QUARTER = 384
#: Offsets of a tone's three features inside its slot of ``3`` columns.
LENGTH, FREQUENCY, INTENSITY = 0, 1, 2
FEATURES_PER_TONE = 3
A4_HZ = 440.0
A4_PITCH = 69
#: A slot is decoded as a tone when its frequency lies at or above half a semitone below MIDI pitch 0
#: (absent tones are stored as frequency 0; the first slot of a step always holds a tone).
MIN_PRESENT_PITCH = -0.5


@dataclass(frozen=True)
class ToneConfig:
    """How notes become tone arrays: the tick grid and how many tones one step may carry (1, or 3 for
    C-RNN-GAN-3)."""

    ticks_per_quarter: int = TICKS_PER_QUARTER
    tones_per_step: int = 1

    def __post_init__(self) -> None:
        if int(self.ticks_per_quarter) != self.ticks_per_quarter or self.ticks_per_quarter <= 0:
            raise ConfigError(f"tones: ticks_per_quarter must be a positive whole number, got {self.ticks_per_quarter}")
        if int(self.tones_per_step) != self.tones_per_step or self.tones_per_step <= 0:
            raise ConfigError(f"tones: tones_per_step must be a positive whole number, got {self.tones_per_step}")

    @property
    def n_features(self) -> int:
        return n_features(self.tones_per_step)


def n_features(tones_per_step: int) -> int:
    """Columns of a tone array: three per tone slot and the shared time since the previous step."""
    return FEATURES_PER_TONE * tones_per_step + 1


def time_column(tones_per_step: int) -> int:
    """Index of the 'time since the previous step' column (the last one)."""
    return FEATURES_PER_TONE * tones_per_step


def pitch_to_hz(pitch: np.ndarray | float) -> np.ndarray:
    """Equal-tempered frequency of MIDI pitch numbers: ``440 * 2 ** ((p - 69) / 12)``."""
    return A4_HZ * np.exp2((np.asarray(pitch, dtype=np.float64) - A4_PITCH) / 12.0)


def hz_to_pitch(hz: np.ndarray | float) -> np.ndarray:
    """Fractional MIDI pitch of frequencies: ``69 + 12 log2(f / 440)``; ``-inf`` for ``f <= 0``."""
    hz = np.asarray(hz, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(hz > 0, A4_PITCH + 12.0 * np.log2(np.where(hz > 0, hz, 1.0) / A4_HZ), -np.inf)


def _config(config: ToneConfig | None, tones_per_step: int | None) -> ToneConfig:
    config = config or ToneConfig()
    if tones_per_step is not None and tones_per_step != config.tones_per_step:
        config = ToneConfig(config.ticks_per_quarter, tones_per_step)
    return config


def to_tones(notes: Notes, config: ToneConfig | None = None, *, tones_per_step: int | None = None) -> np.ndarray:
    """Notes -> float64 array ``(steps, 3 k + 1)`` (layout in the module docstring).

    Drum notes are dropped; notes of all other tracks are merged and ordered by start tick, then pitch. Times are
    whole ticks: ``start = round(start_qn * tpq)``, ``length = round(end_qn * tpq) - start`` (at least 0), and the
    first step's time is counted from tick 0."""
    cfg = _config(config, tones_per_step)
    k, tpq = cfg.tones_per_step, cfg.ticks_per_quarter
    a = notes.notes[~notes.notes["is_drum"]]
    start = np.rint(a["start_qn"] * tpq).astype(np.int64)
    end = np.maximum(np.rint(a["end_qn"] * tpq).astype(np.int64), start)
    order = np.lexsort((a["pitch"], start))
    a, start, end = a[order], start[order], end[order]
    n = a.size
    if n == 0:
        return np.zeros((0, cfg.n_features), dtype=np.float64)
    # position of each tone inside its chord (tones sharing a start tick), then its step and slot
    new_chord = np.ones(n, dtype=bool)
    new_chord[1:] = start[1:] != start[:-1]
    chord_first = np.flatnonzero(new_chord)
    pos = np.arange(n) - chord_first[np.cumsum(new_chord) - 1]
    slot = pos % k
    step = np.cumsum(slot == 0) - 1
    out = np.zeros((int(step[-1]) + 1, cfg.n_features), dtype=np.float64)
    cols = FEATURES_PER_TONE * slot
    out[step, cols + LENGTH] = end - start
    out[step, cols + FREQUENCY] = pitch_to_hz(a["pitch"])
    out[step, cols + INTENSITY] = a["velocity"]
    step_start = start[slot == 0]
    out[:, time_column(k)] = np.diff(step_start, prepend=0)
    return out


def from_tones(
    tones: np.ndarray,
    config: ToneConfig | None = None,
    qpm: float = 120.0,
    *,
    tones_per_step: int | None = None,
    min_length: int = 0,
    program: int = 0,
    present_hz: Sequence[float] | None = None,
) -> Notes:
    """Tone array ``(steps, 3 k + 1)`` -> Notes (one track) at a constant tempo of ``qpm`` quarter notes per
    minute (120 by default).

    Decoding rules, for network outputs as much as for data: times are rounded to whole ticks, a negative time
    since the previous step counts as 0, a length below ``min_length`` ticks becomes ``min_length`` (0 keeps
    real data exact; generation uses 1 so that every tone survives in a MIDI file); frequency goes to the
    nearest MIDI pitch, clamped to 0..127; intensity to the nearest velocity, clamped to 1..127. The first slot
    of a step is always a tone; slots 2..k are tones when their frequency is at least that of pitch -0.5
    (absent tones are stored as zeros), or at least ``present_hz[j]`` for slot ``j`` when given (a decoding
    calibrated for a generator whose regressed frequencies never reach 0: see :func:`slot_shares`)."""
    cfg = _config(config, tones_per_step)
    k, tpq = cfg.tones_per_step, cfg.ticks_per_quarter
    tones = np.asarray(tones, dtype=np.float64)
    if tones.ndim != 2 or tones.shape[1] != cfg.n_features:
        raise ConfigError(
            f"tones: expected an array of shape (steps, {cfg.n_features}) for {k} tone(s) per step, got {tones.shape}"
        )
    if not np.all(np.isfinite(tones)):
        raise ConfigError("tones: the array contains NaN or infinity")
    if not qpm > 0 or not np.isfinite(qpm):
        raise ConfigError(f"tones: qpm must be a positive number, got {qpm}")
    if min_length < 0:
        raise ConfigError(f"tones: min_length must be >= 0 ticks, got {min_length}")
    dt = np.maximum(np.rint(tones[:, time_column(k)]), 0).astype(np.int64)
    step_start = np.cumsum(dt)
    starts, lengths, pitches, velocities, steps, slots = [], [], [], [], [], []
    for j in range(k):
        col = FEATURES_PER_TONE * j
        pitch = hz_to_pitch(tones[:, col + FREQUENCY])
        if j == 0:
            present = np.ones(len(tones), dtype=bool)
        elif present_hz is not None:
            present = tones[:, col + FREQUENCY] >= present_hz[j]
        else:
            present = pitch >= MIN_PRESENT_PITCH
        idx = np.flatnonzero(present)
        starts.append(step_start[idx])
        lengths.append(np.maximum(np.rint(tones[idx, col + LENGTH]), min_length).astype(np.int64))
        pitches.append(np.clip(np.rint(np.nan_to_num(pitch[idx], neginf=0.0)), 0, 127).astype(np.uint8))
        velocities.append(np.clip(np.rint(tones[idx, col + INTENSITY]), 1, 127).astype(np.uint8))
        steps.append(idx)
        slots.append(np.full(idx.size, j))
    order = np.lexsort((np.concatenate(slots), np.concatenate(steps)))  # step by step, slot by slot
    start = np.concatenate(starts)[order]
    length = np.concatenate(lengths)[order]
    return Notes.from_arrays(
        np.concatenate(pitches)[order],
        start_qn=start / tpq,
        end_qn=(start + length) / tpq,
        velocity=np.concatenate(velocities)[order],
        program=program,
        tempos=make_tempo_map([0.0], [qpm]),
    )


def slot_shares(pieces: Sequence[np.ndarray], tones_per_step: int) -> list[float]:
    """For each slot of a step, the share of steps of ``pieces`` whose slot holds a tone (1.0 for the first)."""
    rows = np.concatenate(list(pieces)) if len(pieces) else np.zeros((0, n_features(tones_per_step)))
    shares = [1.0]
    for j in range(1, tones_per_step):
        hz = rows[:, FEATURES_PER_TONE * j + FREQUENCY]
        shares.append(float((hz_to_pitch(hz) >= MIN_PRESENT_PITCH).mean()) if len(rows) else 0.0)
    return shares


def presence_thresholds(tones: np.ndarray, shares: Sequence[float]) -> list[float]:
    """Per slot, the frequency (Hz) at or above which a slot of ``tones`` (``(..., 3 k + 1)``, raw units) is read
    as a tone so that the share of steps holding a tone there equals ``shares[j]``: the ``1 - shares[j]`` quantile
    of the slot's frequencies (0 for the first slot, which always holds one).

    A generator trained by regression outputs, for a slot that is sometimes empty, frequencies between 0 Hz and a
    pitch, almost never the 0 Hz of an absent tone; read by the fixed rule every slot sounds, and every tone
    starts together with another (C-RNN-GAN-3's polyphony of 1.00 against 0.6-0.7 in real music, docs/crnngan.md).
    Matching the real share of filled slots is the decoding's counterpart of the GAN's calibrated threshold."""
    rows = np.asarray(tones, dtype=np.float64).reshape(-1, np.shape(tones)[-1])
    out = [0.0]
    for j in range(1, len(shares)):
        hz = rows[:, FEATURES_PER_TONE * j + FREQUENCY]
        out.append(float(np.quantile(hz, 1.0 - shares[j])) if len(hz) else 0.0)
    return out


@dataclass
class ToneNormalizer:
    """Per-column standardisation ``(x - mean) / std`` of tone arrays, fitted on the training split.

    For ``k`` tones per step, the statistics of length, frequency and intensity are pooled over the tones that
    are present in any slot and shared by all slots, so an absent tone (raw zeros) has one fixed code per
    feature in every slot; the time column has its own. A feature that never varies gets std 1."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, pieces: list[np.ndarray], tones_per_step: int = 1) -> ToneNormalizer:
        k, f = tones_per_step, n_features(tones_per_step)
        rows = np.concatenate(pieces) if pieces else np.zeros((0, f))
        if rows.ndim != 2 or rows.shape[1] != f:
            raise ConfigError(
                f"tones: cannot fit a normaliser for {k} tone(s) per step on arrays of shape {rows.shape}"
            )
        if len(rows) == 0:
            raise ConfigError("tones: cannot fit a normaliser on no tones")
        mean, std = np.zeros(f), np.ones(f)
        slots = rows[:, : FEATURES_PER_TONE * k].reshape(len(rows), k, FEATURES_PER_TONE)
        present = slots[:, :, FREQUENCY] > 0
        present[:, 0] = True
        tones = slots[present]  # (tones, 3)
        for feat in range(FEATURES_PER_TONE):
            m, s = float(tones[:, feat].mean()), float(tones[:, feat].std())
            mean[feat : FEATURES_PER_TONE * k : FEATURES_PER_TONE] = m
            std[feat : FEATURES_PER_TONE * k : FEATURES_PER_TONE] = s if s > 1e-8 else 1.0
        t = rows[:, time_column(k)]
        mean[-1], std[-1] = float(t.mean()), (float(t.std()) if t.std() > 1e-8 else 1.0)
        return cls(mean, std)

    def normalize(self, tones: np.ndarray) -> np.ndarray:
        return (np.asarray(tones, dtype=np.float64) - self.mean) / self.std

    def denormalize(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) * self.std + self.mean

    def to_dict(self) -> dict[str, Any]:
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ToneNormalizer:
        try:
            mean, std = np.asarray(d["mean"], dtype=np.float64), np.asarray(d["std"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"tones: invalid normaliser {d!r} ({e})") from e
        if mean.shape != std.shape or mean.ndim != 1 or np.any(std <= 0):
            raise ConfigError("tones: a normaliser needs equally long mean and std lists with std > 0")
        return cls(mean, std)
