"""What the RNN note model declares (no torch): its settings, presets and abilities."""

from __future__ import annotations

from ..spec import FamilySpec
from .config import PRESETS, RNNConfig


class RNNSpec(FamilySpec):
    name = "rnn"
    summary = "the LSTM note model (pitch, step, duration)"
    config_cls = RNNConfig
    presets = PRESETS
    train_presets = {
        # the paper and the TensorFlow tutorial: batch 64, Adam 0.005, 50 epochs with early stopping (5)
        "paper": {"batch_size": 64, "lr": 0.005, "epochs": 50, "patience": 5},
        # bf16 where the hardware does it natively: 1.5x faster steps on a CPU with AVX512-BF16, no loss of
        # quality measured (docs/rnn.md)
        "default": {"batch_size": 128, "lr": 0.005, "epochs": 30, "patience": 3, "grad_clip": 1.0, "precision": "auto"},
    }
    representation = "note_events"
    predicts_next_event = True
    has_likelihood = True
    paper_figures = (0.255, 0.504)
    in_paper = True
    #: validation every 250 steps (an epoch of the default preset is 612 batches of the chorales)
    demo_settings = {"max_steps": "1250", "epochs": "30", "val_every": "250"}


SPECS = [RNNSpec()]
