"""The built-in chorales read as four voices with a program each (soprano 40 to bass 43), how voices are told
from part names, a pickup read as a short first bar, and that only the built-in corpus is read this way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tunesmith.corpora import CHORALE_VOICE_PROGRAMS, CHORALE_VOICES, Item, bach_corpus, folder_corpus, read_item
from tunesmith.corpora.bach import chorale_voice_parts, read_chorale, voice_of
from tunesmith.dataset import corpus_fingerprint, prepare
from tunesmith.errors import ScoreReadError
from tunesmith.io.score import read_score


@pytest.fixture(scope="module")
def bwv66_6() -> Item:
    return next(it for it in bach_corpus().items if it.relpath == "bwv66.6.mxl")


def _sounding(notes: np.ndarray, track: int, t: float) -> int | None:
    """The pitch a voice (one track, one note at a time) sounds at time ``t``, or None."""
    on = notes[(notes["track"] == track) & (notes["start_qn"] <= t) & (notes["end_qn"] > t)]
    return int(on["pitch"].max()) if on.size else None


def test_the_mapping_is_a_string_quartet_in_voice_order():
    assert list(CHORALE_VOICE_PROGRAMS) == list(CHORALE_VOICES) == ["soprano", "alto", "tenor", "bass"]
    assert list(CHORALE_VOICE_PROGRAMS.values()) == [40, 41, 42, 43]  # violin, viola, cello, contrabass


def test_a_prepared_chorale_has_four_voices_soprano_to_bass(tmp_path, bwv66_6):
    from tunesmith.corpora import Corpus

    ds = prepare(Corpus("bach", str(Path(bwv66_6.path).parent), [bwv66_6]), tmp_path / "ds", workers=1, progress=False)
    n = ds[0]
    a = n.notes
    assert sorted(set(a["track"].tolist())) == [0, 1, 2, 3]
    assert [int(a["program"][a["track"] == t][0]) for t in range(4)] == [40, 41, 42, 43]
    assert all(len(set(a["program"][a["track"] == t].tolist())) == 1 for t in range(4))
    # the same as reading the file directly
    direct = read_chorale(bwv66_6.path)
    assert np.array_equal(direct.notes, a)
    # the soprano sounds highest at (nearly) every onset where all four sound; the bass lowest
    onsets = np.unique(a["start_qn"])
    top = low = full = 0
    for t in onsets:
        p = [_sounding(a, v, float(t)) for v in range(4)]
        if None in p:
            continue
        full += 1
        top += p[0] >= max(p)
        low += p[3] <= min(p)
    assert full > 30 and top / full > 0.95 and low / full > 0.95
    # a pickup of one beat: a 1/4 bar, then 4/4 (music21 puts the pickup at offset 0 like a whole bar)
    assert n.time_signatures.tolist() == [(0.0, 1, 4), (1.0, 4, 4)]
    assert float(a["start_qn"].min()) == 0.0


def test_every_built_in_chorale_item_is_read_as_a_chorale(tmp_path, bwv66_6):
    items = bach_corpus().items
    assert len(items) > 300 and all(it.chorale for it in items)
    plain = read_score(bwv66_6.path)  # any other MusicXML: every part, the instruments' programs
    assert set(plain.notes["program"].tolist()) == {0}
    assert not folder_corpus(Path(bwv66_6.path).parent).items[0].chorale
    assert read_item(bwv66_6).notes["program"].max() == 43


def test_the_fingerprint_names_how_files_are_read(tmp_path, bwv66_6):
    from dataclasses import replace

    from tunesmith.corpora import Corpus

    root = str(Path(bwv66_6.path).parent)
    chorale = corpus_fingerprint(Corpus("bach", root, [bwv66_6]))
    as_score = corpus_fingerprint(Corpus("bach", root, [replace(bwv66_6, chorale=False)]))
    assert chorale != as_score
    assert bwv66_6.reading().startswith("chorale voices")
    midi = Item(str(tmp_path / "a.mid"), "a.mid")
    assert midi.reading() == ""  # MIDI datasets keep their fingerprints


@pytest.mark.parametrize(
    ("name", "voice"),
    [
        ("Soprano", "soprano"),
        ("Soprano 1", "soprano"),
        ("Soprano\rOboe 1,2\rViolin1", "soprano"),
        ("alto", "alto"),
        ("Alto Oboe 2 Viloin 2", "alto"),
        ("Tenore", "tenor"),
        ("T.", "tenor"),
        ("Bass", "bass"),
        ("Bass Continuo", "bass"),
        ("Basso continuo", None),
        ("Continuo", None),
        ("Violin 1", None),
        ("Viola", None),
        ("Timpani", None),
        ("Bassoon", None),
        ("Organ", None),
    ],
)
def test_voice_names(name, voice):
    assert voice_of(name) == voice


def test_voice_parts_by_name_by_order_or_refused():
    programs = [40, 41, 42, 43]
    # by name: instruments left out, the first of two sopranos taken, tracks in voice order
    names = ["Horn 1", "Soprano 1", "Soprano 2", "Alto", "Tenor", "Bass", "Continuo"]
    assert chorale_voice_parts(names) == list(zip([1, 3, 4, 5], programs, strict=True))
    assert chorale_voice_parts(["Bass", "Tenor", "Alto", "Soprano"]) == list(zip([3, 2, 1, 0], programs, strict=True))
    # four parts with unusual names: score order
    assert chorale_voice_parts(["P1", "P2", "P3", "P4"]) == list(zip(range(4), programs, strict=True))
    assert chorale_voice_parts(["Soprano", "Alto", "Tenor", "Continuo"]) == list(zip(range(4), programs, strict=True))
    with pytest.raises(ValueError, match="not a four-voice chorale: 3 parts"):
        chorale_voice_parts(["Soprano", "Alto", "Tenor"])


PARTS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1">
  <part-list>
    <score-part id="P1"><part-name>Oboe</part-name></score-part>
    <score-part id="P2"><part-name>Tenor</part-name></score-part>
    <score-part id="P3"><part-name>Bass</part-name></score-part>
  </part-list>
  <part id="P1"><measure number="1"><attributes><divisions>1</divisions><time><beats>4</beats>
    <beat-type>4</beat-type></time></attributes>
    <note><pitch><step>C</step><octave>5</octave></pitch><duration>4</duration></note></measure></part>
  <part id="P2"><measure number="1"><attributes><divisions>1</divisions></attributes>
    <note><pitch><step>E</step><octave>4</octave></pitch><duration>4</duration></note></measure></part>
  <part id="P3"><measure number="1"><attributes><divisions>1</divisions></attributes>
    <note><pitch><step>C</step><octave>3</octave></pitch><duration>4</duration></note></measure></part>
</score-partwise>
"""


def test_read_score_takes_the_parts_a_selector_chooses(tmp_path):
    p = tmp_path / "three.musicxml"
    p.write_text(PARTS_XML)
    seen = []

    def bass_and_tenor(names):
        seen.append(list(names))
        return [(2, 43), (1, 42)]

    n = read_score(p, parts=bass_and_tenor)
    assert seen == [["Oboe", "Tenor", "Bass"]]
    assert n.notes[["track", "program", "pitch"]].tolist() == [(0, 43, 48), (1, 42, 64)]
    with pytest.raises(ScoreReadError, match="not a four-voice chorale: 3 parts"):
        read_score(p, parts=chorale_voice_parts)
