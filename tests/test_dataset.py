from __future__ import annotations

import csv
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import tunesmith.dataset as dataset_mod
from tunesmith.cli import main
from tunesmith.corpora import resolve
from tunesmith.dataset import Dataset, hash_split, prepare
from tunesmith.errors import DatasetError, SourceError
from tunesmith.io import read_midi, write_midi
from tunesmith.notes import Notes
from tunesmith.utils import WRITER_MARKER

from .conftest import hand_midi
from .test_midi import CLASSICAL_EMPTY


def _collection(root: Path) -> Path:
    """A small messy collection: good files in composer folders, one empty, one not MIDI, one ignored .txt."""
    (root / "bach").mkdir(parents=True)
    (root / "mozart").mkdir()
    hand_midi(root / "bach" / "a.mid")
    for i in range(4):
        n = Notes.from_arrays(np.arange(60, 64) + i, np.arange(4) * 0.5, np.arange(4) * 0.5 + 0.4)
        write_midi(n, root / "mozart" / f"m{i}.MID")
    (root / "mozart" / "empty.mid").write_bytes(b"")
    (root / "bach" / "junk.midi").write_bytes(b"definitely not midi")
    (root / "notes.txt").write_text("ignored")
    return root


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_prepare_folder_reads_good_files_and_reports_bad_ones(tmp_path):
    src = _collection(tmp_path / "src")
    ds = prepare(src, tmp_path / "ds", workers=1, progress=False)
    assert len(ds) == 5
    assert ds.paths == ["bach/a.mid", "mozart/m0.MID", "mozart/m1.MID", "mozart/m2.MID", "mozart/m3.MID"]
    assert ds.composers == ["bach"] + ["mozart"] * 4
    assert dict(ds.skipped()) == {
        "bach/junk.midi": "not a MIDI file (it starts with b'defi', not b'MThd')",
        "mozart/empty.mid": "empty file (0 bytes)",
    }
    rows = _rows(tmp_path / "ds" / "pieces.csv")
    assert rows[0] == ["path", "split", "composer", "title", "notes", "seconds"]
    # sha256("bach/a.mid"): its first 8 bytes, big-endian, are 64 modulo 100 (below 90: train)
    assert rows[1] == ["bach/a.mid", "train", "bach", "a", "5", "3.000"]
    # piece 0 is exactly what read_midi gives, with its tempo map
    direct = read_midi(src / "bach" / "a.mid")
    assert np.array_equal(ds[0].notes, direct.notes)
    assert np.array_equal(ds[0].tempos, direct.tempos)
    assert np.array_equal(ds[0].time_signatures, direct.time_signatures)
    assert ds[0].metadata["composer"] == "bach" and ds[-1].pitch.tolist() == [63, 64, 65, 66]
    assert isinstance(ds.notes, np.memmap)


def test_info_counts_by_split(tmp_path):
    ds = prepare(_collection(tmp_path / "src"), tmp_path / "ds", workers=1, progress=False)
    info = ds.info()
    assert info["pieces"] == 5 and info["notes"] == 5 + 4 * 4
    assert sum(s["pieces"] for s in info["splits"].values()) == 5
    assert sum(s["notes"] for s in info["splits"].values()) == 21
    assert info["pitch_range"] == [36, 67]
    assert abs(info["hours"] - (3.0 + 4 * 1.9) / 3600) < 1e-3
    assert len(info["skipped"]) == 2


def test_hash_split_by_hand():
    """The first 8 bytes of sha256(name), big-endian, modulo 100 (worked out with hashlib by hand): below 90 train,
    below 95 validation, else test."""
    assert hash_split("a.mxl") == "train"  # 24
    assert hash_split("136.mxl") == "validation"  # 90
    assert hash_split("b.mxl") == "validation"  # 94
    assert hash_split("123.mxl") == "test"  # 95
    assert hash_split("98.mxl") == "test"  # 98


