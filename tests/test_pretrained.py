"""Shipped models (docs/models.md): the registry, use by name from every entry point, the card's hashes, export,
fine-tuning with --init, the wheel that carries them, and the script that makes them.

Every test that needs a shipped model runs on a tiny one made here (a few steps on the chorales, shipped into a
temporary registry named by ``TUNESMITH_MODELS``) and on every model the package ships."""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from tunesmith.cli import main
from tunesmith.errors import CheckpointError, ConfigError
from tunesmith.families import get_family
from tunesmith.io import read_midi
from tunesmith.jobs.demo import demo_shipped
from tunesmith.jobs.prepare import prepare_dataset
from tunesmith.jobs.pretrained import export_model, ship_run
from tunesmith.jobs.runs import load_run
from tunesmith.jobs.train import train
from tunesmith.pretrained import (
    CARD,
    MODELS_ENV,
    PACKAGE_MODELS,
    ShippedModel,
    check_card,
    file_hashes,
    get_model,
    model_names,
    resolve_run,
    search_path,
    shipped_models,
    verify,
)
from tunesmith.runfiles import CONFIG, WEIGHTS
from tunesmith.utils import sha256_file

ROOT = Path(__file__).resolve().parents[1]
MADE_HERE = "tiny-test"
BUILT_IN = model_names(roots=[PACKAGE_MODELS])
MAX_SHIPPED_BYTES = 50_000_000  # seven models (the two Transformers and the paper's five) and two originality indexes
QUICK = {"max_steps": "2", "val_max_batches": "2", "batch_size": "4"}
TINY_CARD = {"summary": "a tiny test model", "data": "40 chorales", "split": "hash", "license": "MIT"}
TINY_CARD |= {"hardware": "test", "command": "pytest"}


@pytest.fixture(scope="module")
def chorales(tmp_path_factory) -> Path:
    return prepare_dataset("bach", tmp_path_factory.mktemp("bach") / "data", limit=40, workers=1, progress=False).root


@pytest.fixture(scope="module")
def tiny_run(chorales, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "run"
    overrides = {"context": "64", "max_steps": "6", "val_max_batches": "2", "batch_size": "4"}
    train("transformer", chorales, out, preset="tiny", overrides=overrides, progress=False)
    return out


@pytest.fixture(scope="module")
def registry(tiny_run, tmp_path_factory) -> Path:
    """A temporary registry holding the tiny model, shipped as make pretrained ships one."""
    root = tmp_path_factory.mktemp("registry")
    ship_run(tiny_run, MADE_HERE, TINY_CARD, root=root)
    return root


@pytest.fixture
def models_env(registry, monkeypatch) -> Path:
    monkeypatch.setenv(MODELS_ENV, str(registry))
    return registry


@pytest.fixture(params=[MADE_HERE, *BUILT_IN])
def shipped(request, models_env) -> ShippedModel:
    return get_model(request.param)


def valid_piece(path: Path) -> None:
    notes = read_midi(path)
    assert len(notes) > 0
    assert notes.pitch.min() >= 0 and notes.pitch.max() <= 127
    assert (notes.end > notes.start).all() and (notes.start >= 0).all()


# ------------------------------------------------------------------------------------------------ the card
def test_every_shipped_model_matches_its_card(shipped):
    """Every file the card names is there with its sha256 (config.json and the weights among them), the card has
    every field, the weights are bf16 or fp16 and load, as float32, into the model its config builds."""
    verify(shipped)
    check_card(shipped.card, shipped.path / CARD)
    assert shipped.files[CONFIG] == sha256_file(shipped.path / CONFIG)
    assert shipped.files[WEIGHTS] == sha256_file(shipped.path / WEIGHTS)
    assert set(shipped.files) == set(file_hashes(shipped.path))
    with safe_open(str(shipped.path / WEIGHTS), "pt") as f:
        tensors = [f.get_tensor(k) for k in f.keys()]  # noqa: SIM118 (safe_open is not a mapping)
    # floating weights in half precision; integer buffers (BatchNorm's batch counts) as they are
    assert {t.dtype for t in tensors if t.is_floating_point()} <= {torch.bfloat16, torch.float16}
    run, fam, model = load_run(shipped.path)
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert shipped.card["parameters"] == sum(p.numel() for p in model.parameters())
    assert shipped.card["kind"] == run.kind and shipped.card["name"] == shipped.name
    assert shipped.size_bytes == sum((shipped.path / f).stat().st_size for f in shipped.files)


def test_a_changed_file_is_caught(registry, tmp_path):
    copy = tmp_path / MADE_HERE
    shutil.copytree(registry / MADE_HERE, copy)
    config = json.loads((copy / CONFIG).read_text())
    config["model"]["layers"] = 3
    (copy / CONFIG).write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="sha256"):
        verify(get_model(MADE_HERE, roots=[tmp_path]))
    with pytest.raises(CheckpointError, match="sha256"):
        resolve_run(MADE_HERE, roots=[tmp_path])


