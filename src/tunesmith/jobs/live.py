"""The ``live`` job: tunesmith plays with a musician in real time, through MIDI ports (docs/live.md).

Three modes:

* ``answer``: when the player has been silent for ``wait`` beats, tunesmith answers with ``bars`` bars that
  continue what was played (and what it answered before: the last ``memory`` beats of the conversation);
* ``accompany``: chords and a bass line under the player, bar by bar at their tempo (the chords of a
  ``--chords`` progression, or those the recogniser hears in the player's last bar), and drums from the drum model
  in a style (``drums``);
* ``continue``: once the player stops, the model plays on from what was played, until stopped; the player may
  join in, and what they play becomes part of what it continues.

How it stays on time: the model never runs on the clock's path. A worker thread composes ahead (an answer is
begun speculatively each time the player lets go of every key, and thrown away if they play on), a few notes
first and then chunks twice as long, so that the first notes of an answer are ready long before it is due; the
notes go to the :class:`~tunesmith.live.Scheduler`, whose own thread sends each at its time. Every answer records
how late its first note went out after the moment it was due (``latencies``), every message how late it went
(``scheduler.lateness``), every composition how long it took for how much music (``compose_log``).

:class:`Live` is the engine, driven by the messages it is fed and by :meth:`Live.tick`; it sends through a
callable and reads a clock, so tests drive it with a fake clock and in-process ports, inline (no threads).
:func:`play` is what the command line runs: ports opened, the engine on the machine's clock, until Ctrl-C."""

from __future__ import annotations

import math
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import mido
import numpy as np

from ..chordnames import QUALITIES
from ..errors import ConfigError, PortError, TunesmithError
from ..io.midi import write_midi
from ..io.ports import open_input, open_output, port_names
from ..live import Clock, ClockTempo, FakeClock, Phrases, PulseTempo, Scheduler, SystemClock
from ..notes import Notes, make_tempo_map, make_time_signatures
from ..progress import quiet
from ..representations.chords import parse_progression, progression_text, recognise
from ..representations.controls import KEYS, attributes_of
from ..sampling import check_options
from .catalog import LIVE_MODES
from .runs import load_run

#: the General MIDI drum channel (0-based)
DRUM_CHANNEL = 9
#: the most notes one chunk of an answer is composed in (chunks double from ``first``)
MAX_CHUNK = 32
#: accompaniment: how far ahead of a bar it is planned (beats)
LOOKAHEAD_BEATS = 1.0
#: continue: how much music waits in the scheduler before the next chunk is composed (beats)
AHEAD_BEATS = 4.0
#: accompaniment from the player's pulse stops after this many bars without a note, and starts at their next
IDLE_BARS = 2
#: the drum model's bars composed at a time
DRUM_BLOCK = 8
#: what ``thru`` passes from the player to the output
THRU = frozenset({"note_on", "note_off", "control_change", "pitchwheel", "aftertouch", "polytouch", "program_change"})


@dataclass
class LiveOptions:
    mode: str = "answer"
    run: str = "piano"  # the model that answers and continues (a run folder or a shipped model's name)
    wait: float = 1.0  # beats of silence that end a phrase
    bars: int = 2  # bars an answer lasts
    tempo: float | None = None  # beats a minute, fixed; None: the player's (or the MIDI clock's)
    clock: bool = False  # follow the DAW's MIDI clock (tempo, Start, Stop)
    meter: int = 4  # beats a bar
    channel: int = 0  # tunesmith's channel (0-based) for answers, chords and bass; drums on 9
    chords: str | None = None  # accompany: a progression to play instead of the chords heard
    harmony: bool = True  # accompany: chords and bass
    harmony_run: str | None = None  # accompany: a model with chord controls that writes them (None: by rule)
    drums: str | None = None  # accompany: a drum style ("any" for any); None: no drums
    drum_run: str = "drums"
    memory: float = 16.0  # beats of the conversation the model continues
    thru: bool = False  # pass the player's notes and controllers through to the output (a keyboard with no sound)
    #: answers asked for the key heard in what was played (a run trained with attribute controls), with the model's
    #: guidance of controls: more of their notes in the player's scale, composed at half the speed (guidance reads
    #: every step twice), which on a slow machine lets a dense answer's later notes fall behind: off by default
    #: (docs/live.md measures both)
    key: bool = False
    guidance: float | None = None  # the key control's guidance (None: the model's default)
    first: int = 4  # notes of an answer's first chunk
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    seed: int = 0

    def check(self) -> LiveOptions:
        if self.mode not in LIVE_MODES:
            raise ConfigError(f"mode must be one of {', '.join(LIVE_MODES)}, got {self.mode!r}")
        for name, lo in (("wait", 0.0), ("memory", 0.0)):
            if not getattr(self, name) > lo:
                raise ConfigError(f"--{name} must be more than {lo:g} beats, got {getattr(self, name)}")
        if self.bars < 1 or self.meter < 1 or self.first < 1:
            raise ConfigError("--bars, --meter and the first chunk must be at least 1")
        if self.tempo is not None and not 20 <= self.tempo <= 400:
            raise ConfigError(f"--tempo must lie in 20..400 beats a minute, got {self.tempo:g}")
        if not 0 <= self.channel <= 15:
            raise ConfigError(f"--channel must lie in 1..16, got {self.channel + 1}")
        if self.mode == "accompany" and not self.harmony and self.drums is None:
            raise ConfigError("accompany plays chords and bass and/or drums: give --drums STYLE or drop --no-harmony")
        if self.harmony_run is not None and not self.harmony:
            raise ConfigError("--harmony-run writes the chords and bass that --no-harmony leaves out: give one of them")
        if self.chords is not None:
            parse_progression(self.chords)  # a bad symbol is a one-line error now, not in the middle of a song
        check_options(temperature=self.temperature, top_k=self.top_k, top_p=self.top_p, length=1, n=1)
        return self


