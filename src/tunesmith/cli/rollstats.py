"""``tunesmith rollstats``: MuseGAN's piano-roll statistics of a GAN run's phrases against real ones."""

from __future__ import annotations

import argparse
from typing import Any

from ..jobs.catalog import use_threads
from .common import Formatter, positive_int


def add(sub: Any) -> None:
    p = sub.add_parser(
        "rollstats",
        help="MuseGAN's piano-roll statistics of a GAN run's phrases against real ones",
        formatter_class=Formatter,
        description="Generate -n phrases with a piano-roll GAN run and compare MuseGAN's four statistics (empty-beat\n"
        "rate, pitch classes per bar, qualified-note rate, polyphony rate; pooled over the phrases) with --real\n"
        "random training phrases of the run's grid. With several --threshold (and --hold) values, the decoding is\n"
        "chosen on validation phrases and judged against the training phrases (docs/gan.md, the quality target).",
    )
    p.add_argument("run", metavar="RUN", help="a run folder of 'tunesmith train gan' (or a shipped GAN's name)")
    p.add_argument("--data", required=True, help="the prepared dataset the run was trained on")
    p.add_argument("-n", type=positive_int, default=512, help="generated phrases (one noise vector each)")
    p.add_argument("--real", type=positive_int, default=2048, help="real phrases drawn from each split")
    p.add_argument("--threshold", type=float, nargs="+", default=None, help="one or more thresholds (default 0.5)")
    p.add_argument(
        "--hold", type=float, nargs="+", default=None, help="one or more hold thresholds (default: each threshold)"
    )
    p.add_argument("--sample", action="store_true", help="draw each cell with its probability instead")
    p.add_argument("--frames-only", action="store_true", help="decode notes from the frame channel alone")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise and of the real phrases drawn")
    p.add_argument("--json", default=None, help="also write every number to this JSON file")
    p.add_argument(
        "--save",
        action="store_true",
        help="keep the chosen threshold and hold in RUN/decoding.json: generate and evaluate then use them unless "
        "told otherwise",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    use_threads(None)
    from ..jobs.catalog import write_json
    from ..jobs.rollstats import MUSEGAN_STATISTICS, rollstats

    q = rollstats(
        args.run,
        args.data,
        n=args.n,
        real=args.real,
        thresholds=tuple(args.threshold or ()),
        holds=tuple(args.hold or ()),
        sample=args.sample,
        frames_only=args.frames_only,
        seed=args.seed,
        save=args.save,
    )
    keys = MUSEGAN_STATISTICS
    short = dict(zip(keys, ("EB", "UPC", "QN", "PR"), strict=True))
    grid = f"{q['steps_per_quarter']} steps per quarter note, {'with onsets' if q['onsets'] else 'frames only'}"
    print(f"{args.run}: {grid}; {q['n']} generated phrases against {q['real_phrases']} real ones (pooled)")
    band, target_qn = q["target_band"], q["target_qn"]
    print(f"{'':<26}{'cells on':>9}{'EB':>8}{'UPC':>8}{'QN':>8}{'PR':>8}   within {band:.0%} of real")

    def line(name: str, st: dict[str, float], tail: str = "") -> None:
        print(f"{name:<26}{st['cells_on']:>9.2%}" + "".join(f"{st[k]:>8.3f}" for k in keys) + tail)

    line("real (train)", q["real"])
    if q["validation"] is not None:
        line("real (validation)", q["validation"])
    for i, r in enumerate(q["rows"]):
        name = "sampled" if q["sample"] else f"threshold {r['threshold']:g}"
        if r["hold"] != r["threshold"]:
            name += f" hold {r['hold']:g}"
        name += " *" if i == q["chosen"] else ""
        line(name, r["stats"], "   " + (" ".join(short[k] for k in keys if r["within"][k]) or "none"))
    r = q["rows"][q["chosen"]]
    if len(q["rows"]) > 1:
        print(
            "* chosen on the validation phrases (of the rows meeting the target against them, else of all: the "
            "closest); judged against the training phrases"
        )
    misses = [f"{short[k]} {r['stats'][k]:.3f} vs {q['real'][k]:.3f}" for k in keys if not r["within"][k]]
    if not r["qn_target"]:
        misses.append(f"QN {r['stats']['qualified_note_rate']:.3f} < {target_qn}")
    verdict = "met" if r["met"] else "not met (" + "; ".join(misses) + ")"
    print(f"target (all four within {band:.0%} of real, QN >= {target_qn}): {verdict}")
    if args.json:
        write_json(args.json, q)
        print(args.json)
    if q["saved"]:
        print(f"{q['saved']}: generate and evaluate now decode this run with this threshold and hold")
    return 0
