"""Attribute controls: the extractors by hand, their tokens, training with them and generation asked for them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tunesmith.dataset import Dataset
from tunesmith.errors import ConfigError
from tunesmith.families import get_family
from tunesmith.families.transformer.sample import sample_tokens
from tunesmith.families.transformer.task import IGNORE, bars_between, inputs_and_targets
from tunesmith.jobs.generate import generate
from tunesmith.jobs.train import build_configs, train
from tunesmith.notes import Notes, make_tempo_map, make_time_signatures
from tunesmith.representations.controls import (
    KEYS,
    KINDS,
    ControlBins,
    ControlVocab,
    attributes_of,
    bar_stats,
    control_tokens,
    estimate_key,
    obeyed,
    parse_controls,
    parse_instruments,
    parse_key,
    parse_tokens,
    tempo_bin,
)

from .conftest import synthetic_dataset


def notes(pitch, start_qn, end_qn, program=0, qpm=120.0, ts=(4, 4)) -> Notes:
    pitch = np.asarray(pitch)
    n = Notes.from_arrays(
        pitch,
        np.asarray(start_qn, float) * 60 / qpm,
        np.asarray(end_qn, float) * 60 / qpm,
        velocity=80,
        program=np.full(pitch.size, program),
    )
    n.notes["start_qn"], n.notes["end_qn"] = start_qn, end_qn
    return Notes(n.notes, make_tempo_map([0.0], [qpm]), make_time_signatures([0.0], [ts[0]], [ts[1]]))


# ------------------------------------------------------------------------------------------------ extractors
def test_a_c_major_scale_is_in_c_major():
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    assert KEYS[attributes_of(notes(scale, np.arange(8.0), np.arange(8.0) + 1)).key] == "C major"


def test_keys_by_hand():
    minor = np.zeros(12)
    minor[[9, 11, 0, 2, 4, 5, 8]] = 1.0  # A harmonic minor
    minor[[9, 4]] += 2.0  # tonic and dominant dwelt on
    assert KEYS[estimate_key(minor)] == "A minor"
    d_major = np.roll(np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]), 2)
    assert KEYS[estimate_key(d_major)] == "D major"  # its own profile, on D
    assert estimate_key(np.zeros(12)) == -1 and estimate_key(np.ones(12)) == -1


def test_a_known_chorale_is_in_its_key():
    music21 = pytest.importorskip("music21")
    from tunesmith.io.score import stream_to_notes

    chorale = stream_to_notes(music21.corpus.parse("bach/bwv66.6"))  # "Christ unser Herr": F sharp minor
    assert KEYS[attributes_of(chorale).key] == "F# minor"


def test_bar_stats_by_hand():
    # bar 1: a C major triad held a whole bar (one onset, three sounding); bar 2: two half notes (E, then A5)
    n = notes([60, 64, 67, 64, 81], [0, 0, 0, 4, 6], [4, 4, 4, 6, 8], program=40)
    st = bar_stats(n, np.array([0.0, 4.0]))
    assert st["notes"].tolist() == [3, 2]
    assert st["onsets"].tolist() == [1, 2]
    assert st["poly"].tolist() == [3.0, 2.0]  # E alone, then A alone
    assert st["lo"].tolist() == [60, 64] and st["hi"].tolist() == [67, 81]
    assert st["pc"][0][[0, 4, 7]].tolist() == [4.0, 4.0, 4.0]
    a = attributes_of(n)
    assert a.density == 2.5 and a.polyphony == pytest.approx(5 / 3) and a.range == 21
    assert a.programs == frozenset({40}) and a.time_sig == "4/4" and a.qpm == 120.0


def test_a_played_chord_is_one_onset_on_the_grid():
    chord = notes([60, 64, 67], [0.0, 0.01, 0.02], [2.0, 2.0, 2.0])  # a few ms apart, as played
    assert attributes_of(chord).polyphony == 3.0


def test_tempo_time_signature_and_drums():
    n = notes([60, 62, 64], [0, 1, 2], [1, 2, 3], qpm=90.0, ts=(3, 4))
    n.notes["is_drum"][2] = True
    a = attributes_of(n)
    assert a.time_sig == "3/4" and a.qpm == 90.0 and a.programs == frozenset({0, 128})
    assert tempo_bin(90.0) == tempo_bin(80.0) != tempo_bin(120.0)


def test_bins_split_at_terciles():
    from tunesmith.representations.controls import Attributes

    attrs = [Attributes(0, 120.0, "4/4", float(d), 1.0, 12) for d in range(1, 10)]
    bins = ControlBins.from_attributes(attrs)
    assert [bins.level("density", d) for d in (1, 3, 4, 6, 7, 9)] == [0, 0, 1, 1, 2, 2]
    assert ControlBins.from_array(bins.to_array()) == bins


# ------------------------------------------------------------------------------------------------ tokens
def test_control_tokens_round_trip():
    vocab = ControlVocab(base=500)
    values = {"key": 14, "tempo": 3, "time_sig": 1, "density": 2, "polyphony": 0, "range": 1, "programs": [0, 40]}
    ids = control_tokens(values, vocab)
    assert ids[0] == 500 and len(ids) == 1 + 6 + 2
    assert len(set(ids)) == len(ids) and all(500 <= i < 500 + vocab.size for i in ids)
    assert parse_tokens(ids, vocab) == values
    assert control_tokens({"key": -1}, vocab) == [500]  # an unknown key is left out


def test_what_users_type():
    assert [parse_key(k) for k in ("D minor", "Dm", "d", "F# major", "Gb", "Bb minor")] == [14, 14, 14, 6, 6, 22]
    assert parse_instruments("Violin, piano,0,drums") == [0, 40, 128]
    asked = parse_controls(key="C", tempo="120", time_signature="3/4", density="HIGH", instruments="piano")
    assert asked == {"key": 0, "tempo": tempo_bin(120), "time_sig": 1, "density": 2, "programs": [0]}


@pytest.mark.parametrize(
    "kw, names",
    [
        ({"key": "H major"}, "C major, C# major"),
        ({"density": "loud"}, "low, medium, high"),
        ({"pitch_range": "huge"}, "--pitch-range"),
        ({"tempo": "fast"}, "per minute"),
        ({"tempo": "1000"}, "between 10 and 400"),
        ({"time_signature": "7/4"}, "4/4, 3/4"),
        ({"instruments": "kazoo"}, "violin"),
        ({"instruments": ","}, "at least one"),
    ],
)
def test_bad_values_list_the_valid_ones(kw, names):
    with pytest.raises(ConfigError, match=names):
        parse_controls(**kw)


def test_obeyed():
    assert obeyed({"key": 2, "programs": [0]}, {"key": 2, "programs": [0, 40]}) == {"key": True, "programs": False}


# ------------------------------------------------------------------------------------------------ training
TINY = {"context": "64", "max_steps": "10", "epochs": "2", "val_max_batches": "2", "batch_size": "4"}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return synthetic_dataset(tmp_path_factory.mktemp("cdata"), steps=[0.5], durations=[0.5], n_pieces=10, n_notes=80)


@pytest.fixture(scope="module")
def run(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("crun") / "run"
    train("transformer", data, out, preset="tiny", overrides=TINY, progress=False)
    return out


def bundle(data: Path, run: Path, controls: bool = True):
    fam = get_family("transformer")
    cfg, tcfg = build_configs("transformer", "tiny", {**TINY, "controls": str(controls).lower()})
    model = fam.build_model(cfg)
    return fam.build_task(model, cfg, tcfg, Dataset.load(data), torch.device("cpu"))


def test_training_sequences_start_with_their_controls(data, run):
    b = bundle(data, run)
    task = b.task
    cv = task.controls.vocab
    plan = task.plan(0, np.random.default_rng(3))
    seen = {k: 0 for k in KINDS}
    n = len(plan["piece"])
    assert n >= 24
    for i in range(n):
        seq = task.sequence(plan, i)
        assert seq[0] == cv.start and len(seq) <= task.train_data.length
        given = parse_tokens([t for t in seq if t >= cv.start], cv)
        for k in given:
            seen[k] += 1
        if plan["ctrl_none"][i]:
            assert given == {}
        else:  # what is given is what the window's bars are like
            kept = {k for k, keep in zip(KINDS, plan["ctrl_keep"][i], strict=True) if keep}
            assert set(given) <= kept
    assert 0 < seen["density"] < n and 0 < seen["programs"] < n  # dropped at random, given at random
    x, y = inputs_and_targets(torch.as_tensor(task.sequence(plan, 0))[None], 0, cv.start)
    assert not bool((y >= cv.start).any()) and bool((y == IGNORE).any())  # controls are given, never targets
    assert "control_bins" in b.arrays


def test_a_window_reads_its_own_bars():
    bars = np.array([0, 10, 20, 30])
    assert bars_between(bars, 0, 15) == slice(0, 2)
    assert bars_between(bars, 12, 31) == slice(1, 4)
    assert bars_between(bars, 35, 40) == slice(3, 4)


def test_without_controls_the_plan_is_unchanged(data, run):
    on, off = bundle(data, run, True).task, bundle(data, run, False).task
    a, b = on.plan(0, np.random.default_rng(5)), off.plan(0, np.random.default_rng(5))
    assert set(a) - set(b) == {"ctrl_keep", "ctrl_none"}
    # the chords' draws come last (after the controls'): every other choice is the same
    assert all(np.array_equal(a[k], b[k]) for k in b if k != "chord_seed")
    assert off.sequence(b, 0)[0] < on.controls.vocab.start


# ------------------------------------------------------------------------------------------------ generation
def test_generation_with_controls_decodes_and_is_seeded(run, tmp_path):
    kw = {"key": "D minor", "density": "high", "instruments": "piano"}
    a = generate(run, tmp_path / "a", n=2, length=30, seed=4, options=kw)
    b = generate(run, tmp_path / "b", n=2, length=30, seed=4, options=kw)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    from tunesmith.io import read_midi

    assert all(len(read_midi(p)) >= 30 for p in a)


def test_a_run_without_controls_refuses_them(data, tmp_path):
    out = tmp_path / "plain"
    train("transformer", data, out, preset="tiny", overrides={**TINY, "controls": "false"}, progress=False)
    with pytest.raises(ConfigError, match="without attribute controls"):
        generate(out, tmp_path / "g", n=1, length=10, options={"key": "C major"})
    assert generate(out, tmp_path / "g", n=1, length=10)  # and generates without them


def test_the_controls_stay_at_the_start_when_the_window_slides(run):
    import json

    from tunesmith.families.transformer.grammar import Grammar
    from tunesmith.families.transformer.model import MusicTransformer, TransformerConfig
    from tunesmith.representations.tokens import load_tokenizer
    from tunesmith.training.checkpoint import load_weights

    cfg = TransformerConfig.from_dict(json.loads((run / "config.json").read_text())["model"])
    model = MusicTransformer(cfg)
    load_weights(model, run / "model.safetensors")
    tok = load_tokenizer(run / "tokenizer.json")
    grammar = Grammar(tok, model.cfg.vocab_size, torch.device("cpu"))
    cv = ControlVocab(model.cfg.vocab_size - ControlVocab(0).size)
    prefix = control_tokens({"key": 3, "density": 1}, cv)
    prefills: list[torch.Tensor] = []
    prefill = model.prefill

    def spy(x, cache):
        if x.shape[1] > 1:  # a prompt, not a step
            prefills.append(x.clone())
        return prefill(x, cache)

    model.prefill = spy  # type: ignore[method-assign]
    prompt = torch.as_tensor([prefix], dtype=torch.long)
    out = sample_tokens(
        model, grammar, prompt, lambda s, n: n >= 300, max_new=300, generator=torch.Generator().manual_seed(0),
        pinned=len(prefix),
    )
    assert len(out[0]) == 300 and len(prefills) >= 2  # the context (64) was passed several times
    for x in prefills:
        assert x[0, : len(prefix)].tolist() == prefix and x.shape[1] <= model.cfg.context


def test_control_accuracy_reads_back_what_it_asked(run, data):
    from tunesmith.jobs.controls import control_accuracy, requests_from

    acc = control_accuracy(run, data, n=3, length=12, kinds=("key", "density"), split="train", progress=False)
    assert set(acc["kinds"]) == {"key", "density"}
    for r in acc["kinds"].values():
        assert r["requests"] <= 3 and (r["obeyed"] is None or 0.0 <= r["obeyed"] <= 1.0)
    bins = ControlBins()
    reqs = requests_from(Dataset.load(data), "train", 3, 12, bins, 8, seed=0)
    assert len(reqs) == 3 and all(set(r) == set(KINDS) for r in reqs)
    assert reqs == requests_from(Dataset.load(data), "train", 3, 12, bins, 8, seed=0)  # seeded


# ------------------------------------------------------------------------------------------------ keep tracks
def two_tracks(path: Path) -> Path:
    """8 bars of 4/4: a melody (track 0, violin) in quarter notes and a bass (track 1, piano) in half notes."""
    from tunesmith.io import write_midi

    qn = np.arange(32, dtype=float)
    mel = Notes.from_arrays(72 + (np.arange(32) % 5), qn / 2, qn / 2 + 0.5, velocity=90, program=np.full(32, 40))
    hq = np.arange(0, 32, 2, dtype=float)
    bass = Notes.from_arrays(48 + (np.arange(16) % 3), hq / 2, hq / 2 + 1.0, velocity=70)
    bass.notes["track"] = 1
    write_midi(Notes.concatenate([mel, bass]).sorted(), path)
    return path


def rows(piece: Notes) -> set[tuple]:
    a = piece.notes
    return set(zip(a["pitch"].tolist(), a["velocity"].tolist(), a["program"].tolist(), a["start_qn"].tolist(),
                   a["end_qn"].tolist(), strict=True))  # fmt: skip


def test_kept_slots_by_hand(run):
    from tunesmith.families.transformer.keep import kept_slots
    from tunesmith.representations.tokens import load_tokenizer

    tok = load_tokenizer(run / "tokenizer.json")
    mel = Notes.from_arrays([72, 74], [0.0, 2.5], [0.5, 3.0], velocity=90, program=np.array([40, 40]))
    slots, ts = kept_slots(mel, tok)
    assert [(s.bar, s.position) for s in slots] == [(0, 0), (1, 8)]  # beat 1 of bar 1, beat 2 of bar 2 (8 a beat)
    assert [tok[t].split("_")[0] for t in slots[1].tokens] == ["Program", "Pitch", "Velocity", "Duration"]
    assert tok[slots[1].tokens[1]] == "Pitch_74" and [tok[t] for t in ts] == ["TimeSig_4/4"] * 2


def test_kept_tracks_are_bit_identical(run, tmp_path):
    from tunesmith.io import read_midi

    primer = two_tracks(tmp_path / "two.mid")
    src = read_midi(primer)
    out = generate(run, tmp_path / "k", n=2, length=10, seed=1, primer=primer, options={"keep_tracks": "1"})
    for path in out:
        got = read_midi(path)
        melody = src[src.notes["track"] == 0]
        assert rows(melody) <= rows(got)
        assert int((got.notes["program"] == 40).sum()) == len(melody)  # no note written under the kept program
        # it stops after the kept notes' last bar: no note begins two bars past it (a note begun there may be held
        # as long as the tokenizer's longest duration)
        assert got.start_qn.max() < 32 + 8


def test_keep_tracks_with_infill_bars(run, tmp_path):
    from tunesmith.io import read_midi

    primer = two_tracks(tmp_path / "two.mid")
    src = read_midi(primer)
    out = generate(
        run, tmp_path / "k", n=2, length=10, seed=2, primer=primer, options={"keep_tracks": "1", "infill_bars": "3-4"}
    )
    for path in out:
        got = read_midi(path)
        outside = src[(src.start_qn < 8) | (src.start_qn >= 16)]
        melody = src[src.notes["track"] == 0]
        assert rows(outside) <= rows(got) and rows(melody) <= rows(got)
        new = rows(got) - rows(src)
        assert all(8 <= r[3] < 16 and r[2] != 40 for r in new)  # what is new lies in bars 3-4, none as the melody


def test_keep_tracks_errors(run, tmp_path):
    primer = two_tracks(tmp_path / "two.mid")
    with pytest.raises(ConfigError, match=r"2 track\(s\).*1: program 40, 32 notes"):
        generate(run, tmp_path / "k", n=1, primer=primer, options={"keep_tracks": "3"})
    with pytest.raises(ConfigError, match="needs --primer"):
        generate(run, tmp_path / "k", n=1, options={"keep_tracks": "1"})


def test_each_variation_has_its_own_seed(run, tmp_path):
    import json

    from tunesmith.io import read_midi

    batch = generate(run, tmp_path / "b", n=3, length=20, seed=10)
    alone = generate(run, tmp_path / "a", n=1, length=20, seed=12)
    assert json.loads((tmp_path / "b" / "samples.json").read_text())["seeds"]["sample_02.mid"] == 12
    assert np.array_equal(read_midi(batch[2]).notes, read_midi(alone[0]).notes)


# ------------------------------------------------------------------------------------------------ harmonize
@pytest.fixture(scope="module")
def duets(tmp_path_factory) -> Path:
    """A tiny model of duets: a violin melody (program 40) over a cello bass (program 42)."""
    from tunesmith.dataset import prepare
    from tunesmith.io import write_midi

    root = tmp_path_factory.mktemp("duets")
    rng = np.random.default_rng(0)
    for i in range(10):
        qn = np.arange(32, dtype=float)
        mel = Notes.from_arrays(rng.integers(67, 80, 32), qn / 2, qn / 2 + 0.5, velocity=90, program=np.full(32, 40))
        hq = np.arange(0, 32, 2, dtype=float)
        bass = Notes.from_arrays(rng.integers(40, 52, 16), hq / 2, hq / 2 + 1.0, velocity=70, program=np.full(16, 42))
        bass.notes["track"] = 1
        write_midi(Notes.concatenate([mel, bass]).sorted(), root / "src" / f"d{i}.mid")
    data = prepare(root / "src", root / "ds", workers=1, progress=False).root
    train("transformer", data, root / "run", preset="tiny", overrides=TINY, progress=False)
    return root / "run"


def test_harmonize_keeps_the_melody_and_writes_the_bass(duets, tmp_path):
    from tunesmith.io import read_midi, write_midi
    from tunesmith.jobs.harmonize import harmonize

    qn = np.arange(16, dtype=float)
    tune = Notes.from_arrays(70 + (np.arange(16) % 4), qn / 2, qn / 2 + 0.5, velocity=100)  # a piano tune
    path = write_midi(tune, tmp_path / "tune.mid")
    src = read_midi(path)
    written = harmonize(path, duets, tmp_path / "h", n=2, seed=3)
    assert len(written) == 2 and all(p.name.startswith("harmony_") for p in written)
    listing = json.loads((tmp_path / "h" / "harmonies.json").read_text())
    assert listing["files"] == ["harmony_00.mid", "harmony_01.mid"] and not (tmp_path / "h" / "harmonys.json").exists()
    for p in written:
        got = read_midi(p)
        assert rows(src) <= rows(got)  # the tune as it was: piano, not the violin the model read it as
        new = got[got.notes["program"] != 0]
        assert not np.isin(new.notes["program"], [0, 40]).any()  # nothing written under the melody's programs


def test_harmonize_needs_a_model_of_several_instruments(run, tmp_path):
    from tunesmith.io import write_midi
    from tunesmith.jobs.harmonize import harmonize

    path = write_midi(Notes.from_arrays([60, 62], [0.0, 0.5], [0.5, 1.0], velocity=80), tmp_path / "t.mid")
    with pytest.raises(ConfigError, match="no main instrument besides the kept one"):
        harmonize(path, run, tmp_path / "h", n=1)


def test_guidance(run, tmp_path):
    from tunesmith.families.transformer import DEFAULT_GUIDANCE
    from tunesmith.io import read_midi

    kw = {"key": "C major", "density": "low"}
    plain = generate(run, tmp_path / "p", n=2, length=40, seed=5, options=kw)
    one = generate(run, tmp_path / "o", n=2, length=40, seed=5, options={**kw, "guidance": 1.0})
    guided = generate(run, tmp_path / "g", n=2, length=40, seed=5, options={**kw, "guidance": DEFAULT_GUIDANCE})
    assert [p.read_bytes() for p in plain] == [p.read_bytes() for p in guided]  # guided unless told otherwise
    assert [p.read_bytes() for p in plain] != [p.read_bytes() for p in one]  # 1: no guidance
    assert all(len(read_midi(p)) >= 40 for p in guided)  # past the context of 64 tokens: both views slid
    with pytest.raises(ConfigError, match="positive weight"):
        generate(run, tmp_path / "x", n=1, length=10, options={**kw, "guidance": 0.0})



def test_parallel_fifths_and_octaves_are_forbidden_by_hand(run):
    from tunesmith.families.transformer.grammar import Grammar
    from tunesmith.families.transformer.keep import Forcer
    from tunesmith.representations.tokens import load_tokenizer

    tok = load_tokenizer(run / "tokenizer.json")
    f = Forcer(Grammar(tok, 1000, torch.device("cpu")), tok, [], [], [40], rows=1, avoid_parallels=True)
    t0, t1 = (1, 0), (1, 8)
    f.note(0, 40, 72, t0)  # soprano C5, then D5: it moves up a step
    f.note(0, 40, 74, t1)
    f.note(0, 43, 60, t0)  # the bass an octave below the soprano's C5
    f.note(0, 41, 65, t0)  # the alto a fifth below it
    bass = f.parallels(0, 43, t1)
    assert {62, 74, 86} <= set(bass) and not {50, 60, 61, 63} & set(bass)  # up to D: octaves; down, still, other: no
    alto = f.parallels(0, 41, t1)
    assert {67, 81} <= set(alto) and not {55, 65, 66, 79} & set(alto)  # 79: a fourth above the soprano
    assert f.parallels(0, 40, t1) == []  # the kept voice is not asked
    f.note(0, 42, 55, t0)  # the tenor a twelfth below C5, but the soprano holds in another row's sense:
    f.voices[0][40] = [(t0, 72)]  # the soprano did not move now: nothing is parallel to it
    assert f.parallels(0, 42, t1) == []


def test_harmonize_avoids_parallels(duets, tmp_path):
    from tunesmith.evaluation.voiceleading import voice_leading
    from tunesmith.io import read_midi, write_midi
    from tunesmith.jobs.harmonize import harmonize

    qn = np.arange(16, dtype=float)
    tune = Notes.from_arrays(70 + (np.arange(16) % 4), qn / 2, qn / 2 + 0.5, velocity=100)
    path = write_midi(tune, tmp_path / "tune.mid")
    for p in harmonize(path, duets, tmp_path / "h", n=4, seed=3):
        got = read_midi(p)
        got.notes["program"][got.notes["program"] == 0] = 40  # the tune, as the model read it
        vl = voice_leading(got, {"melody": 40, "bass": 42})
        assert sum(vl.parallel_fifths.values()) == 0 and sum(vl.parallel_octaves.values()) == 0


def test_generate_takes_a_thread_count(run, tmp_path):
    from tunesmith.cli import main

    before = torch.get_num_threads()
    try:
        args = ["generate", str(run), "--out", str(tmp_path / "t"), "-n", "1", "--length", "8", "--threads", "1"]
        assert main(args) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert len(list((tmp_path / "t").glob("*.mid"))) == 1


def test_control_accuracy_is_hits_over_requests_on_a_planted_case(monkeypatch):
    """The arithmetic behind the accuracy tables, on a planted model: four requests; a key asked alone is obeyed in
    3 of 4 (0.75), by chance (the pieces asked for nothing) in 1 of 4 (0.25); a request without a density (-1) is
    not asked, so density counts 3 requests, obeyed in 2 (0.667), by chance in 0. Each control is asked alone:
    the model sees one kind per request."""
    import types

    import tunesmith.jobs.controls as job

    requests = [
        {"key": 0, "density": 1}, {"key": 0, "density": 2}, {"key": 5, "density": -1}, {"key": 7, "density": 0},
    ]
    free = [{"key": 0, "density": 0}, {"key": 2, "density": 1}, {"key": 2, "density": 1}, {"key": 2, "density": 2}]
    answers = {  # what the planted model writes for each request of a kind, in request order
        "key": [{"key": 0}, {"key": 0}, {"key": 5}, {"key": 1}],
        "density": [{"density": 1}, {"density": 0}, {"density": 0}],
    }
    asked_seen: list[list[dict]] = []

    def generate_controlled(model, run, asked, opts, dev, guidance=None):
        asked_seen.append(asked)
        if all(a == {} for a in asked):
            return free
        (kind,) = {k for a in asked for k in a}
        return answers[kind]

    fam = types.SimpleNamespace(generate_controlled=generate_controlled, can=lambda f: f in ("controls", "guidance"),
                                default_guidance=5.0)
    model = types.SimpleNamespace(cfg=types.SimpleNamespace(controls=True, steps_per_quarter=4))
    run = types.SimpleNamespace(array=lambda name: None, path="planted")
    bins = types.SimpleNamespace(describe=lambda kind: kind)
    monkeypatch.setattr(job, "load_run", lambda path, dev: (run, fam, model))
    monkeypatch.setattr(job.ControlBins, "from_array", staticmethod(lambda a: bins))
    monkeypatch.setattr(job, "requests_from", lambda *a, **k: requests)
    monkeypatch.setattr(job, "attributes_of", lambda piece, spq: piece)
    monkeypatch.setattr(job, "values_of", lambda attrs, b: attrs)
    monkeypatch.setattr(job, "describe", lambda kind, value, b: str(value))
    acc = job.control_accuracy("planted", Dataset.__new__(Dataset), n=4, kinds=("key", "density"), progress=False,
                               guidance=3.0)
    key, density = acc["kinds"]["key"], acc["kinds"]["density"]
    assert (key["obeyed"], key["chance"], key["requests"], key["distinct_values"]) == (0.75, 0.25, 4, 3)
    assert density["obeyed"] == pytest.approx(2 / 3) and density["chance"] == 0.0 and density["requests"] == 3
    assert asked_seen[1] == [{"key": 0}, {"key": 0}, {"key": 5}, {"key": 7}]  # one kind alone per request
    assert asked_seen[2] == [{"density": 1}, {"density": 2}, {"density": 0}]
    assert acc["guidance"] == 3.0