class Composer(Protocol):
    def continue_notes(self, context: Notes, count: int, seed: int) -> Notes:
        """The next ``count`` notes after ``context`` (quarter-note times on ``context``'s timeline), drawn with
        ``seed``."""


class RunComposer:
    """A trained run (or shipped model) that continues what was played: the family's own continuation of a
    primer, the primer left out. The engine gives each call its seed: an answer's by how many answers came before
    it and its chunk's place, an accompaniment bar's by its number, so that the same playing gets the same music
    however fast the machine composes (and however many answers it began and dropped)."""

    def __init__(self, run: str, opts: LiveOptions) -> None:
        self.run, self.fam, self.model = load_run(run, "cpu")
        if not self.fam.takes_primer:
            raise ConfigError(f"{run}: a {self.run.kind} model does not continue music; live needs one that does")
        #: whether it takes the key as a control (a Transformer trained with attribute controls)
        self.keyed = self.fam.can("controls") and bool((self.run.config.get("model") or {}).get("controls"))
        self.opts = opts
        self._dir = Path(tempfile.mkdtemp(prefix="tunesmith-live-"))

    def continue_notes(self, context: Notes, count: int, seed: int) -> Notes:
        path = write_midi(context, self._dir / "context.mid")
        o = self.opts
        controls = {}
        if o.key and self.keyed:  # the key heard in the music so far (Krumhansl-Schmuckler), asked for
            k = attributes_of(context).key
            controls = {"key": KEYS[k], "guidance": o.guidance} if k >= 0 else {}
        options = self.fam.options(
            n=1, length=count, temperature=o.temperature, top_k=o.top_k, top_p=o.top_p, primer=str(path),
            seed=seed, **controls,
        )  # fmt: skip
        piece = self.fam.generate(self.model, self.run, options, next(self.model.parameters()).device)[0]
        return piece[int(piece.metadata.get("primer_notes", "0") or 0) :].sorted()

    def next_bar(self, context: Notes, chords: str, at: float, meter: int, seed: int) -> Notes:
        """The bar after ``context`` (whole bars, the next from ``at`` quarter notes) over ``chords`` (one bar of a
        progression, e.g. ``G7`` or ``C G/B``): its notes, times from the bar's start (a run with chord controls)."""
        path = write_midi(context, self._dir / "accompaniment.mid")
        o = self.opts
        options = self.fam.options(
            n=1, length=1, bars=1, chords=chords, temperature=o.temperature, top_k=o.top_k, top_p=o.top_p,
            primer=str(path), seed=seed,
        )  # fmt: skip
        piece = self.fam.generate(self.model, self.run, options, next(self.model.parameters()).device)[0]
        new = piece[int(piece.metadata.get("primer_notes", "0") or 0) :]
        new = new[(new.start_qn >= at - 1e-6) & (new.start_qn < at + meter - 1e-6)]
        arr = new.notes.copy()
        arr["start_qn"] -= at
        arr["end_qn"] = np.minimum(arr["end_qn"] - at, meter)
        return Notes.from_arrays(arr["pitch"], start_qn=arr["start_qn"], end_qn=arr["end_qn"], velocity=arr["velocity"])

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


