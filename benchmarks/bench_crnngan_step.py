"""Benchmark: one full C-RNN-GAN adversarial step with G unrolled, beside the same step with G replaced by a fused
``nn.LSTM`` of the same size, in one run.

Run from the project root when the machine is quiet (``uptime``: load below 0.5)::

    .venv/bin/python benchmarks/bench_crnngan_step.py [--threads N] [--reps 10] [--device cpu|cuda]

The step is the training code's own (``CRNNGANTask.adversarial_step``) at the paper's sizes: batch 20, 100 steps,
G and D LSTMs of depth 2 with 350 units (D bidirectional), feature matching and L2 on, freezing off so that
every step does all the work: G unrolled step by step (its input at each step is noise and its own previous
output), D forward on the real and the generated batch, D's backward for its loss and G's backward through D,
gradient clipping and both SGD steps.

The reference replaces G by a fused ``nn.LSTM`` of the same size (input: noise and a zero vector in place of
the previous output) and the same output layer: it cannot express the feedback, so it is the speed an unrolled
G would have if the feedback were free. A third variant, G as a straightforward ``nn.LSTMCell`` loop with the
feedback, shows where a plain implementation stands. The three alternate within every repetition; the medians
are reported, with the ratio reference / ours (1.0: the feedback costs nothing) and the achieved GFLOP/s.

FLOPs (multiply-adds x 2) are the algorithmic minimum of the step: G's forward (noise and feedback inputs,
recurrent products, output layer) and its backward at twice the forward; D's forward on 2 x 20 sequences, its
backward for its own loss at twice that, and G's gradient through D on the generated half at once D's forward
(activation gradients only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import datetime

import numpy as np
import torch
from torch import nn

from tunesmith.families.crnngan.model import CRNNGAN, PRESETS, CRNNGANConfig
from tunesmith.families.crnngan.task import CRNNGANTask
from tunesmith.representations.tones import ToneNormalizer
from tunesmith.training.trainer import TrainConfig


class FusedG(nn.Module):
    """The reference: G's sizes as one fused ``nn.LSTM`` call, the previous-output input held at zero."""

    def __init__(self, cfg: CRNNGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.lstm = nn.LSTM(cfg.z_dim + cfg.n_features, cfg.hidden, num_layers=cfg.layers, batch_first=True)
        self.out = nn.Linear(cfg.hidden, cfg.n_features)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        prev = z.new_zeros(*z.shape[:2], self.cfg.n_features)
        h, _ = self.lstm(torch.cat([z, prev], dim=-1))
        return self.out(h)


class CellLoopG(nn.Module):
    """G as a plain ``nn.LSTMCell`` loop with the feedback: the straightforward implementation."""

    def __init__(self, cfg: CRNNGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        sizes = [cfg.z_dim + cfg.n_features] + [cfg.hidden] * (cfg.layers - 1)
        self.cells = nn.ModuleList(nn.LSTMCell(n, cfg.hidden) for n in sizes)
        self.out = nn.Linear(cfg.hidden, cfg.n_features)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        B, T, _ = z.shape
        state = [(z.new_zeros(B, self.cfg.hidden), z.new_zeros(B, self.cfg.hidden)) for _ in self.cells]
        y = self.out(state[-1][0])
        ys = []
        for t in range(T):
            x = torch.cat([z[:, t], y], dim=-1)
            for k, cell in enumerate(self.cells):
                state[k] = cell(x, state[k])
                x = state[k][0]
            y = self.out(x)
            ys.append(y)
        return torch.stack(ys, dim=1)


def step_flops(cfg: CRNNGANConfig, batch: int, length: int) -> dict[str, float]:
    H, Z, F, L = cfg.hidden, cfg.z_dim, cfg.n_features, cfg.layers
    g_fwd = 2 * 4 * H * (Z + F + H) + (L - 1) * 2 * 4 * H * 2 * H + 2 * H * F  # per sequence and step
    dirs, DH = (2 if cfg.d_bidirectional else 1), cfg.d_hidden
    d_fwd = dirs * (2 * 4 * DH * (F + DH) + (cfg.d_layers - 1) * 2 * 4 * DH * (dirs * DH + DH)) + 2 * dirs * DH
    g = 3 * g_fwd * batch * length
    d = (2 * batch * d_fwd * length) * 3 + batch * d_fwd * length
    return {"g": float(g), "d": float(d), "total": float(g + d)}


def make_task(cfg: CRNNGANConfig, batch: int, device: torch.device) -> CRNNGANTask:
    rng = np.random.default_rng(0)
    piece = np.abs(rng.normal(200, 50, size=(4 * cfg.max_length, cfg.n_features)))
    tc = TrainConfig(batch_size=batch, lr=0.1, grad_clip=5.0, seed=0, val_max_batches=1)
    return CRNNGANTask(CRNNGAN(cfg), [piece], [piece], tc, device, ToneNormalizer.fit([piece], cfg.tones_per_step))


def use_generator(task: CRNNGANTask, g: nn.Module) -> None:
    task.model.g = g.to(task.device)
    task.g_params = list(g.parameters())
    task.opt_g = torch.optim.SGD(task.g_params, lr=task.cfg.lr)


def timed(task: CRNNGANTask, x: torch.Tensor) -> float:
    if x.device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    task.adversarial_step(x)
    if x.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def timed_g(g: nn.Module, z: torch.Tensor, w: torch.Tensor) -> float:
    if z.device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    (g(z) * w).sum().backward()
    if z.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch CPU threads (default: all cores)")
    ap.add_argument("--reps", type=int, default=10, help="timed repetitions of each variant")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--length", type=int, default=100)
    ap.add_argument("--hidden", type=int, default=350)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--no-cell-loop", action="store_true", help="skip the nn.LSTMCell variant")
    ap.add_argument("--out", default=None, help="write the results JSON here too")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if load > 0.5:
        print(f"warning: load average {load:.2f} > 0.5: the machine is busy, timings will be noisy")
    cfg = CRNNGANConfig(
        **{**PRESETS["paper"], "hidden": args.hidden, "d_hidden": args.hidden, "max_length": args.length},
        freeze_d=False,
        freeze_g=False,
    )
    torch.manual_seed(0)
    variants: dict[str, CRNNGANTask] = {"ours": make_task(cfg, args.batch, device)}
    variants["fused"] = make_task(cfg, args.batch, device)
    use_generator(variants["fused"], FusedG(cfg))
    if not args.no_cell_loop:
        variants["cell_loop"] = make_task(cfg, args.batch, device)
        use_generator(variants["cell_loop"], CellLoopG(cfg))
    x = torch.randn(args.batch, args.length, cfg.n_features, device=device)
    z = torch.rand(args.batch, args.length, cfg.z_dim, device=device)
    w = torch.randn(args.batch, args.length, cfg.n_features, device=device)
    times: dict[str, list[float]] = {k: [] for k in variants}
    g_times: dict[str, list[float]] = {k: [] for k in variants}
    for rep in range(args.warmup + args.reps):
        for name, task in variants.items():
            t = timed(task, x)
            tg = timed_g(task.model.g, z, w)
            if rep >= args.warmup:
                times[name].append(t)
                g_times[name].append(tg)
    med = {k: statistics.median(v) for k, v in times.items()}
    g_med = {k: statistics.median(v) for k, v in g_times.items()}
    fl = step_flops(cfg, args.batch, args.length)
    res = {
        "date": datetime.now().strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()} {platform.processor()}".strip(),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {args.threads} threads",
        "cpus": os.cpu_count(),
        "load_before": load,
        "torch": torch.__version__,
        "sizes": {"batch": args.batch, "length": args.length, "hidden": args.hidden},
        "step_s": med,
        "g_fwd_bwd_s": g_med,
        "gflop_per_step": fl["total"] / 1e9,
        "gflops": {k: fl["total"] / v / 1e9 for k, v in med.items()},
        "ratio_fused_over_ours": med["fused"] / med["ours"],
        "g_ratio_fused_over_ours": g_med["fused"] / g_med["ours"],
    }
    if "cell_loop" in med:
        res["ratio_fused_over_cell_loop"] = med["fused"] / med["cell_loop"]
    print(
        f"{res['device']}, torch {torch.__version__}, load before {load:.2f}; batch {args.batch}, "
        f"{args.length} steps, {args.hidden} units; {fl['total'] / 1e9:.1f} GFLOP per step "
        f"(G {fl['g'] / 1e9:.1f}, D {fl['d'] / 1e9:.1f})"
    )
    print(f"{'G variant':34}{'step ms':>10}{'GFLOP/s':>10}{'fused/this':>12}{'G fwd+bwd ms':>14}")
    labels = {"ours": "unrolled G (tunesmith)", "fused": "fused nn.LSTM (no feedback)", "cell_loop": "nn.LSTMCell loop"}
    for k in variants:
        print(
            f"{labels[k]:34}{med[k] * 1e3:>10.1f}{res['gflops'][k]:>10.1f}{med['fused'] / med[k]:>12.3f}"
            f"{g_med[k] * 1e3:>14.1f}"
        )
    print(
        f"ratio reference/ours (full step): {res['ratio_fused_over_ours']:.3f}; "
        f"G alone: {res['g_ratio_fused_over_ours']:.3f}"
    )
    print(json.dumps(res))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
