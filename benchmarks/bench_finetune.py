"""Fine-tuning a shipped model against training from scratch, on a few pieces of a MIDI collection.

    python benchmarks/bench_finetune.py --midi ../shared/data/classical        # piano, 30 pieces, 5 vs 20 minutes
    python benchmarks/bench_finetune.py --init bach --midi DIR --finetune-minutes 2 --scratch-minutes 8
    python benchmarks/bench_finetune.py --init RUN --midi DIR --finetune-minutes 0.1 --scratch-minutes 0.2  # check

Draws ``--pieces`` readable pieces of the folder for training, ``--validation`` more to choose weights by and
``--test`` more held out (seeded, disjoint), prepares them with that split, then trains the same kind of model
twice on them: from ``--init`` (a shipped model's name or a run folder; ``tunesmith train --init``: its weights,
settings and tokenizer) for ``--finetune-minutes``, and from scratch (the preset ``--init`` was trained with) for
``--scratch-minutes``. Prints, side by side, each one's best validation loss and its held-out bits per note on the
test pieces (comparable across tokenizers), with ``--init`` itself, untrained on the pieces, as a third row.

The claim it tests (docs/models.md): fine-tuning ``piano`` on 30 pieces of the classical collection for 5 minutes
reaches a lower held-out loss than training from scratch for 20.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tunesmith.dataset import Dataset
from tunesmith.errors import TunesmithError
from tunesmith.io import SUPPORTED_EXTENSIONS, read
from tunesmith.jobs.prepare import prepare_dataset
from tunesmith.jobs.runs import load_run, open_run
from tunesmith.jobs.train import train
from tunesmith.training.trainer import choose_device

MAX_WINDOWS = 256  # test windows scored for bits per note


def pick_pieces(folder: Path, counts: dict[str, int], seed: int) -> dict[str, list[Path]]:
    """Disjoint readable pieces of ``folder`` per split (seeded): the first ``counts[split]`` of a shuffle that
    read with at least 64 notes."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(SUPPORTED_EXTENSIONS))
    order = np.random.default_rng(seed).permutation(len(files))
    picked: dict[str, list[Path]] = {split: [] for split in counts}
    splits = [s for s, n in counts.items() for _ in range(n)]
    for i in order:
        if len(splits) == sum(len(v) for v in picked.values()):
            break
        try:
            if len(read(files[i])) < 64:
                continue
        except TunesmithError:
            continue
        picked[splits[sum(len(v) for v in picked.values())]].append(files[i])
    short = {s: n - len(picked[s]) for s, n in counts.items() if len(picked[s]) < n}
    if short:
        sys.exit(f"{folder}: too few readable pieces (short of {short})")
    return picked


def split_folder(picked: dict[str, list[Path]], out: Path) -> Path:
    """The picked pieces linked into ``out`` with their split in a MAESTRO-style csv, the one form in which
    ``tunesmith prepare`` takes a split given from outside."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rows = []
    for split, paths in picked.items():
        for k, p in enumerate(paths):
            name = f"{split}_{k:03d}{p.suffix.lower()}"
            os.symlink(p.resolve(), out / name)
            rows.append({"canonical_composer": p.parent.name, "canonical_title": p.stem, "split": split,
                         "midi_filename": name})
    with open(out / "maestro-v0.0.0.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return out


def held_out(run: Path | str, ds: Dataset, device: str) -> dict[str, Any]:
    loaded, fam, model = load_run(run, choose_device(device))
    dev = next(model.parameters()).device
    return fam.likelihood(model, loaded, ds, "test", dev, MAX_WINDOWS) if fam.has_likelihood else {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--init", default="piano", help="a shipped model's name or a run folder (default: piano)")
    ap.add_argument("--midi", required=True, type=Path, help="a folder of MIDI files (e.g. the classical collection)")
    ap.add_argument("--pieces", type=int, default=30, help="training pieces")
    ap.add_argument("--validation", type=int, default=4, help="validation pieces (choose the kept weights)")
    ap.add_argument("--test", type=int, default=8, help="held-out test pieces (bits per note)")
    ap.add_argument("--finetune-minutes", type=float, default=5.0)
    ap.add_argument("--scratch-minutes", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=0, help="which pieces, and the training seed")
    ap.add_argument("--device", default=None, help="training device (default: the preset's, auto)")
    ap.add_argument("--work", type=Path, default=Path("out/bench_finetune"))
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()

    start = open_run(args.init)
    kind, preset = start.kind, str(start.config.get("preset", "default"))
    counts = {"train": args.pieces, "validation": args.validation, "test": args.test}
    picked = pick_pieces(args.midi, counts, args.seed)
    data = prepare_dataset(split_folder(picked, args.work / "pieces"), args.work / "data", progress=False).root
    ds = Dataset.load(data)
    print(f"{args.midi}: {ds.info()['pieces']} pieces prepared ({counts}); {kind}, preset {preset}", flush=True)
    common = {"seed": str(args.seed), **({"device": args.device} if args.device else {})}
    rows = [(f"{args.init} as shipped (no training here)", 0.0, 0, None, held_out(start.path, ds, "cpu"))]
    for label, minutes, init in (
        (f"fine-tuned from {args.init}", args.finetune_minutes, args.init),
        ("from scratch", args.scratch_minutes, None),
    ):
        run = args.work / ("finetuned" if init else "scratch")
        if run.exists():
            shutil.rmtree(run)
        print(f"{label}: {minutes:g} minutes", flush=True)
        overrides = {**common, "max_time": f"{minutes * 60:.1f}"}
        s = train(kind, data, run, preset=preset, init=init, overrides=overrides, progress=not args.quiet)
        rows.append((label, minutes, s["step"], s["best_val"], held_out(run, ds, "cpu")))
    print()
    print(f"{'':<44}{'minutes':>8}{'steps':>8}{'best val loss':>15}{'test bits/note':>16}")
    for label, minutes, steps, val, lik in rows:
        val_text = "–" if val is None else f"{val:.4f}"
        bits = lik.get("bits_per_note")
        bits_text = "–" if bits is None else f"{bits:.3f}"
        print(f"{label:<44}{minutes:>8g}{steps:>8}{val_text:>15}{bits_text:>16}")
    tuned, scratch = rows[1][4].get("bits_per_note"), rows[2][4].get("bits_per_note")
    if tuned is not None and scratch is not None:
        verdict = "lower" if tuned < scratch else "not lower"
        print(f"fine-tuning for {args.finetune_minutes:g} min: held-out bits per note {verdict} than from scratch "
              f"for {args.scratch_minutes:g} min ({tuned:.3f} vs {scratch:.3f})")


if __name__ == "__main__":
    main()
