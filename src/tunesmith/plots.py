"""Plots (matplotlib with the Agg backend: no screen needed)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .notes import Notes
from .utils import atomic_path

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def pitch_name(pitch: int) -> str:
    """MIDI number -> scientific pitch name (60 -> C4)."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def _pyplot():  # noqa: ANN202
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _figure(width: float = 10.0, height: float = 4.0):  # noqa: ANN202
    plt = _pyplot()
    return plt, *plt.subplots(figsize=(width, height), dpi=100)


def _save(fig, path: Path) -> Path:  # noqa: ANN001
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    return path


def plot_pianoroll(
    notes: Notes, path: str | os.PathLike[str], *, title: str | None = None, unit: str = "seconds"
) -> Path:
    """A piano roll: one bar per note, time in seconds or bars, pitch names on the axis, velocity as shade."""
    if unit not in ("seconds", "bars"):
        raise ValueError(f"unit must be seconds or bars, got {unit!r}")
    plt, fig, ax = _figure()
    a = notes.notes
    if unit == "seconds":
        start, end, xlabel = a["start"], a["end"], "time (s)"
    else:
        beats = notes.time_signatures["numerator"][0] * 4.0 / notes.time_signatures["denominator"][0]
        start, end, xlabel = a["start_qn"] / beats, a["end_qn"] / beats, "bar"
    if a.size:
        cmap = plt.get_cmap("Blues")
        colors = cmap(0.35 + 0.65 * a["velocity"] / 127.0)
        ax.barh(a["pitch"], np.maximum(end - start, 1e-3), left=start, height=0.8, color=colors, edgecolor="none")
        lo, hi = int(a["pitch"].min()), int(a["pitch"].max())
        ticks = [p for p in range(lo - lo % 12, hi + 1, 12) if p >= lo - 12] or [lo]
        ax.set_yticks(ticks, [pitch_name(p) for p in ticks])
        ax.set_ylim(lo - 1.5, hi + 1.5)
        ax.set_xlim(float(start.min()) if unit == "bars" else 0.0, float(end.max()) * 1.01 + 1e-6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("pitch")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title or Path(notes.source).name or "piano roll")
    out = _save(fig, Path(path))
    plt.close(fig)
    return out


def read_metrics(run: str | os.PathLike[str]) -> list[dict]:
    """The epoch records of a run's ``metrics.jsonl`` (one dict per epoch)."""
    import json

    from .training.checkpoint import METRICS, CheckpointError

    path = Path(run) / METRICS
    if not path.is_file():
        raise CheckpointError(f"{run}: no {METRICS}; is it a run folder written by 'tunesmith train'?")
    return [r for r in map(json.loads, path.read_text().splitlines()) if r.get("kind") == "epoch"]


def _label(run: Path) -> str:
    return run.name or str(run)


def plot_runs(
    runs: list[str | os.PathLike[str]], path: str | os.PathLike[str], *, stats: list[str] | None = None
) -> Path:
    """Training curves of one or more runs in one figure.

    Runs that log musical statistics of generated samples (``gen/<name>``, with the real data's value as
    ``real/<name>``) get one panel per statistic over epochs, each run a line and real data a dashed line: the
    layout of C-RNN-GAN's Figure 3. Otherwise the panels are the training and validation losses."""
    runs = [Path(r) for r in runs]
    records = {r: read_metrics(r) for r in runs}
    gen_keys = sorted({k[4:] for recs in records.values() for rec in recs for k in rec if k.startswith("gen/")})
    panels = stats or gen_keys or ["loss"]
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    plt = _pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), dpi=100, squeeze=False)
    for ax, name in zip(axes.ravel(), panels, strict=False):
        real = None
        statistic = name in gen_keys
        for run, recs in records.items():
            epochs = [rec["epoch"] for rec in recs]
            if statistic:
                ax.plot(epochs, [rec.get(f"gen/{name}", np.nan) for rec in recs], label=_label(run))
                real = (
                    real
                    if real is not None
                    else next((rec[f"real/{name}"] for rec in recs if f"real/{name}" in rec), None)
                )
            else:
                ax.plot(epochs, [rec.get(f"train/{name}", np.nan) for rec in recs], label=f"{_label(run)} train")
                ax.plot(
                    epochs, [rec.get(f"val/{name}", np.nan) for rec in recs], "--", label=f"{_label(run)} validation"
                )
        if real is not None:
            ax.axhline(real, color="black", linestyle="--", linewidth=1, label="real data")
        ax.set_title(name.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    axes.ravel()[0].legend(fontsize=8)
    fig.tight_layout()
    out = _save(fig, Path(path))
    plt.close(fig)
    return out
