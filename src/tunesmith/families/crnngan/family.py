"""C-RNN-GAN (Mogren 2016) as three families: ``crnngan`` (one tone per step), ``crnngan3`` (up to three tones
that start together per step, the paper's C-RNN-GAN-3) and ``baseline`` (G alone, trained on next-event squared
error). Tone events in, generated tone events out; the feature normalisation fitted on the training split is kept
in the run's ``config.json`` (``data.tones``) so that generation inverts it.

``model.py`` G, D and the losses, ``task.py`` pretraining, curriculum and the adversarial steps, ``sample.py`` G's
unroll from noise or a primer."""

from __future__ import annotations

import numpy as np
import torch

from ...dataset import Dataset
from ...errors import ConfigError, DatasetError
from ...notes import Notes
from ...representations.tones import TICKS_PER_QUARTER, ToneConfig, ToneNormalizer, to_tones
from ...training.stores import EventStore
from ...training.trainer import TrainConfig
from ...utils import eval_mode
from ..base import Family, GenerateOptions, Run, TaskBundle, seeded_generator
from ..scoring import ValidationScorer
from .model import CRNNGAN, CRNNGANConfig
from .sample import generate_tones, normalizer_of
from .spec import SUMMARIES, CRNNGANSpec
from .task import CRNNGANTask


def tones_by_split(ds: Dataset, split: str, tones: ToneConfig) -> list[np.ndarray]:
    return [to_tones(ds[int(i)], tones) for i in ds.indices(split)]


class CRNNGANFamily(CRNNGANSpec, Family):
    """One of the three kinds (:data:`~tunesmith.families.crnngan.config.KINDS`): they share the model, the task
    and generation, and differ in settings."""

    def build_model(self, cfg: CRNNGANConfig) -> CRNNGAN:
        return CRNNGAN(cfg)

    def build_task(
        self, model: CRNNGAN, cfg: CRNNGANConfig, train_cfg: TrainConfig, ds: Dataset, device: torch.device,
        start: Run | None = None,
    ) -> TaskBundle:
        if train_cfg.precision != "fp32":
            raise ConfigError("crnngan: only precision fp32 is supported (G's unrolled pass is written for it)")
        tones = ToneConfig(tones_per_step=cfg.tones_per_step)
        train = tones_by_split(ds, "train", tones)
        val = tones_by_split(ds, "validation", tones)
        long_enough = sum(len(p) >= cfg.max_length for p in train) * cfg.windows_per_piece
        if long_enough < train_cfg.batch_size:
            raise DatasetError(
                f"{ds.root}: only {long_enough} training windows of {cfg.max_length} tone steps (pieces at least "
                f"that long x windows_per_piece), fewer than one batch of {train_cfg.batch_size}; use more data or "
                "--set max_length=N / batch_size=N / windows_per_piece=N"
            )
        norm = ToneNormalizer.fit(train, cfg.tones_per_step)
        scorer = ValidationScorer(ds, train_cfg.seed) if train_cfg.select_by == "statistics" else None
        task = CRNNGANTask(model, train, val, train_cfg, device, norm, scorer)
        info = {
            "tones": {
                "ticks_per_quarter": TICKS_PER_QUARTER,
                "tones_per_step": cfg.tones_per_step,
                **norm.to_dict(),
                **({"slot_shares": task.slot_shares} if task.slot_shares else {}),
            },
            "train_pieces": len(train),
            "train_steps": int(sum(len(p) for p in train)),
            "val_pieces": len(val),
            "val_windows": len(task.val_starts),
        }
        return TaskBundle(task, info)

    def generate(self, model: CRNNGAN, run: Run, opts: GenerateOptions, device: torch.device) -> list[Notes]:
        return generate_tones(model, run, opts, device)

    @torch.no_grad()
    def prediction_errors(
        self, model: CRNNGAN, run: Run, ds: Dataset, split: str, device: torch.device, max_windows: int, seed: int
    ) -> dict[str, float]:
        """G's next-event squared error, teacher-forced (noise from ``seed`` concatenated as in training), on up to
        ``max_windows`` non-overlapping windows of ``max_length`` tone steps of ``split``, per feature (length,
        frequency, intensity, time; pooled over the tone slots of crnngan3) in units of the training split's
        standard deviation (the run's normalisation)."""
        tones, norm = normalizer_of(run)
        seqs = EventStore.from_pieces(
            [norm.normalize(p) for p in tones_by_split(ds, split, tones)], tones.n_features, device
        )
        length = model.cfg.max_length
        starts = seqs.window_starts(length, hop=length, cap=max_windows)
        if starts.size == 0:
            return {}
        x = seqs.gather(starts, length)  # (B, T, F)
        z = model.noise(len(starts), length, generator=seeded_generator(seed, device), device=device)
        with eval_mode(model):
            pred, _ = model.g.teacher_forced(z, model.g.shifted(x))
        err = ((pred - x) ** 2).double().mean(dim=(0, 1)).cpu().numpy()  # (F,)
        k = tones.tones_per_step
        names = ("length", "frequency", "intensity")
        per = {name: float(err[i : 3 * k : 3].mean()) for i, name in enumerate(names)}
        per["time"] = float(err[-1])
        return per


FAMILIES = [CRNNGANFamily(name, summary) for name, summary in SUMMARIES.items()]
