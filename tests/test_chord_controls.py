"""Chord controls: chord symbols, each bar's chords in the token cache, chord tokens in training sequences and in
generation (``--chords``, ``--bars``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tunesmith.cli import main
from tunesmith.errors import ConfigError
from tunesmith.families.transformer.grammar import GrammarState
from tunesmith.families.transformer.sample import ROOT_SHARE, ChordPlan
from tunesmith.families.transformer.task import ChordSetup
from tunesmith.io import read_midi
from tunesmith.jobs.generate import generate
from tunesmith.jobs.train import train
from tunesmith.notes import Notes
from tunesmith.representations.chords import (
    BAR_CHORD_DTYPE,
    QUALITIES,
    ChordVocab,
    bar_chords,
    chord_index,
    harte,
    parse_progression,
    parse_symbol,
    progression_rows,
    progression_text,
    recognise,
    tone_masks,
)

from .conftest import synthetic_dataset

TINY = {"context": "64", "max_steps": "12", "epochs": "3", "val_max_batches": "2", "batch_size": "4"}


# ------------------------------------------------------------------------------------------- symbols
@pytest.mark.parametrize(
    "text, want",
    [
        ("C", (0, "maj", -1)), ("Am", (9, "min", -1)), ("G7/B", (7, "7", 11)), ("F#m7b5", (6, "hdim7", -1)),
        ("Bbmaj7", (10, "maj7", -1)), ("Cdim", (0, "dim", -1)), ("Esus4", (4, "sus4", -1)), ("Ebm7", (3, "min7", -1)),
        ("G9", (7, "7", -1)), ("C/E", (0, "maj", 4)), ("C/C", (0, "maj", -1)), ("A:min7", (9, "min7", -1)),
        ("G:7/3", (7, "7", 11)), ("N", (-1, "", -1)), ("Caug", (0, "aug", -1)), ("Bdim7", (11, "dim7", -1)),
    ],
)  # fmt: skip
def test_chord_symbols_as_lead_sheets_write_them(text, want):
    assert parse_symbol(text) == want


@pytest.mark.parametrize("bad", ["H7", "am", "Cx", "C/H", "", "Cmaj7/"])
def test_a_bad_chord_symbol_is_an_error_that_names_it(bad):
    with pytest.raises(ConfigError, match="is not a chord symbol"):
        parse_symbol(bad)


def test_a_bad_symbol_in_a_progression_is_named():
    with pytest.raises(ConfigError, match="'H7' is not a chord symbol"):
        parse_progression("C | H7")
    with pytest.raises(ConfigError, match="at most two"):
        parse_progression("C F G | Am")
    with pytest.raises(ConfigError, match="separated by \\|"):
        parse_progression("C | | G")


def test_a_progression_round_trips_through_its_tokens():
    """Symbols -> rows -> tokens -> symbols: every chord of every bar, slash chords' basses and half bars."""
    text = "C | G7/B | Am F | Dm7 G7 | Bbmaj7/D | N"
    bars = parse_progression(text)
    assert progression_text(bars) == "C:maj | G:7/3 | A:min F:maj | D:min7 G:7 | Bb:maj7/3 | N"
    vocab = ChordVocab(1000)
    rows = progression_rows(bars, 8)  # repeated to fill 8 bars
    assert rows["chord"][6:].tolist() == rows["chord"][:2].tolist() and rows["chord"][5].tolist() == [-1, -1]
    n_chords = 12 * len(QUALITIES)
    back = []
    for row in rows:
        toks = vocab.bar_tokens(row)
        assert all(1000 <= t < 1000 + vocab.size for t in toks)
        chords, k = [], 0
        while k < len(toks):
            c = toks[k] - 1000
            root, quality = divmod(c, len(QUALITIES))
            bass = toks[k + 1] - 1000 - n_chords if k + 1 < len(toks) and toks[k + 1] - 1000 >= n_chords else -1
            k += 1 + (bass >= 0)
            chords.append(harte(root, list(QUALITIES)[quality], bass))
        back.append(" ".join(chords) or "N")
    assert " | ".join(back[:6]) == "C:maj | G:7/3 | A:min F:maj | D:min7 G:7 | Bb:maj7/3 | N"


