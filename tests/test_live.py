"""tunesmith live: the scheduler on a fake clock, phrases and tempo heard, each mode with in-process ports, the
command line's errors, and a real port where the machine has a MIDI system."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

import mido
import numpy as np
import pytest

from tunesmith.errors import ConfigError, PortError
from tunesmith.io.ports import InProcessPort, choose, open_output
from tunesmith.jobs.live import Live, LiveOptions, RunComposer, answer_phrase
from tunesmith.live import ClockTempo, FakeClock, Phrases, PulseTempo, Scheduler, SystemClock
from tunesmith.notes import Notes


def on(p, v=80, ch=0):
    return mido.Message("note_on", note=p, velocity=v, channel=ch)


def off(p, ch=0):
    return mido.Message("note_off", note=p, velocity=0, channel=ch)


class Sink:
    def __init__(self, clock):
        self.clock = clock
        self.got: list[tuple[float, mido.Message]] = []

    def __call__(self, msg):
        self.got.append((self.clock.now(), msg))

    def notes_on(self):
        return [(round(t, 6), m.note, m.channel) for t, m in self.got if m.type == "note_on" and m.velocity > 0]


# ---------------------------------------------------------------------------------------------- the scheduler
def test_scheduler_sends_each_note_at_its_time_on_the_clock():
    clock = FakeClock()
    sink = Sink(clock)
    s = Scheduler(sink, clock)
    s.add_notes([(1.0, 1.5, 60, 90, 0), (0.5, 2.0, 64, 70, 2)], tag="a")
    assert s.run_due() == 0 and s.next_time() == 0.5
    clock.advance(0.75)
    assert s.run_due() == 1
    clock.advance(2.0)
    s.run_due()
    sent = [(t, m.type, m.note, m.channel) for t, m in sink.got]
    assert sent == [
        (0.75, "note_on", 64, 2), (2.75, "note_on", 60, 0), (2.75, "note_off", 60, 0), (2.75, "note_off", 64, 2)
    ]  # fmt: skip
    # lateness: each message's send time less its own time (0.25 for the first; 1.75, 1.25, 0.75 for the rest)
    assert s.lateness == pytest.approx([0.25, 1.75, 1.25, 0.75])
    assert s.first_out == {"a": 0.75}


def test_scheduler_releases_before_striking_and_retriggers_a_sounding_pitch():
    clock = FakeClock()
    sink = Sink(clock)
    s = Scheduler(sink, clock)
    # one note ends where the next of the same pitch starts; a third strikes it while the second sounds
    s.add_notes([(0.0, 1.0, 60, 80, 0), (1.0, 3.0, 60, 80, 0), (2.0, 2.5, 60, 80, 0)])
    s.run_due(10.0)
    kinds = [(m.type if m.velocity else "note_off") for _, m in sink.got]
    # at 1.0 the release comes first; at 2.0 the sounding note is released before the strike; the note-off at 2.5
    # leaves the note of 1.0-3.0 held by nobody else... only the last holder's note-off sends
    assert kinds == ["note_on", "note_off", "note_on", "note_off", "note_on", "note_off"]


def test_scheduler_stop_and_cancel_leave_no_note_hanging():
    clock = FakeClock()
    sink = Sink(clock)
    s = Scheduler(sink, clock)
    s.add_notes([(0.0, 5.0, 60, 80, 0), (0.0, 5.0, 67, 80, 0)], tag="answer1")
    s.add_notes([(0.0, 5.0, 36, 80, 3), (6.0, 7.0, 40, 80, 3)], tag="bar")
    s.run_due(1.0)
    s.cancel("answer1")  # its two notes released at once, its note-offs no longer wait
    released = [(m.note, m.channel) for _, m in sink.got[3:]]
    assert sorted(released) == [(60, 0), (67, 0)] and s.pending("answer1") == 0 and s.pending("bar") == 3
    sink.got.clear()
    s.stop()
    msgs = [(m.type, getattr(m, "note", None), getattr(m, "control", None), m.channel) for _, m in sink.got]
    assert msgs[0] == ("note_off", 36, None, 3)  # the bass still sounding
    assert set(msgs[1:]) == {
        ("control_change", None, 64, 0), ("control_change", None, 123, 0),
        ("control_change", None, 64, 3), ("control_change", None, 123, 3),
    }  # fmt: skip
    assert s.pending() == 0


def test_scheduler_thread_sends_on_the_machine_clock():
    clock = SystemClock()
    got: list[tuple[float, mido.Message]] = []
    s = Scheduler(lambda m: got.append((clock.now(), m)), clock).start()
    t0 = clock.now() + 0.05
    s.add_notes([(t0 + 0.02 * i, t0 + 0.02 * i + 0.01, 60 + i, 80, 0) for i in range(5)])
    time.sleep(0.3)
    s.stop(silence=False)
    ons = [t for t, m in got if m.type == "note_on"]
    assert len(ons) == 5
    assert all(t >= t0 + 0.02 * i for i, t in enumerate(ons))  # never early


# ---------------------------------------------------------------------------------------------- what is heard
def test_silence_of_n_beats_ends_a_phrase_and_a_held_note_does_not():
    ph = Phrases(wait_beats=2)
    assert ph.due(0.5) is None
    ph.feed(0.0, on(60))
    assert ph.due(0.5) is None  # held
    ph.feed(0.4, on(64))
    ph.feed(0.5, off(60))
    assert ph.due(0.5) is None  # 64 still held, however long
    ph.feed(9.0, off(64))
    assert ph.due(0.5) == pytest.approx(10.0)  # 2 beats of 0.5 s after the last release
    ph.feed(9.2, on(65))
    assert ph.due(0.5) is None
    ph.feed(9.3, off(65))
    assert ph.due(0.6) == pytest.approx(10.5)
    notes = ph.take()
    assert [(n.pitch, n.start, n.end) for n in notes] == [(60, 0.0, 0.5), (64, 0.4, 9.0), (65, 9.2, 9.3)]
    assert ph.due(0.5) is None and ph.notes == []


def test_the_sustain_pedal_holds_a_phrase_open():
    ph = Phrases(wait_beats=1)
    ph.feed(0.0, on(60))
    ph.feed(0.1, mido.Message("control_change", control=64, value=127))
    ph.feed(0.2, off(60))
    assert ph.due(0.5) is None
    ph.feed(3.0, mido.Message("control_change", control=64, value=0))
    assert ph.due(0.5) == pytest.approx(3.5)
    with pytest.raises(ValueError):
        Phrases(wait_beats=0)


@pytest.mark.parametrize("bpm", [72.0, 100.0, 133.0])
def test_tempo_from_a_played_pulse(bpm):
    beat = 60 / bpm
    quarters = PulseTempo()
    for i in range(8):
        quarters.onset(i * beat)
    assert quarters.bpm == pytest.approx(bpm)
    eighths = PulseTempo()  # twice as many onsets: the quarter's tempo, folded into 70..140
    for i in range(16):
        for k in range(3):  # a chord: three onsets within 20 ms count once
            eighths.onset(i * beat / 2 + 0.01 * k)
    assert eighths.bpm == pytest.approx(bpm, rel=0.02)
    one = PulseTempo(bpm=90)
    one.onset(0.0)
    assert one.bpm == 90  # one onset says nothing yet


def test_tempo_and_position_from_midi_clock():
    c = ClockTempo()
    c.feed(0.0, mido.Message("start"))
    tick = 60 / 90 / 24
    for i in range(96):
        c.feed(i * tick, mido.Message("clock"))
    assert c.bpm == pytest.approx(90.0)
    assert c.beats == pytest.approx(4.0) and c.running
    c.feed(5.0, mido.Message("stop"))
    c.feed(5.1, mido.Message("clock"))
    assert c.beats == pytest.approx(4.0) and not c.running  # a stopped clock does not move the position
    c.feed(6.0, mido.Message("songpos", pos=8))  # 8 sixteenths: 2 beats
    assert c.beats == pytest.approx(2.0)
    c.feed(6.1, mido.Message("continue"))
    assert c.running


# ---------------------------------------------------------------------------------------------- the modes
class Steps:
    """A composer that continues with rising steps, a quarter note each, after the context's last note."""

    def __init__(self):
        self.calls = 0
        self.seeds: list[int] = []

    def continue_notes(self, context: Notes, count: int, seed: int) -> Notes:
        self.calls += 1
        self.seeds.append(seed)
        last = int(context.pitch[np.argmax(context.start_qn)])
        qn = float(context.start_qn.max()) + 1 + np.arange(count, dtype=float)
        return Notes.from_arrays(last + 1 + np.arange(count), start_qn=qn, end_qn=qn + 0.5, velocity=70)


