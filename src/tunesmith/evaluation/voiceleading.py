"""Voice leading of four-part music: parallel fifths and octaves, voice crossings, notes out of a voice's range and
dissonance on strong beats. Pure functions of :class:`~tunesmith.notes.Notes`; no I/O.

The voices are told apart by program (the built-in chorales: :data:`~tunesmith.corpora.CHORALE_VOICE_PROGRAMS`,
soprano 40 to bass 43) or by track, through a mapping from voice name to program (or track) listed highest voice
first. Notes of other programs are ignored. Each voice is read as one line: where a voice holds two notes at once,
it sounds the one that started last (of two that started together, the higher). Times are quarter notes (beats).

- **Sonorities of a pair**: the times where either of two voices starts or ends a note; between two such times
  neither changes. Two consecutive sonorities where both voices sound, both move (neither holds nor repeats its
  pitch) in the same direction, and the interval between them, in semitones modulo 12 (so compound intervals
  count, as do crossed voices), is a perfect fifth (7) before and after make **parallel fifths**; a unison or
  octave (0) before and after, **parallel octaves**. Fifths by contrary motion, a fifth reached while one voice
  holds, and a diminished fifth to a perfect one are not counted.
- **Crossing**: the time during which the lower voice of an adjacent pair (soprano/alto, alto/tenor, tenor/bass)
  sounds strictly above the higher one. A unison is no crossing.
- **Range**: a note out of its voice's range (:data:`SATB_RANGES`).
- **Strong beats**: the first beat of every bar, and the middle of a bar of four beats (beats 1 and 3 of 4/4,
  4/2 and 12/8; beat 1 only of 2/4, 2/2, 3/4, 3/2 and 6/8), from the piece's time signatures (4/4 where there is
  none); a first bar shorter than the bar after it is a pickup and has none. A strong beat where at least two
  voices sound (starting there or held) is a strong-beat sonority; it is **dissonant** when two of its voices
  form a second, a seventh or a tritone (1, 2, 6, 10 or 11 semitones modulo 12), or an upper voice forms a fourth
  (5) with the lowest one sounding (the bass). Seventh chords and suspensions on a strong beat are dissonant.

:func:`voice_leading` gives the counts of one piece (:class:`VoiceLeading`), :meth:`VoiceLeading.summary` its
rates, :func:`pool` the counts of a set of pieces summed, so that its rates per 100 beats are the pieces' rates
averaged weighted by their beats (its shares: weighted by notes, or by strong-beat sonorities).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations, pairwise
from typing import Literal

import numpy as np

from ..corpora import CHORALE_VOICE_PROGRAMS
from ..notes import Notes

#: The usual range of each voice in four-part writing, as MIDI pitches (inclusive; middle C = 60): soprano C4-G5,
#: alto G3-C5, tenor C3-G4, bass E2-C4. These are the common classroom ranges of harmony courses (the default
#: range check of the "partwriting-error-checker" MuseScore plugin uses exactly these; some textbooks allow a
#: step more at an end, e.g. alto to D5, bass to D4). For comparison, the smallest ranges that hold 95% of each
#: part's notes in the Bach chorales are E-flat4-E5, A3-A4, F3-F4 and F2-B-flat3 (Aarden and von Hippel, Music
#: Theory Online 10.2, 2004, table 4.2.2a).
SATB_RANGES: dict[str, tuple[int, int]] = {"soprano": (60, 79), "alto": (55, 72), "tenor": (48, 67), "bass": (40, 60)}
#: Intervals (semitones modulo 12) dissonant between any two voices: seconds, sevenths and the tritone.
DISSONANT = frozenset({1, 2, 6, 10, 11})
#: Intervals (semitones modulo 12) dissonant above the lowest sounding voice only: the fourth.
DISSONANT_ABOVE_BASS = frozenset({5})
_DIGITS = 6  # quarter-note times are compared rounded to this many decimals (float round-off of decoded ticks)


@dataclass
class VoiceLeading:
    """The voice-leading counts of one piece (or of a set of pieces: :func:`pool`). Pairs are named
    ``"upper-lower"`` (``"soprano-bass"``), in voice order."""

    #: quarter notes from the first onset to the last note's end (summed over pieces for a set)
    beats: float = 0.0
    pieces: int = 1
    #: every pair of voices -> parallel fifths / octaves
    parallel_fifths: dict[str, int] = field(default_factory=dict)
    parallel_octaves: dict[str, int] = field(default_factory=dict)
    #: adjacent pairs -> quarter notes during which the lower voice sounds above the higher
    crossing_beats: dict[str, float] = field(default_factory=dict)
    #: voice -> its notes, and those out of its range
    notes: dict[str, int] = field(default_factory=dict)
    out_of_range: dict[str, int] = field(default_factory=dict)
    #: strong beats where two voices or more sound, and those of them that are dissonant
    strong_beats: int = 0
    dissonant_strong_beats: int = 0

    def per_100_beats(self, count: float) -> float:
        return 100.0 * count / self.beats if self.beats > 0 else 0.0

    def summary(self) -> dict[str, float]:
        """Rates and shares: the totals over pairs and voices, then one entry per pair and per voice
        (``"parallel_fifths_per_100_beats[soprano-bass]"``, ``"out_of_range_share[alto]"``)."""
        notes = sum(self.notes.values())
        out: dict[str, float] = {
            "beats": self.beats,
            "parallel_fifths_per_100_beats": self.per_100_beats(sum(self.parallel_fifths.values())),
            "parallel_octaves_per_100_beats": self.per_100_beats(sum(self.parallel_octaves.values())),
            "crossing_per_100_beats": self.per_100_beats(sum(self.crossing_beats.values())),
            "out_of_range_share": sum(self.out_of_range.values()) / notes if notes else 0.0,
            "strong_beat_dissonance_share": (
                self.dissonant_strong_beats / self.strong_beats if self.strong_beats else 0.0
            ),
        }
        for pair, n in self.parallel_fifths.items():
            out[f"parallel_fifths_per_100_beats[{pair}]"] = self.per_100_beats(n)
        for pair, n in self.parallel_octaves.items():
            out[f"parallel_octaves_per_100_beats[{pair}]"] = self.per_100_beats(n)
        for pair, b in self.crossing_beats.items():
            out[f"crossing_per_100_beats[{pair}]"] = self.per_100_beats(b)
        for voice, n in self.notes.items():
            out[f"out_of_range_share[{voice}]"] = self.out_of_range[voice] / n if n else 0.0
        return out


def voice_leading(
    notes: Notes,
    voices: Mapping[str, int] = CHORALE_VOICE_PROGRAMS,
    *,
    by: Literal["program", "track"] = "program",
    ranges: Mapping[str, tuple[int, int]] = SATB_RANGES,
) -> VoiceLeading:
    """The voice-leading counts of one piece (see the module's description).

    ``voices`` maps each voice's name to its program (``by="program"``) or track (``by="track"``), highest voice
    first; a voice without notes takes part in nothing. ``ranges`` maps voice names to (lowest, highest) MIDI
    pitches; a voice it does not name has no notes out of range. Drum notes are ignored."""
    names = list(voices)
    lines = _lines(notes, voices, by)
    starts = [line[0] for line in lines.values() if line[0].size]
    ends = [line[1] for line in lines.values() if line[1].size]
    beats = float(np.max(np.concatenate(ends)) - np.min(np.concatenate(starts))) if starts else 0.0
    result = VoiceLeading(beats=beats)

    for upper, lower in combinations(names, 2):
        fifths, octaves = _parallels(lines[upper], lines[lower])
        result.parallel_fifths[f"{upper}-{lower}"] = fifths
        result.parallel_octaves[f"{upper}-{lower}"] = octaves
    for upper, lower in pairwise(names):
        result.crossing_beats[f"{upper}-{lower}"] = _crossing(lines[upper], lines[lower])
    for v in names:
        pitch = lines[v][2]
        lo, hi = ranges.get(v, (0, 127))
        result.notes[v] = int(pitch.size)
        result.out_of_range[v] = int(np.count_nonzero((pitch < lo) | (pitch > hi)))

    if starts:
        first = float(np.min(np.concatenate(starts)))
        beat_times = strong_beats(notes.time_signatures, first, first + beats)
        sounding = np.stack([_pitch_at(lines[v], beat_times) for v in names]) if names else np.zeros((0, 0))
        for k in range(beat_times.size):
            pitches = sounding[:, k]
            pitches = pitches[pitches >= 0]
            if pitches.size < 2:
                continue
            result.strong_beats += 1
            result.dissonant_strong_beats += int(_dissonant(pitches))
    return result


def pool(results: Iterable[VoiceLeading]) -> VoiceLeading:
    """The counts of a set of pieces summed: its :meth:`~VoiceLeading.summary` gives the rates per 100 beats of
    the pieces averaged weighted by their beats, the out-of-range share weighted by notes and the dissonance
    share by strong-beat sonorities."""
    total = VoiceLeading(pieces=0)
    for r in results:
        total.beats += r.beats
        total.pieces += r.pieces
        for mine, theirs in (
            (total.parallel_fifths, r.parallel_fifths),
            (total.parallel_octaves, r.parallel_octaves),
            (total.crossing_beats, r.crossing_beats),
            (total.notes, r.notes),
            (total.out_of_range, r.out_of_range),
        ):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v
        total.strong_beats += r.strong_beats
        total.dissonant_strong_beats += r.dissonant_strong_beats
    return total


def strong_beats(time_signatures: np.ndarray, start: float, end: float) -> np.ndarray:
    """The strong beats (quarter notes) from ``start`` up to but not including ``end``: every bar's first beat and
    the middle of a bar of four beats (see the module's description); bars follow ``time_signatures`` from 0 (4/4
    where there is none); a first bar shorter than the bar after it is a pickup without a strong beat."""
    ts = np.sort(time_signatures[time_signatures["qn"] >= 0], order="qn", kind="stable")
    qn = [float(q) for q in ts["qn"]]
    meters = [(int(n), int(d)) for n, d in zip(ts["numerator"], ts["denominator"], strict=True)]
    if not qn or qn[0] > 0:
        qn, meters = [0.0, *qn], [(4, 4), *meters]
    out: list[np.ndarray] = []
    for k, (begin, (num, den)) in enumerate(zip(qn, meters, strict=True)):
        stop = qn[k + 1] if k + 1 < len(qn) else max(end, begin)
        bar = num * 4.0 / den if num > 0 and den > 0 else 4.0
        if stop <= begin:
            continue
        if k == 0 and len(qn) > 1 and abs(stop - begin - bar) < 1e-9:  # one bar, then another time signature
            n2, d2 = meters[1]
            if bar < n2 * 4.0 / max(d2, 1):
                continue  # a pickup
        compound = den >= 8 and num % 3 == 0 and num > 3
        beats_in_bar = num // 3 if compound else num
        offsets = [0.0, bar / 2] if beats_in_bar >= 4 and beats_in_bar % 2 == 0 else [0.0]
        bars = begin + bar * np.arange(int(np.ceil((stop - begin) / bar - 1e-9)))
        out.append((bars[:, None] + np.array(offsets)[None, :]).ravel())
    times = np.round(np.sort(np.concatenate(out)) if out else np.zeros(0), _DIGITS)
    return times[(times >= round(start, _DIGITS) - 1e-9) & (times < round(end, _DIGITS) - 1e-9)]


# ---------------------------------------------------------------------------------------------- one voice
_Line = tuple[np.ndarray, np.ndarray, np.ndarray]  # starts, ends, pitches, sorted by start then pitch


def _lines(notes: Notes, voices: Mapping[str, int], by: str) -> dict[str, _Line]:
    """Each voice's line (drum notes left out), the voices told apart ``by`` program or track."""
    if by not in ("program", "track"):
        raise ValueError(f"by must be 'program' or 'track', not {by!r}")
    a = notes.notes[~notes.notes["is_drum"]]
    return {v: _line(a[a[by] == voices[v]]) for v in voices}


def _line(a: np.ndarray) -> _Line:
    order = np.lexsort((a["pitch"], a["start_qn"]))
    a = a[order]
    return (
        np.round(a["start_qn"], _DIGITS),
        np.round(a["end_qn"], _DIGITS),
        a["pitch"].astype(np.int64),
    )


def _pitch_at(line: _Line, times: np.ndarray) -> np.ndarray:
    """The pitch the voice sounds at each time (-1: silent): of its notes sounding then, the last started."""
    starts, ends, pitch = line
    if starts.size == 0 or times.size == 0:
        return np.full(times.size, -1, dtype=np.int64)
    on = (starts[None, :] <= times[:, None]) & (ends[None, :] > times[:, None])
    last = np.where(on, np.arange(starts.size)[None, :], -1).max(axis=1)
    return np.where(last >= 0, pitch[np.maximum(last, 0)], -1)


def _changes(u: _Line, v: _Line) -> np.ndarray:
    """The times where either voice starts or ends a note, in order."""
    return np.unique(np.concatenate([u[0], u[1], v[0], v[1]]))


def _parallel_steps(upper: _Line, lower: _Line) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pair's change times, and per step between two of them whether it is a parallel fifth, an octave."""
    times = _changes(upper, lower)
    pu, pl = _pitch_at(upper, times), _pitch_at(lower, times)
    both = (pu >= 0) & (pl >= 0)
    step = both[:-1] & both[1:]
    du, dl = np.diff(pu), np.diff(pl)
    parallel = step & (du != 0) & (dl != 0) & (np.sign(du) == np.sign(dl))
    interval = np.abs(pu - pl) % 12
    same = parallel & (interval[:-1] == interval[1:])
    return times, same & (interval[:-1] == 7), same & (interval[:-1] == 0)


def _parallels(upper: _Line, lower: _Line) -> tuple[int, int]:
    _, fifths, octaves = _parallel_steps(upper, lower)
    return int(np.count_nonzero(fifths)), int(np.count_nonzero(octaves))


def voice_faults(
    notes: Notes,
    voices: Mapping[str, int],
    voice: str,
    *,
    by: Literal["program", "track"] = "program",
) -> tuple[int, float]:
    """The parallel fifths and octaves that ``voice`` makes with every other voice, and the beats it is crossed
    with the voices next to it (above and below, in ``voices``' order): :func:`voice_leading`'s counts of the
    pairs that hold ``voice``, in time linear in the voices, not quadratic."""
    names = list(voices)
    at = names.index(voice)
    lines = _lines(notes, voices, by)
    parallels = 0
    for other in names:
        if other != voice:
            upper, lower = (other, voice) if names.index(other) < at else (voice, other)
            parallels += sum(_parallels(lines[upper], lines[lower]))
    crossing = 0.0
    if at > 0:
        crossing += _crossing(lines[names[at - 1]], lines[voice])
    if at + 1 < len(names):
        crossing += _crossing(lines[voice], lines[names[at + 1]])
    return parallels, crossing


def parallel_motions(
    notes: Notes,
    voices: Mapping[str, int] = CHORALE_VOICE_PROGRAMS,
    *,
    by: Literal["program", "track"] = "program",
) -> list[tuple[str, str, float, float]]:
    """Where :func:`voice_leading` counts a parallel fifth or octave: ``(upper voice, lower voice, time before,
    time after)`` for each, in quarter notes, by pair and then time."""
    lines = _lines(notes, voices, by)
    found = []
    for upper, lower in combinations(list(voices), 2):
        times, fifths, octaves = _parallel_steps(lines[upper], lines[lower])
        for k in np.flatnonzero(fifths | octaves):
            found.append((upper, lower, float(times[k]), float(times[k + 1])))
    return found


def _crossing(upper: _Line, lower: _Line) -> float:
    times = _changes(upper, lower)
    if times.size < 2:
        return 0.0
    pu, pl = _pitch_at(upper, times[:-1]), _pitch_at(lower, times[:-1])
    crossed = (pu >= 0) & (pl >= 0) & (pl > pu)
    return float(np.sum(np.diff(times)[crossed]))


def _dissonant(pitches: np.ndarray) -> bool:
    bass = int(pitches.min())
    for p, q in combinations(pitches.tolist(), 2):
        if abs(p - q) % 12 in DISSONANT:
            return True
    return any(p != bass and (p - bass) % 12 in DISSONANT_ABOVE_BASS for p in pitches.tolist())


__all__ = ["DISSONANT", "DISSONANT_ABOVE_BASS", "SATB_RANGES", "VoiceLeading", "pool", "strong_beats", "voice_leading"]