# ------------------------------------------------------------------------------------------- the recogniser
def _chord(root: int, quality: str, inversion: int, at: float = 0.0, length: float = 4.0) -> Notes:
    tones = [48 + root + i for i in QUALITIES[quality]]
    for _ in range(inversion):
        tones = tones[1:] + [tones[0] + 12]
    return Notes.from_arrays(tones, start_qn=[at] * len(tones), end_qn=[at + length] * len(tones))


@pytest.mark.parametrize("quality", ["maj", "min", "dim", "7", "maj7", "min7", "hdim7"])
@pytest.mark.parametrize("root", [0, 2, 7, 10])
def test_triads_and_sevenths_in_every_inversion(root, quality):
    """Each inversion of a chord (its bass the root, the third, the fifth or the seventh) is named with its root,
    quality and bass. (Augmented triads, diminished sevenths and sus4 chords are left out: their inversions are
    other chords of the same kind, which no reading of the notes alone tells apart.)"""
    for inversion in range(len(QUALITIES[quality])):
        c = recognise(_chord(root, quality, inversion), "bar")
        bass = (root + QUALITIES[quality][inversion]) % 12
        assert (int(c.root[0]), c.quality[0], int(c.bass[0])) == (root, quality, bass), (quality, inversion)


def test_a_dominant_with_a_passing_tone_is_still_the_dominant():
    g7 = _chord(7, "7", 0, length=4.0)
    passing = Notes.from_arrays([69, 71], start_qn=[1.5, 2.5], end_qn=[2.0, 3.0])  # A and B passing in the top voice
    c = recognise(Notes.concatenate([g7, passing]), "bar")
    assert c.labels() == ["G:7"]


def test_each_bars_chords_for_the_cache():
    """Bar 1: C major throughout (one chord); bar 2: G7 over B, then A minor (two halves); bar 3: silent."""
    parts = [_chord(0, "maj", 0, 0.0, 4.0), _chord(7, "7", 1, 4.0, 2.0), _chord(9, "min", 0, 6.0, 2.0)]
    table = bar_chords(Notes.concatenate(parts), np.array([0.0, 4.0, 8.0]))
    assert table.dtype == BAR_CHORD_DTYPE
    assert table["chord"].tolist() == [[chord_index(0, "maj"), -1], [chord_index(7, "7"), chord_index(9, "min")],
                                       [-1, -1]]  # fmt: skip
    assert table["bass"].tolist() == [[-1, -1], [11, -1], [-1, -1]]


# ------------------------------------------------------------------------------------------- in training
def test_chord_tokens_go_after_each_kept_bars_bar_token():
    """A piece of 9 ids with bars at 0, 4 and 7: bar 1 C major, bar 2 G7/B then Am, bar 3 no chord. All kept:
    C after id 0; G7, its bass B and Am after id 4; the bars' starts moved by what came before them. Dropped: as
    many CHORD_NONE in their place; the whole sequence's dropped: the piece as it was."""
    vocab = ChordVocab(100)
    table = np.zeros(3, dtype=BAR_CHORD_DTYPE)
    table["chord"] = [[chord_index(0, "maj"), -1], [chord_index(7, "7"), chord_index(9, "min")], [-1, -1]]
    table["bass"] = [[-1, -1], [11, -1], [-1, -1]]
    setup = ChordSetup(vocab, dropout=0.0, none=0.0)
    ids, bars = np.arange(9), np.array([0, 4, 7])
    out, moved = setup.inline(ids, bars, table, seed=1)
    c, g7, am, b = 100 + chord_index(0, "maj"), 100 + chord_index(7, "7"), 100 + chord_index(9, "min"), 100 + 120 + 11
    assert out.tolist() == [0, c, 1, 2, 3, 4, g7, b, am, 5, 6, 7, 8]
    assert moved.tolist() == [0, 5, 11] and out[moved].tolist() == [0, 4, 7]
    # none kept: the piece as it was; a bar dropped: only its tokens go
    assert ChordSetup(vocab, 0.0, 1.0).inline(ids, bars, table, 1)[0].tolist() == list(range(9))
    rng = np.random.default_rng(3)
    rng.random()  # the draw for the whole sequence's
    keep = (rng.random(3) >= 0.5).tolist()
    dropped, _ = ChordSetup(vocab, 0.5, 0.0).inline(ids, bars, table, 3)
    none = vocab.none  # a dropped bar: as many CHORD_NONE as its chord tokens (a bar with no chord: none at all)
    want = [0, *([c] if keep[0] else [none]), 1, 2, 3, 4, *([g7, b, am] if keep[1] else [none] * 3), 5, 6, 7, 8]
    assert dropped.tolist() == want and not all(keep)


