"""Rendering Notes to WAV: the built-in synthesizer, the engine choice (midirenderer with pretty_midi's
TimGM6mb.sf2, both installed by default; FluidSynth through a fake pyfluidsynth that records its calls; symusic;
built-in), SoundFont discovery, and the errors."""

from __future__ import annotations

import subprocess
import sys
import types
import wave
from pathlib import Path

import numpy as np
import pytest

from tunesmith import audio
from tunesmith.audio import (
    BUILTIN_RELEASE,
    SOUNDFONT_TAIL,
    find_soundfont,
    midi_to_hz,
    render,
    signal_length,
    synthesize,
    write_wav,
)
from tunesmith.cli import main
from tunesmith.errors import ConfigError
from tunesmith.notes import Notes


def read_wav(path: Path) -> tuple[int, np.ndarray]:
    """Sample rate and frames (samples, channels) as floats in [-1, 1]."""
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, w.getnchannels())
        return w.getframerate(), frames / 32768.0


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


@pytest.fixture
def no_fluidsynth(monkeypatch):
    """As on a machine without pyfluidsynth, whatever this one has: ``import fluidsynth`` fails."""
    monkeypatch.setitem(sys.modules, "fluidsynth", None)


@pytest.fixture
def no_midirenderer(monkeypatch):
    """As on a machine without midirenderer: ``import midirenderer`` fails."""
    monkeypatch.setitem(sys.modules, "midirenderer", None)


@pytest.fixture
def bundled_font(monkeypatch) -> Path:
    """pretty_midi's TimGM6mb.sf2 (pretty_midi is a dependency for it), and no $TUNESMITH_SOUNDFONT to override it."""
    monkeypatch.delenv(audio.SOUNDFONT_ENV, raising=False)
    font = audio._bundled_soundfont()
    assert font is not None and font.name == "TimGM6mb.sf2", "the default install ships a General MIDI SoundFont"
    return font


@pytest.fixture
def soundfont(tmp_path) -> Path:
    """A stand-in SoundFont file (the fake FluidSynth never reads it)."""
    path = tmp_path / "fake.sf2"
    path.write_bytes(b"RIFF\0\0\0\0sfbk")
    return path


# ---------------------------------------------------------------------------------------------- built-in
def test_midi_to_hz_by_hand():
    assert np.allclose(midi_to_hz([69, 81, 60]), [440.0, 880.0, 261.6255653])


def test_synthesized_note_has_its_pitch_length_and_silence_after():
    sr = 8000
    n = Notes.from_arrays([69], [0.5], [1.5], velocity=[100])
    y = synthesize(n, sr, release=0.1)
    assert y.dtype == np.float32 and len(y) == int(np.ceil(1.6 * sr)) + 1
    assert np.abs(y).max() <= 0.9 + 1e-6
    assert np.abs(y[: int(0.5 * sr) - 1]).max() == 0  # nothing before the note
    held = y[int(0.6 * sr) : int(1.4 * sr)]
    assert rms(held) > 0.01
    spectrum = np.abs(np.fft.rfft(held))
    assert abs(np.argmax(spectrum) * sr / len(held) - 440.0) < 3.0
    # the release fades the note out: quiet in its last 10 ms, silent at its end
    assert np.abs(y[-int(0.01 * sr) :]).max() < 0.15 * np.abs(held).max() and abs(y[-1]) < 1e-6


def test_louder_velocity_is_louder_before_normalising():
    quiet = Notes.from_arrays([60, 72], [0.0, 1.0], [0.5, 1.5], velocity=[30, 120])
    y = synthesize(quiet, 8000)
    first, second = y[400:3600], y[8400:11600]
    assert np.abs(second).max() > 2 * np.abs(first).max()


def test_write_wav_mono_and_interleaved_stereo(tmp_path):
    path = write_wav(np.zeros(100, dtype=np.float32), tmp_path / "z.wav", 8000)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 8000, 100)
    stereo = np.stack([np.full(50, 0.5), np.linspace(-1, 1, 50)], axis=1)
    sr, frames = read_wav(write_wav(stereo, tmp_path / "s.wav", 11025))
    assert sr == 11025 and frames.shape == (50, 2)
    assert np.allclose(frames, stereo, atol=1 / 16000)  # left stays left, right stays right


