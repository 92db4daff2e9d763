"""The ``humanize`` job: a programmed drum part (on the grid, flat velocity) played as a drummer would, by a run
of a family that can (the shipped ``groove`` by default); and :func:`measure`, how close that comes to what the
drummers played, against three baselines (``benchmarks/bench_humanize.py``, the shipped model's card)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset import Dataset
from ..errors import ConfigError
from ..io import read, write_midi
from ..notes import Notes
from ..representations.drums import N_CLASSES, POSITIONS, STEPS_PER_QUARTER, drum_cells, drum_grid, quantized
from ..training.trainer import choose_device
from .generate import companions, output_folder
from .runs import load_run

#: the shipped humanizer, what ``tunesmith humanize`` uses unless told otherwise
DEFAULT_RUN = "groove"


def humanize(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    run: str | os.PathLike[str] = DEFAULT_RUN,
    amount: float = 1.0,
    device: str = "cpu",
    wav: bool = False,
    png: bool = False,
    score: bool = False,
) -> Path:
    """Write ``source`` with its drums humanized into the folder ``out`` (``<name>_humanized.mid``; its other
    tracks note for note) and return the file's path. ``amount`` scales how far each hit moves from where it is
    towards how the model plays it (0: unchanged, 1: as the model plays it)."""
    notes = read(source)
    if drum_cells(notes).index.size == 0:
        raise ConfigError(
            f"{source}: no drum notes to humanize (drums are notes on MIDI channel 10 of the 9 kit classes: kick, "
            "snare, toms, hi-hats, crash, ride)"
        )
    loaded, fam, model = load_run(run, choose_device(device))
    if not fam.can("humanize"):
        raise ConfigError(f"{run} is a {fam.name} run, which cannot humanize drums; use a humanizer run")
    played = fam.humanize(model, notes, float(amount), next(model.parameters()).device)
    folder = output_folder(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = write_midi(
        played.with_metadata(generator=f"tunesmith {loaded.kind}"), folder / f"{Path(source).stem}_humanized.mid"
    )
    companions(path, wav=wav, png=png, score=score)
    return path


#: the ways a programmed part is played again in :func:`measure`, the model's last
WAYS = ("quantized", "jitter", "mean per class and position", "model")


def measure(
    run: str | os.PathLike[str],
    data: str | os.PathLike[str],
    split: str = "test",
    *,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, Any]:
    """How close a humanizer comes to the drummers: every ``split`` performance of the dataset programmed (onsets on
    the 16th grid, velocity the training split's mean, :func:`quantized`), then played again four ways
    (:data:`WAYS`): unchanged; jittered with offsets and velocities drawn at random from the training split's hits
    (the real spread); the training split's mean offset and velocity of each drum class at each of the 16 positions
    in the bar; and the run (:meth:`humanize`, amount 1). Returns, per way, the timing error of every hit
    (milliseconds, through the piece's tempo) and its velocity error (MIDI velocity), and what the figures need:
    the performances, hits, the constant, and the first performance as played, programmed and humanized."""
    ds = Dataset.load(data)
    loaded, fam, model = load_run(run, choose_device(device))
    if not fam.can("humanize"):
        raise ConfigError(f"{run} is a {fam.name} run, which cannot humanize drums")
    dev = next(model.parameters()).device
    train = [_hits(ds[int(i)]) for i in ds.indices("train")]
    train = [h for h in train if h is not None]
    if not train:
        raise ConfigError(f"{data}: no drums in the train split to learn the baselines from")
    t_cls, t_pos, t_off, t_vel = (
        np.concatenate([h[k] for h in train]) for k in ("cls", "position", "offset", "velocity")
    )
    constant = int(np.rint(t_vel.mean()))
    cell = t_cls * POSITIONS + t_pos
    size = N_CLASSES * POSITIONS
    count = np.bincount(cell, minlength=size)
    per_class = np.bincount(t_cls, minlength=N_CLASSES)
    template = {}
    for name, values in (("offset", t_off), ("velocity", t_vel)):
        mean = np.bincount(cell, values, size) / np.maximum(count, 1)
        cls_mean = np.bincount(t_cls, values, N_CLASSES) / np.maximum(per_class, 1)
        template[name] = np.where(count > 0, mean, np.repeat(cls_mean, POSITIONS))  # unseen cell: its class's mean
    rng = np.random.default_rng(seed)
    timing: dict[str, list[np.ndarray]] = {w: [] for w in WAYS}
    velocity: dict[str, list[np.ndarray]] = {w: [] for w in WAYS}
    first: dict[str, Any] = {}
    pieces = 0
    for i in ds.indices(split):
        piece = ds[int(i)]
        h = _hits(piece)
        if h is None:
            continue
        pieces += 1
        n = h["cls"].size
        programmed = quantized(piece, constant)
        played = fam.humanize(model, programmed, 1.0, dev).notes[h["index"]]
        k = h["cls"] * POSITIONS + h["position"]
        ways = {
            "quantized": (np.zeros(n), np.full(n, float(constant))),
            "jitter": (t_off[rng.integers(0, t_off.size, n)], t_vel[rng.integers(0, t_vel.size, n)]),
            "mean per class and position": (template["offset"][k], np.rint(template["velocity"][k])),
            "model": (played["start_qn"] * STEPS_PER_QUARTER - h["step"], played["velocity"].astype(np.float64)),
        }
        for w, (off, vel) in ways.items():
            timing[w].append(np.abs(off - h["offset"]) * h["ms"])
            velocity[w].append(np.abs(vel - h["velocity"]))
        if not first:
            first = {"piece": piece, **h, "played": ways["model"], "constant": constant}
    if not pieces:
        raise ConfigError(f"{data}: no drums in the {split} split to measure on")
    return {
        "pieces": pieces,
        "hits": int(sum(t.size for t in timing["model"])),
        "programmed_velocity": constant,
        "timing_ms": {w: np.concatenate(v) for w, v in timing.items()},
        "velocity": {w: np.concatenate(v) for w, v in velocity.items()},
        "first": first,
        "run_kind": loaded.kind,
    }


def _hits(piece: Notes) -> dict[str, np.ndarray] | None:
    """A piece's drum hits: their notes' indices, class, position, grid step, offset (steps), velocity, and the
    milliseconds of a grid step at each; None without drums."""
    c = drum_cells(piece)
    if c.index.size == 0:
        return None
    qpm = drum_grid(piece, c).qpm[c.step].astype(np.float64)
    return {
        "index": c.index,
        "cls": c.cls,
        "position": c.position,
        "step": c.step,
        "offset": c.offset,
        "velocity": piece.notes["velocity"][c.index].astype(np.float64),
        "ms": 60_000.0 / qpm / STEPS_PER_QUARTER,
    }


def summary(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Mean, median and 90th percentile of the timing (ms) and velocity errors per way, as a card keeps them."""
    out = {}
    for w in WAYS:
        t, v = result["timing_ms"][w], result["velocity"][w]
        out[w] = {
            "timing_ms_mean": round(float(t.mean()), 2),
            "timing_ms_median": round(float(np.median(t)), 2),
            "timing_ms_p90": round(float(np.quantile(t, 0.9)), 2),
            "velocity_mean": round(float(v.mean()), 2),
            "velocity_median": round(float(np.median(v)), 2),
            "velocity_p90": round(float(np.quantile(v, 0.9)), 2),
        }
    return out
