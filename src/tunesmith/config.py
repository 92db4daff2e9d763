"""The shared base of every config dataclass (models, training): plain dicts in and out of ``config.json``."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, fields
from typing import Any, ClassVar, Self

from .errors import ConfigError


class ConfigBase:
    """``to_dict`` / ``from_dict`` for a config ``@dataclass``; unknown keys are a ConfigError naming them.
    ``config_name`` prefixes the messages (``rnn``, ``gan``, ``train``, ...).

    A field may hold another config dataclass (declared with ``field(default_factory=ThatConfig)``, e.g. the GAN's
    piano roll). Its settings are addressed by their own names as well: ``from_dict`` takes them nested (as
    ``to_dict`` writes them) or flat beside the others (as presets and ``--set`` give them), and
    :meth:`settings` lists them flat."""

    config_name: ClassVar[str] = "config"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def nested(cls) -> dict[str, type]:
        """Fields that hold a config dataclass: name -> its class."""
        return {
            f.name: f.default_factory  # type: ignore[misc]
            for f in fields(cls)  # type: ignore[arg-type]
            if f.default_factory is not dataclasses.MISSING and dataclasses.is_dataclass(f.default_factory)
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        d = dict(d)
        for name, sub in cls.nested().items():
            inner = dict(d.pop(name, None) or {})
            for f in fields(sub):
                if f.name in d:
                    inner[f.name] = d.pop(f.name)
            d[name] = sub(**inner)
        unknown = set(d) - {f.name for f in fields(cls)}  # type: ignore[arg-type]
        if unknown:
            raise ConfigError(f"{cls.config_name}: unknown config keys {sorted(unknown)}")
        return cls(**d)

    def settings(self) -> dict[str, Any]:
        """Every setting by name with its value, the nested configs' settings flat among the others."""
        nested = self.nested()
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name in nested:
                out.update({g.name: getattr(value, g.name) for g in fields(value)})
            else:
                out[f.name] = value
        return out
