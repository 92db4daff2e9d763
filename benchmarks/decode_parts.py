"""Where generation's time goes: the Transformer's one-token step (``MusicTransformer.decode``) split by operation.

    .venv/bin/python benchmarks/decode_parts.py [--batch 1 64] [--steps 256]

The model of ``bench_transformer.py`` (6 layers, width 256, 4 heads, one key-value head, vocabulary 521; random
weights: the time does not depend on their values), fp32 weights below 16 sequences and bf16 from 16 where the
CPU computes bf16 natively (what ``tunesmith generate`` does). A 64-token prompt fills the cache, then ``--steps``
tokens are drawn one at a time. The functions that ``decode`` calls are wrapped with a clock for the decode
steps only (the CPU runs each operation to completion, so the clocks are exact; each wrapper adds about a
microsecond, which shows at batch 1). The profiler's per-operator shares, by contrast, overstate small operators.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import torch
import torch.nn.functional as F

from tunesmith.families.transformer import model as tm
from tunesmith.families.transformer.sample import BF16_MIN_ROWS
from tunesmith.sampling import sample_logits
from tunesmith.training.trainer import native_bf16

PARTS = {  # what decode calls -> the part it is counted in
    (F, "linear"): "products with the weights",
    (torch.Tensor, "__matmul__"): "products over the cache",
    (F, "rms_norm"): "RMSNorm",
    (F, "gelu"): "GELU",
    (torch.Tensor, "copy_"): "cache writes",
    (torch.Tensor, "softmax"): "softmax",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 64])
    ap.add_argument("--steps", type=int, default=256)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = tm.TransformerConfig(context=512, layers=6, heads=4, kv_heads=1, width=256, vocab_size=521)
    model = tm.MusicTransformer(cfg).eval()
    spent: dict[str, float] = defaultdict(float)
    on = [False]

    def clocked(fn, part):
        def wrapper(*a, **k):
            if not on[0]:
                return fn(*a, **k)
            t = time.perf_counter()
            out = fn(*a, **k)
            spent[part] += time.perf_counter() - t
            return out

        return wrapper

    originals = {(owner, name): getattr(owner, name) for owner, name in PARTS}
    for (owner, name), part in PARTS.items():
        setattr(owner, name, clocked(originals[owner, name], part))
    bf16_ok = native_bf16(torch.device("cpu"))
    try:
        for batch in args.batch:
            bf16 = bf16_ok and batch >= BF16_MIN_ROWS
            m = model.for_generation(bf16).eval()
            prompt = torch.randint(0, 518, (batch, 64), generator=torch.Generator().manual_seed(1))
            gen = torch.Generator().manual_seed(0)

            def run(n: int, m=m, prompt=prompt, gen=gen, batch=batch) -> tuple[float, float]:
                cache = m.new_cache(batch, 64 + n)
                logits = m.prefill(prompt, cache)
                decode_s = sample_s = 0.0
                for i in range(n):
                    t = time.perf_counter()
                    tok = sample_logits(logits, generator=gen)
                    sample_s += time.perf_counter() - t
                    if i + 1 < n:
                        on[0] = True
                        t = time.perf_counter()
                        logits = m.decode(tok, cache)
                        decode_s += time.perf_counter() - t
                        on[0] = False
                return decode_s, sample_s

            with torch.inference_mode():
                run(16)
                spent.clear()
                decode_s, sample_s = run(args.steps)
            steps = args.steps - 1
            total = decode_s + sample_s
            print(f"batch {batch}, {'bf16' if bf16 else 'fp32'} weights: {total / steps * 1e3:.2f} ms a step "
                  f"({batch * steps / total:,.0f} tokens/s without the prompt)")
            rows = dict(spent)
            rows["sampling"] = sample_s
            rows["the rest (rotation, views, additions, embedding)"] = decode_s - sum(spent.values())
            for part, s in sorted(rows.items(), key=lambda kv: -kv[1]):
                print(f"  {part:50s} {s / steps * 1e6:7.0f} us a step  {s / total:6.1%}")
    finally:
        for (owner, name), fn in originals.items():
            setattr(owner, name, fn)


if __name__ == "__main__":
    main()
