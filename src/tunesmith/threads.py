"""How many CPU threads a command that runs a model uses, so that a busy machine slows it in proportion.

Measured on 2 cores, idle and with both cores kept busy by other processes (``benchmarks/bench_threads.py``,
docs/benchmarks.md "Threads on a busy machine"):

* torch's OpenMP threads **spin** while they wait for each other (libgomp's default wait policy): on a busy machine
  a thread spinning on a core that another process wants takes its time slices for nothing, and every parallel
  operation waits for the thread whose core was taken: `generate bach -n 2` ran 3.9 times slower, generation at
  batch 64 7.7 times. ``tunesmith`` sets ``OMP_WAIT_POLICY=PASSIVE`` before torch first loads
  (``tunesmith/__init__.py``) unless the user set it: waiting threads sleep, and the same work slows 1.3 to 1.8
  times with both cores taken, in proportion to the share of the cores it gets;
* generation is many small operations, one token at a time: a second thread costs more in waking it than it
  gives, idle or busy (batch 1 and batch 64 alike), so generating commands use **one thread**;
* a training step is large matrix products, which a thread per core speeds up (1.6 times on 2 cores) and which
  sleeping waiters slow by a few percent: training uses **one thread per core**, also on a busy machine, where two
  passive threads got more done than one.

The load (other processes wanting the cores) is an input of the choice, and by design it changes nothing: under the
passive wait policy the same count is the fastest idle and busy alike (the figures above), and a count that followed
the load would make a training run's result depend on what else the machine was doing (below), which tunesmith never
allows. Thread counts change only speed, not results, where the arithmetic does not depend on them (generation and
the RNN's and the C-RNN-GAN baseline's training were checked bit for bit); where it does (the GAN's convolutions:
oneDNN splits their reductions by thread), a caller that needs the same result on every machine fixes the count:
``tunesmith demo`` trains each model with one thread, as many models at a time as there are cores. No torch here:
the command line decides before it loads a model."""

from __future__ import annotations

import os

#: the kinds of work, and what each uses: "generate" one thread, "train" one per core (see above)
WORKS = ("generate", "train")


def choose_threads(cores: int, load: float, work: str) -> int:
    """Threads for ``work`` ("generate" or "train") on a machine with ``cores`` usable cores and ``load`` other
    runnable processes (a load average): a pure function, the same for every load (see above)."""
    if cores < 1:
        raise ValueError(f"cores must be at least 1, got {cores}")
    if not load >= 0:  # NaN too
        raise ValueError(f"load must be a number of processes, 0 or more, got {load}")
    if work not in WORKS:
        raise ValueError(f"work must be one of {', '.join(WORKS)}, got {work!r}")
    return 1 if work == "generate" else cores


def machine_load() -> float:
    """The machine's one-minute load average (0 where the OS has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def use_threads(threads: int | None = None, work: str = "generate") -> int:
    """Set torch's CPU threads (``threads``, or :func:`choose_threads` for ``work`` when None) and return the
    count. Where ``threads`` is None and the user set ``OMP_NUM_THREADS``, that is kept. Imports torch: call it
    where a command is about to run a model."""
    import torch

    if threads is None and os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    n = threads or choose_threads(usable_cores(), machine_load(), work)
    torch.set_num_threads(n)
    return n