def test_builtin_render_length_sound_and_rate(tmp_path, hand_piece):
    from tunesmith.io import read

    notes = read(hand_piece)  # ends at 3.0 s (G4 and A3); the drum is not synthesized
    path, engine = render(notes, tmp_path / "h.wav", 8000, engine="builtin")
    assert engine == "built-in synthesizer"
    sr, frames = read_wav(path)
    assert sr == 8000 and frames.shape == (signal_length(3.0, BUILTIN_RELEASE, 8000), 1)
    assert frames.shape[0] == int(np.ceil(3.15 * 8000)) + 1  # the formula, by hand
    assert rms(frames) > 0.05 and np.abs(frames).max() > 0.8  # normalised to a 0.9 peak
    assert rms(frames[-int(0.01 * sr) :]) < 0.01  # the release has faded out at the end


def test_auto_falls_back_to_builtin_and_says_why(tmp_path, no_midirenderer, no_fluidsynth, monkeypatch):
    monkeypatch.setattr(audio, "_symusic_probe", lambda font, sr: "symusic's synthesizer fails here (TypeError)")
    notes = Notes.from_arrays([60, 64], [0.0, 0.5], [0.5, 1.0])
    path, engine = render(notes, tmp_path / "a.wav", 8000)
    assert engine.startswith("built-in synthesizer (")
    assert "midirenderer is not installed" in engine
    assert "no FluidSynth library found: install libfluidsynth and pyfluidsynth" in engine and "symusic" in engine
    _, frames = read_wav(path)
    assert np.array_equal(frames[:, 0] * 32768, (synthesize(notes, 8000) * 32767).astype(np.int16))


def test_auto_without_any_soundfont_says_so(tmp_path, no_fluidsynth, monkeypatch):
    monkeypatch.delenv(audio.SOUNDFONT_ENV, raising=False)
    monkeypatch.setattr(audio, "_bundled_soundfont", lambda: None)
    monkeypatch.setattr(audio, "SYSTEM_SOUNDFONTS", (str(tmp_path / "none" / "*.sf2"),))
    _, engine = render(Notes.from_arrays([60], [0.0], [0.5]), tmp_path / "a.wav", 8000)
    assert engine.startswith("built-in synthesizer") and "no SoundFont found" in engine
    for name in ("symusic", "midirenderer"):
        with pytest.raises(ConfigError, match=f"'{name}' cannot run here: no SoundFont found"):
            render(Notes.from_arrays([60], [0.0], [0.5]), tmp_path / "b.wav", 8000, engine=name)
    assert not (tmp_path / "b.wav").exists()


# ---------------------------------------------------------------------------------------------- SoundFonts
def test_soundfont_order_argument_env_bundled_system(tmp_path, monkeypatch, soundfont):
    env_font, system_font = tmp_path / "env.sf2", tmp_path / "sys" / "FluidR3_GM.sf2"
    env_font.write_bytes(b"x")
    system_font.parent.mkdir()
    system_font.write_bytes(b"x")
    monkeypatch.setattr(audio, "SYSTEM_SOUNDFONTS", (str(tmp_path / "sys" / "*.sf2"),))
    monkeypatch.setattr(audio, "_bundled_soundfont", lambda: None)
    monkeypatch.setenv(audio.SOUNDFONT_ENV, str(env_font))
    assert find_soundfont(soundfont) == soundfont
    assert find_soundfont() == env_font
    monkeypatch.delenv(audio.SOUNDFONT_ENV)
    assert find_soundfont() == system_font
    monkeypatch.setattr(audio, "_bundled_soundfont", lambda: soundfont)
    assert find_soundfont() == soundfont
    with pytest.raises(ConfigError, match="missing.sf2: SoundFont not found"):
        find_soundfont(tmp_path / "missing.sf2")
    monkeypatch.setenv(audio.SOUNDFONT_ENV, str(tmp_path / "gone.sf2"))
    with pytest.raises(ConfigError, match="TUNESMITH_SOUNDFONT=.*gone.sf2"):
        find_soundfont()


