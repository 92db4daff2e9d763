from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from tunesmith.cli import main
from tunesmith.dataset import Dataset, hash_split
from tunesmith.errors import CheckpointError, ConfigError, DatasetError
from tunesmith.families.rnn.model import NoteRNN
from tunesmith.io import read_midi, write_midi
from tunesmith.jobs.generate import generate
from tunesmith.jobs.runs import load_run
from tunesmith.jobs.train import train
from tunesmith.notes import Notes
from tunesmith.representations.note_events import to_note_events

from .conftest import hand_midi, synthetic_dataset

N_PIECES, N_NOTES, SEQ = 12, 60, 25
SMALL = {"hidden": "16", "batch_size": "16", "device": "cpu"}  # exact resume is promised on the CPU


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """12 synthetic pieces of 60 notes (random pitches, no overlaps); p05 falls in validation, p02/p08 in test."""
    root = synthetic_dataset(
        tmp_path_factory.mktemp("training"), steps=[0.125, 0.25, 0.5], durations=[0.1, 0.12, 0.2], offset=0.125
    )
    ds = Dataset.load(root)
    assert len(ds) == N_PIECES
    splits = [hash_split(f"p{i:02d}.mid") for i in range(N_PIECES)]
    assert splits.count("train") == 9 and splits.count("validation") == 1
    return ds.root


def _train(data: Path, out: Path, preset: str = "paper", **overrides: str) -> dict:
    return train("rnn", data, out, preset=preset, overrides={**SMALL, **overrides}, progress=False)


def _resume(data: Path, out: Path, **overrides: str) -> dict:
    return train("rnn", data, out, resume=True, overrides=overrides, progress=False)


@pytest.fixture(scope="module")
def straight(data, tmp_path_factory) -> Path:
    """Two epochs of the paper preset without interruption: the run other tests compare with and generate from."""
    run = tmp_path_factory.mktemp("straight") / "run"
    summary = _train(data, run, epochs="2")
    assert summary["epochs"] == 2 and summary["stopped"] == "completed 2 epochs"
    assert summary["train_windows"] == 9 * (N_NOTES - SEQ) and summary["val_windows"] == N_NOTES - SEQ
    assert summary["step"] == 2 * (9 * (N_NOTES - SEQ) // 16)
    return run


def _state(run: Path) -> dict:
    return torch.load(run / "trainer_state.pt", map_location="cpu", weights_only=True)


def _assert_same_weights(a: Path, b: Path) -> None:
    sa, sb = _state(a)["model"], _state(b)["model"]
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), f"trainer_state.pt: {k} differs"
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert wa.keys() == wb.keys() == sa.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), f"model.safetensors: {k} differs"


def _epochs(run: Path) -> list[dict]:
    if not (run / "metrics.jsonl").is_file():
        return []
    lines = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("time", "train_time")} for r in lines if r["kind"] == "epoch"]


# ------------------------------------------------------------------------------------------------ exact resume
def test_resume_at_an_epoch_boundary_is_exact_paper(data, straight, tmp_path):
    run = tmp_path / "run"
    first = _train(data, run, epochs="1")
    assert first["epochs"] == 1 and _state(run)["epoch"] == 1
    second = _resume(data, run, epochs="2")
    assert second["epochs"] == 2 and second["step"] == _state(straight)["step"]
    _assert_same_weights(run, straight)
    assert _epochs(run) == _epochs(straight)
    adam, adam_straight = _state(run)["optimizers"]["adam"]["state"], _state(straight)["optimizers"]["adam"]["state"]
    assert adam.keys() == adam_straight.keys()
    for i in adam:
        assert torch.equal(adam[i]["exp_avg_sq"], adam_straight[i]["exp_avg_sq"])


def test_resume_at_an_epoch_boundary_is_exact_default(data, tmp_path):
    _train(data, tmp_path / "straight", preset="default", epochs="2")
    run = tmp_path / "run"
    _train(data, run, preset="default", epochs="1")
    _resume(data, run, epochs="2")
    _assert_same_weights(run, tmp_path / "straight")
    assert _epochs(run) == _epochs(tmp_path / "straight")
    assert "val/velocity" in _epochs(run)[-1]


def test_resume_in_the_middle_of_epochs_is_exact(data, straight, tmp_path):
    run = tmp_path / "run"
    s = _train(data, run, epochs="2", max_steps="7")
    assert s["step"] == 7 and s["stopped"] == "reached max_steps=7" and s["epochs"] == 0
    st = _state(run)
    assert (st["epoch"], st["batch_in_epoch"], st["step"]) == (0, 7, 7)
    assert (run / "model.safetensors").is_file() and _epochs(run) == []
    s = _resume(data, run, max_steps="25")  # into the second epoch
    st = _state(run)
    n = 9 * (N_NOTES - SEQ) // 16
    assert (st["epoch"], st["batch_in_epoch"], st["step"]) == (1, 25 - n, 25)
    s = _resume(data, run, max_steps="none")
    assert s["epochs"] == 2 and s["stopped"] == "completed 2 epochs"
    _assert_same_weights(run, straight)
    assert [r["val/loss"] for r in _epochs(run)] == [r["val/loss"] for r in _epochs(straight)]


