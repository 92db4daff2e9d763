"""Playing in real time, pure of models and ports: the clocks (:mod:`.clock`), the scheduler that sends notes at
their times (:mod:`.scheduler`) and what is heard from the player: where a phrase ends and the tempo, from a
played pulse or from MIDI clock (:mod:`.listen`). ``jobs/live.py`` ties them to a model and to MIDI ports."""

from .clock import Clock, FakeClock, SystemClock
from .listen import ClockTempo, Phrases, PlayedNote, PulseTempo
from .scheduler import Scheduler

__all__ = ["Clock", "ClockTempo", "FakeClock", "Phrases", "PlayedNote", "PulseTempo", "Scheduler", "SystemClock"]
