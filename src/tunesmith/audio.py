"""Listening: Notes -> WAV.

Four engines, tried in this order by ``engine="auto"``:

1. **midirenderer** (a small Rust wheel from PyPI around the RustySynth SoundFont synthesizer, installed by
   default, no system library) with a General MIDI SoundFont. The Notes are written as MIDI by
   :func:`~tunesmith.scores.notes_to_score` (programs kept, drums on channel 10) and rendered at midirenderer's
   own rate (48 kHz), then resampled to the requested one.
2. **FluidSynth** through pyfluidsynth (``pip install 'tunesmith[soundfont]'`` plus the FluidSynth shared library,
   e.g. Debian's ``libfluidsynth3``) with the same SoundFont; it also reads SoundFont 3 (.sf3), which
   midirenderer does not.
3. **symusic's synthesizer** (prestosynth, shipped inside symusic) with the same SoundFont.
4. **The built-in synthesizer**: each note a few decaying harmonics (a plucked, piano-like tone) with velocity as
   loudness. It needs nothing, so a WAV is always produced.

The SoundFont is, in order: the ``soundfont`` argument, the file named by ``$TUNESMITH_SOUNDFONT``, the small GM
font that pretty_midi's wheel ships (TimGM6mb.sf2; pretty_midi is a dependency for this file alone), or a system
one (Debian's ``fluid-soundfont-gm`` puts FluidR3_GM.sf2 in /usr/share/sounds/sf2). :func:`render` returns a
description of the engine it used, with the reason whenever it fell back, so the user knows what they are
listening to.
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import io
import os
import wave
from pathlib import Path
from types import ModuleType

import numpy as np

from .errors import ConfigError, EngineUnavailable
from .notes import Notes
from .utils import atomic_path

DEFAULT_SAMPLE_RATE = 22050
ENGINES = ("auto", "midirenderer", "fluidsynth", "symusic", "builtin")
#: the SoundFont engines in the order ``auto`` tries them (the built-in synthesizer comes after them all)
SOUNDFONT_ENGINES = ("midirenderer", "fluidsynth", "symusic")
#: environment variable naming a SoundFont (.sf2/.sf3) to use when none is given
SOUNDFONT_ENV = "TUNESMITH_SOUNDFONT"
#: standard Debian/Fedora/Arch locations of General MIDI SoundFonts, tried in order (globs)
SYSTEM_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/sounds/sf2/*.sf2",
    "/usr/share/soundfonts/*.sf2",
    "/usr/share/sounds/sf3/*.sf3",
)
#: seconds of sound kept after the end of the last note: the built-in tone's release ...
BUILTIN_RELEASE = 0.15
#: ... and a SoundFont's release and reverb tail
SOUNDFONT_TAIL = 1.0
#: peak level of every engine's output (the mix is normalised to it)
PEAK = 0.9
#: relative amplitudes of the harmonics of the built-in tone
_HARMONICS = np.array([1.0, 0.5, 0.25, 0.12, 0.06])
_DRUM_CHANNEL = 9
_MELODIC_CHANNELS = tuple(c for c in range(16) if c != _DRUM_CHANNEL)
_NO_FLUIDSYNTH = "no FluidSynth library found: install libfluidsynth and pyfluidsynth for SoundFont rendering"


def midi_to_hz(pitch: np.ndarray | float) -> np.ndarray:
    """Equal temperament, A4 (MIDI 69) = 440 Hz."""
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - 69.0) / 12.0)


def signal_length(duration: float, tail: float, sample_rate: int) -> int:
    """Samples of a rendering: from 0 to ``duration + tail`` seconds, both ends included."""
    return int(np.ceil((max(duration, 0.0) + tail) * sample_rate)) + 1


def _check_rate(sample_rate: int) -> None:
    if int(sample_rate) != sample_rate or sample_rate <= 0:
        raise ConfigError(f"sample rate must be a positive whole number, got {sample_rate}")


def _normalise(signal: np.ndarray) -> np.ndarray:
    peak = float(np.abs(signal).max()) if signal.size else 0.0
    if peak > 0:
        signal = signal * (PEAK / peak)
    return signal.astype(np.float32)


# ---------------------------------------------------------------------------------------------- built-in
def synthesize(notes: Notes, sample_rate: int = DEFAULT_SAMPLE_RATE, *, release: float = BUILTIN_RELEASE) -> np.ndarray:
    """Render Notes to a mono float32 signal in [-1, 1] with the built-in synthesizer (drums are skipped).

    The signal lasts until the end of the last note plus ``release`` seconds (:func:`signal_length`)."""
    _check_rate(sample_rate)
    a = notes.notes[~notes.notes["is_drum"]]
    total = signal_length(notes.duration, release, sample_rate)
    out = np.zeros(total, dtype=np.float64)
    if a.size == 0:
        return out.astype(np.float32)
    hz = midi_to_hz(a["pitch"])
    for (start, end, vel), f in zip(a[["start", "end", "velocity"]].tolist(), hz, strict=True):
        i0 = max(0, int(round(start * sample_rate)))
        n = max(1, int(round((end - start + release) * sample_rate)))
        n = min(n, total - i0)
        t = np.arange(n) / sample_rate
        k = np.arange(1, len(_HARMONICS) + 1)
        audible = k * f < sample_rate / 2  # no harmonic above Nyquist
        tone = (_HARMONICS[audible, None] * np.sin(2 * np.pi * f * k[audible, None] * t)).sum(0)
        held = end - start
        env = np.exp(-t * (1.5 + f / 600.0))  # higher notes decay faster, as on a piano
        env *= np.clip((held + release - t) / release, 0.0, 1.0)  # release after the key is let go
        env[: min(n, 64)] *= np.linspace(0.0, 1.0, min(n, 64))  # a 3 ms attack, no click
        out[i0 : i0 + n] += (vel / 127.0) ** 1.5 * env * tone
    return _normalise(out)


# ---------------------------------------------------------------------------------------------- SoundFonts
def _bundled_soundfont() -> Path | None:
    """pretty_midi's TimGM6mb.sf2, located without importing pretty_midi (its import is slow)."""
    try:
        spec = importlib.util.find_spec("pretty_midi")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "TimGM6mb.sf2"
        if path.is_file():
            return path
    return None


