from __future__ import annotations

import wave

import numpy as np

from tunesmith.audio import midi_to_hz, synthesize, write_wav
from tunesmith.cli import main
from tunesmith.notes import Notes
from tunesmith.plots import pitch_name, plot_pianoroll


def test_midi_to_hz_by_hand():
    assert np.allclose(midi_to_hz([69, 81, 60]), [440.0, 880.0, 261.6255653])


def test_pitch_names():
    assert [pitch_name(p) for p in (60, 21, 108, 61)] == ["C4", "A0", "C8", "C#4"]


def test_synthesized_note_has_its_pitch_length_and_silence_after():
    sr = 8000
    n = Notes.from_arrays([69], [0.5], [1.5], velocity=[100])
    y = synthesize(n, sr, release=0.1)
    assert y.dtype == np.float32 and len(y) == int(np.ceil(1.6 * sr)) + 1
    assert np.abs(y).max() <= 0.9 + 1e-6
    assert np.abs(y[: int(0.5 * sr) - 1]).max() == 0  # nothing before the note
    held = y[int(0.6 * sr) : int(1.4 * sr)]
    assert np.sqrt(np.mean(held**2)) > 0.01
    spectrum = np.abs(np.fft.rfft(held))
    assert abs(np.argmax(spectrum) * sr / len(held) - 440.0) < 3.0
    # the release fades the note out: quiet in its last 10 ms, silent at its end
    assert np.abs(y[-int(0.01 * sr) :]).max() < 0.15 * np.abs(held).max() and abs(y[-1]) < 1e-6


def test_louder_velocity_is_louder_before_normalising():
    quiet = Notes.from_arrays([60, 72], [0.0, 1.0], [0.5, 1.5], velocity=[30, 120])
    y = synthesize(quiet, 8000)
    first, second = y[400:3600], y[8400:11600]
    assert np.abs(second).max() > 2 * np.abs(first).max()


def test_write_wav_and_cli_render_and_plot(tmp_path, hand_piece):
    path = write_wav(np.zeros(100, dtype=np.float32), tmp_path / "z.wav", 8000)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 8000, 100)
    assert main(["render", str(hand_piece), "--out", str(tmp_path / "h.wav"), "--sample-rate", "8000"]) == 0
    with wave.open(str(tmp_path / "h.wav")) as w:
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        assert w.getframerate() == 8000 and len(frames) == int(np.ceil((3.0 + 0.15) * 8000)) + 1
        assert np.abs(frames).max() > 10000  # sound in it
    assert main(["plot", str(hand_piece), "--out", str(tmp_path / "h.png")]) == 0
    png = (tmp_path / "h.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert plot_pianoroll(Notes.empty(), tmp_path / "e.png", unit="bars").is_file()


def _fake_run(path, gen_scale):
    import json

    path.mkdir()
    lines = [{"kind": "train", "step": 5, "train/loss": 1.0}]
    for e in range(1, 4):
        lines.append(
            {
                "kind": "epoch",
                "epoch": e,
                "step": 10 * e,
                "train/loss": 1.0 / e,
                "val/loss": 1.1 / e,
                "gen/tone_span": gen_scale * e,
                "real/tone_span": 30.0,
                "gen/polyphony": 0.1 * e,
            }
        )
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return path


def test_plot_runs_draws_statistics_of_several_runs(tmp_path):
    from tunesmith.plots import read_metrics

    a, b = _fake_run(tmp_path / "a", 5.0), _fake_run(tmp_path / "b", 8.0)
    assert [r["epoch"] for r in read_metrics(a)] == [1, 2, 3]  # epoch lines only
    assert main(["plot", str(a), str(b), "--out", str(tmp_path / "fig3.png")]) == 0
    assert (tmp_path / "fig3.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["plot", str(a), "--stats", "loss", "--out", str(tmp_path / "loss.png")]) == 0
    (tmp_path / "empty").mkdir()
    assert main(["plot", str(tmp_path / "empty"), "--out", str(tmp_path / "x.png")]) == 1
    assert not (tmp_path / "x.png").exists()