def test_pretty_midis_soundfont_is_found_without_importing_pretty_midi():
    import importlib.util

    if importlib.util.find_spec("pretty_midi") is None:
        pytest.skip("pretty_midi is not installed")
    code = (
        "import sys; from tunesmith.audio import _bundled_soundfont; p = _bundled_soundfont(); "
        "print(p.name, p.stat().st_size > 1_000_000, 'pretty_midi' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["TimGM6mb.sf2", "True", "False"]


# ---------------------------------------------------------------------------------------------- FluidSynth
class FakeSynth:
    """Stands in for pyfluidsynth's ``Synth``: records every call with the sample position it happens at, and
    returns interleaved int16 stereo whose left channel is 1000 per sounding key and right channel its negative."""

    instances: list[FakeSynth] = []

    def __init__(self, gain: float = 0.2, samplerate: float = 44100.0) -> None:
        self.samplerate = samplerate
        self.calls: list[tuple] = []
        self.position = 0
        self.sounding: set[tuple[int, int]] = set()
        FakeSynth.instances.append(self)

    def sfload(self, path: str) -> int:
        self.calls.append(("sfload", path))
        return 1

    def program_select(self, channel: int, sfid: int, bank: int, preset: int) -> int:
        self.calls.append(("program_select", channel, sfid, bank, preset))
        return -1 if bank == 128 and preset != 0 else 0  # this font has only the standard drum kit

    def noteon(self, channel: int, key: int, velocity: int) -> None:
        self.calls.append(("noteon", self.position, channel, key, velocity))
        self.sounding.add((channel, key))

    def noteoff(self, channel: int, key: int) -> None:
        self.calls.append(("noteoff", self.position, channel, key))
        self.sounding.discard((channel, key))

    def get_samples(self, n: int) -> np.ndarray:
        assert isinstance(n, int) and n > 0
        self.position += n
        level = 1000 * len(self.sounding)
        return np.tile(np.array([level, -level], dtype=np.int16), n)

    def delete(self) -> None:
        self.calls.append(("delete",))


@pytest.fixture
def fake_fluidsynth(monkeypatch):
    FakeSynth.instances = []
    module = types.ModuleType("fluidsynth")
    module.Synth = FakeSynth
    monkeypatch.setitem(sys.modules, "fluidsynth", module)
    return FakeSynth


def test_fluidsynth_engine_sends_each_event_at_its_sample(tmp_path, fake_fluidsynth, soundfont):
    sr = 8000
    notes = Notes.from_arrays(
        [60, 57, 60, 36],
        [0.0, 0.25, 0.5, 0.0],
        [0.5, 1.0, 0.75, 0.1],
        velocity=[100, 70, 90, 127],
        program=[0, 40, 0, 25],
        is_drum=[False, False, False, True],
    )
    path, engine = render(notes, tmp_path / "f.wav", sr, soundfont=soundfont, engine="fluidsynth")
    assert engine == "FluidSynth with SoundFont fake.sf2"
    (synth,) = fake_fluidsynth.instances
    assert synth.samplerate == sr
    assert synth.calls[0] == ("sfload", str(soundfont)) and synth.calls[-1] == ("delete",)
    presets = [c[1:] for c in synth.calls if c[0] == "program_select"]
    # piano channel 0, violin channel 1, drums channel 10 (index 9) in bank 128: kit 25 is missing, so kit 0
    assert presets == [(0, 1, 0, 0), (1, 1, 0, 40), (9, 1, 128, 25), (9, 1, 128, 0)]
    events = [c for c in synth.calls if c[0] in ("noteon", "noteoff")]
    assert sorted(events) == sorted(
        [
            ("noteon", 0, 0, 60, 100),
            ("noteon", 0, 9, 36, 127),
            ("noteoff", 800, 9, 36),
            ("noteon", 2000, 1, 57, 70),
            ("noteoff", 4000, 0, 60),
            ("noteon", 4000, 0, 60, 90),
            ("noteoff", 6000, 0, 60),
            ("noteoff", 8000, 1, 57),
        ]
    )
    # the re-struck C4 at 0.5 s: its note-off comes before the new note-on, or the new note would be cut
    restrike = [c for c in events if c[1] == 4000]
    assert restrike == [("noteoff", 4000, 0, 60), ("noteon", 4000, 0, 60, 90)]
    total = signal_length(1.0, SOUNDFONT_TAIL, sr)
    assert synth.position == total
    sr_read, frames = read_wav(path)
    assert sr_read == sr and frames.shape == (total, 2)
    # each sample lands where it was rendered: the fake's level counts the keys held (2 at most, normalised to
    # the 0.9 peak), in order 2 (C4, drum), 1 (C4), 2 (C4, A3), 2 (C4 again, A3), 1 (A3), 0; and L = -R
    assert np.allclose(frames[:, 0], -frames[:, 1], atol=1e-4)
    level = frames[:, 0]
    assert np.allclose(
        level[[0, 799, 800, 1999, 2000, 5999, 6000, 7999, 8000]],
        [0.9, 0.9, 0.45, 0.45, 0.9, 0.9, 0.45, 0.45, 0],
        atol=1e-3,
    )


def test_auto_prefers_fluidsynth_when_it_loads(tmp_path, no_midirenderer, fake_fluidsynth, soundfont, monkeypatch):
    monkeypatch.setenv(audio.SOUNDFONT_ENV, str(soundfont))
    path, engine = render(Notes.from_arrays([60], [0.0], [0.5]), tmp_path / "f.wav", 8000)
    assert engine == "FluidSynth with SoundFont fake.sf2" and len(fake_fluidsynth.instances) == 1
    assert read_wav(path)[1].shape == (signal_length(0.5, SOUNDFONT_TAIL, 8000), 2)


def test_fluidsynth_without_its_library_or_of_the_wrong_kind_is_a_clear_error(
    tmp_path, monkeypatch, soundfont, no_fluidsynth
):
    notes = Notes.from_arrays([60], [0.0], [0.5])
    with pytest.raises(ConfigError, match="'fluidsynth' cannot run here: no FluidSynth library found"):
        render(notes, tmp_path / "a.wav", 8000, soundfont=soundfont, engine="fluidsynth")
    # pyfluidsynth installed but libfluidsynth missing: its import raises ImportError
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "fluidsynth.py").write_text('raise ImportError("Couldn\'t find the FluidSynth library.")\n')
    monkeypatch.delitem(sys.modules, "fluidsynth")
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    with pytest.raises(ConfigError, match="pyfluidsynth found but not the FluidSynth library"):
        render(notes, tmp_path / "a.wav", 8000, soundfont=soundfont, engine="fluidsynth")
    monkeypatch.setitem(sys.modules, "fluidsynth", types.ModuleType("fluidsynth"))  # PyPI's unrelated package
    with pytest.raises(ConfigError, match="not pyfluidsynth"):
        render(notes, tmp_path / "a.wav", 8000, soundfont=soundfont, engine="fluidsynth")
    assert not (tmp_path / "a.wav").exists()


