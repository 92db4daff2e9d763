"""Clocks: the machine's (for playing) and a fake one that tests move by hand.

Both count seconds as floats from an arbitrary origin. :meth:`SystemClock.sleep_until` sleeps until a moment
with a precision of well under a millisecond: ``time.sleep`` alone wakes up to a scheduler tick late (1-4 ms on
Linux, up to 15.6 ms on Windows), so it sleeps to :data:`SPIN` before the moment and yields the processor in a
short loop for the rest (measured in docs/live.md: the median error of sent notes)."""

from __future__ import annotations

import threading
import time
from typing import Protocol

#: how long before a moment :meth:`SystemClock.sleep_until` stops sleeping and yields in a loop instead
SPIN = 0.0015


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep_until(self, t: float, wake: threading.Event | None = None) -> None:
        """Return at ``t`` (or once ``wake`` is set, where given)."""


class SystemClock:
    """The machine's monotonic clock (``time.perf_counter``)."""

    def now(self) -> float:
        return time.perf_counter()

    def sleep_until(self, t: float, wake: threading.Event | None = None) -> None:
        while True:
            left = t - time.perf_counter()
            if left <= 0 or (wake is not None and wake.is_set()):
                return
            if left > SPIN:
                if wake is not None:
                    wake.wait(left - SPIN)
                else:
                    time.sleep(left - SPIN)
            else:
                time.sleep(0)  # yields the GIL and the core to the generating thread, returns at once


class FakeClock:
    """A clock that moves only when told (:meth:`advance`, or a sleep, which jumps to its moment)."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = float(t)

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self.t += seconds
        return self.t

    def sleep_until(self, t: float, wake: threading.Event | None = None) -> None:
        self.t = max(self.t, t)
