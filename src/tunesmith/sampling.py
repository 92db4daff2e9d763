"""Generation: logit filters as small pure functions, and batched, incremental sampling for each family.

Filters (temperature, top-k, top-p) take and return logits ``(..., V)``; :func:`sample_logits` applies them
in that order and draws one index per row. Sampling carries the recurrent state from note to note: the model
sees each new note once (it never re-runs the whole window per note, as the TensorFlow tutorial does), and
``-n`` sequences are generated in one batch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .errors import ConfigError
from .models.rnn import NoteRNN, RNNOutput
from .representations.note_events import DURATION, N_FEATURES, PITCH, STEP, VELOCITY


def check_options(
    *, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None, length: int = 1, n: int = 1
) -> None:
    """Raise ConfigError for sampling options no sampler can honour."""
    if not temperature > 0 or not np.isfinite(temperature):
        raise ConfigError(f"--temperature must be a positive number, got {temperature}")
    if top_k is not None and top_k <= 0:
        raise ConfigError(f"--top-k must be a positive whole number, got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ConfigError(f"--top-p must lie in (0, 1], got {top_p}")
    if length <= 0:
        raise ConfigError(f"--length must be positive, got {length}")
    if n <= 0:
        raise ConfigError(f"-n must be positive, got {n}")


def temperature_filter(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``logits / T``: T < 1 sharpens the distribution, T > 1 flattens it."""
    return logits / temperature


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the ``k`` largest logits of each row, set the rest to -inf (ties at the k-th value are kept)."""
    if k >= logits.shape[-1]:
        return logits
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filter (Holtzman et al. 2020): keep the smallest set of most likely entries whose probabilities
    sum to at least ``p``; the most likely entry is always kept."""
    if p >= 1:
        return logits
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(-1)
    # drop an entry when the mass before it already reaches p
    drop_sorted = (probs.cumsum(-1) - probs) >= p
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


FILTERS: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "temperature": temperature_filter,
    "top_k": top_k_filter,  # type: ignore[dict-item]
    "top_p": top_p_filter,
}


def sample_logits(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw one index per row of ``logits (B, V)`` after temperature, top-k and top-p. Returns ``(B,)``."""
    logits = temperature_filter(logits.float(), temperature)
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    return torch.multinomial(logits.softmax(-1), 1, generator=generator).squeeze(-1)


# ------------------------------------------------------------------------------------------------ RNN note model
def _next_event(
    model: NoteRNN,
    out: RNNOutput,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Sample the next event (B, F) from the heads' outputs at the last step."""
    cfg = model.cfg
    b = out.pitch.shape[0]
    ev = torch.zeros(b, N_FEATURES, device=out.pitch.device)
    ev[:, PITCH] = sample_logits(
        out.pitch[:, -1], temperature=temperature, top_k=top_k, top_p=top_p, generator=generator
    ).float()
    if cfg.timing == "regression":
        # the paper / tutorial: the regressed value, negative values clipped to 0
        ev[:, STEP] = out.step[:, -1].clamp(min=0)
        ev[:, DURATION] = out.duration[:, -1].clamp(min=0)
    else:
        for col, logits in ((STEP, out.step), (DURATION, out.duration)):
            ev[:, col] = model.time_values[sample_logits(logits[:, -1], temperature=temperature, generator=generator)]
    if out.velocity is not None:
        vbin = sample_logits(out.velocity[:, -1], temperature=temperature, generator=generator).float()
        ev[:, VELOCITY] = ((vbin + 0.5) * 128 / cfg.velocity_bins).round().clamp(1, 127)
    else:
        ev[:, VELOCITY] = 80
    return ev


@torch.no_grad()
def generate_rnn(
    model: NoteRNN,
    primers: torch.Tensor,
    length: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
    incremental: bool = True,
) -> torch.Tensor:
    """Continue each primer ``(B, P, F)`` by ``length`` sampled events; returns ``(B, length, F)``.

    ``incremental=True`` runs the primer once and then feeds one event at a time, carrying the LSTM state.
    ``incremental=False`` re-runs the model over the whole history for every note (slow; the same samples,
    kept to test that claim)."""
    check_options(temperature=temperature, top_k=top_k, top_p=top_p, length=length, n=max(1, primers.shape[0]))
    was_training = model.training
    model.eval()
    out_events = torch.empty(primers.shape[0], length, N_FEATURES, device=primers.device)
    out, state = model(primers, last_only=True)
    history = primers
    for i in range(length):
        ev = _next_event(model, out, temperature, top_k, top_p, generator)  # (B, F)
        out_events[:, i] = ev
        if i + 1 == length:
            break
        if incremental:
            out, state = model(ev[:, None], state)  # (B, 1, F): one step, state carried
        else:
            history = torch.cat([history, ev[:, None]], dim=1)
            out, _ = model(history, last_only=True)
    model.train(was_training)
    return out_events
