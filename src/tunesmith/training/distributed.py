"""Data parallelism for the one training loop: PyTorch's DistributedDataParallel started by ``torchrun``.

What it means here (the rules every task follows; :mod:`tunesmith.training.trainer` says how the loop uses them):

* ``batch_size`` is the global batch: each of the N processes (ranks) takes ``batch_size / N`` items of every
  batch, a contiguous block of the batch that one process would draw (:func:`shard`). The ranks' items are
  disjoint, their union is exactly the single-process batch, and with losses that are means over the batch the
  averaged gradient is the single-process gradient.
* Each objective of a task runs through :func:`data_parallel`, which wraps a network in
  ``DistributedDataParallel`` so that its gradients are averaged by DDP's all-reduce.
* Decisions taken on losses (GAN freezing) use :func:`all_mean`, so every rank takes the same one.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from ..errors import ConfigError

#: Stride between the torch seeds of the ranks of a distributed run (rank r > 0 draws from seed + r * RANK_SEED).
RANK_SEED = 1_000_003


def world_size() -> int:
    """Processes in the running distributed group (1 when there is none)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    """This process's rank in the distributed group (0 when there is none)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def setup_distributed(device: torch.device) -> torch.device:
    """Start torch's default process group when launched by torchrun with ``WORLD_SIZE > 1``; returns the device
    this rank trains on (``cuda:LOCAL_RANK`` for CUDA). Backend: NCCL for CUDA, gloo for the CPU. A group that is
    already running (started by an earlier call or by the caller) is used as it is; the group lives until the
    process ends or :func:`shutdown_distributed` (starting a second group in one process is unreliable with
    torchrun's store, so a group is never torn down between runs)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 and not (dist.is_available() and dist.is_initialized()):
        return device
    if not dist.is_available():
        raise ConfigError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"distributed training runs on cpu or cuda devices, not {device.type}; use --device cpu")
    if device.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if local >= torch.cuda.device_count():
            raise ConfigError(
                f"LOCAL_RANK {local} but only {torch.cuda.device_count()} CUDA GPU(s) here; start at most that many "
                "processes per machine (--nproc-per-node)"
            )
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def shutdown_distributed() -> None:
    """End the process group, after a barrier so that no rank closes its connections while another still reads."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


def local_batch(batch_size: int) -> int:
    """Items of a global batch of ``batch_size`` that one rank takes."""
    world = world_size()
    if batch_size % world:
        raise ConfigError(
            f"batch_size {batch_size} is the global batch and must divide evenly among {world} processes; "
            f"use a multiple of {world}"
        )
    return batch_size // world


def shard(batch_size: int) -> slice:
    """This rank's block of a global batch of ``batch_size`` items (all of it in a single process): the ranks'
    blocks are disjoint and together the whole batch, in order."""
    n = local_batch(batch_size)
    r = rank()
    return slice(r * n, (r + 1) * n)


def collective_device() -> torch.device:
    """Where tensors for collectives must live: the current GPU for NCCL, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_mean(x: torch.Tensor) -> torch.Tensor:
    """The mean of ``x`` over the ranks (``x`` itself in a single process). The same value on every rank, so that
    decisions taken on it (GAN freezing) are the same everywhere. gloo has no AVG reduction: SUM, then divide."""
    world = world_size()
    if world == 1:
        return x
    t = x.detach().to(collective_device(), torch.float64, copy=True)
    dist.all_reduce(t)
    return (t / world).to(x.device, x.dtype)


def all_sum(x: torch.Tensor) -> torch.Tensor:
    """The sum of ``x`` over the ranks (``x`` itself in a single process), the same on every rank."""
    if world_size() == 1:
        return x
    t = x.detach().to(collective_device(), torch.float64, copy=True)
    dist.all_reduce(t)
    return t.to(x.device, x.dtype)


def mean_over_ranks(values: dict[str, float]) -> dict[str, float]:
    """Each value averaged over the ranks (every rank must pass the same keys)."""
    if world_size() == 1 or not values:
        return values
    keys = sorted(values)
    t = all_mean(torch.tensor([values[k] for k in keys], dtype=torch.float64))
    return dict(zip(keys, t.tolist(), strict=True))


class _Objective(nn.Module):
    """The module DDP wraps: it owns one network (so DDP hooks that network's parameters) and its forward runs
    any computation given to it. DDP averages gradients only of passes that go through its own ``forward``
    (that is when it prepares its reducer for the backward pass), so each objective of a task (the RNN's window
    loss, a discriminator's loss on real and generated batches, a generator's pass) is run through here."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)


def data_parallel(module: nn.Module, *, broadcast_buffers: bool = True) -> Any:
    """A callable ``run(fn, *args)`` that computes ``fn(*args)``, an objective whose gradients train ``module``.

    In a single process it is just ``fn(*args)``. Under torchrun the call goes through PyTorch's
    ``DistributedDataParallel`` wrapping ``module``: the backward pass of its result averages ``module``'s
    gradients over the ranks (bucketed all-reduce overlapping the backward pass). Rules, as for DDP itself: every
    parameter of ``module`` that requires a gradient must receive one in each backward pass through a result
    (or none of them must: a network frozen for a step gets no backward at all); the backward pass must
    accumulate into ``.grad`` (``loss.backward(inputs=...)``, not ``torch.autograd.grad``); and all ranks must
    take the same backward passes. ``module`` must already be on its device. ``broadcast_buffers``: copy rank
    0's buffers (e.g. BatchNorm running statistics) to all ranks before each pass; off for constant buffers."""
    if world_size() == 1:
        return lambda fn, *args, **kwargs: fn(*args, **kwargs)
    from torch.nn.parallel import DistributedDataParallel

    dev = next(module.parameters()).device
    kwargs: dict[str, Any] = {}
    if dev.type == "cuda":
        kwargs["device_ids"] = [dev.index if dev.index is not None else torch.cuda.current_device()]
    if not broadcast_buffers:  # torch 2.13 renamed the option (the old name warns)
        params = inspect.signature(DistributedDataParallel.__init__).parameters
        kwargs["forward_sync_buffers" if "forward_sync_buffers" in params else "broadcast_buffers"] = False
    return DistributedDataParallel(_Objective(module), **kwargs)
