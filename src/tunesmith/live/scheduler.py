"""The scheduler: MIDI messages sent at their times on a clock, not when they were computed.

Notes go in as (start, end, pitch, velocity, channel) in the clock's seconds, each with a tag (the answer or the
bar it belongs to). A thread (:meth:`Scheduler.start`) sleeps until the next message is due and sends it; tests
drive :meth:`Scheduler.run_due` by hand on a :class:`~.clock.FakeClock`. Every message sent records how late it
went out (``lateness``), every tag when its first note went out (``first_out``). At one moment, note-offs go
before note-ons; a pitch struck again while it sounds on its channel is released first (a second note-on would
leave one note-off to end both), and released only when its last holder ends. :meth:`stop` and :meth:`cancel`
leave no note hanging: the notes still sounding get their note-offs, and ``stop`` ends with the sustain pedal up
and All Notes Off (controller 123) on every channel used."""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import mido

from .clock import Clock

#: controllers sent on every channel used at stop: sustain pedal (64) up, All Notes Off (123)
SUSTAIN, ALL_NOTES_OFF = 64, 123


@dataclass(order=True)
class _Event:
    t: float
    order: int  # 0: a note-off, 1: anything else (at one moment, releases first)
    seq: int
    msg: mido.Message = field(compare=False)
    tag: str = field(compare=False, default="")


class Scheduler:
    """Sends ``mido`` messages through ``send`` at their times on ``clock``."""

    def __init__(self, send: Callable[[mido.Message], None], clock: Clock) -> None:
        self.send = send
        self.clock = clock
        self.lateness: list[float] = []  # seconds each sent message went out after its time
        self.first_out: dict[str, float] = {}  # tag -> when its first note-on went out
        self.channels: set[int] = set()
        self.failure: Exception | None = None  # what ``send`` raised, which stopped the thread
        self._heap: list[_Event] = []
        self._seq = itertools.count()
        self._lock = threading.RLock()
        self._sounding: dict[tuple[int, int], list[str]] = {}  # (channel, pitch) -> the tags holding it
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = False

    # ------------------------------------------------------------------ what to send
    def add(self, t: float, msg: mido.Message, tag: str = "") -> None:
        order = 0 if _is_off(msg) else 1
        with self._lock:
            heapq.heappush(self._heap, _Event(float(t), order, next(self._seq), msg, tag))
        self._wake.set()

    def add_notes(self, notes: Iterable[tuple[float, float, int, int, int]], tag: str = "") -> int:
        """Schedule each (start, end, pitch, velocity, channel); a note of no length sounds for 10 ms."""
        count = 0
        for start, end, pitch, velocity, channel in notes:
            end = max(float(end), float(start) + 0.01)
            on = mido.Message("note_on", note=int(pitch), velocity=max(1, int(velocity)), channel=channel)
            self.add(start, on, tag)
            self.add(end, mido.Message("note_off", note=int(pitch), velocity=0, channel=channel), tag)
            count += 1
        return count

    def send_now(self, msg: mido.Message, tag: str = "thru") -> None:
        """Send ``msg`` at once (the player's own notes passed through), its notes tracked as the scheduled ones
        are, so that a stop releases them too."""
        with self._lock:
            self._emit(msg, tag)

    def pending(self, tag: str | None = None) -> int:
        with self._lock:
            return sum(1 for e in self._heap if tag is None or e.tag == tag)

    def next_time(self) -> float | None:
        with self._lock:
            return self._heap[0].t if self._heap else None

    def last_time(self, tag: str, onsets: bool = False) -> float | None:
        """When the last message of ``tag`` still waiting is due (``onsets``: the last note-on; None where none
        waits)."""
        with self._lock:
            times = [
                e.t for e in self._heap if e.tag == tag and (not onsets or e.order == 1 and e.msg.type == "note_on")
            ]
        return max(times) if times else None

    # ------------------------------------------------------------------ sending
    def run_due(self, now: float | None = None) -> int:
        """Send every message due by ``now`` (the clock's time by default), in time order; how many went."""
        sent = 0
        while True:
            with self._lock:
                now_ = self.clock.now() if now is None else now
                if not self._heap or self._heap[0].t > now_:
                    return sent
                ev = heapq.heappop(self._heap)
                self._emit(ev.msg, ev.tag)
            self.lateness.append(self.clock.now() - ev.t)
            sent += 1

    def _emit(self, msg: mido.Message, tag: str) -> None:
        if msg.type in ("note_on", "note_off"):
            key = (msg.channel, msg.note)
            holders = self._sounding.setdefault(key, [])
            if _is_off(msg):
                if tag in holders:
                    holders.remove(tag)
                if holders:  # another note of this pitch still sounds: it keeps sounding
                    return
            else:
                if holders:  # struck again while sounding: released first
                    self._out(mido.Message("note_off", note=msg.note, velocity=0, channel=msg.channel))
                holders.append(tag)
                self.first_out.setdefault(tag, self.clock.now())
        if hasattr(msg, "channel"):
            self.channels.add(msg.channel)
        self._out(msg)

    def _out(self, msg: mido.Message) -> None:
        self.send(msg)

    def cancel(self, tag: str) -> None:
        """Drop what ``tag`` still has to send and release its notes that sound."""
        with self._lock:
            self._heap = [e for e in self._heap if e.tag != tag]
            heapq.heapify(self._heap)
            for (channel, pitch), holders in self._sounding.items():
                if tag in holders:
                    while tag in holders:
                        holders.remove(tag)
                    if not holders:
                        self._out(mido.Message("note_off", note=pitch, velocity=0, channel=channel))

    # ------------------------------------------------------------------ the thread
    def start(self) -> Scheduler:
        if self._thread is None:
            self._running = True
            self._thread = threading.Thread(target=self._loop, name="tunesmith-scheduler", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while self._running:
            t = self.next_time()
            if t is None:
                self._wake.wait(0.05)
            else:
                self.clock.sleep_until(t, self._wake)
            self._wake.clear()
            if not self._running:
                break
            try:
                self.run_due()
            except Exception as e:  # the port went away: the session reports it
                self.failure = e
                self._running = False

    def stop(self, *, silence: bool = True) -> None:
        """Stop the thread, drop what waits, and (``silence``) release every sounding note, then put the sustain
        pedal up and send All Notes Off on every channel used."""
        self._running = False
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self._thread = None
        with self._lock:
            self._heap.clear()
            if not silence:
                return
            last = [
                mido.Message("note_off", note=pitch, velocity=0, channel=channel)
                for (channel, pitch), holders in self._sounding.items()
                if holders
            ]
            for holders in self._sounding.values():
                holders.clear()
            for channel in sorted(self.channels):
                last.append(mido.Message("control_change", control=SUSTAIN, value=0, channel=channel))
                last.append(mido.Message("control_change", control=ALL_NOTES_OFF, value=0, channel=channel))
            for msg in last:
                try:
                    self._out(msg)
                except Exception:  # the port is gone: nothing is left sounding through it
                    return


def _is_off(msg: mido.Message) -> bool:
    return msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0)
