from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunesmith.errors import ConfigError
from tunesmith.notes import Notes
from tunesmith.representations.note_events import (
    DURATION,
    N_FEATURES,
    PITCH,
    STEP,
    VELOCITY,
    Windows,
    event_starts,
    from_note_events,
    to_note_events,
)

_note = st.tuples(
    st.integers(0, 127),  # pitch
    st.integers(0, 20_000),  # start in ms (duplicates make chords)
    st.floats(0.0, 5.0, allow_nan=False, allow_infinity=False),  # duration in seconds
    st.integers(1, 127),  # velocity
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_note, min_size=1, max_size=40), st.floats(0.0, 3.0))
def test_round_trip_keeps_every_note_in_start_pitch_order(rows, jitter):
    pitch = np.array([r[0] for r in rows])
    start = np.array([r[1] for r in rows]) / 1000.0 + jitter
    end = start + np.array([r[2] for r in rows])
    vel = np.array([r[3] for r in rows])
    notes = Notes.from_arrays(pitch, start, end, velocity=vel)  # unsorted on purpose
    events = to_note_events(notes)
    assert events.shape == (len(rows), N_FEATURES) and events.dtype == np.float64
    order = np.lexsort((pitch, start))
    back = from_note_events(events, start=float(start[order][0]))
    assert len(back) == len(rows)
    assert back.pitch.tolist() == pitch[order].tolist()
    assert back.velocity.tolist() == vel[order].tolist()
    assert np.allclose(back.start, start[order], rtol=0, atol=1e-9)
    assert np.allclose(back.end, end[order], rtol=0, atol=1e-9)
    assert np.all(events[:, STEP] >= 0) and events[0, STEP] == 0


def test_hand_example_chord_and_drums():
    notes = Notes.from_arrays(
        [64, 67, 36, 60],
        [0.5, 0.0, 0.25, 0.5],
        [1.0, 0.4, 0.3, 1.5],
        velocity=[90, 100, 127, 70],
        is_drum=[False, False, True, False],
    )
    ev = to_note_events(notes)
    assert ev.tolist() == [
        [67, 0.0, 0.4, 100],
        [60, 0.5, 1.0, 70],
        [64, 0.0, 0.5, 90],
    ]
    assert event_starts(ev).tolist() == [0.0, 0.5, 0.5]
    assert event_starts(ev, 2.0).tolist() == [2.0, 2.5, 2.5]


def test_empty_and_drums_only_give_no_events():
    assert to_note_events(Notes.empty()).shape == (0, N_FEATURES)
    drums = Notes.from_arrays([36, 38], [0.0, 0.5], [0.1, 0.6], is_drum=True)
    assert to_note_events(drums).shape == (0, N_FEATURES)
    assert len(from_note_events(np.zeros((0, 4)))) == 0


def test_from_note_events_clips_and_rounds():
    ev = np.array(
        [
            [60.4, 1.0, 0.5, 100.0],
            [60.6, -0.3, -1.0, 0.0],  # negative step and duration clip to 0; velocity 0 -> 1
            [200.0, 0.25, 0.1, 300.0],  # pitch and velocity clip to 127
            [-5.0, 0.25, 0.2, 63.5],
        ]
    )
    n = from_note_events(ev, start=10.0)
    assert n.pitch.tolist() == [60, 61, 127, 0]
    assert n.velocity.tolist() == [100, 1, 127, 64]
    assert np.allclose(n.start, [11.0, 11.0, 11.25, 11.5])
    assert np.allclose(n.end, [11.5, 11.0, 11.35, 11.7])
    assert not n.notes["is_drum"].any()
    # velocity override and the 3-column form
    assert from_note_events(ev, velocity=33).velocity.tolist() == [33] * 4
    assert from_note_events(ev[:, :3]).velocity.tolist() == [80] * 4
    assert from_note_events(ev[:, :3], program=40).notes["program"].tolist() == [40] * 4
    assert ev[1, STEP] == -0.3  # the input is not modified


def test_velocity_override_out_of_range_is_not_wrapped():
    """LIBRARY BUG (src/tunesmith/representations/note_events.py, from_note_events: ``np.full(len(ev), velocity)``
    is cast with ``.astype(np.uint8)`` unchecked): velocity=300 silently becomes 300 % 256 = 44 (and 256 becomes
    0, a note-off velocity). It should be clipped to 1..127 like the fourth column, or rejected with ConfigError."""
    ev = np.array([[60.0, 0.0, 1.0, 80.0]])
    for bad in (300, 256):
        try:
            vel = from_note_events(ev, velocity=bad).velocity.tolist()
        except ConfigError:
            continue
        assert vel == [127], f"velocity={bad} became {vel}"


@pytest.mark.parametrize(
    "bad",
    [np.zeros(4), np.zeros((3, 2)), np.zeros((2, 3, 4))],
    ids=["1d", "two-columns", "3d"],
)
def test_from_note_events_rejects_bad_shapes(bad):
    with pytest.raises(ConfigError, match="shape"):
        from_note_events(bad)


@pytest.mark.parametrize("col", [PITCH, STEP, DURATION, VELOCITY])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_from_note_events_rejects_non_finite(col, value):
    ev = np.array([[60.0, 0.0, 0.5, 80.0], [62.0, 0.5, 0.5, 80.0]])
    ev[1, col] = value
    with pytest.raises(ConfigError, match="NaN or infinity"):
        from_note_events(ev)


def _piece(n: int, first_pitch: int) -> np.ndarray:
    ev = np.zeros((n, N_FEATURES))
    ev[:, PITCH] = first_pitch + np.arange(n)
    return ev


def test_windows_never_cross_pieces():
    pieces = [_piece(5, 0), _piece(7, 20), _piece(3, 40)]
    w = Windows.build(pieces, 3)
    assert w.starts.tolist() == [0, 1, 5, 6, 7, 8]
    assert len(w) == 6 and w.length == 3 and w.events.shape == (15, N_FEATURES)
    for s in w.starts:
        window = w.events[s : s + w.length + 1, PITCH]  # inputs and the target
        assert window.max() - window.min() == w.length  # consecutive pitches: one piece only
    # a piece needs length + 1 events for one window
    assert Windows.build([_piece(4, 0)], 3).starts.tolist() == [0]
    assert len(Windows.build([_piece(3, 0), _piece(2, 10)], 3)) == 0
    assert Windows.build([_piece(3, 0), _piece(5, 10)], 3).starts.tolist() == [3, 4]
    assert len(Windows.build([], 3)) == 0


@pytest.mark.parametrize("length", [0, -1])
def test_windows_reject_non_positive_length(length):
    with pytest.raises(ConfigError, match="seq_length"):
        Windows.build([_piece(10, 0)], length)
