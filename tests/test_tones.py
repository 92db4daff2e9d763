from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunesmith.errors import ConfigError
from tunesmith.io import read_midi
from tunesmith.notes import Notes
from tunesmith.representations.tones import (
    TICKS_PER_QUARTER,
    ToneConfig,
    ToneNormalizer,
    from_tones,
    hz_to_pitch,
    n_features,
    pitch_to_hz,
    time_column,
    to_tones,
)

TPQ = TICKS_PER_QUARTER

_tone = st.tuples(
    st.integers(0, 127),  # pitch
    st.integers(0, 3_000),  # start tick (collisions make chords)
    st.integers(0, 2_000),  # length in ticks (0 included)
    st.integers(1, 127),  # velocity
)


def _notes(rows: list[tuple[int, int, int, int]], is_drum: list[bool] | None = None) -> Notes:
    pitch = np.array([r[0] for r in rows])
    start = np.array([r[1] for r in rows])
    length = np.array([r[2] for r in rows])
    return Notes.from_arrays(
        pitch,
        start_qn=start / TPQ,
        end_qn=(start + length) / TPQ,
        velocity=np.array([r[3] for r in rows]),
        is_drum=False if is_drum is None else is_drum,
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(_tone, min_size=1, max_size=40), st.sampled_from([1, 2, 3]))
def test_round_trip_is_exact_to_the_tick_and_pitch(rows, k):
    notes = _notes(rows)
    tones = to_tones(notes, tones_per_step=k)
    assert tones.dtype == np.float64 and tones.shape[1] == n_features(k) == 3 * k + 1
    starts = np.array([r[1] for r in rows])
    chords = np.unique(starts, return_counts=True)[1]
    assert len(tones) == int(np.sum(-(-chords // k)))  # a chord of n tones takes ceil(n / k) steps
    back = from_tones(tones, tones_per_step=k)
    order = np.lexsort((notes.pitch, np.rint(notes.start_qn * TPQ)))
    assert len(back) == len(rows)
    assert back.pitch.tolist() == notes.pitch[order].tolist()
    assert back.velocity.tolist() == notes.velocity[order].tolist()
    assert np.rint(back.start_qn * TPQ).astype(int).tolist() == starts[order].tolist()
    assert np.array_equal(back.start_qn, notes.start_qn[order]) and np.array_equal(back.end_qn, notes.end_qn[order])
    # 120 qpm: half a second per quarter note
    assert np.allclose(back.start, back.start_qn * 0.5, rtol=0, atol=1e-12)
    assert np.all(tones[:, time_column(k)] >= 0)


def test_hand_piece_with_a_tempo_change(hand_piece):
    """conftest's hand piece: A3 qn 0-4 (vel 70), C4 qn 0-1 (100), E4 qn 1-2 (90), G4 qn 3-4 (80) after a tempo
    change, and a drum note that is dropped. Ticks come from quarter notes, so the tempo change does not matter."""
    notes = read_midi(hand_piece)
    hz = pitch_to_hz(np.array([57, 60, 64, 67]))
    one = to_tones(notes)
    expected = [
        [4 * TPQ, hz[0], 70, 0],
        [TPQ, hz[1], 100, 0],
        [TPQ, hz[2], 90, TPQ],
        [TPQ, hz[3], 80, 2 * TPQ],
    ]
    assert np.allclose(one, expected, rtol=1e-12, atol=0)
    three = to_tones(notes, ToneConfig(tones_per_step=3))
    assert np.allclose(
        three,
        [
            [4 * TPQ, hz[0], 70, TPQ, hz[1], 100, 0, 0, 0, 0],
            [TPQ, hz[2], 90, 0, 0, 0, 0, 0, 0, TPQ],
            [TPQ, hz[3], 80, 0, 0, 0, 0, 0, 0, 2 * TPQ],
        ],
        rtol=1e-12,
        atol=0,
    )
    back = from_tones(three, tones_per_step=3, qpm=60.0)
    assert back.pitch.tolist() == [57, 60, 64, 67] and back.velocity.tolist() == [70, 100, 90, 80]
    assert back.start.tolist() == [0.0, 0.0, 1.0, 3.0] and back.end.tolist() == [4.0, 1.0, 2.0, 4.0]  # 1 s per qn


def test_a_chord_larger_than_a_step_continues_at_time_zero():
    notes = _notes([(60, 0, 10, 90), (64, 0, 10, 90), (67, 0, 10, 90), (72, 0, 10, 90), (50, 100, 5, 60)])
    t = to_tones(notes, tones_per_step=3)
    assert t.shape == (3, 10)
    assert np.allclose(hz_to_pitch(t[0, [1, 4, 7]]), [60, 64, 67])
    assert np.allclose(hz_to_pitch(t[1, [1]]), [72]) and t[1, 3:9].tolist() == [0] * 6 and t[1, 9] == 0
    assert t[2, 9] == 100  # ticks since the previous step's start (the chord's)


def test_frequencies():
    assert pitch_to_hz(69) == 440.0 and pitch_to_hz(81) == 880.0
    assert float(pitch_to_hz(60)) == pytest.approx(261.6255653, rel=1e-9)
    p = np.arange(128)
    assert np.allclose(hz_to_pitch(pitch_to_hz(p)), p, rtol=0, atol=1e-9)
    assert hz_to_pitch(0.0) == -np.inf and hz_to_pitch(-3.0) == -np.inf


def test_decoding_rules_for_network_outputs():
    hz = float(pitch_to_hz(69))
    t = np.array(
        [
            [100.4, hz * 1.01, 0.0, -50.0],  # detuned A4 -> 69; velocity 0 -> 1; negative time -> 0
            [-3.0, 1e6, 300.0, 383.6],  # negative length -> min_length; huge frequency -> 127; velocity -> 127
            [7.0, 1.0, 64.0, 0.2],  # 1 Hz in the first slot is still a tone: pitch 0
        ]
    )
    notes = from_tones(t, min_length=1)
    assert notes.pitch.tolist() == [69, 127, 0] and notes.velocity.tolist() == [1, 127, 64]
    assert np.rint(notes.start_qn * TPQ).tolist() == [0, 384, 384]
    assert np.rint((notes.end_qn - notes.start_qn) * TPQ).tolist() == [100, 1, 7]
    assert np.rint((from_tones(t).end_qn - from_tones(t).start_qn) * TPQ).tolist() == [100, 0, 7]
    # later slots are tones only from pitch -0.5 up (about 7.94 Hz)
    slot = np.zeros((4, 7))
    slot[:, 1] = pitch_to_hz(60)
    slot[:, 4] = [0.0, float(pitch_to_hz(-0.6)), float(pitch_to_hz(-0.4)), float(pitch_to_hz(70))]
    slot[:, 3] = 50
    slot[:, 5] = 80
    two = from_tones(slot, tones_per_step=2)
    assert two.pitch.tolist() == [60, 60, 60, 0, 60, 70]


def test_empty_and_drums_only():
    assert to_tones(Notes.empty()).shape == (0, 4)
    assert to_tones(Notes.empty(), tones_per_step=3).shape == (0, 10)
    drums = _notes([(36, 0, 10, 100), (38, 10, 10, 100)], is_drum=[True, True])
    assert to_tones(drums).shape == (0, 4)
    assert len(from_tones(np.zeros((0, 4)))) == 0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: from_tones(np.zeros((2, 5))), r"shape \(steps, 4\)"),
        (lambda: from_tones(np.zeros((2, 4)), tones_per_step=3), r"shape \(steps, 10\)"),
        (lambda: from_tones(np.full((1, 4), np.nan)), "NaN"),
        (lambda: from_tones(np.zeros((1, 4)), qpm=0.0), "qpm"),
        (lambda: from_tones(np.zeros((1, 4)), min_length=-1), "min_length"),
        (lambda: ToneConfig(tones_per_step=0), "tones_per_step"),
        (lambda: ToneConfig(ticks_per_quarter=0), "ticks_per_quarter"),
        (lambda: ToneNormalizer.fit([np.zeros((3, 4))], tones_per_step=3), "cannot fit"),
        (lambda: ToneNormalizer.fit([], 1), "no tones"),
        (lambda: ToneNormalizer.from_dict({"mean": [0.0], "std": [0.0]}), "std > 0"),
        (lambda: ToneNormalizer.from_dict({"mean": [0.0]}), "invalid normaliser"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


def test_normalizer_one_tone_per_step():
    a = np.array([[100.0, 440.0, 80.0, 0.0], [300.0, 220.0, 60.0, 384.0]])
    b = np.array([[200.0, 880.0, 70.0, 192.0]])
    norm = ToneNormalizer.fit([a, b], 1)
    rows = np.concatenate([a, b])
    assert np.allclose(norm.mean, rows.mean(0)) and np.allclose(norm.std, rows.std(0))
    x = norm.normalize(rows)
    assert np.allclose(x.mean(0), 0) and np.allclose(x.std(0), 1)
    assert np.allclose(norm.denormalize(x), rows, rtol=0, atol=1e-9)
    again = ToneNormalizer.from_dict(norm.to_dict())
    assert np.array_equal(again.mean, norm.mean) and np.array_equal(again.std, norm.std)


def test_normalizer_pools_present_tones_over_slots():
    # three steps: (2 tones), (1 tone), (3 tones); intensities constant -> std 1
    t = np.array(
        [
            [100, 440, 64, 200, 220, 64, 0, 0, 0, 0],
            [300, 880, 64, 0, 0, 0, 0, 0, 0, 384],
            [400, 110, 64, 500, 330, 64, 600, 550, 64, 192],
        ],
        dtype=np.float64,
    )
    norm = ToneNormalizer.fit([t], 3)
    lengths = np.array([100, 200, 300, 400, 500, 600.0])
    freqs = np.array([440, 220, 880, 110, 330, 550.0])
    for slot in range(3):
        assert norm.mean[3 * slot] == pytest.approx(lengths.mean()) and norm.std[3 * slot] == pytest.approx(
            lengths.std()
        )
        assert norm.mean[3 * slot + 1] == pytest.approx(freqs.mean())
        assert norm.mean[3 * slot + 2] == 64 and norm.std[3 * slot + 2] == 1.0
    assert norm.mean[9] == pytest.approx(192) and norm.std[9] == pytest.approx(np.std([0, 384, 192.0]))
    # an absent tone has the same code in every slot, and decodes back to absent
    x = norm.normalize(t)
    assert x[0, 6] == x[1, 3] == x[1, 6] == pytest.approx(-lengths.mean() / lengths.std())
    assert len(from_tones(norm.denormalize(x), tones_per_step=3)) == 6


# ---------------------------------------------------------------------------------------------------- slot presence
def test_slot_shares_and_presence_thresholds_by_hand():
    from tunesmith.representations.tones import presence_thresholds, slot_shares

    hz = float(pitch_to_hz(60))
    # 4 steps of 3 slots: slot 2 filled in 2 of 4 steps, slot 3 in 1 of 4
    rows = np.zeros((4, 10))
    rows[:, 1] = hz
    rows[[0, 2], 4] = hz
    rows[0, 7] = hz
    assert slot_shares([rows[:2], rows[2:]], 3) == [1.0, 0.5, 0.25]
    # a regressing generator's slot frequencies: never 0 Hz; the thresholds keep the same shares of them
    gen = np.zeros((8, 10))
    gen[:, 1] = 300.0
    gen[:, 4] = [10, 20, 30, 40, 50, 60, 70, 80]
    gen[:, 7] = [80, 70, 60, 50, 40, 30, 20, 10]
    thresholds = presence_thresholds(gen, [1.0, 0.5, 0.25])
    assert thresholds[0] == 0.0 and thresholds[1] == pytest.approx(45.0) and thresholds[2] == pytest.approx(62.5)
    notes = from_tones(gen, ToneConfig(tones_per_step=3), present_hz=thresholds)
    assert len(notes) == 8 + 4 + 2  # every first slot, the top half of slot 2, the top quarter of slot 3
    assert len(from_tones(gen, ToneConfig(tones_per_step=3))) == 24  # the fixed rule: every slot sounds
