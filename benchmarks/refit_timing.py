"""Give a Transformer run trained before 2026-12-03 the timing model that runs trained since keep.

    python benchmarks/refit_timing.py RUN --data DATASET

Runs trained since 2026-12-03 play a chord's notes around one shared offset, each chord shape spread the same
way each time it returns (``families/transformer/perform.py``); older runs kept one distribution of single notes'
offsets, and their notes are moved one by one. This fits the new model on 200 training pieces of the dataset the
run was trained on (as training does) and writes it into the run (``onset_offsets.npy``), and into the card of a
shipped model's folder (the file's sha256 and the model's size). The weights are not touched.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np

from tunesmith.dataset import Dataset
from tunesmith.families.transformer import timing_model
from tunesmith.families.transformer.task import TOKENIZER_FILE
from tunesmith.representations.tokens import load_tokenizer
from tunesmith.runfiles import CONFIG, array_file
from tunesmith.utils import atomic_write_bytes, atomic_write_text, sha256_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="a transformer run folder (or a shipped model's folder)")
    ap.add_argument("--data", required=True, help="the prepared dataset the run was trained on")
    args = ap.parse_args()
    config = json.loads((args.run / CONFIG).read_text())
    if config.get("kind") != "transformer":
        raise SystemExit(f"{args.run}: not a transformer run")
    ds = Dataset.load(args.data)
    model = timing_model(ds, ds.indices("train"), load_tokenizer(args.run / TOKENIZER_FILE))
    if model is None:
        raise SystemExit(f"{args.data}: most onsets lie on the grid; the run keeps its notes on it")
    path = args.run / array_file("onset_offsets")
    buf = io.BytesIO()
    np.save(buf, model)
    atomic_write_bytes(path, buf.getvalue())
    card = args.run / "card.json"
    if card.is_file():
        meta = json.loads(card.read_text())
        meta["files"][path.name] = sha256_file(path)
        meta["size_bytes"] = sum((args.run / f).stat().st_size for f in meta["files"])
        atomic_write_text(card, json.dumps(meta, indent=1) + "\n")
    print(f"{path}: timing model of shape {model.shape} (steps' offsets, chords' spreads)")


if __name__ == "__main__":
    main()
