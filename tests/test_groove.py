"""The Groove MIDI Dataset's layout (its info.csv: split, style, tempo, beat or fill, drummer) and the 9 drum
classes, on a hand-made folder laid out as the dataset is; and the real one where it is beside the project."""

from __future__ import annotations

import numpy as np
import pytest

from tunesmith.corpora import groove_corpus, is_groove, resolve
from tunesmith.dataset import Dataset, prepare
from tunesmith.errors import SourceError
from tunesmith.io import write_midi
from tunesmith.notes import Notes
from tunesmith.representations.drums import drum_class, to_drum_classes

from .conftest import DATA, need

HEADER = "drummer,session,id,style,bpm,beat_type,time_signature,midi_filename,audio_filename,duration,split\n"


def beat(pitches: list[int]) -> Notes:
    start = np.arange(len(pitches)) * 0.25
    return Notes.from_arrays(pitches, start, start + 0.1, is_drum=[True] * len(pitches), program=[0] * len(pitches))


@pytest.fixture
def groove(tmp_path):
    root = tmp_path / "groove"
    rows = [
        ("drummer1", "drummer1/session1", "drummer1/session1/1", "funk/groove1", "138", "beat", "4-4", "train"),
        ("drummer1", "drummer1/session1", "drummer1/session1/2", "rock/fill3", "100", "fill", "4-4", "test"),
        ("drummer2", "drummer2/session1", "drummer2/session1/7", "jazz/groove2", "90", "beat", "3-4", "validation"),
    ]
    lines = [HEADER]
    for k, (drummer, session, pid, style, bpm, kind, ts, split) in enumerate(rows):
        name = f"{session}/{pid.rsplit('/', 1)[1]}_{style.replace('/', '-')}_{bpm}_{kind}_{ts}.mid"
        write_midi(beat([36, 42, 38, 42][: k + 2]), root / name)
        lines.append(f"{drummer},{session},{pid},{style},{bpm},{kind},{ts},{name},{name[:-4]}.wav,1.0,{split}\n")
    write_midi(beat([36]), root / "drummer2" / "stray.mid")  # in the folder, not in info.csv
    (root / "info.csv").write_text("".join(lines))
    return root


def test_the_layout_is_recognised_and_its_fields_kept(groove, tmp_path):
    assert is_groove(groove) and resolve(groove).name == "groove"
    corpus = groove_corpus(groove)
    assert [it.split for it in corpus.items] == ["train", "test", "validation"]
    assert corpus.excluded == [("drummer2/stray.mid", "not listed in info.csv")]
    ds = prepare(groove, tmp_path / "data", workers=1, progress=False)
    assert ds.manifest["skipped"] == 1 and len(ds) == 3
    by_style = {ds[i].metadata["style"]: ds[i] for i in range(len(ds))}
    fill = by_style["rock/fill3"]
    assert fill.metadata == {
        "split": "test",
        "composer": "drummer1",
        "title": "drummer1/session1/2",
        "style": "rock/fill3",
        "bpm": "100",
        "beat_type": "fill",
        "time_signature": "4-4",
        "drummer": "drummer1",
    }
    assert Dataset.load(ds.root)[0].metadata["bpm"] == "138"  # kept on disk, read back
    assert ds.indices("validation").tolist() == [2] and by_style["jazz/groove2"].pitch.tolist() == [36, 42, 38, 42]


def test_a_folder_with_another_info_csv_is_no_groove(tmp_path):
    (tmp_path / "info.csv").write_text("name,split\nx.mid,train\n")
    assert not is_groove(tmp_path)
    with pytest.raises(SourceError, match="Groove MIDI Dataset's columns"):
        groove_corpus(tmp_path)


def test_the_nine_classes_by_hand():
    # head and rim of the snare, cross-stick; closed hi-hat edge and pedal; open hi-hat edge; ride edge and bell;
    # tom 3's rim; a pitch of no class; a pitched note (not a drum) is left alone
    pitches = [36, 40, 37, 22, 44, 26, 59, 53, 58, 99]
    assert drum_class(pitches).tolist() == [36, 38, 38, 42, 42, 46, 51, 51, 43, -1]
    notes = Notes.from_arrays(
        [*pitches, 99],
        np.arange(11) * 0.5,
        np.arange(11) * 0.5 + 0.1,
        is_drum=[True] * 10 + [False],
        program=[0] * 11,
    )
    out = to_drum_classes(notes)
    assert out.pitch.tolist() == [36, 38, 38, 42, 42, 46, 51, 51, 43, 99]  # the drum 99 dropped, the pitched kept
    assert out.notes["is_drum"].tolist() == [True] * 9 + [False]


def test_the_real_dataset_is_read_with_its_split():
    root = need(DATA / "groove")
    corpus = groove_corpus(root)
    splits = [it.split for it in corpus.items]
    assert len(corpus.items) == 1150 and splits.count("train") > splits.count("test") > 0
    assert {dict(it.extra)["beat_type"] for it in corpus.items} == {"beat", "fill"}


def test_download_groove_from_a_local_server_then_prepare(groove, tmp_path, monkeypatch):
    """``prepare --download groove``: the archive fetched (its SHA-256 and size checked), unpacked (its one top
    folder dropped) and prepared as the Groove layout, from a server on 127.0.0.1 standing in for the official one;
    a second run asks the server nothing."""
    import hashlib
    import io
    import threading
    import zipfile
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from tunesmith.corpora import download as downloads
    from tunesmith.jobs.prepare import prepare_dataset

    served = tmp_path / "served"
    served.mkdir()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(groove.rglob("*")):
            if f.is_file():
                zf.write(f, "groove/" + f.relative_to(groove).as_posix())
    data = buf.getvalue()
    (served / "groove-v1.0.0-midionly.zip").write_bytes(data)
    asked: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            asked.append(self.path)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(served)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/groove-v1.0.0-midionly.zip"
        pinned = downloads.Archive(
            **{
                **downloads.ARCHIVES["groove"].__dict__,
                "url": url,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
            }
        )
        monkeypatch.setitem(downloads.ARCHIVES, "groove", pinned)
        ds = prepare_dataset(
            None, tmp_path / "data", download="groove", cache_dir=tmp_path / "cache", workers=1, progress=False
        )
        assert len(ds) == 3 and sorted(ds[i].metadata["style"] for i in range(3)) == [
            "funk/groove1",
            "jazz/groove2",
            "rock/fill3",
        ]
        assert (tmp_path / "cache" / "groove-v1.0.0" / "info.csv").is_file() and len(asked) == 1
        prepare_dataset(
            None, tmp_path / "data2", download="groove", cache_dir=tmp_path / "cache", workers=1, progress=False
        )
        assert len(asked) == 1  # unpacked already: no request

        bad = downloads.Archive(**{**pinned.__dict__, "sha256": "0" * 64})
        monkeypatch.setitem(downloads.ARCHIVES, "groove", bad)
        from tunesmith.errors import DownloadError

        with pytest.raises(DownloadError, match="SHA-256|checksum"):
            prepare_dataset(
                None, tmp_path / "d3", download="groove", cache_dir=tmp_path / "c2", workers=1, progress=False
            )
    finally:
        srv.shutdown()
        srv.server_close()


def test_the_official_groove_archive_is_pinned():
    from tunesmith.corpora.download import ARCHIVES

    g = ARCHIVES["groove"]
    assert g.url.endswith("/groove/groove-v1.0.0-midionly.zip") and g.url.startswith("https://")
    assert len(g.sha256) == 64 and int(g.sha256, 16) and g.size == 3260318