def engine(**kw):
    clock = FakeClock()
    sink = Sink(clock)
    opts = LiveOptions(**{"tempo": 120.0, "channel": 1, **kw})
    live = Live(opts, sink, clock=clock, composer=Steps(), threaded=False)
    return live, clock, sink


def play_phrase(live, clock, pitches, beat=0.5):
    for p in pitches:
        live.feed(on(p), clock.now())
        live.tick()
        clock.advance(beat * 0.8)
        live.feed(off(p), clock.now())
        live.tick()
        clock.advance(beat * 0.2)


def run_until(live, clock, t, step=0.01):
    while clock.now() < t:
        clock.advance(step)
        live.tick()


def test_answer_starts_when_due_and_lasts_its_bars():
    live, clock, sink = engine(wait=1.0, bars=1)
    play_phrase(live, clock, [60, 62, 64])  # the last release at 1.4 s: due 1 beat (0.5 s) later
    run_until(live, clock, 6.0)
    out = sink.notes_on()
    assert out[0] == (1.9, 65, 1)  # the phrase continued (the composer's rising steps), on --channel
    assert [p for _, p, _ in out] == [65, 66, 67, 68]  # one bar of 4/4 at 120: four quarter notes
    assert [t for t, _, _ in out] == pytest.approx([1.9, 2.4, 2.9, 3.4], abs=0.011)  # ticks of 10 ms
    assert live.stats.answers == 1 and live.stats.latencies == [pytest.approx(0.0, abs=0.011)]


