"""Originality: copies of training music are found (transposed and re-timed too), fresh music is not."""

from __future__ import annotations

import numpy as np
import pytest

from tunesmith.cli import main
from tunesmith.dataset import Dataset
from tunesmith.errors import DatasetError
from tunesmith.evaluation.originality import (
    WINDOW,
    OriginalityIndex,
    originality,
    save_compact,
    split_symbols,
    symbols,
)
from tunesmith.io import write_midi
from tunesmith.notes import Notes

from .conftest import synthetic_dataset


def test_symbols_by_hand():
    # C4 E4 G4 as quarter notes, then a C major chord a half note later (at 120 qpm a quarter is 0.5 s)
    n = Notes.from_arrays([60, 64, 67, 60, 64], [0, 0.5, 1.0, 2.0, 2.0], [0.5, 1.0, 1.5, 2.5, 2.5])
    s = symbols(n)
    interval, ratio = s // 32 - 48, s % 32 - 16
    assert interval.tolist() == [4, 3, -7, 4]
    # E: no interval before it to compare; G: the same IOI (ratio 1 -> 0); C: twice as long (4 * log2 2 = 4);
    # E with C: a chord (9)
    assert ratio.tolist() == [0, 0, 4, 9]


def test_transposed_and_time_stretched_copy_has_the_same_symbols():
    rng = np.random.default_rng(1)
    start = np.cumsum(rng.choice([0.25, 0.5, 1.0], 40))
    n = Notes.from_arrays(rng.integers(50, 80, 40), start, start + 0.2)
    moved = Notes.from_arrays(n.pitch.astype(int) - 5, n.start * 1.5 + 3, n.start * 1.5 + 3.2)
    assert np.array_equal(symbols(n)[1:], symbols(moved)[1:])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return synthetic_dataset(tmp_path_factory.mktemp("orig"), steps=[0.25, 0.5, 0.75], durations=[0.25],
                             n_pieces=12, n_notes=120)


def test_planted_copy_is_found_and_named_random_music_is_not(data):
    ds = Dataset.load(data)
    index = OriginalityIndex.build(ds, "train")
    train_piece = ds[int(ds.indices("train")[3])].sorted()
    part = train_piece[30:60]  # 30 notes, transposed up a fourth and played 1.3 times slower
    copy = Notes.from_arrays(part.pitch.astype(int) + 5, part.start * 1.3 + 2, part.end * 1.3 + 2)
    rng = np.random.default_rng(7)
    start = np.cumsum(rng.choice([0.1, 0.35, 0.6], 200))
    fresh = Notes.from_arrays(rng.integers(30, 100, 200), start, start + 0.1)
    report = originality([copy, fresh], index)
    found, none = report["pieces"]
    assert found["longest"] >= 29 and found["from"] == ds.paths[int(ds.indices("train")[3])]
    assert none["longest"] < 16
    assert report["copied_share"] == 0.5 and report["longest"] == found["longest"]


def test_the_compact_index_answers_as_the_full_one(data, tmp_path):
    """The shipped form keeps symbol sequences only and hashes them again: the same table, the same answers, in
    fewer bytes; a damaged file is named."""
    ds = Dataset.load(data)
    full = OriginalityIndex.build(ds, "train", cache=False)
    names, seqs = split_symbols(ds, "train")
    path = save_compact(tmp_path / "index.npz", seqs, names)
    small = OriginalityIndex.load(path)
    for a in ("hashes", "piece", "pos"):
        assert np.array_equal(getattr(small, a), getattr(full, a))
    assert small.names == full.names
    assert path.stat().st_size < full.save(tmp_path / "full.npz").stat().st_size / 4
    piece = ds[int(ds.indices("train")[2])].sorted()[5:45]
    assert small.longest(piece) == full.longest(piece) and small.longest(piece).notes == 40
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # a byte of the compressed planes flipped
    (tmp_path / "bad.npz").write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="bad.npz"):
        OriginalityIndex.load(tmp_path / "bad.npz")


def test_a_run_shorter_than_the_window_is_not_reported(data):
    ds = Dataset.load(data)
    index = OriginalityIndex.build(ds, "train")
    part = ds[int(ds.indices("train")[0])].sorted()[10 : 10 + WINDOW]  # WINDOW notes: WINDOW - 1 symbols
    assert index.longest(part).notes == 0


def test_index_is_kept_beside_the_dataset_and_reused(data):
    ds = Dataset.load(data)
    OriginalityIndex.build(ds, "train")
    path = ds.root / "originality" / "train.npz"
    stamp = path.stat().st_mtime_ns
    again = OriginalityIndex.build(ds, "train")
    assert path.stat().st_mtime_ns == stamp and again.hashes.size > 0


def test_cli_names_copies(data, tmp_path, capsys):
    ds = Dataset.load(data)
    piece = ds[int(ds.indices("train")[2])]
    write_midi(piece, tmp_path / "stolen.mid")
    (tmp_path / "broken.mid").write_bytes(b"not midi")
    assert main(["originality", str(tmp_path), "--data", str(data), "--json", str(tmp_path / "o.json")]) == 0
    out = capsys.readouterr().out
    assert "stolen.mid: longest run" in out and "COPY" in out and "skipped" in out and "broken.mid" in out
    fresh = Notes.from_arrays(np.full(12, 60), np.arange(12) * 0.5, np.arange(12) * 0.5 + 0.4)  # one repeated note
    write_midi(fresh, tmp_path / "new" / "fresh.mid")
    assert main(["originality", str(tmp_path / "new"), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert f"fresh.mid: no run of {WINDOW + 1} notes or more" in out and "longest run 0" not in out
    assert main(["originality", str(tmp_path / "nothing"), "--data", str(data)]) == 1
    assert "no such file" in capsys.readouterr().err
