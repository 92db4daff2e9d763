"""Attribute controls: what a piece (or a window of it) is like, read from its notes, as tokens a model learns.

No labels are needed: every attribute is computed from the notes themselves, bar by bar (:func:`bar_stats`, once
per piece, stored beside the token cache) and summed over any run of bars (:func:`window_attributes`), so that a
training window and a generated piece are described by one and the same extractor:

========== =====================================================================================================
key        Krumhansl-Schmuckler: the major or minor key whose Krumhansl-Kessler profile correlates best with the
           duration-weighted pitch-class histogram (24 keys; :func:`estimate_key`)
tempo      the median tempo of the bars, in one of :data:`TEMPO_EDGES`' bins (quarter notes per minute)
time_sig   the time signature of the first bar: one of :data:`TIME_SIGNATURES` (``other`` for the rest)
density    notes per bar: low, medium or high, split at the training data's terciles
polyphony  notes sounding at an onset (onsets on the tokenizer's grid), averaged: low, medium or high (terciles)
range      highest minus lowest pitch (semitones): low, medium or high (terciles)
programs   the set of General MIDI programs that play (0-127, and 128 for drums)
========== =====================================================================================================

The three tercile splits (:class:`ControlBins`) are the training data's and are saved with a run, so "high" means
high for the music the model learned from. Control tokens come after the model's other ids
(:class:`ControlVocab`): a ``CONTROLS`` token, then any subset of the attributes, in the order above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from ..notes import Notes
from .bars import DRUMS, N_PROGRAMS, bar_lines, bar_stats

KINDS = ("key", "tempo", "time_sig", "density", "polyphony", "range", "programs")
LEVELS = ("low", "medium", "high")
LEVEL_KINDS = ("density", "polyphony", "range")

TONICS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
KEYS = tuple(f"{t} major" for t in TONICS) + tuple(f"{t} minor" for t in TONICS)
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

#: Krumhansl & Kessler (1982) probe-tone ratings, tonic first
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

#: tempo bins' inner edges (quarter notes per minute); 120, most MIDI files' tempo, lies inside 112-127
TEMPO_EDGES = (56, 68, 80, 96, 112, 128, 152, 184)
TIME_SIGNATURES = ("4/4", "3/4", "2/4", "2/2", "6/8", "3/8", "9/8", "12/8", "5/4", "other")

# General MIDI names people type, beside every program's own name ("acoustic-grand-piano") and its number
INSTRUMENT_ALIASES = {
    "piano": 0, "harpsichord": 6, "celesta": 8, "glockenspiel": 9, "vibraphone": 11, "marimba": 12, "organ": 19,
    "accordion": 21, "harmonica": 22, "guitar": 24, "electric-guitar": 27, "bass": 32, "electric-bass": 33,
    "violin": 40, "viola": 41, "cello": 42, "contrabass": 43, "harp": 46, "strings": 48, "choir": 52,
    "trumpet": 56, "trombone": 57, "tuba": 58, "horn": 60, "french-horn": 60, "brass": 61, "saxophone": 65,
    "sax": 65, "oboe": 68, "english-horn": 69, "bassoon": 70, "clarinet": 71, "piccolo": 72, "flute": 73,
    "recorder": 74, "synth": 80, "pad": 88, "drums": DRUMS,
}  # fmt: skip


# ---------------------------------------------------------------------------------------------- extraction
def estimate_key(histogram: np.ndarray) -> int:
    """The key (index into :data:`KEYS`: 0-11 major on C..B, 12-23 minor) whose Krumhansl-Kessler profile
    correlates best with a 12-bin pitch-class histogram; -1 when the histogram is empty or flat."""
    h = np.asarray(histogram, dtype=np.float64)
    if h.shape != (12,) or h.sum() <= 0 or np.allclose(h, h[0]):
        return -1
    scores = np.empty(24)
    for mode, profile in enumerate((KK_MAJOR, KK_MINOR)):
        for tonic in range(12):
            scores[mode * 12 + tonic] = np.corrcoef(h, np.roll(profile, tonic))[0, 1]
    return int(np.argmax(scores))


@dataclass
class Attributes:
    """What a run of bars is like (raw values; :meth:`ControlBins.level` bins the three graded ones)."""

    key: int  # index into KEYS, -1 unknown
    qpm: float
    time_sig: str
    density: float  # notes per bar
    polyphony: float
    range: int
    programs: frozenset[int] = field(default_factory=frozenset)

    def describe(self) -> dict[str, object]:
        return {
            "key": KEYS[self.key] if self.key >= 0 else None,
            "tempo": round(self.qpm, 1),
            "time_sig": self.time_sig,
            "density": round(self.density, 2),
            "polyphony": round(self.polyphony, 2),
            "range": self.range,
            "programs": sorted(self.programs),
        }


def time_sig_name(num: int, den: int) -> str:
    name = f"{int(num)}/{int(den)}"
    return name if name in TIME_SIGNATURES else "other"


def window_attributes(stats: np.ndarray) -> Attributes:
    """The attributes of a run of bars (rows of :data:`BAR_DTYPE`)."""
    if stats.size == 0:
        return Attributes(-1, 120.0, "4/4", 0.0, 0.0, 0)
    onsets = int(stats["onsets"].sum())
    lo, hi = int(stats["lo"].min()), int(stats["hi"].max())
    bits = np.bitwise_or.reduce(stats["programs"], axis=0)
    programs = frozenset(np.flatnonzero(np.unpackbits(bits)[:N_PROGRAMS]).tolist())
    return Attributes(
        key=estimate_key(stats["pc"].sum(0)),
        qpm=float(np.median(stats["qpm"])),
        time_sig=time_sig_name(stats["num"][0], stats["den"][0]),
        density=float(stats["notes"].sum()) / stats.size,
        polyphony=float(stats["poly"].sum()) / onsets if onsets else 0.0,
        range=hi - lo if hi >= lo else 0,
        programs=programs,
    )


def attributes_of(notes: Notes, steps_per_quarter: int = 8) -> Attributes:
    """A whole piece's attributes (what ``evaluate --controls`` reads off generated pieces)."""
    return window_attributes(bar_stats(notes, bar_lines(notes), steps_per_quarter))


