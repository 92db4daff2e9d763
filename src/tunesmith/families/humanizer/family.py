"""The humanizer as a family: drum grids of the training split in, and :meth:`HumanizerFamily.humanize`, which
plays a programmed drum part as a drummer would (its declarations: ``spec.py``)."""

from __future__ import annotations

import numpy as np
import torch

from ...dataset import Dataset
from ...errors import ConfigError, DatasetError
from ...io import read
from ...notes import Notes, make_tempo_map
from ...representations.drums import CLASS_PITCHES, STEPS_PER_QUARTER, drum_cells, drum_grid
from ...training.trainer import TrainConfig
from ...utils import eval_mode
from ..base import Family, GenerateOptions, Run, TaskBundle
from .model import Humanizer, HumanizerConfig, features
from .spec import HumanizerSpec
from .task import HumanizerTask, Windows

N_PRIMERS = 64  # programmed training windows kept in a run, to show what it does without a file
#: the velocity of the programmed parts that ``generate`` plays without a primer (a drum machine's default)
PROGRAMMED_VELOCITY = 100


def grids(ds: Dataset, split: str) -> list:
    return [drum_grid(ds[int(i)]) for i in ds.indices(split)]


@torch.no_grad()
def predict(model: Humanizer, hits: np.ndarray, position: np.ndarray, qpm: np.ndarray, device: torch.device):
    """Velocity and offset ``(T, 9)`` for a whole part's grid: read in windows of the trained length, half a
    window apart, each step's prediction the mean of the windows that hold it, weighted towards their middles
    (a window's edges see the least context)."""
    steps, window = hits.shape[0], model.cfg.window
    hop = max(window // 2, 1)
    weight = np.minimum(np.arange(window) + 1, window - np.arange(window)).astype(np.float32)
    velocity = np.zeros(hits.shape, dtype=np.float32)
    offset = np.zeros(hits.shape, dtype=np.float32)
    total = np.zeros(steps, dtype=np.float32)
    starts = list(range(0, max(steps - hop, 1), hop))
    with eval_mode(model):
        for s in starts:
            n = min(window, steps - s)
            x = features(
                torch.as_tensor(hits[None, s : s + n], device=device),
                torch.as_tensor(position[None, s : s + n], device=device),
                torch.as_tensor(qpm[None, s : s + n], device=device),
            )
            v, o = model(x)
            w = weight[:n] if n == window else np.minimum(np.arange(n) + 1, window - np.arange(n)).astype(np.float32)
            velocity[s : s + n] += w[:, None] * v[0].float().cpu().numpy()
            offset[s : s + n] += w[:, None] * o[0].float().cpu().numpy()
            total[s : s + n] += w
    total = np.maximum(total, 1e-9)[:, None]
    return velocity / total, offset / total


class HumanizerFamily(HumanizerSpec, Family):
    def build_model(self, cfg: HumanizerConfig) -> Humanizer:
        return Humanizer(cfg)

    def build_task(
        self,
        model: Humanizer,
        cfg: HumanizerConfig,
        train_cfg: TrainConfig,
        ds: Dataset,
        device: torch.device,
        start: Run | None = None,
    ) -> TaskBundle:
        train_w = Windows.build(grids(ds, "train"), cfg.window)
        val_w = Windows.build(grids(ds, "validation"), cfg.window)
        if len(train_w) < train_cfg.batch_size:
            raise DatasetError(
                f"{ds.root}: only {len(train_w)} windows of drums in the train split, fewer than one batch of "
                f"{train_cfg.batch_size}: the humanizer learns from drum parts (e.g. the Groove MIDI Dataset)"
            )
        if len(val_w) == 0:
            raise DatasetError(f"{ds.root}: the validation split has no drums to measure the humanizer on")
        pick = np.random.default_rng(train_cfg.seed).choice(len(train_w), min(N_PRIMERS, len(train_w)), replace=False)
        arrays = {
            "primer_hits": train_w.hits[pick],
            "primer_position": train_w.position[pick],
            "primer_qpm": train_w.qpm[pick],
        }
        info = {"train_windows": len(train_w), "val_windows": len(val_w)}
        return TaskBundle(HumanizerTask(model, train_w, val_w, train_cfg, device), info, arrays)

    def humanize(self, model: Humanizer, notes: Notes, amount: float, device: torch.device) -> Notes:
        """``notes`` with every drum note of the 9 classes played as the model hears it: its onset moved to its grid
        step plus the predicted offset and its velocity the predicted one, each ``amount`` of the way from where
        the note is now (0: unchanged; 1: the model's; above 1: exaggerated). The note keeps its length, pitch and
        track, and its place in the table (note ``i`` is note ``i``); pitched notes and drum notes of no class are
        untouched."""
        if not np.isfinite(amount) or amount < 0:
            raise ConfigError(f"--amount must be a number >= 0, got {amount}")
        if amount == 0:
            return notes.copy()
        cells = drum_cells(notes)
        if cells.index.size == 0:
            return notes.copy()
        g = drum_grid(notes, cells)
        velocity, offset = predict(model, g.hits, g.position, g.qpm, device)
        out = notes.copy()
        a = out.notes
        i = cells.index
        shift = amount * (offset[cells.step, cells.cls] - cells.offset) / STEPS_PER_QUARTER
        shift = np.maximum(shift, -a["start_qn"][i])  # nothing before the piece's start
        a["start_qn"][i] += shift
        a["end_qn"][i] += shift
        played = a["velocity"][i] + amount * (velocity[cells.step, cells.cls] * 127.0 - a["velocity"][i])
        a["velocity"][i] = np.clip(np.rint(played), 1, 127).astype(a["velocity"].dtype)
        return out.with_qn_times(a)

    def generate(self, model: Humanizer, run: Run, opts: GenerateOptions, device: torch.device) -> list[Notes]:
        """The primer (a MIDI file's drums) humanized; without one, ``opts.n`` of the programmed 2-bar training
        windows the run keeps (on the grid, velocity 100), humanized."""
        if opts.primer is not None:
            notes = read(opts.primer)
            if drum_cells(notes).index.size == 0:
                raise ConfigError(f"{opts.primer}: no drum notes (channel 10, the 9 kit classes) to humanize")
            return [self.humanize(model, notes, 1.0, device)]
        hits, qpm = run.array("primer_hits"), run.array("primer_qpm")
        pick = np.random.default_rng(opts.seed).choice(len(hits), size=opts.n, replace=opts.n > len(hits))
        out = []
        for k in pick.tolist():
            step, cls = np.nonzero(hits[k])
            start = step / STEPS_PER_QUARTER
            part = Notes.from_arrays(
                CLASS_PITCHES[cls],
                start_qn=start,
                end_qn=start + 0.25 / STEPS_PER_QUARTER * 2,
                velocity=PROGRAMMED_VELOCITY,
                is_drum=True,
                tempos=make_tempo_map([0.0], [float(qpm[k][0])]),
            ).sorted()
            out.append(self.humanize(model, part, 1.0, device))
        return out


FAMILIES = [HumanizerFamily()]
