"""The humanizer: a bidirectional GRU that reads a drum part's hits on the 16th grid (which of the 9 classes sound
at each step, the step's position in the bar, the tempo) and says, for every hit, how a drummer plays it: its
velocity and its offset from the grid line. GrooVAE's humanization task (Gillick et al. 2019) with its
encoder-decoder reduced to one bidirectional reader: the hits are given, only how they are played is predicted,
and each prediction may look at the whole window, before and after (a fill's last hit is played knowing the
crash that follows).

Trained by squared error on the hit cells only (a step without a hit has nothing to play): the prediction is a
drummer's expected velocity and offset for that hit in that context.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...representations.drums import N_CLASSES, POSITIONS
from .config import PRESETS, HumanizerConfig  # noqa: F401

N_INPUTS = N_CLASSES + POSITIONS + 1  # hits, position one-hot, log2 tempo / 120


def features(hits: torch.Tensor, position: torch.Tensor, qpm: torch.Tensor) -> torch.Tensor:
    """The network's input per step: ``hits`` (B, T, 9), ``position`` (B, T) in the bar, ``qpm`` (B, T)."""
    tempo = torch.log2(qpm.clamp(min=1.0) / 120.0).unsqueeze(-1)
    return torch.cat([hits.float(), F.one_hot(position.long(), POSITIONS).float(), tempo.float()], dim=-1)


class Humanizer(nn.Module):
    def __init__(self, cfg: HumanizerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.inp = nn.Linear(N_INPUTS, cfg.hidden)
        self.rnn = nn.GRU(
            cfg.hidden,
            cfg.hidden,
            num_layers=cfg.layers,
            batch_first=True,
            bidirectional=True,
            dropout=cfg.dropout if cfg.layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(2 * cfg.hidden, 2 * N_CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` (B, T, N_INPUTS) -> velocity in (0, 1) and offset in (-0.5, 0.5) steps, each (B, T, 9)."""
        h, _ = self.rnn(torch.relu(self.inp(x)))
        v, o = self.out(self.drop(h)).chunk(2, dim=-1)
        return torch.sigmoid(v), 0.5 * torch.tanh(o)

    def loss(
        self, x: torch.Tensor, hits: torch.Tensor, velocity: torch.Tensor, offset: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Mean squared error of velocity (0-1) and offset (steps) over the hit cells, and their sum."""
        v, o = self(x)
        mask = hits.float()
        count = mask.sum().clamp(min=1.0)
        parts = {
            "velocity": ((v - velocity) ** 2 * mask).sum() / count,
            "offset": ((o - offset) ** 2 * mask).sum() / count,
        }
        return parts["velocity"] + parts["offset"], parts