def _system_soundfont() -> Path | None:
    for pattern in SYSTEM_SOUNDFONTS:
        for name in sorted(glob.glob(pattern)):
            if os.path.isfile(name):
                return Path(name)
    return None


def find_soundfont(soundfont: str | os.PathLike[str] | None = None) -> Path | None:
    """The SoundFont to use: ``soundfont``, else ``$TUNESMITH_SOUNDFONT``, else pretty_midi's TimGM6mb.sf2, else
    a system General MIDI font; None when there is none. A named file that does not exist is an error."""
    if soundfont is not None:
        path = Path(soundfont)
        if not path.is_file():
            raise ConfigError(f"{path}: SoundFont not found")
        return path
    env = os.environ.get(SOUNDFONT_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"{SOUNDFONT_ENV}={env}: SoundFont not found")
        return path
    return _bundled_soundfont() or _system_soundfont()


def _need_soundfont(soundfont: Path | None) -> Path:
    if soundfont is None:
        raise EngineUnavailable(
            f"no SoundFont found: give one with --soundfont, set {SOUNDFONT_ENV}, or install pretty_midi "
            "(which ships TimGM6mb.sf2) or Debian's fluid-soundfont-gm"
        )
    return soundfont


def _channels(a: np.ndarray) -> tuple[np.ndarray, dict[int, tuple[int, bool]]]:
    """A MIDI channel for each note, one per (program, drum) pair in order of first use: drums on channel 10
    (index 9), the others on the 15 remaining channels, reused cyclically beyond 15 programs (such notes then
    sound with the program that last took their channel). Returns the channels and {channel: (program, drum)}."""
    keys = list(zip(a["program"].tolist(), a["is_drum"].tolist(), strict=True))
    assigned: dict[tuple[int, bool], int] = {}
    presets: dict[int, tuple[int, bool]] = {}
    for key in dict.fromkeys(keys):
        channel = _DRUM_CHANNEL if key[1] else _MELODIC_CHANNELS[sum(not d for _, d in assigned) % 15]
        assigned[key] = channel
        presets[channel] = key
    return np.array([assigned[k] for k in keys], dtype=np.int64), presets


