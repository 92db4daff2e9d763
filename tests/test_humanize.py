"""Drums on the 16th grid and the humanizer: the grid and the programmed part computed by hand, the training
windows, humanize's arithmetic against the model's own predictions, --amount 0 as the identity, a tiny model
trained end to end, and the command's errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tunesmith.cli import main
from tunesmith.dataset import prepare
from tunesmith.io import read_midi, write_midi
from tunesmith.notes import Notes, make_tempo_map, make_time_signatures
from tunesmith.representations.drums import CLASS_INDEX, drum_cells, drum_grid, quantized

from .test_groove import HEADER


def part(ts=None) -> Notes:
    """By hand: a kick on 1, a snare rim (40: the snare class) 0.08 of a 16th late on the 2nd 16th, two closed
    hi-hat pads (42 and 44: one class) in one cell, 64 and 90 loud, a cowbell (56: no class) and a piano note."""
    start_qn = np.array([0.0, 0.27, 0.49, 0.51, 1.0, 1.0])
    return Notes.from_arrays(
        [36, 40, 42, 44, 56, 60],
        start_qn=start_qn,
        end_qn=start_qn + 0.1,
        velocity=[100, 70, 64, 90, 50, 80],
        is_drum=[True, True, True, True, True, False],
        tempos=make_tempo_map([0.0], [100.0]),
        time_signatures=ts if ts is not None else make_time_signatures(),
    )


def test_cells_and_grid_by_hand():
    p = part()
    c = drum_cells(p)
    assert c.index.tolist() == [0, 1, 2, 3]  # the cowbell and the piano have no cell
    assert c.step.tolist() == [0, 1, 2, 2]
    assert c.cls.tolist() == [CLASS_INDEX[36], CLASS_INDEX[38], CLASS_INDEX[42], CLASS_INDEX[42]]
    assert np.allclose(c.offset, [0.0, 0.08, -0.04, 0.04])
    g = drum_grid(p)
    assert g.hits.shape == (3, 9) and g.hits.sum() == 3
    hh = CLASS_INDEX[42]
    assert g.velocity[2, hh] == pytest.approx(90 / 127) and g.offset[2, hh] == pytest.approx(0.04)  # the louder
    assert g.position.tolist() == [0, 1, 2] and np.allclose(g.qpm, 100.0)


def test_positions_follow_the_time_signature():
    p = part(make_time_signatures([0.0], [3], [4]))
    late = Notes.from_arrays([36], start_qn=[3.0], end_qn=[3.1], is_drum=True, time_signatures=p.time_signatures)
    g = drum_grid(Notes.concatenate([p, late]))
    assert g.position[12] == 0 and g.position[11] == 11  # a 3/4 bar is 12 sixteenths


def test_quantized_by_hand():
    q = quantized(part(), 77)
    a = q.notes
    drums = a[np.isin(a["pitch"], [36, 40, 42, 44])]
    assert sorted(drums["start_qn"].tolist()) == [0.0, 0.25, 0.5, 0.5]
    assert set(drums["velocity"].tolist()) == {77}
    assert np.allclose(drums["end_qn"] - drums["start_qn"], 0.1)  # lengths kept
    other = a[np.isin(a["pitch"], [56, 60])]
    assert other["start_qn"].tolist() == [1.0, 1.0] and sorted(other["velocity"].tolist()) == [50, 80]


def test_windows_are_cut_half_a_window_apart_and_padded():
    from tunesmith.families.humanizer.task import Windows

    g = drum_grid(
        quantized(
            Notes.from_arrays(
                [36] * 40, start_qn=np.arange(40) * 0.25, end_qn=np.arange(40) * 0.25 + 0.1, is_drum=True
            ),
            90,
        )
    )
    w = Windows.build([g], 16)
    assert len(w) == 4 and w.hits.shape == (4, 16, 9)  # starts 0, 8, 16, 24; the last padded past step 39
    assert w.hits[3, :, CLASS_INDEX[36]].tolist() == [True] * 16 and w.hits[3].sum() == 16
    assert w.position[1, 0] == 8 and np.allclose(w.qpm, 120.0)
    short = Windows.build([g], 64)
    assert len(short) == 1 and short.hits[0, 40:].sum() == 0 and short.qpm[0, -1] == pytest.approx(120.0)


def groove_dataset(tmp) -> tuple:
    """A hand-made folder laid out as the Groove MIDI Dataset (6 train, 1 validation, 1 test performance of 16
    bars at 100 qpm, kick and hi-hat, played off the grid at random velocities), prepared; (dataset, folder)."""
    root = tmp / "groove"
    rng = np.random.default_rng(0)
    lines = [HEADER]
    for k, split in enumerate(["train"] * 6 + ["validation", "test"]):
        n = 64
        start = np.arange(n) * 0.25 + rng.normal(0, 0.02, n).clip(-0.1, 0.1)
        start[0] = 0.0
        pitches = np.where(np.arange(n) % 4 == 0, 36, 42)
        notes = Notes.from_arrays(
            pitches,
            start_qn=start,
            end_qn=start + 0.1,
            velocity=rng.integers(40, 120, n),
            is_drum=True,
            tempos=make_tempo_map([0.0], [100.0]),
        )
        name = f"drummer1/session1/{k}_rock_100_beat_4-4.mid"
        write_midi(notes, root / name)
        lines.append(f"drummer1,drummer1/session1,drummer1/session1/{k},rock,100,beat,4-4,{name},x.wav,9.6,{split}\n")
    (root / "info.csv").write_text("".join(lines))
    return prepare(root, tmp / "data", workers=1, progress=False).root, root


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A tiny humanizer trained on :func:`groove_dataset`."""
    tmp = tmp_path_factory.mktemp("hz")
    data, root = groove_dataset(tmp)
    run = tmp / "run"
    argv = ["train", "humanizer", "--data", str(data), "--out", str(run), "--preset", "tiny", "--max-steps", "12"]
    assert main([*argv, "-q"]) == 0
    return run, root


