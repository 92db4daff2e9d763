"""Voice-leading statistics on hand-made pieces whose counts are worked out by hand, and on a real chorale."""

from __future__ import annotations

import numpy as np
import pytest

from tunesmith.corpora import CHORALE_VOICE_PROGRAMS, bach_corpus, read_item
from tunesmith.evaluation.voiceleading import SATB_RANGES, parallel_motions, pool, strong_beats, voice_leading
from tunesmith.notes import Notes, make_time_signatures

S, A, T, B = CHORALE_VOICE_PROGRAMS.values()


def piece(*voices: tuple[int, list[tuple[int, float, float]]], ts=None) -> Notes:
    """Notes from (program, [(pitch, start_qn, end_qn), ...]) per voice; each voice also on its own track."""
    rows = [(p, s, e, prog, k) for k, (prog, notes) in enumerate(voices) for p, s, e in notes]
    pitch, start, end, program, track = (list(c) for c in zip(*rows, strict=True))
    return Notes.from_arrays(
        pitch, start_qn=start, end_qn=end, program=program, track=track, time_signatures=ts
    ).sorted()


def quarters(*pitches: int, at: float = 0.0) -> list[tuple[int, float, float]]:
    return [(p, at + i, at + i + 1) for i, p in enumerate(pitches)]


def test_one_parallel_fifth_and_one_parallel_octave_in_four_beats():
    # soprano G4 A4 B4 C5 over bass C3 D3 B2 C3: fifth (19) -> fifth (19), both up a tone: parallel fifths;
    # fifth -> octave (24): no; octave (24) -> octave (24) by contrary motion (up 2, down 3): no;
    # octave -> octave (24), both up a semitone: parallel octaves
    n = piece((S, quarters(67, 69, 71, 72)), (B, quarters(48, 50, 47, 48)))
    r = voice_leading(n)
    assert r.beats == 4.0
    assert r.parallel_fifths["soprano-bass"] == 1 and r.parallel_octaves["soprano-bass"] == 1
    assert sum(r.parallel_fifths.values()) == 1 and sum(r.parallel_octaves.values()) == 1
    s = r.summary()
    assert s["parallel_fifths_per_100_beats"] == 25.0 and s["parallel_octaves_per_100_beats"] == 25.0
    assert s["parallel_fifths_per_100_beats[soprano-bass]"] == 25.0
    assert s["parallel_fifths_per_100_beats[alto-tenor]"] == 0.0  # voices without notes take part in nothing
    assert s["out_of_range_share"] == 0.0 and s["crossing_per_100_beats"] == 0.0
    # strong beats 0 and 2: a twelfth and a double octave, consonant
    assert (r.strong_beats, r.dissonant_strong_beats) == (2, 0)
    # the same piece told apart by track
    by_track = voice_leading(n, {"soprano": 0, "bass": 1}, by="track")
    assert by_track.parallel_fifths == {"soprano-bass": 1} and by_track.parallel_octaves == {"soprano-bass": 1}


def test_parallel_motions_say_where():
    """The same four beats: the fifths from beat 0 to beat 1, the octaves from beat 2 to beat 3."""
    n = piece((S, quarters(67, 69, 71, 72)), (B, quarters(48, 50, 47, 48)))
    assert parallel_motions(n) == [("soprano", "bass", 0.0, 1.0), ("soprano", "bass", 2.0, 3.0)]
    assert parallel_motions(n, {"s": 0, "b": 1}, by="track") == [("s", "b", 0.0, 1.0), ("s", "b", 2.0, 3.0)]


