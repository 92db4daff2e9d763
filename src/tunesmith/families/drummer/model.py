"""The drummer: a small decoder-only Transformer over a drum part's 16th steps.

Each step of the grid is one token: which of the 9 drum classes are hit there, as one of 2^9 = 512 patterns (the
dataset paper's classes, ``representations/drums.py``). A step's input is the pattern of the step before, plus
what is known of the step itself: its position in the bar, the style, whether its bar is a fill and the tempo
(each an embedding, summed, as GPT adds positions). The model predicts the step's pattern (a 512-way
cross-entropy, so hits that go together, kick with hi-hat, are one choice) and, given the pattern, how each of its
hits is played: velocity (0-1) and offset from the grid line (in steps, -0.5 to 0.5), learned by squared error on
the hit cells as the humanizer learns them. One model writes the groove and plays it.

Pre-norm blocks (LayerNorm, causal self-attention through ``scaled_dot_product_attention``, a GELU MLP) and a
learned position per step of the window, as GPT-2; the window is short (8 bars), so generation recomputes it
each step rather than keeping a cache.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...representations.drums import N_CLASSES, POSITIONS
from .config import PRESETS, STYLES, TEMPO_EDGES, DrummerConfig  # noqa: F401

N_PATTERNS = 2**N_CLASSES
START = N_PATTERNS  # the input of a part's first step: no step before it
BITS = 1 << torch.arange(N_CLASSES)


def pattern_ids(hits: torch.Tensor) -> torch.Tensor:
    """``(..., 9)`` hits -> ``(...)`` pattern ids (class ``k`` is bit ``k``)."""
    return (hits.long() * BITS.to(hits.device)).sum(-1)


def pattern_hits(ids: torch.Tensor) -> torch.Tensor:
    """``(...)`` pattern ids -> ``(..., 9)`` bool hits (the inverse of :func:`pattern_ids`)."""
    return (ids.unsqueeze(-1) & BITS.to(ids.device)) != 0


def tempo_bins(qpm: torch.Tensor) -> torch.Tensor:
    return torch.bucketize(qpm, torch.tensor(TEMPO_EDGES, dtype=qpm.dtype, device=qpm.device), right=True)


class Block(nn.Module):
    def __init__(self, cfg: DrummerConfig) -> None:
        super().__init__()
        self.heads, self.dropout = cfg.heads, cfg.dropout
        self.norm1, self.norm2 = nn.LayerNorm(cfg.width), nn.LayerNorm(cfg.width)
        self.qkv = nn.Linear(cfg.width, 3 * cfg.width)
        self.proj = nn.Linear(cfg.width, cfg.width)
        self.mlp = nn.Sequential(nn.Linear(cfg.width, 4 * cfg.width), nn.GELU(), nn.Linear(4 * cfg.width, cfg.width))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, w = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        drop = self.dropout if self.training else 0.0
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=drop)
        x = x + self.drop(self.proj(a.transpose(1, 2).reshape(b, t, w)))
        return x + self.drop(self.mlp(self.norm2(x)))


class Drummer(nn.Module):
    def __init__(self, cfg: DrummerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.prev = nn.Embedding(N_PATTERNS + 1, w)
        self.step = nn.Embedding(cfg.context, w)
        self.position = nn.Embedding(POSITIONS, w)
        self.style = nn.Embedding(len(STYLES), w)
        self.fill = nn.Embedding(2, w)
        self.tempo = nn.Embedding(len(TEMPO_EDGES) + 1, w)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(w)
        self.head = nn.Linear(w, N_PATTERNS)
        self.hits_in = nn.Linear(N_CLASSES, w)
        self.play_head = nn.Sequential(nn.Linear(2 * w, w), nn.GELU(), nn.Linear(w, 2 * N_CLASSES))

    def forward(
        self, prev: torch.Tensor, position: torch.Tensor, style: torch.Tensor, fill: torch.Tensor, qpm: torch.Tensor
    ) -> torch.Tensor:
        """The hidden state of every step ``(B, T, width)``: ``prev`` the pattern before each step (``START`` at a
        part's start), ``position`` its place in the bar, ``fill`` (0/1) its bar's, ``qpm`` its tempo, all
        ``(B, T)``; ``style`` ``(B,)``. T is at most the context."""
        t = prev.shape[1]
        x = self.prev(prev) + self.step(torch.arange(t, device=prev.device)) + self.position(position)
        x = x + self.style(style)[:, None] + self.fill(fill) + self.tempo(tempo_bins(qpm))
        x = self.drop(x)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def play(self, h: torch.Tensor, hits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Velocity in (0, 1) and offset in (-0.5, 0.5) steps ``(B, T, 9)`` of each class were it hit, given the
        steps' hidden states and their hits."""
        v, o = self.play_head(torch.cat([h, self.hits_in(hits.to(h.dtype))], -1)).chunk(2, dim=-1)
        return torch.sigmoid(v), 0.5 * torch.tanh(o)

    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Cross-entropy of the steps' patterns (steps past a part's end are no target) plus ``played_weight``
        times the squared errors of velocity and offset on the hit cells; the parts for logging."""
        h = self(batch["prev"], batch["position"], batch["style"], batch["fill"], batch["qpm"])
        target, valid = batch["pattern"], batch["valid"]
        ce = F.cross_entropy(self.head(h)[valid].float(), target[valid])
        hits = pattern_hits(target)
        v, o = self.play(h, hits)
        mask = (hits & valid[..., None]).float()
        count = mask.sum().clamp(min=1.0)
        parts = {
            "hits": ce,
            "velocity": ((v.float() - batch["velocity"]) ** 2 * mask).sum() / count,
            "offset": ((o.float() - batch["offset"]) ** 2 * mask).sum() / count,
        }
        return ce + self.cfg.played_weight * (parts["velocity"] + parts["offset"]), parts
