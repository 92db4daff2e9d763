"""Choices are made on validation and the test split is read only to report: while training (and its selection
of weights), ``--choose-temperature`` and a decoding's choice run, the test split cannot be read (``choosing`` in
``dataset.py``). A choosing path that read it would fail here."""

from __future__ import annotations

import pytest

from tests.conftest import synthetic_dataset
from tunesmith.dataset import _CHOOSING, Dataset, choosing
from tunesmith.errors import DatasetError
from tunesmith.jobs.runs import load_run
from tunesmith.jobs.train import train

GAN_TINY = {"bars": "1", "lowest_pitch": "48", "n_pitches": "36", "channels": "4", "up_layers": "2",
            "batch_size": "4", "d_steps": "2", "max_steps": "4", "sample_every": "0", "n_fixed": "2",
            "stat_phrases": "8", "output_bias": "none"}
RNN_TINY = {"hidden": "8", "layers": "1", "seq_length": "8", "batch_size": "4", "max_steps": "3"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = synthetic_dataset(tmp_path_factory.mktemp("choose"), steps=[0.25, 0.5], durations=[0.2, 0.4], n_notes=80)
    ds = Dataset.load(root)
    assert ds.indices("test").size and ds.indices("validation").size  # each split has pieces to read
    return root


@pytest.fixture
def reads(monkeypatch):
    """(what was choosing, split) of every ``Dataset.indices`` call while the test runs."""
    seen: list[tuple[str | None, str | None]] = []
    original = Dataset.indices

    def spy(self, split=None):
        seen.append((_CHOOSING.get(), split))
        return original(self, split)

    monkeypatch.setattr(Dataset, "indices", spy)
    return seen


def test_the_test_split_is_closed_while_choosing(data):
    ds = Dataset.load(data)
    with choosing("a planted chooser"):
        assert ds.indices("validation").size and ds.indices("train").size
        with pytest.raises(DatasetError, match="a planted chooser chooses on the validation split .* the test split"):
            ds.indices("test")
        with pytest.raises(DatasetError, match="every piece"):
            list(ds.pieces())
    assert ds.indices("test").size  # open again after


@pytest.mark.parametrize(("kind", "tiny"), [("rnn", RNN_TINY), ("gan", GAN_TINY)])
def test_training_chooses_on_validation(data, tmp_path, reads, kind, tiny):
    train(kind, data, tmp_path / "run", overrides=tiny, progress=False)
    assert reads and all(what == "training" for what, _ in reads)
    assert {split for _, split in reads} <= {"train", "validation"}


def test_choose_temperature_and_a_decodings_choice_read_no_test_piece(data, tmp_path, reads):
    from tunesmith.cli import main
    from tunesmith.families.gan.quality import roll_quality

    train("rnn", data, tmp_path / "rnn", overrides=RNN_TINY, progress=False)
    train("gan", data, tmp_path / "gan", overrides=GAN_TINY, progress=False)
    reads.clear()
    argv = ["evaluate", str(tmp_path / "rnn"), "--data", str(data), "-n", "3", "--length", "10", "-q", "--no-audio"]
    assert main([*argv, "--out", str(tmp_path / "report"), "--choose-temperature", "0.5", "1"]) == 0
    chose = [split for what, split in reads if what == "--choose-temperature"]
    assert chose and set(chose) == {"validation"}
    assert ("--choose-temperature", "test") not in reads and (None, "test") in reads  # the report reads it, after
    reads.clear()
    _, _, model = load_run(tmp_path / "gan")
    roll_quality(model, Dataset.load(data), n=4, real=6, thresholds=(0.3, 0.7), seed=1)
    assert reads and {split for _, split in reads} <= {"train", "validation"}
    assert all(what and "decoding" in what for what, _ in reads)