class RunDrummer:
    """The drum model: ``bars`` bars in a style (None: any), a fill at the end of every fourth."""

    def __init__(self, run: str, style: str | None, seed: int) -> None:
        self.run, self.fam, self.model = load_run(run, "cpu")
        if not self.fam.can("styles"):
            raise ConfigError(f"{run}: a {self.run.kind} model plays no drum styles; --drum-run names a drum model")
        self.style = style

    def bars(self, n: int, seed: int) -> Notes:
        options = self.fam.options(n=1, length=n, bars=n, style=self.style, fill_every=4, seed=seed)
        return self.fam.generate(self.model, self.run, options, next(self.model.parameters()).device)[0]


@dataclass
class _Sounded:
    start: float
    end: float
    pitch: int
    velocity: int
    tag: str = ""  # "" for the player's


@dataclass
class Stats:
    answers: int = 0
    latencies: list[float] = field(default_factory=list)  # an answer's first note out after it was due (s)
    compose_log: list[tuple[float, float, int]] = field(default_factory=list)  # (compute s, music s, notes)
    bars: int = 0  # accompaniment bars planned
    model_bars: int = 0  # of them, bars the harmonizer wrote


class Live:
    """The engine (see the module docstring). ``send`` takes every message out; ``composer`` continues music
    (answer, continue), ``drummer`` plays drum bars (accompany with drums). ``threaded``: compose in a worker
    thread and send from the scheduler's thread (playing); otherwise both happen inside :meth:`feed` and
    :meth:`tick` (tests: every result fixed by the messages and the fake clock)."""

    def __init__(
        self,
        opts: LiveOptions,
        send: Callable[[mido.Message], None],
        *,
        clock: Clock | None = None,
        composer: Composer | None = None,
        drummer: Any = None,
        harmonizer: Any = None,
        threaded: bool = True,
        eager: bool = True,
        log: Callable[[str], None] = lambda s: None,
    ) -> None:
        self.opts = opts.check()
        if opts.mode in ("answer", "continue") and composer is None:
            raise ConfigError(f"{opts.mode} needs a model that continues music")
        self.clock = clock or SystemClock()
        self.scheduler = Scheduler(send, self.clock)
        self.composer, self.drummer, self.harmonizer = composer, drummer, harmonizer
        self.threaded = threaded
        self.eager = eager  # begin an answer at every release (playing); else only once it is due (a whole phrase)
        self.log = log
        self.phrases = Phrases(opts.wait)
        self.pulse = PulseTempo(opts.tempo or 120.0)
        self.midi_clock = ClockTempo(opts.tempo or 120.0)
        self.stats = Stats()
        self.history: list[_Sounded] = []  # what was played and what tunesmith sent, by start time
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._count = 0  # answers begun (their tags)
        self._answer: str | None = None  # the tag of the answer begun or playing
        self._due: dict[str, float] = {}  # each answer's moment
        self._seed: dict[str, int] = {}  # each answer's next chunk's seed
        self._streaming = False  # continue: the model is playing on
        # accompaniment
        self._progression = parse_progression(opts.chords) if opts.chords else None
        self._bar_start: float | None = None  # when the next bar to plan starts
        self._bar = 0  # its number
        self._last_clock_bar = -1
        self._chord: tuple[int, str, int] | None = None
        self._voicing: list[int] = []
        self._drum_blocks: dict[int, Notes] = {}
        self._played_bars: dict[int, Notes] = {}  # the accompaniment's bars as played (quarter notes in the bar)
        self._model_bars: dict[int, Notes] = {}  # bars the harmonizer composed ahead
        self._failure: Exception | None = None
        if threaded:
            self._worker = threading.Thread(target=self._work, name="tunesmith-composer", daemon=True)
            self._worker.start()
            self.scheduler.start()

    # ------------------------------------------------------------------ time
    @property
    def beat(self) -> float:
        """Seconds a beat: the fixed tempo, the MIDI clock's, or the player's."""
        if self.opts.tempo is not None:
            return 60.0 / self.opts.tempo
        return self.midi_clock.beat if self.opts.clock else self.pulse.beat

    @property
    def bpm(self) -> float:
        return 60.0 / self.beat

    # ------------------------------------------------------------------ what comes in
    def feed(self, msg: mido.Message, t: float | None = None) -> None:
        """One message from the player (or the DAW's clock), at ``t`` (now by default)."""
        with self._lock:
            t = self.clock.now() if t is None else t
            if msg.type in ("clock", "start", "stop", "continue", "songpos"):
                self.midi_clock.feed(t, msg)
                if msg.type == "stop" and self.opts.mode == "accompany":
                    self._halt_accompaniment()
                self._wake.set()
                return
            if self.opts.thru and msg.type in THRU:
                self.scheduler.send_now(msg)
            if self.opts.tempo is None and not self.opts.clock:
                self.pulse.feed(t, msg)
            if msg.type == "note_on" and msg.velocity > 0:
                self.history.append(_Sounded(t, t, msg.note, msg.velocity))
                if self.opts.mode == "accompany" and self._bar_start is None and not self.opts.clock:
                    self._bar_start, self._bar = t, 0  # the player's first note starts bar 0
            elif msg.type in ("note_off", "note_on"):
                for s in reversed(self.history):
                    if s.tag == "" and s.pitch == msg.note and s.end == s.start:
                        s.end = t
                        break
            if not self.phrases.feed(t, msg):
                return
            if self.opts.mode == "answer":
                if self._answer is not None:  # they play on (or over the answer): it is dropped
                    self._drop(self._answer, t)
                if self.phrases.silent() and self.eager:
                    self._begin_answer(t)
            elif self.opts.mode == "continue" and not self._streaming:  # not yet playing on: as an answer
                if self._answer is not None:
                    self._drop(self._answer, t)
                if self.phrases.silent() and self.eager:
                    self._begin_answer(t)
            self._wake.set()

    # ------------------------------------------------------------------ answers and continuations
    def _begin_answer(self, now: float) -> None:
        due = self.phrases.due(self.beat)
        if due is None:
            return
        self._count += 1
        tag = f"answer{self._count}"
        self._answer, self._due[tag] = tag, due
        self._seed[tag] = self.opts.seed + 1000 * self.stats.answers  # the answer's place in the conversation
        context, origin = self._context(now)
        beat = self.beat
        self._submit(lambda: self._compose(tag, context, origin, beat))

    def _context(self, now: float) -> tuple[Notes, float]:
        """The last ``memory`` beats of the conversation as Notes (seconds from ``origin`` at the tempo now)."""
        beat = self.beat
        origin = max(0.0, now - self.opts.memory * beat)
        kept = [s for s in self.history if s.end > origin or s.start >= origin]
        origin = min([origin] + [s.start for s in kept])
        qpm = make_tempo_map([0.0], [60.0 / beat])
        if not kept:
            return Notes.empty(tempos=qpm), origin
        start = np.array([s.start - origin for s in kept])
        end = np.array([max(s.end, s.start + 0.05) - origin for s in kept])
        notes = Notes.from_arrays([s.pitch for s in kept], start, end, velocity=[s.velocity for s in kept], tempos=qpm)
        return notes.sorted(), origin

    def _compose(self, tag: str, context: Notes, origin: float, beat: float, shift: float | None = None) -> None:
        """Compose the answer (or continuation) ``tag`` chunk by chunk into the scheduler (the worker's job).
        The model's times are quarter notes on ``context``'s timeline (``origin`` seconds at its 0); ``shift``
        (seconds) moves them to when they sound: the first chunk's first note on the moment the answer is due."""
        limit = None if self.opts.mode == "continue" else self.opts.bars * self.opts.meter * beat
        count, first = self.opts.first, 0.0
        while self._answer == tag and self._failure is None:
            t0 = time.perf_counter()
            seed = self._seed[tag]
            self._seed[tag] += 1  # the next chunk's
            new = self.composer.continue_notes(context, count, seed)
            spent = time.perf_counter() - t0
            if len(new) == 0:
                return
            with self._lock:
                if self._answer != tag:
                    return
                starts, ends = origin + new.start_qn * beat, origin + new.end_qn * beat
                if shift is None:
                    first = max(self._due[tag], self.clock.now())
                    shift = first - float(starts.min())
                starts, ends = starts + shift, ends + shift
                keep = np.ones(len(new), dtype=bool) if limit is None else starts < first + limit
                rows = [
                    (float(s), float(e), int(p), int(v), self.opts.channel)
                    for s, e, p, v, k in zip(starts, ends, new.pitch, new.velocity, keep, strict=True)
                    if k
                ]
                self.scheduler.add_notes(rows, tag)
                self.history += [_Sounded(s, e, p, v, tag) for s, e, p, v, _ in rows]
                self.history.sort(key=lambda s: s.start)
                music = float(new.end_qn.max() - new.start_qn.min()) * beat
                self.stats.compose_log.append((spent, music, len(new)))
                if limit is not None and not keep.all():
                    return
            count = min(2 * count, MAX_CHUNK)
            if self.opts.mode != "continue":
                context = Notes.concatenate([context, new]).sorted()  # on the model's timeline: shift still holds
                continue
            if not self.threaded:
                return  # inline (tests): a chunk a tick
            self._wait_for_room(tag, beat)
            with self._lock:  # what the player added joins in: the context anew, in the clock's seconds
                beat = self.beat
                context, origin = self._context(self.scheduler.last_time(tag, onsets=True) or self.clock.now())
                shift = 0.0

    def _wait_for_room(self, tag: str, beat: float) -> None:
        """continue: wait until the last note struck is less than :data:`AHEAD_BEATS` away (the next chunk follows
        it: waiting for a long note's end would leave the next chunk's first notes already late)."""
        while self._answer == tag and self._failure is None:
            last = self.scheduler.last_time(tag, onsets=True)
            if last is None or last - self.clock.now() < AHEAD_BEATS * beat or not self.threaded:
                return
            time.sleep(0.01)

    def _drop(self, tag: str, now: float) -> None:
        self.scheduler.cancel(tag)
        self.history = [s for s in self.history if not (s.tag == tag and s.start > now)]
        self._answer = None

    # ------------------------------------------------------------------ accompaniment
    def _plan(self, now: float) -> None:
        """Schedule every bar that starts within :data:`LOOKAHEAD_BEATS` of now."""
        beat, bar_len = self.beat, self.opts.meter * self.beat
        if self.opts.clock:
            if not self.midi_clock.running:
                return
            beats = self.midi_clock.beats
            k = math.ceil(beats / self.opts.meter - 1e-9)  # the next bar line (bar 0 at Start)
            if k <= self._last_clock_bar:
                return
            start = now + (k * self.opts.meter - beats) * beat
            if start - now > LOOKAHEAD_BEATS * beat:
                return
            self._last_clock_bar = k
            self._play_bar(k, start, beat)
            return
        if self._bar_start is None:
            return
        played = [max(s.start, s.end) for s in self.history if s.tag == ""]
        if played and self.phrases.silent() and now - max(played) > IDLE_BARS * bar_len:
            self._halt_accompaniment()
            return
        while self._bar_start - now < LOOKAHEAD_BEATS * beat:
            if self._bar > 0 or self.opts.tempo is not None:  # bar 0 is the player's, while their tempo is heard
                self._play_bar(self._bar, self._bar_start, beat)
            self._bar += 1
            self._bar_start += bar_len

    def _halt_accompaniment(self) -> None:
        self._bar_start, self._last_clock_bar = None, -1
        self.scheduler.cancel("bar")
        self._voicing = []

    def _play_bar(self, k: int, start: float, beat: float) -> None:
        rows: list[tuple[float, float, int, int, int]] = []
        bar_len = self.opts.meter * beat
        if self.opts.harmony:
            chords = self._chords_of_bar(k, start - bar_len, start)
            written = self._model_bars.pop(k, None)
            if written is not None:  # the harmonizer's bar, composed during the bar before
                c = self.opts.channel
                voiced = [(start + q * beat, start + e * beat, p, v, c) for q, e, p, v in _cells(written)]
                self.stats.model_bars += 1
            else:  # by rule (and where the harmonizer has not caught up: the first bars)
                voiced = []
                for i, chord in enumerate(chords):
                    at = start + i * bar_len / len(chords)
                    voiced += self._voice(chord, at, bar_len / len(chords), beat)
            rows += voiced
            if self.harmonizer is not None:
                self._played_bars[k] = _bar_notes(voiced, start, beat)
                self._harmonize_ahead(k + 1, chords)
        if self.drummer is not None:
            rows += self._drum_bar(k, start, beat)
        self.scheduler.add_notes(rows, "bar")
        self.stats.bars += 1

    def _harmonize_ahead(self, k: int, heard: list[tuple[int, str, int]]) -> None:
        """Have the harmonizer compose bar ``k`` (over the progression's chords for it, or the chords just heard)
        after the last bars played, while bar ``k - 1`` plays."""
        if self._progression is not None:
            first = 0 if self.opts.tempo is not None or self.opts.clock else 1
            chords = self._progression[(k - first) % len(self._progression)]
        else:
            chords = heard
        if not chords:
            return
        meter = self.opts.meter
        kept = [b for b in range(k - 4, k) if b in self._played_bars]
        if not kept:
            return
        bars = [self._played_bars[b] for b in kept]  # one after another from 0, a bar each
        offset = np.concatenate([np.full(len(bar), i * meter, dtype=float) for i, bar in enumerate(bars)])
        whole = Notes.concatenate(bars)
        context = Notes.from_arrays(
            whole.pitch, start_qn=whole.start_qn + offset, end_qn=whole.end_qn + offset, velocity=whole.velocity,
            tempos=make_tempo_map([0.0], [self.bpm]), time_signatures=_meter(meter),
        ).sorted()  # fmt: skip
        symbols = progression_text([chords])
        at = float(len(kept) * meter)

        def job() -> None:
            bar = self.harmonizer.next_bar(context, symbols, at, meter, self.opts.seed + k)
            with self._lock:
                self._model_bars[k] = bar

        self._submit(job)

    def _chords_of_bar(self, k: int, heard_from: float, heard_to: float) -> list[tuple[int, str, int]]:
        """The bar's chords: the progression's, or the one heard in the player's last bar (else the last one)."""
        if self._progression is not None:
            first = 0 if self.opts.tempo is not None or self.opts.clock else 1  # bar 0 is the player's alone
            return self._progression[(k - first) % len(self._progression)]
        heard = [
            s for s in self.history if s.tag == "" and s.start < heard_to and max(s.end, s.start + 0.05) > heard_from
        ]
        if heard:
            beat = self.beat
            start = np.array([max(s.start, heard_from) - heard_from for s in heard]) / beat
            end = np.array([min(max(s.end, s.start + 0.05), heard_to) - heard_from for s in heard]) / beat
            notes = Notes.from_arrays([s.pitch for s in heard], start_qn=start, end_qn=np.maximum(end, start))
            notes = Notes(notes.notes, time_signatures=_meter(self.opts.meter))
            found = recognise(notes, "bar")
            if len(found) and int(found.root[0]) >= 0:
                self._chord = (int(found.root[0]), found.quality[0], int(found.bass[0]))
        return [self._chord] if self._chord is not None else []

    def _voice(self, chord: tuple[int, str, int], at: float, length: float, beat: float) -> list[tuple]:
        """A chord's tones between G3 and F#5 nearest the last voicing, struck at ``at`` and on the half bar, and
        its bass (the root, or the slash chord's bass) between C2 and B2 on the same strikes."""
        root, quality, bass = chord
        pcs = [(root + i) % 12 for i in QUALITIES[quality]]
        centre = float(np.mean(self._voicing)) if self._voicing else 62.0
        voicing = sorted(min((55 + (pc - 55) % 12, 67 + (pc - 67) % 12), key=lambda p: abs(p - centre)) for pc in pcs)
        self._voicing = voicing
        low = 36 + ((bass if bass >= 0 else root) - 36) % 12
        strikes = [at] if length <= 2 * beat else [at, at + length / 2]
        step = length / len(strikes)
        c = self.opts.channel
        rows = []
        for s in strikes:
            rows += [(s, s + step * 0.95, p, 64, c) for p in voicing]
            rows.append((s, s + step * 0.9, low, 80, c))
        return rows

    def _drum_bar(self, k: int, start: float, beat: float) -> list[tuple]:
        block = k // DRUM_BLOCK
        if block + 1 not in self._drum_blocks:  # the next block composed while this one plays
            self._submit(
                lambda b=block + 1: self._drum_blocks.setdefault(b, self.drummer.bars(DRUM_BLOCK, self.opts.seed + b))
            )
        notes = self._drum_blocks.get(block) or self._drum_blocks.get(max(self._drum_blocks, default=-1))
        if notes is None:
            return []
        offset = (k % DRUM_BLOCK) * self.opts.meter
        sel = notes[(notes.start_qn >= offset) & (notes.start_qn < offset + self.opts.meter)]
        return [
            (start + (float(q) - offset) * beat, start + (float(e) - offset) * beat, int(p), int(v), DRUM_CHANNEL)
            for q, e, p, v in zip(sel.start_qn, sel.end_qn, sel.pitch, sel.velocity, strict=True)
        ]

    # ------------------------------------------------------------------ the loop
    def _submit(self, job: Callable[[], None]) -> None:
        if self.threaded:
            self._jobs.put(job)
        else:
            job()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except TunesmithError as e:
                self.log(f"could not compose: {e}")
            except Exception as e:  # a model's failure must not stop the music already scheduled
                self._failure = e

    def tick(self, now: float | None = None) -> None:
        """The decisions that fall due: a phrase that ended is handed to the answer, bars planned; inline, the
        messages due are sent."""
        with self._lock:
            now = self.clock.now() if now is None else now
            if self.opts.mode in ("answer", "continue"):
                due = self.phrases.due(self.beat)
                if due is not None and now >= due:
                    if self._answer is None and not self.eager:
                        self._begin_answer(now)
                    self.phrases.take()
                    if self._answer is not None:
                        self.stats.answers += 1
                        self._streaming = self.opts.mode == "continue"
                    if self.opts.mode == "continue" and not self.threaded and self._answer is not None:
                        self._more(now)
                elif self.opts.mode == "continue" and not self.threaded and self._streaming:
                    self._more(now)
            else:
                self._plan(now)
            for tag, due in list(self._due.items()):
                if tag in self.scheduler.first_out:
                    self.stats.latencies.append(self.scheduler.first_out[tag] - due)
                    del self._due[tag]
        if not self.threaded:
            self.scheduler.run_due(now)
        if self.scheduler.failure is not None:
            raise PortError(f"the MIDI output went away ({self.scheduler.failure}); stopped")
        if self._failure is not None:
            raise self._failure

    def _more(self, now: float) -> None:
        """continue, inline: the next chunk once less than AHEAD_BEATS is left."""
        tag = self._answer
        last = self.scheduler.last_time(tag, onsets=True) if tag else None
        if tag and (last is None or last - now < AHEAD_BEATS * self.beat):
            context, origin = self._context(last or now)
            self._compose(tag, context, origin, self.beat, shift=0.0)

    def next_moment(self, now: float) -> float:
        """When :meth:`tick` has something to decide next (at most 10 ms away)."""
        due = self.phrases.due(self.beat) if self.opts.mode != "accompany" else None
        return min(now + 0.01, due) if due is not None else now + 0.01

    def run_for(self, seconds: float, stop: threading.Event) -> None:
        """Tick for ``seconds`` or until ``stop`` is set (the command line's loop)."""
        end = self.clock.now() + seconds
        while not stop.is_set():
            now = self.clock.now()
            if now >= end:
                return
            self.tick(now)
            self.clock.sleep_until(self.next_moment(now), self._wake)
            self._wake.clear()

    def close(self) -> None:
        """Stop: nothing more composed or sent, every sounding note released, All Notes Off on the channels used."""
        self._answer = None
        self._jobs.put(None)
        self.scheduler.stop()
        if self._worker is not None:
            self._worker.join(timeout=2.0)


