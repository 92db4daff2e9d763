"""``tunesmith evaluate``: compare trained models against the test split: the paper's table and more."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..jobs.catalog import use_threads
from .common import Formatter, positive_int, sampling_arguments


def add(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate",
        help="compare trained models against the test split: the paper's table and more",
        formatter_class=Formatter,
        description="Generate -n pieces with each RUN (fixed seed), compare them with test-split excerpts of the\n"
        "same lengths, and write REPORT/report.md, report.json, distribution plots, piano rolls and sample\n"
        "MIDI/WAV files. The protocol (docs/evaluation.md): the paper's MSE/RMSE of set statistics, Yang & Lerch's\n"
        "overlapping area and KL per feature (training-split excerpts give the ceiling), musical statistics, and\n"
        "next-event prediction error for models that predict the next event.",
    )
    p.add_argument(
        "runs", nargs="+", metavar="RUN", help="run folders written by 'tunesmith train', or shipped models' names"
    )
    p.add_argument("--data", required=True, help="the prepared dataset the runs were trained on")
    p.add_argument("--out", required=True, help="report folder to write")
    p.add_argument("-n", type=positive_int, default=64, help="pieces per model")
    p.add_argument("--length", type=positive_int, default=100, help="events per piece (RNN, C-RNN-GAN, baseline)")
    p.add_argument("--bars", type=positive_int, default=8, help="bars per piece (piano-roll GAN)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generation and of the reference excerpts")
    sampling_arguments(p, "of every model that samples, alike: the RNN's pitches, the Transformer's tokens")
    p.add_argument(
        "--choose-temperature",
        type=float,
        nargs="+",
        default=None,
        metavar="T",
        help="choose each sampling model's temperature among these (e.g. 0.85 0.9 0.95 1): the one whose pieces "
        "reach the lowest MSE against validation-split excerpts; the report lists every one's",
    )
    p.add_argument(
        "--split",
        choices=("test", "validation"),
        default="test",
        help="the held-out split to compare with: validation to choose settings (temperature, checkpoint) without "
        "looking at the test split, test for the figures you report",
    )
    p.add_argument("--device", default="cpu", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--no-audio", action="store_true", help="skip rendering the sample WAVs")
    p.add_argument(
        "--controls",
        action="store_true",
        help="also measure how often runs trained with attribute controls obey each one (against chance)",
    )
    p.add_argument(
        "--guidance",
        type=float,
        default=None,
        help="with --controls: classifier-free guidance of them (1: none; default: generate's, 3)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    use_threads(None)
    from ..jobs.report import EvalOptions, evaluate

    opts = EvalOptions(
        n=args.n,
        seed=args.seed,
        length=args.length,
        bars=args.bars,
        device=args.device,
        controls=args.controls,
        guidance=args.guidance,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        split=args.split,
        choose_temperature=tuple(args.choose_temperature or ()),
    )
    report = evaluate(args.runs, args.data, args.out, opts, progress=not args.quiet, audio=not args.no_audio)
    for m in report["models"]:
        t = f"  (temperature {m['temperature_choice']['chosen']:g})" if m.get("temperature_choice") else ""
        print(f"{m['name']:<20} MSE {m['mse']:.4f}  RMSE {m['rmse']:.4f}  overlap {m['overlap']:.3f}{t}")
        for kind, r in (m.get("controls") or {}).get("kinds", {}).items():
            if r["obeyed"] is not None:
                print(f"{'':<20} {kind:<10} obeyed {r['obeyed']:.0%} (chance {r['chance']:.0%})")
    print(f"{'real (train split)':<20} MSE {report['real']['mse']:.4f}  RMSE {report['real']['rmse']:.4f}  ", end="")
    print(f"overlap {report['real']['overlap']:.3f}")
    print(Path(args.out) / "report.md")
    return 0
