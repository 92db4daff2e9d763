"""Score reading (MusicXML, ABC, Humdrum through music21) against tiny hand-written files with hand-computed
values, its errors, and the built-in Bach chorale corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tunesmith.corpora.bach import bach_chorale_paths
from tunesmith.errors import ScoreReadError, UnsupportedFormatError
from tunesmith.io import read
from tunesmith.io.score import SCORE_EXTENSIONS, read_score, stream_to_notes
from tunesmith.notes import DEFAULT_VELOCITY

# Two parts in 3/4, quarter = 90 from qn 0 and quarter = 60 from qn 3 (measure 2), divisions 2 (a quarter = 2).
#   P1 (flute, MusicXML midi-program 74 = 0-based program 73):
#       m1: C5 quarter (qn 0-1), quarter rest, E5 quarter tied over the barline ...
#       m2: ... into an E5 half (one note E5, qn 2-5); G5 quarter with dynamics="50" (qn 5-6)
#   P2 (no instrument, program 0):
#       m1: C3 dotted half (qn 0-3)
#       m2: quarter rest, chord A2 + E3 half (qn 4-6)
# Seconds: qn * 60/90 up to qn 3 (= 2 s), then 2 + (qn - 3) * 60/60.
MUSICXML = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1">
  <work><work-title>Tiny</work-title></work>
  <identification><creator type="composer">Someone</creator></identification>
  <part-list>
    <score-part id="P1"><part-name>Flute</part-name>
      <score-instrument id="P1-I1"><instrument-name>Flute</instrument-name></score-instrument>
      <midi-instrument id="P1-I1"><midi-channel>1</midi-channel><midi-program>74</midi-program></midi-instrument>
    </score-part>
    <score-part id="P2"><part-name>Bass</part-name></score-part>
  </part-list>
  <part id="P1">
    <measure number="1">
      <attributes><divisions>2</divisions><key><fifths>0</fifths></key>
        <time><beats>3</beats><beat-type>4</beat-type></time><clef><sign>G</sign><line>2</line></clef></attributes>
      <direction placement="above"><direction-type><metronome><beat-unit>quarter</beat-unit>
        <per-minute>90</per-minute></metronome></direction-type><sound tempo="90"/></direction>
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>2</duration><type>quarter</type></note>
      <note><rest/><duration>2</duration><type>quarter</type></note>
      <note><pitch><step>E</step><octave>5</octave></pitch><duration>2</duration><tie type="start"/>
        <type>quarter</type><notations><tied type="start"/></notations></note>
    </measure>
    <measure number="2">
      <direction placement="above"><direction-type><metronome><beat-unit>quarter</beat-unit>
        <per-minute>60</per-minute></metronome></direction-type><sound tempo="60"/></direction>
      <note><pitch><step>E</step><octave>5</octave></pitch><duration>4</duration><tie type="stop"/>
        <type>half</type><notations><tied type="stop"/></notations></note>
      <note dynamics="50"><pitch><step>G</step><octave>5</octave></pitch><duration>2</duration>
        <type>quarter</type></note>
    </measure>
  </part>
  <part id="P2">
    <measure number="1">
      <attributes><divisions>2</divisions><key><fifths>0</fifths></key>
        <time><beats>3</beats><beat-type>4</beat-type></time><clef><sign>F</sign><line>4</line></clef></attributes>
      <note><pitch><step>C</step><octave>3</octave></pitch><duration>6</duration><type>half</type><dot/></note>
    </measure>
    <measure number="2">
      <note><rest/><duration>2</duration><type>quarter</type></note>
      <note><pitch><step>A</step><octave>2</octave></pitch><duration>4</duration><type>half</type></note>
      <note><chord/><pitch><step>E</step><octave>3</octave></pitch><duration>4</duration><type>half</type></note>
    </measure>
  </part>
</score-partwise>
"""

