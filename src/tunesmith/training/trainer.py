"""The one training loop of tunesmith, for every model.

A model family contributes a :class:`Task`: how many batches an epoch has, how batch ``k`` of epoch ``e`` is
drawn, and how a batch becomes losses and optimizer steps (one optimizer for the RNN; two, with freezing, for
GANs). Everything else lives here once: epochs, ``max_steps`` and ``max_time``, validation every epoch, early
stopping, checkpoints and exact resume, ``metrics.jsonl``, progress bars, seeds and device choice.

Exact resume: the order of batches in an epoch depends only on (seed, epoch), and the checkpoint holds the
latest weights, optimizer states, RNG states and the position in the epoch. On the CPU, N epochs straight and
``k`` epochs, stop, ``--resume``, ``N - k`` epochs give identical weights.

Data parallelism (``torchrun --nproc-per-node N -m tunesmith train ...``): when the environment says
``WORLD_SIZE > 1``, :func:`setup_distributed` starts torch's process group (NCCL on CUDA GPUs, gloo on CPUs) and
every model family's task trains through :func:`data_parallel`, which wraps a network in PyTorch's
``DistributedDataParallel``, so gradients are averaged by DDP's all-reduce. What it means here:

* ``batch_size`` is the global batch: each of the N processes (ranks) takes ``batch_size / N`` items of every
  batch, a contiguous block of the batch that one process would draw (:func:`shard`). The ranks' items are
  disjoint, their union is exactly the single-process batch, and with losses that are means over the batch the
  averaged gradient is the single-process gradient: N processes train as one does, within float rounding.
  The step count, the epochs and the learning rate therefore do not depend on N.
* Validation batches are spread over the ranks (batch ``i`` on rank ``i mod N``); the weighted sums are gathered,
  so every rank gets the same validation loss and takes the same early-stopping decision.
* Rank 0 alone writes ``metrics.jsonl``, ``model.safetensors``, ``trainer_state.pt``, samples, and shows the
  progress bar; the other ranks wait at a barrier after each save. Logged training losses are averaged over the
  ranks. ``max_time`` is decided on the largest elapsed time of any rank, so all ranks stop at the same step.
* Random streams: every rank builds the same model from the seed (and DDP broadcasts rank 0's weights anyway);
  the ranks then draw different noise (GAN inputs, dropout): rank r > 0 reseeds with ``seed + r * RANK_SEED``.
  The checkpoint keeps every rank's RNG state, so ``--resume`` with the same N continues exactly.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from ..config import ConfigBase
from ..errors import CheckpointError, ConfigError
from ..progress import progress_bar
from ..runfiles import METRICS, STATE, WEIGHTS
from ..utils import atomic_path
from .checkpoint import load_trainer_state, load_weights, save_trainer_state, save_weights, unwrap
from .distributed import RANK_SEED, barrier, collective_device, local_batch, mean_over_ranks, rank, world_size


@dataclass
class TrainConfig(ConfigBase):
    config_name = "train"

    epochs: int = 20
    max_steps: int | None = None
    max_time: float | None = None  # seconds of training (validation included) before stopping with a checkpoint
    batch_size: int = 64
    lr: float = 0.005
    #: the last fraction of the budget (max_steps, max_time or the epochs, whichever ends the run first) over which
    #: the learning rate falls linearly to zero ("warm-up, stable, decay"), for tasks that schedule their rate (the
    #: Transformer); 0: a constant rate after the warm-up
    lr_decay: float = 0.0
    #: steps over which the learning rate rises linearly from lr / warmup to lr, for tasks that schedule their rate
    warmup: int = 200
    weight_decay: float = 0.0
    grad_clip: float | None = None
    seed: int = 0
    device: str = "auto"
    patience: int | None = 5  # epochs without a better validation loss before stopping; None: never
    val_max_batches: int | None = 200  # cap on validation batches per epoch (None: the whole split)
    threads: int | None = None  # torch CPU threads (None: torch's default)
    log_every: int = 100  # steps between 'train' lines in metrics.jsonl
    val_every: int | None = None  # also validate every N steps (a 'val' line in metrics.jsonl); None: per epoch
    #: "bf16": autocast matrix products to bfloat16; "auto": bf16 where the hardware does it natively (GPUs with
    #: bf16, CPUs with AVX512-BF16 or AMX), else fp32
    precision: str = "fp32"
    #: which weights ``model.safetensors`` keeps, decided at every validation: "loss" (the lowest validation loss;
    #: the latest weights where the task has no loss), "statistics" (the lowest score of generated pieces against
    #: the validation split, for generators whose loss says little about the music: the GANs) or "last"
    select_by: str = "loss"

    def __post_init__(self) -> None:
        if self.epochs <= 0 or self.batch_size <= 0:
            raise ConfigError("epochs and batch_size must be positive")
        if self.lr <= 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        if not 0 <= self.lr_decay < 1:
            raise ConfigError(f"lr_decay is a fraction of the training budget in [0, 1), got {self.lr_decay}")
        if self.warmup < 0:
            raise ConfigError(f"warmup is a number of steps, 0 or more, got {self.warmup}")
        if self.max_steps is not None and self.max_steps <= 0:
            raise ConfigError(f"max_steps must be positive, got {self.max_steps}")
        if self.max_time is not None and self.max_time <= 0:
            raise ConfigError(f"max_time must be positive, got {self.max_time}")
        if self.precision not in ("fp32", "bf16", "auto"):
            raise ConfigError(f"precision must be fp32, bf16 or auto, got {self.precision!r}")
        if self.val_every is not None and self.val_every <= 0:
            raise ConfigError(f"val_every must be positive, got {self.val_every}")
        if self.select_by not in SELECT_BY:
            raise ConfigError(f"select_by must be one of {', '.join(SELECT_BY)}, got {self.select_by!r}")


SELECT_BY = ("loss", "statistics", "last")


def decay_scale(used: float, decay: float) -> float:
    """The learning rate's factor once ``used`` (0-1) of the budget is spent: 1 until the last ``decay`` of it,
    then falling linearly to 0 at its end."""
    if decay <= 0 or used <= 1 - decay:
        return 1.0
    return max(0.0, (1.0 - used) / decay)


@dataclass
class Selection:
    """A task's verdict on its current weights for ``select_by="statistics"``: ``score`` (lower is better), the
    figures behind it (logged as ``val/<name>``), and a reason when the generated pieces have collapsed."""

    score: float
    metrics: dict[str, float]
    collapse: str | None = None


def choose_device(name: str = "auto") -> torch.device:
    """'auto' picks cuda, then mps, then cpu; an explicit device that is not there is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as e:
        raise ConfigError(f"unknown device {name!r} (use auto, cpu, cuda, cuda:N or mps)") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA GPU is available here; use --device cpu or auto")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("--device mps: Apple's MPS is not available here; use --device cpu or auto")
    return dev


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 matrix products natively (emulated bf16 is slower than fp32)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def autocast_for(cfg: TrainConfig, device: torch.device) -> torch.autocast:
    """The autocast context of a training config's ``precision`` on ``device``."""
    enabled = cfg.precision == "bf16" or (cfg.precision == "auto" and native_bf16(device))
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


