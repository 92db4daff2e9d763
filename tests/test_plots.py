"""Plots: piano rolls (seconds and bars), training curves, a dataset's distributions, sets compared, and the
``tunesmith plot`` dispatch. Each figure is read back as an image."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tunesmith.cli import main
from tunesmith.errors import ConfigError, DatasetError, TunesmithError
from tunesmith.notes import Notes, make_time_signatures
from tunesmith.plots import (
    note_features,
    pitch_name,
    plot_dataset,
    plot_distributions,
    plot_pianoroll,
    plot_runs,
    qn_to_bars,
    read_metrics,
)
from tunesmith.runfiles import METRICS

from .conftest import synthetic_dataset


def read_png(path: Path, min_size: tuple[int, int] = (200, 300)) -> np.ndarray:
    """The image, checked to be a PNG of at least ``min_size`` (height, width) pixels with something drawn."""
    import matplotlib.image

    path = Path(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(path)
    assert img.ndim == 3 and img.shape[2] in (3, 4)
    assert img.shape[0] >= min_size[0] and img.shape[1] >= min_size[1]
    assert img[..., :3].std() > 0.05  # not a blank canvas
    return img


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """12 small pieces; p05 in validation, p02 and p08 in test, the rest in train."""
    return synthetic_dataset(tmp_path_factory.mktemp("plots"), steps=[0.0, 0.25, 0.5], durations=[0.25, 0.5, 1.0])


# ---------------------------------------------------------------------------------------------- piano roll
def test_pitch_names():
    assert [pitch_name(p) for p in (60, 21, 108, 61)] == ["C4", "A0", "C8", "C#4"]


def test_qn_to_bars_follows_time_signature_changes():
    # 3/4 for two bars (6 quarters), 4/4 for two bars (8 quarters), then 6/8 (bars of 3 quarters)
    ts = make_time_signatures([0.0, 6.0, 14.0], [3, 4, 6], [4, 4, 8])
    qn = [0.0, 3.0, 4.5, 6.0, 10.0, 14.0, 17.0, 18.5]
    assert np.allclose(qn_to_bars(qn, ts), [0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 5.5])
    # no signature at 0: 4/4 until the first one
    assert np.allclose(qn_to_bars([0.0, 4.0, 6.0], make_time_signatures([4.0], [2], [4])), [0.0, 1.0, 2.0])
    assert np.allclose(qn_to_bars([8.0], make_time_signatures([], [], [])), [2.0])


def test_piano_roll_in_seconds_and_bars(tmp_path, hand_piece):
    from tunesmith.io import read

    notes = read(hand_piece)
    read_png(plot_pianoroll(notes, tmp_path / "s.png"))
    read_png(plot_pianoroll(notes, tmp_path / "b.png", unit="bars", title="hand"))
    assert plot_pianoroll(Notes.empty(), tmp_path / "e.png", unit="bars").stat().st_size > 0
    with pytest.raises(ConfigError, match="time unit"):
        plot_pianoroll(notes, tmp_path / "x.png", unit="beats")
    assert not (tmp_path / "x.png").exists()


# ---------------------------------------------------------------------------------------------- training curves
def _fake_run(path: Path, gen_scale: float, *, train_lines: bool = True) -> Path:
    path.mkdir()
    lines = [{"kind": "train", "epoch": 0, "step": 5, "train/loss": 1.2, "train/d_loss": 0.7}] if train_lines else []
    for e in range(1, 4):
        if train_lines:
            lines.append({"kind": "train", "epoch": e - 1, "step": 10 * e - 2, "train/loss": 1.1 / e})
        lines.append({"kind": "val", "epoch": e - 1, "step": 10 * e - 5, "val/loss": 1.2 / e})
        lines.append(
            {
                "kind": "epoch",
                "epoch": e,
                "step": 10 * e,
                "train/loss": 1.0 / e,
                "val/loss": 1.1 / e,
                "train/d_loss": 0.69,
                "gen/tone_span": gen_scale * e,
                "real/tone_span": 30.0,
                "gen/polyphony": 0.1 * e,
            }
        )
    (path / METRICS).write_text("".join(json.dumps(r) + "\n" for r in lines))
    return path


def test_run_file_names_need_no_torch():
    """plots and the run-folder names are one definition (tunesmith.runfiles) that loads without torch."""
    import subprocess
    import sys

    code = "import sys, tunesmith.runfiles, tunesmith.plots; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_read_metrics_by_kind(tmp_path):
    run = _fake_run(tmp_path / "a", 5.0)
    assert [r["epoch"] for r in read_metrics(run)] == [1, 2, 3]  # epoch lines only, by default
    assert [r["step"] for r in read_metrics(run, kinds=("train",))] == [5, 8, 18, 28]
    assert len(read_metrics(run, kinds=("train", "val", "epoch"))) == 10
    (run / METRICS).write_text('{"kind": "epoch"}\nnot json\n')
    with pytest.raises(TunesmithError, match="line 2 is not JSON"):
        read_metrics(run)


def test_plot_runs_draws_losses_and_statistics(tmp_path):
    a, b = _fake_run(tmp_path / "a", 5.0), _fake_run(tmp_path / "b", 8.0, train_lines=False)
    read_png(plot_runs([a, b], tmp_path / "fig3.png"), min_size=(500, 900))  # 2 losses + 2 statistics: 2 x 3
    read_png(plot_runs([a], tmp_path / "loss.png", stats=["loss"]))
    with pytest.raises(ConfigError, match="pitch_span: not logged"):
        plot_runs([a], tmp_path / "x.png", stats=["pitch_span"])
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / METRICS).write_text("")
    with pytest.raises(TunesmithError, match="no records yet"):
        plot_runs([tmp_path / "new"], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def _log(run: Path, records: list[dict]) -> Path:
    run.mkdir(parents=True)
    (run / METRICS).write_text("".join(json.dumps(r) + "\n" for r in records))
    return run


def test_losses_of_different_scales_get_their_own_panels(tmp_path):
    """An RNN's loss near 6.7 and two GANs' near 0.7: two panels, not one axis; the grouping by hand."""
    from tunesmith.plots import _scale_groups, read_metrics

    def losses(run, values):
        return _log(tmp_path / run, [{"kind": "train", "step": i + 1, "train/loss": v} for i, v in enumerate(values)])

    rnn, gan, crnngan = losses("rnn", [7.0, 6.7, 6.5]), losses("gan", [0.8, 0.7]), losses("crnngan", [-0.6, -0.9])
    runs = [rnn, gan, crnngan]
    logs = {r: read_metrics(r, kinds=("train", "val", "epoch")) for r in runs}
    assert _scale_groups(runs, logs, "loss") == [[gan, crnngan], [rnn]]  # medians 0.7 and 0.75 against 6.7
    assert _scale_groups([gan, crnngan], logs, "loss") == [[gan, crnngan]]
    one = read_png(plot_runs([gan], tmp_path / "one.png"))
    both = read_png(plot_runs(runs, tmp_path / "split.png"))
    assert both.shape[1] > one.shape[1]  # two panels side by side


def test_a_series_of_one_point_is_drawn(tmp_path):
    """A GAN that logged its G loss once: the point shows (a line through one point draws nothing)."""
    from tunesmith.plots import _marker

    assert _marker([5]) == "o" and _marker([1, 2]) == "o" and _marker(list(range(10))) is None
    run = _log(tmp_path / "gan", [{"kind": "train", "step": 4, "train/g_loss": -3.0}])
    img = read_png(plot_runs([run], tmp_path / "g.png", stats=["g_loss"]))
    blue = (img[..., 2] > 0.6) & (img[..., 0] < 0.3)  # matplotlib's first colour, #1f77b4
    assert blue.sum() > 150  # the point (about 120 pixels) beside the legend's line (about 90)


# ---------------------------------------------------------------------------------------------- distributions
def test_note_features_by_hand():
    a = Notes.from_arrays(
        [64, 60, 67, 72, 36],
        [0.5, 0.0, 0.0, 1.25, 0.0],  # not in onset order; a chord at 0
        [1.0, 0.5, 1.0, 1.5, 0.1],
        velocity=[90, 80, 70, 60, 127],
        is_drum=[False, False, False, False, True],
    )
    b = Notes.from_arrays([50, 55], [3.0, 4.0], [3.5, 6.0])
    f = note_features([a, b, Notes.empty()])
    assert f["pitch"].tolist() == [64, 60, 67, 72, 50, 55]  # the drum left out
    assert f["velocity"].tolist() == [90, 80, 70, 60, 80, 80]
    assert np.allclose(f["duration"], [0.5, 0.5, 1.0, 0.25, 0.5, 2.0])
    assert np.allclose(f["step"], [0.0, 0.5, 0.75, 1.0])  # within each piece only: none from a to b
    assert f["low"].tolist() == [60, 50] and f["high"].tolist() == [72, 55]
    assert np.allclose(f["seconds"], [1.5, 6.0])


def test_plot_distributions_overlays_named_sets(tmp_path, dataset):
    from tunesmith.dataset import Dataset

    ds = Dataset.load(dataset)
    sets = {
        "test": list(ds.pieces("test")),
        "train": list(ds.pieces("train")),
        "silent": [Notes.empty()],
    }
    read_png(plot_distributions(sets, tmp_path / "d.png", reference="test"), min_size=(500, 800))
    read_png(plot_distributions({"train": sets["train"]}, tmp_path / "one.png"))
    with pytest.raises(ConfigError, match="reference 'real' is not one of"):
        plot_distributions(sets, tmp_path / "x.png", reference="real")
    with pytest.raises(ConfigError, match="no pitched notes"):
        plot_distributions({"silent": [Notes.empty()]}, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_plot_dataset_and_its_splits(tmp_path, dataset):
    read_png(plot_dataset(dataset, tmp_path / "all.png"), min_size=(600, 1200))
    read_png(plot_dataset(dataset, tmp_path / "test.png", split="test"), min_size=(600, 1200))
    with pytest.raises(ConfigError, match="unknown split 'dev'"):
        plot_dataset(dataset, tmp_path / "x.png", split="dev")
    (tmp_path / "two").mkdir()
    two = synthetic_dataset(tmp_path / "two", steps=[0.5], durations=[0.5], n_pieces=2, n_notes=5)  # both train
    with pytest.raises(DatasetError, match="the validation split has no pieces"):
        plot_dataset(two, tmp_path / "x.png", split="validation")
    assert not (tmp_path / "x.png").exists()


# ---------------------------------------------------------------------------------------------- CLI
def test_cli_plot_dispatches_on_what_it_is_given(tmp_path, hand_piece, dataset, capsys):
    def plot(*args: str) -> int:
        return main(["plot", *map(str, args)])

    assert plot(hand_piece, "--out", tmp_path / "roll.png") == 0
    assert plot(hand_piece, "--out", tmp_path / "bars.png", "--time", "bars") == 0
    assert plot(hand_piece, "--out", tmp_path / "unit.png", "--unit", "bars") == 0  # the older spelling
    assert plot(dataset, "--out", tmp_path / "ds.png", "--split", "train") == 0
    a, b = _fake_run(tmp_path / "a", 5.0), _fake_run(tmp_path / "b", 8.0)
    assert plot(a, "--out", tmp_path / "run.png") == 0
    assert plot(a, b, "--out", tmp_path / "runs.png", "--stats", "tone_span,polyphony") == 0
    out = capsys.readouterr().out.split()
    assert out == [str(tmp_path / n) for n in ("roll.png", "bars.png", "unit.png", "ds.png", "run.png", "runs.png")]
    for name in out:
        read_png(Path(name))
    # the piano roll in bars differs from the one in seconds; --unit and --time draw the same
    assert not np.array_equal(read_png(tmp_path / "roll.png"), read_png(tmp_path / "bars.png"))

    (tmp_path / "empty").mkdir()
    assert plot(tmp_path / "empty", "--out", tmp_path / "x.png") == 1
    assert "neither a run folder" in capsys.readouterr().err
    assert plot(a, dataset, "--out", tmp_path / "x.png") == 1
    assert "not a run folder" in capsys.readouterr().err
    assert plot(tmp_path / "nowhere.mid", "--out", tmp_path / "x.png") == 1
    assert "nowhere.mid: no such file or folder" in capsys.readouterr().err
    assert plot(hand_piece, a, "--out", tmp_path / "x.png") == 1
    assert plot(a, "--stats", "nothing", "--out", tmp_path / "x.png") == 1
    assert not (tmp_path / "x.png").exists()


def test_wav_and_png_beside_generated_midi(tmp_path, hand_piece, monkeypatch, capsys):
    """What ``generate --wav --png`` does for each MIDI file it writes."""
    import sys

    from tunesmith.jobs.generate import companions

    # the same engine on every machine: midirenderer with pretty_midi's SoundFont, both installed by default
    monkeypatch.delenv("TUNESMITH_SOUNDFONT", raising=False)
    monkeypatch.setitem(sys.modules, "fluidsynth", None)
    (wav, engine), png = companions(hand_piece, wav=True, png=True)
    assert (wav, png) == (hand_piece.with_suffix(".wav"), hand_piece.with_suffix(".png"))
    assert companions(hand_piece, wav=False, png=False) == (None, None)
    import wave

    with wave.open(str(wav)) as w:
        assert w.getnframes() > 3 * w.getframerate()
    read_png(png)
    assert engine == "midirenderer with SoundFont TimGM6mb.sf2"


def test_a_run_selected_by_statistics_gets_a_score_panel(tmp_path):
    from tunesmith.plots import _loss_names

    run = tmp_path / "gan"
    run.mkdir()
    lines = [
        {"kind": "train", "epoch": 0, "step": 5, "train/d_loss": 1.0, "train/g_loss": 2.0},
        {"kind": "epoch", "epoch": 1, "step": 10, "val/score": 0.8, "val/mse": 0.8, "best": True},
        {"kind": "epoch", "epoch": 2, "step": 20, "val/score": 0.5, "val/mse": 0.5, "best": True},
        {"kind": "epoch", "epoch": 3, "step": 30, "val/score": 0.9, "val/mse": 0.9, "best": False},
    ]
    (run / METRICS).write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert _loss_names(read_metrics(run, kinds=("train", "val", "epoch"))) == ["d_loss", "g_loss", "score"]
    read_png(plot_runs([run], tmp_path / "curves.png"))
