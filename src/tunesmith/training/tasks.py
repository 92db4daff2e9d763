"""What each model family adds to the one training loop: how batches are drawn and become optimizer steps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from ..models.rnn import NoteRNN
from ..representations.note_events import Windows
from .trainer import TrainConfig, autocast_for, data_parallel, shard


class WindowBatches:
    """Batches of fixed-length windows gathered from one stacked event tensor (no per-window Python work).

    The whole split lives on the training device (16 bytes per note: MAESTRO's 7.1 million notes are about
    115 MB), so a batch is one gather on the device: no host-to-device copy, loader worker or pinned buffer is
    needed to keep a GPU busy. In a distributed run each rank gathers only its block of each global batch."""

    def __init__(self, windows: Windows, batch_size: int, device: torch.device) -> None:
        self.events = torch.as_tensor(windows.events, dtype=torch.float32, device=device)  # (N, F)
        self.starts = torch.as_tensor(windows.starts, dtype=torch.long, device=device)  # (W,)
        self.offsets = torch.arange(windows.length + 1, device=device)  # (T+1,)
        self.batch_size = batch_size

    def __len__(self) -> int:
        return int(self.starts.numel()) // self.batch_size  # the last partial batch is dropped

    def gather(self, starts: torch.Tensor) -> torch.Tensor:
        return self.events[starts[:, None] + self.offsets]  # (B, T+1, F)

    def epoch(self, rng: np.random.Generator, start: int = 0) -> Iterator[torch.Tensor]:
        """Batches ``start``, ``start + 1``, ... of an epoch whose order ``rng`` draws; this rank's block of each."""
        perm = torch.as_tensor(rng.permutation(self.starts.numel()), device=self.starts.device)
        b, part = self.batch_size, shard(self.batch_size)
        for k in range(start, len(self)):
            yield self.gather(self.starts[perm[k * b : (k + 1) * b][part]])

    def fixed(self, max_batches: int | None) -> Iterator[torch.Tensor]:
        """Batches in a fixed order, evenly spread over all windows when capped (for validation)."""
        n = self.starts.numel()
        want = n if max_batches is None else min(n, max_batches * self.batch_size)
        idx = torch.linspace(0, n - 1, want, device=self.starts.device).long() if want < n else torch.arange(n)
        for k in range(0, want, self.batch_size):
            yield self.gather(self.starts[idx[k : k + self.batch_size]])


class RNNTask:
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
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.opt.step()
        return {"loss": float(loss.detach()), **{k: float(v.detach()) for k, v in parts.items()}}

    def val_batches(self) -> Iterator[torch.Tensor]:
        return self.val_data.fixed(self.cfg.val_max_batches)

    def eval_step(self, batch: torch.Tensor) -> tuple[dict[str, float], int]:
        with self.autocast:
            loss, parts = self.model.eval_losses(batch)  # with the paper's last-note measure for targets="all"
        return {"loss": float(loss), **{k: float(v) for k, v in parts.items()}}, int(batch.shape[0])

    def end_of_epoch(self, epoch: int) -> dict[str, float]:
        return {}

    def extra_state(self) -> dict[str, Any]:
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        pass