def _players(opts: LiveOptions) -> str:
    """Who plays, as the start line says it."""
    if opts.mode != "accompany":
        return opts.run
    parts = []
    if opts.harmony:
        parts.append(f"chords and bass ({opts.harmony_run or 'by rule'})")
    if opts.drums is not None:
        parts.append(f"drums ({opts.drums}, {opts.drum_run})")
    return " and ".join(parts)


def _cells(bar: Notes) -> list[tuple[float, float, int, int]]:
    return [
        (float(q), float(e), int(p), int(v))
        for q, e, p, v in zip(bar.start_qn, bar.end_qn, bar.pitch, bar.velocity, strict=True)
    ]


def _bar_notes(rows: list[tuple], start: float, beat: float) -> Notes:
    """Scheduled rows of one bar as Notes in quarter notes from the bar's start."""
    if not rows:
        return Notes.empty()
    return Notes.from_arrays(
        [r[2] for r in rows], start_qn=[(r[0] - start) / beat for r in rows],
        end_qn=[(r[1] - start) / beat for r in rows], velocity=[r[3] for r in rows],
    )  # fmt: skip


def _meter(beats: int) -> np.ndarray:
    return make_time_signatures([0.0], [beats], [4])


def answer_phrase(composer: Composer, phrase: Notes, opts: LiveOptions) -> Notes:
    """The answer ``tunesmith live answer`` plays to ``phrase`` (the player's notes, in seconds), as Notes from 0 s:
    the same engine, inline on a fake clock (the studio's Live tab asks this). The tempo is ``opts.tempo`` or the
    phrase's own pulse."""
    if len(phrase) == 0:
        raise ConfigError("the phrase has no notes: play something first")
    clock = FakeClock()
    sent: list[tuple[float, mido.Message]] = []
    live = Live(
        opts, lambda m: sent.append((clock.now(), m)), clock=clock, composer=composer, threaded=False, eager=False
    )
    events = []
    for n in phrase.notes:
        events.append(
            (float(n["start"]), 1, mido.Message("note_on", note=int(n["pitch"]), velocity=max(1, int(n["velocity"]))))
        )
        events.append((float(max(n["end"], n["start"] + 0.01)), 0, mido.Message("note_off", note=int(n["pitch"]))))
    for t, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        clock.t = t
        live.feed(msg, t)
    end = (live.phrases.due(live.beat) or clock.t) + opts.bars * opts.meter * live.beat + 1.0
    while clock.t < end:  # to each message's own time (so that the notes keep theirs), or 5 ms on
        due = live.scheduler.next_time()
        clock.t = clock.t + 0.005 if due is None or due <= clock.t else min(due, clock.t + 0.005)
        live.tick(clock.t)
    live.close()
    rows: list[list] = []  # [pitch, start, end, velocity]
    sounding: dict[int, list] = {}
    for t, m in sent:
        if m.type not in ("note_on", "note_off"):
            continue
        if m.note in sounding:  # its note-off, or struck again
            sounding.pop(m.note)[2] = t
        if m.type == "note_on" and m.velocity > 0:
            sounding[m.note] = [m.note, t, None, m.velocity]
            rows.append(sounding[m.note])
    if not rows:
        return Notes.empty(tempos=make_tempo_map([0.0], [live.bpm]))
    t0 = min(r[1] for r in rows)
    start = np.array([r[1] - t0 for r in rows])
    end_ = np.array([(r[2] if r[2] is not None else r[1] + live.beat) - t0 for r in rows])
    return Notes.from_arrays(
        [r[0] for r in rows], start, end_, velocity=[r[3] for r in rows], tempos=make_tempo_map([0.0], [live.bpm])
    ).sorted()


