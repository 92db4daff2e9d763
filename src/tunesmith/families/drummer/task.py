"""The drummer on the one training loop: windows of 16th steps cut from drum parts, one AdamW step per batch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from ...representations.drums import N_CLASSES, DrumGrid
from ...training.distributed import data_parallel, shard
from ...training.stores import evenly_spread
from ...training.trainer import Task, TrainConfig, autocast_for, decay_groups, optimizer_step, warmed_up
from .model import START, Drummer

FIELDS = ("pattern", "prev", "valid", "position", "qpm", "fill", "velocity", "offset")


@dataclass
class Part:
    """One drum part as the drummer reads it: its grid, its style's index and whether it is a fill (one flag for
    the whole part, or one per step: a beat's bars, then a fill)."""

    grid: DrumGrid
    style: int
    fill: bool | np.ndarray

    def fill_steps(self) -> np.ndarray:
        steps = self.grid.hits.shape[0]
        return np.broadcast_to(np.asarray(self.fill, dtype=np.int64), (steps,)).copy()


@dataclass
class Windows:
    """Windows of ``length`` steps of drum parts, stacked ``(W, length, ...)``, every ``hop`` steps (default
    ``length // 2``); steps
    past a part's end are padded and not ``valid``. ``prev`` is the pattern of the step before (``START`` at a
    part's first step)."""

    pattern: np.ndarray
    prev: np.ndarray
    valid: np.ndarray
    position: np.ndarray
    qpm: np.ndarray
    fill: np.ndarray
    velocity: np.ndarray
    offset: np.ndarray
    style: np.ndarray  # (W,)

    @classmethod
    def build(cls, parts: list[Part], length: int, hop: int | None = None) -> Windows:
        rows: dict[str, list[np.ndarray]] = {k: [] for k in (*FIELDS, "style")}
        for p in parts:
            g = p.grid
            steps = g.hits.shape[0]
            if steps == 0:
                continue
            pattern = (g.hits.astype(np.int64) << np.arange(N_CLASSES)).sum(1)
            prev = np.concatenate([[START], pattern[:-1]])
            full = {
                "pattern": pattern, "prev": prev, "valid": np.ones(steps, bool), "position": g.position,
                "qpm": g.qpm, "fill": p.fill_steps(), "velocity": g.velocity, "offset": g.offset,
            }  # fmt: skip
            every = max(hop or length // 2, 1)
            for s in range(0, max(steps - (length - every), 1), every):
                for k, a in full.items():
                    w = a[s : s + length]
                    pad = np.full((length - len(w), *w.shape[1:]), w[-1] if k == "qpm" else 0, dtype=w.dtype)
                    rows[k].append(np.concatenate([w, pad]))
                rows["style"].append(np.asarray(p.style))
        if not rows["style"]:
            z = np.zeros((0, length), dtype=np.int64)
            played = np.zeros((0, length, N_CLASSES), np.float32)
            return cls(z, z, z.astype(bool), z, z.astype(np.float32), z, played, played, np.zeros(0, np.int64))
        s = {k: np.stack(v) for k, v in rows.items()}
        return cls(
            s["pattern"].astype(np.int64), s["prev"].astype(np.int64), s["valid"], s["position"].astype(np.int64),
            s["qpm"].astype(np.float32), s["fill"].astype(np.int64), s["velocity"].astype(np.float32),
            s["offset"].astype(np.float32), s["style"].astype(np.int64),
        )  # fmt: skip

    def __len__(self) -> int:
        return int(self.style.shape[0])

    def batch(self, idx: np.ndarray, device: torch.device, hide_style: np.ndarray | None = None) -> dict:
        out = {k: torch.as_tensor(getattr(self, k)[idx], device=device) for k in (*FIELDS, "style")}
        if hide_style is not None:
            out["style"] = torch.where(torch.as_tensor(hide_style, device=device), 0, out["style"])
        return out


class DrummerTask(Task):
    schedules_lr = True

    def __init__(
        self, model: Drummer, train: Windows, val: Windows, cfg: TrainConfig, device: torch.device, style_dropout: float
    ) -> None:
        self.model = model.to(device)
        self.cfg, self.device = cfg, device
        self.train, self.val = train, val
        self.style_dropout = style_dropout
        groups = decay_groups(model, cfg.weight_decay)
        self.opt = torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95))
        self.autocast = autocast_for(cfg, device)
        self.parallel = data_parallel(self.model)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adamw": self.opt}

    def num_batches(self, epoch: int) -> int:
        return max(1, len(self.train) // self.cfg.batch_size)

    def batches(self, epoch: int, rng: np.random.Generator, start: int) -> Iterator[dict]:
        perm = rng.permutation(len(self.train))
        hide = rng.random(len(self.train)) < self.style_dropout
        b = self.cfg.batch_size
        part = shard(b)
        for k in range(start, self.num_batches(epoch)):
            idx = np.resize(perm, (k + 1) * b)[k * b : (k + 1) * b][part]  # a split smaller than a batch repeats
            yield self.train.batch(idx, self.device, hide[idx])

    def lr_at(self, step: int) -> float:
        """Linear warm-up over the first ``warmup`` steps, then the rate, times the trainer's decay (lr_decay)."""
        return warmed_up(self.cfg, step, self.lr_scale)

    def train_step(self, batch: dict, step: int) -> dict[str, float]:
        for g in self.opt.param_groups:
            g["lr"] = self.lr_at(step)
        with self.autocast:
            loss, parts = self.parallel(self.model.loss, batch)
        optimizer_step(self.opt, loss, self.model.parameters(), self.cfg.grad_clip)
        return {"loss": float(loss.detach()), **{k: float(v.detach()) for k, v in parts.items()}}

    def val_batches(self) -> Iterator[dict]:
        cap = None if self.cfg.val_max_batches is None else self.cfg.val_max_batches * self.cfg.batch_size
        idx = evenly_spread(len(self.val), cap)
        for k in range(0, len(idx), self.cfg.batch_size):
            yield self.val.batch(np.asarray(idx[k : k + self.cfg.batch_size]), self.device)

    @torch.no_grad()
    def eval_step(self, batch: dict) -> tuple[dict[str, float], int]:
        with self.autocast:
            loss, parts = self.model.loss(batch)
        # weighted by steps: the cross-entropy is a mean over the valid steps
        return {"loss": float(loss), **{k: float(v) for k, v in parts.items()}}, int(batch["valid"].sum())
