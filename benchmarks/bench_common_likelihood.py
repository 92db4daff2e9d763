"""Likelihoods on one scale: models that encode music differently (the RNN's log-spaced time bins, the
Transformer's grid with chords snapped) scored on the same held-out notes.

Bits per note on each model's own reading of the test split are not comparable: the Transformer's tokenizer
rounds onsets and durations to its grid and snaps the notes of a played chord together before it scores them,
which alone lowers the bits a note costs. Here every test piece is first put through the Transformer's tokenizer
and back (``to_tokens`` then ``from_tokens``: the grid, the snapped chords, the binned velocities), and every
model is scored on those same notes. Printed beside each model's figure on its own reading.

    python benchmarks/bench_common_likelihood.py --data MAESTRO_DATASET [--models rnn,piano] [--grid piano]

``--grid`` names the run whose tokenizer defines the common notes (a Transformer run or shipped model).
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

import torch

from tunesmith.dataset import Dataset, prepare
from tunesmith.io import write_midi
from tunesmith.jobs.runs import load_run
from tunesmith.pretrained import resolve_run
from tunesmith.representations.tokens import from_tokens, load_tokenizer, to_tokens


def common_notes(ds: Dataset, split: str, grid_run: str, out: Path) -> Dataset:
    """The split's pieces through ``grid_run``'s tokenizer and back, prepared as a dataset whose every piece is in
    the test split."""
    tok = load_tokenizer(resolve_run(grid_run) / "tokenizer.json")
    folder = out / "midi"
    folder.mkdir(parents=True)
    for k, i in enumerate(ds.indices(split)):
        piece = ds[int(i)]
        back = from_tokens(to_tokens(piece, tok), tok)
        if len(back):
            write_midi(back, folder / f"{k:04d}.mid")
    data = prepare(folder, out / "data", workers=2, progress=False)
    table = data.root / "pieces.csv"  # every piece held out: the split column rewritten
    rows = list(csv.reader(table.open(encoding="utf-8")))
    for r in rows[1:]:
        r[1] = "test"
    with table.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return Dataset.load(data.root)


def bits(run_name: str, ds: Dataset, split: str, max_windows: int) -> float | None:
    run, fam, model = load_run(run_name)
    if not fam.has_likelihood:
        return None
    with torch.no_grad():
        r = fam.likelihood(model, run, ds, split, torch.device("cpu"), max_windows)
    return r.get("bits_per_note") if r else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="the prepared dataset (MAESTRO for the shipped models)")
    ap.add_argument("--models", default="rnn,piano", help="runs or shipped models with a likelihood, comma-separated")
    ap.add_argument("--grid", default="piano", help="the Transformer run whose tokenizer makes the common notes")
    ap.add_argument("--split", default="test")
    ap.add_argument("--max-windows", type=int, default=512)
    args = ap.parse_args()
    torch.set_num_threads(2)
    ds = Dataset.load(args.data)
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        common = common_notes(ds, args.split, args.grid, Path(tmp))
        print(f"{args.split} split: {len(ds.indices(args.split))} pieces; through {args.grid}'s tokenizer: "
              f"{len(common)} pieces, {int(common.manifest['notes']):,} notes")
        print(f"{'model':<14}{'own reading':>14}{'common notes':>14}  (bits per note, <= {args.max_windows} windows)")
        for name in names:
            own = bits(name, ds, args.split, args.max_windows)
            same = bits(name, common, "test", args.max_windows)
            fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
            print(f"{name:<14}{fmt(own):>14}{fmt(same):>14}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