# Two **kern spines; music21 makes the rightmost spine (the upper voice) the first part. *MM72: 72 qpm.
#   upper (track 0): c (C4 = 60) qn 0-1, d 1-1.5, e 1.5-2, f 2-3, g tied [2g 4g] 3-6
#   lower (track 1): C (C3 = 48) qn 0-1, D 1-2, E 2-3, dotted-half G 3-6
KERN = (
    "!!!COM: Nobody\n!!!OTL: Kern test\n"
    "**kern\t**kern\n*MM72\t*MM72\n*M3/4\t*M3/4\n=1-\t=1-\n"
    "4C\t4c\n4D\t8d\n.\t8e\n4E\t4f\n=2\t=2\n2.G\t[2g\n.\t4g]\n==\t==\n*-\t*-\n"
)


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def _qn_to_s_90_60(qn: float) -> float:
    return qn * 60 / 90 if qn <= 3 else 2.0 + (qn - 3) * 60 / 60


def test_musicxml_two_parts_tie_chord_rest_tempo(tmp_path: Path) -> None:
    n = read_score(_write(tmp_path, "tiny.musicxml", MUSICXML))
    # sorted by start, then track, then pitch
    assert n.pitch.tolist() == [72, 48, 76, 45, 52, 79]
    assert n.notes["track"].tolist() == [0, 1, 0, 1, 1, 0]
    assert n.notes["program"].tolist() == [73, 0, 73, 0, 0, 73]
    assert n.start_qn.tolist() == [0.0, 0.0, 2.0, 4.0, 4.0, 5.0]
    assert n.end_qn.tolist() == [1.0, 3.0, 5.0, 6.0, 6.0, 6.0]  # the tied E5 is one note, qn 2-5
    expected_start = [_qn_to_s_90_60(q) for q in n.start_qn]
    expected_end = [_qn_to_s_90_60(q) for q in n.end_qn]
    assert expected_start == pytest.approx([0.0, 0.0, 4 / 3, 3.0, 3.0, 4.0])
    np.testing.assert_allclose(n.start, expected_start, rtol=0, atol=1e-12)
    np.testing.assert_allclose(n.end, expected_end, rtol=0, atol=1e-12)
    # dynamics="50": MusicXML's scale has 100 = velocity 90, so 50 -> 45; the others carry no velocity
    assert n.velocity.tolist() == [DEFAULT_VELOCITY] * 5 + [45]
    assert not n.notes["is_drum"].any()
    assert n.tempos["qn"].tolist() == [0.0, 3.0]
    assert n.tempos["qpm"].tolist() == [90.0, 60.0]
    assert n.tempos["seconds"].tolist() == pytest.approx([0.0, 2.0])
    assert n.time_signatures.tolist() == [(0.0, 3, 4)]
    assert n.metadata == {"composer": "Someone", "title": "Tiny"}
    assert n.source == str(tmp_path / "tiny.musicxml")


def test_musicxml_by_extension_and_through_io_read(tmp_path: Path) -> None:
    a = read_score(_write(tmp_path, "a.xml", MUSICXML))
    b = read(_write(tmp_path, "b.musicxml", MUSICXML))
    assert np.array_equal(a.notes, b.notes)


def test_abc_tune(tmp_path: Path) -> None:
    n = read_score(_write(tmp_path, "t.abc", "X:1\nT:Test\nM:4/4\nL:1/4\nK:C\nC D E F|G2 G2|]\n"))
    assert n.pitch.tolist() == [60, 62, 64, 65, 67, 67]
    assert n.start_qn.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 6.0]
    assert n.end_qn.tolist() == [1.0, 2.0, 3.0, 4.0, 6.0, 8.0]
    # no tempo given: 120 qpm, so seconds = qn / 2
    assert n.start.tolist() == [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]
    assert n.end.tolist() == [0.5, 1.0, 1.5, 2.0, 3.0, 4.0]
    assert n.tempos.tolist() == [(0.0, 0.0, 120.0)]
    assert n.time_signatures.tolist() == [(0.0, 4, 4)]
    assert n.notes["track"].tolist() == [0] * 6
    assert n.velocity.tolist() == [DEFAULT_VELOCITY] * 6
    assert n.metadata == {"title": "Test"}