def test_playing_on_drops_the_answer_begun_and_interrupting_one_silences_it():
    live, clock, sink = engine(wait=2.0, bars=2)
    play_phrase(live, clock, [60])  # released at 0.4 s: an answer is begun for 1.4 s
    clock.advance(0.3)
    play_phrase(live, clock, [67])  # played before it was due: dropped, begun anew from both notes
    run_until(live, clock, 2.8)  # the answer's second note (2.7-2.95 s) sounds
    assert sink.notes_on()[0][1] == 68 and sink.notes_on()[0][0] == pytest.approx(2.2, abs=0.011)
    live.feed(on(50), clock.now())  # the player comes in over the answer: it stops, its sounding note released
    live.tick()
    after = [m for t, m in sink.got if t >= 2.8]
    assert [(m.type, m.note, m.channel) for m in after] == [("note_off", 69, 1)]
    run_until(live, clock, 6.0)
    assert all(m.channel != 1 or m.type != "note_on" for t, m in sink.got if t > 2.8)


def test_continue_plays_on_until_stopped():
    live, clock, sink = engine(mode="continue", wait=1.0)
    play_phrase(live, clock, [60, 62])
    run_until(live, clock, 20.0)
    pitches = [p for _, p, ch in sink.notes_on() if ch == 1]
    assert len(pitches) >= 30 and pitches[:4] == [63, 64, 65, 66]
    live.close()
    tail = sink.got[-4:]
    assert [(m.type, m.control) for _, m in tail if m.type == "control_change"] == [
        ("control_change", 64), ("control_change", 123)
    ]  # fmt: skip


def test_accompany_plays_the_progression_bar_by_bar_under_the_player():
    live, clock, sink = engine(mode="accompany", chords="C | G/B", tempo=120.0)
    live.feed(on(72), 0.0)  # the player's first note starts bar 0
    run_until(live, clock, 7.9)
    bars = {}
    for t, p, _ in sink.notes_on():
        bars.setdefault(round(t, 1), []).append(p)  # sent on ticks of 10 ms
    assert sorted(bars) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]  # two strikes a bar, from bar 0 (a set tempo)
    c, g = sorted(bars[0.0]), sorted(bars[2.0])
    assert c[0] == 36 and {p % 12 for p in c[1:]} == {0, 4, 7}  # bass C2, a C triad
    assert g[0] == 47 and {p % 12 for p in g[1:]} == {7, 11, 2}  # the slash chord's bass B2 under G
    assert all(55 <= p <= 78 for p in c[1:] + g[1:])