def test_shipping_the_same_run_again_gives_the_same_bytes(tiny_run, registry, tmp_path):
    """The card's sha256 is of the file: the same run shipped again must give the same weights file byte for byte
    (safetensors orders several metadata keys at random, which made this fail one time in two)."""
    want = get_model(MADE_HERE, roots=[registry]).files
    for k in range(6):
        ship_run(tiny_run, MADE_HERE, TINY_CARD, root=tmp_path / str(k))
        again = get_model(MADE_HERE, roots=[tmp_path / str(k)]).files
        assert again[WEIGHTS] == want[WEIGHTS] and again[CONFIG] == want[CONFIG]


def test_a_model_ships_its_own_generation_defaults(tiny_run, tmp_path):
    """``generation`` goes into the shipped config.json (which the card's sha256 then covers); none, no section."""
    import json

    ship_run(tiny_run, MADE_HERE, TINY_CARD, root=tmp_path / "own", generation={"chord_strictness": 0.0})
    model = get_model(MADE_HERE, roots=[tmp_path / "own"])
    verify(model)
    assert json.loads((model.path / CONFIG).read_text())["generation"] == {"chord_strictness": 0.0}
    ship_run(tiny_run, MADE_HERE, TINY_CARD, root=tmp_path / "plain")
    assert "generation" not in json.loads((tmp_path / "plain" / MADE_HERE / CONFIG).read_text())


def test_the_shipped_models_fit_the_size_limit():
    total = sum(m.size_bytes for m in shipped_models(roots=[PACKAGE_MODELS]).values())
    assert total <= MAX_SHIPPED_BYTES


# ------------------------------------------------------------------------------------------------ by name
def test_every_entry_point_takes_the_name(shipped, chorales, tmp_path):
    """generate, evaluate, plot and train --init take a shipped model's name; what is generated is music."""
    name = shipped.name
    assert main(["generate", name, "--out", str(tmp_path / "ideas"), "-n", "2", "--length", "24"]) == 0
    for path in sorted((tmp_path / "ideas").glob("*.mid")):
        valid_piece(path)
    assert json.loads((tmp_path / "ideas" / "samples.json").read_text())["run"] == name
    if get_family(shipped.card["kind"]).representation == "drum_grid":  # drum models learn from and read drums,
        from .test_humanize import groove_dataset  # which the chorales have none of

        chorales, _ = groove_dataset(tmp_path)
    report = tmp_path / "report"
    argv = ["evaluate", name, "--data", str(chorales), "--out", str(report), "-n", "2", "--length", "16"]
    assert main([*argv, "--no-audio", "-q"]) == 0
    result = json.loads((report / "report.json").read_text())["models"][0]
    assert result["name"] == name
    if get_family(shipped.card["kind"]).has_likelihood:  # the Transformers and the RNN give music a probability
        assert math.isfinite(result["likelihood"]["bits_per_note"])
    for piece in (report / "samples").glob("*.mid"):
        valid_piece(piece)
    assert main(["plot", name, "--out", str(tmp_path / "curves.png")]) == 0
    assert (tmp_path / "curves.png").stat().st_size > 0
    run = tmp_path / "tuned"
    argv = ["train", shipped.card["kind"], "--init", name, "--data", str(chorales), "--out", str(run), "-q"]
    assert main([*argv, *[f"--set={k}={v}" for k, v in QUICK.items()]]) == 0
    assert json.loads((run / CONFIG).read_text())["init"]["shipped_model"] == name