def _load_fluidsynth() -> ModuleType:
    try:
        import fluidsynth
    except ModuleNotFoundError as e:
        raise EngineUnavailable(_NO_FLUIDSYNTH) from e
    except (ImportError, OSError) as e:  # pyfluidsynth is there, the shared library is not
        reason = f"pyfluidsynth found but not the FluidSynth library ({e}): install libfluidsynth"
        raise EngineUnavailable(reason) from e
    if not hasattr(fluidsynth, "Synth"):  # PyPI's unrelated 'fluidsynth' package has the same module name
        raise EngineUnavailable(f"the installed 'fluidsynth' module is not pyfluidsynth; {_NO_FLUIDSYNTH}")
    return fluidsynth


def _fluidsynth(notes: Notes, sample_rate: int, soundfont: Path) -> np.ndarray:
    """Stereo (samples, 2) float signal from FluidSynth, note-on/off events placed at their exact sample."""
    fluidsynth = _load_fluidsynth()
    total = signal_length(notes.duration, SOUNDFONT_TAIL, sample_rate)
    out = np.zeros((total, 2), dtype=np.float32)
    synth = fluidsynth.Synth(samplerate=float(sample_rate))
    try:
        sfid = synth.sfload(str(soundfont))
        if sfid is None or sfid < 0:
            raise EngineUnavailable(f"{soundfont}: FluidSynth could not load this SoundFont")
        a = notes.notes
        channel, presets = _channels(a)
        for ch, (program, drum) in presets.items():
            # GM drum kits live in bank 128; a font without this kit number gets the standard kit
            if synth.program_select(ch, sfid, 128 if drum else 0, program) == -1 and drum:
                synth.program_select(ch, sfid, 128, 0)
        on_at = np.clip(np.rint(a["start"] * sample_rate), 0, total - 1).astype(np.int64)
        off_at = np.clip(np.rint(a["end"] * sample_rate), on_at + 1, total).astype(np.int64)  # sounds >= 1 sample
        at = np.concatenate([off_at, on_at])
        on = np.repeat([False, True], a.size)  # offs before ons at the same sample: a re-struck key sounds again
        pitch = np.tile(a["pitch"].astype(np.int64), 2)
        velocity = np.tile(a["velocity"].astype(np.int64), 2)
        chans = np.tile(channel, 2)
        pos = 0
        for i in np.lexsort((on, at)).tolist():
            t = int(at[i])
            if t > pos:
                out[pos:t] = _samples(synth, t - pos)
                pos = t
            if on[i]:
                synth.noteon(int(chans[i]), int(pitch[i]), int(velocity[i]))
            else:
                synth.noteoff(int(chans[i]), int(pitch[i]))
        if total > pos:
            out[pos:total] = _samples(synth, total - pos)
    finally:
        synth.delete()
    return _normalise(out)


def _samples(synth: object, n: int) -> np.ndarray:
    """``n`` stereo frames from a pyfluidsynth Synth (which returns interleaved int16 L, R, L, R, ...)."""
    return np.asarray(synth.get_samples(n), dtype=np.float32).reshape(n, 2) / 32768.0  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=8)
def _symusic_probe(soundfont: str, sample_rate: int) -> str | None:
    """Render one note with symusic's synthesizer; None if that works, else why it does not.

    symusic 0.6.0 with NumPy 2.4 (this project's pins) fails here: ``Synthesizer.render`` computes the audio and
    then raises ``TypeError: Unable to convert function return value to a Python type`` (its nanobind binding
    cannot hand the Eigen array back). Probing with one note keeps a long piece from being rendered in vain."""
    import symusic
    import symusic.core

    score = symusic.Score(480)
    track = symusic.Track(program=0, is_drum=False)
    track.notes.append(symusic.Note(0, 480, 60, 100))
    score.tracks.append(track)
    try:
        symusic.core.Synthesizer(soundfont, sample_rate, 0).render(score, stereo=True)
    except Exception as e:  # any failure of the binding means: use another engine
        return f"symusic's synthesizer fails here ({type(e).__name__}: {str(e).splitlines()[0].split('!')[0][:80]})"
    return None


