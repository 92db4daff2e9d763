"""Does the suffix help? The Transformer's loss on 4 cut-out bars of test pieces, with and without what follows.

    python benchmarks/bench_infill.py RUN --data DATASET [--pieces 64] [--bars 4] [--seed 0]

For each test piece (up to ``--pieces``, evenly spread, with at least ``bars + 2`` bars), a span of ``--bars``
whole bars is drawn; the model scores the span's true tokens two ways, each within the model's context:

* infilling: ``FIM_PRE prefix FIM_SUF suffix FIM_MID(k) middle`` (the middle's first half-context of tokens;
  the prefix and suffix share the rest of the context);
* continuation: ``prefix middle`` (the same prefix, no suffix: what a model without infilling can do).

Prints the mean loss per token of the middle (nats) and bits per note, both ways, and how many pieces had a lower
loss with the suffix. Same pieces, same spans, same prefixes.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F

from tunesmith.dataset import Dataset
from tunesmith.families.transformer.data import TokenCache
from tunesmith.jobs.runs import load_run
from tunesmith.representations.tokens import load_tokenizer, note_counts


def middle_loss(model, prompt: list[int], middle: list[int]) -> float:
    """Summed negative log-likelihood (nats) of ``middle`` after ``prompt``."""
    seq = torch.as_tensor(prompt + middle, dtype=torch.long)[None]
    with torch.no_grad():
        logits = model(seq[:, :-1]).float()
    targets = seq[:, 1:].clone()
    targets[:, : len(prompt) - 1] = -100
    return float(F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100, reduction="sum"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--data", required=True)
    ap.add_argument("--pieces", type=int, default=64)
    ap.add_argument("--bars", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    run, fam, model = load_run(args.run, torch.device("cpu"))
    model.eval()
    tok = load_tokenizer(run.path / "tokenizer.json")
    cache = TokenCache.build(Dataset.load(args.data), tok, progress=False)
    ds = Dataset.load(args.data)
    notes = note_counts(tok)
    ctx = model.cfg.context
    base = model.cfg.bpe_vocab or len(tok)
    pre, suf, mid = base, base + 1, base + 1 + min(args.bars, model.cfg.fim_max_bars)
    # a run with attribute controls reads every sequence after its CONTROLS token (here: no control given)
    head = [base + 2 + model.cfg.fim_max_bars] if getattr(model.cfg, "controls", False) else []
    rng = np.random.default_rng(args.seed)
    test = [int(i) for i in ds.indices("test") if len(cache.piece_bars(int(i))) >= args.bars + 2]
    pick = [test[i] for i in np.linspace(0, len(test) - 1, min(args.pieces, len(test))).round().astype(int)]
    fill = cont = 0.0
    tokens = n_notes = better = 0
    for piece in pick:
        ids, bars = cache.piece(piece).astype(np.int64), cache.piece_bars(piece)
        a = int(rng.integers(1, len(bars) - args.bars))
        start, stop = int(bars[a]), int(bars[a + args.bars])
        middle = ids[start:stop].tolist()[: ctx // 2]
        room = (ctx - 3 - len(head) - len(middle)) // 2  # the prompt and the middle within the context
        prefix = ids[max(start - room, 0) : start].tolist()
        suffix = ids[stop : stop + room].tolist()
        order = getattr(model.cfg, "fim_order", "PSM")
        fim = [pre, *prefix, suf, *suffix, mid] if order == "PSM" else [suf, *suffix, pre, *prefix, mid]
        with_suffix = middle_loss(model, [*head, *fim], middle)
        alone = [*head, *prefix]
        without = middle_loss(model, alone if alone else middle[:1], middle if alone else middle[1:])
        fill += with_suffix
        cont += without
        tokens += len(middle)
        n_notes += int(notes[middle].sum())
        better += with_suffix < without
    print(f"{len(pick)} test pieces, {args.bars} bars cut out of each ({tokens} tokens, {n_notes} notes)")
    for name, nats in (("infilling (prefix and suffix)", fill), ("continuation (prefix only)", cont)):
        bits = nats / max(n_notes, 1) / math.log(2)
        print(f"  {name:<30} {nats / tokens:.4f} nats per token, {bits:.3f} bits per note")
    print(f"  lower with the suffix in {better} of {len(pick)} pieces")


if __name__ == "__main__":
    main()
