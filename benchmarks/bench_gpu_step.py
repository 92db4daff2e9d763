"""Training step of a Transformer preset in fp32 and bf16 autocast, eager and through ``torch.compile``, side by side.

    python benchmarks/bench_gpu_step.py                       # the `base` preset on the GPU (batch 32, context 2048)
    python benchmarks/bench_gpu_step.py --device cpu --preset tiny --batch 4 --steps 3   # a check on the CPU

What ``--set precision=...`` and ``--set compile=true`` buy a run (docs/transformer.md, "On a GPU"). The step is
``bench_transformer.py``'s (forward through the model's ``loss``, compiled as the task compiles it, backward and an
AdamW step), on random tokens of the preset's vocabulary size (a REMI vocabulary with the controls, about 700; the
speed does not depend on which tokens). Each of the four ways runs ``--warmup`` untimed steps (compiling, for the
compiled ones: the first step's time is printed), then ``--rounds`` rounds of ``--steps`` timed steps, the four
ways taking turns round by round so that a change in the machine's state falls on all alike. Prints tokens per
second (median over rounds, and the spread), the peak memory on a GPU and each way's ratio to fp32 eager.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from bench_transformer import Trainer, make_windows, summarize

from tunesmith.families.transformer.model import PRESETS, MusicTransformer, TransformerConfig

WAYS = {"fp32 eager": (False, False), "bf16 eager": (True, False), "fp32 compiled": (False, True),
        "bf16 compiled": (True, True)}  # fmt: skip


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
    batches = [b.to(device) for b in make_windows(None, args.vocab, args.batch, cfg.context, 1)]
    tokens = args.batch * cfg.context * args.steps

    trainers = {}
    for name, (bf16, compiled) in WAYS.items():
        torch.manual_seed(0)
        model = MusicTransformer(cfg).to(device)
        loss = torch.compile(model.loss) if compiled else model.loss
        trainers[name] = Trainer(model, lambda m, x, y, loss=loss: loss(x, y), batches, bf16)
    params = sum(p.numel() for p in next(iter(trainers.values())).model.parameters())
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"{args.preset}: {params / 1e6:.1f}M parameters, batch {args.batch} x context {cfg.context}, "
          f"{device} ({name}), torch {torch.__version__}")  # fmt: skip

    first, memory = {}, {}
    for way, tr in trainers.items():
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        first[way] = tr.steps(1)
        if args.warmup > 1:
            tr.steps(args.warmup - 1)
        if device.type == "cuda":
            memory[way] = torch.cuda.max_memory_allocated(device) / 2**30
    rates: dict[str, list[float]] = {way: [] for way in WAYS}
    for _ in range(args.rounds):
        for way, tr in trainers.items():
            rates[way].append(tokens / tr.steps(args.steps))

    base = summarize(rates["fp32 eager"])["median"]
    out = {}
    for way in WAYS:
        r = summarize(rates[way])
        out[way] = r | {"ratio_to_fp32_eager": r["median"] / base, "first_step_s": first[way]}
        out[way]["peak_gib"] = memory.get(way)
        mem = f"  peak {memory[way]:.1f} GiB" if way in memory else ""
        print(f"{way:<14} {r['median']:>10,.0f} tokens/s ({r['min']:,.0f}-{r['max']:,.0f})  "
              f"x{r['median'] / base:.2f}  first step {first[way]:.1f} s{mem}")  # fmt: skip
    if args.json:
        meta = {"preset": args.preset, "batch": args.batch, "context": cfg.context, "parameters": params}
        args.json.write_text(json.dumps({**meta, "device": str(device), "ways": out}, indent=1))


if __name__ == "__main__":
    main()
