"""Shared fixtures. Real-data tests use the shared MIDI collections beside the project (or the folder named by
TUNESMITH_DATA) and are skipped, with the reason, where they are absent."""

from __future__ import annotations

import os
from pathlib import Path

import mido
import pytest
import torch

# One torch thread per test process: tests run on 2 processes (pytest -n 2), and two processes each spinning
# 2 OpenMP threads on 2 cores slow small LSTM steps down a hundredfold.
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TUNESMITH_DATA", ROOT.parent / "shared" / "data"))
CLASSICAL = DATA / "classical"
MAESTRO = DATA / "maestro"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not present at {path} (set TUNESMITH_DATA to the shared data folder)")
    return path


@pytest.fixture
def classical() -> Path:
    return need(CLASSICAL)


@pytest.fixture
def maestro() -> Path:
    return need(MAESTRO)


def hand_midi(path: Path) -> Path:
    """A tiny hand-written MIDI file (written with mido, independently of tunesmith), tpq 96:

    track 1 (piano, program 0, channel 0): C4 vel 100 ticks 0-96; E4 vel 90 ticks 96-192;
        tempo 120 qpm at 0, 60 qpm at tick 192; G4 vel 80 ticks 288-384 (qn 3-4 = 2.0-3.0 s)
    track 2 (program 40, channel 1): A3 vel 70 ticks 0-384
    track 3 (drums, channel 9): kick 36 vel 127 ticks 0-24
    time signature 3/4 at 0.
    """
    mid = mido.MidiFile(type=1, ticks_per_beat=96)
    meta = mido.MidiTrack()
    meta += [
        mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0),
        mido.MetaMessage("set_tempo", tempo=500000, time=0),
        mido.MetaMessage("set_tempo", tempo=1000000, time=192),
    ]
    t1 = mido.MidiTrack()
    t1 += [
        mido.Message("program_change", program=0, channel=0, time=0),
        mido.Message("note_on", note=60, velocity=100, channel=0, time=0),
        mido.Message("note_off", note=60, velocity=0, channel=0, time=96),
        mido.Message("note_on", note=64, velocity=90, channel=0, time=0),
        mido.Message("note_off", note=64, velocity=0, channel=0, time=96),
        mido.Message("note_on", note=67, velocity=80, channel=0, time=96),
        mido.Message("note_on", note=67, velocity=0, channel=0, time=96),  # note-on with velocity 0 ends a note
    ]
    t2 = mido.MidiTrack()
    t2 += [
        mido.Message("program_change", program=40, channel=1, time=0),
        mido.Message("note_on", note=57, velocity=70, channel=1, time=0),
        mido.Message("note_off", note=57, velocity=0, channel=1, time=384),
    ]
    t3 = mido.MidiTrack()
    t3 += [
        mido.Message("note_on", note=36, velocity=127, channel=9, time=0),
        mido.Message("note_off", note=36, velocity=0, channel=9, time=24),
    ]
    mid.tracks += [meta, t1, t2, t3]
    mid.save(path)
    return path


@pytest.fixture
def hand_piece(tmp_path: Path) -> Path:
    return hand_midi(tmp_path / "hand.mid")


def synthetic_dataset(
    root: Path, *, steps, durations, offset: float = 0.0, velocity: bool = True, n_pieces: int = 12, n_notes: int = 60
) -> Path:
    """``n_pieces`` random pieces of ``n_notes`` (pitches 48..83, steps and durations in seconds drawn from the
    given choices), written as MIDI files p00.mid ... and prepared; returns the dataset folder. Seeded: the same
    arguments give the same files. With 12 pieces, p05 falls in validation, p02 and p08 in test."""
    import numpy as np

    from tunesmith.dataset import prepare
    from tunesmith.io import write_midi
    from tunesmith.notes import Notes

    src = root / "src"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in range(n_pieces):
        start = np.cumsum(rng.choice(steps, n_notes)) - offset
        dur = rng.choice(durations, n_notes)
        pitch = rng.integers(48, 84, n_notes)
        vel = rng.integers(40, 110, n_notes) if velocity else 80
        write_midi(Notes.from_arrays(pitch, start, start + dur, velocity=vel), src / f"p{i:02d}.mid")
    return prepare(src, root / "ds", workers=1, progress=False).root


class SampleCalls:
    """Every ``sample_tokens`` call made while a test runs: its keyword arguments and its new tokens (per row)."""

    def __init__(self) -> None:
        self.kwargs: list[dict] = []
        self.streams: list[list[list[int]]] = []


@pytest.fixture
def sample_calls(monkeypatch) -> SampleCalls:
    from tunesmith.families.transformer import sample as sample_mod

    calls = SampleCalls()
    real = sample_mod.sample_tokens

    def spy(*args, **kw):
        out = real(*args, **kw)
        calls.kwargs.append(kw)
        calls.streams.append(out)
        return out

    monkeypatch.setattr(sample_mod, "sample_tokens", spy)
    return calls