def test_abc_tie_chord_rest_and_tempo(tmp_path: Path) -> None:
    # Q:1/4=60 -> seconds = qn. G2-G: one G4 qn 0-3; [CEG]2 a chord qn 3-5; z a rest.
    n = read_score(_write(tmp_path, "t.abc", "X:1\nT:Tied\nC:Anon\nM:3/4\nL:1/4\nQ:1/4=60\nK:C\nG2- G|[CEG]2 z|]\n"))
    assert n.pitch.tolist() == [67, 60, 64, 67]
    assert n.start_qn.tolist() == [0.0, 3.0, 3.0, 3.0]
    assert n.end_qn.tolist() == [3.0, 5.0, 5.0, 5.0]
    assert n.start.tolist() == [0.0, 3.0, 3.0, 3.0]
    assert n.end.tolist() == [3.0, 5.0, 5.0, 5.0]
    assert n.time_signatures.tolist() == [(0.0, 3, 4)]
    assert n.metadata == {"composer": "Anon", "title": "Tied"}


def test_abc_several_tunes_reads_the_first_and_warns(tmp_path: Path) -> None:
    text = "X:1\nT:One\nM:4/4\nL:1/4\nK:C\nC D E F|]\n\nX:2\nT:Two\nM:3/4\nL:1/4\nK:G\nG A B|]\n"
    with pytest.warns(UserWarning, match=r"2 tunes.*ignored 1"):
        n = read_score(_write(tmp_path, "two.abc", text))
    assert n.pitch.tolist() == [60, 62, 64, 65]
    assert n.metadata["title"] == "One"


def test_abc_latin1_file(tmp_path: Path) -> None:
    n = read_score(_write(tmp_path, "l.abc", "X:1\nT:Caf\u00e9\nM:2/4\nL:1/4\nK:C\nC D|]\n".encode("latin-1")))
    assert n.metadata["title"] == "Caf\u00e9"
    assert n.pitch.tolist() == [60, 62]


def test_humdrum_kern(tmp_path: Path) -> None:
    n = read_score(_write(tmp_path, "k.krn", KERN))
    upper = n[n.notes["track"] == 0]
    lower = n[n.notes["track"] == 1]
    assert upper.pitch.tolist() == [60, 62, 64, 65, 67]
    assert upper.start_qn.tolist() == [0.0, 1.0, 1.5, 2.0, 3.0]
    assert upper.end_qn.tolist() == [1.0, 1.5, 2.0, 3.0, 6.0]  # [2g 4g] tied: one note
    assert lower.pitch.tolist() == [48, 50, 52, 55]
    assert lower.start_qn.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert lower.end_qn.tolist() == [1.0, 2.0, 3.0, 6.0]
    np.testing.assert_allclose(n.start, n.start_qn * 60 / 72, rtol=0, atol=1e-12)
    np.testing.assert_allclose(n.end, n.end_qn * 60 / 72, rtol=0, atol=1e-12)
    assert n.tempos.tolist() == [(0.0, 0.0, 72.0)]
    assert n.time_signatures.tolist() == [(0.0, 3, 4)]
    assert n.metadata == {"composer": "Nobody", "title": "Kern test"}


def test_stream_to_notes_on_a_hand_built_part_leaves_it_unchanged() -> None:
    from music21 import chord, note, stream, tie

    part = stream.Part()
    a, b = note.Note("D4", quarterLength=1.0), note.Note("D4", quarterLength=2.0)
    a.tie, b.tie = tie.Tie("start"), tie.Tie("stop")
    part.append([a, b, note.Rest(quarterLength=1.0), chord.Chord(["C4", "G4"], quarterLength=0.5)])
    grace = note.Note("B3").getGrace()
    part.append([grace, note.Note("A4", quarterLength=1.0)])
    n = stream_to_notes(part, source="hand")
    assert n.pitch.tolist() == [62, 60, 67, 69]
    assert n.start_qn.tolist() == [0.0, 4.0, 4.0, 4.5]
    assert n.end_qn.tolist() == [3.0, 4.5, 4.5, 5.5]
    assert n.source == "hand"
    assert [e.quarterLength for e in part.notes] == [1.0, 2.0, 0.5, 0.0, 1.0]  # not stripped in place