def optimizer_step(opt: torch.optim.Optimizer, loss: torch.Tensor, params: Any, grad_clip: float | None) -> None:
    """One plain update: gradients of ``loss`` (the old ones dropped), their norm clipped to ``grad_clip`` where
    set, then ``opt``'s step. The step of the tasks with one optimizer and one loss."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(params, grad_clip)
    opt.step()


def decay_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW's parameter groups as GPT-2 and nanoGPT train: weight decay on matrices only (not on biases, norms'
    gains or other vectors)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": other, "weight_decay": 0.0}]


def warmed_up(cfg: TrainConfig, step: int, scale: float = 1.0) -> float:
    """The learning rate of a task that schedules its own (``schedules_lr``) at ``step``: linear warm-up over
    ``cfg.warmup`` steps, then ``cfg.lr``, times ``scale`` (the trainer's decay, :attr:`Task.lr_scale`)."""
    return cfg.lr * min(1.0, (step + 1) / max(1, cfg.warmup)) * scale


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    """The random generator of one epoch's data order: a function of (seed, epoch) only, so resume is exact."""
    return np.random.default_rng([seed, epoch])


class Task(ABC):
    """What a model family gives the trainer: its model, optimizers, batches and steps.

    The abstract methods are what every task has; the others have defaults that a task overrides when it needs
    them (per-epoch statistics, state to resume beyond the optimizers, files of its own in the run folder)."""

    model: nn.Module
    #: whether :meth:`train_step` multiplies its learning rate by :attr:`lr_scale`, which the trainer sets before
    #: every step from ``lr_decay`` (tasks that do not refuse a non-zero ``lr_decay``)
    schedules_lr: bool = False
    lr_scale: float = 1.0

    @abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Every optimizer by name (their states are saved for resume)."""

    @abstractmethod
    def num_batches(self, epoch: int) -> int:
        """Batches in ``epoch`` (it may depend on the epoch: C-RNN-GAN's curriculum)."""

    @abstractmethod
    def batches(self, epoch: int, rng: np.random.Generator, start: int) -> Iterator[Any]:
        """The batches of ``epoch`` from number ``start`` on, in an order drawn from ``rng``."""

    @abstractmethod
    def train_step(self, batch: Any, step: int) -> dict[str, float]:
        """One optimizer step (or one GAN iteration) on ``batch``; returns the losses to log."""

    @abstractmethod
    def val_batches(self) -> Iterator[Any]:
        """Held-out batches in a fixed order."""

    @abstractmethod
    def eval_step(self, batch: Any) -> tuple[dict[str, float], int]:
        """Mean losses on a batch and its size (validation averages weight by size). A ``loss`` entry is what
        the best weights and early stopping are chosen by; without one the latest weights are kept."""

    def summarize_validation(self, val: dict[str, float]) -> dict[str, float]:
        """Figures derived from the validation means (e.g. bits per note from the loss per token and the notes per
        token); called with every validation's means, on every rank."""
        return val

    def attach_run(self, run: Path) -> None:  # noqa: B027 (optional hook: a default that does nothing)
        """Called on the main process with the run folder, for tasks that write files of their own."""

    #: whether :meth:`select` is implemented (``select_by="statistics"`` needs it)
    selects_by_statistics: bool = False

    def select(self) -> Selection:
        """Score the current weights by the statistics of pieces they generate (fixed seed) against the
        validation split; called on the main process at every validation when ``select_by="statistics"``."""
        raise ConfigError(f"{type(self).__name__} has no statistics to select weights by; use select_by=loss")

    def on_best(self, run: Path) -> None:  # noqa: B027
        """Called on the main process when the current weights were just saved as the best (e.g. to keep what
        was chosen with them, such as a decoding)."""

    def end_of_epoch(self, epoch: int) -> dict[str, float]:
        """Extra per-epoch metrics (e.g. musical statistics of samples), logged on the main process."""
        return {}

    def extra_state(self) -> dict[str, Any]:
        """State beyond the model and optimizers that resume needs (tensors, numbers, dicts)."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:  # noqa: B027
        """Restore what :meth:`extra_state` returned."""


class Trainer:
    def __init__(self, task: Task, cfg: TrainConfig, run: str | os.PathLike[str], *, progress: bool = True) -> None:
        self.task, self.cfg, self.run, self.progress = task, cfg, Path(run), progress
        self.rank, self.world = rank(), world_size()
        self.main = self.rank == 0  # only rank 0 writes files and logs
        local_batch(cfg.batch_size)
        if cfg.select_by == "statistics" and not task.selects_by_statistics:
            raise ConfigError(f"select_by=statistics: {type(task).__name__} cannot score its samples; use loss or last")
        if cfg.lr_decay and not task.schedules_lr:
            raise ConfigError(f"lr_decay: {type(task).__name__} keeps a constant learning rate; leave lr_decay at 0")
        if self.main:
            task.attach_run(self.run)
        if self.rank:  # the ranks draw different noise (the model is built before this, from the common seed)
            torch.manual_seed(cfg.seed + self.rank * RANK_SEED)
        self.epoch = 0
        self.batch_in_epoch = 0
        self.step = 0
        self.best_val = math.inf
        self.bad_epochs = 0
        self.improved_in_epoch = False  # a validation during the current epoch chose new best weights
        self.validated_step = -1  # the step of the latest validation
        self.elapsed = 0.0
        self.finished = False
        self.stop_reason = ""
        self.val_time = 0.0  # seconds spent validating, so that training time alone can be reported
        #: the cool-down an early stop began (lr_decay): the step it began at (-1: none) and its length in steps
        self.cool_from, self.cool_steps = -1, 0

    # -------------------------------------------------------------------------------------------- state
    @staticmethod
    def _rng_state() -> dict[str, Any]:
        cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
        return {"torch_rng": torch.get_rng_state(), "cuda_rng": torch.cuda.get_rng_state() if cuda else None}

    def _state(self) -> dict[str, Any]:
        """The resume state; collective in a distributed run (it gathers every rank's RNG state)."""
        ranks: list[Any] = []
        if self.world > 1:
            ranks = [None] * self.world
            dist.all_gather_object(ranks, self._rng_state())
        return {
            "model": {k: v.detach().cpu().clone() for k, v in unwrap(self.task.model).state_dict().items()},
            "optimizers": {k: o.state_dict() for k, o in self.task.optimizers().items()},
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "step": self.step,
            "best_val": self.best_val,
            "bad_epochs": self.bad_epochs,
            "improved_in_epoch": self.improved_in_epoch,
            "validated_step": self.validated_step,
            "elapsed": self.elapsed,
            "val_time": self.val_time,
            "finished": self.finished,
            "stop_reason": self.stop_reason,
            "cool_from": self.cool_from,
            "cool_steps": self.cool_steps,
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "extra": self.task.extra_state(),
            "world_size": self.world,
            "rank_rng": ranks,  # [{"torch_rng", "cuda_rng"}] of each rank of a distributed run
        }

    def save(self) -> None:
        state = self._state()
        if self.main:
            save_trainer_state(self.run / STATE, state)
        barrier()

    def resume(self) -> None:
        """Load the run's trainer state (latest weights, optimizers, RNG, counters) to continue exactly."""
        st = load_trainer_state(self.run / STATE)
        try:
            unwrap(self.task.model).load_state_dict(st["model"])
            # None: a state with no optimizer state (an exported shipped model): the optimizers start afresh
            for name, opt in self.task.optimizers().items() if st["optimizers"] is not None else ():
                opt.load_state_dict(st["optimizers"][name])
        except (KeyError, RuntimeError, ValueError) as e:
            raise CheckpointError(f"{self.run / STATE}: does not match this model or optimizer ({e})") from e
        self.epoch, self.batch_in_epoch, self.step = st["epoch"], st["batch_in_epoch"], st["step"]
        self.best_val, self.bad_epochs, self.elapsed = st["best_val"], st["bad_epochs"], st["elapsed"]
        self.finished, self.stop_reason = False, ""
        self.val_time = float(st.get("val_time", 0.0))
        self.improved_in_epoch = bool(st.get("improved_in_epoch", False))
        self.validated_step = int(st.get("validated_step", -1))
        self.cool_from, self.cool_steps = int(st.get("cool_from", -1)), int(st.get("cool_steps", 0))
        rank_rng = st.get("rank_rng") or []
        if self.world > 1 and len(rank_rng) == self.world:  # each rank continues its own random stream
            torch.set_rng_state(rank_rng[self.rank]["torch_rng"])
            if rank_rng[self.rank]["cuda_rng"] is not None and torch.cuda.is_available():
                torch.cuda.set_rng_state(rank_rng[self.rank]["cuda_rng"])
        elif self.rank == 0:
            torch.set_rng_state(st["torch_rng"])
            if st["cuda_rng"] and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(st["cuda_rng"])
        else:  # another number of processes than the saved run: the data order is exact, the noise cannot be
            torch.manual_seed(self.cfg.seed + self.rank * RANK_SEED + self.step)
        if st["extra"] is not None:
            self.task.load_extra_state(st["extra"])
        # metrics logged after the checkpoint (by a run that died later) would be repeated: drop them
        path = self.run / METRICS
        if self.main and path.is_file():
            lines = [ln for ln in path.read_text().splitlines() if ln and json.loads(ln).get("step", 0) <= self.step]
            with atomic_path(path) as tmp:
                tmp.write_text("".join(ln + "\n" for ln in lines))

    def log(self, record: dict[str, Any]) -> None:
        if not self.main:
            return
        with open(self.run / METRICS, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    # -------------------------------------------------------------------------------------------- loop
    def validate(self) -> dict[str, float]:
        t0 = time.perf_counter()
        try:
            return self._validate()
        finally:
            self.val_time += time.perf_counter() - t0

    def _validate(self) -> dict[str, float]:
        model = self.task.model
        model.eval()
        sums: dict[str, float] = {}
        count = 0
        with torch.no_grad():
            for i, batch in enumerate(self.task.val_batches()):
                if self.cfg.val_max_batches is not None and i >= self.cfg.val_max_batches:
                    break
                if i % self.world != self.rank:  # distributed: batch i is validated on rank i mod N
                    continue
                losses, n = self.task.eval_step(batch)
                for k, v in losses.items():
                    sums[k] = sums.get(k, 0.0) + v * n
                count += n
        model.train()
        if self.world > 1:  # every rank gets the same totals, so every rank takes the same decisions
            parts: list[Any] = [None] * self.world
            dist.all_gather_object(parts, (sums, count))
            sums, count = {}, 0
            for part_sums, part_count in parts:
                for k, v in part_sums.items():
                    sums[k] = sums.get(k, 0.0) + v
                count += part_count
        return self.task.summarize_validation({k: v / count for k, v in sums.items()}) if count else {}

    def _select(self, val: dict[str, float], epoch: int) -> dict[str, Any]:
        """After a validation: decide by ``select_by`` whether the current weights are the best so far and keep
        them if so. Returns what to add to the log record (``best``, and the statistics' score)."""
        cfg, out = self.cfg, {}
        metric: float | None = None
        if cfg.select_by == "statistics":
            selection = self.task.select() if self.main else None
            if self.world > 1:  # rank 0 scores; every rank takes its decision
                box = [selection]
                dist.broadcast_object_list(box, src=0)
                selection = box[0]
            assert selection is not None
            metric = selection.score
            out = {"val/score": selection.score, **{f"val/{k}": v for k, v in selection.metrics.items()}}
            if selection.collapse:
                out["collapse"] = selection.collapse
                if self.main:
                    print(f"warning: epoch {epoch + 1}, step {self.step}: {selection.collapse}", file=sys.stderr)
        elif cfg.select_by == "loss":
            metric = val.get("loss")
        improved = metric is None or metric < self.best_val  # no metric ("last", or no loss): the latest weights
        if improved:
            if metric is not None:
                self.best_val = metric
            self.improved_in_epoch = True
            if self.main:
                save_weights(self.task.model, self.run / WEIGHTS)
                self.task.on_best(self.run)
        self.validated_step = self.step
        return {**out, "best": improved}

    def _log_validation(self, val: dict[str, float], epoch: int, t_start: float, **extra: Any) -> None:
        """Select by the validation just made and log a ``val`` record."""
        chosen = self._select(val, epoch)
        now = time.perf_counter() - t_start
        self.log(
            {
                "kind": "val",
                "epoch": epoch,
                "step": self.step,
                "time": round(now, 3),
                "train_time": round(now - self.val_time, 3),
                **{f"val/{k}": v for k, v in val.items()},
                **chosen,
                **extra,
            }
        )

    def _sync_elapsed(self) -> None:
        """With a time limit, all ranks must stop at the same step: they all use the largest elapsed time."""
        if self.world > 1 and self.cfg.max_time is not None:
            t = torch.tensor([self.elapsed], dtype=torch.float64, device=collective_device())
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            self.elapsed = float(t.item())

    def _limit_reached(self) -> bool:
        """True (with the reason set) once max_steps or max_time is reached; checked before every step too, so
        resuming a run that stopped at its limit takes no further step."""
        cfg = self.cfg
        if cfg.max_steps is not None and self.step >= cfg.max_steps:
            self.stop_reason = f"reached max_steps={cfg.max_steps}"
            return True
        if cfg.max_time is not None and self.elapsed >= cfg.max_time:
            self.stop_reason = f"reached max_time={cfg.max_time:g} s"
            return True
        if self.cool_from >= 0 and self.step >= self.cool_from + self.cool_steps:
            self.stop_reason = (
                f"early stopping at step {self.cool_from}, then the learning rate brought to zero over "
                f"{self.cool_steps} steps"
            )
            return True
        return False

    def _lr_scale(self, n_batches: int) -> float:
        """The learning rate's factor (lr_decay): the budget's decay, or the cool-down's where one began."""
        scale = decay_scale(self.budget_used(n_batches), self.cfg.lr_decay)
        if self.cool_from >= 0:
            scale = min(scale, max(0.0, 1.0 - (self.step - self.cool_from) / max(self.cool_steps, 1)))
        return scale

    def budget_used(self, n_batches: int) -> float:
        """The fraction of the training budget spent: the largest of step / max_steps, elapsed / max_time and
        step / (epochs x the current epoch's batches), since whichever is reached first stops the run."""
        cfg = self.cfg
        used = self.step / (cfg.epochs * n_batches)
        if cfg.max_steps is not None:
            used = max(used, self.step / cfg.max_steps)
        if cfg.max_time is not None:
            used = max(used, self.elapsed / cfg.max_time)
        return min(used, 1.0)

    def _label(self, epoch: int, n_batches: int) -> str:
        """The progress bar's label: the epoch, and the budget that will stop the run. The epoch count is shown
        only when it can be what stops it; a step or time budget is shown with how much of it is used."""
        cfg = self.cfg
        steps_by_epochs = self.step - self.batch_in_epoch + (cfg.epochs - epoch) * n_batches
        by_steps = cfg.max_steps is not None and cfg.max_steps < steps_by_epochs
        label = f"epoch {epoch + 1}" if by_steps else f"epoch {epoch + 1}/{cfg.epochs}"
        if by_steps:
            label += f", step {self.step}/{cfg.max_steps}"
        if cfg.max_time is not None:
            label += f", {self.elapsed:.0f}/{cfg.max_time:g} s"
        return label

    def fit(self) -> dict[str, Any]:
        """Train until the epochs are done, early stopping, ``max_steps`` or ``max_time``; returns a summary."""
        cfg = self.cfg
        self.run.mkdir(parents=True, exist_ok=True)
        model = self.task.model
        model.train()
        t_start = time.perf_counter() - self.elapsed
        stop = self._limit_reached()
        while self.epoch < cfg.epochs and not stop:
            epoch = self.epoch
            n_batches = self.task.num_batches(epoch)
            if n_batches == 0:
                raise ConfigError("no training batches: the training split is smaller than one batch or window")
            rng = epoch_rng(cfg.seed, epoch)
            bar = progress_bar(
                total=n_batches,
                initial=self.batch_in_epoch,
                desc=self._label(epoch, n_batches),
                unit="batch",
                disable=not (self.progress and self.main),
            )
            sums: dict[str, float] = {}
            seen = 0
            for batch in self.task.batches(epoch, rng, self.batch_in_epoch):
                if cfg.lr_decay:
                    self.task.lr_scale = self._lr_scale(n_batches)
                logs = self.task.train_step(batch, self.step)
                self.step += 1
                self.batch_in_epoch += 1
                seen += 1
                for k, v in logs.items():
                    sums[k] = sums.get(k, 0.0) + v
                bar.update(1)
                if self.step % 10 == 0 or self.batch_in_epoch == n_batches:
                    bar.set_description(self._label(epoch, n_batches), refresh=False)
                    bar.set_postfix({k: f"{v / seen:.4f}" for k, v in list(sums.items())[:3]}, refresh=False)
                if cfg.val_every and self.step % cfg.val_every == 0 and self.batch_in_epoch < n_batches:
                    self._log_validation(self.validate(), epoch, t_start)
                if self.step % cfg.log_every == 0:
                    self.log(
                        {
                            "kind": "train",
                            "epoch": epoch,
                            "step": self.step,
                            **{f"train/{k}": v / seen for k, v in mean_over_ranks(sums).items()},
                            **({"lr_scale": round(self.task.lr_scale, 6)} if cfg.lr_decay else {}),
                        }
                    )
                self.elapsed = time.perf_counter() - t_start
                self._sync_elapsed()
                stop = self._limit_reached()
                if stop:
                    break
            bar.close()
            if self.batch_in_epoch >= n_batches:  # the epoch is complete
                val = self.validate()
                # per-epoch extras are for the log only (statistics of generated samples): rank 0 computes them
                extra = self.task.end_of_epoch(epoch) if self.main else {}
                self.elapsed = time.perf_counter() - t_start
                self._sync_elapsed()
                record = {
                    "kind": "epoch",
                    "epoch": epoch + 1,
                    "step": self.step,
                    "time": round(self.elapsed, 3),
                    "train_time": round(self.elapsed - self.val_time, 3),
                    **{f"train/{k}": v / max(seen, 1) for k, v in mean_over_ranks(sums).items()},
                    **{f"val/{k}": v for k, v in val.items()},
                    **extra,
                }
                record.update(self._select(val, epoch))
                self.bad_epochs = 0 if self.improved_in_epoch else self.bad_epochs + 1
                self.improved_in_epoch = False
                self.epoch += 1
                self.batch_in_epoch = 0
                self.log(record)
                if cfg.patience is not None and self.bad_epochs >= cfg.patience and self.cool_from < 0:
                    what = "validation loss" if cfg.select_by == "loss" else f"validation {cfg.select_by}"
                    if cfg.lr_decay and self.task.lr_scale >= 1.0:
                        # warm-up, stable, decay: a run stopped before its decay never gets the decay's gain (a
                        # budget longer than the data needs). It decays now, over the share of the steps so far
                        # that lr_decay gives the decay, from the best weights on validation (the latest may have
                        # begun to overfit), the optimizer's state as it is.
                        if (self.run / WEIGHTS).is_file():
                            barrier()
                            load_weights(self.task.model, self.run / WEIGHTS)
                        self.cool_from = self.step
                        self.cool_steps = max(1, round(self.step * cfg.lr_decay / (1 - cfg.lr_decay)))
                        self.log({"kind": "cooldown", "step": self.step, "steps": self.cool_steps,
                                  "reason": f"no better {what} in {cfg.patience} epochs"})  # fmt: skip
                    else:
                        stop, self.stop_reason = True, f"early stopping: no better {what} in {cfg.patience} epochs"
            elif stop and self.validated_step != self.step:
                # stopped within an epoch by max_steps / max_time: validate here, so that every run has a held-out
                # figure and its best weights, however short
                self._log_validation(self.validate(), epoch, t_start, stopped=True)
            self.save()  # collective: rank 0 writes, the others wait for it
        if not stop:
            self.stop_reason = f"completed {cfg.epochs} epochs"
        self.finished = True
        self.save()
        return {
            "epochs": self.epoch,
            "step": self.step,
            "seconds": round(self.elapsed, 2),
            "train_seconds": round(self.elapsed - self.val_time, 2),
            "best_val": self.best_val,
            "select_by": self.cfg.select_by,
            "stopped": self.stop_reason,
        }
