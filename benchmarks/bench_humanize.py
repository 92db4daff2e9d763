"""Humanizing programmed drums, measured: each held-out performance of the Groove MIDI Dataset is programmed
(every onset on the 16th grid, every velocity one constant), played again four ways, and compared hit by hit with
what the drummer played.

    python benchmarks/bench_humanize.py --data DATASET [--run groove] [--split test] [--plots docs]

* **quantized**: the programmed part unchanged (timing error: how far the drummer was off the grid);
* **jitter**: each hit moved by an offset and given a velocity drawn at random from the training split's hits
  (the real spread, no knowledge of the groove);
* **mean per class and position**: each hit moved by the training split's mean offset of its drum class at its
  position in the bar (one of 16), and given that cell's mean velocity (a groove template learned from the data);
* **model**: the humanizer (``tunesmith humanize``), at ``--amount 1``.

The protocol is :func:`tunesmith.jobs.humanize.measure`'s.

The constant velocity is the training split's mean. Errors per hit: timing in milliseconds (through each piece's
tempo), velocity in MIDI steps (0-127). Prints the mean, median and 90th percentile of each, per way, and writes
the distributions (``humanize_errors.png``) and one bar before and after (``humanize_bar.png``) into ``--plots``.
``--split validation`` is for choices (the humanizer's settings were chosen there); the test split is read to
report.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from tunesmith.jobs.humanize import WAYS, measure, summary
from tunesmith.representations.drums import DRUM_CLASSES


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="a prepared Groove MIDI Dataset (prepare --download groove)")
    ap.add_argument("--run", default="groove", help="a humanizer run folder or a shipped one's name")
    ap.add_argument("--split", choices=("validation", "test"), default="test")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random jitter")
    ap.add_argument("--plots", type=Path, default=None, help="folder for the two figures (none: no figures)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = ap.parse_args()

    result = measure(args.run, args.data, args.split, seed=args.seed)
    table = summary(result)
    if args.json:
        print(json.dumps(table, indent=1))
    else:
        print(
            f"{args.data}: {result['pieces']} {args.split} performances, {result['hits']:,} hits; programmed "
            f"velocity {result['programmed_velocity']} (the train split's mean)\n"
        )
        print(f"{'':<30}{'timing error (ms)':>30}{'velocity error':>30}")
        print(f"{'':<30}{'mean':>10}{'median':>10}{'p90':>10}{'mean':>10}{'median':>10}{'p90':>10}")
        for w in WAYS:
            r = table[w]
            print(
                f"{w:<30}{r['timing_ms_mean']:>10.1f}{r['timing_ms_median']:>10.1f}{r['timing_ms_p90']:>10.1f}"
                f"{r['velocity_mean']:>10.1f}{r['velocity_median']:>10.1f}{r['velocity_p90']:>10.1f}"
            )
        best = {k: min(WAYS[:-1], key=lambda w: table[w][k]) for k in ("timing_ms_mean", "velocity_mean")}
        for k, w in best.items():
            verdict = "beats" if table["model"][k] < table[w][k] else "does NOT beat"
            print(
                f"{k}: the model {verdict} the best baseline ({w}): {table['model'][k]:.2f} against {table[w][k]:.2f}"
            )
    if args.plots is not None:
        plot(args.plots, result)


def plot(folder: Path, result: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for w in WAYS:
        t, v = result["timing_ms"][w], result["velocity"][w]
        axes[0].hist(t, bins=np.linspace(0, 80, 81), histtype="step", density=True, label=w)
        axes[1].hist(v, bins=np.arange(0, 81), histtype="step", density=True, label=w)
    axes[0].set(xlabel="timing error per hit (ms)", ylabel="share of hits")
    axes[1].set(xlabel="velocity error per hit (MIDI velocity)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "humanize_errors.png", dpi=110)
    plt.close(fig)

    names = [DRUM_CLASSES[p][0] for p in DRUM_CLASSES]
    first = result["first"]
    constant = first["constant"]
    bar = first["step"] < 16
    fig, ax = plt.subplots(figsize=(11, 3.4))
    rows = {
        "played (the drummer)": (first["offset"], first["velocity"], "k"),
        "programmed": (np.zeros(bar.size), np.full(bar.size, constant), "0.6"),
        "humanized": (*first["played"], "tab:red"),
    }
    for k, (label, (off, vel, colour)) in enumerate(rows.items()):
        x = first["step"][bar] + off[bar]
        ax.scatter(x, first["cls"][bar] + (k - 1) * 0.22, s=vel[bar] / 2, c=colour, label=label, alpha=0.85)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xticks(range(17))
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel("16th of the bar (the marker's size is the velocity)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(f"{first['piece'].metadata.get('style', '')}: the first bar, played, programmed and humanized")
    fig.tight_layout()
    fig.savefig(folder / "humanize_bar.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
