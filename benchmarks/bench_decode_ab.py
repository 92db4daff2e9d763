"""Generation speed of the Transformer's pass in two source trees, side by side: the decode step at batch 1 and 64
(and the prompt's pass), the same weights and tokens, alternating processes of the two trees round by round, so
that a change of the model's code (one forward for training and generation) is timed against the code before it.

    python benchmarks/bench_decode_ab.py --old OLD/src [--rounds 6] [--bf16]

Prints tokens per second of each tree per batch size (median over rounds, min-max) and new / old.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time, torch
torch.set_num_threads(1)
from tunesmith.families.transformer.model import MusicTransformer, TransformerConfig
from tunesmith.families.transformer.config import PRESETS
cfg = TransformerConfig.from_dict({**PRESETS["small"], "vocab_size": 600})
torch.manual_seed(0)
model = MusicTransformer(cfg).eval().for_generation(bool(int(sys.argv[1])))
out = {}
with torch.no_grad():
    for batch in (1, 64):
        prompt = torch.randint(0, 600, (batch, 64))
        cache = model.new_cache(batch, 64 + 65)
        t = time.perf_counter(); logits = model.prefill(prompt, cache); prefill = time.perf_counter() - t
        tok = logits.argmax(-1)
        t = time.perf_counter()
        for _ in range(64):
            tok = model.decode(tok, cache).argmax(-1)
        out[str(batch)] = {"decode": 64 * batch / (time.perf_counter() - t), "prefill": 64 * batch / prefill}
print(json.dumps(out))
"""


def one(src: Path, bf16: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(int(bf16))], env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", type=Path, required=True, help="the other source tree's src/ folder")
    ap.add_argument("--new", type=Path, default=ROOT / "src", help="this tree's src/ (default)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--bf16", action="store_true", help="bf16 weights, as generate uses where the CPU has them")
    args = ap.parse_args()
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    for _ in range(args.rounds):
        for name, src in (("old", args.old), ("new", args.new)):
            runs[name].append(one(src.resolve(), args.bf16))
    for batch in ("1", "64"):
        for part in ("decode", "prefill"):
            old = [r[batch][part] for r in runs["old"]]
            new = [r[batch][part] for r in runs["new"]]
            ratios = [n / o for n, o in zip(new, old, strict=True)]
            print(f"batch {batch:>2} {part:<8} old {statistics.median(old):9.0f} ({min(old):.0f}-{max(old):.0f})  new "
                  f"{statistics.median(new):9.0f} ({min(new):.0f}-{max(new):.0f}) tokens/s  new / old "
                  f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
