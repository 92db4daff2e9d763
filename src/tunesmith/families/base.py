"""The contract between a model family and the rest of tunesmith.

A :class:`Family` names a model kind (``rnn``, ``gan``, ...) and gives, as typed methods: its config class and
presets, how to build its ``nn.Module``, how a prepared dataset becomes a training
:class:`~tunesmith.training.trainer.Task`, how a trained model generates pieces (with options of its own, a
:class:`GenerateOptions` subclass) and, for models that predict the next event, its prediction error. The trainer,
checkpoints, jobs and the command line are shared and know no family by name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..dataset import Dataset
from ..errors import CheckpointError, ConfigError
from ..notes import Notes
from ..runfiles import CONFIG, array_file
from ..training.checkpoint import load_weights
from ..training.trainer import Task, TrainConfig
from .spec import FamilySpec, GenerateOptions


@dataclass(frozen=True)
class Run:
    """A trained run as generation sees it: its folder and its ``config.json``."""

    path: Path
    config: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.config.get("kind", ""))

    def data(self) -> dict[str, Any]:
        """What the family recorded about its training data (``config.json``'s ``data``)."""
        return dict(self.config.get("data") or {})

    def array(self, name: str) -> np.ndarray:
        """An array the family kept in the run (:attr:`TaskBundle.arrays`)."""
        path = self.path / array_file(name)
        if not path.is_file():
            raise CheckpointError(f"{path}: missing from the run")
        return np.load(path, allow_pickle=False)

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG


@dataclass
class TaskBundle:
    """What :meth:`Family.build_task` returns: the task for the trainer, facts about the data for ``config.json``
    (e.g. window counts, feature normalisation that generation must invert) and arrays to keep in the run."""

    task: Task
    info: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    #: other files to keep in the run, by name (e.g. the Transformer's ``tokenizer.json``)
    files: dict[str, bytes] = field(default_factory=dict)


class Family(FamilySpec, ABC):
    """One model kind: its declarations (:class:`~tunesmith.families.spec.FamilySpec`, torch-free) and what needs
    torch. Subclasses derive from their spec and this, and implement the abstract methods."""

    # ------------------------------------------------------------------------------------------------ building
    @abstractmethod
    def build_model(self, cfg: Any) -> nn.Module:
        """The ``nn.Module`` of a config of :attr:`config_cls`."""

    @abstractmethod
    def build_task(
        self,
        model: nn.Module,
        cfg: Any,
        train_cfg: TrainConfig,
        ds: Dataset,
        device: torch.device,
        start: Run | None = None,
    ) -> TaskBundle:
        """The training task of ``model`` on the dataset's train and validation splits. ``start`` is the run
        training continues (``--resume``) or starts from (``--init``): a family whose representation is learned
        from the data and must stay the model's (the Transformer's tokenizer) takes it from there, and refuses
        settings that would change it; other families fit theirs on the dataset as for a new run."""

    def load_start(self, model: nn.Module, path: Path) -> None:
        """Load the weights a new run starts from (``--init``) into ``model``: as they are (a mismatch is a
        CheckpointError). A family whose settings may add to the model (the Transformer's new tokens) widens them."""
        load_weights(model, path)

    # ------------------------------------------------------------------------------------------------ generating
    @abstractmethod
    def generate(self, model: nn.Module, run: Run, opts: GenerateOptions, device: torch.device) -> list[Notes]:
        """``opts.n`` pieces from a trained model (``opts`` is an instance of :attr:`options_cls`)."""

    def prediction_errors(
        self, model: nn.Module, run: Run, ds: Dataset, split: str, device: torch.device, max_windows: int, seed: int
    ) -> dict[str, float]:
        """Next-event squared error per numeric feature on ``split``, in units of the feature's training-split
        standard deviation (only where :attr:`predicts_next_event`)."""
        raise ConfigError(f"{self.name} does not predict the next event")

    def likelihood(
        self, model: nn.Module, run: Run, ds: Dataset, split: str, device: torch.device, max_windows: int
    ) -> dict[str, float]:
        """Held-out negative log-likelihood of ``split``: ``bits_per_note`` (comparable between models that encode
        music differently) and whatever else the family measures; empty where this run has none."""
        raise ConfigError(f"{self.name} gives music no likelihood")


def seeded_generator(seed: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)
