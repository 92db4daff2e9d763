"""The shared base of every config dataclass (models, training): plain dicts in and out of ``config.json``."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, ClassVar, Self

from .errors import ConfigError


class ConfigBase:
    """``to_dict`` / ``from_dict`` for a config ``@dataclass``; unknown keys are a ConfigError naming them.
    ``config_name`` prefixes the messages (``rnn``, ``gan``, ``train``, ...)."""

    config_name: ClassVar[str] = "config"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        unknown = set(d) - {f.name for f in fields(cls)}  # type: ignore[arg-type]
        if unknown:
            raise ConfigError(f"{cls.config_name}: unknown config keys {sorted(unknown)}")
        return cls(**d)