def test_accompany_follows_the_chords_heard_and_the_midi_clock():
    live, clock, sink = engine(mode="accompany", tempo=None, clock=True)
    live.feed(mido.Message("start"), 0.0)
    tick = 60 / 100 / 24  # the DAW at 100 beats a minute
    for i in range(24 * 12):
        t = i * tick
        clock.t = t
        live.feed(mido.Message("clock"), t)
        if i == 24:  # an A minor chord in bar 0
            for p in (57, 60, 64):
                live.feed(on(p), t)
        if i == 24 * 3:
            for p in (57, 60, 64):
                live.feed(off(p), t)
        live.tick()
    assert live.bpm == pytest.approx(100.0)
    bar1 = sorted(p for t, p, _ in sink.notes_on() if abs(t - 4 * 0.6) < 0.02)
    assert bar1 and bar1[0] == 45 and {p % 12 for p in bar1[1:]} == {9, 0, 4}  # A minor heard in bar 0


def test_bad_options_are_one_line_errors():
    with pytest.raises(ConfigError, match="'H7' is not a chord symbol"):
        LiveOptions(mode="accompany", chords="C | H7").check()
    with pytest.raises(ConfigError, match="mode"):
        LiveOptions(mode="jam").check()
    with pytest.raises(ConfigError, match="drums"):
        LiveOptions(mode="accompany", harmony=False).check()
    with pytest.raises(ConfigError, match="needs a model"):
        Live(LiveOptions(mode="answer"), print, threaded=False)


def test_a_port_that_goes_away_stops_with_one_line():
    clock = FakeClock()
    port = InProcessPort()
    live = Live(LiveOptions(tempo=120.0, bars=1), port.send, clock=clock, composer=Steps(), threaded=False)
    play_phrase(live, clock, [60])
    port.close()  # the DAW quit
    with pytest.raises(PortError, match="went away"):
        live.scheduler.start()  # the thread meets the closed port ...
        run_until(live, clock, 3.0)
        time.sleep(0.2)
        live.tick()
    live.scheduler.stop(silence=False)


def test_port_names_are_chosen_by_part_and_bad_ones_named():
    names = ["Midi Through:Midi Through Port-0 14:0", "Keystation 49:Keystation 49 MIDI 1 20:0"]
    assert choose("keystation", names, "input") == names[1]
    with pytest.raises(PortError, match="no MIDI input named 'nord'"):
        choose("nord", names, "input")
    with pytest.raises(PortError, match="names 2 MIDI inputs"):
        choose("midi", names, "input")


# ---------------------------------------------------------------------------------------------- a real model, real time
def test_a_shipped_model_answers_in_real_time_through_in_process_ports():
    """bach answers a phrase played into an in-process port on the machine's clock: the answer comes, after
    the phrase, on time (not measured here: benchmarks/bench_live.py measures it)."""
    clock = SystemClock()
    out = InProcessPort(clock.now)
    opts = LiveOptions(run="bach", tempo=150.0, bars=1, wait=1.0)
    live = Live(opts, out.send, clock=clock, composer=RunComposer("bach", opts))
    stop = threading.Event()
    loop = threading.Thread(target=live.run_for, args=(30.0, stop))
    loop.start()
    try:
        for p in (67, 69, 71, 72):
            live.feed(on(p))
            time.sleep(0.3)
            released = clock.now()
            live.feed(off(p), released)
            time.sleep(0.1)
        deadline = released + 20.0
        while clock.now() < deadline and not live.stats.latencies:
            time.sleep(0.05)
        time.sleep(1.6 + 0.3)  # the answer's bar plays out
    finally:
        stop.set()
        loop.join()
        live.close()
        live.composer.close()
    assert live.stats.answers == 1 and len(live.stats.latencies) == 1
    first = min(t for t, m in out.sent if m.type == "note_on")
    assert first >= released + 0.4 - 0.01  # one beat at 150 after the last release, never before
    ons = [m for _, m in out.sent if m.type == "note_on" and m.velocity > 0]
    assert len(ons) >= 2 and all(m.channel == 0 for m in ons)
    offs = sum(1 for _, m in out.sent if m.type == "note_off" or (m.type == "note_on" and m.velocity == 0))
    assert offs >= len(ons)  # every note released