def test_the_studio_lists_a_shipped_model_and_harmonize_takes_its_name(models_env, tmp_path):
    from tunesmith.jobs.studio import examples, find_models

    model = find_models()[MADE_HERE]
    assert model.run == MADE_HERE and model.modes == ("continue", "infill", "keep", "harmonize")
    melody = examples()["example: melody-bwv66.6"]
    assert main(["harmonize", str(melody), "--run", MADE_HERE, "--out", str(tmp_path / "h"), "-n", "1"]) == 0
    valid_piece(tmp_path / "h" / "harmony_00.mid")


def test_a_name_that_does_not_exist_lists_the_ones_that_do(models_env, tmp_path, capsys):
    with pytest.raises(CheckpointError, match=f"nosuch: no such file or folder.*shipped models are {MADE_HERE}"):
        resolve_run("nosuch")
    assert main(["generate", "nosuch", "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert "nosuch" in err and MADE_HERE in err and "Traceback" not in err
    with pytest.raises(CheckpointError, match="no models are shipped"):
        get_model("nosuch", roots=[tmp_path])


def test_an_existing_path_wins_over_a_name(models_env, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert resolve_run(MADE_HERE) == models_env / MADE_HERE
    (tmp_path / MADE_HERE).mkdir()  # e.g. a dataset folder of that name
    assert resolve_run(MADE_HERE) == Path(MADE_HERE)
    assert main(["generate", MADE_HERE, "--out", str(tmp_path / "x")]) == 1
    assert "hides it" in capsys.readouterr().err


def test_the_search_path(models_env, tmp_path):
    assert search_path() == [models_env, PACKAGE_MODELS]
    assert search_path([tmp_path]) == [tmp_path]
    assert shipped_models([tmp_path / "none"]) == {}
    assert list(shipped_models())[0] == MADE_HERE


def test_models_lists_and_an_empty_registry_says_so(models_env, tmp_path, monkeypatch, capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert MADE_HERE in out and "a tiny test model" in out and "40 chorales" in out and "MIT" in out
    assert main(["models", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[MADE_HERE]["kind"] == "transformer"
    monkeypatch.setattr("tunesmith.pretrained.PACKAGE_MODELS", tmp_path)
    monkeypatch.setenv(MODELS_ENV, str(tmp_path / "none"))
    assert main(["models"]) == 0
    assert "no models are shipped" in capsys.readouterr().out
    said: list[str] = []
    assert demo_shipped(tmp_path / "demo", say=said.append) == {}
    assert "skipping" in said[0] and not (tmp_path / "demo").exists()


def test_the_demo_starts_with_the_shipped_models(models_env, monkeypatch, tmp_path):
    monkeypatch.setattr("tunesmith.pretrained.PACKAGE_MODELS", tmp_path / "none")
    monkeypatch.setattr("tunesmith.jobs.demo.SHIPPED_LENGTH", {"events": 24, "bars": 2})
    said: list[str] = []
    written = demo_shipped(tmp_path / "demo", n=2, say=said.append)
    folder = tmp_path / "demo" / "shipped" / MADE_HERE
    assert [p.name for p in written[MADE_HERE]] == ["sample_00.mid", "sample_01.mid"]
    assert {p.suffix for p in folder.iterdir()} >= {".mid", ".wav", ".png"}
    assert MADE_HERE in said[0]


# ------------------------------------------------------------------------------------------------ export, --init
def test_export_writes_a_float32_run_that_resumes(models_env, chorales, tmp_path, capsys):
    out = tmp_path / "exported"
    assert main(["models", "--export", MADE_HERE, str(out)]) == 0
    assert "--resume" in capsys.readouterr().out
    weights = load_file(str(out / WEIGHTS))
    shipped = load_file(str(models_env / MADE_HERE / WEIGHTS))
    assert {v.dtype for v in weights.values()} == {torch.float32}
    assert all(torch.equal(weights[k], shipped[k].float()) for k in shipped)
    config = json.loads((out / CONFIG).read_text())
    assert config["exported_from"]["model"] == MADE_HERE and config["data"]["fingerprint"] is None
    assert (out / "tokenizer.json").read_bytes() == (models_env / MADE_HERE / "tokenizer.json").read_bytes()
    steps = get_model(MADE_HERE).card["steps"]
    summary = train("transformer", chorales, out, resume=True, overrides={"max_steps": str(steps + 2)}, progress=False)
    assert summary["step"] == steps + 2
    with pytest.raises(CheckpointError, match="already holds a run"):
        export_model(MADE_HERE, out)
    tuned = tmp_path / "tuned"
    train("transformer", chorales, tuned, init=out, overrides=QUICK, progress=False)
    assert json.loads((tuned / CONFIG).read_text())["init"]["from"] == str(out)


def test_init_starts_from_the_weights_and_keeps_the_tokenizer(models_env, chorales, tmp_path):
    """With a learning rate too small to move a float32 weight, the kept weights are exactly the shipped ones."""
    run = tmp_path / "tuned"
    train("transformer", chorales, run, init=MADE_HERE, overrides={**QUICK, "lr": "1e-30"}, progress=False)
    config = json.loads((run / CONFIG).read_text())
    card = get_model(MADE_HERE).card
    assert config["preset"] == card["preset"] and config["model"] == json.loads(
        (models_env / MADE_HERE / CONFIG).read_text()
    )["model"]
    assert config["init"]["weights_sha256"] == card["files"][WEIGHTS]
    tuned, shipped = load_file(str(run / WEIGHTS)), load_file(str(models_env / MADE_HERE / WEIGHTS))
    assert all(torch.equal(tuned[k], shipped[k].float()) for k in shipped)
    assert (run / "tokenizer.json").read_bytes() == (models_env / MADE_HERE / "tokenizer.json").read_bytes()


def test_init_may_snap_chords_otherwise_and_keeps_everything_else(models_env, chorales, tmp_path):
    """``chord_window`` moves played notes on the grid before encoding and leaves the ids' meaning alone, so a run
    started from a model may snap chords otherwise (the shipped ``piano`` was trained without snapping and fine-tuned
    with it): the new run's tokenizer snaps as asked and is otherwise the model's, and the weights load."""
    shipped = json.loads((models_env / MADE_HERE / "tokenizer.json").read_text())
    window = shipped["config"]["additional_params"].get("chord_window", 0.0)
    for other in (0.0, 0.3) if window else (0.4,):
        run = tmp_path / f"window{other}"
        train("transformer", chorales, run, init=MADE_HERE, overrides={**QUICK, "chord_window": str(other)},
              progress=False)
        saved = json.loads((run / "tokenizer.json").read_text())
        assert saved["config"]["additional_params"].get("chord_window", 0.0) == other
        assert json.loads((run / CONFIG).read_text())["model"]["chord_window"] == other
        for t in (saved, shipped):
            t["config"]["additional_params"].pop("chord_window", None)
        assert saved == shipped
    with pytest.raises(ConfigError, match="chord_window must lie in"):
        train("transformer", chorales, tmp_path / "bad", init=MADE_HERE, overrides={**QUICK, "chord_window": "0.5"})


def test_init_errors_are_clear(models_env, chorales, tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"tokenizer differs.*REMI.*TSD"):
        train("transformer", chorales, tmp_path / "a", init=MADE_HERE, overrides={"tokenization": "TSD"})
    with pytest.raises(CheckpointError, match="weights do not fit"):
        train("transformer", chorales, tmp_path / "b", init=MADE_HERE, overrides={"layers": "3"}, progress=False)
    with pytest.raises(CheckpointError, match="is a transformer run, not rnn"):
        train("rnn", chorales, tmp_path / "c", init=MADE_HERE)
    with pytest.raises(ConfigError, match="give one of them"):
        train("transformer", chorales, tmp_path / "d", init=MADE_HERE, resume=True)
    argv = ["train", "transformer", "--init", "nosuch", "--data", str(chorales), "--out", str(tmp_path / "e")]
    assert main(argv) == 1
    assert MADE_HERE in capsys.readouterr().err


def test_init_goes_through_torchrun(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append(cmd) or subprocess.CompletedProcess(cmd, 0))
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert main(["train", "transformer", "--init", "piano", "--data", "d", "--out", "r", "--nproc", "2"]) == 0
    assert calls[0][-8:] == ["train", "transformer", "--data", "d", "--out", "r", "--init", "piano"]


# ------------------------------------------------------------------------------------------------ packaging
def test_the_wheel_carries_the_shipped_models(registry, tmp_path):
    """Build the wheel of a copy of the project with the tiny model shipped into its package (and every model the
    package ships) and find each model's files in it."""
    src = tmp_path / "project"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(registry / MADE_HERE, src / "src" / "tunesmith" / "pretrained" / MADE_HERE)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "w")]
    done = subprocess.run([*cmd, str(src)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = (tmp_path / "w").glob("tunesmith-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {MADE_HERE: [*get_model(MADE_HERE, roots=[registry]).files, CARD]}
    expected |= {m: [*get_model(m, roots=[PACKAGE_MODELS]).files, CARD] for m in BUILT_IN}
    for model, files in expected.items():
        for f in files:
            assert f"tunesmith/pretrained/{model}/{f}" in names
    assert "tunesmith/pretrained/__init__.py" in names


# ------------------------------------------------------------------------------------------------ make pretrained
@pytest.mark.slow
def test_make_pretrained_runs_end_to_end_with_a_tiny_budget(tmp_path, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("make_pretrained", ROOT / "benchmarks" / "pretrained.py")
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, script)  # its dataclasses look their module up there
    spec.loader.exec_module(script)
    monkeypatch.delenv(script.MAESTRO_ENV, raising=False)
    out = tmp_path / "models"
    argv = ["--models", "bach,piano", "--preset", "tiny", "--minutes", "0.03", "--limit", "40", "-n", "2"]
    assert script.main([*argv, "--length", "24", "--out", str(out), "--work", str(tmp_path / "work"), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "piano: skipped: no MAESTRO folder" in printed and "| bach |" in printed
    model = get_model("bach", roots=[out])
    verify(model)
    card = model.card
    assert card["preset"] == "tiny" and card["seed"] == 0 and card["held_out_split"] == "test"
    assert math.isfinite(card["held_out_bits_per_note"]) and card["overlap_fraction_of_ceiling"] > 0
    assert card["originality"]["pieces"] == 2 and "--preset tiny" in card["command"]
    assert json.loads((model.path / CONFIG).read_text())["data"]["path"] == card["data"]
    stage = card["stages"]
    assert len(stage) == 1 and stage[0]["how"] == "trained from scratch" and stage[0]["steps"] == card["steps"]

    # a second stage started from that model (--start-from), then the same again with --resume: the finished runs in
    # --work are taken as they are, so the same weights ship
    again = [*argv[:2], "--preset", "tiny", "--finetune-minutes", "0.02", "-n", "2", "--length", "24", "--limit", "40"]
    again += ["--start-from", str(model.path), "--work", str(tmp_path / "work2"), "-q"]
    for k, extra in enumerate(([], ["--resume"])):
        assert script.main([*again, *extra, "--out", str(tmp_path / f"tuned{k}")]) == 0
    assert "taking the finished run" in capsys.readouterr().out
    skip = ["--models", "bach", "--start-from", str(model.path), "--work", str(tmp_path / "w3")]
    assert script.main([*skip, "--out", str(tmp_path / "none")]) == 0 and not (tmp_path / "none").exists()
    assert "bach: skipped: --start-from fine-tunes a model" in capsys.readouterr().out  # bach has no second stage
    tuned = [get_model("bach", roots=[tmp_path / f"tuned{k}"]) for k in range(2)]
    assert tuned[0].card["files"][WEIGHTS] == tuned[1].card["files"][WEIGHTS]
    assert tuned[0].card["wall_seconds"] > 0 and "wall_seconds" not in tuned[1].card  # no training took place
    first, second = tuned[0].card["stages"]
    assert first["steps"] == card["steps"] and first["weights_sha256"] == card["files"][WEIGHTS]
    assert tuned[0].card["steps"] == card["steps"] + second["steps"] and second["steps"] > 0
    assert "--finetune-minutes 0.02" in tuned[0].card["command"]
    init = json.loads((tuned[0].path / CONFIG).read_text())["init"]
    assert init["from"] == "bach" and "path" not in init and init["weights_sha256"] == card["files"][WEIGHTS]
    assert str(tmp_path) not in (tuned[0].path / CONFIG).read_text()  # no path of this machine ships


def outside_bars_3_4(piece):
    """BWV 66.6's notes outside its bars 3-4: a pickup bar of 1/4, then 4/4, so quarter notes 5 to 13."""
    return piece[(piece.start_qn < 5.0) | (piece.start_qn >= 13.0)].sorted().notes


@pytest.mark.parametrize("mode", [{"infill_bars": "3-4"}, {"infill_bars": "3-4", "keep_tracks": "1"}])
def test_infilling_a_chorale_writes_its_four_named_tracks_back(tmp_path, mode):
    """Bars 3-4 of chorale BWV 66.6 filled in by the shipped ``bach``: the file has the input's four tracks, with
    their names, programs and order, every new note in the track of its voice, every other note as it was."""
    import numpy as np

    from tunesmith.io import write_midi
    from tunesmith.jobs.generate import generate
    from tunesmith.jobs.studio import examples

    chorale = read_midi(examples()["example: chorale-bwv66.6"])
    names = {"0": "Soprano", "1": "Alto", "2": "Tenor", "3": "Bass"}
    primer = write_midi(chorale.with_metadata(track_names=json.dumps(names)), tmp_path / "bwv66.6.mid")
    source = read_midi(primer)
    for path in generate("bach", tmp_path / "out", n=2, length=8, primer=primer, options=mode):
        got = read_midi(path)
        assert got.track_names() == {int(k): v for k, v in names.items()}
        tracks = np.unique(got.notes["track"])
        assert tracks.tolist() == [0, 1, 2, 3]
        for t in tracks:  # one instrument per voice, the input's
            assert set(got.notes["program"][got.notes["track"] == t]) == set(
                source.notes["program"][source.notes["track"] == t]
            )
        fields = ["pitch", "track", "program", "start_qn", "end_qn"]
        assert np.array_equal(outside_bars_3_4(got)[fields], outside_bars_3_4(source)[fields])


def test_a_shipped_index_checks_originality_without_the_dataset(registry, chorales, tmp_path, monkeypatch, capsys):
    """A model shipped with the index of its training split: `originality --run NAME` finds a training chorale
    copied whole, with no dataset; a model without one says what to give instead."""
    from tunesmith.dataset import Dataset
    from tunesmith.io import write_midi
    from tunesmith.jobs.pretrained import add_originality_index

    root = tmp_path / "models"
    shutil.copytree(registry, root)
    monkeypatch.setenv(MODELS_ENV, str(root))
    assert main(["originality", str(tmp_path), "--run", MADE_HERE]) == 1
    assert "keeps no index of its training data" in capsys.readouterr().err
    assert add_originality_index(MADE_HERE, chorales, root=root, max_bytes=10) is None  # too large: nothing shipped
    path = add_originality_index(MADE_HERE, chorales, root=root)
    verify(get_model(MADE_HERE, roots=[root]))  # the card lists the index with its sha256
    assert path.name in get_model(MADE_HERE, roots=[root]).files
    ds = Dataset.load(chorales)
    write_midi(ds[int(ds.indices("train")[3])], tmp_path / "pieces" / "copied.mid")
    assert main(["originality", str(tmp_path / "pieces"), "--run", MADE_HERE]) == 0
    out = capsys.readouterr().out
    assert "copied.mid: longest run" in out and "COPY" in out


def test_the_shipped_piano_index_answers_without_the_dataset(tmp_path, capsys):
    """`originality FILE --run piano` needs no dataset: the piano model ships its training split's index, and the
    RNN and the GAN, trained on the same split, use it (their cards say so); a piece of random notes holds no run."""
    from tunesmith.io import write_midi
    from tunesmith.jobs.originality import index_folder
    from tunesmith.notes import Notes

    for name in ("rnn", "gan"):
        card = get_model(name).card
        assert card["originality_index"]["same_as"] == "piano"
        assert index_folder(get_model(name).path) == get_model("piano").path
    rng = np.random.default_rng(3)
    start = np.cumsum(rng.choice([0.13, 0.41, 0.77], 80))
    write_midi(Notes.from_arrays(rng.integers(30, 100, 80), start, start + 0.1), tmp_path / "random.mid")
    assert main(["originality", str(tmp_path), "--run", "piano", "--json", str(tmp_path / "o.json")]) == 0
    report = json.loads((tmp_path / "o.json").read_text())
    assert report["pieces"][0]["longest"] < 16 and report["copied_share"] == 0.0
    assert get_model("piano").card["originality_index"]["pieces"] == 962


def test_an_index_is_shared_only_between_models_of_the_same_data(registry, tmp_path):
    from tunesmith.jobs.pretrained import share_originality_index

    root = tmp_path / "models"
    shutil.copytree(registry, root)
    with pytest.raises(ConfigError, match="ships no originality index"):
        share_originality_index(MADE_HERE, MADE_HERE, root=root)
    with pytest.raises(ConfigError, match="not trained on the same data"):
        share_originality_index("bach", "piano")  # refused before anything is written
