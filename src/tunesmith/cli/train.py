"""``tunesmith train``: train a model on a prepared dataset."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..errors import TunesmithError
from ..jobs.catalog import FamilySpec, specs
from .common import Formatter, positive_int


def add(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train a model on a prepared dataset",
        formatter_class=Formatter,
        description="Train MODEL on a dataset written by 'tunesmith prepare'. The run folder gets config.json,\n"
        "model.safetensors (best weights on validation), trainer_state.pt (for --resume) and metrics.jsonl.\n"
        "Any model or training setting can be changed with --set key=value (e.g. --set hidden=256 --set lr=0.001).\n"
        "'tunesmith train MODEL --help' lists that model's presets and settings.",
    )
    models = p.add_subparsers(dest="model", metavar="MODEL", required=True)
    for fam in specs().values():
        _add_train_parser(models, fam)


def _parse_sets(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise TunesmithError(f"--set {item!r}: expected key=value, e.g. --set hidden=256")
        out[key.strip()] = value.strip()
    return out


def torchrun_command(args: argparse.Namespace) -> list[str]:
    """The same ``train`` command (without ``--nproc``) under torch's own launcher: ``--nproc`` processes on this
    machine, rendezvous on a free local port (``--standalone``)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(args.nproc)]
    cmd += ["-m", "tunesmith", "train", args.model, "--data", str(args.data), "--out", str(args.out)]
    if args.init:  # without --preset, the run started from gives its preset
        cmd += ["--init", str(args.init)] + (["--preset", args.preset] if args.preset else [])
    else:
        cmd += ["--preset", args.preset or "default"]
    for key in ("epochs", "max_steps", "max_time", "device", "seed"):
        value = getattr(args, key)
        if value is not None:
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    for item in args.set:
        cmd += ["--set", item]
    return cmd + (["--resume"] if args.resume else []) + (["-q"] if args.quiet else [])


def _add_train_parser(models: Any, fam: FamilySpec) -> None:
    """``tunesmith train NAME``: the training options, with the presets that this family has."""
    settings = ", ".join(fam.default_settings())
    p = models.add_parser(
        fam.name,
        help=fam.summary,
        formatter_class=Formatter,
        description=f"Train {fam.name}: {fam.summary}.\nIts model settings (--set KEY=VALUE): {settings}.",
    )
    p.add_argument("--data", required=True, help="a prepared dataset folder")
    p.add_argument("--out", required=True, help="run folder to write")
    p.add_argument(
        "--preset",
        choices=list(fam.presets),
        default=None,
        help="; ".join(f"{name}: {fam.preset_notes[name]}" for name in fam.presets if name in fam.preset_notes)
        + " (default: default; with --init, the preset that run was trained with)",
    )
    p.add_argument("--epochs", type=positive_int, default=None, help="epochs (default: the preset's)")
    p.add_argument("--max-steps", type=positive_int, default=None, help="stop after this many optimizer steps")
    p.add_argument("--max-time", type=float, default=None, help="stop after this many seconds, with a checkpoint")
    p.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:N or mps (default: auto)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: 0)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="change a model or training setting")
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly where it stopped")
    p.add_argument(
        "--init",
        default=None,
        metavar="RUN",
        help="start from the weights of a trained run or a shipped model's name ('tunesmith models'): its model "
        "settings and (transformer) tokenizer are kept; --preset gives the training settings (default: the "
        "preset it was trained with); config.json records where the run started",
    )
    p.add_argument(
        "--nproc",
        type=positive_int,
        default=None,
        help="train with N processes on this machine (DistributedDataParallel, launched through torchrun; "
        "batch_size stays the global batch; docs/scaling.md; default: 1)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.nproc is not None and args.nproc > 1:
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            raise TunesmithError("--nproc: this is already one of torchrun's processes; leave --nproc out")
        import shlex
        import subprocess

        cmd = torchrun_command(args)
        print(f"tunesmith train: {shlex.join(cmd)}", file=sys.stderr, flush=True)
        return subprocess.run(cmd, check=False).returncode

    from ..jobs.demo import best_weights
    from ..jobs.train import rank, shutdown_distributed, train

    overrides = _parse_sets(args.set)
    for key in ("epochs", "max_steps", "max_time", "device", "seed"):
        value = getattr(args, key)
        if value is not None:
            overrides[key] = str(value)
    summary = train(
        args.model,
        args.data,
        args.out,
        preset=args.preset,
        overrides=overrides,
        resume=args.resume,
        init=args.init,
        progress=not args.quiet,
    )
    main_process = rank() == 0
    # under torchrun: end the process group cleanly (on an error torchrun stops the other processes instead)
    shutdown_distributed()
    if main_process:
        started = f" (started from {args.init})" if args.init else ""
        print(
            f"{args.model}{started}: {summary['stopped']} after {summary['epochs']} epoch(s), {summary['step']} "
            f"steps, {summary['seconds']:.1f} s; {best_weights(summary)}; run in {args.out}"
        )
    return 0
