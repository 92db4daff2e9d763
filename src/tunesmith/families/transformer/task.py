"""The Transformer's training task: windows of cached token ids, half of them turned fill-in-the-middle.

Each training sequence is ``context + 1`` tokens (inputs and the targets one step on). With probability
``fim_rate`` it is fill-in-the-middle (Bavarian et al. 2022 for code; MMM, Ens & Pasquier 2020, for music): a
span of 1 to ``fim_max_bars`` whole bars is cut out of a piece and the sequence reads

    FIM_PRE <tokens before the span> FIM_SUF <tokens after it> FIM_MID(k) <the span's k bars> <next bar's 1st token>

where ``FIM_MID(k)`` tells the model how many bars to write, so that one model both continues and infills; the
rest are plain windows of a piece. Every token is a target except padding. A whole epoch's plan (pieces,
offsets, spans) is drawn from the epoch's generator up front, so ``--resume`` continues exactly.

Validation reads fixed continuation windows of the validation split and reports the loss per token (nats) and
the notes per token, from which the trainer's summary gives bits per note.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from ...errors import ConfigError
from ...representations.chords import QUALITIES, ChordVocab
from ...representations.controls import KINDS, ControlBins, ControlVocab, control_tokens, values_of, window_attributes
from ...training.distributed import all_sum, data_parallel, shard, world_size
from ...training.stores import evenly_spread
from ...training.trainer import Task, TrainConfig, autocast_for, decay_groups, warmed_up
from .data import TokenCache
from .model import MusicTransformer, compile_loss

IGNORE = -100
TOKENIZER_FILE = "tokenizer.json"


@dataclass(frozen=True)
class Sentinels:
    """The model's ids after the tokenizer's: padding of short sequences, FIM_PRE, FIM_SUF, FIM_MID(1..max)."""

    base: int  # the tokenizer's vocabulary size
    max_bars: int
    pad: int

    @property
    def pre(self) -> int:
        return self.base

    @property
    def suf(self) -> int:
        return self.base + 1

    def mid(self, bars: int) -> int:
        return self.base + 1 + min(max(bars, 1), self.max_bars)

    @property
    def vocab_size(self) -> int:
        return self.base + 2 + self.max_bars


def fim_extent(n_ids: int, bars: np.ndarray, a: int, b: int, length: int, split: float) -> tuple[int, int, int, int]:
    """Where a fill-in-the-middle sequence of bars ``a <= bar < b`` reads a piece of ``n_ids`` tokens: the middle's
    first and last token (``start``, ``stop``) and the prefix's and suffix's lengths."""
    start = int(bars[a])
    stop = int(bars[b]) if b < len(bars) else n_ids
    room = max(length - 3 - (min(stop + 1, n_ids) - start), 0)
    n_pre = min(int(round(room * split)), start)
    n_suf = min(room - n_pre, n_ids - stop)
    n_pre = min(room - n_suf, start)  # what the suffix leaves unused goes to the prefix
    return start, stop, n_pre, n_suf


def fim_prompt(prefix, suffix, bars: int, s: Sentinels, order: str = "PSM") -> list[np.ndarray]:
    """The parts of a fill-in-the-middle prompt, the middle to follow: ``PSM``: ``FIM_PRE prefix FIM_SUF suffix
    FIM_MID(k)``; ``SPM``: ``FIM_SUF suffix FIM_PRE prefix FIM_MID(k)`` (Bavarian et al. 2022: the middle then
    follows the prefix it continues, as in plain continuation)."""
    pre, suf = [np.asarray([s.pre]), np.asarray(prefix)], [np.asarray([s.suf]), np.asarray(suffix)]
    parts = pre + suf if order == "PSM" else suf + pre
    return [*parts, np.asarray([s.mid(bars)])]


def fim_sequence(
    ids: np.ndarray, bars: np.ndarray, a: int, b: int, length: int, split: float, s: Sentinels, order: str = "PSM"
) -> np.ndarray:
    """A fill-in-the-middle sequence of at most ``length`` tokens for bars ``a <= bar < b`` of a piece: the middle
    (with the next bar's first token) whole if it fits, the rest of the room shared between the prefix (the
    ``split`` part, its end kept) and the suffix (its start kept); ``order``: see :func:`fim_prompt`."""
    start, stop, n_pre, n_suf = fim_extent(len(ids), bars, a, b, length, split)
    middle = ids[start : min(stop + 1, len(ids))]
    prompt = fim_prompt(ids[start - n_pre : start], ids[stop : stop + n_suf], b - a, s, order)
    return np.concatenate([*prompt, middle]).astype(ids.dtype)[:length]


@dataclass(frozen=True)
class ControlSetup:
    """A run's attribute controls: their token ids, the training data's level splits and the dropout rates."""

    vocab: ControlVocab
    bins: ControlBins
    dropout: float
    none: float

    def values(self, stats: np.ndarray) -> dict[str, object]:
        return values_of(window_attributes(stats), self.bins)

    def tokens(self, values: dict[str, object], keep: np.ndarray | None = None, none: bool = False) -> list[int]:
        """``CONTROLS`` and the tokens of ``values``, the kinds where ``keep`` is False (or all, ``none``) left out."""
        if none:
            return [self.vocab.start]
        if keep is not None:
            values = {k: v for k, v, kept in zip(KINDS, (values.get(k) for k in KINDS), keep, strict=True) if kept}
        return control_tokens(values, self.vocab)


@dataclass(frozen=True)
class ChordSetup:
    """A run's chord controls: their token ids and how often a bar's (``dropout``) or a sequence's (``none``) are
    left out."""

    vocab: ChordVocab
    dropout: float
    none: float

    def inline(self, ids: np.ndarray, bars: np.ndarray, table: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """A piece's ``ids`` with each bar's chord tokens (``table``: its rows of ``BAR_CHORD_DTYPE``) after its
        ``Bar`` token, where kept (drawn from ``seed``; a bar whose chords are dropped has as many ``CHORD_NONE``
        in their place), and the bars' new starts."""
        rng = np.random.default_rng(seed)
        if rng.random() < self.none or len(bars) == 0:
            return ids, bars
        n = min(len(bars), len(table))
        keep = rng.random(n) >= self.dropout
        c, b = table["chord"][:n].astype(np.int64), table["bass"][:n].astype(np.int64)
        first = c[:, 0] >= 0
        second = first & (c[:, 1] >= 0)
        valid = np.stack([first, first & (b[:, 0] >= 0), second, second & (b[:, 1] >= 0)], 1)
        bass0 = self.vocab.base + 12 * len(QUALITIES)
        vals = np.stack([self.vocab.base + c[:, 0], bass0 + b[:, 0], self.vocab.base + c[:, 1], bass0 + b[:, 1]], 1)
        vals = np.where(keep[:, None], vals, self.vocab.none)
        where = np.repeat(bars[:n, None] + 1, 4, axis=1)
        out = np.insert(np.asarray(ids, dtype=np.int64), where[valid], vals[valid])
        added = valid.sum(axis=1)
        moved = bars.copy()
        moved[:n] += np.concatenate([[0], np.cumsum(added)[:-1]])
        moved[n:] += added.sum()
        return out, moved


