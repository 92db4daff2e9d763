"""What the Transformer declares (no torch, no MidiTok): its settings, presets, generation options and abilities."""

from __future__ import annotations

from dataclasses import dataclass

from ..spec import CONTROLS, FamilySpec, GenerateOptions, option
from .config import PRESETS, TransformerConfig

#: classifier-free guidance of the controls asked for, unless told otherwise: chosen among 1, 3 and 5 on 32
#: requests from MAESTRO's validation split with the shipped ``piano`` (key obeyed in 41%, 100%, 100% of pieces,
#: density in 50%, 97%, 84%, polyphony 59%, 75%, 66%; docs/controls.md); each step reads the model twice
DEFAULT_GUIDANCE = 3.0


#: with --chords: nats taken from the log-probability of every note outside the bar's chord (0: the chord tokens
#: alone), chosen on the validation splits (docs/chords.md)
DEFAULT_CHORD_STRICTNESS = 4.0


@dataclass(frozen=True)
class TransformerOptions(GenerateOptions):
    infill_bars: str | None = option(
        None, "generate these bars of --primer anew (counted from 1, e.g. 5-8) and keep every other note of it as it "
        "was; the whole piece is written", metavar="FIRST-LAST", modes=("infill",),
    )
    keep_tracks: str | None = option(
        None, "keep these tracks of --primer note for note (counted from 1, e.g. 1 or 1,3) and write the others "
        "anew; with --infill-bars, only those bars are written", metavar="TRACKS", modes=("keep", "harmonize"),
    )
    #: the program the kept tracks are given to the model as (None: their own; ``harmonize`` chooses one it knows)
    keep_as: int | None = option(None, face=False)
    #: with keep_tracks: no parallel fifths or octaves between voices written and kept (``harmonize``)
    avoid_parallels: bool = option(False, face=False)
    #: the prompt's pass and the decode step through torch.compile (``model.compile_step``)
    compile: bool = option(
        False, "compile the generation step first (torch.compile; needs a C++ compiler): 1.6 to 1.9 times faster "
        "after 20-60 s of compiling, so worth it for long pieces or many of them",
    )
    key: str | None = option(None, 'the key, e.g. "D minor", "Eb major", "F#m"', group=CONTROLS)
    tempo: str | None = option(None, "beats (quarter notes) per minute, e.g. 90", group=CONTROLS)
    time_signature: str | None = option(None, "4/4, 3/4, 2/4, 2/2, 6/8, 3/8, 9/8, 12/8 or 5/4", group=CONTROLS)
    density: str | None = option(
        None, "notes per bar: low, medium or high (the training data's thirds)", group=CONTROLS
    )
    polyphony: str | None = option(
        None, "notes sounding together: low, medium or high (the training data's thirds)", group=CONTROLS
    )
    pitch_range: str | None = option(
        None, "highest minus lowest note: low, medium or high (the data's thirds)", group=CONTROLS
    )
    instruments: str | None = option(
        None, "General MIDI names or numbers, e.g. piano,violin or 0,40 (drums: 128)", group=CONTROLS
    )
    chords: str | None = option(
        None, 'a chord progression, bars separated by |, one or two chords a bar, repeated to fill the piece, e.g. '
        '"C | G | Am | F" or "Dm7 G7 | Cmaj7" (slash chords keep their bass: G7/B)', metavar="PROGRESSION",
        group=CONTROLS,
    )
    chord_strictness: float | None = option(
        None, "with --chords: how strictly notes keep to each bar's chord, in nats taken from every note outside it "
        f"(default: the run's own, else {DEFAULT_CHORD_STRICTNESS:g}; 0: passing notes as the model likes them; 8 or "
        "more: almost only chord tones)",
        metavar="NATS",
    )
    bars: int | None = option(
        None, "bars per piece (instead of --length notes; drums: default --length)", metavar="N"
    )
    #: classifier-free guidance of the controls asked for (1: none; None: :data:`DEFAULT_GUIDANCE`; docs/controls.md)
    guidance: float | None = option(
        None, f"how closely to follow the controls: classifier-free guidance weight (default {DEFAULT_GUIDANCE:g}; "
        "1: none, at half the compute)", group=CONTROLS,
    )

    def controls(self) -> dict[str, object]:
        """The control values asked for (kinds not asked for are absent); bad values are a ConfigError."""
        from ...representations.controls import parse_controls  # MidiTok's: loaded where a model runs

        return parse_controls(
            self.key, self.tempo, self.time_signature, self.density, self.polyphony, self.pitch_range, self.instruments
        )


#: the small preset's training: batch 16, AdamW 2e-3 with warm-up, bf16 where native, a small validation
SMALL_TRAINING = {
    "batch_size": 16,
    "lr": 2e-3,
    # the rate falls linearly to zero over the last 30% of the budget: 12.74 against 12.96 validation bits per note
    # after 10 minutes on MAESTRO with a constant rate (docs/transformer.md)
    "lr_decay": 0.3,
    "epochs": 50,
    "patience": 3,
    "grad_clip": 1.0,
    "weight_decay": 0.1,
    "precision": "auto",
    "val_max_batches": 8,
}


class TransformerSpec(FamilySpec):
    name = "transformer"
    summary = "a decoder-only Transformer over MIDI tokens (MidiTok REMI/TSD/MIDILike): continues and fills in bars"
    config_cls = TransformerConfig
    presets = PRESETS
    train_presets = {
        "tiny": {"batch_size": 8, "lr": 1e-3, "epochs": 5, "patience": None, "grad_clip": 1.0, "weight_decay": 0.1},
        "small": SMALL_TRAINING,
        "quick": SMALL_TRAINING,
        "default": SMALL_TRAINING,
        "base": {
            "batch_size": 32,
            "lr": 6e-4,
            "epochs": 100,
            "patience": 5,
            "grad_clip": 1.0,
            "weight_decay": 0.1,
            "precision": "auto",
            "val_max_batches": 100,
            "lr_decay": 0.3,
        },
    }
    preset_notes = {
        "tiny": "2 layers of width 64, context 128: seconds (tests)",
        "small": "4 layers of width 256, one key-value head, context 256, about 3M parameters: a useful model in "
        "20 minutes on 2 CPU cores",
        "quick": "small at half the width (128), about 0.7M parameters: for budgets of a few minutes",
        "default": "the same as small",
        "base": "16 layers of width 512, context 2048, about 50M parameters: one GPU, hours",
    }
    representation = "tokens"
    length_unit = "events"
    options_cls = TransformerOptions
    has_likelihood = True
    features = frozenset({"infill", "keep_tracks", "controls", "guidance", "chords"})
    default_guidance = DEFAULT_GUIDANCE


SPECS = [TransformerSpec()]