def _symusic(notes: Notes, sample_rate: int, soundfont: Path) -> np.ndarray:
    """Stereo (samples, 2) float signal from symusic's synthesizer, cut or padded to end + SOUNDFONT_TAIL.

    Never let symusic pick its own font: ``symusic.Synthesizer()`` without a path downloads one."""
    problem = _symusic_probe(str(soundfont), int(sample_rate))
    if problem:
        raise EngineUnavailable(problem)
    import symusic.core

    from .scores import notes_to_score

    try:
        audio = symusic.core.Synthesizer(str(soundfont), sample_rate, 0).render(notes_to_score(notes), stereo=True)
    except Exception as e:
        raise EngineUnavailable(f"symusic's synthesizer failed ({type(e).__name__}: {e})") from e
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim == 1:
        y = y[:, None]
    elif y.shape[0] <= 2 < y.shape[1]:  # (channels, samples)
        y = y.T
    y = np.repeat(y, 2, axis=1) if y.shape[1] == 1 else y[:, :2]
    total = signal_length(notes.duration, SOUNDFONT_TAIL, sample_rate)
    out = np.zeros((total, 2), dtype=np.float32)
    out[: min(total, len(y))] = y[:total]
    return _normalise(out)


def _load_midirenderer() -> ModuleType:
    try:
        import midirenderer
    except ImportError as e:
        raise EngineUnavailable(f"midirenderer is not installed ({e}): pip install midirenderer") from e
    if not hasattr(midirenderer, "render_wave_from"):
        raise EngineUnavailable("the installed 'midirenderer' module has no render_wave_from")
    return midirenderer


def _midi_with_tail(notes: Notes, tail: float) -> bytes:
    """The Notes as standard MIDI bytes (the project's writer, :func:`~tunesmith.scores.notes_to_score`), with a
    marker ``tail`` seconds or more after the last note: midirenderer renders until the last event, so without it
    the release and reverb of the last notes would be cut off."""
    import symusic

    from .scores import notes_to_score

    score = notes_to_score(notes)
    a = notes.notes
    end_qn = float(a["end_qn"].max()) if a.size else 0.0
    fastest = float(notes.tempos["qpm"].max()) if len(notes.tempos) else 120.0  # at least `tail` seconds at any tempo
    tick = int(np.ceil((end_qn + tail * fastest / 60.0) * score.tpq))
    score.markers.append(symusic.TextMeta(tick, "end", ttype="tick"))
    return score.dumps_midi()


def _decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """16-bit PCM WAV bytes -> float (samples, channels) in [-1, 1] and the sample rate."""
    with wave.open(io.BytesIO(data)) as w:
        if w.getsampwidth() != 2:
            raise EngineUnavailable(f"midirenderer returned {8 * w.getsampwidth()}-bit audio, not 16-bit")
        channels, rate = w.getnchannels(), w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.reshape(-1, channels).astype(np.float32) / 32768.0, rate


