"""The humanizer's settings and presets (no torch: the command line reads them without loading a model)."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import ConfigBase
from ...errors import ConfigError


@dataclass
class HumanizerConfig(ConfigBase):
    config_name = "humanizer"

    #: grid steps (16ths) a training window holds: 2 bars of 4/4, GrooVAE's unit
    window: int = 32
    #: chosen on the validation split (docs/drums.md): 64 units and dropout 0.3 reach a validation loss of 0.0770,
    #: 128 units and dropout 0.1 0.0792 (and overfit from the 6th epoch)
    hidden: int = 64
    layers: int = 2
    dropout: float = 0.3

    def __post_init__(self) -> None:
        if self.window < 2 or self.hidden <= 0 or self.layers <= 0:
            raise ConfigError("humanizer: window must be at least 2, hidden and layers positive")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"humanizer: dropout must be in [0, 1), got {self.dropout}")


PRESETS = {
    "default": {},
    "tiny": {"hidden": 16, "layers": 1, "dropout": 0.0},  # for tests
}
