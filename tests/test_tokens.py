"""MIDI tokens through MidiTok: exact round trips on the grid, bars in the token stream, the cache, BPE."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunesmith.dataset import Dataset
from tunesmith.errors import ConfigError
from tunesmith.families.transformer.data import TokenCache, learn_bpe
from tunesmith.notes import Notes, make_time_signatures
from tunesmith.representations.bars import bar_lines_qn
from tunesmith.representations.tokens import (
    TokenizerSpec,
    bar_starts,
    chord_width_qn,
    describe_tokenizer,
    from_tokens,
    load_tokenizer,
    note_counts,
    save_tokenizer,
    set_chord_window,
    shift_value_ticks,
    to_tokens,
    tokenizable_metres,
    tokenizer_key,
)

from .conftest import synthetic_dataset

TOKENIZERS = {name: TokenizerSpec(tokenization=name).build() for name in ("REMI", "TSD", "MIDILike")}
# the presets' REMI, which snaps played chords onto one grid position: notes on the grid stay as they are
TOKENIZERS["REMI, chords snapped"] = TokenizerSpec(chord_window=0.4).build()


def grid_piece(onsets, durations, pitches, velocities, steps=8) -> Notes:
    """Notes on the tokenizer's grid: onsets and durations in grid steps of a quarter note, velocities on its bins
    (``from_arrays`` takes seconds: 120 qpm, half a second a quarter note)."""
    start = np.asarray(onsets, dtype=float) / steps / 2
    end = start + np.asarray(durations, dtype=float) / steps / 2
    return Notes.from_arrays(pitches, start, end, velocity=velocities).sorted()


def key(n: Notes) -> list[tuple]:
    return sorted(
        zip(
            n.pitch.tolist(), n.start_qn.round(9).tolist(), n.end_qn.round(9).tolist(), n.velocity.tolist(), strict=True
        )
    )


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(list(TOKENIZERS)),
    st.lists(
        st.tuples(st.integers(0, 200), st.integers(1, 32), st.integers(21, 108), st.sampled_from([3, 35, 67, 99, 127])),
        min_size=1,
        max_size=40,
        unique_by=lambda t: (t[0], t[2]),
    ),
)
def test_round_trip_on_the_grid_is_exact(name, rows):
    """Notes whose onsets and durations (up to 4 beats) are on the grid and whose velocities are bin values come
    back exactly: pitch, onset and end in quarter notes, velocity. Notes of one pitch that overlap are left out
    (a key cannot sound twice: reading MIDI re-pairs such notes, and a MIDILike note-off cannot say which it ends)."""
    tok = TOKENIZERS[name]
    onsets, durs, pitches, vels = zip(*rows, strict=True)
    bins = np.asarray(tok.velocities)
    vels = [int(bins[np.abs(bins - v).argmin()]) for v in vels]
    piece = grid_piece(onsets, durs, pitches, vels)
    sounding_until: dict[int, float] = {}
    keep = []
    for p, s, e in zip(piece.pitch.tolist(), piece.start_qn.tolist(), piece.end_qn.tolist(), strict=True):
        keep.append(s >= sounding_until.get(p, -1.0))
        if keep[-1]:
            sounding_until[p] = e
    piece = piece[np.array(keep)]
    back = from_tokens(to_tokens(piece, tok), tok)
    assert key(back) == key(piece)


def test_chords_snap_by_hand():
    """Onsets within the width of a chord's first note start together at their mean, ends moved with them; a chord
    does not chain on (1.00, 1.04, 1.08 with a width of 0.05: the third opens a chord of its own)."""
    from tunesmith.representations.tokens import chord_groups, snap_chords

    assert chord_groups(np.array([1.0, 1.04, 1.08, 1.2, 1.21]), 0.05).tolist() == [0, 0, 1, 2, 2]
    qn = np.array([1.0, 1.02, 1.04, 1.2, 1.5])  # 120 qpm: seconds = qn / 2
    piece = Notes.from_arrays([60, 64, 67, 72, 60], qn / 2, (qn + 0.5) / 2)
    snapped = snap_chords(piece, 0.05)
    assert np.allclose(snapped.start_qn, [1.02, 1.02, 1.02, 1.2, 1.5])
    assert np.allclose(snapped.end_qn - snapped.start_qn, 0.5) and np.allclose(snapped.start, snapped.start_qn / 2)
    assert snap_chords(piece, 0.0) is piece and snap_chords(piece, 0.01) is piece  # nothing within 0.01: unchanged


def test_a_chord_across_a_grid_line_lands_on_one_position(tmp_path):
    """0.06 and 0.07 quarter notes lie either side of the line between grid steps 0 and 1 (0.0625): rounded one by
    one they decode on two positions; snapped (the presets' tokenizer), on one. The setting travels with the
    tokenizer's file and gives its token cache a folder of its own."""
    from tunesmith.representations.tokens import chord_width_qn

    snapping = TOKENIZERS["REMI, chords snapped"]
    qn = np.array([0.06, 0.07, 1.0])
    piece = Notes.from_arrays([60, 64, 67], qn / 2, (qn + 0.5) / 2)
    apart = from_tokens(to_tokens(piece, TOKENIZERS["REMI"]), TOKENIZERS["REMI"])
    together = from_tokens(to_tokens(piece, snapping), snapping)
    assert sorted(apart.start_qn.tolist()) == [0.0, 0.125, 1.0]
    assert sorted(together.start_qn.tolist()) == [0.125, 0.125, 1.0]  # the mean, 0.065, rounds to step 1
    (tmp_path / "t.json").write_bytes(save_tokenizer(snapping))
    loaded = load_tokenizer(tmp_path / "t.json")
    assert chord_width_qn(loaded) == 0.4 / 8 and chord_width_qn(TOKENIZERS["REMI"]) == 0.0
    assert tokenizer_key(loaded) == tokenizer_key(snapping) != tokenizer_key(TOKENIZERS["REMI"])
    with pytest.raises(ConfigError, match="chord_window"):
        TokenizerSpec(chord_window=0.5).build()  # half a step would merge notes on neighbouring grid positions


def test_the_grid_rounds_onsets_and_velocities():
    tok = TOKENIZERS["REMI"]
    piece = Notes.from_arrays([60, 62], [0.06, 1.0], [0.5, 1.5], velocity=[101, 50])  # 120 qpm: seconds = qn / 2
    back = from_tokens(to_tokens(piece, tok), tok).sorted()
    assert back.start_qn.tolist() == [0.125, 2.0]  # 0.12 qn rounds to one step of 1/8
    assert piece.start_qn[0] == pytest.approx(0.12)
    assert set(back.velocity.tolist()) <= set(np.asarray(tok.velocities).tolist())


def test_pitches_outside_the_piano_are_dropped():
    tok = TOKENIZERS["REMI"]
    piece = Notes.from_arrays([10, 60, 120], [0, 0, 0], [0.5, 0.5, 0.5])
    assert from_tokens(to_tokens(piece, tok), tok).pitch.tolist() == [60]


def test_note_counts_count_pitch_tokens():
    for tok in TOKENIZERS.values():
        piece = grid_piece([0, 8, 8, 20], [4, 4, 8, 2], [60, 64, 67, 72], [67] * 4)
        assert int(note_counts(tok)[to_tokens(piece, tok)].sum()) == 4


@pytest.mark.parametrize("name", list(TOKENIZERS))
def test_bar_starts_by_hand(name):
    """Notes in bars 1, 2 and 4 of 4/4 (bar 3 empty): the token index of each bar's start, checked against what
    decoding the tokens from there gives."""
    tok = TOKENIZERS[name]
    piece = grid_piece([0, 8, 32, 40, 96], [8, 8, 8, 8, 8], [60, 62, 64, 65, 67], [67] * 5)
    ids = to_tokens(piece, tok)
    bars = bar_starts(ids, tok, piece)
    assert len(bars) >= 4
    assert bars[0] == 0
    if name == "REMI":
        assert all(tok[int(ids[b])] == "Bar_None" for b in bars)
    # the notes that start in bar 4 are exactly those whose tokens come after bar 4's start
    before = from_tokens(ids[: bars[3]], tok)
    assert sorted(before.pitch.tolist()) == [60, 62, 64, 65]


def test_a_metre_the_tokenizer_lacks_is_tokenized_as_one_of_its_bar_length():
    """A 2/4 pick-up, then cut time (2/2: REMI's vocabulary has no token for it) from quarter 2, then 3/2 from
    quarter 18, then 1/8 (a bar length the vocabulary lacks) from quarter 24: the 2/2 is written 4/4 and the 3/2
    6/4, so the Bar tokens fall on the piece's own bar lines (MidiTok, given 2/2, drops it and lets the pick-up's
    2/4 hold: twice as many bars); 1/8 is left to MidiTok, and a piece whose metres it has is not copied."""
    tok = TOKENIZERS["REMI"]
    ts = make_time_signatures([0.0, 2.0, 18.0, 24.0], [2, 2, 3, 1], [4, 2, 2, 8])
    piece = grid_piece(np.arange(0, 200, 8), [8] * 25, [60 + k % 12 for k in range(25)], [67] * 25)
    piece = Notes(piece.notes, piece.tempos, ts)
    kept = tokenizable_metres(piece, tok)
    assert [tuple(t) for t in kept.time_signatures[["numerator", "denominator"]].tolist()] == [
        (2, 4), (4, 4), (6, 4), (1, 8)
    ]  # fmt: skip
    assert piece.time_signatures["denominator"].tolist() == [4, 2, 2, 8]  # the piece itself is left as it was
    names = [tok[int(i)] for i in to_tokens(piece, tok)]
    bars = [names[i + 1] for i, n in enumerate(names) if n == "Bar_None"]  # each bar's TimeSig token
    assert bars[:7] == ["TimeSig_2/4"] + ["TimeSig_4/4"] * 4 + ["TimeSig_6/4"] * 2  # bar lines 0, 2, ..., 18, 24
    plain = Notes(piece.notes, piece.tempos, make_time_signatures([0.0, 2.0], [2, 4], [4, 4]))
    assert tokenizable_metres(plain, tok) is plain


def test_bar_lines_follow_time_signatures():
    piece = Notes(Notes.empty().notes, time_signatures=make_time_signatures([0.0, 6.0], [3, 6], [4, 8]))
    assert bar_lines_qn(piece, 12.0).tolist() == [0.0, 3.0, 6.0, 9.0]


def test_shift_values():
    assert shift_value_ticks("1.4.8", 8) == 12
    assert shift_value_ticks("0.1.4", 8) == 2


def test_tokenizer_saves_and_loads(tmp_path):
    for tok in TOKENIZERS.values():
        path = tmp_path / "tokenizer.json"
        path.write_bytes(save_tokenizer(tok))
        again = load_tokenizer(path)
        assert type(again) is type(tok) and again.vocab == tok.vocab


def test_chord_window_is_described_and_set_on_a_built_tokenizer():
    tok = TokenizerSpec().build()
    assert "snapped" not in describe_tokenizer(tok)
    set_chord_window(tok, 0.4)
    assert "chords snapped within 0.4 grid steps" in describe_tokenizer(tok)
    assert chord_width_qn(tok) == pytest.approx(0.4 / 8)
    built = TokenizerSpec(chord_window=0.4).build()
    assert json.loads(save_tokenizer(tok)) == json.loads(save_tokenizer(built))
    assert tokenizer_key(tok) == tokenizer_key(built) != tokenizer_key(TokenizerSpec().build())
    set_chord_window(tok, 0.0)
    assert chord_width_qn(tok) == 0.0 and tokenizer_key(tok) == tokenizer_key(TokenizerSpec().build())
    with pytest.raises(ConfigError, match="chord_window"):
        set_chord_window(tok, -0.1)


def test_unknown_tokenization_is_refused():
    with pytest.raises(ConfigError, match="REMI"):
        TokenizerSpec(tokenization="Octuple").build()


def test_cache_is_built_once_and_matches_tokenizing(tmp_path):
    root = synthetic_dataset(tmp_path, steps=[0.25, 0.5], durations=[0.25, 0.5], n_pieces=6, n_notes=40)
    ds = Dataset.load(root)
    tok = TokenizerSpec().build()
    cache = TokenCache.build(ds, tok, progress=False)
    assert len(cache) == len(ds)
    for i in range(len(ds)):
        assert np.array_equal(cache.piece(i), to_tokens(ds[i], tok))
        assert np.array_equal(cache.piece_bars(i), bar_starts(cache.piece(i), tok, ds[i]))
    stamp = (cache.root / "ids.bin").stat().st_mtime_ns
    again = TokenCache.build(ds, tok, progress=False)
    assert (again.root / "ids.bin").stat().st_mtime_ns == stamp  # reused, not rebuilt
    assert isinstance(again.ids, np.memmap)
    other = TokenCache.build(ds, TokenizerSpec(tokenization="TSD").build(), progress=False)
    assert other.root != cache.root


def test_bpe_shortens_and_decodes_the_same(tmp_path):
    root = synthetic_dataset(tmp_path, steps=[0.25, 0.5], durations=[0.25, 0.5], n_pieces=12, n_notes=80)
    ds = Dataset.load(root)
    tok = TokenizerSpec().build()
    plain = TokenizerSpec().build()
    learn_bpe(ds, tok, len(plain) + 60)
    piece = ds[0]
    merged, base = to_tokens(piece, tok), to_tokens(piece, plain)
    assert merged.size < base.size
    assert key(from_tokens(merged, tok)) == key(from_tokens(base, plain))
    assert int(note_counts(tok)[merged].sum()) == len(piece)
    with pytest.raises(ConfigError, match="exceed"):
        learn_bpe(ds, TokenizerSpec().build(), 10)


def test_parallel_cache_equals_serial(tmp_path):
    root = synthetic_dataset(tmp_path, steps=[0.25, 0.5], durations=[0.25, 0.5], n_pieces=12, n_notes=30)
    ds = Dataset.load(root)
    tok = TokenizerSpec(tokenization="TSD").build()
    one = TokenCache.build(ds, tok, progress=False, workers=1)
    ids, bars, offsets = np.asarray(one.ids).copy(), one.bars.copy(), one.offsets.copy()
    two = TokenCache.build(ds, tok, progress=False, workers=2, force=True)
    assert np.array_equal(np.asarray(two.ids), ids) and np.array_equal(two.bars, bars)
    assert np.array_equal(two.offsets, offsets)
