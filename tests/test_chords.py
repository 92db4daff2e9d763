"""The chord recogniser (representations/chords.py) on chords written by hand, Harte's syntax both ways, the
segments of a bar, `tunesmith chords`, and a regression check against two chorales analysed by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tunesmith.cli import main
from tunesmith.errors import ConfigError
from tunesmith.io import write_midi
from tunesmith.notes import Notes, make_time_signatures
from tunesmith.representations.chords import (
    QUALITIES,
    followed,
    harte,
    parse_harte,
    parse_progression,
    recognise,
    segments,
)


def block(*chords: tuple[list[int], float, float], drums: list[int] | None = None, ts=None) -> Notes:
    """Chords as (pitches, start, end) in quarter notes, plus drum hits on every beat."""
    pitch, start, end, drum = [], [], [], []
    for ps, s, e in chords:
        pitch += ps
        start += [s] * len(ps)
        end += [e] * len(ps)
        drum += [False] * len(ps)
    for k in drums or []:
        pitch.append(k)
        start.append(0.0)
        end.append(0.1)
        drum.append(True)
    return Notes.from_arrays(
        pitch,
        start_qn=start,
        end_qn=end,
        is_drum=drum,
        time_signatures=ts if ts is not None else make_time_signatures(),
    )


def test_harte_by_hand_and_back():
    assert harte(0, "maj") == "C:maj" and harte(7, "7", 11) == "G:7/3" and harte(9, "min7", 4) == "A:min7/5"
    assert harte(-1, "", -1) == "N" and harte(10, "maj", 10) == "Bb:maj"
    assert (
        parse_harte("G:7/3") == (7, "7", 11)
        and parse_harte("N") == (-1, "", -1)
        and parse_harte("A#") == (10, "maj", -1)
    )
    for root in range(12):
        for q in QUALITIES:
            for bass in (-1, (root + 4) % 12):
                want_bass = -1 if bass == root else bass
                r, qq, b = parse_harte(harte(root, q, bass))
                assert (r, qq, b) == (root, q, want_bass if bass != -1 else -1)
    with pytest.raises(ConfigError, match="Harte"):
        parse_harte("H:maj")
    with pytest.raises(ConfigError, match="degree"):
        parse_harte("C:maj/9")


def test_segments_of_four_four_and_three_four():
    four = block(([60], 0.0, 8.0))
    assert segments(four, "bar").tolist() == [0, 4, 8]
    assert segments(four, "half").tolist() == [0, 2, 4, 6, 8]
    assert segments(four, "beat").tolist() == list(range(9))
    three = block(([60], 0.0, 6.0), ts=make_time_signatures([0.0], [3], [4]))
    assert segments(three, "half").tolist() == [0, 1.5, 3, 4.5, 6]
    with pytest.raises(ConfigError, match="choose one of"):
        segments(four, "quaver")


def test_chords_by_hand():
    c = recognise(
        block(
            ([48, 60, 64, 67], 0.0, 2.0),  # C major, root position
            ([52, 60, 67], 2.0, 4.0),  # C major over E: first inversion
            ([43, 59, 62, 65], 4.0, 6.0),  # G7
            ([45, 60, 64], 6.0, 8.0),  # A minor...
            ([62], 6.5, 6.75),  # ... with a short passing D
            ([50, 53, 57], 10.0, 12.0),  # D minor, after a silent half bar
            drums=[36, 38, 42],  # drums do not count
        ),
        "half",
    )
    assert c.labels() == ["C:maj", "C:maj/3", "G:7", "A:min", "N", "D:min"]
    assert c.root.tolist() == [0, 0, 7, 9, -1, 2] and c.bass.tolist() == [0, 4, 7, 9, -1, 2]
    assert np.allclose(c.start, c.start_qn * 0.5)  # 120 qpm
    merged = recognise(block(([48, 60, 64, 67], 0.0, 8.0)), "half").merged()
    assert merged.labels() == ["C:maj"] and merged.end_qn.tolist() == [8.0]


def test_how_closely_a_piece_follows_a_progression_by_hand():
    """C major for a bar, G major for a bar, A minor then F major a half bar each: followed bar by bar and half by
    half; a seventh asked counts as its triad (not exact), a slash chord's bass is checked, a bar the piece does not
    reach is missed, and a progression repeats to fill the bars."""
    piece = block(([60, 64, 67], 0, 4), ([55, 59, 62], 4, 8), ([57, 60, 64], 8, 10), ([53, 57, 60], 10, 12))
    assert followed(piece, parse_progression("C | G | Am F")) == {
        "asked": 4, "triad": 4, "exact": 4, "slash_asked": 0, "slash": 0
    }  # fmt: skip
    sevenths = followed(piece, parse_progression("C | G7 | Am F/A"))
    assert (sevenths["triad"], sevenths["exact"], sevenths["slash_asked"], sevenths["slash"]) == (4, 3, 1, 0)
    assert followed(piece, parse_progression("C | G | Am F | C"), 4) == {
        "asked": 5, "triad": 4, "exact": 4, "slash_asked": 0, "slash": 0
    }  # fmt: skip
    assert followed(piece, parse_progression("C | G"))["triad"] == 2  # C | G | C | G: the third bar is no C
    assert followed(piece, parse_progression("N | G | Am F"))["asked"] == 3  # no chord asked: not counted
    # after a pick-up bar of one beat (one segment, not two halves), the halves are still found by their time
    pickup = block(([62, 67], 0, 1), ([60, 64, 67], 1, 5), ([55, 59, 62], 5, 7), ([53, 57, 60], 7, 9),
                   ts=make_time_signatures([0.0, 1.0], [1, 4], [4, 4]))  # fmt: skip
    assert followed(pickup, parse_progression("N | C | G F"))["triad"] == 3


def test_a_note_held_over_segments_counts_in_each():
    # a C held over two bars, an E and a G in the second only: the first bar is C alone, the second C major
    c = recognise(block(([48], 0.0, 8.0), ([64, 67], 4.0, 8.0)), "bar")
    assert c.labels()[1] == "C:maj" and c.root[0] == 0


def test_the_command_prints_bars_and_json(tmp_path, capsys):
    path = write_midi(block(([48, 60, 64, 67], 0.0, 4.0), ([43, 59, 62, 65], 4.0, 8.0)), tmp_path / "two.mid")
    assert main(["chords", str(path)]) == 0
    assert capsys.readouterr().out.split() == ["1", "C:maj", ".", "2", "G:7", "."]
    assert main(["chords", str(path), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [g["chord"] for g in got] == ["C:maj", "G:7"] and got[0]["start"] == 0 and got[1]["end"] == 4.0
    assert main(["chords", str(tmp_path / "none.mid")]) == 1
    assert "none.mid" in capsys.readouterr().err


def test_two_analysed_chorales_regression():
    """BWV 269 and 347 against their analyses in music21's corpus: the share of beats whose root and triad agree
    (90.5% over analyses 1-10 when the weights were chosen; docs/chords.md)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_chords import analyses, beats, ours, score

    from tunesmith.io.score import stream_to_notes

    for _, s, truth in analyses([1, 2]):
        want = beats(truth)
        assert score(ours(stream_to_notes(s), want), want)["chord"] >= 0.85


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    """``tunesmith chords song.mid --json | head -1``: the closed pipe is a normal end, not a traceback."""
    import subprocess
    import sys

    bars = [([48, 60, 64, 67] if k % 2 else [43, 55, 59, 62], 4.0 * k, 4.0 * k + 4) for k in range(3000)]
    path = write_midi(block(*bars), tmp_path / "long.mid")
    cmd = f"{sys.executable} -m tunesmith chords {path} --json | head -1"  # 3,000 chords: more than a pipe holds
    done = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() and "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
