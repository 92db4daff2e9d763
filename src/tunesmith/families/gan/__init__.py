"""The piano-roll GAN as a family: phrases of training pieces in, generated phrases chained into pieces out.

``model.py`` the networks and losses, ``task.py`` the D and G steps, ``sample.py`` decoding (threshold,
hysteresis, sampling), ``quality.py`` MuseGAN's statistics against real phrases (``tunesmith rollstats``)."""

from __future__ import annotations

import torch

from ...dataset import Dataset
from ...errors import DatasetError
from ...notes import Notes
from ...training.stores import PhraseStore
from ...training.trainer import TrainConfig
from ..base import Family, GenerateOptions, Run, TaskBundle
from ..scoring import ValidationScorer
from .model import PRESETS, GANConfig, PianoRollGAN
from .phrases import packed_phrases
from .sample import GANOptions, generate_pieces
from .task import GANTask

#: A GAN's losses measure its two networks against each other: its weights are kept by the music they make
#: (the decoding calibrated on validation phrases, the protocol's statistics against validation excerpts).
SELECT = {"select_by": "statistics"}


class GANFamily(Family):
    name = "gan"
    summary = "the piano-roll GAN (DCGAN-style convolutional generator and discriminator)"
    config_cls = GANConfig
    presets = PRESETS
    train_presets = {
        # TensorFlow's DCGAN tutorial (which the paper's GAN follows): BATCH_SIZE 256, Adam(1e-4); the paper's
        # 1000 iterations. epochs is only an upper bound (1000 epochs of >= 1 batch reach 1000 steps); there is
        # no validation loss to stop early on.
        "paper": {**SELECT, "batch_size": 256, "lr": 1e-4, "max_steps": 1000, "epochs": 1000, "patience": None},
        # MuseGAN's optimiser: Adam 1e-3 (with betas (0.5, 0.9), in the model config), batch 64. On MAESTRO,
        # 1e-3 came closer to the real statistics than 2e-4 after 200 steps (3 of 4). 5000 steps: about an hour
        # on 2 CPU cores.
        "default": {**SELECT, "batch_size": 64, "lr": 1e-3, "max_steps": 5000, "epochs": 100000, "patience": None},
        # the same optimiser on MuseGAN's 24-step grid (6x the cells: about 1.2 s a step on 2 CPU cores)
        "musegan": {**SELECT, "batch_size": 64, "lr": 1e-3, "max_steps": 3000, "epochs": 100000, "patience": None},
    }
    preset_notes = {
        **Family.preset_notes,
        "musegan": "the default networks on MuseGAN's 24 steps per quarter note",
    }
    representation = "pianoroll"
    length_unit = "bars"
    options_cls = GANOptions
    takes_primer = False  # phrases from noise
    takes_temperature = False  # probabilities decoded by threshold or drawn cell by cell (--threshold, --sample)

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


FAMILIES = [GANFamily()]
