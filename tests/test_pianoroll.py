from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunesmith.errors import ConfigError
from tunesmith.io import read_midi
from tunesmith.notes import Notes, make_tempo_map
from tunesmith.representations.pianoroll import (
    FRAME,
    ONSET,
    PianoRollConfig,
    from_pianoroll,
    phrases,
    to_pianoroll,
)

CFG = PianoRollConfig()


def _table(notes: Notes) -> list[tuple[int, float, float]]:
    return sorted(zip(notes.pitch.tolist(), notes.start_qn.tolist(), notes.end_qn.tolist(), strict=True))


# ------------------------------------------------------------------------------------------------ hand examples
def test_defaults():
    assert (CFG.steps_per_quarter, CFG.lowest_pitch, CFG.n_pitches, CFG.highest_pitch) == (4, 24, 84, 107)
    assert (CFG.steps_per_bar, CFG.phrase_steps) == (16, 64)


def test_to_pianoroll_by_hand():
    # C4 twice in a row (qn 0-1, 1-2), E4 from qn 0.5 to 1.25, a drum and two notes outside C1..B7
    notes = Notes.from_arrays(
        [60, 60, 64, 36, 23, 108, 24, 107],
        start_qn=[0, 1, 0.5, 0, 0, 0, 2, 2],
        end_qn=[1, 2, 1.25, 1, 1, 1, 2.25, 2.25],
        is_drum=[False, False, False, True, False, False, False, False],
    )
    roll = to_pianoroll(notes)
    assert roll.shape == (9, 84, 2) and roll.dtype == np.uint8
    c4, e4 = 60 - 24, 64 - 24
    assert roll[:, c4, FRAME].tolist() == [1, 1, 1, 1, 1, 1, 1, 1, 0]
    assert roll[:, c4, ONSET].tolist() == [1, 0, 0, 0, 1, 0, 0, 0, 0]  # the repeated note keeps its onset
    assert roll[:, e4, FRAME].tolist() == [0, 0, 1, 1, 1, 0, 0, 0, 0]
    assert roll[:, e4, ONSET].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert roll[8, 0].tolist() == [1, 1] and roll[8, 83].tolist() == [1, 1]  # C1 and B7 are the edges
    # the drum (36 = C2, row 12) and the pitches 23 and 108 are dropped: 4 notes' onsets in all
    assert roll[:, 12].sum() == 0 and roll[..., ONSET].sum() == 5
    assert roll[..., FRAME].sum() == 8 + 3 + 1 + 1


def test_quantisation_rounds_half_up_and_keeps_short_notes():
    notes = Notes.from_arrays([60, 62, 64], start_qn=[0.125, 0.3, 1.0], end_qn=[0.375, 0.36, 1.01])
    roll = to_pianoroll(notes)
    # 0.125 qn = step 0.5 -> 1; 0.375 -> 1.5 -> 2; 0.3 -> 1.2 -> 1 with end 1.44 -> 1, kept one step; 1.01 -> 4
    assert np.flatnonzero(roll[:, 36, FRAME]).tolist() == [1]
    assert np.flatnonzero(roll[:, 38, FRAME]).tolist() == [1]
    assert np.flatnonzero(roll[:, 40, FRAME]).tolist() == [4]


def test_grid_follows_beats_through_tempo_changes():
    """Performance MIDI with tempo changes: notes on beats in quarter notes land on the beat grid."""
    tempos = make_tempo_map([0.0, 2.0, 3.0], [120.0, 60.0, 90.0])
    notes = Notes.from_arrays([60, 62, 64], start_qn=[1, 2, 3.5], end_qn=[2, 3, 4], tempos=tempos)
    assert notes.start.tolist() == [0.5, 1.0, 2.0 + 0.5 * 60 / 90]  # uneven in seconds
    roll = to_pianoroll(notes)
    assert np.flatnonzero(roll[..., ONSET].any(1)).tolist() == [4, 8, 14]
    back = from_pianoroll(roll)
    assert _table(back) == [(60, 1.0, 2.0), (62, 2.0, 3.0), (64, 3.5, 4.0)]
    assert back.tempos["qpm"].tolist() == [120.0]


def test_from_pianoroll_rules():
    roll = np.zeros((8, 84, 2), dtype=np.float32)
    roll[0:6, 10, FRAME] = 0.9  # one run of frames ...
    roll[0, 10, ONSET] = 0.8
    roll[3, 10, ONSET] = 0.7  # ... with a second onset inside: two notes
    roll[2:4, 20, FRAME] = 0.6  # frames without any onset: a note all the same
    roll[5, 30, ONSET] = 1.0  # an onset on a silent cell: nothing
    roll[1:3, 40, FRAME] = 0.4  # under the threshold
    notes = from_pianoroll(roll)
    assert _table(notes) == [(34, 0.0, 0.75), (34, 0.75, 1.5), (44, 0.5, 1.0)]
    assert notes.velocity.tolist() == [80, 80, 80]
    assert _table(from_pianoroll(roll, threshold=0.3))[-1] == (64, 0.25, 0.75)
    # frames only: the repeated note merges into one
    assert _table(from_pianoroll(roll[..., FRAME]))[:2] == [(34, 0.0, 1.5), (44, 0.5, 1.0)]
    assert _table(from_pianoroll(roll[..., :1], qpm=60))[0] == (34, 0.0, 1.5)
    assert from_pianoroll(roll, qpm=60).start.tolist() == [0.0, 0.5, 0.75]  # seconds at 60 qpm, start order


