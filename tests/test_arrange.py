"""``tunesmith arrange``: a lead sheet's chord symbols read, its melody kept note for note, voices over its chords."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tunesmith.cli import main
from tunesmith.errors import ConfigError
from tunesmith.io import read, read_midi, write_midi
from tunesmith.io.score import read_lead_sheet
from tunesmith.jobs.arrange import arrange, sheet_progression
from tunesmith.jobs.prepare import prepare_dataset
from tunesmith.jobs.train import train
from tunesmith.notes import Notes
from tunesmith.representations.chords import symbols_by_bar


def lead_sheet(path: Path, symbols: list[tuple[float, str]], bars: int = 4) -> Path:
    """A melody of quarter notes in 4/4 (a C major scale up and down) with chord symbols at the given offsets,
    written as MusicXML by music21."""
    from music21 import harmony, meter, note, stream

    part = stream.Part()
    part.append(meter.TimeSignature("4/4"))
    pitches = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 60]
    for k in range(4 * bars):
        part.append(note.Note(pitches[k % len(pitches)], quarterLength=1.0))
    for at, figure in symbols:
        part.insert(at, harmony.NoChord() if figure == "N.C." else harmony.ChordSymbol(figure))
    score = stream.Score([part])
    score.write("musicxml", fp=str(path))
    return path


def test_a_lead_sheets_chord_symbols_are_read_bar_by_bar(tmp_path):
    sheet = lead_sheet(tmp_path / "s.musicxml", [(0, "C"), (4, "G7/B"), (8, "Am"), (10, "F"), (12, "Dm7")])
    notes, symbols = read_lead_sheet(sheet)
    assert len(notes) == 16 and notes.pitch[:3].tolist() == [60, 62, 64]  # the symbols are no notes
    assert symbols == [(0.0, 0, "maj", -1), (4.0, 7, "7", 11), (8.0, 9, "min", -1), (10.0, 5, "maj", -1),
                       (12.0, 2, "min7", -1)]  # fmt: skip
    bars = symbols_by_bar(symbols, np.array([0.0, 4.0, 8.0, 12.0, 16.0]))
    assert bars == [[(0, "maj", -1)], [(7, "7", 11)], [(9, "min", -1), (5, "maj", -1)], [(2, "min7", -1)]]
    assert sheet_progression(sheet) == "C:maj | G:7/3 | A:min F:maj | D:min7"


def test_a_chord_that_begins_after_the_first_beat_holds_from_the_bars_start():
    bars = symbols_by_bar([(1.0, 7, "maj", -1), (6.0, 0, "maj", -1)], np.array([0.0, 4.0, 8.0]))
    assert bars == [[(7, "maj", -1)], [(7, "maj", -1), (0, "maj", -1)]]


def test_a_sheet_without_chords_is_an_error_that_says_what_to_do(tmp_path):
    sheet = lead_sheet(tmp_path / "bare.musicxml", [])
    with pytest.raises(ConfigError, match="bare.musicxml: no chord symbols.*--chords"):
        sheet_progression(sheet)
    midi = tmp_path / "m.mid"
    write_midi(Notes.from_arrays([60, 62], start_qn=[0, 1], end_qn=[1, 2]), midi)
    with pytest.raises(ConfigError, match="m.mid: no chord symbols"):
        sheet_progression(midi)


@pytest.fixture(scope="module")
def chorale_run(tmp_path_factory) -> Path:
    """The tiny Transformer on 40 chorales (several instruments, chord controls), a few steps."""
    data = prepare_dataset("bach", tmp_path_factory.mktemp("bach") / "data", limit=40, workers=1, progress=False)
    out = tmp_path_factory.mktemp("tiny") / "run"
    overrides = {"context": "64", "max_steps": "6", "val_max_batches": "2", "batch_size": "4"}
    train("transformer", data.root, out, preset="tiny", overrides=overrides, progress=False)
    return out


def test_arrange_keeps_the_melody_note_for_note(chorale_run, tmp_path):
    sheet = lead_sheet(tmp_path / "s.musicxml", [(0, "C"), (4, "G7"), (8, "Am"), (12, "F")])
    melody = read(sheet)
    written = arrange(sheet, chorale_run, tmp_path / "out", n=2, seed=1, candidates=1)
    assert [p.name for p in written] == ["arrangement_00.mid", "arrangement_01.mid"]
    for path in written:
        piece = read_midi(path)
        kept = piece.notes[piece.notes["track"] == 0]
        assert kept["pitch"].tolist() == melody.pitch.tolist()
        assert np.allclose(kept["start_qn"], melody.start_qn) and np.allclose(kept["end_qn"], melody.end_qn)
        assert (piece.notes["track"] != 0).any()  # voices were written beside it
    listing = (tmp_path / "out" / "arrangements.json").read_text()
    assert "C:maj | G:7 | A:min | F:maj" in listing  # the progression it was told


def test_arrange_from_the_command_line_and_its_errors(chorale_run, tmp_path, capsys):
    sheet = lead_sheet(tmp_path / "s.musicxml", [(0, "C"), (8, "F")])
    assert main(["arrange", str(sheet), "--run", str(chorale_run), "--out", str(tmp_path / "a"), "--candidates",
                 "1"]) == 0  # fmt: skip
    assert (tmp_path / "a" / "arrangement_00.mid").is_file()
    bare = lead_sheet(tmp_path / "bare.musicxml", [])
    assert main(["arrange", str(bare), "--run", str(chorale_run), "--out", str(tmp_path / "b")]) == 1
    assert main(["arrange", str(bare), "--run", str(chorale_run), "--out", str(tmp_path / "c"), "--chords",
                 "C | H7"]) == 1  # fmt: skip
    assert main(["arrange", str(sheet), "--run", str(chorale_run), "--out", str(tmp_path / "d"),
                 "--chord-strictness", "-1"]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "no chord symbols" in err and "'H7' is not a chord symbol" in err and "Traceback" not in err
    assert "--chord-strictness -1.0: a number of nats" in err


def test_the_voices_under_a_kept_melody_keep_closer_to_the_chords(chorale_run, tmp_path, sample_calls):
    """arrange asks for strictness 8 (KEPT_CHORD_STRICTNESS) where generate's default is 4; --chord-strictness
    overrides it."""
    sheet = lead_sheet(tmp_path / "s.musicxml", [(0, "C"), (8, "F")])
    arrange(sheet, chorale_run, tmp_path / "a", candidates=1)
    assert main(["arrange", str(sheet), "--run", str(chorale_run), "--out", str(tmp_path / "b"), "--candidates", "1",
                 "--chord-strictness", "2.5"]) == 0  # fmt: skip
    assert [kw.get("chord_strictness") for kw in sample_calls.kwargs] == [8.0, 2.5]


def test_prepare_keeps_a_lead_sheets_chords_and_the_cache_takes_them(tmp_path):
    """A folder of lead sheets prepares into pieces that carry their chord symbols; the token cache's chords per
    bar are the sheet's (a melody of scale steps, which the recogniser alone would not read as G7 or F), bar by bar
    and half by half."""
    from tunesmith.dataset import Dataset
    from tunesmith.families.transformer.data import TokenCache
    from tunesmith.representations.chords import chord_index
    from tunesmith.representations.tokens import TokenizerSpec

    src = tmp_path / "sheets"
    src.mkdir()
    for k in range(3):
        lead_sheet(src / f"s{k}.musicxml", [(0, "C"), (4, "G7/B"), (8, "Am"), (10, "F"), (12, "N.C.")])
    ds = Dataset.load(prepare_dataset(str(src), tmp_path / "data", workers=1, progress=False).root)
    piece = ds[0]
    assert piece.metadata["chord_symbols"] == "C:maj@0;G:7/3@4;A:min@8;F:maj@10;N@12"
    cache = TokenCache.build(ds, TokenizerSpec("REMI", 8, 32, True, True, 0.0).build(), progress=False, workers=1)
    table = cache.piece_chords(0)
    assert table["chord"][:4].tolist() == [[chord_index(0, "maj"), -1], [chord_index(7, "7"), -1],
                                           [chord_index(9, "min"), chord_index(5, "maj")], [-1, -1]]  # fmt: skip
    assert table["bass"][:2].tolist() == [[-1, -1], [11, -1]]


def test_a_sheet_that_changes_metre_is_arranged_over_its_chords(chorale_run, tmp_path):
    """A bar of 3/4, then 4/4: the kept melody brings each bar's metre, which a progression's single metre (and the
    chords' strictness) must give way to; the melody comes back note for note."""
    from music21 import harmony, meter, note, stream

    part = stream.Part()
    part.append(meter.TimeSignature("3/4"))
    for p in (67, 65, 64):
        part.append(note.Note(p, quarterLength=1.0))
    part.append(meter.TimeSignature("4/4"))
    for p in (60, 62, 64, 65, 67, 69, 71, 72):
        part.append(note.Note(p, quarterLength=1.0))
    part.insert(0, harmony.ChordSymbol("G7"))
    part.insert(3, harmony.ChordSymbol("C"))
    part.insert(7, harmony.ChordSymbol("F"))
    sheet = tmp_path / "metres.musicxml"
    stream.Score([part]).write("musicxml", fp=str(sheet))
    melody = read(sheet)
    written = arrange(sheet, chorale_run, tmp_path / "out", n=2, seed=0, candidates=1,
                      controls={"chord_strictness": 8.0})  # fmt: skip
    for path in written:
        piece = read_midi(path)
        kept = piece.notes[piece.notes["track"] == 0]
        assert kept["pitch"].tolist() == melody.pitch.tolist()
        assert np.allclose(kept["start_qn"], melody.start_qn) and np.allclose(kept["end_qn"], melody.end_qn)
