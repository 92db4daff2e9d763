"""The humanizer on the one training loop: 2-bar windows of drum grids, one Adam step per batch."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from ...representations.drums import DrumGrid
from ...training.distributed import data_parallel, shard
from ...training.stores import evenly_spread
from ...training.trainer import Task, TrainConfig, autocast_for, optimizer_step
from .model import Humanizer, features


@dataclass
class Windows:
    """Fixed-length windows of drum grids, stacked: hits, velocity and offset ``(W, T, 9)``, position and tempo
    ``(W, T)``. Steps past a piece's end are padded without hits."""

    hits: np.ndarray
    velocity: np.ndarray
    offset: np.ndarray
    position: np.ndarray
    qpm: np.ndarray

    @classmethod
    def build(cls, grids: list[DrumGrid], length: int) -> Windows:
        """Every window of ``length`` steps starting every ``length // 2`` steps that holds a hit."""
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("hits", "velocity", "offset", "position", "qpm")}
        for g in grids:
            steps = g.hits.shape[0]
            for s in range(0, max(steps - length // 2, 1), max(length // 2, 1)):
                if not g.hits[s : s + length].any():
                    continue
                for name in parts:
                    a = getattr(g, name)[s : s + length]
                    short = length - a.shape[0]  # past the end: silence, and the tempo goes on
                    pad = np.full((short, *a.shape[1:]), a[-1] if name == "qpm" else 0, dtype=a.dtype)
                    parts[name].append(np.concatenate([a, pad]))
        if not parts["hits"]:
            z = np.zeros((0, length, 9))
            return cls(
                z.astype(bool),
                z.astype(np.float32),
                z.astype(np.float32),
                z[..., 0].astype(np.int64),
                z[..., 0].astype(np.float32),
            )
        return cls(*(np.stack(parts[k]) for k in ("hits", "velocity", "offset", "position", "qpm")))

    def __len__(self) -> int:
        return int(self.hits.shape[0])

    def batch(self, idx: np.ndarray, device: torch.device) -> tuple[torch.Tensor, ...]:
        """Input features, hits, velocity and offset of windows ``idx``, on ``device``."""
        t = [torch.as_tensor(getattr(self, k)[idx], device=device) for k in ("hits", "position", "qpm")]
        x = features(*t)
        return (
            x,
            t[0],
            torch.as_tensor(self.velocity[idx], device=device),
            torch.as_tensor(self.offset[idx], device=device),
        )


class HumanizerTask(Task):
    def __init__(self, model: Humanizer, train: Windows, val: Windows, cfg: TrainConfig, device: torch.device) -> None:
        self.model = model.to(device)
        self.cfg = cfg
        self.train, self.val, self.device = train, val, device
        self.opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.autocast = autocast_for(cfg, device)
        self.parallel = data_parallel(self.model)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.opt}

    def num_batches(self, epoch: int) -> int:
        return len(self.train) // self.cfg.batch_size

    def batches(self, epoch: int, rng: np.random.Generator, start: int) -> Iterator[tuple[torch.Tensor, ...]]:
        perm = rng.permutation(len(self.train))
        b = self.cfg.batch_size
        part = shard(b)  # this process's share of each batch (all of it in one process)
        for k in range(start, self.num_batches(epoch)):
            yield self.train.batch(perm[k * b : (k + 1) * b][part], self.device)

    def train_step(self, batch: tuple[torch.Tensor, ...], step: int) -> dict[str, float]:
        with self.autocast:
            loss, parts = self.parallel(self.model.loss, *batch)
        optimizer_step(self.opt, loss, self.model.parameters(), self.cfg.grad_clip)
        return {"loss": float(loss.detach()), **{k: float(v.detach()) for k, v in parts.items()}}

    def val_batches(self) -> Iterator[tuple[torch.Tensor, ...]]:
        cap = None if self.cfg.val_max_batches is None else self.cfg.val_max_batches * self.cfg.batch_size
        idx = evenly_spread(len(self.val), cap)
        for k in range(0, len(idx), self.cfg.batch_size):
            yield self.val.batch(idx[k : k + self.cfg.batch_size], self.device)

    def eval_step(self, batch: tuple[torch.Tensor, ...]) -> tuple[dict[str, float], int]:
        with self.autocast:
            loss, parts = self.model.loss(*batch)
        # weighted by hits, not windows: the loss is a mean over hit cells
        return {"loss": float(loss), **{k: float(v) for k, v in parts.items()}}, int(batch[1].sum())