def bars_between(bars: np.ndarray, lo: int, hi: int) -> slice:
    """The bars (indices into a piece's bar starts) that tokens ``lo <= i < hi`` of the piece lie in."""
    first = max(int(np.searchsorted(bars, lo, side="right")) - 1, 0)
    last = max(int(np.searchsorted(bars, hi, side="left")), first + 1)
    return slice(first, last)


def with_prefix(seq: np.ndarray, prefix: list[int], length: int) -> np.ndarray:
    return np.concatenate([np.asarray(prefix, dtype=np.int64), seq])[:length] if prefix else seq


def stack(rows: list[np.ndarray], length: int, pad: int, device: torch.device) -> torch.Tensor:
    """Token rows as one ``(B, length)`` batch, short rows padded with ``pad``."""
    out = np.full((len(rows), length), pad, dtype=np.int64)
    for r, q in enumerate(rows):
        out[r, : len(q)] = q
    return torch.as_tensor(out, device=device)


def inputs_and_targets(
    batch: torch.Tensor, pad: int, first_control: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and next-token targets of a batch; padding is no target, nor are control tokens (ids from
    ``first_control`` on: they are given, not predicted)."""
    x, y = batch[:, :-1], batch[:, 1:].clone()
    y[y == pad] = IGNORE
    if first_control is not None:
        y[y >= first_control] = IGNORE
    return x, y


def nll_sums(
    model: MusicTransformer,
    batch: torch.Tensor,
    pad: int,
    notes_per_id: torch.Tensor,
    first_control: int | None = None,
) -> tuple[float, int, float]:
    """Summed negative log-likelihood (nats) of a batch's targets, their number and the notes they start."""
    x, y = inputs_and_targets(batch, pad, first_control)
    logits = model(x)
    nll = F.cross_entropy(logits.flatten(0, 1).float(), y.flatten(), ignore_index=IGNORE, reduction="sum")
    valid = y != IGNORE
    return float(nll), int(valid.sum()), float(notes_per_id[y[valid]].sum())


class TokenWindows:
    """Token windows of a split's pieces (in a :class:`TokenCache`), drawn as whole epochs' plans."""

    def __init__(self, cache: TokenCache, pieces: np.ndarray, length: int) -> None:
        self.cache = cache
        self.pieces = np.array([p for p in pieces if cache.offsets[p + 1] > cache.offsets[p]], dtype=np.int64)
        self.lengths = np.array([cache.offsets[p + 1] - cache.offsets[p] for p in self.pieces], dtype=np.int64)
        self.length = length  # tokens per sequence (context + 1)
        self.tokens = int(self.lengths.sum())

    def window(self, piece: int, offset: int) -> np.ndarray:
        lo = int(self.cache.offsets[piece]) + offset
        hi = min(lo + self.length, int(self.cache.offsets[piece + 1]))
        return np.asarray(self.cache.ids[lo:hi], dtype=np.int64)

    def fixed(self, max_windows: int | None) -> list[tuple[int, int]]:
        """Non-overlapping windows of every piece in order, evenly spread when capped (validation)."""
        spots = [
            (int(p), o)
            for p, n in zip(self.pieces, self.lengths, strict=True)
            for o in range(0, n - 1, self.length - 1)
        ]
        return [spots[i] for i in evenly_spread(len(spots), max_windows)]


class TransformerTask(Task):
    schedules_lr = True

    def __init__(
        self,
        model: MusicTransformer,
        train: TokenWindows,
        val: TokenWindows,
        sentinels: Sentinels,
        notes_per_id: np.ndarray,
        cfg: TrainConfig,
        device: torch.device,
        *,
        fim_rate: float,
        fim_max_bars: int,
        grad_accum: int = 1,
        tokenizer_json: bytes = b"",
        compile: bool = False,
        controls: ControlSetup | None = None,
        fim_order: str = "PSM",
        chords: ChordSetup | None = None,
    ) -> None:
        self.model = model.to(device)
        self.cfg, self.device = cfg, device
        self.train_data, self.val_data = train, val
        self.s = sentinels
        self.fim_rate, self.fim_max_bars = fim_rate, fim_max_bars
        self.grad_accum = grad_accum
        self.notes_per_id = torch.as_tensor(
            np.concatenate([notes_per_id, np.zeros(sentinels.vocab_size - len(notes_per_id), dtype=np.int64)]),
            device=device,
        )
        # AdamW as GPT-2 and nanoGPT train: decay on matrices only, betas (0.9, 0.95)
        groups = decay_groups(model, cfg.weight_decay)
        fused = device.type in ("cpu", "cuda")
        self.opt = torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95), fused=fused)
        self.autocast = autocast_for(cfg, device)
        self.parallel = data_parallel(self.model)
        self.loss_fn = compile_loss(self.model.loss) if compile else self.model.loss
        self.batch = cfg.batch_size
        self.tokenizer_json = tokenizer_json
        self.controls = controls
        self.fim_order = fim_order
        self.chords = chords
        # control and chord tokens come after the sentinels: given, never targets
        self.first_control = sentinels.vocab_size if (controls or chords) else None
        # validation reads every window as unconditioned music: CONTROLS alone (a controls run sees it first always)
        self.val_prefix = [controls.vocab.start] if controls else []

    def attach_run(self, run: Path) -> None:
        """A run resumed (or continued) must decode as it encoded: its ``tokenizer.json`` must give the ids that
        this task's data was tokenized with."""
        saved = run / TOKENIZER_FILE
        if not saved.is_file() or not self.tokenizer_json:
            return
        ours, theirs = json.loads(self.tokenizer_json), json.loads(saved.read_bytes())
        if ours != theirs:
            what = [k for k in sorted(set(ours) | set(theirs)) if ours.get(k) != theirs.get(k)]
            raise ConfigError(
                f"{saved}: the run's tokenizer differs from the one its data is tokenized with now (in "
                f"{', '.join(what[:4])}); a run must decode as it was trained: start a new run with --out"
            )

    # ------------------------------------------------------------------------------------------------ batches
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"adamw": self.opt}

    def num_batches(self, epoch: int) -> int:
        return max(1, self.train_data.tokens // (self.batch * (self.train_data.length - 1)))

    def plan(self, epoch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Every choice of an epoch at once: piece, offset, FIM or not, the span and the prefix share."""
        n = self.num_batches(epoch) * self.batch
        data = self.train_data
        p = data.lengths / data.lengths.sum()
        plan = {
            "piece": rng.choice(len(data.pieces), size=n, p=p),
            "u_offset": rng.random(n),
            "fim": rng.random(n) < self.fim_rate,
            "u_bars": rng.random(n),
            "u_start": rng.random(n),
            "split": rng.random(n),
        }
        if self.controls:  # drawn after the rest: a run without controls draws what it always drew
            plan["ctrl_keep"] = rng.random((n, len(KINDS))) >= self.controls.dropout
            plan["ctrl_none"] = rng.random(n) < self.controls.none
        if self.chords:  # drawn after the rest, likewise: each sequence's own draws of which bars keep their chords
            plan["chord_seed"] = rng.integers(0, 2**62, size=n)
        return plan

    def sequence(self, plan: dict[str, np.ndarray], i: int) -> np.ndarray:
        data = self.train_data
        k = int(plan["piece"][i])
        piece, n = int(data.pieces[k]), int(data.lengths[k])
        L = data.length
        bars = data.cache.piece_bars(piece)
        ids = None
        if self.chords:  # each bar's chord tokens after its Bar token (where kept): a longer piece, bars moved
            table = data.cache.piece_chords(piece)
            ids, bars = self.chords.inline(data.cache.piece(piece), bars, table, int(plan["chord_seed"][i]))
            n = len(ids)
        if plan["fim"][i] and len(bars) >= 2:
            ids = data.cache.piece(piece) if ids is None else ids
            span = 1 + int(plan["u_bars"][i] * min(self.fim_max_bars, len(bars) - 1))
            a = int(plan["u_start"][i] * (len(bars) - span + 1))
            a = min(a, len(bars) - span)
            seq = fim_sequence(ids, bars, a, a + span, L, float(plan["split"][i]), self.s, self.fim_order)
            start, stop, n_pre, n_suf = fim_extent(n, bars, a, a + span, L, float(plan["split"][i]))
            lo, hi = start - n_pre, stop + n_suf
        else:
            offset = int(plan["u_offset"][i] * max(n - L, 0) + 0.5) if n > L else 0
            seq = data.window(piece, offset) if ids is None else ids[offset : offset + L]
            lo, hi = offset, offset + len(seq)
        if not self.controls:
            return seq
        stats = data.cache.piece_bar_stats(piece)[bars_between(bars, lo, hi)]
        prefix = self.controls.tokens(
            self.controls.values(stats), plan["ctrl_keep"][i], bool(plan["ctrl_none"][i])
        )
        return with_prefix(seq, prefix, L)

    def _stack(self, seqs: list[np.ndarray]) -> torch.Tensor:
        return stack(seqs, self.train_data.length, self.s.pad, self.device)

    def batches(self, epoch: int, rng: np.random.Generator, start: int) -> Iterator[torch.Tensor]:
        plan = self.plan(epoch, rng)
        part = shard(self.batch)
        rows = np.arange(self.batch)[part]
        for b in range(start, self.num_batches(epoch)):
            yield self._stack([self.sequence(plan, b * self.batch + int(r)) for r in rows])

    # ------------------------------------------------------------------------------------------------ steps
    def lr_at(self, step: int) -> float:
        """Linear warm-up over the first steps, then the configured rate, times the trainer's decay (lr_decay)."""
        return warmed_up(self.cfg, step, self.lr_scale)

    def _targets(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return inputs_and_targets(batch, self.s.pad, self.first_control)

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        for g in self.opt.param_groups:
            g["lr"] = self.lr_at(step)
        self.opt.zero_grad(set_to_none=True)
        total = 0.0
        micro = [self._targets(part) for part in batch.chunk(self.grad_accum)]
        # the mean over every target of the whole batch, on every rank and in every micro-batch: summed losses over
        # the count of all targets (given tokens, controls and chords, are none, and rows hold different numbers of
        # them: a mean of the parts' means would weigh their targets unequally). Data-parallel training averages the
        # ranks' gradients, hence the world size.
        count = sum(int((y != IGNORE).sum()) for _, y in micro)
        everywhere = float(all_sum(torch.tensor(float(count)))) if world_size() > 1 else float(count)
        scale = world_size() / max(everywhere, 1.0)
        for x, y in micro:
            with self.autocast:
                loss = self.parallel(self.loss_fn, x, y, IGNORE, "sum") * scale
            loss.backward()
            total += float(loss.detach())  # each rank S_r W / N: their mean over the ranks is the whole batch's
        if self.cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.opt.step()
        return {"loss": total}

    def val_batches(self) -> Iterator[torch.Tensor]:
        cap = None if self.cfg.val_max_batches is None else self.cfg.val_max_batches * self.batch
        spots = self.val_data.fixed(cap)
        for k in range(0, len(spots), self.batch):
            rows = [self.val_data.window(p, o) for p, o in spots[k : k + self.batch]]
            yield self._stack([with_prefix(r, self.val_prefix, self.val_data.length) for r in rows])

    def eval_step(self, batch: torch.Tensor) -> tuple[dict[str, float], int]:
        with self.autocast:
            nll, n, notes = nll_sums(self.model, batch, self.s.pad, self.notes_per_id, self.first_control)
        return {"loss": nll / max(n, 1), "notes_per_token": notes / max(n, 1)}, n

    def summarize_validation(self, val: dict[str, float]) -> dict[str, float]:
        if val.get("notes_per_token"):
            val["bits_per_note"] = val["loss"] / val["notes_per_token"] / math.log(2)
        return val