def test_fifths_by_contrary_motion_or_with_a_voice_holding_are_not_parallel():
    # a third into a fifth by contrary motion; a fifth to a twelfth by contrary motion
    contrary = piece((S, quarters(76, 74, 67, 74)), (B, quarters(48, 55, 60, 55)))
    r = voice_leading(contrary)
    assert sum(r.parallel_fifths.values()) == 0 and sum(r.parallel_octaves.values()) == 0
    # the bass holds C3 while the soprano moves G4 -> G5 -> ... : no motion of both voices, no parallels
    oblique = piece((S, quarters(67, 79, 67)), (B, [(48, 0.0, 3.0)]))
    assert sum(voice_leading(oblique).parallel_octaves.values()) == 0
    # a repeated pitch is no motion: G4 G4 over C3 D3
    repeated = piece((S, quarters(67, 67)), (B, quarters(48, 50)))
    assert sum(voice_leading(repeated).parallel_fifths.values()) == 0
    # a rest between two fifths breaks them
    rest = piece((S, [(67, 0.0, 1.0), (69, 2.0, 3.0)]), (B, [(48, 0.0, 1.0), (50, 2.0, 3.0)]))
    assert sum(voice_leading(rest).parallel_fifths.values()) == 0
    # compound and unison: a unison to a unison in parallel counts as octaves, a 12th to a 5th in parallel as fifths
    unison = piece((A, quarters(60, 62)), (T, quarters(60, 62)))
    assert voice_leading(unison).parallel_octaves["alto-tenor"] == 1
    compound = piece((S, quarters(74, 76)), (T, quarters(55, 57)))  # 19 -> 19
    assert voice_leading(compound).parallel_fifths["soprano-tenor"] == 1


def test_a_crossing_is_the_time_the_lower_voice_sounds_above():
    # soprano holds G4 for 4 beats; the alto goes E4, A4 (above the soprano for one beat), G4 (unison), E4
    n = piece((S, [(67, 0.0, 4.0)]), (A, quarters(64, 69, 67, 64)))
    r = voice_leading(n)
    assert r.crossing_beats == {"soprano-alto": 1.0, "alto-tenor": 0.0, "tenor-bass": 0.0}
    assert r.summary()["crossing_per_100_beats"] == 25.0
    assert "soprano-tenor" not in r.crossing_beats  # adjacent pairs only


def test_notes_out_of_range_are_counted_per_voice():
    # soprano A5 (81) above G5; bass D2 (38) below E2 and C4 (60) just in; alto G3 (55) and C5 (72) just in
    n = piece((S, quarters(72, 81)), (A, quarters(55, 72)), (B, quarters(38, 60)))
    r = voice_leading(n)
    assert r.notes == {"soprano": 2, "alto": 2, "tenor": 0, "bass": 2}
    assert r.out_of_range == {"soprano": 1, "alto": 0, "tenor": 0, "bass": 1}
    s = r.summary()
    assert s["out_of_range_share"] == 2 / 6
    assert s["out_of_range_share[soprano]"] == 0.5 and s["out_of_range_share[alto]"] == 0.0
    assert SATB_RANGES["alto"] == (55, 72)


def test_dissonance_on_strong_beats():
    # a C major triad on beat 1 (C3 E4 G4 C5: the fourth G4-C5 is between upper voices): consonant
    triad = piece((S, [(72, 0, 1)]), (A, [(67, 0, 1)]), (T, [(64, 0, 1)]), (B, [(48, 0, 1)]))
    assert (voice_leading(triad).strong_beats, voice_leading(triad).dissonant_strong_beats) == (1, 0)
    # C4-D4 on beat 1: a second
    second = piece((S, [(62, 0, 1)]), (A, [(60, 0, 1)]))
    assert voice_leading(second).dissonant_strong_beats == 1
    # a fourth above the bass (C3-F4) is dissonant; a tritone between upper voices too
    fourth = piece((S, [(65, 0, 1)]), (B, [(48, 0, 1)]))
    assert voice_leading(fourth).dissonant_strong_beats == 1
    tritone = piece((S, [(71, 0, 1)]), (A, [(65, 0, 1)]), (B, [(41, 0, 1)]))
    assert voice_leading(tritone).dissonant_strong_beats == 1
    # C-D on beat 2 (weak), then a held consonance across beat 3 (strong): 1 strong beat (beat 1), none dissonant
    weak = piece((S, [(64, 0, 1), (62, 1, 2), (67, 2, 4)]), (A, [(60, 0, 4)]))
    r = voice_leading(weak)
    assert (r.strong_beats, r.dissonant_strong_beats) == (2, 0)
    # one voice alone on a strong beat is no sonority
    alone = piece((S, [(62, 0, 1)]), (A, [(60, 1, 2)]))
    assert voice_leading(alone).strong_beats == 0