def test_chord_plan_gives_each_new_bars_tokens_in_place_of_the_sampled_ones():
    """Row 0 starts a bar at the first step and another at the fourth: its next tokens are those bars' chord tokens,
    the progression repeated; row 1 starts no bar and keeps what it sampled."""
    state = GrammarState(*[torch.zeros(2, dtype=torch.long)] * 11)
    plan = ChordPlan([[500, 501], [502]], state)
    got = []
    bars = [[1, 0], [1, 0], [1, 0], [2, 0], [2, 0], [3, 0], [3, 0]]
    for step, b in enumerate(bars):
        state.bars = torch.tensor(b)
        tok, given = plan.force(state, torch.tensor([step, 100 + step]), torch.zeros(2, dtype=torch.bool))
        got.append((tok.tolist(), given.tolist()))
    assert [g[0][0] for g in got] == [500, 501, 2, 502, 4, 500, 501]
    assert [g[1][0] for g in got] == [True, True, False, True, False, True, True]
    assert [g[0][1] for g in got] == [100 + s for s in range(7)] and not any(g[1][1] for g in got)


# ------------------------------------------------------------------------------------------- a run
@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    data = synthetic_dataset(tmp_path_factory.mktemp("cdata"), steps=[0.5, 1.0], durations=[0.5, 1.0], n_pieces=10,
                             n_notes=60)  # fmt: skip
    out = tmp_path_factory.mktemp("crun") / "run"
    train("transformer", data, out, preset="tiny", overrides=TINY, progress=False)
    return out


@pytest.fixture
def streams(sample_calls) -> list[list[list[int]]]:
    """The new tokens of every ``sample_tokens`` call made while the test runs, per call and row."""
    return sample_calls.streams


def _pcs(mask: np.ndarray) -> set[int]:
    return {int(p) for p in np.flatnonzero(mask)}


def test_each_bars_chord_tones_by_hand():
    """``C Am | G7/B | N | C/Bb``: each half bar's pitch classes (a slash chord's bass added; a bar of one chord the
    same in both halves; a bar with no chord keeps to nothing)."""
    rows = progression_rows(parse_progression("C Am | G7/B | N | C/Bb"), 4)
    m = tone_masks(rows)
    assert m.shape == (4, 2, 12)
    m = m > 0
    assert _pcs(m[0, 0]) == {0, 4, 7} and _pcs(m[0, 1]) == {9, 0, 4}
    assert _pcs(m[1, 0]) == _pcs(m[1, 1]) == {7, 11, 2, 5}
    assert m[2].all()
    assert _pcs(m[3, 0]) == _pcs(m[3, 1]) == {0, 4, 7, 10}


