"""Tokenizing a prepared dataset with MidiTok, as the Transformer's token cache does, and what the grid changes.

    python benchmarks/bench_tokenize.py DATASET [--tokenization REMI] [--sample 200]

Prints (1) the time to build the token cache of the whole dataset (``--workers`` processes, default one; notes
per second, tokens per note), and (2) on ``--sample`` pieces evenly spread: what a round trip through the tokens
changes: notes lost (pitches outside 21-109, duplicates), onsets and durations moved by the grid (in quarter
notes and in milliseconds), velocities moved by the bins.
"""

from __future__ import annotations

import argparse
import shutil
import time

import numpy as np

from tunesmith.dataset import Dataset
from tunesmith.families.transformer.data import TokenCache
from tunesmith.representations.tokens import TokenizerSpec, from_tokens, to_tokens


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset")
    ap.add_argument("--tokenization", default="REMI", choices=("REMI", "TSD", "MIDILike"))
    ap.add_argument("--steps-per-quarter", type=int, default=8)
    ap.add_argument("--sample", type=int, default=200, help="pieces for the round-trip measurement")
    ap.add_argument("--workers", type=int, default=1, help="tokenizer processes (default 1: one core)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    ds = Dataset.load(args.dataset)
    tok = TokenizerSpec(args.tokenization, args.steps_per_quarter).build()
    folder = TokenCache.folder(ds, tok)
    if folder.exists():
        shutil.rmtree(folder)
    t0 = time.perf_counter()
    cache = TokenCache.build(ds, tok, progress=True, workers=args.workers)
    dt = time.perf_counter() - t0
    notes, tokens = cache.meta["notes"], cache.meta["tokens"]
    print(f"{args.tokenization}: {len(ds)} pieces, {notes:,} notes -> {tokens:,} tokens in {dt:.1f} s, "
          f"{args.workers} process(es)")
    print(f"  {notes / dt:,.0f} notes/s, {tokens / max(notes, 1):.2f} tokens per note, vocabulary {len(tok)}")

    pick = np.linspace(0, len(ds) - 1, min(args.sample, len(ds))).round().astype(int)
    lost = total = 0
    on_qn, dur_qn, on_ms, vel = [], [], [], []
    for i in pick:
        # matched by pitch, then onset: the grid keeps the order of one pitch's notes (not that of a chord's)
        piece = ds[int(i)]
        piece = piece[np.lexsort((piece.start_qn, piece.pitch))]
        back = from_tokens(to_tokens(piece, tok), tok)
        back = back[np.lexsort((back.start_qn, back.pitch))]
        total += len(piece)
        lost += len(piece) - len(back)
        if len(back) != len(piece):  # compare the notes that are still there, matched by pitch and order
            continue
        on_qn.append(np.abs(back.start_qn - piece.start_qn))
        dur_qn.append(np.abs((back.end_qn - back.start_qn) - (piece.end_qn - piece.start_qn)))
        on_ms.append(1000 * np.abs(back.start - piece.start))
        vel.append(np.abs(back.velocity.astype(int) - piece.velocity.astype(int)))
    cat = {
        k: np.concatenate(v) if v else np.zeros(1)
        for k, v in {"on_qn": on_qn, "dur_qn": dur_qn, "on_ms": on_ms, "vel": vel}.items()
    }
    print(f"round trip on {len(pick)} pieces ({total:,} notes):")
    print(f"  notes lost: {lost} ({100 * lost / max(total, 1):.2f}%)")
    print(
        f"  onset moved: mean {cat['on_qn'].mean():.4f} qn, max {cat['on_qn'].max():.4f} qn; "
        f"exact in {100 * (cat['on_qn'] < 1e-9).mean():.1f}% of notes"
    )
    print(
        f"  onset in seconds (binned tempo too): mean {cat['on_ms'].mean():.1f} ms, "
        f"median {np.median(cat['on_ms']):.1f} ms"
    )
    print(f"  duration moved: mean {cat['dur_qn'].mean():.4f} qn; exact in {100 * (cat['dur_qn'] < 1e-9).mean():.1f}%")
    print(f"  velocity moved: mean {cat['vel'].mean():.2f}, max {cat['vel'].max()}")


if __name__ == "__main__":
    main()
