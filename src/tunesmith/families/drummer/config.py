"""The drummer's settings, presets and the styles it knows (no torch: the command line reads them)."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import ConfigBase
from ...errors import ConfigError

#: the Groove MIDI Dataset's styles without their sub-styles (``funk/groove1`` is funk), by minutes of train-split
#: drumming (rock 216 ... gospel under 1); index 0 is "no style given" (what a piece of another style is learned as,
#: and what the model plays when no style is asked for)
STYLES = (
    "any", "rock", "latin", "funk", "jazz", "hiphop", "neworleans", "afrobeat", "afrocuban", "dance", "soul",
    "reggae", "country", "blues", "punk", "middleeastern", "pop", "highlife", "gospel",
)  # fmt: skip
#: the tempo bins' inner edges (quarter notes per minute): the Groove tempi run from 50 to 290, most 80-140
TEMPO_EDGES = (70, 85, 100, 115, 130, 150, 180)


def style_index(name: str | None) -> int:
    """A style's index in :data:`STYLES` (a sub-style is dropped; unknown or none: 0, "any")."""
    if not name:
        return 0
    base = str(name).split("/", 1)[0].strip().lower()
    return STYLES.index(base) if base in STYLES else 0


@dataclass
class DrummerConfig(ConfigBase):
    config_name = "drummer"

    #: 16th steps the model sees at once: 8 bars of 4/4
    context: int = 128
    layers: int = 4
    heads: int = 4
    width: int = 128
    dropout: float = 0.1
    #: the share of training windows whose style is hidden ("any"), so that a groove without a style asked for
    #: is a groove of the whole collection
    style_dropout: float = 0.2
    #: weight of the played part of the loss (velocity and offset squared errors) beside the hits' cross-entropy
    played_weight: float = 1.0

    def __post_init__(self) -> None:
        if min(self.context, self.layers, self.heads, self.width) <= 0 or self.width % self.heads:
            raise ConfigError("drummer: context, layers, heads and width must be positive, width a multiple of heads")
        if not 0.0 <= self.dropout < 1.0 or not 0.0 <= self.style_dropout < 1.0:
            raise ConfigError("drummer: dropout and style_dropout must be in [0, 1)")
        if self.played_weight < 0:
            raise ConfigError(f"drummer: played_weight must be 0 or more, got {self.played_weight}")


PRESETS = {
    "default": {},
    "tiny": {"context": 32, "layers": 1, "heads": 2, "width": 32, "dropout": 0.0},  # for tests
}