# ---------------------------------------------------------------------------------------------- midirenderer
def spectrum_peak_hz(x: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * sr / len(x))


def centroid_hz(x: np.ndarray, sr: int) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    return float((power * np.fft.rfftfreq(len(x), 1 / sr)).sum() / power.sum())


@pytest.mark.parametrize("sr", [8000, 22050, 48000])
def test_midirenderer_renders_a_held_a4_at_its_pitch_time_and_rate(tmp_path, bundled_font, sr):
    notes = Notes.from_arrays([69], [0.5], [1.5], velocity=[100], program=0)  # A4 on the piano, 0.5 s to 1.5 s
    path, engine = render(notes, tmp_path / "a.wav", sr, engine="midirenderer")
    assert engine == "midirenderer with SoundFont TimGM6mb.sf2"
    sr_read, frames = read_wav(path)
    assert sr_read == sr and frames.shape == (signal_length(1.5, SOUNDFONT_TAIL, sr), 2)
    assert 0.85 < np.abs(frames).max() < 0.91  # normalised to the 0.9 peak
    assert rms(frames[: int(0.45 * sr)]) < 1e-4  # nothing before the note: its time survived the resampling
    held = frames[int(0.6 * sr) : int(1.4 * sr)].mean(axis=1)
    assert rms(held) > 0.05
    assert abs(spectrum_peak_hz(held, sr) - 440.0) < 3.0  # the fundamental, at the requested rate


def test_midirenderer_keeps_the_release_after_the_last_note(tmp_path, bundled_font):
    """midirenderer stops at the last MIDI event; the marker placed SOUNDFONT_TAIL after the notes keeps the
    release: a violin let go at 1.0 s still sounds just after, and has faded by the end."""
    sr = 22050
    y, _ = audio.synthesize_with(Notes.from_arrays([69], [0.0], [1.0], program=40), sr, engine="midirenderer")
    assert y.shape == (signal_length(1.0, SOUNDFONT_TAIL, sr), 2)
    assert rms(y[int(1.02 * sr) : int(1.1 * sr)]) > 0.01
    assert rms(y[-int(0.05 * sr) :]) < 0.01


