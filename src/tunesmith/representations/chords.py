"""Chords from notes: a chord (root, quality, bass) per beat, half bar or bar of a piece, named in Harte's syntax
(Harte et al. 2005, "Symbolic representation of musical chords": ``C:maj``, ``A:min7``, ``G:7/3``, ``N`` where
nothing sounds), as MIR's chord datasets and evaluation tools (mir_eval) write them.

How (template matching, vectorised over every segment of a piece at once):

1. **Segments**: the piece's bar lines (from its time signatures) cut into beats, half bars or bars.
2. **What sounds**: per segment, how long each pitch class sounds in it (quarter notes, every voice; drums
   excluded), from the notes' onsets and ends through prefix sums, so a note held over several segments counts in
   each for its share, with what sounds as the segment starts weighing more (:data:`AT_START`: chords change on
   the beat, passing tones come after it); and the bass: the lowest pitch sounding as the segment starts (else
   the lowest that sounds for a quarter of it, else the lowest that sounds at all).
3. **Which chord**: every root (12) and quality of :data:`QUALITIES` is scored as the share of the sounding time
   on its chord tones, minus the share off them, minus a small cost per chord tone beyond three (a seventh must
   earn its place), plus a bonus when the bass is the root (:data:`BASS_ROOT`) or another chord tone
   (:data:`BASS_TONE`). The best scores wins; a segment with nothing sounding is ``N``.

The four weights were chosen on 10 of the 20 chorales analysed by hand in music21's ``bach/choraleAnalyses``; the
accuracy on the other 10 is measured by ``benchmarks/bench_chords.py`` beside music21's own ``chordify``
(docs/chords.md). What it gets wrong: passing and neighbour tones that last as long as chord tones,
and chords whose root is absent. Pure functions; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..chordnames import (  # noqa: F401 (re-exported: the names of chords are the floor below's)
    DEGREES,
    NAMES,
    QUALITIES,
    TRIAD_OF,
    harte,
    parse_harte,
    parse_symbols_text,
    symbols_text,
)
from ..errors import ConfigError
from ..grid import bar_lines_qn
from ..notes import Notes

#: the four weights, chosen on analyses 1-10 of music21's 20 (``bench_chords.py --choose``, a grid of 500: the best,
#: 90.5% of beats right, is shared by bass bonuses 0.10-0.20 and 0.05-0.10; these are its middle); the figures are
#: reported on analyses 11-20
BASS_ROOT = 0.15  # bonus when the bass is the root
BASS_TONE = 0.05  # bonus when the bass is another chord tone
EXTRA_TONE = 0.30  # cost of each chord tone beyond three: a seventh must hold its share of the sounding time
AT_START = 0.5  # what sounds at a segment's start counts this much more (a passing tone comes after the beat)
#: a segment: "beat" (a quarter note), "half" (half a bar) or "bar"
PER = ("beat", "half", "bar")

_ROOTS, _QUALS = np.meshgrid(np.arange(12), np.arange(len(QUALITIES)), indexing="ij")
_ROOTS, _QUALS = _ROOTS.ravel(), _QUALS.ravel()  # every (root, quality), root-major
TEMPLATES = np.zeros((_ROOTS.size, 12))
for _k, (_r, _q) in enumerate(zip(_ROOTS, _QUALS, strict=True)):
    TEMPLATES[_k, [(_r + i) % 12 for i in QUALITIES[list(QUALITIES)[_q]]]] = 1.0
_SIZE = TEMPLATES.sum(axis=1)


@dataclass(frozen=True)
class Chords:
    """A piece's chords: segment ``i`` from ``start_qn[i]`` to ``end_qn[i]`` (quarter notes; ``start``/``end`` in
    seconds) holds ``root[i]`` (pitch class, -1 for ``N``), ``quality[i]`` (a key of :data:`QUALITIES`, "" for
    ``N``) and ``bass[i]`` (pitch class, -1 for ``N``)."""

    start_qn: np.ndarray
    end_qn: np.ndarray
    start: np.ndarray
    end: np.ndarray
    root: np.ndarray
    quality: list[str]
    bass: np.ndarray

    def __len__(self) -> int:
        return int(self.root.size)

    def labels(self) -> list[str]:
        """Each segment's chord in Harte's syntax."""
        return [harte(int(r), q, int(b)) for r, q, b in zip(self.root, self.quality, self.bass, strict=True)]

    def merged(self) -> Chords:
        """Neighbouring segments with the same chord joined into one."""
        if len(self) == 0:
            return self
        lab = self.labels()
        keep = np.array([True] + [lab[i] != lab[i - 1] for i in range(1, len(lab))])
        first = np.flatnonzero(keep)
        last = np.append(first[1:] - 1, len(lab) - 1)
        return Chords(
            self.start_qn[first],
            self.end_qn[last],
            self.start[first],
            self.end[last],
            self.root[first],
            [self.quality[i] for i in first],
            self.bass[first],
        )


def segments(notes: Notes, per: str = "half") -> np.ndarray:
    """The segment boundaries (quarter notes) of a piece, from 0 to the bar line after its last note."""
    if per not in PER:
        raise ConfigError(f"chords per {per!r}: choose one of {', '.join(PER)}")
    end = float(notes.end_qn.max()) if len(notes) else 0.0
    lines = bar_lines_qn(notes, end)
    if lines[-1] < end - 1e-9 or lines.size == 1:
        step = float(lines[-1] - lines[-2]) if lines.size >= 2 else 4.0
        while lines[-1] < end - 1e-9:
            lines = np.append(lines, lines[-1] + step)
    if lines.size == 1:
        lines = np.append(lines, lines[0] + 4.0)
    if per == "bar":
        return lines
    cuts = []
    for a, b in zip(lines[:-1], lines[1:], strict=True):
        if per == "half":  # a bar of more than a beat in two equal halves (3/4: 1.5 + 1.5)
            cuts += [a, a + (b - a) / 2] if b - a > 1.0 + 1e-9 else [a]
        else:
            cuts += list(np.arange(a, b - 1e-9, 1.0))
    return np.array([*cuts, lines[-1]])


def _sounding(start: np.ndarray, end: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Total time the notes sound before each time of ``at``: ``sum clip(t - start, 0, end - start)``."""
    s, e = np.sort(start), np.sort(end)
    cs, ce = np.concatenate([[0.0], np.cumsum(s)]), np.concatenate([[0.0], np.cumsum(e)])
    ns, ne = np.searchsorted(s, at, side="left"), np.searchsorted(e, at, side="left")
    return at * ns - cs[ns] - (at * ne - ce[ne])


