from __future__ import annotations

import numpy as np
import pytest

from tunesmith.errors import ConfigError, DatasetError
from tunesmith.notes import NOTE_DTYPE, Notes, make_tempo_map


def test_tempo_map_accumulates_seconds_and_last_change_wins():
    t = make_tempo_map([4.0, 0.0, 4.0], [100.0, 60.0, 120.0])
    assert t["qn"].tolist() == [0.0, 4.0]
    assert t["qpm"].tolist() == [60.0, 120.0]
    assert t["seconds"].tolist() == [0.0, 4.0]  # 4 quarters at 60 qpm


def test_tempo_map_defaults_to_120_before_first_change():
    t = make_tempo_map([2.0], [60.0])
    assert t["qn"].tolist() == [0.0, 2.0] and t["qpm"].tolist() == [120.0, 60.0]
    assert t["seconds"].tolist() == [0.0, 1.0]


def test_qn_seconds_conversion_by_hand():
    n = Notes.from_arrays([60], start_qn=[0.0], end_qn=[1.0], tempos=make_tempo_map([0, 2], [120, 60]))
    # 2 quarters at 120 qpm = 1 s, then 1 s per quarter
    assert np.allclose(n.qn_to_seconds([0, 1, 2, 3, 5.5]), [0, 0.5, 1, 2, 4.5])
    assert np.allclose(n.seconds_to_qn([0, 0.5, 1, 2, 4.5]), [0, 1, 2, 3, 5.5])


def test_from_arrays_derives_quarters_from_seconds():
    n = Notes.from_arrays([60, 62], [0.0, 0.5], [0.5, 1.5], velocity=[10, 20])
    assert n.start_qn.tolist() == [0.0, 1.0] and n.end_qn.tolist() == [1.0, 3.0]
    assert n.velocity.tolist() == [10, 20] and n.duration == 1.5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pitch": [128], "start": [0.0], "end": [1.0]},
        {"pitch": [60], "start": [0.0], "end": [1.0], "velocity": [200]},
        {"pitch": [60], "start": [1.0], "end": [0.5]},
        {"pitch": [60], "start": [-1.0], "end": [0.5]},
        {"pitch": [60], "start": [np.nan], "end": [0.5]},
        {"pitch": [60]},
    ],
)
def test_from_arrays_rejects_bad_values(kwargs):
    with pytest.raises(ConfigError):
        Notes.from_arrays(**kwargs)


def test_bad_tempo_rejected():
    with pytest.raises(ConfigError):
        make_tempo_map([0.0], [0.0])


def test_slice_is_a_view_and_concatenate_stacks():
    n = Notes.from_arrays(np.arange(60, 70), np.arange(10.0), np.arange(10.0) + 1, metadata={"title": "x"})
    s = n[2:5]
    assert len(s) == 3 and s.pitch.tolist() == [62, 63, 64] and s.metadata == {"title": "x"}
    assert np.shares_memory(s.notes, n.notes)
    both = Notes.concatenate([n[:2], n[8:]])
    assert both.pitch.tolist() == [60, 61, 68, 69]
    assert len(Notes.concatenate([])) == 0


def test_sorted_orders_by_time_then_track_then_pitch():
    n = Notes.from_arrays([64, 60, 67, 62], [1.0, 0.0, 0.0, 0.0], [2.0, 1.0, 1.0, 1.0], track=[0, 1, 0, 0])
    assert n.sorted().pitch.tolist() == [62, 67, 60, 64]


def test_save_load_round_trip(tmp_path):
    n = Notes.from_arrays(
        [60, 61],
        [0.0, 1.0],
        [1.0, 2.0],
        tempos=make_tempo_map([0, 1], [90, 150]),
        source="a.mid",
        metadata={"composer": "Bach"},
    )
    n.save(tmp_path / "n.npz")
    m = Notes.load(tmp_path / "n.npz")
    assert np.array_equal(m.notes, n.notes) and np.array_equal(m.tempos, n.tempos)
    assert m.source == "a.mid" and m.metadata == {"composer": "Bach"}
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(DatasetError, match="bad.npz"):
        Notes.load(tmp_path / "bad.npz")


def test_wrong_dtype_rejected():
    with pytest.raises(ConfigError):
        Notes(np.zeros(3, dtype=np.float64))
    assert Notes.empty().notes.dtype == NOTE_DTYPE


def test_new_notes_go_into_the_tracks_of_their_instrument():
    """into_tracks by hand: a piece of a violin (track 0), two flutes (tracks 1, 2: high and low) and drums (3);
    new notes of a violin, a flute near each flute's range, a cello and drums."""
    like = Notes.from_arrays(
        [76, 79, 84, 86, 60, 62, 36], [0, 1, 0, 1, 0, 1, 0], [1, 2, 1, 2, 1, 2, 1],
        program=[40, 40, 73, 73, 73, 73, 0], track=[0, 0, 1, 1, 2, 2, 3], is_drum=[0, 0, 0, 0, 0, 0, 1],
    )
    new = Notes.from_arrays(
        [77, 85, 61, 48, 38, 50], [2, 2, 2, 2, 2, 3], [3, 3, 3, 3, 3, 4],
        program=[40, 73, 73, 42, 0, 42], is_drum=[0, 0, 0, 0, 1, 0],
    )
    got = new.into_tracks(like)
    assert got.notes["track"].tolist() == [0, 1, 2, 4, 3, 4]  # the cello gets a new track after the last
    assert new.notes["track"].tolist() == [0] * 6  # a copy: the new notes are left as they were
    kept = new.into_tracks(like, exclude=[1])  # track 1 is kept note for note: its flute goes to the other
    assert kept.notes["track"].tolist() == [0, 2, 2, 4, 3, 4]


def test_track_names_are_read_from_the_metadata():
    piece = Notes.from_arrays([60], [0], [1], metadata={"track_names": '{"0": "Soprano", "2": "Bass"}'})
    assert piece.track_names() == {0: "Soprano", 2: "Bass"}
    assert Notes.from_arrays([60], [0], [1]).track_names() == {}
    assert Notes.from_arrays([60], [0], [1], metadata={"track_names": "not json"}).track_names() == {}