def _resample(y: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
    """Resample (samples, channels) from ``rate`` to ``sample_rate`` with a polyphase filter (exact ratio)."""
    if rate == sample_rate or len(y) == 0:
        return y
    from scipy.signal import resample_poly

    g = np.gcd(int(rate), int(sample_rate))
    return resample_poly(y, int(sample_rate) // g, int(rate) // g, axis=0).astype(np.float32)


def _midirenderer(notes: Notes, sample_rate: int, soundfont: Path) -> np.ndarray:
    """Stereo (samples, 2) float signal from midirenderer, cut or padded to end + SOUNDFONT_TAIL.

    midirenderer takes the SoundFont and the MIDI file as bytes and returns WAV bytes at its own rate (48 kHz in
    0.1.3, read from the WAV header), resampled here to ``sample_rate``. It follows the General MIDI rules of its
    synthesizer: each channel's program change picks the preset, channel 10 plays the drum kit (bank 128)."""
    midirenderer = _load_midirenderer()
    midi = _midi_with_tail(notes, SOUNDFONT_TAIL)
    try:
        data = midirenderer.render_wave_from(soundfont.read_bytes(), midi)
        y, rate = _decode_wav(data)
    except EngineUnavailable:
        raise
    except BaseException as e:  # its errors (RuntimeError), a bad WAV, or a Rust panic (pyo3's PanicException)
        if not isinstance(e, Exception) and type(e).__name__ != "PanicException":
            raise
        reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise EngineUnavailable(f"midirenderer failed with {soundfont.name} ({reason})") from e
    y = _resample(y, rate, sample_rate)
    y = np.repeat(y, 2, axis=1) if y.shape[1] == 1 else y[:, :2]
    total = signal_length(notes.duration, SOUNDFONT_TAIL, sample_rate)
    out = np.zeros((total, 2), dtype=np.float32)
    out[: min(total, len(y))] = y[:total]
    return _normalise(out)


# ---------------------------------------------------------------------------------------------- rendering
def synthesize_with(
    notes: Notes,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    *,
    soundfont: str | os.PathLike[str] | None = None,
    engine: str = "auto",
) -> tuple[np.ndarray, str]:
    """Render Notes with ``engine`` (one of :data:`ENGINES`); returns the signal (mono ``(samples,)`` from the
    built-in synthesizer, stereo ``(samples, 2)`` from a SoundFont) and a description of the engine used.

    ``auto`` takes the first engine that works, and says why it passed over the others. Naming an engine that
    cannot run here is a :class:`~tunesmith.errors.ConfigError` that says why."""
    if engine not in ENGINES:
        raise ConfigError(f"unknown synthesis engine {engine!r}; choose one of {', '.join(ENGINES)}")
    _check_rate(sample_rate)
    font = find_soundfont(soundfont)
    if engine == "builtin":
        return synthesize(notes, sample_rate), "built-in synthesizer"
    engines = {
        "midirenderer": (_midirenderer, "midirenderer"),
        "fluidsynth": (_fluidsynth, "FluidSynth"),
        "symusic": (_symusic, "symusic's synthesizer"),
    }
    reasons = []
    for name in SOUNDFONT_ENGINES if engine == "auto" else (engine,):
        fn, label = engines[name]
        try:
            if name == "fluidsynth":
                _load_fluidsynth()  # the library is the likelier thing to be missing: say that first
            elif name == "midirenderer":
                _load_midirenderer()
            path = _need_soundfont(font)
            signal = fn(notes, sample_rate, path)
        except EngineUnavailable as e:
            if engine != "auto":
                raise ConfigError(f"engine {engine!r} cannot run here: {e}") from None
            reasons.append(str(e))
            continue
        return signal, f"{label} with SoundFont {path.name}"
    return synthesize(notes, sample_rate), f"built-in synthesizer ({'; '.join(reasons)})"


def write_wav(signal: np.ndarray, path: str | os.PathLike[str], sample_rate: int = DEFAULT_SAMPLE_RATE) -> Path:
    """Write a float signal in [-1, 1], mono ``(samples,)`` or multi-channel ``(samples, channels)``, as 16-bit
    PCM WAV, atomically."""
    _check_rate(sample_rate)
    path = Path(path)
    signal = np.asarray(signal)
    channels = 1 if signal.ndim == 1 else signal.shape[1]
    pcm = (np.clip(signal, -1.0, 1.0) * 32767).astype("<i2")  # C order: frames interleaved as WAV wants
    with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return path


def render(
    notes: Notes,
    path: str | os.PathLike[str],
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    *,
    soundfont: str | os.PathLike[str] | None = None,
    engine: str = "auto",
) -> tuple[Path, str]:
    """Render Notes to a WAV file; returns the path and a description of the engine used (see
    :func:`synthesize_with`)."""
    signal, description = synthesize_with(notes, sample_rate, soundfont=soundfont, engine=engine)
    return write_wav(signal, path, sample_rate), description
