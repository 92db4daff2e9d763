"""The one training loop (trainer), run directories (checkpoint) and what each model family adds (tasks)."""

from .checkpoint import CheckpointError
from .trainer import TrainConfig, Trainer, choose_device

__all__ = ["CheckpointError", "TrainConfig", "Trainer", "choose_device"]
