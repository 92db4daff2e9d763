"""The drummer: patterns as ids and back for all 512, training windows and fill flags by hand, a tiny model trained
end to end on a Groove-laid-out folder, then what generation promises (bars, tempo and style asked for, the same
seed the same grooves, piece i of a batch is seed + i alone, a primer's notes kept note for note when continued
or filled in), resume exactly, and the errors a user can make."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tunesmith.cli import main
from tunesmith.io import read_midi, write_midi
from tunesmith.notes import Notes, make_tempo_map
from tunesmith.representations.drums import CLASS_INDEX, N_CLASSES, drum_cells, drum_grid

from .test_groove import HEADER


def test_patterns_round_trip_and_bits_are_the_classes():
    from tunesmith.families.drummer.model import N_PATTERNS, pattern_hits, pattern_ids

    ids = torch.arange(N_PATTERNS)
    hits = pattern_hits(ids)
    assert hits.shape == (512, N_CLASSES) and torch.equal(pattern_ids(hits), ids)
    assert pattern_hits(torch.tensor(5)).tolist() == [True, False, True] + [False] * 6  # bits 0 and 2: kick, hi-hat
    assert hits.sum().item() == 9 * 256  # every class is in half the patterns


def test_windows_by_hand():
    from tunesmith.families.drummer.model import START
    from tunesmith.families.drummer.task import Part, Windows

    start = np.arange(40) * 0.25
    kick_hat = np.where(np.arange(40) % 2 == 0, 36, 42)
    g = drum_grid(Notes.from_arrays(kick_hat, start_qn=start, end_qn=start + 0.1, is_drum=True))
    w = Windows.build([Part(g, style=3, fill=True)], 16)
    assert len(w) == 4 and w.pattern.shape == (4, 16)  # starts 0, 8, 16, 24; the last ends past step 39
    kick, hat = 1 << CLASS_INDEX[36], 1 << CLASS_INDEX[42]
    assert w.pattern[0, :4].tolist() == [kick, hat, kick, hat]
    assert w.prev[0, :3].tolist() == [START, kick, hat] and w.prev[1, 0] == w.pattern[0, 7]  # the step before
    assert w.valid[3].tolist() == [True] * 16 and w.valid.sum() == 4 * 16
    short = Windows.build([Part(g, 0, False)], 64)
    assert len(short) == 1 and short.valid[0].sum() == 40 and short.pattern[0, 40:].sum() == 0
    assert w.fill.all() and not short.fill.any() and w.style.tolist() == [3] * 4
    assert w.position[1, 0] == 8 and np.allclose(w.qpm, 120.0)


def test_fill_flags_are_the_last_bar_of_every_n():
    from tunesmith.families.drummer.family import fills

    assert fills(64, 0, 2).reshape(4, 16)[:, 0].tolist() == [0, 1, 0, 1]
    assert fills(32, 32, 4).reshape(2, 16)[:, 0].tolist() == [0, 1]  # bars 3 and 4 of the piece
    assert not fills(48, 0, None).any()


def groove_folder(tmp) -> tuple:
    """Groove-laid-out folder: funk beats (kick on the quarters, hi-hat on the 8ths) and rock and funk fills (tom
    16ths), 8 bars at 100 qpm each; 7 train, 2 validation and 1 test performance; prepared."""
    from tunesmith.dataset import prepare

    root = tmp / "groove"
    rng = np.random.default_rng(0)
    lines = [HEADER]
    rows = [("funk", "beat", "train")] * 4 + [("rock", "fill", "train")] * 2 + [("funk", "fill", "train")]
    rows += [("funk", "beat", "validation")]
    rows += [("rock", "fill", "validation"), ("funk", "beat", "test")]
    for k, (style, kind, split) in enumerate(rows):
        n = 128
        start = np.arange(n) * 0.25 + rng.normal(0, 0.02, n).clip(-0.1, 0.1)
        start[0] = 0.0
        if kind == "beat":
            pitch = np.where(np.arange(n) % 4 == 0, 36, np.where(np.arange(n) % 2 == 0, 42, 0))
        else:
            pitch = np.full(n, 45)
        keep = pitch > 0
        notes = Notes.from_arrays(
            pitch[keep],
            start_qn=start[keep],
            end_qn=start[keep] + 0.1,
            velocity=rng.integers(40, 120, keep.sum()),
            is_drum=True,
            tempos=make_tempo_map([0.0], [100.0]),
        )
        name = f"drummer1/session1/{k}_{style}_100_{kind}_4-4.mid"
        write_midi(notes, root / name)
        lines.append(
            f"drummer1,drummer1/session1,drummer1/session1/{k},{style},100,{kind},4-4,{name},x.wav,19,{split}\n"
        )
    (root / "info.csv").write_text("".join(lines))
    return prepare(root, tmp / "data", workers=1, progress=False).root, root


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("drummer")
    data, root = groove_folder(tmp)
    run = tmp / "run"
    argv = ["train", "drummer", "--data", str(data), "--out", str(run), "--preset", "tiny", "--epochs", "8"]
    assert main([*argv, "--set", "lr=0.01", "-q"]) == 0
    return run, data, root, tmp


def notes_of(folder, name="sample_00.mid"):
    return read_midi(folder / name)


def test_generate_writes_the_bars_tempo_and_style_asked_for(tiny, tmp_path):
    import json

    run, *_ = tiny
    out = tmp_path / "a"
    argv = ["generate", str(run), "--out", str(out), "--style", "funk", "--tempo", "90", "--bars", "4", "-n", "2"]
    assert main([*argv, "--fill-every", "2"]) == 0
    p = notes_of(out)
    assert p.notes["is_drum"].all() and len(p.notes) > 0
    assert p.tempos["qpm"][0] == pytest.approx(90.0, abs=1e-3)
    assert p.notes["start_qn"].max() < 4 * 4 and p.notes["start_qn"].min() >= 0  # 4 bars of 4/4
    listing = json.loads((out / "samples.json").read_text())
    assert listing["style"] == "funk" and listing["fill_every"] == 2 and listing["bars"] == 4
    # the same seed the same grooves; piece 1 of a batch is --seed 1 alone
    assert main([*argv[:3], str(tmp_path / "b"), *argv[4:], "--fill-every", "2"]) == 0
    assert np.array_equal(notes_of(out).notes, notes_of(tmp_path / "b").notes)
    one = ["generate", str(run), "--out", str(tmp_path / "c"), "--style", "funk", "--tempo", "90", "--bars", "4"]
    assert main([*one, "-n", "1", "--seed", "1", "--fill-every", "2"]) == 0
    a, b = notes_of(out, "sample_01.mid").notes, notes_of(tmp_path / "c").notes
    assert np.array_equal(a["pitch"], b["pitch"]) and np.allclose(a["start_qn"], b["start_qn"], atol=1e-3)


def test_without_a_tempo_a_style_plays_at_its_training_tempo(tiny, tmp_path):
    import json

    run, *_ = tiny
    data = json.loads((run / "config.json").read_text())["data"]
    assert data["style_tempo"]["funk"] == pytest.approx(100.0, abs=0.5) and data["fills"] == 3
    assert data["fills_after_a_beat"] == 1  # the funk fill, after a funk beat of its session; the rock ones alone
    assert main(["generate", str(run), "--out", str(tmp_path), "--bars", "2", "-n", "1"]) == 0
    assert notes_of(tmp_path).tempos["qpm"][0] == pytest.approx(100.0, abs=0.5)


def test_a_fill_is_learned_after_the_last_bars_of_a_beat_of_its_session(tiny):
    from tunesmith.dataset import Dataset
    from tunesmith.families.drummer.family import LEAD_IN_BARS, parts

    _, data, _, _ = tiny
    ds = Dataset.load(data)
    found = parts(ds, "train")
    (joined,) = [p for p in found if isinstance(p.fill, np.ndarray)]
    lead = LEAD_IN_BARS * 16
    assert joined.fill.tolist() == [0] * lead + [1] * 128 and joined.grid.hits.shape[0] == lead + 128
    first_beat = next(drum_grid(ds[int(i)]) for i in ds.indices("train") if "beat" in ds[int(i)].source)
    steps = first_beat.hits.shape[0]  # 127: the last hit (a hi-hat) is on step 126
    assert np.array_equal(joined.grid.hits[: steps - 80], first_beat.hits[80:])  # the beat's last 3 bars
    assert not joined.grid.hits[steps - 80 : lead].any()  # to the bar line, silence
    assert joined.grid.position[:18].tolist() == list(range(16)) + [0, 1]
    assert sum(p.fill is True for p in found) == 2 and sum(p.fill is False for p in found) == 4


def test_continuation_keeps_the_primer_and_adds_whole_bars_after_it(tiny, tmp_path):
    run, _, root, _ = tiny
    primer = root / "drummer1/session1/9_funk_100_beat_4-4.mid"
    song = read_midi(primer)
    piano = Notes.from_arrays([60, 64], start_qn=[0.0, 4.0], end_qn=[2.0, 6.0], track=1, tempos=song.tempos)
    both = write_midi(Notes.concatenate([song, piano]).sorted(), tmp_path / "song.mid")
    assert main(["generate", str(run), "--out", str(tmp_path / "o"), "--primer", str(both), "--bars", "2"]) == 0
    out = notes_of(tmp_path / "o").notes
    old = read_midi(both).notes
    kept = out[out["start_qn"] < 32.0 - 0.2]  # the primer's 8 bars (a new hit may be played a little early)
    assert np.array_equal(np.sort(kept[~kept["is_drum"]]["pitch"]), [60, 64])
    assert len(kept) == len(old) and np.allclose(np.sort(kept["start_qn"]), np.sort(old["start_qn"]), atol=1e-3)
    new = out[out["start_qn"] >= 32.0 - 0.2]
    assert len(new) > 0 and new["is_drum"].all() and new["start_qn"].max() < 40.0


def test_infill_plays_only_the_bars_asked_for_anew(tiny, tmp_path):
    run, _, root, _ = tiny
    primer = root / "drummer1/session1/9_funk_100_beat_4-4.mid"
    argv = ["generate", str(run), "--out", str(tmp_path), "--primer", str(primer), "--infill-bars", "3-4"]
    assert main([*argv, "-n", "2"]) == 0
    old = read_midi(primer)
    cells = drum_cells(old)
    for name in ("sample_00.mid", "sample_01.mid"):
        out = notes_of(tmp_path, name)
        c = drum_cells(out)
        outside = (c.step < 32) | (c.step >= 64)
        was = (cells.step < 32) | (cells.step >= 64)
        a, b = out.notes[c.index[outside]], old.notes[cells.index[was]]
        assert np.array_equal(a["pitch"], b["pitch"]) and np.allclose(a["start_qn"], b["start_qn"], atol=1e-3)
        assert np.array_equal(a["velocity"], b["velocity"])


def test_resume_gives_the_same_weights(tiny, tmp_path):
    from safetensors.torch import load_file

    _, data, _, _ = tiny
    base = ["train", "drummer", "--data", str(data), "--preset", "tiny", "-q"]
    assert main([*base, "--out", str(tmp_path / "a"), "--max-steps", "12"]) == 0
    assert main([*base, "--out", str(tmp_path / "b"), "--max-steps", "6"]) == 0
    assert main([*base, "--out", str(tmp_path / "b"), "--max-steps", "12", "--resume"]) == 0
    a, b = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_likelihood_is_bits_per_hit(tiny):
    from tunesmith.dataset import Dataset
    from tunesmith.jobs.runs import load_run

    run, data, _, _ = tiny
    loaded, fam, model = load_run(run)
    ll = fam.likelihood(model, loaded, Dataset.load(data), "validation", torch.device("cpu"), 64)
    # the funk validation beat: 32 kicks and 32 hi-hats (the 8ths between them); the rock fill: 128 toms
    assert ll["notes"] == 32 + 32 + 128 and 0 < ll["bits_per_note"] < 9 * 2


def test_errors_are_one_line(tiny, tmp_path, capsys):
    run, _, root, _ = tiny
    piano = write_midi(Notes.from_arrays([60], start_qn=[0.0], end_qn=[1.0]), tmp_path / "piano.mid")
    gen = ["generate", str(run), "--out", str(tmp_path / "o")]
    for extra, message in (
        (["--primer", str(piano)], "piano.mid: no drum notes"),
        (["--infill-bars", "2-3"], "--infill-bars plays bars of --primer anew"),
        (["--fill-every", "0"], "--fill-every takes a number of bars"),
        (["--bars", "0"], "--bars must be a positive number"),
        (["--tempo", "fast"], "--tempo 'fast'"),
        (["--style", "jazz"], "--style 'jazz': this model learned funk, rock (or any)"),  # not in its data
        (["--primer", str(root / "drummer1/session1/9_funk_100_beat_4-4.mid"), "--infill-bars", "20"], "has 8 bars"),
    ):
        assert main([*gen, *extra]) == 1, extra
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (extra, err)
    with pytest.raises(SystemExit):
        main([*gen, "--style", "polka"])
    assert "invalid choice: 'polka'" in capsys.readouterr().err


def test_a_dataset_without_drums_is_refused(tmp_path, capsys):
    from tunesmith.dataset import prepare

    src = tmp_path / "piano"
    for k in range(6):
        write_midi(Notes.from_arrays([60 + k], start_qn=[0.0], end_qn=[1.0]), src / f"p{k}.mid")
    data = prepare(src, tmp_path / "data", workers=1, progress=False).root
    argv = ["train", "drummer", "--data", str(data), "--out", str(tmp_path / "r"), "--preset", "tiny", "-q"]
    assert main(argv) == 1
    assert "no drum parts in the train split" in capsys.readouterr().err


def test_bar_changes_are_jaccard_distances_of_consecutive_bars():
    from tunesmith.jobs.drums import bar_changes

    kick, hat, snare = 36, 42, 38
    bar1 = [(kick, 0.0), (hat, 1.0)]
    bar2 = [(kick, 4.0), (hat, 5.0)]  # the same hits
    bar3 = [(kick, 8.0), (snare, 9.0)]  # shares the kick of 3 cells: distance 2/3
    bar4 = [(snare, 13.5)]  # shares nothing
    rows = bar1 + bar2 + bar3 + bar4
    start = np.array([t for _, t in rows])
    p = Notes.from_arrays([x for x, _ in rows], start_qn=start, end_qn=start + 0.1, is_drum=True)
    assert np.allclose(bar_changes(p), [0.0, 0.0, 2 / 3, 1.0])


def test_bars_of_and_per_class_by_hand():
    from tunesmith.jobs.drums import _per_class, bars_of

    start = np.array([0.0, 3.5, 4.0, 6.0, 8.25])
    p = Notes.from_arrays([36, 38, 42, 42, 49], start_qn=start, end_qn=start + 0.1, is_drum=True)
    bar = bars_of(p, 1, 1)  # 4/4: quarter notes 4 to 8
    assert bar.notes["pitch"].tolist() == [42, 42] and bar.notes["start_qn"].tolist() == [0.0, 2.0]
    assert bars_of(p, 1, 2).notes["start_qn"].tolist() == [0.0, 2.0, 4.25]
    assert _per_class(["a", "b", "a", "a"], ["a", "a", "b", "a"]) == {"a": 2 / 3, "b": 0.0}


def test_measure_judges_fills_where_asked_and_refuses_other_models(tiny, tmp_path):
    from tunesmith.errors import ConfigError
    from tunesmith.jobs.drums import measure

    run, data, _, _ = tiny
    r = measure(run, data, "validation", per_style=2, bars=4, every=2, fill_pieces=3)
    assert r["styles"] == []  # one held-out beat per style: fewer than MIN_HELD_OUT
    assert set(r["fill_generated"]) == {"beat", "fill"} and all(0 <= v <= 1 for v in r["fill_generated"].values())
    assert set(r["fill_real"]) == {"beat", "fill"}
    assert 0 <= r["break_generated_fills"] <= 1 and 0 <= r["break_edge"] <= 1
    with pytest.raises(ConfigError, match="split must be validation or test"):
        measure(run, data, "train")


def chords(pitches_per_bar: list[list[int]], velocity: int = 80, bar_qn: float = 4.0, ts=None, tempos=None) -> Notes:
    """A song of one chord per bar (each pitch a whole bar long), bar after bar."""
    pitch, start = [], []
    for b, ps in enumerate(pitches_per_bar):
        pitch += ps
        start += [b * bar_qn] * len(ps)
    start = np.asarray(start, float)
    kw = {"time_signatures": ts} if ts is not None else {}
    return Notes.from_arrays(pitch, start_qn=start, end_qn=start + bar_qn, velocity=velocity, tempos=tempos, **kw)


def test_energy_is_each_bars_rank_by_its_notes_and_loudness():
    from tunesmith.representations.song import bar_energy, song_bars

    song = Notes.concatenate([chords([[60, 64], [60, 64, 67, 72], [60]]), chords([[48]], velocity=20)]).sorted()
    lines = song_bars(song)
    assert lines.tolist() == [0.0, 4.0, 8.0, 12.0]
    # velocities / 127 per bar: (80+80+20)/127, 4 x 80/127, 80/127 -> ranks 1, 2, 0 of 0..2
    assert bar_energy(song).tolist() == [0.5, 1.0, 0.0]
    flat = chords([[60], [60], [60]])
    assert bar_energy(flat).tolist() == [0.5, 0.5, 0.5]  # equal bars share their rank


def test_sections_start_where_the_harmony_or_the_notes_change_on_phrase_lines():
    from tunesmith.notes import make_time_signatures
    from tunesmith.representations.song import section_starts, song_bars

    c, fs = [60, 64, 67], [66, 70, 73]
    assert section_starts(chords([c] * 8 + [fs] * 8 + [c] * 4)) == [8, 16]
    assert section_starts(chords([c] * 12)) == []
    assert section_starts(chords([c] * 4 + [fs] * 2 + [c] * 6)) == []  # not on a 4-bar line: no section
    song = chords([c] * 3 + [[]] * 2 + [c] * 3)
    assert section_starts(song) == [5]  # notes return after a break
    waltz = chords([c] * 4, bar_qn=3.0, ts=make_time_signatures([0.0], [3], [4]))
    assert song_bars(waltz).tolist() == [0.0, 3.0, 6.0, 9.0, 12.0]


def test_drums_for_a_song_keep_its_notes_follow_its_bars_and_refuse_its_drums(tiny, tmp_path, capsys):
    from tunesmith.notes import make_time_signatures

    run, _, root, _ = tiny
    c, fs = [60, 64, 67], [66, 70, 73]
    tempos = make_tempo_map([0.0, 24.0], [90.0, 120.0])
    song = chords([c] * 8 + [fs] * 8, bar_qn=3.0, ts=make_time_signatures([0.0], [3], [4]), tempos=tempos)
    path = write_midi(song, tmp_path / "song.mid")
    assert main(["drums", str(path), "--run", str(run), "--out", str(tmp_path / "o"), "--style", "funk"]) == 0
    out = capsys.readouterr().out
    assert "16 bars" in out and "sections start at bars 9 (a fill before each)" in out
    written = read_midi(tmp_path / "o" / "song_drums.mid")
    a = written.notes
    old = read_midi(path).notes
    kept = a[~a["is_drum"]]
    assert np.array_equal(kept[["pitch", "velocity"]], old[["pitch", "velocity"]])
    assert np.allclose(kept["start"], old["start"]) and np.allclose(kept["end"], old["end"])
    drums = a[a["is_drum"]]
    assert len(drums) > 0 and drums["start_qn"].max() < 48.0 and len(set(drums["track"])) == 1
    assert drums["track"][0] != kept["track"][0]
    assert np.allclose(written.tempos["qpm"], [90.0, 120.0], atol=0.01)
    # a song with drums is refused, and replaced when asked
    again = ["drums", str(tmp_path / "o" / "song_drums.mid"), "--run", str(run), "--out", str(tmp_path / "p")]
    assert main(again) == 1
    err = capsys.readouterr().err
    assert "already has drums (track 2); give --replace" in err and "Traceback" not in err
    assert main([*again, "--replace", "--seed", "3"]) == 0
    replaced = read_midi(tmp_path / "p" / "song_drums_drums.mid").notes
    assert np.array_equal(replaced[~replaced["is_drum"]]["pitch"], kept["pitch"]) and replaced["is_drum"].any()
    assert main(["drums", str(path), "--run", str(run), "--out", str(tmp_path / "q"), "--style", "polka"]) == 1
    assert "--style 'polka'" in capsys.readouterr().err
    nothing = Notes.from_arrays(np.zeros(0, int), start_qn=np.zeros(0), end_qn=np.zeros(0))
    empty = write_midi(nothing, tmp_path / "e.mid")
    assert main(["drums", str(empty), "--run", str(run), "--out", str(tmp_path / "e")]) == 1
    assert "e.mid: no notes: nothing for the drums to follow" in capsys.readouterr().err
    only_drums = root / "drummer1/session1/9_funk_100_beat_4-4.mid"
    assert main(["drums", str(only_drums), "--run", str(run), "--out", str(tmp_path / "r"), "--replace"]) == 1
    err = capsys.readouterr().err
    assert "no notes but drums: nothing for the drums to follow" in err and "Traceback" not in err


def test_busier_bars_get_busier_drums(tiny):
    from tunesmith.jobs.runs import load_run
    from tunesmith.representations.drums import drum_cells

    run, *_ = tiny
    loaded, fam, model = load_run(run)
    song = chords([[60, 64, 67]] * 8)
    lines = np.arange(9) * 4.0
    energy = np.array([0.0, 1.0] * 4)
    part = fam.play_along(
        model, loaded, song, lines, energy, np.zeros(8, bool), style="funk", seed=0, device=torch.device("cpu")
    )
    per_bar = np.bincount(drum_cells(part).step // 16, minlength=8)
    assert per_bar[1::2].sum() > per_bar[::2].sum()


def test_the_studio_adds_drums_as_its_command_line_does(tiny, tmp_path, monkeypatch):
    import shlex

    from tunesmith.jobs.studio import Request, Studio, describe_model

    run, *_ = tiny
    m = describe_model(run, "tiny drums")
    assert m.modes == ("continue", "infill", "drums") and "style" in m.options and "fill_every" in m.options
    song = write_midi(chords([[60, 64, 67]] * 4 + [[62, 65, 69]] * 4), tmp_path / "song.mid")
    studio = Studio(tmp_path / "work")
    studio._models["tiny drums"] = m
    label, _ = studio.add_upload(song)
    req = Request(m, primer=studio.input(label), mode="drums", n=2, seed=4, options={"style": "funk"})
    result = studio.run(req, audio=False)
    assert [t.seed for t in result.takes] == [4, 5] and all(t.bars == 8 for t in result.takes)
    argv = shlex.split(result.command)
    assert argv[:2] == ["tunesmith", "drums"] and "--replace" in argv and argv[-2:] == ["--style", "funk"]
    (tmp_path / "script").mkdir()
    monkeypatch.chdir(tmp_path / "script")
    assert main(argv[1:]) == 0
    for take in result.takes:
        assert (tmp_path / "script" / "ideas" / take.midi.name).read_bytes() == take.midi.read_bytes()


def test_a_plan_written_as_notes_reads_back_as_the_same_grid(tmp_path):
    """Patterns, velocities and offsets -> drum notes -> the 16th grid again: the same hits, velocities (to a MIDI
    step) and offsets (to the tick), each hit on its class's kit pitch."""
    from tunesmith.families.drummer.model import pattern_hits
    from tunesmith.families.drummer.sample import Plan, constant_tempo, to_notes

    rng = np.random.default_rng(1)
    plan = Plan.new(1, 64)
    plan.pattern[0] = rng.integers(0, 512, 64)
    plan.velocity[0] = rng.uniform(0.1, 1.0, (64, N_CLASSES))
    plan.offset[0] = rng.uniform(-0.45, 0.45, (64, N_CLASSES))
    plan.offset[0, 0] = 0.0  # nothing before the piece's start
    notes = to_notes(plan, 0, 0, 64, constant_tempo(100.0))
    back = drum_grid(read_midi(write_midi(notes, tmp_path / "plan.mid")))
    hits = pattern_hits(torch.as_tensor(plan.pattern[0])).numpy()
    assert np.array_equal(back.hits[: hits.shape[0]], hits[: back.hits.shape[0]]) and back.hits.sum() == hits.sum()
    assert np.allclose(back.velocity[hits], np.rint(plan.velocity[0][hits] * 127) / 127, atol=1e-6)
    assert np.allclose(back.offset[hits], plan.offset[0][hits], atol=4 / 480)  # a tick or two of 480 a quarter


def test_the_learning_rate_warms_up_over_warmup_steps():
    from tunesmith.errors import ConfigError
    from tunesmith.families.drummer.model import Drummer, DrummerConfig
    from tunesmith.families.drummer.task import DrummerTask, Part, Windows
    from tunesmith.training.trainer import TrainConfig

    g = drum_grid(
        Notes.from_arrays([36] * 8, start_qn=np.arange(8) * 0.5, end_qn=np.arange(8) * 0.5 + 0.1, is_drum=True)
    )
    w = Windows.build([Part(g, 1, False)], 8)
    cfg = TrainConfig(lr=0.01, warmup=4)
    task = DrummerTask(
        Drummer(DrummerConfig(context=8, layers=1, heads=1, width=8)), w, w, cfg, torch.device("cpu"), 0.0
    )
    assert [task.lr_at(s) for s in range(6)] == pytest.approx([0.0025, 0.005, 0.0075, 0.01, 0.01, 0.01])
    task.lr_scale = 0.5  # the trainer's decay multiplies it
    assert task.lr_at(10) == pytest.approx(0.005)
    with pytest.raises(ConfigError, match="warmup"):
        TrainConfig(warmup=-1)
