"""The RNN note model's settings and presets (no torch: the command line reads them without loading a model)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...config import ConfigBase
from ...errors import ConfigError

N_PITCHES = 128
#: :attr:`RNNConfig.time_decoding`'s choices
TIME_DECODINGS = ("data", "uniform", "value")
#: values kept per time bin to draw a sampled bin's time from (:func:`time_bin_quantiles`)
TIME_QUANTILES = 32


@dataclass
class RNNConfig(ConfigBase):
    config_name = "rnn"

    seq_length: int = 25
    hidden: int = 128
    layers: int = 1
    dropout: float = 0.0
    #: "scalar": pitch/128 as one input (paper); "embedding": a learned vector per pitch
    pitch_input: str = "scalar"
    embed_dim: int = 32
    #: "regression": step and duration as numbers (paper); "bins": categorical over log-spaced bins
    timing: str = "regression"
    time_bins: int = 48
    bin_min_s: float = 0.01  # seconds: the first bin holds 0 <= t < bin_min_s (chords)
    bin_max_s: float = 4.0  # seconds: the last bin holds t >= bin_max_s
    #: bins only, generation only: how a sampled bin becomes seconds. "data": a value drawn from the training
    #: split's own times in that bin (kept in the run as quantiles), so exact zeros (block chords) stay as common
    #: as in the data and performed chords keep their spreads of a few ms; "uniform": drawn evenly within the
    #: bin's edges; "value": the bin's fixed value (time_bin_values: bin 0 is exactly 0; before 2026-12-02)
    time_decoding: str = "data"
    velocity: bool = False  # model velocity (in 32 bins) too
    velocity_bins: int = 32
    #: "last": only the window's last step is predicted (paper); "all": every step is
    targets: str = "last"
    pitch_weight: float = 0.05
    step_weight: float = 1.0
    duration_weight: float = 1.0
    velocity_weight: float = 0.5
    positive_pressure: float = 10.0
    time_mse_weight: float = 0.0  # bins only: weight of the squared error of the distribution's mean

    def __post_init__(self) -> None:
        choices = {
            "pitch_input": ("scalar", "embedding"),
            "timing": ("regression", "bins"),
            "targets": ("last", "all"),
            "time_decoding": TIME_DECODINGS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"rnn: {name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if self.seq_length <= 0 or self.hidden <= 0 or self.layers <= 0:
            raise ConfigError("rnn: seq_length, hidden and layers must be positive")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"rnn: dropout must be in [0, 1), got {self.dropout}")
        if not 0 < self.bin_min_s < self.bin_max_s:
            raise ConfigError("rnn: need 0 < bin_min_s < bin_max_s")

    @property
    def n_inputs(self) -> int:
        return self.n_scalar_inputs + (self.embed_dim if self.pitch_input == "embedding" else 0)

    @property
    def n_scalar_inputs(self) -> int:
        paper = self.pitch_input == "scalar" and self.timing == "regression"
        return (1 if self.pitch_input == "scalar" else 0) + (2 if paper else 4) + (1 if self.velocity else 0)


PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "default": {
        "hidden": 256,
        "pitch_input": "embedding",
        "timing": "bins",
        "time_bins": 64,
        "bin_max_s": 16.0,
        "time_mse_weight": 10.0,
        "velocity": True,
        "targets": "all",
        "pitch_weight": 1.0,
        "step_weight": 1.0,
        "duration_weight": 1.0,
    },
}
