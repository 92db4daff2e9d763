"""Training data kept on the training device, so that a batch is one gather there: no host-to-device copy,
loader worker or pinned buffer is needed to keep a GPU busy.

* :class:`EventStore`: rows of per-event features (the RNN's note events, C-RNN-GAN's tone steps) of many
  pieces stacked in one tensor, and windows of them that never cross a piece boundary;
* :class:`PhraseStore`: piano-roll phrases bit-packed (8 cells a byte), unpacked to float when drawn;
* :func:`evenly_spread`: the one rule for choosing a fixed, capped subset (validation batches, real samples).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def evenly_spread(n: int, cap: int | None) -> np.ndarray:
    """Indices ``0 .. n-1``; when ``cap`` is given and smaller than ``n``, ``cap`` of them evenly spread over the
    range, the first and the last included (positions of ``linspace(0, n - 1, cap)`` rounded half up)."""
    if cap is None or n <= cap:
        return np.arange(n, dtype=np.int64)
    if cap <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.floor(np.linspace(0, n - 1, cap) + 0.5).astype(np.int64)


class EventStore:
    """Event rows ``(N, F)`` of many pieces stacked on ``device`` (float32), with each piece's length.

    A window of ``length`` rows starting at row ``s`` is ``rows[s : s + length]``; :meth:`window_starts` lists
    only windows inside one piece. The whole of MAESTRO's 7.1 million notes at 4 features is about 115 MB."""

    def __init__(self, rows: np.ndarray, lengths: Sequence[int] | np.ndarray, device: torch.device) -> None:
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)]).astype(np.int64)
        if int(self.offsets[-1]) != len(rows):
            raise ValueError(f"EventStore: {len(rows)} rows but the piece lengths add up to {int(self.offsets[-1])}")
        self.rows = torch.as_tensor(rows, dtype=torch.float32, device=device)  # (N, F)

    @classmethod
    def from_pieces(cls, pieces: Sequence[np.ndarray], n_features: int, device: torch.device) -> EventStore:
        rows = np.concatenate(pieces) if len(pieces) else np.zeros((0, n_features))
        return cls(rows, [len(p) for p in pieces], device)

    @property
    def device(self) -> torch.device:
        return self.rows.device

    def pieces_at_least(self, length: int) -> np.ndarray:
        """Indices of the pieces with at least ``length`` rows."""
        return np.flatnonzero(self.lengths >= length)

    def window_starts(self, length: int, hop: int = 1, cap: int | None = None) -> np.ndarray:
        """First rows of the windows of ``length`` rows, ``hop`` rows apart, in every piece long enough, in order
        (``hop = length``: non-overlapping windows); :func:`evenly_spread` over them when there are more than
        ``cap``."""
        starts = [
            self.offsets[i] + np.arange(0, self.lengths[i] - length + 1, hop, dtype=np.int64)
            for i in self.pieces_at_least(length)
        ]
        all_starts = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
        return all_starts[evenly_spread(all_starts.size, cap)]

    def gather(self, starts: np.ndarray | torch.Tensor, length: int) -> torch.Tensor:
        """Windows ``(B, length, F)`` starting at ``starts`` (a tensor on the device or an array)."""
        s = torch.as_tensor(starts, dtype=torch.long, device=self.device)
        return self.rows[s[:, None] + torch.arange(length, device=self.device)]


def pack_phrases(phrases: np.ndarray) -> np.ndarray:
    """uint8 phrases (K, T, P, C) of 0/1 -> packed bits (K, ceil(T P C / 8)): 8 times smaller in memory."""
    return np.packbits(phrases.reshape(len(phrases), -1).astype(bool), axis=1)


class PhraseStore:
    """Piano-roll phrases kept packed (:func:`pack_phrases`) on the device; unpacked to float (B, T, P, C)."""

    def __init__(self, packed: np.ndarray, shape: tuple[int, int, int], device: torch.device) -> None:
        self.data = torch.as_tensor(packed, dtype=torch.uint8, device=device)  # (K, bytes)
        self.shape = shape
        self.size = int(np.prod(shape))
        self.shifts = torch.arange(7, -1, -1, dtype=torch.uint8, device=device)  # np.packbits: first item in the MSB

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def unpack(self, index: torch.Tensor) -> torch.Tensor:
        bits = (self.data[index].unsqueeze(-1) >> self.shifts) & 1  # (B, bytes, 8)
        return bits.flatten(1)[:, : self.size].view(-1, *self.shape).float()  # (B, T, P, C)

    def numpy(self, index: np.ndarray) -> np.ndarray:
        return self.unpack(torch.as_tensor(index, device=self.data.device)).cpu().numpy()