def test_chorales_that_share_a_tune_share_a_split():
    """Tunes by hand: B is A a fourth lower with a note repeated (merged), so one tune (all 4 runs of 8 intervals
    shared); C shares A's first four intervals, no run of eight; D is C with its last four notes changed, none of
    C's four runs of eight. The group of A and B takes the split of its first name ("123.mxl": test) for both; C
    and D stay apart, each with its own."""
    from tunesmith.corpora.bach import soprano_line, tune_groups
    from tunesmith.dataset import _split_by_tune

    a = [60, 62, 64, 65, 67, 65, 64, 62, 60, 67, 69, 67]
    b = [p - 5 for p in a[:3]] + [a[2] - 5] + [p - 5 for p in a[3:]]
    c = [60, 62, 64, 65, 67, 72, 71, 69, 67, 66, 67, 74]
    d = c[:8] + [60, 59, 57, 55]
    lines = [soprano_line(x) for x in (a, b, c, d)]
    assert lines[1] == [p - 5 for p in a]  # the repeated note merged
    assert tune_groups(lines) == [0, 0, 2, 3]
    rows = [["a.mxl", None], ["123.mxl", None], ["b.mxl", None], ["136.mxl", "train"]]
    assert _split_by_tune(rows, lines) == 3
    # a.mxl alone is train (24), but its tune's first name is 123.mxl (95: test); a source's own split is kept
    assert [r[1] for r in rows] == ["test", "test", "validation", "train"]


def test_hash_split_is_90_5_5():
    names = [f"folder/piece_{i}.mid" for i in range(20000)]
    c = Counter(hash_split(n) for n in names)
    assert abs(c["train"] / 20000 - 0.90) < 0.01
    assert abs(c["validation"] / 20000 - 0.05) < 0.01 and abs(c["test"] / 20000 - 0.05) < 0.01


def _dataset_bytes(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir()) if p.name != "manifest.json"}


def test_prepared_twice_is_identical_and_parallel_equals_serial(tmp_path):
    src = _collection(tmp_path / "src")
    a = prepare(src, tmp_path / "a", workers=1, progress=False)
    b = prepare(src, tmp_path / "b", workers=2, progress=False)
    assert _dataset_bytes(a.root) == _dataset_bytes(b.root)
    prepare(src, tmp_path / "a", workers=2, force=True, progress=False)
    assert _dataset_bytes(tmp_path / "a") == _dataset_bytes(b.root)


def test_unchanged_source_reuses_cache_and_change_rebuilds(tmp_path, monkeypatch):
    src = _collection(tmp_path / "src")
    first = prepare(src, tmp_path / "ds", workers=1, progress=False)
    assert not first.reused
    calls = []
    real = dataset_mod._parse_item
    monkeypatch.setattr(dataset_mod, "_parse_item", lambda job: calls.append(job) or real(job))
    again = prepare(src, tmp_path / "ds", workers=1, progress=False)
    assert again.reused and calls == []
    hand_midi(src / "mozart" / "new.mid")
    rebuilt = prepare(src, tmp_path / "ds", workers=1, progress=False)
    assert not rebuilt.reused and len(rebuilt) == 6 and len(calls) == 8


def test_interrupted_prepare_keeps_the_old_dataset(tmp_path, monkeypatch):
    src = _collection(tmp_path / "src")
    prepare(src, tmp_path / "ds", workers=1, progress=False)
    before = _dataset_bytes(tmp_path / "ds")
    hand_midi(src / "bach" / "b.mid")
    seen = []

    def dies_on_third(job):
        seen.append(job)
        if len(seen) == 3:
            raise KeyboardInterrupt
        return dataset_mod._Parsed(job[0], error="x")

    monkeypatch.setattr(dataset_mod, "_parse_item", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        prepare(src, tmp_path / "ds", workers=1, progress=False)
    assert _dataset_bytes(tmp_path / "ds") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "src"]  # no half-written leftovers


