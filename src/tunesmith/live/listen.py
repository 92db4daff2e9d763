"""What is heard from the player: their notes gathered into phrases, where a phrase ends, and their tempo.

A phrase ends when nothing has sounded for ``wait`` beats: no key down and the sustain pedal up since the last
release. A held note (or a held pedal) never ends one, however long. The tempo comes from the player's own pulse
(:class:`PulseTempo`: the median time between onsets, chords counted once, folded into a range) or from a DAW's
MIDI clock (:class:`ClockTempo`: 24 clock messages a quarter note, with Start, Stop and Continue)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import mido
import numpy as np

#: onsets closer than this are one chord for the pulse (seconds)
CHORD_SPREAD = 0.06
#: MIDI clock messages per quarter note (the MIDI 1.0 specification)
CLOCKS_PER_QUARTER = 24


@dataclass
class PlayedNote:
    start: float  # seconds on the session's clock
    end: float | None  # None while held
    pitch: int
    velocity: int
    channel: int = 0


class Phrases:
    """The player's notes, phrase by phrase. :meth:`feed` every message with its time; :meth:`due` says when the
    phrase ends if nothing more is played; :meth:`take` hands over the phrase and starts the next.
    ``version`` counts the changes, so that work begun on a phrase can tell whether it is still the phrase."""

    def __init__(self, wait_beats: float = 1.0) -> None:
        if not wait_beats > 0:
            raise ValueError(f"the wait must be more than 0 beats, got {wait_beats}")
        self.wait_beats = float(wait_beats)
        self.notes: list[PlayedNote] = []
        self.version = 0
        self._held: dict[tuple[int, int], PlayedNote] = {}
        self._pedal: set[int] = set()  # channels whose sustain pedal is down
        self._released: float | None = None  # when the last key or pedal went up with nothing left down

    def feed(self, t: float, msg: mido.Message) -> bool:
        """Take one message played at ``t``; True where it changed the phrase."""
        if msg.type == "note_on" and msg.velocity > 0:
            key = (msg.channel, msg.note)
            if key in self._held:  # struck again without a release (some keyboards): the first ends here
                self._held.pop(key).end = t
            note = PlayedNote(t, None, msg.note, msg.velocity, msg.channel)
            self._held[key] = note
            self.notes.append(note)
        elif msg.type in ("note_off", "note_on"):
            note = self._held.pop((msg.channel, msg.note), None)
            if note is None:
                return False
            note.end = t
        elif msg.type == "control_change" and msg.control == 64:
            if msg.value >= 64:
                self._pedal.add(msg.channel)
            elif msg.channel in self._pedal:
                self._pedal.discard(msg.channel)
            else:
                return False
        else:
            return False
        self._released = t if self.silent() else None
        self.version += 1
        return True

    def silent(self) -> bool:
        """Nothing sounds: no key down, no pedal down."""
        return not self._held and not self._pedal

    def due(self, beat: float) -> float | None:
        """When the phrase ends if nothing more is played (``beat``: seconds a beat), or None (nothing played, or
        something still sounds)."""
        if not self.notes or self._released is None:
            return None
        return self._released + self.wait_beats * beat

    def take(self) -> list[PlayedNote]:
        """The phrase's notes (every one ended), and a new phrase begun."""
        notes, self.notes = self.notes, []
        self.version += 1
        self._released = None
        return notes


class PulseTempo:
    """The player's tempo from their onsets: the median of the last ``window`` times between onsets (a chord's
    notes, within :data:`CHORD_SPREAD`, count once), doubled or halved into ``low``..``high`` beats a minute
    (a pulse of 8th notes reads as its quarter notes' tempo where that falls in the range). Before two onsets,
    and where no time between them is plausible (above 2 s), the tempo stays at ``bpm``."""

    def __init__(self, bpm: float = 120.0, *, low: float = 70.0, high: float = 140.0, window: int = 12) -> None:
        if not (low > 0 and high >= 2 * low - 1e-9):
            raise ValueError(f"the range {low}..{high} must span an octave of tempo (high at least twice low)")
        self.bpm = float(bpm)
        self.low, self.high = float(low), float(high)
        self._onsets: deque[float] = deque(maxlen=window + 1)

    @property
    def beat(self) -> float:
        return 60.0 / self.bpm

    def onset(self, t: float) -> float:
        """Take an onset at ``t``; the tempo (beats a minute) after it."""
        if self._onsets and t - self._onsets[-1] < CHORD_SPREAD:
            return self.bpm
        self._onsets.append(t)
        gaps = np.diff(np.asarray(self._onsets))
        gaps = gaps[gaps <= 2.0]
        if gaps.size:
            bpm = 60.0 / float(np.median(gaps))
            while bpm > self.high:
                bpm /= 2
            while bpm < self.low:
                bpm *= 2
            self.bpm = bpm
        return self.bpm

    def feed(self, t: float, msg: mido.Message) -> None:
        if msg.type == "note_on" and msg.velocity > 0:
            self.onset(t)


class ClockTempo:
    """A DAW's tempo and position from its MIDI clock: the median time between the last ``window`` clock messages,
    24 to a quarter note; Start puts the position at 0 and runs, Stop halts, Continue runs on from where it
    stopped. ``beats`` counts quarter notes since Start."""

    def __init__(self, bpm: float = 120.0, *, window: int = 48) -> None:
        self.bpm = float(bpm)
        self.running = False
        self.ticks = 0  # clock messages since Start, while running
        self._times: deque[float] = deque(maxlen=window + 1)

    @property
    def beat(self) -> float:
        return 60.0 / self.bpm

    @property
    def beats(self) -> float:
        return self.ticks / CLOCKS_PER_QUARTER

    def feed(self, t: float, msg: mido.Message) -> None:
        if msg.type == "start":
            self.running, self.ticks = True, 0
            self._times.clear()
        elif msg.type == "continue":
            self.running = True
            self._times.clear()
        elif msg.type == "stop":
            self.running = False
        elif msg.type == "songpos":  # 16th notes: six clocks each
            self.ticks = msg.pos * 6
        elif msg.type == "clock":
            if self._times and t - self._times[-1] > 1.0:  # a clock resumed after a pause: no interval across it
                self._times.clear()
            self._times.append(t)
            if self.running:
                self.ticks += 1
            if len(self._times) >= 2:
                self.bpm = 60.0 / (CLOCKS_PER_QUARTER * float(np.median(np.diff(np.asarray(self._times)))))