def tempo_bin(qpm: float) -> int:
    return int(np.searchsorted(TEMPO_EDGES, qpm, side="right"))


def tempo_bin_name(b: int) -> str:
    lo = TEMPO_EDGES[b - 1] if b > 0 else 0
    return f"{lo}-{TEMPO_EDGES[b] - 1}" if b < len(TEMPO_EDGES) else f"{lo}+"


@dataclass(frozen=True)
class ControlBins:
    """The training data's tercile splits of density, polyphony and range (two edges each)."""

    density: tuple[float, float] = (8.0, 16.0)
    polyphony: tuple[float, float] = (1.5, 2.5)
    range: tuple[float, float] = (24.0, 36.0)

    @classmethod
    def from_attributes(cls, attrs: list[Attributes]) -> ControlBins:
        def terciles(values: list[float]) -> tuple[float, float]:
            if not values:
                return (0.0, 0.0)
            a, b = np.quantile(np.asarray(values, dtype=np.float64), [1 / 3, 2 / 3])
            return (float(a), float(b))

        return cls(*(terciles([getattr(x, kind) for x in attrs]) for kind in LEVEL_KINDS))

    def level(self, kind: str, value: float) -> int:
        return int(np.searchsorted(getattr(self, kind), value, side="right"))

    def to_array(self) -> np.ndarray:
        return np.array([self.density, self.polyphony, self.range], dtype=np.float64)

    @classmethod
    def from_array(cls, a: np.ndarray) -> ControlBins:
        return cls(*(tuple(float(v) for v in row) for row in np.asarray(a).reshape(3, 2)))

    def describe(self, kind: str) -> str:
        a, b = getattr(self, kind)
        return f"low < {a:.3g} <= medium < {b:.3g} <= high"


# ---------------------------------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class ControlVocab:
    """Control token ids, from ``base`` on: CONTROLS, 24 keys, the tempo bins, time signatures, three levels each
    of density, polyphony and range, then the programs."""

    base: int

    @property
    def sizes(self) -> dict[str, int]:
        return {
            "key": len(KEYS),
            "tempo": len(TEMPO_EDGES) + 1,
            "time_sig": len(TIME_SIGNATURES),
            "density": 3,
            "polyphony": 3,
            "range": 3,
            "programs": N_PROGRAMS,
        }

    @property
    def start(self) -> int:
        return self.base

    def offset(self, kind: str) -> int:
        o = self.base + 1
        for k, n in self.sizes.items():
            if k == kind:
                return o
            o += n
        raise KeyError(kind)

    @property
    def size(self) -> int:
        return 1 + sum(self.sizes.values())

    def token(self, kind: str, value: int) -> int:
        if not 0 <= value < self.sizes[kind]:
            raise ConfigError(f"control {kind}: value {value} out of range")
        return self.offset(kind) + value


def values_of(a: Attributes, bins: ControlBins) -> dict[str, object]:
    """The control values of attributes: an index per kind (``programs``: a sorted list), -1 key when unknown."""
    return {
        "key": a.key,
        "tempo": tempo_bin(a.qpm),
        "time_sig": TIME_SIGNATURES.index(a.time_sig),
        "density": bins.level("density", a.density),
        "polyphony": bins.level("polyphony", a.polyphony),
        "range": bins.level("range", a.range),
        "programs": sorted(a.programs),
    }


def control_tokens(values: dict[str, object], vocab: ControlVocab) -> list[int]:
    """``CONTROLS`` and a token for each control value given (kinds missing or None are left out; a key of -1 too)."""
    out = [vocab.start]
    for kind in KINDS:
        v = values.get(kind)
        if v is None:
            continue
        if kind == "programs":
            out += [vocab.token(kind, int(p)) for p in sorted(v)]  # type: ignore[union-attr]
        elif int(v) >= 0:  # type: ignore[call-overload]
            out.append(vocab.token(kind, int(v)))  # type: ignore[call-overload]
    return out