def test_humanize_moves_each_hit_as_the_model_predicts(tiny_run):
    from tunesmith.families.humanizer.family import predict
    from tunesmith.jobs.runs import load_run

    run, root = tiny_run
    _, fam, model = load_run(run)
    p = part()
    g = drum_grid(p)
    velocity, offset = predict(model, g.hits, g.position, g.qpm, torch.device("cpu"))
    assert velocity.shape == offset.shape == (3, 9) and np.all(np.abs(offset) <= 0.5)
    for amount in (1.0, 0.5):
        out = fam.humanize(model, p, amount, torch.device("cpu")).notes
        for pitch, step, cls, off0, vel0 in ((36, 0, 36, 0.0, 100), (40, 1, 38, 0.08, 70), (44, 2, 42, 0.04, 90)):
            k = CLASS_INDEX[cls]
            (row,) = out[out["pitch"] == pitch]
            want = max((step + off0 + amount * (offset[step, k] - off0)) / 4, 0.0)
            assert row["start_qn"] == pytest.approx(want, abs=1e-6)  # float32 predictions
            assert row["end_qn"] - row["start_qn"] == pytest.approx(0.1)
            assert row["velocity"] == np.clip(np.rint(vel0 + amount * (velocity[step, k] * 127 - vel0)), 1, 127)
            assert row["start"] == pytest.approx(row["start_qn"] * 0.6)  # seconds from the tempo map (100 qpm)
        untouched = out[np.isin(out["pitch"], [56, 60])]
        assert untouched["start_qn"].tolist() == [1.0, 1.0] and sorted(untouched["velocity"].tolist()) == [50, 80]


def test_amount_zero_is_the_identity_and_the_command_writes_a_file(tiny_run, tmp_path, capsys):
    run, root = tiny_run
    src = root / "drummer1/session1/7_rock_100_beat_4-4.mid"
    assert main(["humanize", str(src), "--run", str(run), "--amount", "0", "--out", str(tmp_path)]) == 0
    written = tmp_path / "7_rock_100_beat_4-4_humanized.mid"
    assert capsys.readouterr().out.strip() == str(written)
    a, b = read_midi(src).notes, read_midi(written).notes
    assert np.array_equal(a[["pitch", "velocity", "is_drum"]], b[["pitch", "velocity", "is_drum"]])
    assert np.allclose(a["start_qn"], b["start_qn"]) and np.allclose(a["end_qn"], b["end_qn"])
    assert main(["humanize", str(src), "--run", str(run), "--out", str(tmp_path / "played")]) == 0
    moved = read_midi(tmp_path / "played" / written.name).notes
    assert len(moved) == len(a) and not np.allclose(np.sort(moved["start_qn"]), np.sort(a["start_qn"]))


