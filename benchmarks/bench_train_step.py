"""Benchmark: the Transformer's training step as a run takes it, before and after the CPU changes, side by side.

Three ways to take the ``small`` preset's step (batch 16 x 256 tokens, forward, backward and fused AdamW, bf16
autocast where the CPU has it natively, as ``precision=auto`` trains), in interleaved rounds so that load on the
machine falls on all alike:

- ``sdpa``: attention through SDPA's CPU kernel, not compiled (the step before 2026-12-07);
- ``plain``: attention as plain products (``model.causal_attention``), not compiled;
- ``compiled``: plain products, the loss through ``torch.compile`` (``model.compile_loss``: what the presets train).

It prints ms per step (median and range of the rounds), tokens per second, steps per minute, the achieved FLOP/s
(the profile's count: 6 N + 12 L T d per token, attention's causal half not subtracted) as a fraction of this
machine's matrix-multiply peak measured in the same run, and each way's speed-up over ``sdpa``; with
``--check``, also each way's loss and gradient against ``sdpa``'s on the same batch in fp32.

    python benchmarks/bench_train_step.py [--preset small] [--rounds 7] [--steps 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_transformer import matmul_peak  # noqa: E402

from tunesmith.families.transformer import model as mod  # noqa: E402
from tunesmith.families.transformer.config import PRESETS  # noqa: E402
from tunesmith.training.trainer import native_bf16  # noqa: E402

VOCAB = 853  # the presets' vocabulary: REMI's 529, the sentinels, the controls and the chords


def build(args, way: str):
    torch.manual_seed(0)
    cfg = mod.TransformerConfig.from_dict({**PRESETS[args.preset], "vocab_size": VOCAB})
    model = mod.MusicTransformer(cfg).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1, betas=(0.9, 0.95), fused=True)
    loss = mod.compile_loss(model.loss) if way == "compiled" else model.loss
    return model, opt, loss


def step(way: str, model, opt, loss_fn, batch: torch.Tensor, bf16: bool) -> float:
    short = mod.SHORT
    mod.SHORT = 0 if way == "sdpa" else short  # SHORT 0: every input goes through SDPA
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(batch[:, :-1], batch[:, 1:])
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    finally:
        mod.SHORT = short
    return float(loss.detach())


def check(args) -> None:
    """fp32 loss and gradients of each way against sdpa's, one batch."""
    batch = torch.randint(0, VOCAB, (args.batch, PRESETS[args.preset]["context"] + 1))
    ref = None
    for way in ("sdpa", "plain", "compiled"):
        model, _, loss_fn = build(args, way)
        short = mod.SHORT
        mod.SHORT = 0 if way == "sdpa" else short
        loss = loss_fn(batch[:, :-1], batch[:, 1:])
        loss.backward()
        mod.SHORT = short
        grads = torch.cat([p.grad.flatten() for p in model.parameters()])
        if ref is None:
            ref = (float(loss), grads)
            continue
        rel = float((grads - ref[1]).norm() / ref[1].norm())
        print(f"  {way}: loss {float(loss):.6f} (sdpa {ref[0]:.6f}), gradient relative difference {rel:.1e}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="small")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=3, help="timed steps per way per round")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fp32", action="store_true", help="fp32 even where the CPU has bf16")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bf16 = native_bf16(torch.device("cpu")) and not args.fp32
    precision = "bf16" if bf16 else "fp32"
    cfg = mod.TransformerConfig.from_dict({**PRESETS[args.preset], "vocab_size": VOCAB})
    T, L, d = cfg.context, cfg.layers, cfg.width
    ways = ("sdpa", "plain", "compiled")
    runs = {w: build(args, w) for w in ways}
    n_params = sum(p.numel() for p in runs["sdpa"][0].parameters()) - VOCAB * d  # the tied embedding aside
    flops_token = 6 * n_params + 12 * L * T * d
    data = torch.randint(0, VOCAB, (64, args.batch, T + 1))
    k = 0
    for w in ways:  # warm up (and compile)
        t = time.perf_counter()
        for _ in range(2):
            step(w, *runs[w], data[k % 64], bf16)
            k += 1
        print(f"warm-up {w}: {time.perf_counter() - t:.1f} s", flush=True)
    times: dict[str, list[float]] = {w: [] for w in ways}
    for r in range(args.rounds):
        for w in ways:
            t = time.perf_counter()
            for _ in range(args.steps):
                step(w, *runs[w], data[k % 64], bf16)
                k += 1
            times[w].append((time.perf_counter() - t) / args.steps)
        print(f"round {r + 1}: " + ", ".join(f"{w} {times[w][-1] * 1e3:.0f} ms" for w in ways), flush=True)
    peak = matmul_peak(torch.bfloat16 if bf16 else torch.float32)
    tokens = args.batch * T
    print(f"\n{args.preset}, batch {args.batch} x {T}, {args.threads} threads, {precision}; matmul peak "
          f"{peak / 1e9:.0f} GFLOP/s; {flops_token / 1e6:.1f} MFLOP a token")  # fmt: skip
    print(f"{'way':<10}{'ms a step':>22}{'tokens/s':>10}{'steps/min':>10}{'GFLOP/s':>9}{'of peak':>9}{'vs sdpa':>22}")
    for w in ways:
        med = statistics.median(times[w])
        ratios = [a / b for a, b in zip(times["sdpa"], times[w], strict=True)]
        rate = tokens * flops_token / med
        spread = f"{min(times[w]) * 1e3:.0f}-{max(times[w]) * 1e3:.0f}"
        print(f"{w:<10}{med * 1e3:>10.0f} ({spread:>9}){tokens / med:>10,.0f}{60 / med:>10.0f}{rate / 1e9:>9.0f}"
              f"{rate / peak:>9.0%}{statistics.median(ratios):>10.2f}x "
              f"({min(ratios):.2f}-{max(ratios):.2f})")  # fmt: skip
    if args.check:
        print("\nfp32, one batch, against sdpa:")
        check(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
