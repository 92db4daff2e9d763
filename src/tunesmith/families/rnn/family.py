"""The RNN note model as a family: note-event windows in, sampled note events out (its declarations: ``spec.py``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ...dataset import Dataset
from ...errors import CheckpointError, DatasetError
from ...notes import Notes
from ...representations.note_events import DURATION, N_FEATURES, STEP, Windows, from_note_events, to_note_events
from ...training.stores import evenly_spread
from ...training.trainer import TrainConfig
from ...utils import eval_mode
from ..base import Family, GenerateOptions, Run, TaskBundle, seeded_generator
from .model import NoteRNN, RNNConfig, time_bin_quantiles
from .sample import generate_rnn, load_primer
from .spec import RNNSpec
from .task import RNNTask

N_PRIMERS = 256  # training windows kept in a run, to seed generation without the dataset
TIMES = (("step", STEP), ("duration", DURATION))  # the binned times: name, event column


def events_by_split(ds: Dataset, split: str) -> list[np.ndarray]:
    return [to_note_events(ds[int(i)]) for i in ds.indices(split)]


def time_draws(cfg: RNNConfig, run: Run) -> tuple[torch.Tensor, torch.Tensor] | None:
    """What the run's sampled time bins decode to (``cfg.time_decoding``): None for the bins' fixed values (or
    regression timing); else (step, duration) values per bin, ``(time_bins, Q)`` each, to draw from.

    ``"data"`` reads the training split's quantiles kept in the run. A run trained before they were kept
    (2026-12-02) has none: its quantiles are computed from the training windows it keeps as primers
    (``N_PRIMERS`` x ``seq_length`` events of the training split), and a bin none of those reaches (every bin,
    without primers) is drawn evenly within its edges."""
    if cfg.timing != "bins" or cfg.time_decoding == "value":
        return None
    if cfg.time_decoding == "uniform":
        empty = time_bin_quantiles(np.zeros(0), cfg)  # every bin: evenly within its edges
        return torch.as_tensor(empty), torch.as_tensor(empty)
    try:
        draws = [run.array(f"{name}_quantiles") for name, _ in TIMES]
    except CheckpointError:  # a run from before 2026-12-02
        try:
            primers = run.array("primers")
        except CheckpointError:  # nothing of the training data: every bin evenly within its edges
            primers = np.zeros((0, 0, N_FEATURES), dtype=np.float32)
        draws = [time_bin_quantiles(primers[..., col], cfg) for _, col in TIMES]
    for (name, _), d in zip(TIMES, draws, strict=True):
        if d.ndim != 2 or d.shape[0] != cfg.time_bins:
            raise CheckpointError(f"{run.path}: {name}_quantiles has shape {d.shape}, expected ({cfg.time_bins}, Q)")
    return torch.as_tensor(draws[0], dtype=torch.float32), torch.as_tensor(draws[1], dtype=torch.float32)


class RNNFamily(RNNSpec, Family):
    def build_model(self, cfg: RNNConfig) -> NoteRNN:
        return NoteRNN(cfg)

    def build_task(
        self, model: NoteRNN, cfg: RNNConfig, train_cfg: TrainConfig, ds: Dataset, device: torch.device,
        start: Run | None = None,
    ) -> TaskBundle:
        train_w = Windows.build(events_by_split(ds, "train"), cfg.seq_length)
        val_w = Windows.build(events_by_split(ds, "validation"), cfg.seq_length)
        if len(train_w) < train_cfg.batch_size:
            raise DatasetError(
                f"{ds.root}: only {len(train_w)} training windows of {cfg.seq_length + 1} notes, fewer than one batch "
                f"of {train_cfg.batch_size}; use more data or --set batch_size=N"
            )
        rng = np.random.default_rng(train_cfg.seed)
        pick = rng.choice(len(train_w), size=min(N_PRIMERS, len(train_w)), replace=False)
        primers = np.stack([train_w.events[s : s + cfg.seq_length] for s in train_w.starts[pick]]).astype(np.float32)
        arrays = {"primers": primers}
        if cfg.timing == "bins":
            # what a sampled time bin decodes to (time_decoding="data"): the training split's own times in it
            arrays |= {f"{name}_quantiles": time_bin_quantiles(train_w.events[:, col], cfg) for name, col in TIMES}
        return TaskBundle(
            RNNTask(model, train_w, val_w, train_cfg, device),
            {"train_windows": len(train_w), "val_windows": len(val_w)},
            arrays,
        )

    def generate(self, model: NoteRNN, run: Run, opts: GenerateOptions, device: torch.device) -> list[Notes]:
        """Continue a primer (or training excerpts kept in the run) by ``opts.length`` sampled notes each; every
        returned piece holds its primer, then the continuation."""
        if opts.primer is not None:
            primers = np.repeat(load_primer(opts.primer)[None].astype(np.float32), opts.n, axis=0)
        else:
            pool = run.array("primers")
            pick = np.random.default_rng(opts.seed).choice(len(pool), size=opts.n, replace=opts.n > len(pool))
            primers = pool[pick]
        x = torch.as_tensor(primers[..., :N_FEATURES], dtype=torch.float32, device=device)
        events = (
            generate_rnn(
                model,
                x,
                opts.length,
                temperature=opts.temperature,
                top_k=opts.top_k,
                top_p=opts.top_p,
                generator=seeded_generator(opts.seed, device),
                time_draws=time_draws(model.cfg, run),
            )
            .cpu()
            .numpy()
        )
        pieces = []
        for i in range(opts.n):
            whole = np.concatenate([primers[i].astype(np.float64), events[i].astype(np.float64)])
            pieces.append(from_note_events(whole).with_metadata(primer_notes=str(len(primers[i]))))
        return pieces

    @torch.no_grad()
    def likelihood(
        self, model: NoteRNN, run: Run, ds: Dataset, split: str, device: torch.device, max_windows: int
    ) -> dict[str, float]:
        """Bits per note of ``split``'s windows (evenly spread, at most ``max_windows``), every position predicted:
        the cross-entropies of pitch and of the step and duration bins (and velocity bins) summed. Only the binned
        timing is a distribution over notes; regression timing has no likelihood (empty)."""
        cfg = model.cfg
        if cfg.timing != "bins":
            return {}
        windows = Windows.build(events_by_split(ds, split), cfg.seq_length)
        if len(windows) == 0:
            return {}
        pick = windows.starts[evenly_spread(len(windows), max_windows)]
        total, count = 0.0, 0
        with eval_mode(model):
            for k in range(0, len(pick), 256):
                batch = torch.as_tensor(
                    np.stack([windows.events[s : s + cfg.seq_length + 1] for s in pick[k : k + 256]]),
                    dtype=torch.float32,
                    device=device,
                )
                x, y = batch[:, :-1], batch[:, 1:]
                out, _ = model(x)
                _, parts = model.loss(x, y, out)
                nats = sum(float(parts[name]) for name in ("pitch", "step", "duration", "velocity") if name in parts)
                total += nats * y.shape[0] * y.shape[1]
                count += y.shape[0] * y.shape[1]
        return {"bits_per_note": total / count / math.log(2), "notes": float(count)}

    @torch.no_grad()
    def prediction_errors(
        self, model: NoteRNN, run: Run, ds: Dataset, split: str, device: torch.device, max_windows: int, seed: int
    ) -> dict[str, float]:
        """Squared error of the predicted step and duration of each window's last note (the paper's measure: the
        next note after ``seq_length`` notes) on up to ``max_windows`` windows of ``split`` (evenly spread), in
        units of the training split's standard deviation of each. The point estimate is the regression output, or
        the mean of the binned distribution. Pitch is a class, not a number, and is left out."""
        cfg = model.cfg
        windows = Windows.build(events_by_split(ds, split), cfg.seq_length)
        if len(windows) == 0:
            return {}
        train_events = np.concatenate(events_by_split(ds, "train") or [np.zeros((0, N_FEATURES))])
        pick = windows.starts[evenly_spread(len(windows), max_windows)]
        batch = torch.as_tensor(
            np.stack([windows.events[s : s + cfg.seq_length + 1] for s in pick]), dtype=torch.float32, device=device
        )
        with eval_mode(model):
            out, _ = model(batch[:, :-1], last_only=True)
        errors: dict[str, Any] = {}
        for name, col in (("step", STEP), ("duration", DURATION)):
            pred = getattr(out, name)[:, -1]
            if cfg.timing == "bins":
                pred = model.expected_time(pred)
            std = float(train_events[:, col].std()) or 1.0
            err = float(((pred.double().cpu().numpy() - batch[:, -1, col].double().cpu().numpy()) ** 2).mean())
            errors[name] = err / std**2
        return errors


FAMILIES = [RNNFamily()]
