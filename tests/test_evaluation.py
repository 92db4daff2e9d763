"""The evaluation protocol: set comparison (Yang & Lerch), excerpts, the MSE/RMSE table, the report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tunesmith.errors import ConfigError
from tunesmith.evaluation import protocol, setcompare
from tunesmith.notes import Notes, make_tempo_map, make_time_signatures


def random_piece(rng: np.random.Generator, pitches: np.ndarray, lengths=(0.25, 0.5, 1.0), n: int = 40) -> Notes:
    p = rng.choice(pitches, n)
    start = np.cumsum(rng.choice(lengths, n))
    return Notes.from_arrays(p, start_qn=start, end_qn=start + rng.choice(lengths, n))


# ---------------------------------------------------------------------------------------------------- distances
def test_intra_and_inter_set_distances_by_hand():
    x = np.array([[0.0], [3.0], [4.0]])
    np.testing.assert_allclose(setcompare.intra_set_distances(x), [3.0, 4.0, 1.0])  # pairs (0,1) (0,2) (1,2)
    y = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(setcompare.inter_set_distances(y, np.array([[0.0, 0.0]])), [0.0, 5.0])


def test_overlap_of_a_sample_with_itself_is_one_and_of_far_samples_zero():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, 500)
    assert setcompare.overlap_area(a, a) == pytest.approx(1.0, abs=1e-4)  # trapezoid on 2048 points
    assert setcompare.kl_divergence(a, a) == pytest.approx(0.0, abs=1e-9)
    assert setcompare.overlap_area(a, a + 100) < 1e-6
    assert setcompare.kl_divergence(a, a + 100) > 10
    # two normals one standard deviation apart overlap by 2 * Phi(-1/2) = 0.617
    b = rng.normal(0, 1, 20_000)
    assert setcompare.overlap_area(b, b + 1) == pytest.approx(2 * 0.3085, abs=0.02)


def test_constant_samples_do_not_break_the_density():
    # scipy's gaussian_kde raises on constant data; they are point masses here
    assert setcompare.overlap_area(np.full(10, 2.0), np.full(10, 2.0)) == pytest.approx(1.0, abs=1e-3)
    assert setcompare.overlap_area(np.full(10, 2.0), np.full(10, 3.0)) < 1e-3


def test_set_compared_with_itself_overlaps_near_one_and_disjoint_sets_near_zero():
    rng = np.random.default_rng(1)
    few = [random_piece(rng, np.array([60, 62, 64])) for _ in range(24)]  # 3 pitches, 3 note lengths
    many = [random_piece(rng, np.arange(40, 90), lengths=(0.125,)) for _ in range(24)]  # ~30 pitches, 16ths
    same = setcompare.compare_sets(few, few)
    assert all(c.overlap > 0.85 for c in same.values()), {f: c.overlap for f, c in same.items()}
    apart = setcompare.compare_sets(many, few)
    for f in ("pitch_count", "pitch_range", "average_inter_onset_interval", "note_length_histogram"):
        assert apart[f].overlap < 0.05, (f, apart[f].overlap)
        assert apart[f].kl > 1.0


def test_compare_sets_needs_two_pieces_and_known_features():
    rng = np.random.default_rng(2)
    one = [random_piece(rng, np.arange(60, 72))]
    with pytest.raises(ConfigError, match="at least two pieces"):
        setcompare.compare_sets(one, one * 2)
    with pytest.raises(ConfigError, match="unknown set-comparison features"):
        setcompare.piece_features(one[0], ["loudness"])
    with pytest.raises(ConfigError):
        setcompare.feature_matrices([])


# ---------------------------------------------------------------------------------------------------- excerpts
def test_excerpt_takes_consecutive_notes_from_the_bar_line():
    # 3/4 from the start; notes each quarter from qn 0; notes 4..6 start at qn 4, 5, 6: the bar of qn 4 starts at 3
    tempos = make_tempo_map([0.0], [60.0])  # 1 s per quarter
    n = Notes.from_arrays(
        np.arange(60, 70),
        start_qn=np.arange(10.0),
        end_qn=np.arange(10.0) + 0.5,
        tempos=tempos,
        time_signatures=make_time_signatures([0.0], [3], [4]),
    )
    e = protocol.excerpt(n, 4, 3)
    assert e.pitch.tolist() == [64, 65, 66]
    np.testing.assert_allclose(e.start_qn, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(e.start, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(e.end_qn - e.start_qn, 0.5)
    assert e.time_signatures["numerator"].tolist() == [3] and e.tempos["qpm"].tolist() == [60.0]
    assert len(protocol.excerpt(n, 9, 5)) == 1  # cut at the end of the piece


def test_an_excerpt_from_a_pickup_keeps_the_bars_after_it():
    # a one-beat pickup (1/4) to 4/4 bars from qn 1, a note each beat; 4/2 from qn 9, after the excerpt
    n = Notes.from_arrays(
        np.arange(60, 72),
        start_qn=np.arange(12.0),
        end_qn=np.arange(12.0) + 1.0,
        time_signatures=make_time_signatures([0.0, 1.0, 9.0], [1, 4, 4], [4, 4, 2]),
    )
    assert protocol.excerpt(n, 0, 3).time_signatures.tolist() == [(0.0, 1, 4), (1.0, 4, 4)]
    # from the second bar (qn 5): its 4/4 only, then the 4/2 at qn 9 - 5 = 4 where the excerpt reaches it
    assert protocol.excerpt(n, 6, 3).time_signatures.tolist() == [(0.0, 4, 4)]
    assert protocol.excerpt(n, 6, 5).time_signatures.tolist() == [(0.0, 4, 4), (4.0, 4, 2)]


def test_continuation_drops_the_primer():
    n = Notes.from_arrays([60, 62, 64, 65], start_qn=[0, 1, 2, 3], end_qn=[1, 2, 3, 4]).with_metadata(primer_notes="2")
    c = protocol.continuation(n)
    assert c.pitch.tolist() == [64, 65] and c.start_qn.tolist() == [2.0, 3.0]  # bar 0 of 4/4 holds them
    assert protocol.continuation(n.with_metadata(primer_notes="0")).pitch.tolist() == [60, 62, 64, 65]  # no primer


# ---------------------------------------------------------------------------------------------------- the table
def test_table_errors_by_hand():
    # statistic a: reference values 0, 2 (range 2, mean 1), generated mean 2 -> ((2 - 1) / 2)^2 = 0.25
    # statistic b (2 entries): reference rows (0, 1), (0, 1): ranges 0 -> scaled by 1; generated means (1, 1)
    #   -> ((1 - 0)^2 + (1 - 1)^2) / 2 = 0.5
    # statistic c (a histogram): reference rows (0.5, 0.5), (0.9, 0.1): ranges 0.4 and 0.4 -> one scale 0.4;
    #   reference means (0.7, 0.3), generated (0.3, 0.7) -> ((0.4 / 0.4)^2 + (0.4 / 0.4)^2) / 2 = 1
    ref = {"a": np.array([[0.0], [2.0]]), "b": np.array([[0.0, 1.0], [0.0, 1.0]])}
    gen = {"a": np.array([[1.0], [3.0]]), "b": np.array([[1.0, 1.0], [1.0, 1.0]])}
    ref["c"], gen["c"] = np.array([[0.5, 0.5], [0.9, 0.1]]), np.array([[0.3, 0.7], [0.3, 0.7]])
    e = protocol.table_errors(gen, ref)
    assert e["per_statistic"] == pytest.approx({"a": 0.25, "b": 0.5, "c": 1.0})
    assert e["mse"] == pytest.approx(1.75 / 3) and e["rmse"] == pytest.approx(math.sqrt(1.75 / 3))
    # the bins of one histogram share a scale (here 0.5, the second bin's range), so that the first bin, which
    # never varies in the reference, does not blow its 0.1 difference up: ((0.1 / 0.5)^2 + (0.15 / 0.5)^2) / 2
    ref["d"], gen["d"] = np.array([[0.0, 0.5], [0.0, 1.0]]), np.array([[0.1, 0.6], [0.1, 0.6]])
    assert protocol.table_errors(gen, ref)["per_statistic"]["d"] == pytest.approx((0.04 + 0.09) / 2)
    assert protocol.table_errors(ref, ref)["mse"] == 0.0


def test_reference_counts_replace_empty_pieces():
    full = Notes.from_arrays([60, 62, 64], start_qn=[0, 1, 2], end_qn=[1, 2, 3])
    opts = protocol.EvalOptions(length=50)
    assert protocol.reference_counts([full, Notes.empty(), full[:1]], opts) == [3, 2, 1]  # median of 3 and 1
    assert protocol.reference_counts([Notes.empty(), Notes.empty()], opts) == [50, 50]


def test_statistics_matrix_rows_and_widths():
    rng = np.random.default_rng(3)
    pieces = [random_piece(rng, np.arange(60, 72)) for _ in range(3)]
    s = protocol.mse_statistics_matrix(pieces)
    assert set(s) == set(protocol.MSE_STATISTICS)
    assert s["pitch_class_histogram"].shape == (3, 12) and s["polyphony"].shape == (3, 1)


def test_eval_options_are_checked():
    with pytest.raises(ConfigError, match="-n"):
        protocol.EvalOptions(n=1)
    with pytest.raises(ConfigError, match="--length"):
        protocol.EvalOptions(length=1)


# ---------------------------------------------------------------------------------------------------- the report
@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, list[Path]]:
    """A tiny dataset and three tiny trained runs: the RNN, the C-RNN-GAN baseline and the piano-roll GAN."""
    from tests.conftest import synthetic_dataset
    from tunesmith.jobs.train import train

    root = tmp_path_factory.mktemp("evaluation")
    data = synthetic_dataset(root, steps=[0.25, 0.5], durations=[0.2, 0.4], n_notes=80)
    rnn = {"hidden": "8", "batch_size": "16", "device": "cpu", "epochs": "1"}
    tones = {"hidden": "8", "max_length": "8", "curriculum_start": "8", "batch_size": "4", "device": "cpu"}
    gan = {"bars": "1", "lowest_pitch": "48", "n_pitches": "36", "channels": "4", "up_layers": "2", "batch_size": "4"}
    gan |= {"device": "cpu", "max_steps": "2", "sample_every": "0", "n_fixed": "2", "stat_phrases": "4"}
    train("rnn", data, root / "rnn", preset="paper", overrides=rnn, progress=False)
    train("baseline", data, root / "baseline", preset="paper", overrides={**tones, "epochs": "1"}, progress=False)
    train("gan", data, root / "gan", overrides=gan, progress=False)
    return data, [root / "rnn", root / "baseline", root / "gan"]


def test_evaluate_writes_a_report_with_a_row_per_model(runs, tmp_path):
    from tunesmith.cli import main

    data, run_dirs = runs
    out = tmp_path / "report"
    argv = ["evaluate", *map(str, run_dirs), "--data", str(data), "--out", str(out), "-n", "4", "--length", "12"]
    assert main([*argv, "--bars", "1", "-q"]) == 0
    rep = json.loads((out / "report.json").read_text())
    assert [m["name"] for m in rep["models"]] == ["rnn", "baseline", "gan"]
    assert [m["kind"] for m in rep["models"]] == ["rnn", "baseline", "gan"]
    table = (out / "report.md").read_text().split("## Table 1, extended")[1].split("\n\n")[1].splitlines()
    rows = [line for line in table if line.startswith("| ") and not line.startswith("| model")]
    by_name = {m["name"]: m for m in rep["models"]}
    # a collapsed model is marked in its row and said under the table, never passed off as a result
    marks = {n: " **collapsed**" if by_name[n]["collapse"] else "" for n in by_name}
    assert [r.split(" | ")[0] for r in rows] == [
        f"| rnn (rnn){marks['rnn']}",
        f"| baseline (baseline){marks['baseline']}",
        f"| gan (gan){marks['gan']}",
        "| real: train split",
        "| real: test split (reference)",
    ]
    # the overlap as a fraction of the ceiling to three places (0.926 is not rounded up to a target of 0.93)
    cells = rows[0].split(" | ")
    assert cells[6] == f"{by_name['rnn']['overlap_fraction_of_ceiling']:.3f}"
    assert cells[5] == f"{by_name['rnn']['overlap']:.3f}"
    md = (out / "report.md").read_text()
    for name, m in by_name.items():
        assert (f"**{name} collapsed**: {m['collapse']}" in md) == bool(m["collapse"])
    assert by_name["rnn"]["paper_mse"] == 0.255 and by_name["baseline"]["paper_mse"] is None
    assert by_name["rnn"]["prediction"]["mse"] > 0 and set(by_name["baseline"]["prediction"]) >= {"mse", "mse_time"}
    assert by_name["gan"]["prediction"] is None  # the GAN does not predict a next event
    for m in rep["models"]:
        assert m["rmse"] == pytest.approx(math.sqrt(m["mse"]))
        assert 0.0 <= m["overlap"] <= 1.0 and set(m["set_comparison"]) == set(setcompare.SET_FEATURES)
    # the event models write exactly --length notes after their primer (one tone per step for the baseline)
    assert by_name["rnn"]["notes_per_piece"] == 12 and by_name["baseline"]["notes_per_piece"] == 12
    assert 0 <= by_name["gan"]["empty_pieces"] <= 4
    assert (out / "distributions.png").stat().st_size > 0
    for entries in rep["samples"].values():
        for e in entries:
            assert (out / e["midi"]).is_file() and (out / e["png"]).is_file() and (out / e["wav"]).is_file()


def test_evaluate_is_repeatable_under_a_seed(runs, tmp_path):
    from tunesmith.jobs.report import evaluate

    data, run_dirs = runs
    opts = protocol.EvalOptions(n=4, length=12, bars=1, seed=3)
    a = evaluate(run_dirs[:2], data, tmp_path / "a", opts, progress=False, audio=False)
    b = evaluate(run_dirs[:2], data, tmp_path / "b", opts, progress=False, audio=False)
    for ma, mb in zip(a["models"], b["models"], strict=True):
        assert ma["mse"] == mb["mse"] and ma["set_comparison"] == mb["set_comparison"]
    c = evaluate(
        run_dirs[:1], data, tmp_path / "c", protocol.EvalOptions(n=4, length=12, seed=4), progress=False, audio=False
    )
    assert c["models"][0]["mse"] != a["models"][0]["mse"]


def test_evaluate_samples_each_sampling_model_alike(runs, tmp_path, monkeypatch, capsys):
    """``--temperature``, ``--top-k``, ``--top-p`` reach every model that samples (the RNN) and not the GAN, which
    decodes no distribution; the report says how the models were sampled; bad values are refused up front."""
    from tunesmith.cli import main
    from tunesmith.families.base import Family

    data, run_dirs = runs
    asked: dict[str, dict] = {}
    options = Family.options

    def spy(self, **values):
        asked[self.name] = values
        return options(self, **values)

    monkeypatch.setattr(Family, "options", spy)
    argv = ["evaluate", str(run_dirs[0]), str(run_dirs[2]), "--data", str(data), "-n", "4", "--length", "12"]
    argv += ["--bars", "1", "-q", "--no-audio"]
    assert main([*argv, "--out", str(tmp_path / "a"), "--temperature", "0.7", "--top-k", "1"]) == 0
    assert asked["rnn"]["temperature"] == 0.7 and asked["rnn"]["top_k"] == 1 and "top_p" not in asked["rnn"]
    assert not {"temperature", "top_k", "top_p"} & set(asked["gan"])
    rep = json.loads((tmp_path / "a" / "report.json").read_text())
    assert rep["options"]["top_k"] == 1 and rep["options"]["top_p"] is None
    assert "Sampling: temperature 0.7, top-k 1." in (tmp_path / "a" / "report.md").read_text()
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    assert not {"temperature", "top_k", "top_p"} & set(asked["rnn"])  # the full distribution by default
    assert "Sampling: the full distribution (temperature 1)." in (tmp_path / "b" / "report.md").read_text()
    greedy, full = (json.loads((tmp_path / d / "report.json").read_text())["models"][0] for d in "ab")
    assert greedy["mse"] != full["mse"]  # the RNN's pieces changed with its sampling
    capsys.readouterr()
    assert main([*argv, "--out", str(tmp_path / "c"), "--top-p", "0"]) == 1
    assert "--top-p must lie in (0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()  # refused before anything was generated or written


def test_evaluate_chooses_each_models_temperature_on_the_validation_split(runs, tmp_path, monkeypatch, capsys):
    """``--choose-temperature``: each sampling model generates at every candidate, the candidate with the lowest
    MSE against validation excerpts is used (its pieces, scored against the test split as a plain run at that
    temperature would be), the choice never draws a test excerpt, and the GAN is left alone."""
    import tunesmith.jobs.evaluate as job
    from tunesmith.cli import main
    from tunesmith.families.base import Family

    data, run_dirs = runs
    temperatures: dict[str, list] = {"rnn": [], "gan": []}
    splits: list[str] = []
    options, excerpts = Family.options, job.reference_excerpts

    def spy_options(self, **values):
        temperatures[self.name].append(values.get("temperature"))
        return options(self, **values)

    def spy_excerpts(ds, split, counts, seed):
        splits.append(split)
        return excerpts(ds, split, counts, seed)

    monkeypatch.setattr(Family, "options", spy_options)
    monkeypatch.setattr(job, "reference_excerpts", spy_excerpts)
    argv = ["evaluate", str(run_dirs[0]), str(run_dirs[2]), "--data", str(data), "-n", "4", "--length", "12"]
    argv += ["--bars", "1", "-q", "--no-audio"]
    assert main([*argv, "--out", str(tmp_path / "a"), "--choose-temperature", "0.3", "1", "3"]) == 0
    assert temperatures == {"rnn": [0.3, None, 3.0], "gan": [None]}  # 1 is the default: not passed on
    assert splits[:3] == ["validation"] * 3 and "test" not in splits[:3]
    rep = json.loads((tmp_path / "a" / "report.json").read_text())
    rnn, gan = rep["models"]
    tried = rnn["temperature_choice"]["validation_mse"]
    assert list(tried) == ["0.3", "1", "3"] and len(set(tried.values())) == 3
    chosen = rnn["temperature_choice"]["chosen"]
    assert f"{chosen:g}" == min(tried, key=tried.get) and "temperature_choice" not in gan
    md = (tmp_path / "a" / "report.md").read_text()
    assert "Sampling: each model's temperature chosen on the validation split among 0.3, 1, 3." in md
    assert f"- rnn: **{chosen:g}** (0.3: {tried['0.3']:.4f}, 1: {tried['1']:.4f}, 3: {tried['3']:.4f})" in md
    # the same figures as a plain evaluation at the chosen temperature
    assert main([*argv, "--out", str(tmp_path / "b"), "--temperature", f"{chosen:g}"]) == 0
    plain = json.loads((tmp_path / "b" / "report.json").read_text())["models"][0]
    assert plain["mse"] == rnn["mse"] and plain["overlap"] == rnn["overlap"]
    # against the validation split: every reference from it, and the report says so
    splits.clear()
    assert main([*argv, "--out", str(tmp_path / "v"), "--split", "validation"]) == 0
    assert set(splits) == {"validation", "train"}
    md = (tmp_path / "v" / "report.md").read_text()
    assert "reference: validation-split excerpts" in md and "| real: validation split (reference) |" in md
    assert "equal the validation split's" in md and "test split" not in md
    capsys.readouterr()
    assert main([*argv, "--out", str(tmp_path / "c"), "--choose-temperature", "0.9"]) == 1
    assert "two or more temperatures" in capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "c"), "--choose-temperature", "0.9", "1", "--temperature", "2"]) == 1
    assert "either --temperature or --choose-temperature" in capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "c"), "--choose-temperature", "0.9", "-1"]) == 1
    assert "--temperature must be a positive number, got -1" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()  # each refused before anything was generated or written


def test_evaluate_refuses_an_empty_held_out_split_up_front(tmp_path, capsys):
    """A dataset without validation pieces: --choose-temperature and --split validation say so before any model
    generates."""
    from tests.conftest import synthetic_dataset
    from tunesmith.cli import main

    data = synthetic_dataset(tmp_path, steps=[0.5], durations=[0.4], n_pieces=3, n_notes=20)  # p00-p02: no validation
    (tmp_path / "run").mkdir()  # never loaded: the split is checked first
    argv = ["evaluate", str(tmp_path / "run"), "--data", str(data), "--out", str(tmp_path / "r"), "-q"]
    assert main([*argv, "--choose-temperature", "0.9", "1"]) == 1
    assert "the validation split is empty, and --choose-temperature chooses on it" in capsys.readouterr().err
    assert main([*argv, "--split", "validation"]) == 1
    assert "the validation split is empty, and the pieces are compared with it" in capsys.readouterr().err


def test_evaluation_seeds_generate_disjoint_pieces():
    """Seed s of an evaluation of n pieces generates with seed s * n: a family that seeds piece i with seed + i
    (the Transformer) writes pieces s*n .. s*n + n - 1, none of them again at another evaluation seed."""
    import torch

    from tunesmith.jobs.evaluate import generate_pieces

    class Stub:
        length_unit, takes_temperature = "events", True

        def options(self, **values):
            return values

        def generate(self, model, run, options, device):
            first = options["seed"]
            return [Notes.from_arrays([60], [0.0], [0.5], metadata={"seed": str(first + i)}) for i in range(64)]

    model = torch.nn.Linear(1, 1)
    runs = [generate_pieces(Stub(), model, None, protocol.EvalOptions(n=64, seed=s)) for s in range(5)]
    seeds = [{p.metadata["seed"] for p in pieces} for pieces in runs]
    assert all(len(a) == 64 for a in seeds) and len(set().union(*seeds)) == 5 * 64
    assert seeds[0] == {str(i) for i in range(64)}  # seed 0 generates as it always did


def test_evaluate_names_a_bad_run(runs, tmp_path):
    from tunesmith.cli import main

    data, _ = runs
    (tmp_path / "notarun").mkdir()
    assert main(["evaluate", str(tmp_path / "notarun"), "--data", str(data), "--out", str(tmp_path / "r")]) == 1


def test_compare_a_folder_skips_broken_files_and_needs_two_pieces(runs, tmp_path):
    from tunesmith.cli import main
    from tunesmith.io import write_midi

    data, _ = runs
    folder = tmp_path / "gen"
    folder.mkdir()
    rng = np.random.default_rng(5)
    for i in range(4):
        write_midi(random_piece(rng, np.arange(55, 80)), folder / f"g{i}.mid")
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00")
    out = tmp_path / "cmp.json"
    assert main(["compare", str(folder), "--data", str(data), "--json", str(out)]) == 0
    (result,) = json.loads(out.read_text())
    assert result["pieces"] == 4 and [Path(f).name for f, _ in result["unreadable"]] == ["broken.mid"]
    assert set(result["set_comparison"]) == set(setcompare.SET_FEATURES) and result["errors"]["mse"] > 0
    lonely = tmp_path / "one"
    lonely.mkdir()
    write_midi(random_piece(rng, np.arange(55, 80)), lonely / "a.mid")
    assert main(["compare", str(lonely), "--data", str(data)]) == 1


# ---------------------------------------------------------------------------------------------------- collapse
def _melody(pitches: list[int], step: float = 0.5) -> Notes:
    starts = np.arange(len(pitches)) * step
    return Notes.from_arrays(np.array(pitches, dtype=np.uint8), starts, starts + step)


def test_collapse_fires_on_a_constant_generator_and_not_on_real_excerpts():
    rng = np.random.default_rng(0)
    real = [_melody(list(rng.integers(48, 84, 40))) for _ in range(6)]
    assert protocol.collapse(real[:3], real[3:]) is None
    constant = [_melody([60] * 40) for _ in range(6)]  # one repeated tone: 1 unique tone, span 0
    distinct = np.mean([len(set(p.pitch.tolist())) for p in real])  # by hand: distinct pitches per real piece
    expected = f"collapse: 1.0 unique tones per piece against {distinct:.1f} in real music"
    assert protocol.collapse(constant, real) == expected
    narrow = [_melody(list(rng.choice([60, 62, 64, 65, 67, 69, 71, 72], 40))) for _ in range(6)]  # 8 tones
    assert protocol.collapse(narrow, real) is None  # 8 tones and span 12: above a quarter of real music's
    same = [_melody(list(range(48, 88))) for _ in range(4)]  # varied, but every piece the same notes
    assert protocol.collapse(same, real) == "collapse: all 4 generated pieces are the same"
    assert protocol.collapse([Notes.empty(), Notes.empty()], real) == "collapse: every generated piece is empty"