def test_midirenderer_honours_programs(bundled_font):
    """A held A4 on the piano (program 0) decays; on the violin (program 40) it sustains; the two differ."""
    sr = 22050
    notes = {p: Notes.from_arrays([69], [0.0], [2.0], program=p) for p in (0, 40)}
    y = {p: audio.synthesize_with(n, sr, engine="midirenderer")[0][:, 0] for p, n in notes.items()}
    early, late = slice(int(0.1 * sr), int(0.4 * sr)), slice(int(1.6 * sr), int(1.9 * sr))
    assert rms(y[0][late]) < 0.2 * rms(y[0][early])  # the piano has died away before the key is let go
    assert rms(y[40][late]) > 0.6 * rms(y[40][early])  # the bowed violin has not
    assert abs(np.corrcoef(y[0], y[40])[0, 1]) < 0.5
    assert abs(spectrum_peak_hz(y[40][int(0.2 * sr) : int(1.8 * sr)], sr) - 440.0) < 3.0


def test_midirenderer_plays_drums_as_drums(bundled_font):
    """Key 42 on channel 10 is the closed hi-hat (noise, mostly above 3 kHz); the same key as a pitched note is an
    F#2 (92.5 Hz). A drum note sharing its track and program with an earlier piano note stays a drum."""
    sr = 22050
    hat = Notes.from_arrays([69, 42], [0.0, 1.0], [0.3, 1.2], is_drum=[False, True], program=0, track=0)
    pitched = Notes.from_arrays([69, 42], [0.0, 1.0], [0.3, 1.2], is_drum=False, program=0, track=0)
    second = slice(int(1.0 * sr), int(1.2 * sr))
    y_hat = audio.synthesize_with(hat, sr, engine="midirenderer")[0][second, 0]
    y_pitched = audio.synthesize_with(pitched, sr, engine="midirenderer")[0][second, 0]
    assert rms(y_hat) > 0.01 and rms(y_pitched) > 0.01
    assert centroid_hz(y_hat, sr) > 3000 > 1000 > centroid_hz(y_pitched, sr)