def test_resume_of_a_run_at_max_steps_trains_no_further(data, tmp_path):
    """LIBRARY BUG (src/tunesmith/training/trainer.py, Trainer.fit: max_steps is only checked after a step has
    been taken): resuming a run that stopped at max_steps=7 with the same limit trains an 8th step (and a 9th on
    the next resume) while reporting 'reached max_steps=7'. It should take no step and leave the weights alone."""
    run = tmp_path / "run"
    _train(data, run, epochs="2", max_steps="7")
    before = _state(run)["model"]
    s = _resume(data, run)
    assert s["step"] == 7 and s["stopped"] == "reached max_steps=7"
    after = _state(run)
    assert after["step"] == 7 and after["batch_in_epoch"] == 7
    assert all(torch.equal(before[k], after["model"][k]) for k in before)


def test_run_folder_and_metrics(data, straight):
    assert {p.name for p in straight.iterdir()} >= {
        "config.json",
        "model.safetensors",
        "trainer_state.pt",
        "primers.npy",
        "metrics.jsonl",
    }
    epochs = _epochs(straight)
    assert [r["epoch"] for r in epochs] == [1, 2]
    assert [r["step"] for r in epochs] == [19, 38]
    for r in epochs:
        assert np.isfinite(r["val/loss"]) and np.isfinite(r["train/loss"])
        assert {"val/pitch", "val/step", "val/duration", "val/step_mse"} <= set(r)
    assert epochs[0]["best"] is True
    config = json.loads((straight / "config.json").read_text())
    assert config["kind"] == "rnn" and config["preset"] == "paper"
    assert config["model"]["hidden"] == 16 and config["train"]["batch_size"] == 16 and config["train"]["epochs"] == 2
    assert config["data"]["fingerprint"] == Dataset.load(data).manifest["fingerprint"]
    primers = np.load(straight / "primers.npy")
    assert primers.shape == (256, SEQ, 4) and primers.dtype == np.float32
    # every primer is a real window of the training data: pitches in the synthetic range, steps >= 0
    assert primers[..., 0].min() >= 48 and primers[..., 0].max() < 84 and primers[..., 1].min() >= 0
    # the safetensors weights load into the configured model, and the state's latest weights match them
    # when the last epoch was the best
    _, _, model = load_run(straight)
    assert isinstance(model, NoteRNN) and model.cfg.hidden == 16 and not model.training
    if epochs[-1]["best"]:
        for k, v in model.state_dict().items():
            assert torch.equal(v, _state(straight)["model"][k])


# ------------------------------------------------------------------------------------------------ errors
def test_training_over_an_existing_run_needs_resume(data, straight, tmp_path):
    with pytest.raises(CheckpointError, match="already holds a run"):
        _train(data, straight, epochs="1")
    with pytest.raises(CheckpointError, match="not a tunesmith run"):
        _resume(data, tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="not a tunesmith run"):
        _resume(data, tmp_path / "empty")


def test_resume_may_not_change_the_model(data, straight):
    with pytest.raises(ConfigError, match="cannot change a resumed run's hidden"):
        _resume(data, straight, hidden="32")


def test_corrupt_or_mismatched_weights(data, straight, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(straight, bad)
    (bad / "model.safetensors").write_bytes(b"garbage, not safetensors")
    with pytest.raises(CheckpointError, match=r"model\.safetensors: corrupt weights file"):
        load_run(bad)
    (bad / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"model\.safetensors: missing"):
        load_run(bad)
    (bad / "trainer_state.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="corrupt trainer state"):
        _resume(data, bad, epochs="3")

    small = tmp_path / "small"
    _train(data, small, hidden="8", max_steps="1")
    load_run(small)
    shutil.copy(straight / "model.safetensors", small / "model.safetensors")
    mismatch = r"weights do not match the model of config\.json: .*\(64, 16\) != \(32, 8\)"
    with pytest.raises(CheckpointError, match=mismatch):
        load_run(small)
    with pytest.raises(CheckpointError, match="not a tunesmith run"):
        load_run(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"foo": "1"}, "unknown setting"),
        ({"hidden": "abc"}, "expected a int"),
        ({"model.lr": "0.1"}, "rnn has no setting 'lr'"),
        ({"x.hidden": "3"}, "prefix"),
        ({"timing": "bogus"}, "timing must be one of"),
        ({"epochs": "0"}, "must be positive"),
    ],
)
def test_bad_settings(data, tmp_path, overrides, match):
    with pytest.raises(ConfigError, match=match):
        _train(data, tmp_path / "run", **overrides)
    assert not (tmp_path / "run").exists()


