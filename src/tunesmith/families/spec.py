"""What a model family declares, without torch: its name, settings, presets and generation options.

The command line is built from these declarations alone (``tunesmith --help`` and every argument error answer
without importing torch or MidiTok); a family's :class:`~tunesmith.families.base.Family` adds what needs torch
(building, training, generating) to its spec by subclassing it. Each family package keeps its spec in
``spec.py`` (``SPECS``) and its families in ``family.py`` (``FAMILIES``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..config import ConfigBase
from ..errors import ConfigError


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


class FamilySpec:
    """One model kind's declarations. Subclasses set the class attributes (or set them in ``__init__``)."""

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

    def check_preset(self, preset: str) -> None:
        if preset not in self.presets:
            raise ConfigError(f"unknown preset {preset!r} for {self.name}; choose one of {', '.join(self.presets)}")

    def default_settings(self) -> list[str]:
        """The model settings ``--set`` takes, as the default preset has them."""
        return list(self.config_cls.from_dict(dict(self.presets["default"])).settings())
