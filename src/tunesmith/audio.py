"""Listening: Notes -> WAV.

The built-in synthesizer is small and always available: each note is a few decaying harmonics (a plucked,
piano-like tone) with velocity as loudness, mixed and normalised. It is there so that a WAV is always produced;
a SoundFont renderer can take its place where one is installed.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np

from .errors import ConfigError
from .notes import Notes
from .utils import atomic_path

DEFAULT_SAMPLE_RATE = 22050
#: relative amplitudes of the harmonics of the built-in tone
_HARMONICS = np.array([1.0, 0.5, 0.25, 0.12, 0.06])


def midi_to_hz(pitch: np.ndarray | float) -> np.ndarray:
    """Equal temperament, A4 (MIDI 69) = 440 Hz."""
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - 69.0) / 12.0)


def synthesize(notes: Notes, sample_rate: int = DEFAULT_SAMPLE_RATE, *, release: float = 0.15) -> np.ndarray:
    """Render Notes to a mono float32 signal in [-1, 1] with the built-in synthesizer (drums are skipped).

    The signal lasts until the end of the last note plus ``release`` seconds."""
    if sample_rate <= 0:
        raise ConfigError(f"sample rate must be positive, got {sample_rate}")
    a = notes.notes[~notes.notes["is_drum"]]
    total = int(np.ceil((notes.duration + release) * sample_rate)) + 1
    out = np.zeros(total, dtype=np.float64)
    if a.size == 0:
        return out.astype(np.float32)
    hz = midi_to_hz(a["pitch"])
    for (start, end, vel), f in zip(a[["start", "end", "velocity"]].tolist(), hz, strict=True):
        i0 = int(round(start * sample_rate))
        n = max(1, int(round((end - start + release) * sample_rate)))
        n = min(n, total - i0)
        t = np.arange(n) / sample_rate
        k = np.arange(1, len(_HARMONICS) + 1)
        audible = k * f < sample_rate / 2  # no harmonic above Nyquist
        tone = (_HARMONICS[audible, None] * np.sin(2 * np.pi * f * k[audible, None] * t)).sum(0)
        held = end - start
        env = np.exp(-t * (1.5 + f / 600.0))  # higher notes decay faster, as on a piano
        env *= np.clip((held + release - t) / release, 0.0, 1.0)  # release after the key is let go
        env[: min(n, 64)] *= np.linspace(0.0, 1.0, min(n, 64))  # a 3 ms attack, no click
        out[i0 : i0 + n] += (vel / 127.0) ** 1.5 * env * tone
    peak = np.abs(out).max()
    if peak > 0:
        out *= 0.9 / peak
    return out.astype(np.float32)


def write_wav(signal: np.ndarray, path: str | os.PathLike[str], sample_rate: int = DEFAULT_SAMPLE_RATE) -> Path:
    """Write a mono float signal in [-1, 1] as 16-bit PCM WAV, atomically."""
    path = Path(path)
    pcm = (np.clip(signal, -1.0, 1.0) * 32767).astype("<i2")
    with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return path


def render(notes: Notes, path: str | os.PathLike[str], sample_rate: int = DEFAULT_SAMPLE_RATE) -> tuple[Path, str]:
    """Render Notes to a WAV file; returns the path and the name of the synthesizer used."""
    return write_wav(synthesize(notes, sample_rate), path, sample_rate), "built-in"
