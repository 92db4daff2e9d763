"""The RNN note model: an LSTM that reads note events (pitch, step, duration[, velocity]) and predicts the next.

``preset="paper"`` is the paper's model, which follows TensorFlow's "Generate music with an RNN" tutorial
exactly: inputs (pitch/128, step, duration), one LSTM(128), the last step's output into three heads (128 pitch
logits with cross-entropy; step and duration regressed with squared error plus "positive pressure"
``10 * max(-y_hat, 0)``), loss weights 0.05 / 1 / 1.

``preset="default"`` keeps the LSTM but fixes what makes the paper's model weak (docs/rnn.md has the measured
comparison): a learned pitch embedding instead of one scalar, log-scaled times, a prediction at every step of
the window instead of only the last (25 times the training signal per window), and step, duration and velocity
as categorical distributions over bins instead of point estimates, so sampling does not collapse timing to
the mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...representations.note_events import DURATION, PITCH, STEP, VELOCITY

# the settings and presets: config.py (no torch, so that the command line reads them without loading torch)
from .config import N_PITCHES, PRESETS, TIME_DECODINGS, TIME_QUANTILES, RNNConfig  # noqa: F401


def time_bin_edges(cfg: RNNConfig) -> np.ndarray:
    """Inner edges of the time bins: bin 0 is [0, bin_min_s), then log-spaced up to bin_max_s, last bin open."""
    return np.geomspace(cfg.bin_min_s, cfg.bin_max_s, cfg.time_bins - 1)


def time_bin_values(cfg: RNNConfig) -> np.ndarray:
    """The time each bin stands for when sampled: 0 for the first, geometric centres, ``bin_max_s`` for the last."""
    e = time_bin_edges(cfg)
    return np.concatenate([[0.0], np.sqrt(e[:-1] * e[1:]), [cfg.bin_max_s]])


def time_bin_quantiles(times: np.ndarray, cfg: RNNConfig, q: int = TIME_QUANTILES) -> np.ndarray:
    """``(time_bins, q)`` float32: for each time bin, the quantiles at probabilities ``(k + 0.5) / q``,
    ``k = 0 .. q - 1``, of the ``times`` that fall in it, so that drawing one of a bin's ``q`` values evenly
    follows the times' own distribution within the bin.

    Each quantile is one of the times (the inverse of the empirical distribution, no interpolation): a bin holding
    0, 0 and 0.004 gets 0 in two thirds of its quantiles, so exact zeros stay exactly 0. Times are binned as
    :meth:`NoteRNN.time_to_bin` bins them (in float32), so every value decodes back into its own bin. A bin without
    any time gets ``q`` values evenly spread within its edges (the last bin, open above: ``bin_max_s``)."""
    edges = time_bin_edges(cfg).astype(np.float32)
    t = np.sort(np.clip(np.asarray(times, dtype=np.float32).ravel(), 0.0, None))
    bins = np.searchsorted(edges, t, side="right")  # torch.bucketize(right=True): edges[i-1] <= t < edges[i]
    bounds = np.searchsorted(bins, np.arange(cfg.time_bins + 1))  # t[bounds[b] : bounds[b + 1]] lie in bin b
    lo = np.concatenate([[0.0], edges]).astype(np.float32)
    hi = np.concatenate([edges, [edges[-1]]]).astype(np.float32)
    k = np.arange(q)
    out = np.empty((cfg.time_bins, q), dtype=np.float32)
    for b in range(cfg.time_bins):
        values = t[bounds[b] : bounds[b + 1]]
        n = values.size
        if n:
            out[b] = values[((2 * k + 1) * n + 2 * q - 1) // (2 * q) - 1]  # ceil(n (k + 0.5) / q) - 1, exactly
        else:
            out[b] = lo[b] + (k + 0.5) / q * (hi[b] - lo[b])
    return out


@dataclass
class RNNOutput:
    pitch: torch.Tensor  # (B, T', 128) logits
    step: torch.Tensor  # (B, T') value, or (B, T', bins) logits
    duration: torch.Tensor
    velocity: torch.Tensor | None = None  # (B, T', velocity_bins) logits
    extra: dict[str, torch.Tensor] = field(default_factory=dict)


class NoteRNN(nn.Module):
    """LSTM over note events with pitch, step, duration (and velocity) heads."""

    def __init__(self, cfg: RNNConfig) -> None:
        super().__init__()
        self.cfg = cfg
        if cfg.pitch_input == "embedding":
            self.embed = nn.Embedding(N_PITCHES, cfg.embed_dim)
        self.lstm = nn.LSTM(
            cfg.n_inputs,
            cfg.hidden,
            num_layers=cfg.layers,
            batch_first=True,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(cfg.dropout)
        t_out = cfg.time_bins if cfg.timing == "bins" else 1
        # the heads (pitch logits, step, duration, velocity logits) as one matrix product, split afterwards
        self.head_sizes = [N_PITCHES, t_out, t_out] + ([cfg.velocity_bins] if cfg.velocity else [])
        self.heads = nn.Linear(cfg.hidden, sum(self.head_sizes))
        # the paper's inputs (pitch / 128, step, duration) as one product with a constant scale
        self.register_buffer("paper_scale", torch.tensor([1.0 / N_PITCHES, 1.0, 1.0]), persistent=False)
        self.register_buffer("time_edges", torch.tensor(time_bin_edges(cfg), dtype=torch.float32), persistent=False)
        self.register_buffer("time_values", torch.tensor(time_bin_values(cfg), dtype=torch.float32), persistent=False)

    # -------------------------------------------------------------------------------------------- encoding
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Raw events (B, T, >=3) -> LSTM inputs (B, T, n_inputs)."""
        cfg = self.cfg
        if cfg.timing == "regression" and cfg.pitch_input == "scalar" and not cfg.velocity:
            return x[..., : DURATION + 1] * self.paper_scale  # (B, T, 3): the paper's inputs
        if cfg.timing == "regression" and cfg.pitch_input == "scalar":
            scalars = [x[..., : DURATION + 1] * self.paper_scale]
        else:
            times = torch.log1p(x[..., STEP : DURATION + 1].clamp(min=0) / cfg.bin_min_s) / math.log1p(
                cfg.bin_max_s / cfg.bin_min_s
            )
            scalars = [x[..., PITCH : PITCH + 1] / N_PITCHES] if cfg.pitch_input == "scalar" else []
            # log-scaled times resolve short ones; raw seconds keep long ones apart (they dominate squared error)
            scalars += [times, x[..., STEP : DURATION + 1].clamp(0, cfg.bin_max_s)]
        if cfg.velocity:
            scalars.append(x[..., VELOCITY : VELOCITY + 1] / 127.0)
        parts = scalars
        if cfg.pitch_input == "embedding":
            parts = [self.embed(x[..., PITCH].long().clamp(0, N_PITCHES - 1)), *scalars]
        return torch.cat(parts, dim=-1)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None, *, last_only: bool = False
    ) -> tuple[RNNOutput, tuple[torch.Tensor, torch.Tensor]]:
        h, state = self.lstm(self.encode(x), state)  # (B, T, H)
        if last_only:
            h = h[:, -1:]  # (B, 1, H)
        heads = self.heads(self.drop(h)).split(self.head_sizes, dim=-1)  # (B, T', size) each
        pitch, step, dur = heads[:3]
        if self.cfg.timing == "regression":
            step, dur = step.squeeze(-1), dur.squeeze(-1)
        return RNNOutput(pitch, step, dur, heads[3] if self.cfg.velocity else None), state

    # -------------------------------------------------------------------------------------------- targets and loss
    def time_to_bin(self, t: torch.Tensor) -> torch.Tensor:
        return torch.bucketize(t.contiguous(), self.time_edges, right=True)

    def velocity_to_bin(self, v: torch.Tensor) -> torch.Tensor:
        return (v.clamp(0, 127) * self.cfg.velocity_bins / 128).long()

    def expected_time(self, logits: torch.Tensor) -> torch.Tensor:
        """Mean of a binned time distribution (the squared-error-optimal point estimate)."""
        return (logits.softmax(-1) * self.time_values).sum(-1)

    def loss(self, x: torch.Tensor, y: torch.Tensor, out: RNNOutput) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Weighted loss and its parts. ``y``: (B, T') target events aligned with ``out``.

        Also reports ``step_mse``/``duration_mse`` (of the point estimate, for either timing) so that runs of
        both presets compare on one scale."""
        cfg = self.cfg
        pitch = F.cross_entropy(out.pitch.reshape(-1, N_PITCHES), y[..., PITCH].long().reshape(-1))
        parts: dict[str, torch.Tensor] = {"pitch": pitch}
        total = cfg.pitch_weight * pitch
        for name, col, w in (("step", STEP, cfg.step_weight), ("duration", DURATION, cfg.duration_weight)):
            pred, target = getattr(out, name), y[..., col]
            if cfg.timing == "regression":
                mse = (target - pred) ** 2
                loss = (mse + cfg.positive_pressure * torch.relu(-pred)).mean()
                parts[f"{name}_mse"] = mse.mean().detach()
                parts[name] = loss
            else:
                # the part is the cross-entropy alone (nats: what the held-out likelihood sums); the squared error
                # of the distribution's mean is added to the objective only
                loss = F.cross_entropy(pred.reshape(-1, cfg.time_bins), self.time_to_bin(target).reshape(-1))
                mse = ((self.expected_time(pred) - target) ** 2).mean()
                parts[name], parts[f"{name}_mse"] = loss, mse.detach()
                if cfg.time_mse_weight:
                    # also pull the distribution's mean onto the target: the bins shape what is sampled, this
                    # keeps the point estimate as good as a regression's
                    loss = loss + cfg.time_mse_weight * mse
            total = total + w * loss
        if out.velocity is not None:
            vel = F.cross_entropy(
                out.velocity.reshape(-1, cfg.velocity_bins), self.velocity_to_bin(y[..., VELOCITY]).reshape(-1)
            )
            parts["velocity"] = vel
            total = total + cfg.velocity_weight * vel
        return total, parts

    def eval_losses(self, windows: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Like :meth:`window_loss`, plus ``last_*`` parts for the window's last note alone (the paper's
        measure) when every position is predicted; one forward pass serves both."""
        if self.cfg.targets == "last":
            return self.window_loss(windows)
        x, y = windows[:, :-1], windows[:, 1:]  # (B, T, F) each
        out, _ = self(x)
        loss, parts = self.loss(x, y, out)
        last = RNNOutput(
            *(t[:, -1:] if t is not None else None for t in (out.pitch, out.step, out.duration, out.velocity))
        )
        _, last_parts = self.loss(x[:, -1:], y[:, -1:], last)
        return loss, {**parts, **{f"last_{k}": v for k, v in last_parts.items()}}

    def window_loss(
        self, windows: torch.Tensor, *, last_only: bool = False
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Loss on a batch of windows (B, T+1, F): inputs are the first T events, targets the next ones (only the
        last one with ``targets="last"`` or ``last_only``)."""
        x = windows[:, :-1]  # (B, T, F)
        if self.cfg.targets == "last" or last_only:
            out, _ = self(x, last_only=True)
            y = windows[:, -1:]  # (B, 1, F)
        else:
            out, _ = self(x)
            y = windows[:, 1:]  # (B, T, F)
        return self.loss(x, y, out)
