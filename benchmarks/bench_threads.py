"""Benchmark: torch's CPU threads on an idle and on a busy machine, for the work tunesmith's commands do.

Run from the project root::

    .venv/bin/python benchmarks/bench_threads.py [--rounds 2] [--json out.json]

Each measurement runs in a fresh process (the OpenMP wait policy is read when torch loads), with the machine idle
and then with every core kept busy by another process (a spinning Python loop per core, as a build or a browser
tab would). Workloads, each timed after one warm-up:

* ``gen1``: the shipped ``bach`` model writes 1 piece of 64 new tokens (batch 1, the KV cache);
* ``gen64``: the same model writes 64 pieces of 32 new tokens (batch 64);
* ``train``: five training steps (forward, backward, AdamW) of the Transformer's ``small`` preset on random
  tokens, batch 8 x 256, fp32;
* ``cmd``: ``tunesmith generate bach -n 2`` as a user types it (the whole command, start-up included).

Thread settings: 1 and one per core (torch's default) with libgomp's default wait policy (spinning) and with
``OMP_WAIT_POLICY=PASSIVE`` (what tunesmith sets), and ``auto`` (tunesmith's choice, threads.choose_threads: one
thread to generate, one per core to train).
Printed: seconds per workload (median over rounds) and the busy/idle ratio of each setting.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, sys, time, tempfile
threads = sys.argv[1]
work = sys.argv[2]
import torch
from tunesmith.threads import use_threads
n = use_threads(None if threads == "auto" else int(threads), "train" if work == "train" else "generate")

def gen(batch, tokens):
    from tunesmith.jobs.generate import generate
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        generate("bach", d, n=batch, length=tokens, seed=0)
        return time.perf_counter() - t0

def train():
    from tunesmith.families.transformer.model import MusicTransformer, TransformerConfig, PRESETS
    torch.manual_seed(0)
    cfg = TransformerConfig.from_dict({**PRESETS["small"], "vocab_size": 400})
    model = MusicTransformer(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randint(0, 400, (8, 257))
    def step():
        loss = torch.nn.functional.cross_entropy(model(x[:, :-1]).flatten(0, 1), x[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    step()
    t0 = time.perf_counter()
    for _ in range(5):
        step()
    return time.perf_counter() - t0

if work == "gen1":
    gen(1, 16); seconds = gen(1, 64)
elif work == "gen64":
    gen(64, 8); seconds = gen(64, 32)
else:
    seconds = train()
print(json.dumps({"threads": n, "seconds": seconds}))
"""

SETTINGS = (  # name, threads, OMP_WAIT_POLICY
    ("1 thread, spinning", "1", "ACTIVE"),
    ("1 per core, spinning (torch's default)", "0", "ACTIVE"),
    ("1 thread, passive", "1", "PASSIVE"),
    ("1 per core, passive", "0", "PASSIVE"),
    ("auto, passive (tunesmith's default)", "auto", "PASSIVE"),
)
WORKLOADS = ("gen1", "gen64", "train", "cmd")


def busy(cores: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]


def measure(work: str, threads: str, policy: str, cores: int, timeout: float) -> tuple[float, int]:
    env = {**os.environ, "OMP_WAIT_POLICY": policy}
    env.pop("OMP_NUM_THREADS", None)
    t = str(cores) if threads == "0" else threads
    if work == "cmd":
        cmd = [str(Path(sys.executable).parent / "tunesmith"), "generate", "bach", "-n", "2", "--out", "/tmp/bt_cmd"]
        if threads != "auto":
            cmd += ["--threads", t]
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=timeout)
        return time.perf_counter() - t0, int(t) if threads != "auto" else -1
    out = subprocess.run(
        [sys.executable, "-c", CHILD, t, work], env=env, check=True, capture_output=True, text=True, timeout=timeout
    ).stdout
    got = json.loads(out.strip().splitlines()[-1])
    return float(got["seconds"]), int(got["threads"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2, help="measurements per cell (median reported)")
    ap.add_argument("--work", default=",".join(WORKLOADS), help="comma-separated workloads")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds before a measurement is given up")
    ap.add_argument("--json", default=None, help="also write every figure to this file")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    works = [w for w in args.work.split(",") if w]
    results: dict[str, dict[str, dict[str, float]]] = {}
    for condition in ("idle", "busy"):
        spinners = busy(cores) if condition == "busy" else []
        try:
            time.sleep(1.0 if spinners else 0.0)
            for work in works:
                for name, threads, policy in SETTINGS:
                    times, used = [], 0
                    for _ in range(args.rounds):
                        try:
                            s, used = measure(work, threads, policy, cores, args.timeout)
                        except subprocess.TimeoutExpired:
                            s = float("inf")
                        times.append(s)
                    cell = results.setdefault(work, {}).setdefault(name, {})
                    cell[condition] = statistics.median(times)
                    cell[f"{condition}_threads"] = used
                    print(f"{condition:<5} {work:<6} {name:<40} {cell[condition]:8.2f} s  (threads {used})", flush=True)
        finally:
            for p in spinners:
                p.kill()
    print(f"\n{cores} cores; busy = {cores} spinning processes; median of {args.rounds} rounds")
    print(f"{'work':<6} {'setting':<40} {'idle s':>8} {'busy s':>8} {'busy/idle':>9}")
    for work, cells in results.items():
        for name, cell in cells.items():
            print(f"{work:<6} {name:<40} {cell['idle']:8.2f} {cell['busy']:8.2f} {cell['busy'] / cell['idle']:9.2f}")
    if args.json:
        record = {"date": datetime.now().isoformat(timespec="seconds"), "cores": cores, "results": results}
        Path(args.json).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
