"""What the humanizer declares (no torch): its settings, presets and abilities."""

from __future__ import annotations

from ..spec import FamilySpec
from .config import PRESETS, HumanizerConfig


class HumanizerSpec(FamilySpec):
    name = "humanizer"
    summary = "programmed drums made played: timing and velocity per hit, learned from drummers (Groove MIDI)"
    config_cls = HumanizerConfig
    presets = PRESETS
    preset_notes = {"default": "2 x 64 bidirectional GRU over 2-bar windows, dropout 0.3", "tiny": "for tests"}
    train_presets = {
        # about 12,000 windows of the Groove train split: an epoch is 190 batches
        "default": {"batch_size": 64, "lr": 2e-3, "epochs": 30, "patience": 4, "grad_clip": 1.0},
        "tiny": {"batch_size": 16, "lr": 2e-3, "epochs": 2, "patience": None},
    }
    representation = "drum_grid"
    #: it plays the hits it is given: nothing to sample, nothing to reshape
    takes_temperature = False
    features = frozenset({"humanize"})


SPECS = [HumanizerSpec()]
