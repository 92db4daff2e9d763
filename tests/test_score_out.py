"""Scores out: the beat grid by hand (16ths and 8th triplets, whichever is nearer), a MusicXML score read back note
for note, spelled for its key, with its chord symbols and a piano on two staves, and ``--score`` on the commands."""

from __future__ import annotations

import numpy as np
import pytest

from tunesmith.cli import main
from tunesmith.grid import beat_grid, on_beat_grid
from tunesmith.io import read_midi, write_midi
from tunesmith.io.score import read_score, write_score
from tunesmith.notes import Notes, make_tempo_map, make_time_signatures


def test_times_go_to_the_nearer_of_the_16th_and_the_triplet_grid():
    q = beat_grid(np.array([0.26, 0.32, 0.5, 0.66, 0.9, 1.30, 1.17, 1.125]))
    # 1.30 is 0.033 from 4/3 and 0.05 from 1.25; 1.17 is 0.08 from 1.25 and 0.16 from 1 1/3; 1.125 is as far
    # from 1.0 as from 1.25: the 16th wins a tie
    assert q.tolist() == pytest.approx([0.25, 1 / 3, 0.5, 2 / 3, 1.0, 4 / 3, 1.25, 1.25])
    n = Notes.from_arrays([60, 62], start_qn=[0.02, 1.3], end_qn=[0.05, 1.31], tempos=make_tempo_map([0.0], [60.0]))
    g = on_beat_grid(n).notes
    assert g["start_qn"].tolist() == pytest.approx([0.0, 4 / 3]) and g["end_qn"].tolist() == pytest.approx(
        [0.25, 5 / 3]
    )
    assert g["start"].tolist() == pytest.approx([0.0, 4 / 3])  # seconds from the tempo map (60 qpm)


def piece() -> Notes:
    start = np.array([0.0, 0.0, 1.0, 4 / 3, 5 / 3, 2.0, 2.0, 4.0])
    end = np.array([2.0, 1.0, 4 / 3, 5 / 3, 2.0, 5.0, 3.0, 4.5])
    return Notes.from_arrays(
        [72, 64, 65, 70, 67, 60, 48, 62], start_qn=start, end_qn=end, velocity=80,
        tempos=make_tempo_map([0.0], [96.0]), time_signatures=make_time_signatures([0.0], [4], [4]),
    )  # fmt: skip


def test_a_score_reads_back_note_for_note_in_its_key_with_its_chords(tmp_path):
    p = piece()
    path = write_score(p, tmp_path / "s.musicxml", key=(5, False), chords=[(0.0, 5, "maj", -1), (2.0, 0, "7", 4)])
    back = read_score(path).notes
    a = p.notes
    order_a, order_b = np.lexsort((a["pitch"], a["start_qn"])), np.lexsort((back["pitch"], back["start_qn"]))
    assert back["pitch"][order_b].tolist() == a["pitch"][order_a].tolist()
    assert np.allclose(back["start_qn"][order_b], a["start_qn"][order_a])  # triplets and the tie over the bar line
    assert np.allclose(back["end_qn"][order_b], a["end_qn"][order_a])
    xml = path.read_text()
    assert "<fifths>-1</fifths>" in xml  # F major
    assert "<step>B</step>" in xml and "<alter>-1</alter>" in xml and "<step>A</step>\n          <alter>1" not in xml
    assert xml.count("<harmony") == 2 and "<kind>dominant</kind>" in xml and "<bass-step>E</bass-step>" in xml
    assert xml.count('<part id="') == 1 and "<staves>2</staves>" in xml and "<staff>2</staff>" in xml  # grand staff
    assert len(set(read_score(path).notes["track"].tolist())) == 1  # its staves are one track again


def test_generate_with_score_writes_the_grid_of_each_piece_as_musicxml(tmp_path):
    assert main(["generate", "bach", "--out", str(tmp_path), "-n", "1", "--length", "24", "--score"]) == 0
    midi = tmp_path / "sample_00.mid"
    score = tmp_path / "sample_00.musicxml"
    assert score.is_file()
    want = on_beat_grid(read_midi(midi)).notes
    got = read_score(score).notes
    key = lambda a: np.lexsort((a["pitch"], a["start_qn"]))  # noqa: E731
    assert got["pitch"][key(got)].tolist() == want["pitch"][key(want)].tolist()
    assert np.allclose(got["start_qn"][key(got)], want["start_qn"][key(want)])
    assert np.allclose(got["end_qn"][key(got)], want["end_qn"][key(want)])
    assert "<harmony" in score.read_text()


def test_drum_tracks_are_written_on_a_percussion_staff(tmp_path):
    drums = Notes.from_arrays([36, 42, 38], start_qn=[0.0, 0.5, 1.0], end_qn=[0.25, 0.75, 1.25], is_drum=True)
    path = write_midi(drums, tmp_path / "d.mid")
    write_score(on_beat_grid(read_midi(path)), tmp_path / "d.musicxml")
    xml = (tmp_path / "d.musicxml").read_text()
    assert "<sign>percussion</sign>" in xml and xml.count("<unpitched>") == 3


def test_a_score_engraves_with_musescore_where_it_is_installed(tmp_path):
    """The MusicXML a composer gets opens in a notation program: MuseScore engraves it into a page with ink on it
    (skipped, with the reason, where no MuseScore is installed)."""
    from tunesmith.errors import EngineUnavailable
    from tunesmith.io.score import engrave

    path = write_score(piece(), tmp_path / "s.musicxml", key=(5, False), chords=[(0.0, 5, "maj", -1)])
    try:
        pages = engrave(path, tmp_path / "s.png")
    except EngineUnavailable as e:
        pytest.skip(str(e))
    assert [p.name for p in pages] == ["s-1.png"]
    import matplotlib.image

    page = matplotlib.image.imread(pages[0])
    alpha = page[..., 3:4] if page.shape[-1] == 4 else 1.0  # MuseScore's page is transparent: laid on white
    grey = (page[..., :3] * alpha + (1 - alpha)).mean(axis=2)
    ink = (grey < 0.5).mean()
    assert page.shape[0] > 1000 and 0.001 < ink < 0.2  # a page, with staves and notes on it, mostly white
    assert "<creator type=\"composer\">tunesmith</creator>" in path.read_text()  # not music21's own name