def test_score_without_notes_is_empty(tmp_path: Path) -> None:
    n = read_score(_write(tmp_path, "rests.abc", "X:1\nT:Silence\nM:4/4\nL:1/4\nK:C\nz4|]\n"))
    assert len(n) == 0
    assert n.metadata == {"title": "Silence"}


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.xml", b"", "empty file"),
        ("empty.abc", b"", "empty file"),
        ("garbage.xml", b"\x00\x01garbage\xff\xfe", "not a readable MusicXML file"),
        ("garbage.mxl", b"PK\x03\x04 not really a zip", "not a readable MusicXML file"),
        ("html.musicxml", b"<html><body>hi</body></html>", "not a readable MusicXML file"),
        ("garbage.abc", b"hello world\n", "not a readable ABC file"),
        ("garbage.krn", b"hello world\n", "not a readable Humdrum file"),
    ],
)
def test_unreadable_files_raise_score_read_error(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    p = _write(tmp_path, name, content)
    with pytest.raises(ScoreReadError, match=reason) as info:
        read_score(p)
    assert str(p) in str(info.value)
    assert info.value.path == str(p)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope.musicxml"
    with pytest.raises(ScoreReadError, match="no such file") as info:
        read_score(missing)
    assert str(missing) in str(info.value)
    folder = tmp_path / "folder.xml"
    folder.mkdir()
    with pytest.raises(ScoreReadError, match="directory") as info:
        read(folder)
    assert str(folder) in str(info.value)


def test_unsupported_extension(tmp_path: Path) -> None:
    p = _write(tmp_path, "notes.txt", "C D E F")
    with pytest.raises(UnsupportedFormatError) as info:
        read(p)
    assert str(p) in str(info.value)
    assert ".txt" not in SCORE_EXTENSIONS


def test_bach_chorale_paths() -> None:
    paths = bach_chorale_paths()
    assert len(paths) > 300
    assert all(p.suffix in (".mxl", ".xml", ".musicxml", ".krn") for p in paths)
    assert not any(p.suffix == ".rntxt" for p in paths)
    assert [p.name for p in paths] == sorted(p.name for p in paths)
    stems = [p.stem for p in paths]
    assert len(stems) == len(set(stems))  # one format per chorale
    assert all(p.is_file() for p in paths)


def test_first_bach_chorale_reads() -> None:
    n = read_score(bach_chorale_paths()[0])
    # four voices (SATB), and in some chorales instrumental parts besides
    assert len(np.unique(n.notes["track"])) >= 4
    assert len(n) > 20
    assert int(n.pitch.min()) >= 30
    assert int(n.pitch.max()) <= 90
    assert np.all(n.end > n.start)
    assert np.all(np.diff(n.start) >= 0)


PICKUP_XML = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1">
  <part-list><score-part id="P1"><part-name>Melody</part-name></score-part></part-list>
  <part id="P1">
    <measure number="0" implicit="yes"><attributes><divisions>2</divisions><time><beats>3</beats>
      <beat-type>4</beat-type></time></attributes>
      <note><pitch><step>G</step><octave>4</octave></pitch><duration>1</duration></note></measure>
    <measure number="1">
      <note><pitch><step>C</step><octave>5</octave></pitch><duration>6</duration></note></measure>
  </part>
</score-partwise>
"""


def test_a_pickup_is_a_short_first_bar(tmp_path: Path) -> None:
    """An eighth-note pickup to 3/4: a 1/8 bar at 0, then 3/4 from the pickup's end; note times unmoved."""
    n = read_score(_write(tmp_path, "pickup.musicxml", PICKUP_XML))
    assert n.time_signatures.tolist() == [(0.0, 1, 8), (0.5, 3, 4)]
    assert n.notes[["pitch", "start_qn", "end_qn"]].tolist() == [(67, 0.0, 0.5), (72, 0.5, 3.5)]