def _leftover(folder: Path, pid: int | None = None, *, age_s: float = 0.0) -> Path:
    """A folder as an interrupted atomic_dir leaves it: some data, a writer marker naming ``pid`` (none when
    None), its files and itself last modified ``age_s`` ago."""
    folder.mkdir()
    (folder / "notes.bin").write_bytes(b"half")
    if pid is not None:
        (folder / WRITER_MARKER).write_text(f"{pid} {socket.gethostname()}\n")
    when = time.time() - age_s
    for f in (*folder.iterdir(), folder):
        os.utime(f, (when, when))
    return folder


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "reused"])
def test_prepare_clears_dead_runs_leftovers_but_not_live_ones(tmp_path, existing):
    src = tmp_path / "src"
    src.mkdir()
    hand_midi(src / "a.mid")
    if existing:  # an up-to-date dataset is reused without writing anything: leftovers go all the same
        prepare(src, tmp_path / "ds", workers=1, progress=False)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # reaped: its PID is surely not a running process now
    hour = 3600.0
    stale = [
        _leftover(tmp_path / ".ds.dead1234.tmp", dead.pid),
        _leftover(tmp_path / ".ds.nomark99.tmp", age_s=hour),  # killed before writing its marker, long ago
        _leftover(tmp_path / f".ds.old-{dead.pid}"),  # killed during the swap
    ]
    kept = [
        _leftover(tmp_path / ".ds.live1234.tmp", os.getpid()),  # another prepare writing right now
        _leftover(tmp_path / ".ds.fresh123.tmp"),  # no marker yet, but just made: may be someone's
        _leftover(tmp_path / f".ds.old-{os.getpid()}"),
        _leftover(tmp_path / ".other.dead1234.tmp", dead.pid),  # another dataset's
        _leftover(tmp_path / ".ds.x.nomark99.tmp", age_s=hour),  # the dataset "ds.x"'s, not "ds"'s
        _leftover(tmp_path / f".other.old-{dead.pid}"),
    ]
    ds = prepare(src, tmp_path / "ds", workers=1, progress=False)
    assert ds.reused == existing and len(ds) == 1
    assert [p for p in stale if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []
    assert not (ds.root / WRITER_MARKER).exists()  # the marker never reaches the finished dataset
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["ds", "src", *(p.name for p in kept)])