def ports(api: str | None = None) -> dict[str, list[str]]:
    """The system's MIDI inputs and outputs (``tunesmith live --list``)."""
    inputs, outputs = port_names(api)
    return {"inputs": inputs, "outputs": outputs}


def build(opts: LiveOptions, send: Callable[[mido.Message], None], **engine: Any) -> Live:
    """The engine with the models its mode needs loaded (the answering model; the drum model for drums)."""
    opts.check()
    composer = RunComposer(opts.run, opts) if opts.mode in ("answer", "continue") else None
    drummer = None
    if opts.mode == "accompany" and opts.drums is not None:
        drummer = RunDrummer(opts.drum_run, None if opts.drums == "any" else opts.drums, opts.seed)
    harmonizer = None
    if opts.mode == "accompany" and opts.harmony_run is not None:
        harmonizer = RunComposer(opts.harmony_run, opts)
        if not (harmonizer.fam.can("chords") and (harmonizer.run.config.get("model") or {}).get("chords")):
            raise ConfigError(f"{opts.harmony_run}: not trained with chord controls; --harmony-run names one that is")
    live = Live(opts, send, composer=composer, drummer=drummer, harmonizer=harmonizer, **engine)
    if drummer is not None:  # the first bars ready before the first note
        live._drum_blocks[0] = drummer.bars(DRUM_BLOCK, opts.seed)
    return live