def parse_tokens(ids: list[int] | np.ndarray, vocab: ControlVocab) -> dict[str, object]:
    """The control values that tokens name (the inverse of :func:`control_tokens`; other ids are skipped)."""
    out: dict[str, object] = {}
    for i in (int(x) for x in ids):
        for kind, n in vocab.sizes.items():
            o = vocab.offset(kind)
            if o <= i < o + n:
                if kind == "programs":
                    out.setdefault("programs", []).append(i - o)  # type: ignore[union-attr]
                else:
                    out[kind] = i - o
    return out


# ---------------------------------------------------------------------------------------------- what users type
def _choices(valid: list[str] | tuple[str, ...]) -> str:
    return ", ".join(valid)


def parse_key(text: str) -> int:
    """``"D minor"``, ``"Dm"``, ``"d"`` (lower case: minor), ``"F# major"``, ``"Gb"``, ``"Bb minor"`` -> a key index."""
    t = text.strip()
    m = re.fullmatch(r"([A-Ga-g])\s*([#b♯♭]?)\s*(major|minor|maj|min|m|M)?", t)
    if not m:
        raise ConfigError(f"--key {text!r}: not a key; give a tonic and a mode, one of: {_choices(KEYS)}")
    letter, accidental, mode = m.groups()
    pc = (_LETTERS[letter.upper()] + {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(accidental, 0)) % 12
    minor = mode in ("minor", "min", "m") or (mode is None and letter.islower())
    return pc + 12 * int(minor)


def parse_level(kind: str, text: str) -> int:
    t = text.strip().lower()
    if t not in LEVELS:
        raise ConfigError(f"--{kind.replace('_', '-')} {text!r}: choose one of {_choices(LEVELS)}")
    return LEVELS.index(t)


def parse_tempo(text: str | float) -> int:
    try:
        qpm = float(text)
    except (TypeError, ValueError):
        raise ConfigError(f"--tempo {text!r}: give beats (quarter notes) per minute, e.g. 90") from None
    if not 10 <= qpm <= 400:
        raise ConfigError(f"--tempo {text}: beats per minute between 10 and 400, e.g. 90")
    return tempo_bin(qpm)


def parse_time_sig(text: str) -> int:
    t = text.strip()
    if t not in TIME_SIGNATURES or t == "other":
        raise ConfigError(f"--time-signature {text!r}: choose one of {_choices(TIME_SIGNATURES[:-1])}")
    return TIME_SIGNATURES.index(t)


def program_names() -> list[str]:
    """Every General MIDI program's name as typed on the command line (``acoustic-grand-piano``), by number."""
    from miditok.constants import MIDI_INSTRUMENTS

    return [re.sub(r"[^a-z0-9]+", "-", str(d["name"]).lower()).strip("-") for d in MIDI_INSTRUMENTS]


def parse_instruments(text: str) -> list[int]:
    """``"piano,violin"``, ``"0,40"``, ``"acoustic-grand-piano,drums"`` -> sorted General MIDI programs (128: drums)."""
    names = {n: i for i, n in enumerate(program_names())} | INSTRUMENT_ALIASES
    out = set()
    for part in (p.strip().lower().replace(" ", "-") for p in text.split(",")):
        if not part:
            continue
        if part.isdigit() and int(part) < N_PROGRAMS:
            out.add(int(part))
        elif part in names:
            out.add(names[part])
        else:
            raise ConfigError(
                f"--instruments: {part!r} is not an instrument; use General MIDI numbers 0-127 (128: drums) or names: "
                f"{_choices(sorted(INSTRUMENT_ALIASES))} (or any General MIDI name, e.g. acoustic-grand-piano)"
            )
    if not out:
        raise ConfigError("--instruments: give at least one instrument, e.g. piano,violin")
    return sorted(out)


def parse_controls(
    key: str | None = None,
    tempo: str | float | None = None,
    time_signature: str | None = None,
    density: str | None = None,
    polyphony: str | None = None,
    pitch_range: str | None = None,
    instruments: str | None = None,
) -> dict[str, object]:
    """What a user asked for, as control values (kinds not asked for are absent)."""
    out: dict[str, object] = {}
    if key is not None:
        out["key"] = parse_key(key)
    if tempo is not None:
        out["tempo"] = parse_tempo(tempo)
    if time_signature is not None:
        out["time_sig"] = parse_time_sig(time_signature)
    for kind, text in (("density", density), ("polyphony", polyphony), ("range", pitch_range)):
        if text is not None:
            out[kind] = parse_level("pitch-range" if kind == "range" else kind, text)
    if instruments is not None:
        out["programs"] = parse_instruments(instruments)
    return out


def obeyed(asked: dict[str, object], got: dict[str, object]) -> dict[str, bool]:
    """For each kind asked for, whether the values read off a piece match (programs: the same set)."""
    out = {}
    for kind, v in asked.items():
        if kind == "programs":
            out[kind] = sorted(got.get(kind) or []) == sorted(v)  # type: ignore[arg-type]
        else:
            out[kind] = got.get(kind) == v
    return out
