"""The piano-roll GAN as a family: phrases of training pieces in, generated phrases chained into pieces out.

``model.py`` the networks and losses, ``task.py`` the D and G steps, ``sample.py`` decoding (threshold,
hysteresis, sampling), ``quality.py`` MuseGAN's statistics against real phrases (``tunesmith rollstats``)."""

from __future__ import annotations

from typing import Any

import torch

from ...dataset import Dataset
from ...errors import DatasetError
from ...notes import Notes
from ...training.stores import PhraseStore
from ...training.trainer import TrainConfig
from ..base import Family, GenerateOptions, Run, TaskBundle
from ..scoring import ValidationScorer
from .model import GANConfig, PianoRollGAN
from .phrases import packed_phrases
from .sample import DEFAULT_THRESHOLD, generate_pieces
from .spec import GANOptions, GANSpec
from .task import GANTask


class GANFamily(GANSpec, Family):
    def build_model(self, cfg: GANConfig) -> PianoRollGAN:
        return PianoRollGAN(cfg)

    def build_task(
        self, model: PianoRollGAN, cfg: GANConfig, train_cfg: TrainConfig, ds: Dataset, device: torch.device,
        start: Run | None = None,
    ) -> TaskBundle:
        train = packed_phrases(ds, "train", cfg)
        val = packed_phrases(ds, "validation", cfg)
        need = train_cfg.batch_size * cfg.d_steps
        if len(train) < need:
            raise DatasetError(
                f"{ds.root}: only {len(train)} training phrases of {cfg.roll.bars} bars, fewer than one iteration's "
                f"{need} (batch_size {train_cfg.batch_size} x d_steps {cfg.d_steps}); use more data or "
                "--set batch_size=N"
            )
        shape = cfg.roll_shape
        scorer = ValidationScorer(ds, train_cfg.seed) if train_cfg.select_by == "statistics" else None
        train_store, val_store = PhraseStore(train, shape, device), PhraseStore(val, shape, device)
        task = GANTask(model, train_store, val_store, train_cfg, device, scorer)
        return TaskBundle(task, {"train_phrases": len(train), "val_phrases": len(val)})

    def generate(self, model: PianoRollGAN, run: Run, opts: GenerateOptions, device: torch.device) -> list[Notes]:
        """``opts.n`` pieces of ``opts.length`` bars; the run's calibrated decoding unless ``opts`` asks for one."""
        if not isinstance(opts, GANOptions):
            opts = GANOptions(**vars(opts))
        return generate_pieces(model, opts, run.path, device)

    def roll_statistics(self, model: PianoRollGAN, ds: Any, **kwargs: Any) -> dict[str, Any]:
        """The "roll_statistics" feature: :func:`~tunesmith.families.gan.quality.roll_quality` (thresholds default
        to the one generation uses)."""
        from .quality import roll_quality

        if not kwargs.get("thresholds"):
            kwargs["thresholds"] = (DEFAULT_THRESHOLD,)
        return roll_quality(model, ds, **kwargs)


FAMILIES = [GANFamily()]