def test_errors_are_one_line(tiny_run, tmp_path, capsys):
    run, _ = tiny_run
    piano = write_midi(Notes.from_arrays([60, 64], start_qn=[0.0, 1.0], end_qn=[1.0, 2.0]), tmp_path / "piano.mid")
    assert main(["humanize", str(piano), "--run", str(run), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "piano.mid: no drum notes to humanize" in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        main(["humanize", str(piano), "--amount", "-1"])
    assert "expected a number >= 0" in capsys.readouterr().err
    assert (
        main(
            [
                "humanize",
                str(run.parent / "groove/drummer1/session1/7_rock_100_beat_4-4.mid"),
                "--run",
                "piano",
                "--out",
                str(tmp_path),
            ]
        )
        == 1
    )
    assert "cannot humanize drums" in capsys.readouterr().err


def test_measure_counts_each_hit_against_the_drummer(tiny_run, tmp_path):
    """The benchmark's protocol: the programmed part's timing error is each hit's own distance from the grid (150 ms
    a 16th at 100 qpm, by hand), its velocity error the distance from the train split's mean; every way scores
    every hit; the model's errors are those of the file ``humanize`` writes."""
    from tunesmith.dataset import Dataset
    from tunesmith.jobs.humanize import WAYS, measure, summary

    run, _ = tiny_run
    data = run.parent / "data"
    r = measure(run, data, "test")
    ds = Dataset.load(data)
    (test,) = ds.indices("test")
    piece = ds[int(test)]
    c = drum_cells(piece)
    train_vel = np.concatenate([ds[int(i)].notes["velocity"] for i in ds.indices("train")]).astype(float)
    assert r["pieces"] == 1 and r["hits"] == len(piece) == 64 and r["programmed_velocity"] == round(train_vel.mean())
    assert np.allclose(r["timing_ms"]["quantized"], np.abs(c.offset) * 150.0)
    assert np.allclose(
        r["velocity"]["quantized"], np.abs(piece.notes["velocity"].astype(int) - round(train_vel.mean()))
    )
    assert all(r["timing_ms"][w].shape == (64,) for w in WAYS)
    from tunesmith.jobs.runs import load_run

    _, fam, model = load_run(run)
    played = fam.humanize(model, quantized(piece, r["programmed_velocity"]), 1.0, torch.device("cpu")).notes
    assert np.allclose(r["timing_ms"]["model"], np.abs(played["start"] - piece.notes["start"]) * 1000, atol=1e-6)
    assert np.allclose(r["velocity"]["model"], np.abs(played["velocity"].astype(int) - piece.notes["velocity"]))
    assert summary(r)["quantized"]["timing_ms_mean"] == pytest.approx(float(np.mean(np.abs(c.offset) * 150)), abs=0.01)


def test_evaluate_adds_the_drum_comparison_where_the_reference_is_drums(tiny_run, tmp_path):
    import json

    from tunesmith.evaluation.drums import DRUM_FEATURES

    run, _ = tiny_run
    out = tmp_path / "report"
    argv = ["evaluate", str(run), "--data", str(run.parent / "data"), "--out", str(out), "-n", "3", "--length", "16"]
    assert main([*argv, "--no-audio", "-q"]) == 0
    drums = json.loads((out / "report.json").read_text())["models"][0]["drums"]
    assert set(drums["comparison"]) == set(drums["ceiling"]) == set(DRUM_FEATURES)
    assert all(0 <= drums["comparison"][f]["overlap"] <= 1 for f in DRUM_FEATURES)
    assert "## Drums: set comparison of drum features" in (out / "report.md").read_text()
