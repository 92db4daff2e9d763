"""C-RNN-GAN's settings, presets and kinds (no torch: the command line reads them without loading a model)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...config import ConfigBase
from ...errors import ConfigError
from ...representations.tones import n_features


@dataclass
class CRNNGANConfig(ConfigBase):
    config_name = "crnngan"

    #: tones one step may carry: 1 (C-RNN-GAN) or 3 (C-RNN-GAN-3)
    tones_per_step: int = 1
    #: longest training sequence in tone steps (the curriculum grows to it; statistics use it)
    max_length: int = 100
    hidden: int = 350  # G's LSTM units per layer
    layers: int = 2  # G's depth
    d_hidden: int = 350
    d_layers: int = 2
    d_bidirectional: bool = True
    #: size of G's random input per step; None: as many as tone features (the reference code's choice)
    noise_dim: int | None = None
    #: False: the baseline (G trained only on next-event squared error, no D)
    adversarial: bool = True
    #: epochs of next-event squared-error pretraining of G before the adversarial phase (paper: 6)
    pretrain_epochs: int = 6
    #: G's objective in the adversarial phase: feature matching (paper) or, when off, ``gan_loss``
    feature_matching: bool = True
    #: G's adversarial loss: "nonsaturating" -log D(G(z)) or "minimax" log(1 - D(G(z)))
    gan_loss: str = "nonsaturating"
    #: freezing (paper): D takes no step when its loss < freeze_ratio * G's adversarial loss; freeze_g: the same
    #: for G against D
    freeze_d: bool = True
    freeze_g: bool = False
    freeze_ratio: float = 0.7
    #: L2 regularisation: l2 * sum of squared weights (matrices), added to G's and D's losses. The paper gives no
    #: value; the reference code's 0.05 would shrink every weight by 1% per SGD step at lr 0.1.
    l2: float = 1e-4
    #: D's learning rate = lr * d_lr_scale (the reference code uses 0.5; the paper says nothing)
    d_lr_scale: float = 1.0
    optimizer: str = "sgd"  # "sgd" (paper) or "adam" (betas 0.5, 0.999)
    #: curriculum of sequence lengths: length(epoch) = min(max_length, start + step * (epoch // every))
    curriculum: bool = True
    curriculum_start: int = 10
    curriculum_step: int = 10
    curriculum_every: int = 1
    #: training windows drawn from each piece per epoch (the reference code: one)
    windows_per_piece: int = 1
    #: generated sequences (of max_length steps) whose statistics are logged at the end of every epoch
    stats_samples: int = 20

    def __post_init__(self) -> None:
        choices = {"gan_loss": ("nonsaturating", "minimax"), "optimizer": ("sgd", "adam")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"crnngan: {name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        for name in (
            "tones_per_step",
            "max_length",
            "hidden",
            "layers",
            "d_hidden",
            "d_layers",
            "curriculum_start",
            "curriculum_step",
            "curriculum_every",
            "windows_per_piece",
            "stats_samples",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"crnngan: {name} must be positive, got {getattr(self, name)}")
        if self.noise_dim is not None and self.noise_dim <= 0:
            raise ConfigError(f"crnngan: noise_dim must be positive (or none), got {self.noise_dim}")
        if self.pretrain_epochs < 0:
            raise ConfigError(f"crnngan: pretrain_epochs must be >= 0, got {self.pretrain_epochs}")
        if not 0 < self.freeze_ratio <= 1:
            raise ConfigError(f"crnngan: freeze_ratio must lie in (0, 1], got {self.freeze_ratio}")
        if self.l2 < 0 or self.d_lr_scale <= 0:
            raise ConfigError("crnngan: l2 must be >= 0 and d_lr_scale > 0")

    @property
    def n_features(self) -> int:
        return n_features(self.tones_per_step)

    @property
    def z_dim(self) -> int:
        return self.noise_dim if self.noise_dim is not None else self.n_features

    def sequence_length(self, epoch: int) -> int:
        """Training sequence length of ``epoch`` (0-based) under the curriculum."""
        if not self.curriculum:
            return self.max_length
        return min(self.max_length, self.curriculum_start + self.curriculum_step * (epoch // self.curriculum_every))

    def is_adversarial_epoch(self, epoch: int) -> bool:
        return self.adversarial and epoch >= self.pretrain_epochs


#: Model presets. "default" equals "paper": there is no measured reason to differ yet.
#: ``paper``: the paper's setup (SGD). ``default``: Adam (betas 0.5, 0.999), with which D learns to tell real from
#: generated sequences; under the paper's SGD at 0.1 D stayed at chance and G collapsed to one tone in a measured
#: comparison on the paper's data (docs/crnngan.md). The learning rate is in the training preset.
PRESETS: dict[str, dict[str, Any]] = {"paper": {}, "default": {"optimizer": "adam"}}
#: What each registered kind sets on top of a preset.
KINDS: dict[str, dict[str, Any]] = {
    "crnngan": {},
    "crnngan3": {"tones_per_step": 3},
    "baseline": {"adversarial": False},
}