def test_chord_plan_takes_nats_from_pitches_off_the_chord(run):
    """``bias``: exactly ``strictness`` from each melodic Pitch token outside the chord of the bar and half bar
    being written, ROOT_SHARE of it given to the root, nothing to other tokens, nothing in a bar of the prompt; a
    TimeSig of 3/4 moves the half to the second beat's middle (position 12, 8 positions to the quarter) and one of
    6/8 to the fourth eighth (position 24: MidiTok counts positions in the metre's beats, 8 to the eighth there)."""
    import json

    from tunesmith.families.transformer.grammar import Grammar
    from tunesmith.representations.tokens import load_tokenizer

    tok = load_tokenizer(run / "tokenizer.json")
    vocab_size = json.loads((run / "config.json").read_text())["model"]["vocab_size"]
    grammar = Grammar(tok, vocab_size, torch.device("cpu"))
    tones = tone_masks(progression_rows(parse_progression("C Am | G"), 2))
    state = GrammarState(*[torch.zeros(4, dtype=torch.long)] * 11)
    state.bars = torch.tensor([1, 1, 2, 0])  # rows 0-1 write the first bar, row 2 the second, row 3 none yet
    plan = ChordPlan([[1], [2]], GrammarState(*[torch.zeros(4, dtype=torch.long)] * 11), grammar, None, tones, 2.5)
    plan.start = torch.zeros(4, dtype=torch.long)  # the prompt began no bar
    per_beat = max(tok.config.beat_res.values())  # positions to a beat
    state.position = torch.tensor([0, 2 * per_beat, 3 * per_beat, 0])  # row 1 in the second half (C Am: Am)
    out = plan.bias(state, torch.zeros(4, vocab_size))
    pitch = {v: int(k.split("_")[1]) for k, v in tok.vocab.items() if k.startswith("Pitch_")}
    other = [v for k, v in tok.vocab.items() if not k.startswith("Pitch_")]
    bonus = ROOT_SHARE * 2.5
    for r, (root, chord) in enumerate([(0, {0, 4, 7}), (9, {9, 0, 4}), (7, {7, 11, 2})]):
        for v, p in pitch.items():
            want = bonus if p % 12 == root else 0.0 if p % 12 in chord else -2.5
            assert float(out[r, v]) == pytest.approx(want), (r, p)
        assert not out[r, other].any()
    assert not out[3].any()  # row 3: a bar of the prompt
    three, six = tok.vocab["TimeSig_3/4"], tok.vocab["TimeSig_6/8"]
    plan.wrote(torch.tensor([three, three, six, six]))
    half = int(1.5 * per_beat)
    state.position = torch.tensor([half - 1, half, 0, 0])
    state.bars = torch.tensor([1, 1, 1, 1])
    c, a = pitch_of(tok, 60), pitch_of(tok, 57)
    for position in (half, 3 * per_beat - 1, 3 * per_beat):
        state.position = torch.tensor([half - 1, half, position - 1, position])
        out = plan.bias(state, torch.zeros(4, vocab_size))
        assert float(out[0, a]) == -2.5 and float(out[0, c]) == pytest.approx(bonus)  # still C's half
        assert float(out[1, a]) == pytest.approx(bonus) and float(out[1, pitch_of(tok, 67)]) == -2.5  # Am's: G off
        second = position == 3 * per_beat  # 6/8: the fourth eighth begins the second half
        assert float(out[2, a]) == -2.5 and float(out[3, a]) == pytest.approx(bonus if second else -2.5)


def pitch_of(tok, p: int) -> int:
    return tok.vocab[f"Pitch_{p}"]


def test_strict_chords_write_only_chord_tones(run, tmp_path, streams):
    """``--chords "C | Dm G7" --chord-strictness 30``: every pitch the model writes is a tone of the chord of its
    bar and half bar, and sounds no longer than the chords that have it (read from the token stream); 0 leaves the
    notes as the chord tokens alone make them."""
    from tunesmith.representations.tokens import load_tokenizer, shift_value_ticks

    tok = load_tokenizer(run / "tokenizer.json")
    names = {v: k for k, v in tok.vocab.items()}
    chords = [[{0, 4, 7}, {0, 4, 7}], [{2, 5, 9}, {7, 11, 2, 5}]]

    halves = [c for bar in chords for c in bar]
    per_beat = max(tok.config.beat_res.values())  # MidiTok's positions to a beat of the metre
    shortest = min(shift_value_ticks(k[9:], 960) for k in tok.vocab if k.startswith("Duration_")) / 960

    def room(k: int, at: float, pc: int, beats: int) -> float:
        """Beats from ``at`` beats into bar ``k`` (of ``beats`` beats) to the end of the half bars whose chords have
        ``pc`` (at most 8)."""
        h = int(2 * at >= beats)
        n = 0
        while n < 8 and pc in halves[(2 * k + h + n) % len(halves)]:
            n += 1
        return (h + n) * beats / 2 - at

    def off_chord(rows: list[list[int]]) -> tuple[int, int, int]:
        """(pitches off their chord, pitches, notes held past their chord), in beats of the metre: MidiTok counts
        REMI's positions and durations in the time signature's beats."""
        off = total = long = 0
        for row in rows:
            k, at, beats, pc = -1, 0.0, 4, -1
            for t in row:
                name = names.get(t, "")
                if name == "Bar_None":
                    k, at = k + 1, 0.0
                elif name.startswith("TimeSig_"):
                    beats = int(name[8:].split("/")[0])
                elif name.startswith("Position_"):
                    at = int(name[9:]) / per_beat
                elif name.startswith("Pitch_") and k >= 0:
                    total += 1
                    pc = int(name[6:]) % 12
                    off += pc not in chords[k % 2][int(2 * at >= beats)]
                elif name.startswith("Duration_") and k >= 0 and room(k, at, pc, beats) >= shortest:
                    # (the all but untrained model puts positions past its bar's end, where no duration fits)
                    long += shift_value_ticks(name[9:], 960) / 960 > room(k, at, pc, beats) + 1e-9
        return off, total, long

    generate(run, tmp_path / "strict", n=3, seed=1,
             options={"chords": "C | Dm G7", "bars": 4, "chord_strictness": 30.0})  # fmt: skip
    off, total, long = off_chord(streams[-1])
    assert total >= 6 and off == 0 and long == 0
    for row in streams[-1]:  # one metre through the piece (the untrained model, free, writes TimeSig tokens anywhere)
        assert len({t for t in row if names.get(t, "").startswith("TimeSig_")}) == 1
    generate(run, tmp_path / "free", n=3, seed=1, options={"chords": "C | Dm G7", "bars": 4,
             "chord_strictness": 0.0})  # fmt: skip
    off, total, long = off_chord(streams[-1])
    assert off > 0 and long > 0  # the all but untrained model, left to itself, writes notes off and past chords


