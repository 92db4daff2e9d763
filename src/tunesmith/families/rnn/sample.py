"""How the RNN note model generates: batched and incremental, the LSTM state carried from note to note.

The model sees each new note once (it never re-runs the whole window per note, as the TensorFlow tutorial does),
and ``-n`` sequences are generated in one batch."""

from __future__ import annotations

import numpy as np
import torch

from ...errors import ConfigError
from ...io import read
from ...representations.note_events import DURATION, N_FEATURES, PITCH, STEP, VELOCITY, to_note_events
from ...sampling import check_options, sample_logits
from ...utils import eval_mode
from .model import NoteRNN, RNNOutput


def load_primer(path: str) -> np.ndarray:
    """A music file's note events, to continue; a ConfigError when it has no notes."""
    events = to_note_events(read(path))
    if len(events) == 0:
        raise ConfigError(f"{path}: the primer has no notes to continue")
    return events


def decode_time_bins(
    bins: torch.Tensor, model: NoteRNN, draws: torch.Tensor | None, generator: torch.Generator | None
) -> torch.Tensor:
    """Seconds for sampled time bins ``(B,)``: with ``draws`` (``(time_bins, Q)``, e.g.
    :func:`~.model.time_bin_quantiles`), one of the bin's ``Q`` values drawn evenly with ``generator``; without,
    the bin's fixed value (``model.time_values``: bin 0 is exactly 0)."""
    if draws is None:
        return model.time_values[bins]
    k = torch.randint(draws.shape[1], bins.shape, generator=generator, device=bins.device)  # (B,)
    return draws[bins, k]


def _next_event(
    model: NoteRNN,
    out: RNNOutput,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    generator: torch.Generator | None,
    time_draws: tuple[torch.Tensor, torch.Tensor] | None = None,
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
        for i, (col, logits) in enumerate(((STEP, out.step), (DURATION, out.duration))):
            bins = sample_logits(logits[:, -1], temperature=temperature, generator=generator)
            ev[:, col] = decode_time_bins(bins, model, None if time_draws is None else time_draws[i], generator)
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
    time_draws: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Continue each primer ``(B, P, F)`` by ``length`` sampled events; returns ``(B, length, F)``.

    ``incremental=True`` runs the primer once and then feeds one event at a time, carrying the LSTM state.
    ``incremental=False`` re-runs the model over the whole history for every note (slow; the same samples,
    kept to test that claim).

    Binned timing: ``time_draws`` (step, duration), ``(time_bins, Q)`` each, are the values a sampled bin's time
    is drawn from (:func:`decode_time_bins`); None decodes each bin to its fixed value."""
    check_options(temperature=temperature, top_k=top_k, top_p=top_p, length=length, n=max(1, primers.shape[0]))
    if time_draws is not None:
        if model.cfg.timing != "bins":
            raise ConfigError("rnn: time_draws apply to binned timing only (timing=bins)")
        for name, d in zip(("step", "duration"), time_draws, strict=True):
            if d.ndim != 2 or d.shape[0] != model.cfg.time_bins or d.shape[1] == 0:
                raise ConfigError(
                    f"rnn: {name} time draws must have shape ({model.cfg.time_bins}, Q), got {tuple(d.shape)}"
                )
        time_draws = (
            time_draws[0].to(primers.device, torch.float32),
            time_draws[1].to(primers.device, torch.float32),
        )
    with eval_mode(model):
        return _continue(model, primers, length, temperature, top_k, top_p, generator, incremental, time_draws)


def _continue(
    model: NoteRNN,
    primers: torch.Tensor,
    length: int,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    generator: torch.Generator | None,
    incremental: bool,
    time_draws: tuple[torch.Tensor, torch.Tensor] | None,
) -> torch.Tensor:
    out_events = torch.empty(primers.shape[0], length, N_FEATURES, device=primers.device)
    out, state = model(primers, last_only=True)
    history = primers
    for i in range(length):
        ev = _next_event(model, out, temperature, top_k, top_p, generator, time_draws)  # (B, F)
        out_events[:, i] = ev
        if i + 1 == length:
            break
        if incremental:
            out, state = model(ev[:, None], state)  # (B, 1, F): one step, state carried
        else:
            history = torch.cat([history, ev[:, None]], dim=1)
            out, _ = model(history, last_only=True)
    return out_events
