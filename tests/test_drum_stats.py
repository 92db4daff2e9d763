"""The drum statistics (evaluation/drums.py) on parts written by hand, and their set comparison."""

from __future__ import annotations

import numpy as np
import pytest

from tunesmith.errors import ConfigError
from tunesmith.evaluation.drums import (
    DRUM_FEATURES,
    compare_drum_sets,
    drum_features,
    drum_groove_consistency,
    hits_per_bar,
    share_on_grid,
    timing_spread,
    velocity_spread,
)
from tunesmith.notes import Notes, make_tempo_map, make_time_signatures
from tunesmith.representations.drums import CLASS_INDEX


def part(start_qn, pitches, velocity=100, qpm=120.0, ts=None) -> Notes:
    start_qn = np.asarray(start_qn, dtype=float)
    return Notes.from_arrays(
        pitches,
        start_qn=start_qn,
        end_qn=start_qn + 0.1,
        velocity=velocity,
        is_drum=True,
        tempos=make_tempo_map([0.0], [qpm]),
        time_signatures=ts if ts is not None else make_time_signatures(),
    )


def rock(bars: int = 2) -> Notes:
    """Kick on 1 and 3, snare on 2 and 4, closed hi-hat on every 8th, for ``bars`` bars of 4/4."""
    starts, pitches = [], []
    for b in range(bars):
        for q in range(4):
            starts += [4 * b + q]
            pitches += [36 if q % 2 == 0 else 38]
        for e in range(8):
            starts += [4 * b + e / 2]
            pitches += [42]
    return part(starts, pitches)


def test_hits_per_bar_by_hand():
    h = hits_per_bar(rock(2))
    assert h[CLASS_INDEX[36]] == 2 and h[CLASS_INDEX[38]] == 2 and h[CLASS_INDEX[42]] == 8 and h.sum() == 12
    # a silent bar in the middle counts; a cowbell (56, no class) and a piano note do not
    gap = Notes.concatenate(
        [part([0.0, 8.0], [36, 36]), part([1.0], [56]), Notes.from_arrays([60], start_qn=[2.0], end_qn=[3.0])]
    )
    h = hits_per_bar(gap)
    assert h[CLASS_INDEX[36]] == pytest.approx(2 / 3) and h.sum() == pytest.approx(2 / 3)
    # bars of 3/4: 6 quarter notes are two bars
    assert hits_per_bar(part([0.0, 3.0, 5.0], [36] * 3, ts=make_time_signatures([0.0], [3], [4])))[0] == 1.5


def test_grid_share_and_spreads_by_hand():
    # 120 qpm: a 16th is 125 ms. Offsets of 0, +0.08 and -0.2 of a 16th: 0, 10 and -25 ms
    p = part([0.0, 0.25 + 0.02, 0.5 - 0.05], [36, 38, 42], velocity=[60, 90, 120])
    assert share_on_grid(p) == pytest.approx(2 / 3)
    assert timing_spread(p) == pytest.approx(np.std([0.0, 10.0, -25.0]))
    assert velocity_spread(p) == pytest.approx(np.std([60, 90, 120]))
    assert share_on_grid(rock()) == 1.0 and timing_spread(rock()) == 0.0 and velocity_spread(rock()) == 0.0


def test_groove_consistency_by_hand():
    assert drum_groove_consistency(rock(4)) == 1.0
    # bar 1 moves one hit (the hi-hat on step 2 to step 3): 2 of 16 steps differ between bars 0 and 1
    p = rock(2)
    a = p.notes.copy()
    k = np.flatnonzero((a["pitch"] == 42) & np.isclose(a["start_qn"], 4.5))[0]
    a["start_qn"][k] += 0.25
    a["end_qn"][k] += 0.25
    assert drum_groove_consistency(p.with_qn_times(a)) == pytest.approx(1 - 2 / 16)
    assert drum_groove_consistency(rock(1)) == 0.0


def test_no_drums_gives_zeros_and_the_set_comparison_tells_sets_apart():
    piano = Notes.from_arrays([60, 64], start_qn=[0.0, 1.0], end_qn=[1.0, 2.0])
    assert all(np.all(v == 0) for v in drum_features(piano).values())
    rng = np.random.default_rng(0)

    def played(seed_shift: float) -> Notes:
        p = rock(4)
        a = p.notes.copy()
        a["start_qn"] = np.maximum(a["start_qn"] + rng.normal(0, 0.02 + seed_shift, a.size), 0)
        a["end_qn"] = a["start_qn"] + 0.1
        a["velocity"] = rng.integers(40, 127, a.size)
        return p.with_qn_times(a)

    real = [played(0.0) for _ in range(12)]
    alike = [played(0.0) for _ in range(12)]
    programmed = [rock(4) for _ in range(12)]
    same = compare_drum_sets(alike, real)
    other = compare_drum_sets(programmed, real)
    assert set(same) == set(DRUM_FEATURES)
    assert same["timing spread (ms)"].overlap > 0.5 > other["timing spread (ms)"].overlap
    assert same["velocity spread"].overlap > other["velocity spread"].overlap
    with pytest.raises(ConfigError):
        compare_drum_sets(programmed[:1], real)


def test_the_style_classifier_separates_two_grooves_by_hand():
    from tunesmith.evaluation.drums import StyleClassifier

    rng = np.random.default_rng(0)

    def groove(kind: str) -> Notes:
        p = rock(4)
        a = p.notes.copy()
        if kind == "shuffle":  # the off-beat 8ths of the hi-hat pushed to the last triplet
            off = (a["pitch"] == 42) & np.isclose(a["start_qn"] % 1, 0.5)
            a["start_qn"][off] += 1 / 6
        a["start_qn"] = np.maximum(a["start_qn"] + rng.normal(0, 0.01, a.size), 0)
        a["end_qn"] = a["start_qn"] + 0.1
        return p.with_qn_times(a)

    pieces = [groove(k) for k in ("straight", "shuffle") * 10]
    styles = ["rock", "blues"] * 10
    c = StyleClassifier().fit(pieces, styles)
    assert c.styles == ["blues", "rock"] and c.accuracy([groove("shuffle"), groove("straight")], ["blues", "rock"]) == 1
    assert np.allclose(c.probabilities(pieces[:2]).sum(axis=1), 1.0)
    with pytest.raises(ConfigError):
        StyleClassifier().fit(pieces[:2], ["rock", "rock"])


def test_the_style_classifier_beats_chance_on_real_grooves():
    """Trained on the Groove train split's performances of its four commonest styles, it names the style of the
    validation split's performances of those styles well above the commonest style's share."""
    from collections import Counter

    from tunesmith.corpora import groove_corpus
    from tunesmith.evaluation.drums import StyleClassifier, primary_style
    from tunesmith.io import read_midi

    from .conftest import DATA, need

    root = need(DATA / "groove")
    keep = ("rock", "funk", "jazz", "latin")
    sets: dict[str, tuple[list, list]] = {"train": ([], []), "validation": ([], [])}
    for it in groove_corpus(root).items:
        style = primary_style(dict(it.extra)["style"])
        if it.split in sets and style in keep:
            sets[it.split][0].append(read_midi(it.path))
            sets[it.split][1].append(style)
    c = StyleClassifier().fit(*sets["train"])
    pieces, styles = sets["validation"]
    chance = Counter(styles).most_common(1)[0][1] / len(styles)
    assert c.accuracy(pieces, styles) > chance + 0.15