def test_a_run_with_chords_writes_the_bars_asked_for(run, tmp_path, streams):
    """``--chords "C | G7/B" --bars 4``: in the token stream, every Bar token is followed by its bar's chord tokens
    (the progression repeated), and generation stops at the Bar token that would begin bar 5; the same seed gives
    the same pieces. (The tiny model is all but untrained: what it writes inside a bar is noise.)"""
    import json

    from tunesmith.representations.tokens import load_tokenizer

    cfg = json.loads((run / "config.json").read_text())["model"]
    assert cfg["chords"] is True
    outs = []
    for k in range(2):
        w = generate(run, tmp_path / f"g{k}", n=2, seed=3, options={"chords": "C | G7/B", "bars": 4})
        outs.append([read_midi(p) for p in w])
    assert all(np.array_equal(a.notes, b.notes) for a, b in zip(outs[0], outs[1], strict=True))
    bar = load_tokenizer(run / "tokenizer.json").vocab["Bar_None"]
    base = cfg["vocab_size"] - ChordVocab(0).size
    want = [[base + chord_index(0, "maj")], [base + chord_index(7, "7"), base + 12 * len(QUALITIES) + 11]]
    for row in streams[0]:
        at = [i for i, t in enumerate(row) if t == bar]
        assert 1 <= len(at) <= 5 and (len(at) < 5 or at[-1] == len(row) - 1)  # the fifth Bar ends the row
        for k, i in enumerate(at[:4]):
            assert row[i + 1 : i + 1 + len(want[k % 2])] == want[k % 2]


def test_bars_stop_at_the_bar_after_the_last():
    from tunesmith.families.transformer.sample import bars_stop

    state = GrammarState(*[torch.zeros(2, dtype=torch.long)] * 11)
    stop = bars_stop(4, torch.tensor([0, 2]))
    state.bars = torch.tensor([4, 6])
    assert stop(state, None).tolist() == [False, False]
    state.bars = torch.tensor([5, 7])
    assert stop(state, None).tolist() == [True, True]


def test_chords_from_the_command_line_and_its_errors(run, tmp_path, capsys):
    assert main(["generate", str(run), "--out", str(tmp_path / "a"), "-n", "1", "--chords", "Am | F | C | G",
                 "--bars", "2"]) == 0  # fmt: skip
    assert main(["generate", str(run), "--out", str(tmp_path / "b"), "-n", "1", "--chords", "C | H7"]) != 0
    err = capsys.readouterr().err
    assert "'H7' is not a chord symbol" in err and "Traceback" not in err
    assert main(["generate", str(run), "--out", str(tmp_path / "c"), "-n", "1", "--bars", "0"]) != 0
    assert "at least one bar" in capsys.readouterr().err
    assert main(["generate", str(run), "--out", str(tmp_path / "d"), "-n", "1", "--chords", "C", "--bars", "1",
                 "--chord-strictness", "-1"]) != 0  # fmt: skip
    err = capsys.readouterr().err
    assert "--chord-strictness -1" in err and "0 or more" in err and "Traceback" not in err


