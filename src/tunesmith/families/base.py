"""The contract between a model family and the rest of tunesmith.

A :class:`Family` names a model kind (``rnn``, ``gan``, ...) and gives, as typed methods: its config class and
presets, how to build its ``nn.Module``, how a prepared dataset becomes a training
:class:`~tunesmith.training.trainer.Task`, how a trained model generates pieces (with options of its own, a
:class:`GenerateOptions` subclass) and, for models that predict the next event, its prediction error. The trainer,
checkpoints, jobs and the command line are shared and know no family by name.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..config import ConfigBase
from ..dataset import Dataset
from ..errors import CheckpointError, ConfigError
from ..notes import Notes
from ..runfiles import CONFIG, array_file
from ..training.trainer import Task, TrainConfig


@dataclass(frozen=True)
class GenerateOptions:
    """What every family's generation takes. A family with options of its own subclasses this."""

    n: int = 4
    length: int = 200  # new events, or bars for a family whose ``length_unit`` is "bars"
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    primer: str | None = None
    seed: int = 0


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


class Family(ABC):
    """One model kind. Subclasses set the class attributes and implement the abstract methods."""

    name: str
    summary: str
    config_cls: type[ConfigBase]
    #: model settings per preset name; every preset has its training settings in :attr:`train_presets`
    presets: Mapping[str, Mapping[str, Any]]
    train_presets: Mapping[str, Mapping[str, Any]]
    #: what each preset is, for ``--help`` (presets without a note are listed by name)
    preset_notes: ClassVar[Mapping[str, str]] = {
        "paper": "exactly the paper's settings",
        "default": "tunesmith's better ones (docs/)",
    }
    representation: str = ""
    #: what ``GenerateOptions.length`` counts: "events" (notes, tone steps) or "bars"
    length_unit: str = "events"
    options_cls: type[GenerateOptions] = GenerateOptions
    #: whether :meth:`prediction_errors` is implemented (models that predict the next event)
    predicts_next_event: ClassVar[bool] = False
    #: whether :meth:`likelihood` is implemented (models that give music a probability)
    has_likelihood: ClassVar[bool] = False
    #: whether generation continues a ``primer`` (models that compose from noise alone refuse one)
    takes_primer: ClassVar[bool] = True
    #: whether generation samples from a distribution that ``temperature``, ``top_k`` and ``top_p`` reshape
    takes_temperature: ClassVar[bool] = True

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

    # ------------------------------------------------------------------------------------------------ generating
    @abstractmethod
    def generate(self, model: nn.Module, run: Run, opts: GenerateOptions, device: torch.device) -> list[Notes]:
        """``opts.n`` pieces from a trained model (``opts`` is an instance of :attr:`options_cls`)."""

    def options(self, **values: Any) -> GenerateOptions:
        """:attr:`options_cls` from keyword values; a name this family does not take is a ConfigError naming the
        families' options it does take."""
        names = {f.name for f in dataclasses.fields(self.options_cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            own = sorted(names - {f.name for f in dataclasses.fields(GenerateOptions)})
            takes = f"its own options are {', '.join(own)}" if own else "it has no options of its own"
            raise ConfigError(f"{self.name} runs take no option {', '.join(unknown)}; {takes}")
        return self.options_cls(**values)

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

    def check_preset(self, preset: str) -> None:
        if preset not in self.presets:
            raise ConfigError(f"unknown preset {preset!r} for {self.name}; choose one of {', '.join(self.presets)}")


def seeded_generator(seed: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)
