"""Give an older Transformer run the timing model that runs trained now keep.

    python benchmarks/refit_timing.py RUN --data DATASET

Runs trained now play a chord's notes around one shared offset, each chord shape spread the same way each time it
returns, and, where the run snaps chords, spread as a real chord of as many notes (``chord_shapes.npy``;
``families/transformer/perform.py``). Older runs kept one distribution of single notes' offsets (their notes are
moved one by one), or spread a snapped chord's notes one by one (no ``chord_shapes.npy``). This fits the current
model on 200 training pieces of the dataset the run was trained on (as training does) and writes it into the run
(``onset_offsets.npy``, and ``chord_shapes.npy`` where the run snaps chords), and into the card of a shipped model's
folder (the files' sha256 and the model's size). The weights are not touched.
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
    if not model:
        raise SystemExit(f"{args.data}: most onsets lie on the grid; the run keeps its notes on it")
    card = args.run / "card.json"
    meta = json.loads(card.read_text()) if card.is_file() else None
    for name, array in model.items():
        path = args.run / array_file(name)
        buf = io.BytesIO()
        np.save(buf, array)
        atomic_write_bytes(path, buf.getvalue())
        if meta is not None:
            meta["files"][path.name] = sha256_file(path)
        print(f"{path}: {name} of shape {array.shape}")
    stale = args.run / array_file("chord_shapes")
    if "chord_shapes" not in model and stale.is_file():  # a run that does not snap chords spreads them note by note
        stale.unlink()
        if meta is not None:
            meta["files"].pop(stale.name, None)
    if meta is not None:
        meta["size_bytes"] = sum((args.run / f).stat().st_size for f in meta["files"])
        atomic_write_text(card, json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
