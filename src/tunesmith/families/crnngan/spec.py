"""What C-RNN-GAN, C-RNN-GAN-3 and the baseline declare (no torch): their settings, presets and abilities."""

from __future__ import annotations

from typing import Any

from ..spec import FamilySpec
from .config import KINDS, PRESETS, CRNNGANConfig

#: The paper's training setup: SGD with learning rate 0.1, gradient clipping (norm 5, the reference code's value),
#: batch 20 (the reference code's). GANs do not stop early (patience none); validation is capped at 10 batches
#: (200 windows of 100 steps) to keep its cost a small share of an epoch. The paper does not state its epoch count.
TRAIN_PRESET: dict[str, Any] = {
    "batch_size": 20,
    "lr": 0.1,
    "grad_clip": 5.0,
    "epochs": 100,
    "patience": None,
    "val_max_batches": 10,
    "log_every": 50,
}

#: The default preset's learning rate (Adam), from the runs in docs/crnngan.md.
DEFAULT_LR = 5e-4


class CRNNGANSpec(FamilySpec):
    """One of the three kinds: they share the model, the task and generation, and differ in settings
    (:data:`~tunesmith.families.crnngan.config.KINDS`)."""

    config_cls = CRNNGANConfig
    representation = "tones"
    predicts_next_event = True
    takes_temperature = False  # continuous tone features from noise: nothing to reshape

    in_paper = True

    def __init__(self, name: str, summary: str) -> None:
        self.name = name
        self.summary = summary
        self.paper_figures = PAPER_FIGURES.get(name)
        self.demo_settings = DEMO_SETTINGS.get(name)
        self.presets = {preset: {**KINDS[name], **values} for preset, values in PRESETS.items()}
        # the adversarial kinds keep the weights whose music scores best on validation (their losses say little
        # about it); the baseline predicts the next event and keeps its best validation loss
        select = {"select_by": "statistics"} if KINDS[name].get("adversarial", True) else {}
        self.train_presets = {
            "paper": {**TRAIN_PRESET, **select},
            "default": {**TRAIN_PRESET, "lr": DEFAULT_LR, **select},
        }


#: the paper's Table 1 (MSE, RMSE); it gives none for the baseline
PAPER_FIGURES = {"crnngan": (0.040, 0.2), "crnngan3": (0.040, 0.2)}
#: what ``tunesmith demo`` changes: C-RNN-GAN and its baseline (the same generator) 64 units wide instead of the
#: paper's 350 (at 350 a generator trained by squared error first plays the mean tone and leaves it only after about
#: 20 epochs, more than a demo gives); C-RNN-GAN pretrains for 30 epochs (its baseline's length), then trains
#: adversarially, and the weights whose music scores best on validation are kept (docs/crnngan.md, "In make demo")
DEMO_SETTINGS = {
    "crnngan": {"max_steps": "950", "pretrain_epochs": "30", "epochs": "100", "hidden": "64", "d_hidden": "64"},
    "baseline": {"max_steps": "550", "epochs": "100", "hidden": "64"},
}

#: the registered kinds and what each is
SUMMARIES = {
    "crnngan": "C-RNN-GAN: recurrent GAN over tone events (Mogren 2016)",
    "crnngan3": "C-RNN-GAN-3: up to three tones that start together per step",
    "baseline": "C-RNN-GAN's baseline: G alone, trained to predict the next tone event",
}
SPECS = [CRNNGANSpec(name, summary) for name, summary in SUMMARIES.items()]