def test_prepare_of_only_unreadable_files_fails_and_writes_nothing(tmp_path, capsys, monkeypatch):
    src = tmp_path / "broken"
    src.mkdir()
    (src / "a.mid").write_bytes(b"")
    (src / "b.mid").write_text("just some text")
    out = tmp_path / "ds"
    reasons = r"a\.mid: empty file \(0 bytes\)\n  b\.mid: not a MIDI file \(it starts with b'just', not b'MThd'\)"
    folder = re.escape(str(src.resolve()))
    with pytest.raises(DatasetError, match=rf"^{folder}: no file could be read \(2 tried\).*:\n  {reasons}$"):
        prepare(src, out, workers=1, progress=False)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["broken"]

    # an existing dataset at ``out`` stays as it was; past REASONS_SHOWN reasons, the rest are counted
    good = tmp_path / "good"
    good.mkdir()
    hand_midi(good / "a.mid")
    prepare(good, out, workers=1, progress=False)
    before = _dataset_bytes(out)
    monkeypatch.setattr(dataset_mod, "REASONS_SHOWN", 1)
    with pytest.raises(DatasetError, match=r"\n  a\.mid: empty file \(0 bytes\)\n  \.\.\. and 1 more$"):
        prepare(src, out, workers=1, force=True, progress=False)
    assert _dataset_bytes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "ds", "good"]
    monkeypatch.undo()

    # through the command line: exit status 1, the message on stderr, no traceback
    shutil.rmtree(out)
    assert main(["prepare", str(src), "--out", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"tunesmith prepare: error: {src.resolve()}: no file could be read (2 tried)")
    assert "a.mid: empty file (0 bytes)" in err and "b.mid: not a MIDI file" in err
    assert "Traceback" not in err and not out.exists()


def test_limit_takes_first_files(tmp_path):
    ds = prepare(_collection(tmp_path / "src"), tmp_path / "ds", limit=2, workers=1, progress=False)
    assert ds.paths == ["bach/a.mid"] and [p for p, _ in ds.skipped()] == ["bach/junk.midi"]


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(DatasetError, match="run 'tunesmith prepare' first"):
        Dataset.load(tmp_path / "nothing")
    ds = prepare(_collection(tmp_path / "src"), tmp_path / "ds", workers=1, progress=False)
    notes_bin = ds.root / "notes.bin"
    notes_bin.write_bytes(notes_bin.read_bytes()[:-7])
    with pytest.raises(DatasetError, match="prepare the dataset again"):
        Dataset.load(tmp_path / "ds")
    with pytest.raises(DatasetError, match="unknown split"):
        prepare(tmp_path / "src", tmp_path / "ds2", workers=1, progress=False).indices("dev")


def test_source_errors(tmp_path):
    with pytest.raises(SourceError, match="no such file or folder"):
        resolve(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no music files"):
        resolve(tmp_path / "empty")


def test_maestro_layout_from_its_csv(tmp_path):
    root = tmp_path / "maestro"
    (root / "2004").mkdir(parents=True)
    for name in ("a", "b", "c"):
        hand_midi(root / "2004" / f"{name}.midi")
    (root / "maestro-v2.0.0.csv").write_text("junk")  # the newest csv wins
    (root / "maestro-v3.0.0.csv").write_text(
        "canonical_composer,canonical_title,split,year,midi_filename,audio_filename,duration\n"
        "Chopin,Ballade,test,2004,2004/a.midi,2004/a.wav,3.0\n"
        "Liszt,Etude,validation,2004,2004/b.midi,2004/b.wav,3.0\n"
        "Bach,Gone,train,2004,2004/gone.midi,2004/gone.wav,3.0\n"
    )
    ds = prepare(root, tmp_path / "ds", workers=1, progress=False)
    assert ds.paths == ["2004/a.midi", "2004/b.midi"]
    assert ds.splits.tolist() == ["test", "validation"] and ds.composers == ["Chopin", "Liszt"]
    assert ds.titles == ["Ballade", "Etude"]
    assert dict(ds.skipped()) == {
        "2004/gone.midi": "listed in maestro-v3.0.0.csv but missing from the folder",
        "2004/c.midi": "not listed in maestro-v3.0.0.csv",
    }
    flat = prepare(root, tmp_path / "flat", layout="folder", workers=1, progress=False)
    assert len(flat) == 3


def test_classical_collection_skips_exactly_its_empty_files(classical, tmp_path):
    ds = prepare(classical, tmp_path / "cl", workers=2, progress=False)
    assert len(ds) == 3022
    assert sorted(p for p, _ in ds.skipped()) == sorted(f"{n}.mid" for n in CLASSICAL_EMPTY)
    assert {r for _, r in ds.skipped()} == {"empty file (0 bytes)"}
    warned = {r[0] for r in _rows(ds.root / "warnings.csv")[1:]}
    assert len(warned) == 13
    assert int(ds.manifest["notes"]) > 10_000_000


def test_maestro_official_split(maestro, tmp_path):
    ds = prepare(maestro, tmp_path / "m", workers=2, progress=False)
    assert Counter(ds.splits.tolist()) == {"train": 962, "validation": 137, "test": 177}
    assert len(ds.skipped()) == 6 and all("not listed in maestro-v3.0.0.csv" in r for _, r in ds.skipped())
    i = ds.paths.index("2018/MIDI-Unprocessed_Chamber3_MID--AUDIO_10_R3_2018_wav--1.midi")
    assert (ds.composers[i], ds.titles[i], ds.splits[i]) == ("Alban Berg", "Sonata Op. 1", "train")
    assert abs(ds.info()["hours"] - 198.65) < 0.5
    shutil.rmtree(tmp_path / "m")