def test_dataset_too_small_for_a_batch(data, tmp_path):
    with pytest.raises(DatasetError, match="fewer than one batch of 1000"):
        _train(data, tmp_path / "run", batch_size="1000")
    with pytest.raises(DatasetError, match="not a prepared dataset|prepare"):
        _train(tmp_path / "no-data", tmp_path / "run")


# ------------------------------------------------------------------------------------------------ generate
def test_generate_writes_primer_and_continuation(straight, tmp_path):
    paths = generate(straight, tmp_path / "a", n=3, length=15, seed=4)
    assert [p.name for p in paths] == ["sample_00.mid", "sample_01.mid", "sample_02.mid"]
    pool = np.load(straight / "primers.npy")
    for p in paths:
        notes = read_midi(p)
        assert len(notes) == SEQ + 15
        pitches = to_note_events(notes)[:, 0]
        # the piece starts with one of the run's primers
        assert (pool[:, :, 0] == pitches[:SEQ]).all(-1).any()
    meta = json.loads((tmp_path / "a" / "samples.json").read_text())
    assert meta["n"] == 3 and meta["length"] == 15 and meta["seed"] == 4 and len(meta["files"]) == 3
    again = generate(straight, tmp_path / "b", n=3, length=15, seed=4)
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]
    other = generate(straight, tmp_path / "c", n=3, length=15, seed=5)
    assert [p.read_bytes() for p in paths] != [p.read_bytes() for p in other]


def test_generate_continues_a_primer_file(straight, tmp_path):
    primer = hand_midi(tmp_path / "hand.mid")
    paths = generate(straight, tmp_path / "out", n=2, length=8, primer=primer, seed=0)
    for p in paths:
        ev = to_note_events(read_midi(p))
        assert len(ev) == 4 + 8
        assert ev[:4, 0].tolist() == [57, 60, 64, 67]  # the primer's non-drum notes in start order
        assert np.allclose(ev[:4, 1], [0, 0, 0.5, 1.5], atol=1e-3)


def test_generate_errors(straight, tmp_path):
    with pytest.raises(ConfigError, match="temperature"):
        generate(straight, tmp_path / "g", temperature=0)
    with pytest.raises(ConfigError, match="-n"):
        generate(straight, tmp_path / "g", n=0)
    assert not (tmp_path / "g").exists()
    drums = tmp_path / "drums.mid"
    write_midi(Notes.from_arrays([36], [0.0], [0.1], is_drum=True), drums)
    with pytest.raises(ConfigError, match="no notes to continue"):
        generate(straight, tmp_path / "g", primer=drums)
    no_primers = tmp_path / "run"
    shutil.copytree(straight, no_primers)
    (no_primers / "primers.npy").unlink()
    with pytest.raises(CheckpointError, match="primers.npy: missing"):
        generate(no_primers, tmp_path / "g")


# ------------------------------------------------------------------------------------------------ command line
def test_cli_train_and_generate(data, tmp_path, capsys):
    run, out = tmp_path / "run", tmp_path / "gen"
    argv = ["train", "rnn", "--data", str(data), "--out", str(run), "--epochs", "1", "--set", "hidden=16", "-q"]
    assert main(argv) == 0
    assert "completed 1 epochs" in capsys.readouterr().out
    assert json.loads((run / "config.json").read_text())["preset"] == "default"
    assert main(["generate", str(run), "--out", str(out), "-n", "2", "--length", "10"]) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(p.name for p in out.glob("*.mid")) == ["sample_00.mid", "sample_01.mid"]
    assert printed == [str(out / "sample_00.mid"), str(out / "sample_01.mid")]
    assert all(len(read_midi(p)) == SEQ + 10 for p in out.glob("*.mid"))

    # errors: one line on stderr, no traceback, status 1
    for args, message in [
        (["generate", str(run), "--out", str(out), "--temperature", "0"], "--temperature must be a positive"),
        (["generate", str(run), "--out", str(out), "--primer", str(tmp_path / "gone.mid")], "gone.mid: no such file"),
        (argv, "already holds a run"),
        (["train", "rnn", "--data", str(data), "--out", str(tmp_path / "r2"), "--set", "foo"], "expected key=value"),
        (["train", "rnn", "--data", str(data), "--out", str(tmp_path / "r2"), "--resume"], "not a tunesmith run"),
    ]:
        assert main(args) == 1, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and err.count("\n") == 1, err


def test_generate_out_an_existing_file_is_a_clear_error(straight, tmp_path, capsys):
    target = tmp_path / "taken.mid"
    target.write_bytes(b"MThd")
    assert main(["generate", str(straight), "--out", str(target), "-n", "1", "--length", "4"]) == 1
    err = capsys.readouterr().err
    assert f"{target}: is a file; --out names a folder" in err and "Traceback" not in err
    assert target.read_bytes() == b"MThd"