def test_a_run_without_chords_continues_with_them(tmp_path):
    """``--init RUN --set chords=true`` on a run trained without chord tokens: the new run's vocabulary has them
    after every id the old one knew, whose embedding rows (and so the tied output) are the old run's."""
    import json

    from safetensors.torch import load_file

    data = synthetic_dataset(tmp_path, steps=[0.5, 1.0], durations=[0.5, 1.0], n_pieces=6, n_notes=40)
    old, new = tmp_path / "old", tmp_path / "new"
    train("transformer", data, old, preset="tiny", overrides={**TINY, "max_steps": "2", "chords": "false"},
          progress=False)  # fmt: skip
    train("transformer", data, new, overrides={"max_steps": "1", "lr": "1e-9", "chords": "true"}, init=str(old),
          progress=False)  # fmt: skip
    v_old = json.loads((old / "config.json").read_text())["model"]["vocab_size"]
    v_new = json.loads((new / "config.json").read_text())["model"]["vocab_size"]
    assert v_new == v_old + ChordVocab(0).size
    a, b = load_file(str(old / "model.safetensors")), load_file(str(new / "model.safetensors"))
    assert b["embed.weight"].shape[0] == v_new
    assert torch.allclose(b["embed.weight"][:v_old].float(), a["embed.weight"].float(), atol=1e-6)


def test_guided_chords_read_chord_none_without_them(run, monkeypatch):
    """With guidance, the reading without controls gets CHORD_NONE exactly where the other gets chord tokens, and
    the same tokens everywhere else (so the two stay aligned, as training dropped bars' chords)."""
    import json

    from tunesmith.families.transformer import sample as sample_mod
    from tunesmith.families.transformer.family import chord_vocab_of
    from tunesmith.families.transformer.model import MusicTransformer, TransformerConfig
    from tunesmith.representations.tokens import load_tokenizer

    cfg = TransformerConfig.from_dict(json.loads((run / "config.json").read_text())["model"])
    tok = load_tokenizer(run / "tokenizer.json")
    vocab = chord_vocab_of(cfg, len(tok))
    seen: dict[int, list[int]] = {}
    real_advance = sample_mod.View.advance

    def spy(self, t, history):
        seen.setdefault(id(self), []).append(int(t[0]))
        return real_advance(self, t, history)

    monkeypatch.setattr(sample_mod.View, "advance", spy)
    torch.manual_seed(0)
    model = MusicTransformer(cfg).eval()
    grammar = sample_mod.Grammar(tok, cfg.vocab_size, torch.device("cpu"))
    head = vocab.base - 1  # a control id (the last before the chord tokens): any head will do here
    prompt = torch.tensor([[head]])
    chords = [[vocab.base + 1, vocab.base + 120 + 4]]
    sample_mod.sample_tokens(model, grammar, prompt, lambda s, p: s.bars > 3, max_new=300, guidance=3.0,
                             free_head=[head], chords=chords, chord_none=vocab.none, pinned=1)  # fmt: skip
    guided, free = seen.values()
    assert len(guided) == len(free) and sum(t in chords[0] for t in guided) >= 2
    for a, b in zip(guided, free, strict=True):
        assert b == (vocab.none if a in chords[0] else a)


def test_a_run_may_carry_its_own_chord_strictness(run, tmp_path, sample_calls):
    """config.json's ``generation`` (a shipped model's own defaults: the lead-sheet melodies' 0) is the strictness
    --chords uses unless told; the house's 4 where it has none; the option given wins over both."""
    import json
    import shutil

    own = tmp_path / "own"
    shutil.copytree(run, own)
    config = json.loads((own / "config.json").read_text())
    (own / "config.json").write_text(json.dumps({**config, "generation": {"chord_strictness": 0.5}}))
    chords = {"chords": "C | G", "bars": 2}
    generate(run, tmp_path / "a", n=1, options=chords)
    generate(own, tmp_path / "b", n=1, options=chords)
    generate(own, tmp_path / "c", n=1, options={**chords, "chord_strictness": 6.0})
    assert [kw.get("chord_strictness") for kw in sample_calls.kwargs] == [4.0, 0.5, 6.0]


def test_the_shipped_melody_model_keeps_its_passing_notes():
    """The lead-sheet model ships strictness 0 (chosen on its validation melodies, docs/chords.md); bach has none
    of its own and takes the house's."""
    import json

    from tunesmith.pretrained import get_model

    def config(name: str) -> dict:
        return json.loads((get_model(name).path / "config.json").read_text())

    assert config("leadsheet")["generation"] == {"chord_strictness": 0.0}
    assert "generation" not in config("bach")