def test_notes_at_the_edges_of_the_roll_and_of_rows():
    roll = np.zeros((4, 84, 2), dtype=np.uint8)
    roll[:, 0, FRAME] = 1  # the lowest row sounds to the very end ...
    roll[0, 1, FRAME] = 1  # ... and the next row starts at step 0: they must not join
    notes = from_pianoroll(roll)
    assert _table(notes) == [(24, 0.0, 1.0), (25, 0.0, 0.25)]
    assert len(from_pianoroll(np.zeros((0, 84, 2)))) == 0


def test_errors():
    with pytest.raises(ConfigError, match="leave MIDI"):
        PianoRollConfig(lowest_pitch=60, n_pitches=84)
    with pytest.raises(ConfigError, match="positive"):
        PianoRollConfig(steps_per_quarter=0)
    with pytest.raises(ConfigError, match=r"expected shape \(T, 84"):
        from_pianoroll(np.zeros((4, 88, 2)))
    with pytest.raises(ConfigError, match=r"expected shape"):
        from_pianoroll(np.zeros((4, 84, 3)))
    with pytest.raises(ConfigError, match="threshold"):
        from_pianoroll(np.zeros((4, 84, 2)), threshold=0)
    with pytest.raises(ConfigError, match="hop"):
        phrases(Notes.from_arrays([60], start_qn=[0], end_qn=[1]), hop=0)


# ------------------------------------------------------------------------------------------------ round trips
@st.composite
def grid_notes(draw: st.DrawFn) -> tuple[PianoRollConfig, list[tuple[int, float, float]]]:
    """Notes on a grid of 1..6 steps per quarter, inside the pitch range, never two of one pitch overlapping
    (they may touch: a repeated note)."""
    spq = draw(st.integers(1, 6))
    low = draw(st.integers(0, 100))
    cfg = PianoRollConfig(steps_per_quarter=spq, lowest_pitch=low, n_pitches=draw(st.integers(1, 128 - low)))
    table = []
    for row in draw(st.lists(st.integers(0, cfg.n_pitches - 1), max_size=6, unique=True)):
        t = draw(st.integers(0, 20))
        for length, gap in draw(st.lists(st.tuples(st.integers(1, 12), st.integers(0, 3)), max_size=5)):
            table.append((cfg.lowest_pitch + row, t / spq, (t + length) / spq))
            t += length + gap
    return cfg, table


@settings(max_examples=200, deadline=None)
@given(grid_notes())
def test_round_trip_is_exact_on_the_grid(case):
    cfg, table = case
    notes = Notes.from_arrays(
        [p for p, _, _ in table], start_qn=[s for _, s, _ in table], end_qn=[e for _, _, e in table]
    )
    roll = to_pianoroll(notes, cfg)
    back = from_pianoroll(roll, cfg)
    assert _table(back) == sorted(table)
    assert np.array_equal(to_pianoroll(back, cfg), roll)


def test_real_piece_round_trip(classical):
    """A real file, quantised to the grid once, then survives the trip exactly; every kept note's onset is in."""
    path = sorted(classical.rglob("*.mid"))[0]
    notes = read_midi(path)
    roll = to_pianoroll(notes)
    assert roll[..., ONSET].sum() > 0
    back = from_pianoroll(roll)
    assert np.array_equal(to_pianoroll(back), roll)
    a = notes.notes[(~notes.notes["is_drum"]) & (notes.pitch >= 24) & (notes.pitch <= 107)]
    onsets = {(int(p) - 24, int(np.floor(s * 4 + 0.5))) for p, s in zip(a["pitch"], a["start_qn"], strict=True)}
    assert onsets == set(zip(*np.nonzero(roll[..., ONSET].T), strict=True))


# ------------------------------------------------------------------------------------------------ phrases
def test_phrases_cut_a_piece_and_drop_empty_ones():
    cfg = PianoRollConfig(bars=1)  # 16-step phrases
    # bar 0: a note across the bar line into bar 1; bar 1: nothing starts; bars 2 and 3 empty; bar 4: a note
    notes = Notes.from_arrays([60, 72], start_qn=[2, 16], end_qn=[6, 17])
    ph = phrases(notes, cfg)
    assert ph.shape == (2, 16, 84, 2) and ph.dtype == np.uint8
    assert np.flatnonzero(ph[0, :, 36, FRAME]).tolist() == list(range(8, 16))
    assert np.flatnonzero(ph[1, :, 48, FRAME]).tolist() == [0, 1, 2, 3]  # bar 4, padded with silence
    # bar 1 holds only the tail of the first note (no onset): dropped
    whole = to_pianoroll(notes, cfg, steps=80)
    assert np.array_equal(ph[0], whole[0:16]) and np.array_equal(ph[1], whole[64:80])
    # overlapping phrases one bar apart, frames only
    ph = phrases(notes, PianoRollConfig(bars=2), hop=16, channels=1)
    assert ph.shape == (2, 32, 84, 1)  # starting at bars 0 and 3; bars 1-2 have no onset
    assert np.array_equal(ph[1, 16:, :, 0], whole[64:80, :, FRAME])
    assert phrases(Notes.empty(), cfg).shape == (0, 16, 84, 2)


def test_phrases_of_a_piece_are_the_pieces_roll(classical):
    notes = read_midi(sorted(classical.rglob("*.mid"))[1])
    ph = phrases(notes)
    roll = to_pianoroll(notes)
    k = -(-len(roll) // 64)
    padded = np.zeros((k * 64, 84, 2), dtype=np.uint8)
    padded[: len(roll)] = roll
    cut = padded.reshape(k, 64, 84, 2)
    assert np.array_equal(ph, cut[cut[..., ONSET].any(axis=(1, 2))])
