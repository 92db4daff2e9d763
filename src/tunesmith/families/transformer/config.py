"""The Transformer's settings and presets (no torch: the command line reads them without loading a model)."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import ConfigBase
from ...errors import ConfigError


@dataclass
class TransformerConfig(ConfigBase):
    config_name = "transformer"

    #: the MidiTok tokenization: "REMI" (bars and positions), "TSD" (time shifts and durations), "MIDILike"
    #: (note-on, note-off, time shifts)
    tokenization: str = "REMI"
    #: learned BPE merges over the base vocabulary (0: none; else the vocabulary size to learn up to)
    bpe_vocab: int = 0
    #: the tokenizer's grid: positions per quarter note (beats 0-4 of a duration or time shift) and velocity bins
    steps_per_quarter: int = 8
    velocity_bins: int = 32
    #: tempo and time-signature tokens (REMI, TSD); program tokens (one stream for every instrument)
    use_tempos: bool = True
    use_programs: bool = True
    #: played chords put on one grid position before tokenizing: notes starting within this many grid steps of a
    #: chord's first note (``tokens.snap_chords``; 0: off, as in runs from before 2026-12-03)
    chord_window: float = 0.0
    #: share of training sequences made fill-in-the-middle (a span of whole bars moved to the end); the rest are
    #: plain continuation
    fim_rate: float = 0.5
    fim_max_bars: int = 8
    #: the fill-in-the-middle layout: "PSM" (prefix, suffix, middle) or "SPM" (suffix, prefix, middle: the middle
    #: follows the prefix it continues; the presets', since with it the suffix helps: docs/transformer.md). PSM for
    #: runs from before the choice (their config has no such key)
    fim_order: str = "PSM"
    #: attribute controls (key, tempo, time signature, density, polyphony, range, instruments: read from the data,
    #: ``representations/controls.py``) as tokens at the start of every sequence; each is left out of a training
    #: sequence with probability ``control_dropout`` (and all of them in ``control_none`` of the sequences), so
    #: that any subset can be asked for. Off for runs from before they existed (their config has no such key)
    controls: bool = False
    control_dropout: float = 0.5
    control_none: float = 0.2
    #: chord controls: each bar's chords (the recogniser's, ``representations/chords.py``: per half bar, root,
    #: quality and bass) as tokens after its ``Bar`` token, given and never predicted, so that generation can be
    #: told the chords bar by bar (``--chords "C | G | Am | F"``). A bar's are left out with probability
    #: ``chord_dropout``, a whole sequence's with ``chord_none``, so that they stay optional. With REMI only (its bar
    #: tokens carry them: :attr:`has_chords`). Off for runs from before they existed (their config has no such key)
    chords: bool = False
    chord_dropout: float = 0.2
    chord_none: float = 0.3
    # the network
    context: int = 512
    layers: int = 4
    heads: int = 4
    #: heads of keys and values, shared by groups of query heads (grouped-query attention, Ainslie et al. 2023;
    #: 1: multi-query): a cache that many times smaller, which is what generation reads at every step. 0: ``heads``
    kv_heads: int = 0
    width: int = 256
    mlp_ratio: int = 4
    dropout: float = 0.0
    rope_base: float = 10000.0
    #: micro-batches per optimizer step (the batch is split; its size stays the effective batch)
    grad_accum: int = 1
    #: train through ``torch.compile`` (``model.compile_loss``; the presets but ``tiny`` do: on 2 CPU cores with
    #: bf16 the step takes about half the time, docs/benchmarks.md; where compiling fails, a warning and the plain
    #: step). False for runs from before (their config has it false)
    compile: bool = False
    #: set from the tokenizer when a run is built (the tokenizer's vocabulary plus the three sentinels)
    vocab_size: int = 0

    def __post_init__(self) -> None:
        if self.tokenization not in TOKENIZATIONS:
            raise ConfigError(
                f"transformer: tokenization must be one of {', '.join(TOKENIZATIONS)}, got {self.tokenization!r}"
            )
        if self.width % self.heads or (self.width // self.heads) % 2:
            raise ConfigError(f"transformer: width {self.width} must split into {self.heads} heads of even size")
        if self.kv_heads < 0 or (self.kv_heads and self.heads % self.kv_heads):
            raise ConfigError(f"transformer: kv_heads {self.kv_heads} must divide heads {self.heads} (0: as many)")
        if min(self.context, self.layers, self.heads, self.width, self.mlp_ratio) <= 0:
            raise ConfigError("transformer: context, layers, heads, width and mlp_ratio must be positive")
        if not 0 <= self.fim_rate <= 1:
            raise ConfigError(f"transformer: fim_rate must lie in [0, 1], got {self.fim_rate}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"transformer: dropout must lie in [0, 1), got {self.dropout}")
        if self.grad_accum < 1:
            raise ConfigError(f"transformer: grad_accum must be at least 1, got {self.grad_accum}")
        if self.bpe_vocab < 0:
            raise ConfigError(f"transformer: bpe_vocab must be 0 (no BPE) or a vocabulary size, got {self.bpe_vocab}")
        if self.bpe_vocab and self.tokenization == "MIDILike":
            raise ConfigError(
                "transformer: BPE with MIDILike is not offered: generation checks each note-on against its note-off, "
                "which merged tokens hide; use REMI or TSD with bpe_vocab"
            )
        if not 0 <= self.chord_window < 0.5:
            raise ConfigError(f"transformer: chord_window must lie in [0, 0.5) grid steps, got {self.chord_window}")
        if self.fim_order not in ("PSM", "SPM"):
            raise ConfigError(f"transformer: fim_order must be PSM or SPM, got {self.fim_order!r}")
        if not (0 <= self.control_dropout <= 1 and 0 <= self.control_none <= 1):
            raise ConfigError("transformer: control_dropout and control_none are probabilities in [0, 1]")
        if not (0 <= self.chord_dropout <= 1 and 0 <= self.chord_none <= 1):
            raise ConfigError("transformer: chord_dropout and chord_none are probabilities in [0, 1]")
        if self.steps_per_quarter not in (1, 2, 4, 8, 12, 16, 24, 32):
            raise ConfigError(
                f"transformer: steps_per_quarter must divide a beat evenly (1-32), got {self.steps_per_quarter}"
            )


    @property
    def has_chords(self) -> bool:
        """Whether the model learns chord controls: asked for, and a tokenization with bar tokens (REMI)."""
        return self.chords and self.tokenization == "REMI"


TOKENIZATIONS = ("REMI", "TSD", "MIDILike")

#: every preset learns the attribute controls and the chord controls, fills in the middle in the SPM order and snaps
#: played chords onto one grid position (docs/transformer.md)
_NEW = {"controls": True, "fim_order": "SPM", "chord_window": 0.4, "chords": True}
#: the presets for real runs also train through torch.compile (tiny, the tests', does not: seconds of compiling)
_FAST = {**_NEW, "compile": True}
PRESETS = {
    "tiny": {"context": 128, "layers": 2, "heads": 2, "width": 64, **_NEW},  # tests: seconds
    # 2 CPU cores, 20 minutes: about 3M parameters (what a 20-minute budget of 5-10M tokens trains best), one
    # key-value head (a cache a quarter the size, which is what generation reads at every step)
    "small": {"context": 256, "layers": 4, "heads": 4, "kv_heads": 1, "width": 256, **_FAST},
    # a budget of minutes, or a small collection: half the width, 0.74M parameters, 2.2 times the steps a minute of
    # small; at 5 minutes ahead of small on each of three collections (docs/transformer.md, "Quality that carries
    # over")
    "quick": {"context": 256, "layers": 4, "heads": 4, "kv_heads": 1, "width": 128, **_FAST},
    "default": {"context": 256, "layers": 4, "heads": 4, "kv_heads": 1, "width": 256, **_FAST},
    # one GPU: about 50M
    "base": {"context": 2048, "layers": 16, "heads": 8, "width": 512, "dropout": 0.1, **_FAST},
}
