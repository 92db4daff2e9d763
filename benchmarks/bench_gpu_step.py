"""Training step of a Transformer preset in fp32 and bf16 autocast, eager and through ``torch.compile``, side by side.

    python benchmarks/bench_gpu_step.py                       # the `base` preset on the GPU (batch 32, context 2048)
    python benchmarks/bench_gpu_step.py --device cpu --preset tiny --batch 4 --steps 3   # a check on the CPU

What ``--set precision=...`` and ``--set compile=true`` buy a run (docs/transformer.md, "On a GPU"). The step is the
trainer's: forward, the loss (the model's ``loss``, compiled as the task compiles it), backward, gradient clipping
and an AdamW step, on random tokens of the preset's vocabulary size (a REMI vocabulary with the controls, about 700;
the speed does not depend on which tokens). Each of the four ways runs ``--warmup`` untimed steps (compiling, for
the compiled ones: its time is printed), then ``--rounds`` rounds of ``--steps`` timed steps, the four ways taking
turns round by round so that a change in the machine's state falls on all alike. Prints tokens per second (median
over rounds, and the spread), the peak memory on a GPU and each way's ratio to fp32 eager.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from tunesmith.families.transformer.model import PRESETS, MusicTransformer, TransformerConfig

WAYS = (("fp32", False), ("bf16", False), ("fp32", True), ("bf16", True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="base", choices=sorted(PRESETS))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=32, help="sequences a step (the `base` preset trains 32)")
    ap.add_argument("--context", type=int, default=0, help="tokens a sequence (0: the preset's)")
    ap.add_argument("--vocab", type=int, default=700)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args()
    device = torch.device(args.device)
    preset = {**PRESETS[args.preset], "vocab_size": args.vocab}
    if args.context:
        preset["context"] = args.context
    cfg = TransformerConfig(**preset)
    torch.manual_seed(0)
    idx = torch.randint(0, args.vocab, (args.batch, cfg.context + 1), device=device)
    x, y = idx[:, :-1], idx[:, 1:]
    tokens = args.batch * cfg.context * args.steps

    runs = {}
    for precision, compiled in WAYS:
        torch.manual_seed(0)
        model = MusicTransformer(cfg).to(device).train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
        loss_fn = torch.compile(model.loss) if compiled else model.loss
        runs[(precision, compiled)] = (model, opt, loss_fn)
    params = sum(p.numel() for p in next(iter(runs.values()))[0].parameters())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"{args.preset}: {params / 1e6:.1f}M parameters, batch {args.batch} x context {cfg.context}, "
          f"{device} ({name}), torch {torch.__version__}")  # fmt: skip

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    def steps(way, n: int) -> float:
        model, opt, loss_fn = runs[way]
        sync()
        start = time.perf_counter()
        for _ in range(n):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=way[0] == "bf16"):
                loss = loss_fn(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        sync()
        return time.perf_counter() - start

    first, memory = {}, {}
    for way in WAYS:
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        first[way] = steps(way, 1)
        steps(way, max(args.warmup - 1, 0))
        if device.type == "cuda":
            memory[way] = torch.cuda.max_memory_allocated(device) / 2**30
    rates: dict[tuple[str, bool], list[float]] = {way: [] for way in WAYS}
    for _ in range(args.rounds):
        for way in WAYS:
            rates[way].append(tokens / steps(way, args.steps))

    base = statistics.median(rates[WAYS[0]])
    out = []
    for way in WAYS:
        r = rates[way]
        row = {
            "precision": way[0],
            "compile": way[1],
            "tokens_per_s": statistics.median(r),
            "spread": [min(r), max(r)],
            "ratio_to_fp32_eager": statistics.median(r) / base,
            "first_step_s": first[way],
            "peak_gib": memory.get(way),
        }
        out.append(row)
        mem = f"  peak {row['peak_gib']:.1f} GiB" if row["peak_gib"] is not None else ""
        print(f"{way[0]} {'compiled' if way[1] else 'eager':<8}  {row['tokens_per_s']:>10,.0f} tokens/s "
              f"({min(r):,.0f}-{max(r):,.0f})  x{row['ratio_to_fp32_eager']:.2f}  "
              f"first step {first[way]:.1f} s{mem}")  # fmt: skip
    if args.json:
        meta = {"preset": args.preset, "batch": args.batch, "context": cfg.context, "parameters": params}
        args.json.write_text(json.dumps({**meta, "device": str(device), "ways": out}, indent=1))


if __name__ == "__main__":
    main()