def test_strong_beats_follow_the_time_signatures():
    ts = make_time_signatures
    assert strong_beats(ts(), 0, 8).tolist() == [0, 2, 4, 6]
    assert strong_beats(ts([0.0], [3], [4]), 0, 9).tolist() == [0, 3, 6]
    assert strong_beats(ts([0.0], [12], [8]), 0, 12).tolist() == [0, 3, 6, 9]
    assert strong_beats(ts([0.0], [6], [8]), 0, 6).tolist() == [0, 3]
    assert strong_beats(ts([0.0], [3], [2]), 0, 12).tolist() == [0, 6]
    # a one-beat pickup to 4/4: no strong beat at 0, then beats 1 and 3 of each bar
    assert strong_beats(ts([0.0, 1.0], [1, 4], [4, 4]), 0, 9).tolist() == [1, 3, 5, 7]
    # 4/4 then 3/4 from qn 8
    assert strong_beats(ts([0.0, 8.0], [4, 3], [4, 4]), 0, 14).tolist() == [0, 2, 4, 6, 8, 11]


def test_a_voice_holding_two_notes_sounds_the_last_started():
    # the soprano's C5 (0-2) overlaps its D5 (1-2): from beat 1 it sounds D5; over the bass F3 then G3 that is a
    # fifth (C5/F3, 19) to a fifth (D5/G3, 19), both up a tone
    n = piece((S, [(72, 0, 2), (74, 1, 2)]), (B, [(53, 0, 1), (55, 1, 2)]))
    assert voice_leading(n).parallel_fifths["soprano-bass"] == 1


def test_pooling_weights_rates_by_beats():
    four = voice_leading(piece((S, quarters(67, 69, 71, 72)), (B, quarters(48, 50, 47, 48))))  # 1 fifth, 4 beats
    twelve = voice_leading(piece((S, quarters(*[72] * 12)), (B, quarters(*[48] * 12))))  # none, 12 beats
    total = pool([four, twelve])
    assert total.pieces == 2 and total.beats == 16.0
    assert total.summary()["parallel_fifths_per_100_beats"] == pytest.approx((25.0 * 4 + 0.0 * 12) / 16)
    assert total.notes["soprano"] == 16 and four.parallel_fifths["soprano-bass"] == 1  # the inputs unchanged
    assert pool([]).summary()["parallel_fifths_per_100_beats"] == 0.0


def test_empty_and_unknown_voices():
    assert voice_leading(Notes.empty()).summary()["beats"] == 0.0
    other = piece((0, quarters(60, 62)))  # program 0: no chorale voice
    assert voice_leading(other).beats == 0.0
    with pytest.raises(ValueError, match="by must be"):
        voice_leading(other, by="channel")  # type: ignore[arg-type]


def test_a_real_chorale():
    """BWV 66.6 as read from the built-in corpus: four voices, little of everything."""
    item = next(it for it in bach_corpus().items if it.relpath == "bwv66.6.mxl")
    r = voice_leading(read_item(item))
    s = r.summary()
    assert r.notes == {"soprano": 36, "alto": 42, "tenor": 44, "bass": 41}
    assert r.beats == 36.0  # a one-beat pickup, eight bars of 4/4 and a last bar of three beats
    assert s["parallel_fifths_per_100_beats"] + s["parallel_octaves_per_100_beats"] <= 5.0
    assert s["out_of_range_share"] < 0.05 and s["crossing_per_100_beats"] < 5.0
    assert r.strong_beats == 2 * 8 + 2  # beats 1 and 3 of every bar, none in the pickup
    assert 0.0 <= s["strong_beat_dissonance_share"] < 0.5
    assert np.isfinite(list(s.values())).all()
