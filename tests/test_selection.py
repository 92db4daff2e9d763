"""Selecting a generator's weights by the music it makes (select_by=statistics): the scorer, and the GAN and
C-RNN-GAN trained with it. The test split is never read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import synthetic_dataset
from tunesmith.dataset import Dataset
from tunesmith.errors import DatasetError
from tunesmith.families.scoring import COLLAPSE_PENALTY, ValidationScorer
from tunesmith.jobs.train import train
from tunesmith.notes import Notes
from tunesmith.runfiles import DECODING, METRICS


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return synthetic_dataset(tmp_path_factory.mktemp("sel"), steps=[0.25, 0.5], durations=[0.2, 0.4], n_notes=80)


@pytest.fixture
def reads(monkeypatch):
    """Every piece index read from any Dataset while the test runs."""
    seen: list[int] = []
    original = Dataset.__getitem__

    def spy(self: Dataset, i: int) -> Notes:
        seen.append(int(i))
        return original(self, i)

    monkeypatch.setattr(Dataset, "__getitem__", spy)
    return seen


def _melody(pitches: list[int]) -> Notes:
    starts = np.arange(len(pitches)) * 0.5
    return Notes.from_arrays(np.array(pitches, dtype=np.uint8), starts, starts + 0.5)


def test_the_scorer_reads_validation_pieces_only(data, reads):
    ds = Dataset.load(data)
    scorer = ValidationScorer(ds, seed=0)
    rng = np.random.default_rng(1)
    good = scorer.score([_melody(list(rng.integers(48, 84, 30))) for _ in range(8)])
    bad = scorer.score([_melody([60] * 30) for _ in range(8)])
    assert set(reads) <= set(ds.indices("validation").tolist()) and reads
    assert good.score < bad.score and good.collapse is None and bad.collapse.startswith("collapse: 1.0 unique")
    assert good.score == good.metrics["mse"] and bad.score == bad.metrics["mse"] + COLLAPSE_PENALTY
    assert bad.metrics["unique_tones"] == 1.0 and bad.metrics["tone_span"] == 0.0 and bad.metrics["notes"] == 30


def test_the_scorer_needs_validation_pieces(tmp_path):
    only_train = synthetic_dataset(tmp_path, steps=[0.5], durations=[0.4], n_pieces=2)  # both fall in train
    with pytest.raises(DatasetError, match="no validation pieces to score generated music against"):
        ValidationScorer(Dataset.load(only_train))


def _records(run, kind):
    return [r for r in map(json.loads, (run / METRICS).read_text().splitlines()) if r["kind"] == kind]


def test_crnngan_keeps_its_best_scored_weights_and_never_reads_the_test_split(data, tmp_path, reads):
    tiny = {"hidden": "8", "d_hidden": "8", "max_length": "8", "curriculum_start": "8", "batch_size": "4"}
    summary = train(
        "crnngan", data, tmp_path / "run", overrides={**tiny, "epochs": "3", "pretrain_epochs": "1"}, progress=False
    )
    test = set(Dataset.load(data).indices("test").tolist())
    assert reads and not test & set(reads)
    epochs = _records(tmp_path / "run", "epoch")
    scores = [r["val/score"] for r in epochs]
    assert summary["select_by"] == "statistics" and summary["best_val"] == min(scores)
    kept = [r["best"] for r in epochs]
    assert kept == [s < min(scores[:i], default=np.inf) for i, s in enumerate(scores)]
    assert all({"val/mse", "val/overlap", "val/unique_tones", "val/tone_span"} <= set(r) for r in epochs)


def test_the_gan_keeps_its_calibrated_decoding_with_its_best_weights(data, tmp_path, reads):
    tiny = {"bars": "1", "lowest_pitch": "48", "n_pitches": "36", "channels": "4", "up_layers": "2"}
    tiny |= {"batch_size": "4", "d_steps": "2", "max_steps": "6", "sample_every": "0", "n_fixed": "2"}
    tiny |= {"stat_phrases": "8", "output_bias": "none"}
    train("gan", data, tmp_path / "run", overrides=tiny, progress=False)
    test = set(Dataset.load(data).indices("test").tolist())
    assert reads and not test & set(reads)
    vals = _records(tmp_path / "run", "epoch") + _records(tmp_path / "run", "val")
    best = max((r for r in vals if r["best"]), key=lambda r: r["step"])
    decoding = json.loads((tmp_path / "run" / DECODING).read_text())
    assert decoding["threshold"] == best["val/threshold"] and decoding["threshold"] in (0.3, 0.5, 0.7, 0.9)
    assert "during training" in decoding["chosen_on"]