def recognise(notes: Notes, per: str = "half") -> Chords:
    """The chord of every segment of ``notes`` (see the module docstring)."""
    bounds = segments(notes, per)
    n = bounds.size - 1
    a = notes.notes[~notes.notes["is_drum"]]
    weights = np.zeros((n, 12))
    for pc in range(12):
        sel = a[a["pitch"] % 12 == pc]
        if sel.size:
            weights[:, pc] = np.diff(_sounding(sel["start_qn"], sel["end_qn"], bounds))
    bass = np.full(n, -1, dtype=np.int64)
    if a.size:
        # each note over the segments it touches: its pitch, and how long it sounds in each
        first = np.clip(np.searchsorted(bounds, a["start_qn"], side="right") - 1, 0, n - 1)
        last = np.clip(np.searchsorted(bounds, a["end_qn"], side="left") - 1, first, n - 1)
        count = last - first + 1
        seg = np.repeat(first, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
        lo = np.maximum(np.repeat(a["start_qn"], count), bounds[seg])
        hi = np.minimum(np.repeat(a["end_qn"], count), bounds[seg + 1])
        pitch = np.repeat(a["pitch"].astype(np.int64), count)
        held = (hi - lo) >= 0.25 * (bounds[seg + 1] - bounds[seg])
        sounding = hi > lo
        at_start = sounding & (lo <= bounds[seg] + 1e-9)
        # what sounds as the segment starts weighs more: chords change on the beat, passing tones come after it
        np.add.at(weights, (seg[at_start], pitch[at_start] % 12), AT_START * (bounds[seg + 1] - bounds[seg])[at_start])
        # the bass: the lowest note sounding at the start, else the lowest held a quarter of the segment, else the
        # lowest sounding at all (each overrides the one before where it exists)
        for mask in (sounding, sounding & held, at_start):
            low = np.full(n, 999, dtype=np.int64)
            np.minimum.at(low, seg[mask], pitch[mask])
            bass = np.where(low < 999, low % 12, bass)
    total = weights.sum(axis=1, keepdims=True)
    share = weights / np.maximum(total, 1e-12)
    on = share @ TEMPLATES.T  # (n, T): the share on each chord's tones
    score = 2 * on - 1 - EXTRA_TONE * (_SIZE - 3)[None, :]
    has_bass = bass >= 0
    bass_pc = np.where(has_bass, bass, 0)
    score += BASS_ROOT * (has_bass[:, None] & (_ROOTS[None, :] == bass_pc[:, None]))
    score += BASS_TONE * (has_bass[:, None] & (TEMPLATES[:, bass_pc].T > 0) & (_ROOTS[None, :] != bass_pc[:, None]))
    best = score.argmax(axis=1)
    empty = total[:, 0] <= 1e-9
    names = list(QUALITIES)
    root = np.where(empty, -1, _ROOTS[best])
    quality = ["" if e else names[_QUALS[b]] for e, b in zip(empty, best, strict=True)]
    start_qn, end_qn = bounds[:-1], bounds[1:]
    return Chords(
        start_qn,
        end_qn,
        notes.qn_to_seconds(start_qn),
        notes.qn_to_seconds(end_qn),
        root,
        quality,
        np.where(empty, -1, bass),
    )


# ------------------------------------------------------------------------------------------- chord symbols
#: a chord symbol's suffix (as lead sheets write them) -> its quality; the longest matching suffix wins
SUFFIXES = {
    "": "maj", "maj": "maj", "M": "maj", "m": "min", "min": "min", "-": "min", "dim": "dim", "o": "dim",
    "°": "dim", "aug": "aug", "+": "aug", "sus4": "sus4", "sus": "sus4", "7": "7", "dom7": "7", "9": "7",
    "13": "7", "11": "7", "maj7": "maj7", "M7": "maj7", "Δ": "maj7", "Δ7": "maj7", "maj9": "maj7", "m7": "min7",
    "min7": "min7", "-7": "min7", "m9": "min7", "m11": "min7", "m7b5": "hdim7", "ø": "hdim7", "ø7": "hdim7",
    "hdim7": "hdim7", "dim7": "dim7", "o7": "dim7", "°7": "dim7", "6": "maj", "m6": "min", "add9": "maj",
    "7sus4": "sus4", "sus2": "maj", "5": "maj",
}  # fmt: skip
_ROOT = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def parse_symbol(text: str) -> tuple[int, str, int]:
    """A chord symbol as lead sheets write it (``C``, ``Am``, ``G7/B``, ``F#m7b5``, ``Bbmaj7``, ``Cdim``, ``Esus4``)
    or in Harte's syntax (``A:min7``, ``G:7/3``) -> (root pitch class, quality of :data:`QUALITIES`, bass pitch
    class or -1 where it is the root); ``N`` (no chord) -> (-1, "", -1). Extensions fold into their seventh chord
    (``G9`` is ``7``, ``Cmaj9`` is ``maj7``), sixths and added tones into their triad. A ConfigError names the symbol
    that is none."""
    s = text.strip()
    if ":" in s or s in ("N", "X"):
        root, quality, bass = parse_harte(s)
        return root, quality, -1 if bass == root else bass
    body, slash, bass_text = s.partition("/")
    ok = bool(body) and body[0].upper() in _ROOT and body[0] == body[0].upper() and bool(bass_text) == bool(slash)
    if ok:
        n = 1 + (len(body) > 1 and body[1] in "#b♯♭")
        root = (_ROOT[body[0]] + sum({"#": 1, "♯": 1, "b": -1, "♭": -1}[c] for c in body[1:n])) % 12
        quality = SUFFIXES.get(body[n:])
        bass = -1
        if bass_text:
            if bass_text[0] not in _ROOT or len(bass_text) > 2 or (len(bass_text) == 2 and bass_text[1] not in "#b"):
                quality = None
            else:
                bass = (_ROOT[bass_text[0]] + {"#": 1, "b": -1, "": 0}[bass_text[1:]]) % 12
        if quality is not None:
            return root, quality, -1 if bass == root else bass
    raise ConfigError(
        f"{text.strip()!r} is not a chord symbol: a root A-G (with # or b), then a kind such as m, 7, maj7, m7, dim, "
        "aug, sus4 or m7b5, and /BASS for a slash chord (e.g. C, Am, G7/B, F#m7b5; N for no chord)"
    )


def parse_progression(text: str) -> list[list[tuple[int, str, int]]]:
    """``"C | G | Am | F"`` -> one list per bar of its chords (one for the whole bar, or two: ``"C G | Am F"``, a
    half bar each), as :func:`parse_symbol` reads them. ``|`` separates bars; a ConfigError names a bad symbol or a
    bar of more than two chords."""
    bars = [b.split() for b in text.split("|")]
    if not any(bars) or any(not b for b in bars):
        raise ConfigError(f"--chords {text!r}: write bars separated by |, one or two chords each (e.g. 'C | G | Am F')")
    out = []
    for k, bar in enumerate(bars, 1):
        if len(bar) > 2:
            raise ConfigError(
                f"--chords: bar {k} ({' '.join(bar)}) has {len(bar)} chords; at most two (a half bar each)"
            )
        out.append([parse_symbol(c) for c in bar])
    return out


def progression_text(bars: list[list[tuple[int, str, int]]]) -> str:
    """A progression as :func:`parse_progression` reads it, chords in Harte's syntax."""
    return " | ".join(" ".join(harte(*c) for c in bar) for bar in bars)


# ------------------------------------------------------------------------------------------- per bar
#: one bar's chords, as a token cache keeps them: ``chord`` a chord index (:func:`chord_index`) per half bar, -1 for
#: none; ``bass`` the bass pitch class per half where it is not the root, else -1
BAR_CHORD_DTYPE = np.dtype([("chord", np.int16, 2), ("bass", np.int8, 2)])


def chord_index(root: int, quality: str) -> int:
    """0 .. 12 x len(QUALITIES) - 1, root-major; -1 for no chord."""
    return -1 if root < 0 or not quality else root * len(QUALITIES) + list(QUALITIES).index(quality)


def bar_chords(notes: Notes, lines: np.ndarray) -> np.ndarray:
    """One :data:`BAR_CHORD_DTYPE` row per bar line of ``lines`` (quarter notes): the recogniser's chords of each
    bar's two halves (:func:`recognise` per half bar), the second -1 where it is the first's chord again."""
    out = np.zeros(len(lines), dtype=BAR_CHORD_DTYPE)
    out["chord"], out["bass"] = -1, -1
    if len(notes) == 0 or len(lines) == 0:
        return out
    found = recognise(notes, "half")
    idx = np.array([chord_index(int(r), q) for r, q in zip(found.root, found.quality, strict=True)], dtype=np.int64)
    bass = np.where((found.bass >= 0) & (found.bass != found.root), found.bass, -1)
    bar = np.searchsorted(lines, found.start_qn + 1e-9, side="right") - 1
    for k in range(len(lines)):
        seg = np.flatnonzero(bar == k)
        if seg.size == 0:
            continue
        first, last = seg[0], seg[-1]
        out["chord"][k, 0], out["bass"][k, 0] = idx[first], bass[first]
        if last != first and (idx[last], bass[last]) != (idx[first], bass[first]):
            out["chord"][k, 1], out["bass"][k, 1] = idx[last], bass[last]
    return out


def progression_rows(bars: list[list[tuple[int, str, int]]], n_bars: int) -> np.ndarray:
    """``n_bars`` rows of :data:`BAR_CHORD_DTYPE` from a progression, repeated to fill them."""
    out = np.zeros(n_bars, dtype=BAR_CHORD_DTYPE)
    out["chord"], out["bass"] = -1, -1
    for k in range(n_bars):
        bar = bars[k % len(bars)]
        for h, (root, quality, bass) in enumerate(bar):
            out["chord"][k, h] = chord_index(root, quality)
            out["bass"][k, h] = bass if bass != root else -1
    return out


def tone_masks(rows: np.ndarray) -> np.ndarray:
    """``(n, 2, 12)`` int8: per bar of ``rows`` (:data:`BAR_CHORD_DTYPE`) and half bar, each pitch class's part in
    its chord: 2 the root, 1 another of its tones (a slash chord's bass included), 0 none; a second half with no
    chord of its own has the first's, and a bar with no chord at all every pitch class as a tone (nothing to keep
    to)."""
    out = np.ones((len(rows), 2, 12), dtype=np.int8)
    for k, row in enumerate(rows):
        for h in range(2):
            c = int(row["chord"][h])
            if c < 0:
                if h == 1:
                    out[k, 1] = out[k, 0]
                continue
            out[k, h] = TEMPLATES[c] > 0
            if int(row["bass"][h]) >= 0:
                out[k, h, int(row["bass"][h])] = 1
            out[k, h, c // len(QUALITIES)] = 2
    return out


@dataclass(frozen=True)
class ChordVocab:
    """Chord tokens, from ``base`` on: one per chord (12 roots x the qualities of :data:`QUALITIES`), then one per
    bass pitch class, then ``CHORD_NONE``. A bar's tokens follow its ``Bar`` token: its first chord (and bass, where
    not the root), then its second half's where it changes. A bar whose chords are not told has as many
    ``CHORD_NONE`` in their place (in training, the bars whose chords are dropped; in generation, the reading without
    chords that classifier-free guidance pushes away from)."""

    base: int

    @property
    def size(self) -> int:
        return 12 * len(QUALITIES) + 12 + 1

    @property
    def none(self) -> int:
        return self.base + 12 * len(QUALITIES) + 12

    def bar_tokens(self, row: np.void) -> list[int]:
        out: list[int] = []
        for h in range(2):
            c, b = int(row["chord"][h]), int(row["bass"][h])
            if c < 0:
                if h == 0:  # nothing known of the first half: the bar carries no chord
                    return []
                continue
            out.append(self.base + c)
            if b >= 0:
                out.append(self.base + 12 * len(QUALITIES) + b)
        return out


def followed(notes: Notes, bars: list[list[tuple[int, str, int]]], n_bars: int | None = None) -> dict[str, int]:
    """How closely ``notes`` follow a progression (``bars``, as :func:`parse_progression` gives it, repeated to
    fill ``n_bars``, by default as many bars as the piece has): of the bars (the half bars, for a bar of two
    chords) given a chord (``asked``), those the recogniser hears as it: root and triad (``triad``: a seventh chord
    counts as its triad), the exact quality (``exact``), and of those asked with a bass of their own (``slash_asked``)
    the ones with that bass (``slash``). A bar the piece does not reach counts as missed."""
    whole, half = recognise(notes, "bar"), recognise(notes, "half")
    n_bars = len(whole) if n_bars is None else n_bars
    counts = {"asked": 0, "triad": 0, "exact": 0, "slash_asked": 0, "slash": 0}
    for k in range(n_bars if bars else 0):
        chords = bars[k % len(bars)]
        for h, (root, quality, bass) in enumerate(chords):
            if root < 0:
                continue
            seg, i = whole, k
            if len(chords) > 1 and k < len(whole):  # the half bar that starts there (a bar of a beat has one)
                middle = whole.start_qn[k] + h * (whole.end_qn[k] - whole.start_qn[k]) / 2
                seg, i = half, int(np.searchsorted(half.start_qn, middle + 1e-9, side="right")) - 1
            got = (int(seg.root[i]), seg.quality[i], int(seg.bass[i])) if i < len(seg) else (-1, "", -1)
            counts["asked"] += 1
            counts["triad"] += got[0] == root and TRIAD_OF.get(got[1]) == TRIAD_OF[quality]
            counts["exact"] += got[0] == root and got[1] == quality
            if bass >= 0:
                counts["slash_asked"] += 1
                counts["slash"] += got[2] == bass
    return counts


def symbols_by_bar(symbols: list[tuple[float, int, str, int]], lines: np.ndarray) -> list[list[tuple[int, str, int]]]:
    """A lead sheet's chord symbols (``(quarter notes, root, quality, bass)`` in time order, as
    ``io.score.read_lead_sheet`` gives them) as a progression, one list per bar of ``lines`` (its bar lines, the
    last one the end): the chord sounding as the bar starts (else the first to begin in its first half), and the
    one sounding at its middle where that is another (a half bar each, as ``--chords "C G | ..."`` writes it);
    ``(-1, "", -1)`` where none sounds yet."""
    at = np.array([s[0] for s in symbols], dtype=np.float64)

    def sounding(t: float) -> tuple[int, str, int]:
        k = int(np.searchsorted(at, t + 1e-6, side="right")) - 1
        return tuple(symbols[k][1:]) if k >= 0 else (-1, "", -1)  # type: ignore[return-value]

    out = []
    for a, b in zip(lines[:-1], lines[1:], strict=True):
        mid = a + (b - a) / 2
        first, second = sounding(a), sounding(mid)
        if first[0] < 0 and second[0] >= 0:
            first = second
        out.append([first] if second == first else [first, second])
    return out


def piece_bar_chords(notes: Notes, lines: np.ndarray) -> np.ndarray:
    """Each bar's chords for the token cache (:data:`BAR_CHORD_DTYPE`, one row per bar line of ``lines``): a lead
    sheet's own chord symbols where the piece has them (``metadata["chord_symbols"]``: a melody alone does not say
    its chords), else the recogniser's (:func:`bar_chords`)."""
    text = notes.metadata.get("chord_symbols")
    if not text or len(lines) == 0:
        return bar_chords(notes, lines)
    end = max(float(notes.end_qn.max()) if len(notes) else 0.0, float(lines[-1]) + 1e-6)
    closed = np.append(lines, lines[-1] + (lines[-1] - lines[-2] if lines.size > 1 else 4.0))
    closed = closed if closed[-1] >= end else np.append(closed, end)
    return progression_rows(symbols_by_bar(parse_symbols_text(text), closed)[: len(lines)], len(lines))