def play(
    opts: LiveOptions,
    *,
    port_in: str | None = None,
    port_out: str | None = None,
    stop: threading.Event | None = None,
    log: Callable[[str], None] = print,
    api: str | None = None,
) -> Stats:
    """Play through MIDI ports until ``stop`` is set or Ctrl-C: ``port_in``/``port_out`` by name (None: a virtual
    port named ``tunesmith``). Ends with every note released and All Notes Off on the channels used. A port that
    goes away ends it with a :class:`~tunesmith.errors.PortError`."""
    stop = stop or threading.Event()
    quiet(True)  # no progress bars from the models while playing (the drum model's would cut into the terminal)
    out = open_output(port_out, api)
    live: Live | None = None
    try:
        live = build(opts, out.send, log=log)
        inp = open_input(port_in, live.feed, api)
        try:
            log(f"tunesmith live: {opts.mode} with {_players(opts)}; in {inp.name!r}, out {out.name!r}; Ctrl-C stops")
            checked = time.monotonic()
            while not stop.is_set():
                live.run_for(0.5, stop)
                if port_in is not None and time.monotonic() - checked > 2.0:  # a keyboard unplugged
                    checked = time.monotonic()
                    if inp.name not in port_names(api)[0]:
                        raise PortError(f"the MIDI input {inp.name!r} went away; stopped")
        except KeyboardInterrupt:
            log("stopped")
        finally:
            inp.close()
    finally:
        try:
            if live is not None:
                live.close()
                for c in (live.composer, live.harmonizer):
                    if isinstance(c, RunComposer):
                        c.close()
        finally:
            out.close()
            quiet(False)
    return live.stats if live is not None else Stats()


__all__ = [
    "Live",
    "LiveOptions",
    "RunComposer",
    "RunDrummer",
    "Stats",
    "build",
    "play",
    "ports",
]
