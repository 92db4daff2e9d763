"""Harmony statistics by hand: the key, the last chord and the melody's chord tones on strong beats."""

from __future__ import annotations

import numpy as np
import pytest

from tunesmith.corpora import CHORALE_VOICE_PROGRAMS
from tunesmith.evaluation.harmony import TRIADS, Key, ends_on_tonic, fits, harmony, key_of, last_chord, pool_harmony
from tunesmith.notes import Notes

#: four bars of 4/4 in half notes, soprano to bass: I, IV, a non-chord F5 over C major, V7, vi, ii, V, I
CHORDS = [
    (72, 67, 64, 48),
    (72, 69, 65, 53),
    (77, 67, 64, 48),  # F against C-E-G: fits no triad or seventh chord
    (74, 71, 65, 43),  # G7
    (72, 69, 64, 45),
    (74, 69, 65, 50),
    (74, 71, 67, 43),
    (72, 67, 64, 48),
]


def chorale(chords=CHORDS) -> Notes:
    pitch, start, program = [], [], []
    for k, chord in enumerate(chords):
        for voice, p in zip(CHORALE_VOICE_PROGRAMS.values(), chord, strict=True):
            pitch.append(p)
            start.append(2.0 * k)
            program.append(voice)
    start = np.asarray(start) / 2  # 120 qpm: a quarter note is 0.5 s
    return Notes.from_arrays(pitch, start, start + 1.0, program=program)


def test_templates_by_hand():
    assert fits({0, 4, 7}, TRIADS) == [0]  # C major, on C alone
    assert fits({0, 4, 7}) == [0, 9]  # and inside A minor seventh
    assert fits({7, 11, 2, 5}) == [7]  # G7
    assert fits({0, 2, 4}) == []  # C-D-E: no chord
    assert 0 in fits({0, 7})  # an open fifth fits C major (and C minor)
    assert fits({0, 4, 5, 7}) == []  # the F over C major of the example


def test_the_last_chord_and_the_tonic():
    piece = chorale()
    assert last_chord(piece) == {0, 4, 7}
    assert ends_on_tonic(piece, Key(0, "major"))
    assert not ends_on_tonic(piece, Key(7, "major"))
    picardy = chorale([(69, 64, 61, 45)])  # A major at the end of a piece in A minor
    assert ends_on_tonic(picardy, Key(9, "minor"))
    assert ends_on_tonic(chorale([(72, 60, 48, 36)]), Key(0, "minor"))  # the tonic alone, in octaves


def test_harmony_of_the_four_bars_by_hand():
    """Strong beats of 4/4 are beats 1 and 3: the eight half-note chords; the F5 over C major (the third) is the one
    melody note that is no chord tone. The key is C major, the melody's; the last chord is the tonic."""
    piece = chorale()
    assert key_of(piece) == Key(0, "major")
    h = harmony(piece, Key(0, "major"))
    assert (h.strong_beats, h.chord_tones, h.in_key, h.on_tonic) == (8, 7, 1, 1)
    assert harmony(piece, Key(7, "major")).summary()["in_key_share"] == 0.0
    both = pool_harmony([h, harmony(piece, Key(9, "minor"))]).summary()
    assert both["pieces"] == 2 and both["in_key_share"] == 0.5 and both["strong_beat_chord_tone_share"] == 7 / 8


def test_a_beat_where_only_the_melody_and_one_voice_sound_is_not_counted():
    piece = chorale()
    duet = piece[np.isin(piece.notes["program"], [40, 43])]
    assert harmony(duet, Key(0, "major")).strong_beats == 0


def test_a_piece_without_notes_has_no_key():
    with pytest.raises(ValueError, match="no key"):
        key_of(Notes.empty())


def test_harmonize_ranks_a_version_in_key_and_ending_on_the_tonic_first():
    """harmony_faults by hand: the four bars as written (no fault), then ending on V (one fault), then ending on V
    with the alto above the soprano in the last chord (one fault, and crossings)."""
    from tunesmith.jobs.harmonize import harmony_faults

    def by_track(chords):
        piece = chorale(chords)
        piece.notes["track"] = piece.notes["program"] - 40  # soprano track 0 ... bass track 3
        return piece

    good = by_track(CHORDS)
    on_v = by_track([*CHORDS[:-1], (74, 71, 67, 43)])
    crossed = by_track([*CHORDS[:-1], (67, 74, 62, 43)])
    key = Key(0, "major")
    faults = [harmony_faults(p, [0], key) for p in (good, on_v, crossed)]
    assert faults[0][0] == 0 and faults[1][0] == 1 and faults[2][0] == 1
    assert faults[0][1] == pytest.approx(1 / 8)  # the one non-chord melody note of eight strong beats
    assert faults[2][1] > faults[1][1]  # the crossing costs
    assert sorted(range(3), key=lambda i: faults[i]) == [0, 1, 2]


