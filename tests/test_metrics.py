"""Metrics on tiny hand-written pieces, against values worked out by hand (the arithmetic is in each test)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tunesmith.errors import ConfigError
from tunesmith.evaluation import metrics as m
from tunesmith.notes import Notes, make_tempo_map, make_time_signatures


def piece(pitch, start_qn, end_qn, velocity=80, **kwargs) -> Notes:
    return Notes.from_arrays(pitch, start_qn=start_qn, end_qn=end_qn, velocity=velocity, **kwargs)


@pytest.fixture
def basic() -> Notes:
    # C4+E4 together at 0, G4 at 1, C4 at 2, C5 at 3; each one quarter long; 120 qpm (0.5 s per quarter)
    return piece([60, 64, 67, 60, 72], [0, 0, 1, 2, 3], [1, 1, 2, 3, 4], velocity=[50, 60, 70, 80, 100])


# ---------------------------------------------------------------------------------------------------- basic
def test_pitch_counts_and_range(basic):
    assert m.pitch_range(basic) == 72 - 60
    assert m.pitches_used(basic) == len({60, 64, 67, 72})
    assert m.pitch_classes_used(basic) == len({0, 4, 7})  # 72 is a C again
    assert m.tone_span(basic) == 12 and m.unique_tones(basic) == 4
    assert m.intensity_span(basic) == 100 - 50


def test_pitch_entropy_by_hand(basic):
    # pitch counts: 60 twice, 64, 67, 72 once each -> p = 2/5, 1/5, 1/5, 1/5
    expected = -(0.4 * math.log2(0.4) + 3 * 0.2 * math.log2(0.2))
    assert m.pitch_entropy(basic) == pytest.approx(expected)
    # pitch classes: C three times (60, 60, 72), E, G -> p = 3/5, 1/5, 1/5
    expected_pc = -(0.6 * math.log2(0.6) + 2 * 0.2 * math.log2(0.2))
    assert m.pitch_class_entropy(basic) == pytest.approx(expected_pc)


def test_entropy_of_uniform_and_single_pitch():
    twelve = piece(np.arange(60, 72), np.arange(12), np.arange(1, 13))
    assert m.pitch_class_entropy(twelve) == pytest.approx(math.log2(12))
    assert m.pitch_entropy(piece([60, 60, 60], [0, 1, 2], [1, 2, 3])) == 0.0


def test_average_inter_onset_interval_in_seconds():
    # onsets (qn) 0, 0, 1, 1.5, 3 -> distinct 0, 1, 1.5, 3; at 60 qpm one quarter is 1 s up to qn 2, then 120 qpm
    tempos = make_tempo_map([0.0, 2.0], [60.0, 120.0])
    n = piece([60, 64, 62, 65, 67], [0, 0, 1, 1.5, 3], [1, 1, 1.5, 2, 4], tempos=tempos)
    onset_seconds = [0.0, 1.0, 1.5, 2.0 + 0.5]  # qn 3 = 2 s (first 2 quarters) + 1 quarter at 0.5 s
    gaps = [b - a for a, b in zip(onset_seconds, onset_seconds[1:], strict=False)]  # 1.0, 0.5, 1.0
    assert m.average_inter_onset_interval(n) == pytest.approx(sum(gaps) / len(gaps))
    assert m.average_inter_onset_interval(piece([60, 64], [1, 1], [2, 2])) == 0.0  # one distinct onset


def test_note_length_histogram_classes():
    # lengths (qn): 1, 1 -> quarter; 0.5 -> 8th; 1/3 x3 -> 8th triplet; 3 -> dotted half; 5 -> nearest is full (4)
    lengths = [1, 1, 0.5, 1 / 3, 1 / 3, 1 / 3, 3, 5]
    starts = np.cumsum([0, *lengths[:-1]])
    n = piece([60] * 8, starts, starts + np.array(lengths))
    expected = np.zeros(12)
    expected[m.NOTE_LENGTH_CLASSES.index("full")] = 1 / 8
    expected[m.NOTE_LENGTH_CLASSES.index("quarter")] = 2 / 8
    expected[m.NOTE_LENGTH_CLASSES.index("8th")] = 1 / 8
    expected[m.NOTE_LENGTH_CLASSES.index("8th triplet")] = 3 / 8
    expected[m.NOTE_LENGTH_CLASSES.index("dotted half")] = 1 / 8
    assert np.allclose(m.note_length_histogram(n), expected)
    assert len(m.NOTE_LENGTH_CLASSES) == 12 and m.NOTE_LENGTH_CLASSES_QN.size == 12


def test_note_length_histogram_custom_bins_in_steps():
    # bins 4 and 2 steps at 4 steps per quarter = 1 and 0.5 quarter; lengths 1 qn (4 steps), 0.6 qn (2.4 steps)
    n = piece([60, 62], [0, 1], [1, 1.6])
    assert m.note_length_histogram(n, steps_per_quarter=4, bins=[4, 2]).tolist() == [0.5, 0.5]
    # at 8 steps per quarter the same bins are 0.5 and 0.25 quarter: both notes are nearest the 4-step bin
    assert m.note_length_histogram(n, steps_per_quarter=8, bins=[4, 2]).tolist() == [1.0, 0.0]


def test_groove_consistency_by_hand():
    # 16 steps per 4/4 bar. Bar 0 onsets at qn 0, 1, 2, 3 (steps 0, 4, 8, 12); bar 1 the same pattern;
    # bar 2 onsets at qn 8, 8.5 (positions 0, 2). d(bar0, bar1) = 0; d(bar1, bar2) = {4, 8, 12} + {2} = 4.
    starts = [0, 1, 2, 3, 4, 5, 6, 7, 8, 8.5]
    n = piece([60] * 10, starts, np.add(starts, 0.5))
    assert m.groove_consistency(n) == pytest.approx(1 - (0 + 4) / (16 * 2))


def test_groove_consistency_follows_the_time_signature():
    # onsets at qn 0, 1, 2 | 3, 4, 5: in 3/4 two identical bars -> 1.0
    starts = [0, 1, 2, 3, 4, 5]
    three_four = piece([60] * 6, starts, np.add(starts, 1), time_signatures=make_time_signatures([0], [3], [4]))
    assert m.groove_consistency(three_four) == 1.0
    # forced 4/4 bars: bar 0 positions {0, 4, 8, 12}, bar 1 (qn 4, 5) positions {0, 4}: distance 2 of 16
    assert m.groove_consistency(three_four, beats_per_bar=4) == pytest.approx(1 - 2 / 16)


def test_groove_consistency_of_one_bar_is_undefined_zero():
    assert m.groove_consistency(piece([60, 62], [0, 1], [1, 2])) == 0.0


# ---------------------------------------------------------------------------------------------------- C-RNN-GAN
def test_polyphony_share_of_tones_sharing_an_onset(basic):
    # only C4 and E4 start together: 2 of 5 tones
    assert m.polyphony(basic) == pytest.approx(2 / 5)


def test_polyphony_tolerance_is_one_tick_at_384():
    # 0 and half a tick -> together; 1 and 1 + one tick -> distinct; 2 alone: 2 of 5 tones
    n = piece([60, 64, 67, 71, 72], [0, 0.5 / 384, 1, 1 + 1 / 384, 2], [1, 1, 2, 2, 3])
    assert m.polyphony(n) == pytest.approx(2 / 5)
    # a three-note chord and a two-note chord: all 5 tones share an onset
    chords = piece([60, 64, 67, 62, 65], [0, 0, 0, 1, 1], [1, 1, 1, 2, 2])
    assert m.polyphony(chords) == 1.0


def test_scale_consistency_major_scale_and_chromatic():
    c_major = piece([60, 62, 64, 65, 67, 69, 71, 72], np.arange(8), np.arange(1, 9))
    assert m.scale_consistency(c_major) == 1.0
    chromatic = piece(np.arange(60, 72), np.arange(12), np.arange(1, 13))
    assert m.scale_consistency(chromatic) == pytest.approx(7 / 12)  # any diatonic scale holds 7 of 12


def test_scale_consistency_best_scale_by_hand():
    # pitch classes C, C#, D, F#: no diatonic scale holds three adjacent semitones (C, C#, D), so at most 3 of 4;
    # D major (D E F# G A B C#) holds C#, D, F# -> 3/4
    n = piece([60, 61, 62, 66], [0, 1, 2, 3], [1, 2, 3, 4])
    assert m.scale_consistency(n) == pytest.approx(3 / 4)
    # the same with a natural-minor scale as the best fit: A B C D E F G, with A, C, E, G, F -> 5/5
    assert m.scale_consistency(piece([57, 60, 64, 67, 65], [0, 1, 2, 3, 4], [1, 2, 3, 4, 5])) == 1.0


def test_repetitions_by_hand():
    # s = 60 62 64 60 62 64 60 (L = 7)
    n = piece([60, 62, 64, 60, 62, 64, 60], np.arange(7), np.arange(1, 8))
    # n=2: windows (60,62) (62,64) (64,60) (60,62) (62,64) (64,60), W = 6. Played again at j >= i+2:
    # i=0 (at 3), i=1 (at 4), i=2 (at 5); i=3..5 have no equal window after them -> 3/6
    assert m.repetitions(n, 2) == pytest.approx(3 / 6)
    # n=3: (60,62,64) (62,64,60) (64,60,62) (60,62,64) (62,64,60), W = 5: i=0 (at 3), i=1 (at 4) -> 2/5
    assert m.repetitions(n, 3) == pytest.approx(2 / 5)
    # n=4: W = 4; a repeat of window i needs j >= i+4 > 3, the last window -> 0
    assert m.repetitions(n, 4) == 0.0


def test_repetitions_do_not_count_overlapping_windows():
    # 60 60 60 60 60, n=2: W = 4 equal windows; i=0 repeats at 2 or 3, i=1 at 3; i=2, i=3 have no room -> 2/4
    # (counting overlaps, i=2 would repeat at 3 and the answer would be 3/4)
    n = piece([60] * 5, np.arange(5), np.arange(1, 6))
    assert m.repetitions(n, 2) == pytest.approx(2 / 4)


def test_repetitions_use_onset_order_with_chords_low_to_high():
    # given out of order; in onset order (ties by pitch): 60 64 | 60 64 -> (60,64) at 0 repeats at 2; W = 3 -> 1/3
    n = piece([64, 60, 64, 60], [1, 1, 0, 0], [2, 2, 1, 1])
    assert m.repetitions(n, 2) == pytest.approx(1 / 3)
    assert m.repetitions(piece([60], [0], [1]), 2) == 0.0  # shorter than n


def test_crnngan_statistics_keys_and_values():
    n = piece([60, 62, 64, 60, 62, 64, 60], np.arange(7), np.arange(1, 8), velocity=[40, 50, 60, 70, 80, 90, 41])
    stats = m.crnngan_statistics(n)
    assert list(stats) == [
        "polyphony",
        "scale_consistency",
        "repetitions_2",
        "repetitions_3",
        "repetitions_4",
        "tone_span",
        "unique_tones",
        "intensity_span",
    ]
    assert all(type(v) is float for v in stats.values())
    assert stats["polyphony"] == 0.0  # every onset distinct
    assert stats["scale_consistency"] == 1.0  # C, D, E
    assert stats["repetitions_2"] == pytest.approx(3 / 6) and stats["repetitions_3"] == pytest.approx(2 / 5)
    assert stats["tone_span"] == 4.0 and stats["unique_tones"] == 3.0 and stats["intensity_span"] == 90 - 40


# ---------------------------------------------------------------------------------------------------- MuseGAN
def test_empty_beat_rate_counts_the_empty_beats():
    # beats (quarters) 0, 1 and 3 sound, beat 2 is silent: 1 empty of 4 (the public bug would give 3/4)
    n = piece([60, 62, 64], [0, 1, 3], [1, 2, 4])
    assert m.empty_beat_rate(n) == pytest.approx(1 / 4)


def test_empty_beat_rate_held_notes_and_leading_silence():
    # a note held over qn 0-2.5 (steps 0-9) sounds in beats 0, 1, 2; qn 3.5-4 sounds in beat 3 -> no empty beat
    assert m.empty_beat_rate(piece([60, 62], [0, 3.5], [2.5, 4])) == 0.0
    # the grid starts at 0: a piece whose only note is at qn 2-3 has beats 0 and 1 empty of 3
    assert m.empty_beat_rate(piece([60], [2], [3])) == pytest.approx(2 / 3)


def test_pitch_classes_per_bar_by_hand():
    # 4/4 bars of 4 quarters:
    # bar 0: C4 [0,1), E4 [1,2), C5 [2,3)  -> {C, E} = 2
    # bar 1: C#4 held [7,9) sounds here    -> {C#} = 1
    # bar 2: C#4 still, G4 [8,9)           -> {C#, G} = 2
    # bar 3: silent                        -> 0
    # bar 4: D4 [16,17)                    -> {D} = 1
    n = piece([60, 64, 72, 61, 67, 62], [0, 1, 2, 7, 8, 16], [1, 2, 3, 9, 9, 17])
    assert m.pitch_classes_per_bar(n) == pytest.approx((2 + 1 + 2 + 0 + 1) / 5)


def test_pitch_classes_per_bar_follows_time_signatures():
    # C [0,1), D [1,2), E [3,4): in 3/4 bars {C, D}, {E} -> 1.5; in 4/4 one bar {C, D, E} -> 3
    notes = ([60, 62, 64], [0, 1, 3], [1, 2, 4])
    assert m.pitch_classes_per_bar(piece(*notes, time_signatures=make_time_signatures([0], [3], [4]))) == 1.5
    assert m.pitch_classes_per_bar(piece(*notes)) == 3.0
    # 4/4 at 0, 3/4 from qn 4: bars [0,4), [4,7), [7,10). C [0,1) | D [4,5), E [5,6) | F [7,8) -> (1 + 2 + 1) / 3
    ts = make_time_signatures([0, 4], [4, 3], [4, 4])
    n = piece([60, 62, 64, 65], [0, 4, 5, 7], [1, 5, 6, 8], time_signatures=ts)
    assert m.pitch_classes_per_bar(n) == pytest.approx(4 / 3)


def test_qualified_note_rate_adjacent_notes_of_different_pitch_stay_two_notes():
    # two 2-step notes, C4 then D4 back to back: neither lasts 3 steps -> 0 (pypianoroll's flattened-array
    # version measures offset - onset in flattened indices, 2 * 128 here, and answers 1)
    assert m.qualified_note_rate(piece([60, 62], [0, 0.5], [0.5, 1])) == 0.0
    # the same with one pitch repeated: still two 2-step notes
    assert m.qualified_note_rate(piece([60, 60], [0, 0.5], [0.5, 1])) == 0.0


def test_qualified_note_rate_by_hand():
    # lengths 0.75 qn (3 steps), 0.5 (2 steps), 1.0 (4 steps) -> 2 of 3 qualify
    n = piece([60, 64, 67], [0, 1, 2], [0.75, 1.5, 3])
    assert m.qualified_note_rate(n) == pytest.approx(2 / 3)
    # grid rounding: 0.1-0.6 qn -> steps round(0.4)=0 to round(2.4)=2: 2 steps; a 0.01-qn note gets one step
    assert m.qualified_note_rate(piece([60, 62], [0.1, 2], [0.6, 2.01]), min_steps=2) == pytest.approx(1 / 2)
    assert m.qualified_note_rate(piece([60], [0.1], [0.6]), min_steps=3) == 0.0
    # half a step rounds up: 0.125 qn = step 0.5 -> 1, 0.875 qn = step 3.5 -> 4: 3 steps (half-to-even gives 0..4)
    assert m.qualified_note_rate(piece([60], [0.125], [0.875]), min_steps=4) == 0.0
    assert m.qualified_note_rate(piece([60], [0.125], [0.875]), min_steps=3) == 1.0


def test_polyphony_rate_by_hand():
    # C4 [0,1) = steps 0-3, E4 [0,0.5) = steps 0-1, G4 [2,3) = steps 8-11; another C4 [0.5,1) overlaps the first
    # (one pitch, counted once). Sounding steps: 0-3 and 8-11 = 8; with >= 2 pitches: steps 0, 1 -> 2/8
    n = piece([60, 64, 67, 60], [0, 0, 2, 0.5], [1, 0.5, 3, 1])
    assert m.polyphony_rate(n) == pytest.approx(2 / 8)


def test_pianoroll_statistics_on_one_piece():
    # C4 [0,1), E4 [0,0.5), G4 [2,3): beats 0 and 2 sound of 3 -> EB 1/3; one bar {C, E, G} -> 3;
    # lengths 4, 2, 4 steps -> QN 2/3; PR 2 of 8 sounding steps
    stats = m.musegan_statistics(piece([60, 64, 67], [0, 0, 2], [1, 0.5, 3]))
    assert list(stats) == ["empty_beat_rate", "pitch_classes_per_bar", "qualified_note_rate", "polyphony_rate"]
    assert stats["empty_beat_rate"] == pytest.approx(1 / 3)
    assert stats["pitch_classes_per_bar"] == 3.0
    assert stats["qualified_note_rate"] == pytest.approx(2 / 3)
    assert stats["polyphony_rate"] == pytest.approx(2 / 8)


def test_steps_per_quarter_changes_the_grid():
    # a 0.5-qn note: 2 steps at 4 per quarter (not qualified), 4 steps at 8 per quarter (qualified)
    n = piece([60], [0], [0.5])
    assert m.qualified_note_rate(n, steps_per_quarter=4) == 0.0
    assert m.qualified_note_rate(n, steps_per_quarter=8) == 1.0


# ---------------------------------------------------------------------------------------------------- conventions
def test_empty_notes_give_the_documented_zeros():
    empty = Notes.empty()
    stats = m.all_metrics(empty)
    assert stats and all(v == 0.0 for v in stats.values())
    assert m.note_length_histogram(empty).tolist() == [0.0] * 12
    assert m.pitch_range(empty) == 0 and m.intensity_span(empty) == 0
    assert m.repetitions(empty, 3) == 0.0


def test_drum_notes_are_ignored(basic):
    with_drums = Notes.concatenate([basic, piece([36, 42], [0, 0.5], [0.25, 0.75], is_drum=True)])
    assert m.all_metrics(with_drums) == m.all_metrics(basic)
    assert m.all_metrics(piece([36], [0], [1], is_drum=True)) == m.all_metrics(Notes.empty())


def test_all_statistics_holds_every_scalar_metric(basic):
    stats = m.all_metrics(basic)
    assert set(m.crnngan_statistics(basic)) <= set(stats)
    assert set(m.musegan_statistics(basic)) <= set(stats)
    basic_keys = {"pitch_range", "pitches_used", "pitch_classes_used", "pitch_entropy", "pitch_class_entropy"}
    assert basic_keys | {"average_inter_onset_interval", "groove_consistency"} <= set(stats)
    assert all(type(v) is float for v in stats.values())
    assert stats["average_inter_onset_interval"] == pytest.approx(0.5)  # onsets 0, 1, 2, 3 qn at 0.5 s each


def test_metrics_do_not_depend_on_note_order(basic):
    shuffled = basic[np.array([3, 1, 4, 0, 2])]
    assert m.all_metrics(shuffled) == m.all_metrics(basic)


@pytest.mark.parametrize(
    "call",
    [
        lambda n: m.repetitions(n, 0),
        lambda n: m.empty_beat_rate(n, steps_per_quarter=0),
        lambda n: m.musegan_statistics(n, steps_per_quarter=1.5),
        lambda n: m.qualified_note_rate(n, min_steps=-1),
        lambda n: m.groove_consistency(n, beats_per_bar=0),
        lambda n: m.note_length_histogram(n, bins=[]),
    ],
)
def test_bad_arguments_raise_config_error(basic, call):
    with pytest.raises(ConfigError):
        call(basic)


# ---------------------------------------------------------------------------------------------------- Yang & Lerch
def test_note_count_and_pitch_class_histogram(basic):
    assert m.note_count(basic) == 5
    h = m.pitch_class_histogram(basic)
    # C three times (60, 60, 72), E (64) once, G (67) once
    expected = np.zeros(12)
    expected[[0, 4, 7]] = [3 / 5, 1 / 5, 1 / 5]
    np.testing.assert_allclose(h, expected)
    assert m.pitch_class_histogram(Notes.empty()).tolist() == [0.0] * 12


def test_pitch_class_transition_matrix_by_hand(basic):
    # onset order, ties by pitch: 60, 64, 67, 60, 72 -> classes C, E, G, C, C -> transitions C>E, E>G, G>C, C>C
    t = m.pitch_class_transition_matrix(basic)
    expected = np.zeros((12, 12))
    for a, b in ((0, 4), (4, 7), (7, 0), (0, 0)):
        expected[a, b] += 1 / 4
    np.testing.assert_allclose(t, expected)
    assert t.sum() == pytest.approx(1.0)
    assert not m.pitch_class_transition_matrix(piece([60], [0], [1])).any()


def test_average_pitch_interval_by_hand(basic):
    # 60, 64, 67, 60, 72 -> |4| + |3| + |-7| + |12| = 26 over 4 intervals
    assert m.average_pitch_interval(basic) == pytest.approx(26 / 4)
    assert m.average_pitch_interval(piece([60], [0], [1])) == 0.0


def test_note_length_transition_matrix_by_hand():
    # lengths quarter, quarter, 8th, half in onset order -> quarter>quarter, quarter>8th, 8th>half
    n = piece([60, 62, 64, 65], [0, 1, 2, 2.5], [1, 2, 2.5, 4.5])
    q, e, h = (m.NOTE_LENGTH_CLASSES.index(c) for c in ("quarter", "8th", "half"))
    expected = np.zeros((12, 12))
    for a, b in ((q, q), (q, e), (e, h)):
        expected[a, b] = 1 / 3
    np.testing.assert_allclose(m.note_length_transition_matrix(n), expected)


def test_every_metric_is_declared_once_and_the_lists_follow():
    """``METRICS`` is the one place: names unique, each list's places 0..k-1 once each, and the protocol's MSE
    statistics, the set comparison's features, the report's columns and ``all_metrics`` are its lists."""
    from tunesmith.evaluation import protocol, setcompare

    names = [x.name for x in m.METRICS]
    assert len(names) == len(set(names))
    for place in ("mean", "mse", "set_feature", "column"):
        spots = sorted(getattr(x, place) for x in m.METRICS if getattr(x, place) is not None)
        assert spots == list(range(len(spots))), place
    assert list(protocol.MSE_STATISTICS) == list(m.metrics_in("mse"))
    assert list(setcompare.SET_FEATURES) == list(m.metrics_in("set_feature"))
    assert tuple(m.metrics_in("column")) == protocol.REPORT_COLUMNS
    assert set(protocol.REPORT_COLUMNS) <= set(m.metrics_in("mean"))  # a column is a set mean of the report
    basic = piece([60, 64, 67, 72], [0, 1, 2, 3], [1, 2, 3, 4])
    assert list(m.all_metrics(basic)) == list(m.metrics_in("mean"))
    assert m.metrics_in("mse")["repetitions_3"](basic) == m.repetitions(basic, 3)
    with pytest.raises(ValueError, match="no list"):
        m.metrics_in("table")
