"""What the drummer declares (no torch): its settings, presets, generation options and abilities."""

from __future__ import annotations

from dataclasses import dataclass

from ..spec import CONTROLS, FamilySpec, GenerateOptions, option
from .config import PRESETS, STYLES, DrummerConfig

#: the fill flag's classifier-free guidance when none is asked for, chosen on the validation split among 1, 2, 3 and
#: 5 (docs/drums.md): 5 is the one whose fill bars both judges take for fills in at least 80% of cases (1: 45% and
#: 31%), with the groove's other bars still named beats in 90%
FILL_GUIDANCE = 5.0


@dataclass(frozen=True)
class DrummerOptions(GenerateOptions):
    style: str | None = option(None, "the drumming style: " + ", ".join(STYLES[1:]) + " (default: any)", choices=STYLES)
    tempo: str | None = option(None, "beats (quarter notes) per minute, e.g. 90", group=CONTROLS)
    bars: int | None = option(None, "bars per piece (drums; default: --length)")
    fill_every: int | None = option(
        None, "a fill in the last bar of every N bars (drums), e.g. 4: bars 4, 8, 12 ...", metavar="N"
    )
    fill_guidance: float | None = option(
        None, f"how far fills depart from the groove: guidance of the fill flag (drums; default {FILL_GUIDANCE:g}; "
        "1: none)", metavar="G",
    )  # fmt: skip
    infill_bars: str | None = option(
        None, "generate these bars of --primer anew (counted from 1, e.g. 5-8) and keep every other note of it as it "
        "was; the whole piece is written", metavar="FIRST-LAST", modes=("infill",),
    )  # fmt: skip


class DrummerSpec(FamilySpec):
    name = "drummer"
    summary = "grooves by style with fills, played with a drummer's timing and velocity (Groove MIDI)"
    config_cls = DrummerConfig
    presets = PRESETS
    preset_notes = {"default": "4 layers of width 128 over 8 bars of 16th steps", "tiny": "for tests"}
    train_presets = {
        "default": {"batch_size": 32, "lr": 2e-3, "epochs": 40, "patience": 4, "grad_clip": 1.0, "weight_decay": 0.1,
                    "lr_decay": 0.3, "warmup": 100},
        "tiny": {"batch_size": 8, "lr": 2e-3, "epochs": 2, "patience": None},
    }  # fmt: skip
    representation = "drum_grid"
    length_unit = "bars"
    options_cls = DrummerOptions
    has_likelihood = True
    features = frozenset({"infill", "styles"})


SPECS = [DrummerSpec()]
