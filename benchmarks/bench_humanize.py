"""Humanizing programmed drums, measured: each held-out performance of the Groove MIDI Dataset is programmed
(every onset on the 16th grid, every velocity one constant), played again four ways, and compared hit by hit with
what the drummer played.

    python benchmarks/bench_humanize.py --data DATASET [--run groove] [--split test] [--plots docs]

* **quantized**: the programmed part unchanged (timing error: how far the drummer was off the grid);
* **jitter**: each hit moved by an offset and given a velocity drawn at random from the training split's hits
  (the real spread, no knowledge of the groove);
* **mean per class and position**: each hit moved by the training split's mean offset of its drum class at its
  position in the bar (one of 16), and given that cell's mean velocity (a groove template learned from the data);
* **humanizer**: the model (``tunesmith humanize``), at ``--amount 1``.

The constant velocity is the training split's mean. Errors per hit: timing in milliseconds (through each piece's
tempo), velocity in MIDI steps (0-127). Prints the mean, median and 90th percentile of each, per way, and writes
the distributions (``humanize_errors.png``) and one bar before and after (``humanize_bar.png``) into ``--plots``.
``--split validation`` is for choices (the humanizer's settings were chosen there); the test split is read to
report.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from tunesmith.dataset import Dataset
from tunesmith.families.humanizer.family import predict
from tunesmith.jobs.runs import load_run
from tunesmith.representations.drums import DRUM_CLASSES, N_CLASSES, POSITIONS, STEPS_PER_QUARTER, drum_cells, drum_grid

WAYS = ("quantized", "jitter", "mean per class and position", "humanizer")


def hits(ds: Dataset, split: str) -> list[dict[str, np.ndarray]]:
    """Every piece's drum hits: grid step, class, position, offset (steps), velocity, ms per step, and the grid."""
    out = []
    for i in ds.indices(split):
        p = ds[int(i)]
        c = drum_cells(p)
        if c.index.size == 0:
            continue
        g = drum_grid(p, c)
        out.append(
            {
                "step": c.step,
                "cls": c.cls,
                "position": c.position,
                "offset": c.offset,
                "velocity": p.notes["velocity"][c.index].astype(np.float64),
                "ms": 60_000.0 / g.qpm[c.step].astype(np.float64) / STEPS_PER_QUARTER,
                "grid": g,
                "piece": p,
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="a prepared Groove MIDI Dataset (prepare --download groove)")
    ap.add_argument("--run", default="groove", help="a humanizer run folder or a shipped one's name")
    ap.add_argument("--split", choices=("validation", "test"), default="test")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random jitter")
    ap.add_argument("--plots", type=Path, default=None, help="folder for the two figures (none: no figures)")
    args = ap.parse_args()

    ds = Dataset.load(args.data)
    train, held = hits(ds, "train"), hits(ds, args.split)
    t_cls = np.concatenate([h["cls"] for h in train])
    t_pos = np.concatenate([h["position"] for h in train])
    t_off = np.concatenate([h["offset"] for h in train])
    t_vel = np.concatenate([h["velocity"] for h in train])
    constant = float(np.rint(t_vel.mean()))
    cell = t_cls * POSITIONS + t_pos
    count = np.bincount(cell, minlength=N_CLASSES * POSITIONS)
    mean_off = np.bincount(cell, t_off, N_CLASSES * POSITIONS) / np.maximum(count, 1)
    mean_vel = np.bincount(cell, t_vel, N_CLASSES * POSITIONS) / np.maximum(count, 1)
    cls_off = np.bincount(t_cls, t_off, N_CLASSES) / np.maximum(np.bincount(t_cls, minlength=N_CLASSES), 1)
    cls_vel = np.bincount(t_cls, t_vel, N_CLASSES) / np.maximum(np.bincount(t_cls, minlength=N_CLASSES), 1)
    mean_off = np.where(count > 0, mean_off, np.repeat(cls_off, POSITIONS))  # an unseen cell: its class's mean
    mean_vel = np.where(count > 0, mean_vel, np.repeat(cls_vel, POSITIONS))
    _, _, model = load_run(args.run, "cpu")
    rng = np.random.default_rng(args.seed)

    timing: dict[str, list[np.ndarray]] = {w: [] for w in WAYS}
    velocity: dict[str, list[np.ndarray]] = {w: [] for w in WAYS}
    played: dict[str, dict[str, np.ndarray]] = {}
    for k, h in enumerate(held):
        n = h["step"].size
        g = h["grid"]
        pv, po = predict(model, g.hits, g.position, g.qpm, torch.device("cpu"))
        draw = rng.integers(0, t_off.size, n)
        ways = {
            "quantized": (np.zeros(n), np.full(n, constant)),
            "jitter": (t_off[draw], t_vel[rng.integers(0, t_vel.size, n)]),
            "mean per class and position": (
                mean_off[h["cls"] * POSITIONS + h["position"]],
                mean_vel[h["cls"] * POSITIONS + h["position"]],
            ),
            "humanizer": (
                po[h["step"], h["cls"]].astype(np.float64),
                np.clip(np.rint(pv[h["step"], h["cls"]] * 127.0), 1, 127),
            ),
        }
        for w, (off, vel) in ways.items():
            timing[w].append(np.abs(off - h["offset"]) * h["ms"])
            velocity[w].append(np.abs(np.rint(vel) - h["velocity"]))
        if k == 0:
            played = {w: {"offset": off, "velocity": vel} for w, (off, vel) in ways.items()}

    print(
        f"{ds.root}: {len(held)} {args.split} performances, {sum(h['step'].size for h in held):,} hits; "
        f"programmed velocity {constant:.0f} (the train split's mean)\n"
    )
    print(f"{'':<30}{'timing error (ms)':>30}{'velocity error':>30}")
    print(f"{'':<30}{'mean':>10}{'median':>10}{'p90':>10}{'mean':>10}{'median':>10}{'p90':>10}")
    for w in WAYS:
        t, v = np.concatenate(timing[w]), np.concatenate(velocity[w])
        print(
            f"{w:<30}{t.mean():>10.1f}{np.median(t):>10.1f}{np.quantile(t, 0.9):>10.1f}"
            f"{v.mean():>10.1f}{np.median(v):>10.1f}{np.quantile(v, 0.9):>10.1f}"
        )
    if args.plots is not None:
        plot(args.plots, timing, velocity, held[0], played, constant)


def plot(folder: Path, timing, velocity, first, played, constant: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for w in WAYS:
        t, v = np.concatenate(timing[w]), np.concatenate(velocity[w])
        axes[0].hist(t, bins=np.linspace(0, 80, 81), histtype="step", density=True, label=w)
        axes[1].hist(v, bins=np.arange(0, 81), histtype="step", density=True, label=w)
    axes[0].set(xlabel="timing error per hit (ms)", ylabel="share of hits")
    axes[1].set(xlabel="velocity error per hit (MIDI velocity)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "humanize_errors.png", dpi=110)
    plt.close(fig)

    names = [DRUM_CLASSES[p][0] for p in DRUM_CLASSES]
    bar = first["step"] < 16
    fig, ax = plt.subplots(figsize=(11, 3.4))
    rows = {
        "played (the drummer)": (first["offset"], first["velocity"], "k"),
        "programmed": (np.zeros(bar.size), np.full(bar.size, constant), "0.6"),
        "humanized": (played["humanizer"]["offset"], played["humanizer"]["velocity"], "tab:red"),
    }
    for k, (label, (off, vel, colour)) in enumerate(rows.items()):
        x = first["step"][bar] + off[bar]
        ax.scatter(x, first["cls"][bar] + (k - 1) * 0.22, s=vel[bar] / 2, c=colour, label=label, alpha=0.85)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xticks(range(17))
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel("16th of the bar (the marker's size is the velocity)")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(f"{first['piece'].metadata.get('style', '')}: the first bar, played, programmed and humanized")
    fig.tight_layout()
    fig.savefig(folder / "humanize_bar.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