def test_auto_picks_midirenderer_when_installed(tmp_path, bundled_font, fake_fluidsynth):
    """First, even where FluidSynth would load."""
    notes = Notes.from_arrays([60, 64, 67], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    path, engine = render(notes, tmp_path / "a.wav", 22050)
    assert engine == "midirenderer with SoundFont TimGM6mb.sf2" and not fake_fluidsynth.instances
    assert read_wav(path)[1].shape == (signal_length(1.0, SOUNDFONT_TAIL, 22050), 2)


def test_midirenderer_failure_is_an_error_by_name_and_a_fallback_for_auto(tmp_path, soundfont, no_fluidsynth):
    """A file midirenderer cannot read (the stand-in font is no SoundFont): named, the engine fails with its
    reason; under auto the next engine renders and the reason is given."""
    notes = Notes.from_arrays([60], [0.0], [0.5])
    with pytest.raises(ConfigError, match=r"'midirenderer' cannot run here: midirenderer failed with fake.sf2 \("):
        render(notes, tmp_path / "a.wav", 8000, soundfont=soundfont, engine="midirenderer")
    assert not (tmp_path / "a.wav").exists()
    path, engine = render(notes, tmp_path / "a.wav", 8000, soundfont=soundfont)
    assert engine.startswith("built-in synthesizer (") and "midirenderer failed with fake.sf2" in engine
    assert read_wav(path)[1].shape == (signal_length(0.5, BUILTIN_RELEASE, 8000), 1)


def test_auto_falls_back_to_fluidsynth_without_midirenderer(tmp_path, bundled_font, no_midirenderer, fake_fluidsynth):
    notes = Notes.from_arrays([60], [0.0], [0.5])
    with pytest.raises(ConfigError, match="'midirenderer' cannot run here: midirenderer is not installed"):
        render(notes, tmp_path / "a.wav", 8000, engine="midirenderer")
    _, engine = render(notes, tmp_path / "a.wav", 8000)
    assert engine == "FluidSynth with SoundFont TimGM6mb.sf2" and len(fake_fluidsynth.instances) == 1


# ---------------------------------------------------------------------------------------------- symusic
def test_symusic_engine_renders_or_says_why_not(tmp_path):
    """symusic 0.6.0's render fails with NumPy 2.4 (see audio._symusic_probe); where it works, the WAV must be
    right. Either way the outcome is checked."""
    font = find_soundfont()
    if font is None:
        pytest.skip("no SoundFont on this machine (pretty_midi ships one)")
    notes = Notes.from_arrays([60, 67], [0.0, 0.5], [0.5, 1.0], velocity=[100, 100])
    try:
        path, engine = render(notes, tmp_path / "s.wav", 22050, soundfont=font, engine="symusic")
    except ConfigError as e:
        assert "'symusic' cannot run here: symusic's synthesizer fail" in str(e)
        assert not (tmp_path / "s.wav").exists()
        return
    assert engine == f"symusic's synthesizer with SoundFont {font.name}"
    sr, frames = read_wav(path)
    assert sr == 22050 and frames.shape == (signal_length(1.0, SOUNDFONT_TAIL, 22050), 2)
    assert rms(frames[:22050]) > 0.01


# ---------------------------------------------------------------------------------------------- errors and CLI
def test_render_rejects_unknown_engine_and_bad_rate(tmp_path):
    notes = Notes.from_arrays([60], [0.0], [0.5])
    with pytest.raises(ConfigError, match="unknown synthesis engine 'timidity'"):
        render(notes, tmp_path / "a.wav", engine="timidity")
    with pytest.raises(ConfigError, match="sample rate"):
        render(notes, tmp_path / "a.wav", 0, engine="builtin")
    assert not (tmp_path / "a.wav").exists()


def test_cli_render(tmp_path, hand_piece, capsys, no_fluidsynth, bundled_font):
    out = tmp_path / "h.wav"
    assert main(["render", str(hand_piece), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"{out}: rendered with midirenderer with SoundFont TimGM6mb.sf2"
    sr, frames = read_wav(out)
    assert sr == 22050 and frames.shape == (signal_length(3.0, SOUNDFONT_TAIL, 22050), 2) and rms(frames) > 0.05
    assert main(["render", str(hand_piece), "--out", str(out), "--sample-rate", "8000", "--engine", "builtin"]) == 0
    assert capsys.readouterr().out.strip() == f"{out}: rendered with built-in synthesizer"
    sr, frames = read_wav(out)
    assert sr == 8000 and len(frames) == signal_length(3.0, BUILTIN_RELEASE, 8000) and rms(frames) > 0.05

    assert main(["render", str(hand_piece), "--out", str(tmp_path / "f.wav"), "--engine", "fluidsynth"]) == 1
    assert "no FluidSynth library found" in capsys.readouterr().err and not (tmp_path / "f.wav").exists()
    args = ["render", str(hand_piece), "--out", str(tmp_path / "s.wav"), "--soundfont", str(tmp_path / "no.sf2")]
    assert main(args) == 1
    assert "no.sf2: SoundFont not found" in capsys.readouterr().err
    assert main(["render", str(tmp_path / "missing.mid"), "--out", str(tmp_path / "m.wav")]) == 1
    assert "missing.mid" in capsys.readouterr().err and not (tmp_path / "m.wav").exists()
    with pytest.raises(SystemExit) as e:
        main(["render", str(hand_piece), "--out", str(tmp_path / "x.wav"), "--engine", "timidity"])
    assert e.value.code == 2


def test_real_fluidsynth_where_installed(tmp_path):
    """Runs only where pyfluidsynth and the FluidSynth library are both installed (e.g. pip install
    'tunesmith[soundfont]' and Debian's libfluidsynth3), with a SoundFont."""
    pytest.importorskip("fluidsynth", reason="pyfluidsynth or the FluidSynth library is not installed")
    font = find_soundfont()
    if font is None:
        pytest.skip("no SoundFont on this machine")
    notes = Notes.from_arrays([60, 67], [0.0, 0.5], [0.5, 1.0], velocity=[100, 100])
    path, engine = render(notes, tmp_path / "f.wav", 22050, soundfont=font, engine="fluidsynth")
    assert engine == f"FluidSynth with SoundFont {font.name}"
    sr, frames = read_wav(path)
    assert sr == 22050 and frames.shape == (signal_length(1.0, SOUNDFONT_TAIL, 22050), 2)
    assert rms(frames[:22050]) > 0.01 and rms(frames[: int(0.5 * sr)]) > 10 * rms(frames[-int(0.1 * sr) :])
