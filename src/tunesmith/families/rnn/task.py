"""The RNN note model on the one training loop: windows of note events in, one Adam step per batch."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ...representations.note_events import Windows
from ...training.distributed import data_parallel, shard
from ...training.stores import EventStore, evenly_spread
from ...training.trainer import Task, TrainConfig, autocast_for, optimizer_step
from .model import NoteRNN


class WindowBatches:
    """Batches of fixed-length windows of an :class:`~tunesmith.training.stores.EventStore` (one gather on the
    device per batch, no per-window Python work). In a distributed run each rank gathers only its block of each
    global batch."""

    def __init__(self, windows: Windows, batch_size: int, device: torch.device) -> None:
        self.store = EventStore(windows.events, [len(windows.events)], device)
        self.starts = torch.as_tensor(windows.starts, dtype=torch.long, device=device)  # (W,)
        self.length = windows.length + 1  # the window and its next note
        self.batch_size = batch_size

    def __len__(self) -> int:
        return int(self.starts.numel()) // self.batch_size  # the last partial batch is dropped

    def epoch(self, rng: np.random.Generator, start: int = 0) -> Iterator[torch.Tensor]:
        """Batches ``start``, ``start + 1``, ... of an epoch whose order ``rng`` draws; this rank's block of each."""
        perm = torch.as_tensor(rng.permutation(self.starts.numel()), device=self.starts.device)
        b, part = self.batch_size, shard(self.batch_size)
        for k in range(start, len(self)):
            yield self.store.gather(self.starts[perm[k * b : (k + 1) * b][part]], self.length)  # (B, T+1, F)

    def fixed(self, max_batches: int | None) -> Iterator[torch.Tensor]:
        """Batches in a fixed order, evenly spread over all windows when capped (for validation)."""
        n = self.starts.numel()
        idx = torch.as_tensor(
            evenly_spread(n, None if max_batches is None else max_batches * self.batch_size), device=self.starts.device
        )
        for k in range(0, len(idx), self.batch_size):
            yield self.store.gather(self.starts[idx[k : k + self.batch_size]], self.length)


class RNNTask(Task):
    """The RNN note model: one Adam optimizer, a weighted loss over the heads."""

    def __init__(self, model: NoteRNN, train: Windows, val: Windows, cfg: TrainConfig, device: torch.device) -> None:
        self.model = model.to(device)
        self.cfg = cfg
        self.train_data = WindowBatches(train, cfg.batch_size, device)
        self.val_data = WindowBatches(val, cfg.batch_size, device)
        # fused: one kernel for the whole update (about 0.5 ms of a 4 ms paper-size step on 2 CPU cores)
        fused = device.type in ("cpu", "cuda")
        self.opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)
        self.autocast = autocast_for(cfg, device)
        # distributed: gradients averaged by DDP (the model's buffers are constants: nothing to broadcast)
        self.parallel = data_parallel(self.model, broadcast_buffers=False)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adam": self.opt}

    def num_batches(self, epoch: int) -> int:
        return len(self.train_data)

    def batches(self, epoch: int, rng: np.random.Generator, start: int) -> Iterator[torch.Tensor]:
        return self.train_data.epoch(rng, start)

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        with self.autocast:
            loss, parts = self.parallel(self.model.window_loss, batch)
        optimizer_step(self.opt, loss, self.model.parameters(), self.cfg.grad_clip)
        return {"loss": float(loss.detach()), **{k: float(v.detach()) for k, v in parts.items()}}

    def val_batches(self) -> Iterator[torch.Tensor]:
        return self.val_data.fixed(self.cfg.val_max_batches)

    def eval_step(self, batch: torch.Tensor) -> tuple[dict[str, float], int]:
        with self.autocast:
            loss, parts = self.model.eval_losses(batch)  # with the paper's last-note measure for targets="all"
        return {"loss": float(loss), **{k: float(v) for k, v in parts.items()}}, int(batch.shape[0])
