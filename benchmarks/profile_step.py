"""Where a training step's time goes: the ``small`` Transformer's step (forward, backward, AdamW) profiled operator by
operator in fp32 and under bf16 autocast, grouped into parts (matrix products, attention, elementwise and norms, the
optimizer, the rest), each with its time (the operators' own CPU time, per step), its FLOPs (torch's profiler counts
those of matrix products; attention's, which it does not count, as 12 B H T^2 D per layer: QK^T and AV forward,
twice that backward, causal masking not subtracted; on a CPU the model attends through plain matrix products, which
the profiler counts) and its fraction of this machine's measured matrix-multiply peak in that precision.
``--compile``: the loss through ``torch.compile``, as the presets train (the fused loops inductor writes are a part
of their own).

    python benchmarks/profile_step.py [--steps 6] [--batch 16] [--threads 2] [--preset small] [--compile]

The model is the ``small`` preset (4 layers of width 256, one key-value head, context 256) with a 521-token
vocabulary, trained on random tokens (the time of a step does not depend on what the tokens are).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_transformer import matmul_peak  # noqa: E402

from tunesmith.families.transformer.config import PRESETS  # noqa: E402
from tunesmith.families.transformer.model import MusicTransformer, TransformerConfig  # noqa: E402

#: operator name fragments -> the part of the step they belong to (first match wins)
PARTS = (
    ("fused loops (compiled)", ("cpp_fused", "triton_", "compiledfunction")),
    ("attention", ("scaled_dot_product", "flash_attention", "_efficient_attention", "attention")),
    ("optimizer", ("adam", "_foreach", "optimizer")),
    ("matrix products", ("addmm", "mm", "bmm", "matmul", "linear", "_mkldnn")),
    ("embedding, loss", ("embedding", "cross_entropy", "nll_loss", "log_softmax", "_log_softmax")),
    ("norms", ("rms_norm", "_fused_rms", "norm")),
    ("elementwise", ("mul", "add", "sub", "div", "gelu", "tanh", "pow", "complex", "view_as", "copy", "to", "cat",
                     "stack", "clone", "fill", "zero", "where", "sum", "mean", "exp", "neg", "rsqrt", "sqrt")),
)


def part_of(name: str) -> str:
    low = name.lower()
    for part, keys in PARTS:
        if any(k in low for k in keys):
            return part
    return "the rest"


def profile_step(precision: str, args: argparse.Namespace) -> dict:
    torch.manual_seed(0)
    cfg = TransformerConfig.from_dict({**PRESETS[args.preset], "vocab_size": 521})
    model = MusicTransformer(cfg).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    loss_fn = torch.compile(model.loss) if args.compile else model.loss
    T = cfg.context
    data = torch.randint(0, 521, (args.steps + 2, args.batch, T + 1))

    def step(i: int) -> None:
        x, y = data[i, :, :-1], data[i, :, 1:]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = loss_fn(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for i in range(2):  # warm up (and compile)
        step(i)
    t0 = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        for i in range(2, args.steps + 2):
            step(i)
    wall = (time.perf_counter() - t0) / args.steps
    parts: dict[str, dict[str, float]] = defaultdict(lambda: {"seconds": 0.0, "flops": 0.0})
    ops = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    top = [(e.key, e.self_cpu_time_total / 1e6 / args.steps, part_of(e.key)) for e in ops[: args.top]]
    for e in ops:
        part = part_of(e.key)
        parts[part]["seconds"] += e.self_cpu_time_total / 1e6 / args.steps
        parts[part]["flops"] += (e.flops or 0) / args.steps
    # torch's profiler counts no FLOPs for fused attention: QK^T and AV forward (4 B H T^2 D), twice that backward
    H, D = cfg.heads, cfg.width // cfg.heads
    if parts["attention"]["flops"] == 0 and parts["attention"]["seconds"] > 0:  # SDPA's kernel (its FLOPs uncounted)
        parts["attention"]["flops"] = 12 * args.batch * H * T * T * D * cfg.layers
    return {"wall": wall, "parts": dict(parts), "tokens": args.batch * T, "top": top}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--preset", default="small")
    ap.add_argument("--top", type=int, default=12, help="operators listed by their own time")
    ap.add_argument("--compile", action="store_true", help="the loss through torch.compile, as the presets train")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    peak = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    how = ", compiled" if args.compile else ""
    print(f"{args.preset}, batch {args.batch}, {args.threads} threads{how}; matmul peak fp32 {peak['fp32'] / 1e9:.0f}, "
          f"bf16 {peak['bf16'] / 1e9:.0f} GFLOP/s")
    for precision in ("fp32", "bf16"):
        r = profile_step(precision, args)
        total = sum(p["seconds"] for p in r["parts"].values())
        flops = sum(p["flops"] for p in r["parts"].values())
        print(f"\n{precision}: {r['wall'] * 1e3:.0f} ms a step ({r['tokens'] / r['wall']:,.0f} tokens/s), "
              f"{flops / 1e9:.1f} GFLOP counted, {flops / r['wall'] / 1e9:.0f} GFLOP/s = "
              f"{flops / r['wall'] / peak[precision]:.0%} of the {precision} peak")
        print(f"  {'part':<18}{'ms':>8}{'share':>8}{'GFLOP':>8}{'GFLOP/s':>9}{'of peak':>9}")
        for part, p in sorted(r["parts"].items(), key=lambda kv: -kv[1]["seconds"]):
            rate = p["flops"] / p["seconds"] if p["seconds"] else 0.0
            of_peak = f"{rate / peak[precision]:.0%}" if p["flops"] else "-"
            print(f"  {part:<18}{p['seconds'] * 1e3:>8.1f}{p['seconds'] / total:>8.0%}{p['flops'] / 1e9:>8.2f}"
                  f"{rate / 1e9:>9.0f}{of_peak:>9}")
        print(f"  the {args.top} operators with the most time of their own:")
        for name, sec, part in r["top"]:
            print(f"    {name:<44}{sec * 1e3:>8.1f} ms  ({part})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