def test_the_command_line_says_in_one_line_what_is_wrong():
    r = subprocess.run(
        [sys.executable, "-m", "tunesmith", "live", "accompany", "--chords", "C | H7", "--out", "nowhere"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = subprocess.run([sys.executable, "-m", "tunesmith", "live", "--list"], capture_output=True, text=True)
    assert "Traceback" not in r.stderr and "ALSA lib" not in r.stderr
    assert r.returncode == 0 or "no MIDI system" in r.stderr


@pytest.fixture
def midi_system(monkeypatch, tmp_path):
    """A MIDI system without a sound card: the machine's ALSA sequencer where it has one, else a JACK server with
    its dummy driver started for the test (Debian: apt-get install jackd2); skipped, with the reason, where
    neither can run."""
    try:
        open_output(None, "alsa").close()
        return "alsa"
    except PortError as e:
        why = str(e)
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.skip(f"no ALSA sequencer ({why}) and no JACK server to start (apt-get install jackd2)")
    name = f"tunesmith-test-{os.getpid()}"
    monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
    monkeypatch.setenv("JACK_NO_AUDIO_RESERVATION", "1")
    log = (tmp_path / "jackd.log").open("w")
    server = subprocess.Popen([jackd, "-n", name, "-d", "dummy", "-r", "48000", "-p", "256"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                open_output(None, "jack").close()
                break
            except PortError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.skip(f"the JACK server did not start: {(tmp_path / 'jackd.log').read_text()[-300:]}")
                time.sleep(0.2)
        yield "jack"
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def test_live_through_real_midi_ports(midi_system):
    """tunesmith live answer on a real MIDI system: a player's ports connect to tunesmith's virtual ones by name,
    play a phrase, and get the answer back, then every note released at the stop."""
    import mido as m

    from tunesmith.io.ports import backend
    from tunesmith.jobs.live import play

    stop = threading.Event()
    result: dict = {}
    opts = LiveOptions(run="bach", tempo=150.0, bars=1)
    t = threading.Thread(target=lambda: result.update(stats=play(opts, stop=stop, log=lambda s: None, api=midi_system)))
    t.start()
    b = backend(midi_system)
    try:
        deadline = time.monotonic() + 30
        while not (  # tunesmith's output (for a player to hear) and its input (to play into)
            any("tunesmith" in n for n in b.get_input_names()) and any("tunesmith" in n for n in b.get_output_names())
        ):
            assert time.monotonic() < deadline and t.is_alive(), "tunesmith's ports did not open"
            time.sleep(0.1)
        ours_in = next(n for n in b.get_output_names() if "tunesmith" in n)  # tunesmith's input, to play into
        heard: list = []
        ears = b.open_input(next(n for n in b.get_input_names() if "tunesmith" in n), callback=heard.append)
        keys = b.open_output(ours_in)
        time.sleep(0.3)
        for p in (67, 69, 71):
            keys.send(m.Message("note_on", note=p, velocity=80))
            time.sleep(0.2)
            keys.send(m.Message("note_off", note=p))
        deadline = time.monotonic() + 20
        while not any(x.type == "note_on" and x.velocity for x in heard) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        stop.set()
        t.join(timeout=30)
        time.sleep(0.2)
        keys.close()
        ears.close()
    finally:
        stop.set()
        t.join(timeout=30)
    assert result["stats"].answers == 1
    ons = [x for x in heard if x.type == "note_on" and x.velocity]
    assert ons, "no answer came back through the ports"
    assert [(x.type, x.control) for x in heard if x.type == "control_change"][-2:] == [
        ("control_change", 64), ("control_change", 123)
    ]  # fmt: skip


class Kicks:
    """A drummer that plays a kick on every beat of each bar, and its bar's number as the velocity."""

    def __init__(self):
        self.calls = 0

    def bars(self, n, seed):
        self.calls += 1
        qn = np.arange(4 * n, dtype=float)
        return Notes.from_arrays(
            np.full(qn.size, 36), start_qn=qn, end_qn=qn + 0.25, velocity=1 + (qn // 4).astype(int), is_drum=True
        )


def test_accompany_with_drums_keeps_the_groove_on_the_beat():
    clock = FakeClock()
    sink = Sink(clock)
    kicks = Kicks()
    live = Live(
        LiveOptions(mode="accompany", tempo=100.0, drums="funk", harmony=False), sink, clock=clock, drummer=kicks,
        threaded=False,
    )  # fmt: skip
    live.feed(on(60), 0.0)
    run_until(live, clock, 0.6 * 4 * 10 - 0.1)  # ten bars at 100
    drums = [(t, m.velocity) for t, m in sink.got if m.type == "note_on" and m.channel == 9]
    assert len(drums) == 40
    assert [t for t, _ in drums] == pytest.approx([0.6 * i for i in range(40)], abs=0.011)
    assert [v for _, v in drums][::4] == [1, 2, 3, 4, 5, 6, 7, 8, 1, 2]  # bar by bar, the next block from bar 8
    assert kicks.calls == 2


def test_a_whole_phrase_is_answered_by_the_same_engine_offline():
    """The studio's Live tab: a phrase given whole, answered on a fake clock, notes at their own times."""
    phrase = Notes.from_arrays([60, 62, 64], [0.0, 0.5, 1.0], [0.4, 0.9, 1.4])
    steps = Steps()
    answer = answer_phrase(steps, phrase, LiveOptions(bars=1, tempo=120.0))
    assert answer.pitch.tolist() == [65, 66, 67, 68]
    assert answer.start.tolist() == [0.0, 0.5, 1.0, 1.5] and answer.end.tolist() == [0.25, 0.75, 1.25, 1.75]
    assert steps.calls == 2  # composed once the phrase was due (4 notes, then 8 of which the bar keeps none)
    followed = answer_phrase(Steps(), phrase, LiveOptions(bars=1))  # no tempo: the phrase's own pulse
    assert followed.tempos["qpm"][0] == pytest.approx(120.0)
    with pytest.raises(ConfigError, match="no notes"):
        answer_phrase(Steps(), Notes.empty(), LiveOptions())


class Roots:
    """A harmonizer that writes a bar of the chord's root in whole notes, and keeps what it was given."""

    def __init__(self):
        self.asked: list[tuple[str, float, int]] = []

    def next_bar(self, context, chords, at, meter, seed):
        self.asked.append((chords, at, len(context)))
        root = {"C:maj": 48, "G:maj": 55, "A:min": 57, "F:maj": 53}[chords]
        return Notes.from_arrays([root], start_qn=[0.0], end_qn=[float(meter)], velocity=50)


def test_accompany_with_a_harmonizer_plays_its_bars_a_bar_ahead():
    clock = FakeClock()
    sink = Sink(clock)
    roots = Roots()
    live = Live(
        LiveOptions(mode="accompany", tempo=120.0, chords="C | G | Am | F"), sink, clock=clock, harmonizer=roots,
        threaded=False,
    )  # fmt: skip
    live.feed(on(72), 0.0)
    run_until(live, clock, 7.9)  # four bars of 2 s
    by_bar = {}
    for t, p, _ in sink.notes_on():
        by_bar.setdefault(int(t // 2.0 + 1e-6), set()).add(p)
    assert {p % 12 for p in by_bar[0]} == {0, 4, 7}  # bar 0 by rule: nothing to continue yet
    assert by_bar[1] == {55} and by_bar[2] == {57} and by_bar[3] == {53}  # then the harmonizer's, over each chord
    assert [a[:2] for a in roots.asked[:3]] == [("G:maj", 4.0), ("A:min", 8.0), ("F:maj", 12.0)]
    assert live.stats.model_bars == live.stats.bars - 1  # every bar after the first (bar 4 planned ahead too)


class FakeInput:
    def __init__(self, name, callback):
        self.name, self.callback, self.closed = name, callback, False

    def close(self):
        self.closed = True


def test_play_opens_the_ports_and_leaves_nothing_sounding(monkeypatch):
    """The command line's job end to end through stand-in ports: a phrase in, an answer out, a stop with every
    note released and All Notes Off; an input that goes away ends it with a PortError."""
    import tunesmith.jobs.live as job

    out = InProcessPort()
    out.name = "synth"
    inputs: list[FakeInput] = []
    names = {"inputs": ["keys"]}
    monkeypatch.setattr(job, "open_output", lambda name, api=None: out)

    def opened(name, callback, api=None):
        inputs.append(FakeInput(name or "tunesmith", callback))
        return inputs[-1]

    monkeypatch.setattr(job, "open_input", opened)
    monkeypatch.setattr(job, "port_names", lambda api=None: (names["inputs"], ["synth"]))
    stop = threading.Event()
    said: list[str] = []
    result = {}
    opts = LiveOptions(run="bach", tempo=150.0, bars=1)

    def playing():
        try:
            result["stats"] = job.play(opts, port_in="keys", stop=stop, log=said.append)
        except Exception as e:  # shown by the assertion below, not lost in the thread
            result["error"] = e

    t = threading.Thread(target=playing)
    t.start()
    deadline = time.monotonic() + 60
    while not inputs:
        assert t.is_alive() and time.monotonic() < deadline, f"play() did not open its input: {result}"
        time.sleep(0.05)
    for p in (64, 65, 67):
        inputs[0].callback(on(p))
        time.sleep(0.2)
        inputs[0].callback(off(p))
    deadline = time.monotonic() + 20
    while not any(m.type == "note_on" for _, m in out.sent) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    t.join(timeout=30)
    assert result["stats"].answers == 1 and inputs[0].closed and out.closed
    ends = [(m.type, getattr(m, "control", None)) for _, m in out.sent][-2:]
    assert ends == [("control_change", 64), ("control_change", 123)]
    assert "in 'keys', out 'synth'" in said[0]

    inputs.clear()
    out.closed = False
    names["inputs"] = []  # the keyboard is unplugged
    with pytest.raises(PortError, match="'keys' went away"):
        job.play(opts, port_in="keys", log=said.append)
    assert out.closed


def test_the_same_playing_gets_the_same_answer_however_fast_the_machine():
    """An answer's seeds come from its place in the conversation, not from how many answers were begun and dropped
    on the way (a fast machine begins one at every release, a slow one fewer)."""
    phrase = Notes.from_arrays([60, 62, 64], [0.0, 0.5, 1.0], [0.4, 0.9, 1.4])
    eager, lazy = Steps(), Steps()
    live, clock, sink = engine(wait=1.0, bars=1)
    live.composer = eager
    play_phrase(live, clock, [60, 62, 64])  # an answer begun at each release: three begun, two dropped
    run_until(live, clock, 4.0)
    answer_phrase(lazy, phrase, LiveOptions(tempo=120.0, bars=1, channel=1))  # one begun, when due
    assert eager.calls > lazy.calls
    assert eager.seeds[-len(lazy.seeds) :] == lazy.seeds == [0, 1]  # the first answer's chunks: seeds 0 and 1
    before = len(eager.seeds)
    play_phrase(live, clock, [65])
    run_until(live, clock, 8.0)
    assert eager.seeds[before:] == [1000, 1001]  # the second answer's chunks


def test_stopping_after_the_port_went_away_is_quiet():
    clock = FakeClock()
    port = InProcessPort()
    s = Scheduler(port.send, clock)
    s.add_notes([(0.0, 5.0, 60, 80, 0)])
    s.run_due(1.0)
    port.close()
    s.stop()  # no error: the note-offs have nowhere to go
    assert s.pending() == 0


def test_thru_passes_the_player_through_and_the_stop_releases_it():
    live, clock, sink = engine(wait=4.0, thru=True)
    live.feed(on(60, 90), 0.0)
    live.feed(mido.Message("control_change", control=64, value=127), 0.1)
    assert [(m.type, getattr(m, "note", None)) for _, m in sink.got] == [("note_on", 60), ("control_change", None)]
    live.close()  # the key still down: released, and the pedal up, on the player's channel
    tail = [(m.type, getattr(m, "note", None), getattr(m, "control", None)) for _, m in sink.got[2:]]
    assert (
        tail[0] == ("note_off", 60, None)
        and ("control_change", None, 64) in tail
        and ("control_change", None, 123) in tail
    )
    quiet, clock2, sink2 = engine(wait=4.0)
    quiet.feed(on(60), 0.0)
    assert sink2.got == []  # without --thru the player's notes are theirs alone


def test_answers_ask_for_the_key_heard_where_the_model_takes_it():
    composer = RunComposer("bach", LiveOptions(run="bach", key=True))
    asked: list[dict] = []
    real = composer.fam.options

    def options(**kw):
        asked.append(kw)
        return real(**kw)

    composer.fam = type("Fam", (), {"options": staticmethod(options), "generate": composer.fam.generate})()
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60]  # C major, up and down
    context = Notes.from_arrays(scale, np.arange(11) * 0.5, np.arange(11) * 0.5 + 0.45)
    try:
        assert composer.keyed
        composer.continue_notes(context, 4, seed=0)
        composer.opts = LiveOptions(run="bach", key=False)
        composer.continue_notes(context, 4, seed=0)
    finally:
        composer.close()
    assert asked[0]["key"] == "C major" and asked[0]["guidance"] is None and "key" not in asked[1]
    assert LiveOptions().key is False  # not by default: it halves the speed
