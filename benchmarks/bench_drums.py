"""Grooves measured: does a drum model play the style asked for, and fill where asked? Judged by classifiers fitted
on the Groove MIDI Dataset's train split and held to their accuracy on real held-out drumming (the ceiling, in the
same run). The protocol is :func:`tunesmith.jobs.drums.measure`'s.

    python benchmarks/bench_drums.py --data DATASET [--run drums] [--split test] [--per-style 16] [--json]

``--split validation`` is for choices (the model's settings, its checkpoint); the test split is read once, to
report. The drum features' set comparison (hits per bar per class, share on the grid, groove consistency,
velocity and timing spread) against the held-out split is ``tunesmith evaluate RUN --data DATASET``'s.
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import datetime

from tunesmith.jobs.drums import follows_energy, measure
from tunesmith.progress import quiet


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="a prepared Groove MIDI Dataset (prepare --download groove)")
    ap.add_argument("--run", default="drums", help="a drum model's run folder or a shipped one's name")
    ap.add_argument("--split", choices=("validation", "test"), default="test")
    ap.add_argument("--per-style", type=int, default=16, help="grooves per style")
    ap.add_argument("--bars", type=int, default=8, help="bars per groove")
    ap.add_argument("--every", type=int, default=4, help="a fill in the last bar of every N bars")
    ap.add_argument("--fill-guidance", type=float, default=None, help="the fill flag's guidance (default: the model's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--songs", default=None,
        help="a prepared dataset of songs (pitched music) to measure how drums follow their energy on (its --split)",
    )  # fmt: skip
    ap.add_argument("--json", action="store_true", help="print every figure as JSON")
    args = ap.parse_args()
    quiet(True)
    r = measure(
        args.run, args.data, args.split, per_style=args.per_style, bars=args.bars, every=args.every, seed=args.seed,
        fill_guidance=args.fill_guidance,
    )
    if args.songs:
        r["energy"] = follows_energy(args.run, args.songs, args.split, seed=args.seed)
    if args.json:
        print(json.dumps(r, indent=1))
        return
    print(f"# {datetime.now():%Y-%m-%d %H:%M}, {platform.machine()}, run {args.run}, split {args.split}")
    print(f"\nstyle, {args.per_style} grooves of {args.bars} bars per style (the classifier on real held-out beats' "
          f"first {args.bars} bars: the ceiling)\n")  # fmt: skip
    print("| style | held-out beats | real, recognised | generated, recognised |")
    print("| --- | ---: | ---: | ---: |")
    for s in r["styles"]:
        print(f"| {s} | {r['held_out_beats'][s]} | {r['style_real'][s]:.2f} | {r['style_generated'][s]:.2f} |")
    real, gen = r["style_real_mean"], r["style_generated_mean"]
    print(f"| mean over the styles | | {real:.3f} | {gen:.3f} ({gen / real:.2f} of real) |" if real else "")
    print(f"\nfills, a fill every {args.every} bars (one-bar classifier; on real held-out bars: the ceiling)\n")
    print("| bars | real, recognised | generated, recognised |")
    print("| --- | ---: | ---: |")
    for k in ("fill", "beat"):
        print(f"| {k}s | {r['fill_real'].get(k, 0):.2f} | {r['fill_generated'].get(k, 0):.2f} |")
    edge = r["break_edge"]
    print(f"\nfills as breaks: a bar whose hits differ from the bar before's by more than {edge:.3f} (Jaccard "
          "distance; 9 in 10 of the training beats' bars change less)\n")  # fmt: skip
    print("| | real | generated |")
    print("| --- | ---: | ---: |")
    print(f"| fill bars that break the groove | {r['break_real_fills']:.2f} | {r['break_generated_fills']:.2f} |")
    print(f"| other bars that break it | 0.10 (by the edge's choice, on training beats) | "
          f"{r['break_generated_beats']:.2f} |")  # fmt: skip

    if "energy" in r:
        e = r["energy"]
        print(f"\ndrums for songs: {e['songs']} songs of {args.songs} ({args.split}), first {e['bars']} bars each; "
              "Spearman correlation of each bar's energy with its drum hits\n")  # fmt: skip
        print("| | correlation |")
        print("| --- | ---: |")
        print(f"| 8 takes a bar, the nearest to the energy kept (tunesmith drums) | {e['spearman_chosen']:.2f} |")
        print(f"| one take a bar (the model alone) | {e['spearman_one_take']:.2f} |")


if __name__ == "__main__":
    main()