def test_over_a_progression_each_bar_the_voices_miss_is_a_fault():
    """With the chords asked (arrange, --chords), each half bar whose written voices (alto, tenor, bass) the
    recogniser hears as another chord is one fault more: none where the progression is theirs, one for a half bar
    changed, seven for the progression a tone higher but for the half bar of A."""
    from tunesmith.jobs.harmonize import harmony_faults
    from tunesmith.representations.chords import parse_progression

    piece = chorale(CHORDS)
    piece.notes["track"] = piece.notes["program"] - 40
    key = Key(0, "major")
    plain = harmony_faults(piece, [0], key)
    theirs = parse_progression("C F | C G7 | A Dm | G C")  # the third of A is in none of the written voices
    assert harmony_faults(piece, [0], key, theirs) == plain
    assert harmony_faults(piece, [0], key, parse_progression("C F | C G7 | A Dm | G Am"))[0] == plain[0] + 1
    assert harmony_faults(piece, [0], key, parse_progression("D G | D A7 | A Em | A D"))[0] == plain[0] + 7


def test_a_half_bar_heard_as_another_chord_is_mended_with_a_tone_it_leaves_out():
    """Asked for A minor at quarter 8, the written voices (alto A4, tenor E4, bass A2: no third) are heard as A
    major; on_chords moves one doubled A a minor third up to C, the tone left out, and the half bar is heard as A
    minor. Nothing else moves: the melody, every other note, and a progression the voices already follow."""
    from tunesmith.jobs.harmonize import on_chords
    from tunesmith.representations.chords import followed, parse_progression

    piece = chorale(CHORDS)
    piece.notes["track"] = piece.notes["program"] - 40
    voices = lambda p: p[p.notes["track"] != 0]  # noqa: E731
    asked = parse_progression("C F | C G7 | Am Dm | G C")
    assert followed(voices(piece), asked)["triad"] == 7
    mended = on_chords(piece, [0], asked)
    assert followed(voices(mended), asked)["triad"] == 8
    moved = np.flatnonzero(mended.notes["pitch"] != piece.notes["pitch"])
    assert moved.size == 1 and piece.notes["start_qn"][moved[0]] == 8.0
    assert piece.notes["pitch"][moved[0]] in (69, 45) and mended.notes["pitch"][moved[0]] in (72, 48)
    theirs = parse_progression("C F | C G7 | A Dm | G C")
    assert np.array_equal(on_chords(piece, [0], theirs).notes, piece.notes)


def test_parallels_are_mended_without_changing_the_harmony():
    """Melody C5 -> D5 over a written alto F4 -> G4 and bass F2 -> G2: fifths melody/alto and melody/bass, octaves
    alto/bass. The alto's G is doubled by the bass, so it may take the melody's D (G4 -> D4, within a fifth); the
    bass may only change octave (G2 -> G1). No parallel is left, no voice crosses, and every onset sounds the same
    pitch classes as before."""
    from tunesmith.evaluation.voiceleading import parallel_motions
    from tunesmith.jobs.harmonize import fewer_parallels

    pitch = [72, 74, 65, 67, 41, 43]
    start = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    piece = Notes.from_arrays(pitch, [s / 2 for s in start], [(s + 1) / 2 for s in start], track=[0, 0, 1, 1, 2, 2])
    voices = {"melody": 0, "alto": 1, "bass": 2}
    assert len(parallel_motions(piece, voices, by="track")) == 3
    mended = fewer_parallels(piece, [0])
    assert parallel_motions(mended, voices, by="track") == []
    a = mended.notes
    got = {(int(t), float(s)): int(p) for t, s, p in zip(a["track"], a["start_qn"], a["pitch"], strict=True)}
    assert got[(0, 1.0)] == 74 and got[(1, 0.0)] == 65 and got[(2, 0.0)] == 41  # the melody and the first chord kept
    assert got[(1, 1.0)] == 62 and got[(2, 1.0)] == 31
    def at(n: Notes, t: float) -> set[int]:
        return {int(p) % 12 for p in n.notes["pitch"][n.notes["start_qn"] == t]}

    assert all(at(mended, t) == at(piece, t) for t in (0.0, 1.0))
    assert fewer_parallels(mended, [0]).notes.tobytes() == mended.notes.tobytes()  # nothing left to mend
