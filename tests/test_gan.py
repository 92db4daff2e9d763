from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from tunesmith.dataset import Dataset
from tunesmith.errors import ConfigError, DatasetError
from tunesmith.families import GenerateOptions, Run, get_family
from tunesmith.families.gan import GANFamily
from tunesmith.families.gan.model import (
    GANConfig,
    PianoRollGAN,
    gradient_penalty,
    ns_d_loss,
    ns_g_loss,
    wgan_d_loss,
    wgan_g_loss,
)
from tunesmith.families.gan.sample import Decoding, GANOptions, generate_rolls, resolve
from tunesmith.families.gan.task import buffered_permutation, phrase_statistics, save_roll_grid
from tunesmith.io import read_midi
from tunesmith.jobs.generate import generate
from tunesmith.jobs.runs import load_run
from tunesmith.jobs.train import build_configs, train
from tunesmith.representations.pianoroll import PianoRollConfig, from_pianoroll, phrases, to_pianoroll
from tunesmith.runfiles import DECODING
from tunesmith.training.stores import PhraseStore, pack_phrases

from .conftest import synthetic_dataset

# a tiny roll (1 bar of 16 steps x 3 octaves) and tiny networks
TINY_ROLL = {"bars": "1", "lowest_pitch": "48", "n_pitches": "36"}
TINY = {**TINY_ROLL, "channels": "4", "up_layers": "2", "batch_size": "4", "d_steps": "2", "device": "cpu"}
# the tiny runs keep their latest weights, decoded at 0.5 (selection by statistics has its own test)
TINY = {**TINY, "select_by": "last"}
TINY_LOGS = {"sample_every": "3", "n_fixed": "4", "stat_phrases": "8", "output_bias": "none"}  # notes from tiny nets
N_PIECES = 12
CPU = torch.device("cpu")


def tiny_cfg(**kw: object) -> GANConfig:
    base = {"bars": 1, "lowest_pitch": 48, "n_pitches": 36, "channels": 4, "up_layers": 2}
    return GANConfig.from_dict({**base, **kw})


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """12 synthetic pieces of 60 notes on an 8th/quarter grid at 120 qpm, pitches 48..83."""
    # seconds = qn / 2
    return synthetic_dataset(
        tmp_path_factory.mktemp("gan"),
        steps=[0.25, 0.5],
        durations=[0.25, 0.5, 1.0],
        offset=0.25,
        velocity=False,
        n_pieces=N_PIECES,
    )


# ------------------------------------------------------------------------------------------------ model
@pytest.mark.parametrize("arch", ["tutorial", "octave"])
@pytest.mark.parametrize("onsets", [True, False])
def test_shapes(arch, onsets):
    cfg = tiny_cfg(arch=arch, onsets=onsets, latent=8)
    model = PianoRollGAN(cfg)
    c = 2 if onsets else 1
    assert cfg.roll_shape == (16, 36, c)
    z = model.noise(3, "cpu")
    assert z.shape == (3, 8)
    rolls = model(z)
    assert rolls.shape == (3, 16, 36, c) and rolls.min() >= 0 and rolls.max() <= 1
    assert model.discriminate(rolls).shape == (3,)
    # the default preset's full-size roll: 4 bars x 84 pitches
    full = PianoRollGAN(GANConfig(arch=arch, channels=4))
    assert full(full.noise(2, "cpu")).shape == (2, 64, 84, 2)


def test_nearest_upsampling_repeats_steps_before_convolving():
    cfg = tiny_cfg(upsample="nearest", latent=8)
    model = PianoRollGAN(cfg)
    assert model(model.noise(3, "cpu")).shape == (3, 16, 36, 2)
    ups = [m for m in model.generator.net if isinstance(m, torch.nn.Upsample)]
    assert len(ups) == cfg.up_layers and not any(isinstance(m, torch.nn.ConvTranspose2d) for m in model.generator.net)
    # each step repeated twice along time, pitch untouched
    x = torch.arange(6.0).view(1, 1, 3, 2)
    assert torch.equal(ups[0](x)[0, 0], torch.tensor([[0.0, 1], [0, 1], [2, 3], [2, 3], [4, 5], [4, 5]]))
    with pytest.raises(ConfigError, match="upsample must be one of transposed, nearest"):
        GANConfig(upsample="bilinear")


def test_output_bias_starts_the_generator_sparse():
    torch.manual_seed(0)
    sparse = PianoRollGAN(tiny_cfg())
    assert torch.equal(sparse.generator.pitch.bias, torch.full((2,), -3.0))
    assert sparse(sparse.noise(8, "cpu")).mean() < 0.15  # sigmoid(-3) = 0.047, plus the layers' spread
    plain = PianoRollGAN(tiny_cfg(output_bias=None))
    assert plain.generator.pitch.bias is None
    assert 0.35 < plain(plain.noise(8, "cpu")).mean() < 0.65
    paper = PianoRollGAN(tiny_cfg(arch="tutorial", output_bias=None))
    assert paper.generator.net[-1].bias is None  # as the tutorial's generator


def test_config_errors():
    with pytest.raises(ConfigError, match="arch must be one of"):
        GANConfig(arch="mlp")
    with pytest.raises(ConfigError, match="loss must be one of"):
        GANConfig(loss="hinge")
    with pytest.raises(ConfigError, match="whole octaves"):
        GANConfig.from_dict({"n_pitches": 88, "lowest_pitch": 21})
    with pytest.raises(ConfigError, match="cannot be halved"):
        GANConfig.from_dict({"bars": 1, "up_layers": 5})
    with pytest.raises(ConfigError, match="divisible by 4"):
        GANConfig(arch="tutorial", roll=PianoRollConfig(n_pitches=30))
    with pytest.raises(ConfigError, match="leave MIDI"):
        GANConfig.from_dict({"lowest_pitch": 60})
    with pytest.raises(ConfigError, match="unknown config keys"):
        GANConfig.from_dict({"latent": 8, "hidden": 3})
    assert GANConfig.from_dict(GANConfig(latent=7).to_dict()) == GANConfig(latent=7)
    # the piano roll is a nested config: given flat or nested, written nested, listed flat
    flat = GANConfig.from_dict({"latent": 7, "bars": 2, "n_pitches": 36})
    assert flat == GANConfig.from_dict({"latent": 7, "roll": {"bars": 2, "n_pitches": 36}})
    assert flat.roll == PianoRollConfig(bars=2, n_pitches=36) and flat.to_dict()["roll"]["bars"] == 2
    assert GANConfig.from_dict(flat.to_dict()) == flat
    assert flat.settings()["n_pitches"] == 36 and flat.settings()["latent"] == 7 and "roll" not in flat.settings()


def test_presets():
    model_cfg, train_cfg = build_configs("gan", "paper")
    # TensorFlow's DCGAN tutorial values (assumed for the paper) and the paper's 1000 iterations
    assert (model_cfg.latent, model_cfg.shuffle_buffer, model_cfg.arch, model_cfg.loss) == (
        100,
        60000,
        "tutorial",
        "ns",
    )
    assert (train_cfg.batch_size, train_cfg.lr, train_cfg.max_steps) == (256, 1e-4, 1000)
    assert model_cfg.roll_shape == (64, 84, 2)
    model_cfg, train_cfg = build_configs("gan", "default", {"latent": "64", "train.lr": "0.002"})
    assert (model_cfg.latent, model_cfg.loss, train_cfg.lr) == (64, "wgan-gp", 0.002)
    assert GANConfig().latent == 128
    # MuseGAN's grid: 96 steps a bar, frames only, the default networks with three more time doublings
    model_cfg, train_cfg = build_configs("gan", "musegan")
    assert model_cfg.roll_shape == (384, 84, 1) and model_cfg.roll.steps_per_bar == 96
    assert (model_cfg.arch, model_cfg.loss, model_cfg.up_layers, model_cfg.upsample, train_cfg.batch_size) == (
        "octave",
        "wgan-gp",
        7,
        "nearest",
        64,
    )
    full = PianoRollGAN(GANConfig.from_dict({**build_configs("gan", "musegan")[0].to_dict(), "channels": 2}))
    assert full(full.noise(2, "cpu")).shape == (2, 384, 84, 1)
    assert full.discriminate(full(full.noise(2, "cpu"))).shape == (2,)
    with pytest.raises(ConfigError, match="unknown preset 'musegan' for rnn; choose one of paper, default"):
        build_configs("rnn", "musegan")
    # on the command line each model's presets are its own: an unknown one is a usage error
    from tunesmith.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["train", "rnn", "--data", "d", "--out", "o", "--preset", "musegan"])
    assert exit_info.value.code == 2


def test_musegan_grid_trains_and_writes_notes_on_24ths(data, tmp_path):
    """The musegan preset end to end on a tiny roll: notes come out on the 24-steps-per-quarter grid."""
    run = tmp_path / "run"
    tiny = {**TINY, **TINY_LOGS, "up_layers": "3"}  # 1 bar = 96 steps: three halvings to 12
    summary = train("gan", data, run, preset="musegan", overrides={**tiny, "max_steps": "2"}, progress=False)
    assert summary["step"] == 2
    loaded, _, model = load_run(run)
    assert loaded.config["model"]["roll"]["steps_per_quarter"] == 24 and model.cfg.roll_shape == (96, 36, 1)
    paths = generate(run, tmp_path / "gen", n=2, length=2, seed=1, options={"threshold": 0.3})
    notes = [read_midi(p) for p in paths]
    assert sum(map(len, notes)) > 0
    for n in notes:
        assert np.allclose(n.start_qn * 24, np.round(n.start_qn * 24)) and n.end_qn.max() <= 8 + 1e-9


# ------------------------------------------------------------------------------------------------ losses
def test_standard_losses_by_hand():
    real, fake = torch.tensor([0.0, math.log(3.0)]), torch.tensor([0.0, -math.log(3.0)])
    # -log sigmoid(0) = log 2, -log sigmoid(log 3) = log(4/3); -log(1 - sigmoid(f)) = -log sigmoid(-f)
    expected = (math.log(2) + math.log(4 / 3)) / 2 + (math.log(2) + math.log(4 / 3)) / 2
    assert ns_d_loss(real, fake).item() == pytest.approx(expected, rel=1e-6)
    # non-saturating: -log sigmoid(f): log 2 and log 4
    assert ns_g_loss(fake).item() == pytest.approx((math.log(2) + math.log(4)) / 2, rel=1e-6)
    # stable at large logits where log(sigmoid) would give -inf
    assert ns_g_loss(torch.tensor([-200.0])).item() == pytest.approx(200.0)
    assert wgan_d_loss(torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0])).item() == pytest.approx(-0.5 - 2.0)
    assert wgan_g_loss(torch.tensor([-1.0, 0.0])).item() == pytest.approx(0.5)


def test_gradient_penalty_of_a_linear_critic():
    """D(x) = w . x + b has gradient w everywhere: the penalty is (||w|| - 1)^2 whatever the points."""
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 1))
    with torch.no_grad():
        critic[1].weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0, 0.0, 0.0]]))
    real, fake = torch.rand(5, 2, 3), torch.rand(5, 2, 3)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx((5.0 - 1.0) ** 2)


def test_gradient_penalty_against_autograd_per_sample():
    torch.manual_seed(0)
    model = PianoRollGAN(tiny_cfg(channels=2)).eval()
    real = (torch.rand(3, 16, 36, 2) > 0.8).float()
    fake = torch.rand(3, 16, 36, 2)
    eps = torch.tensor([0.0, 0.3, 1.0])
    gp = gradient_penalty(model.discriminate, real, fake, eps)
    # written out: one sample at a time, grad of D at eps real + (1 - eps) fake, then (||grad|| - 1)^2
    terms = []
    for i in range(3):
        x = (eps[i] * real[i : i + 1] + (1 - eps[i]) * fake[i : i + 1]).requires_grad_(True)
        (g,) = torch.autograd.grad(model.discriminate(x).sum(), x)
        terms.append((g.flatten().norm() - 1) ** 2)
    assert gp.item() == pytest.approx(torch.stack(terms).mean().item(), rel=1e-5)
    # it trains the critic: the penalty has a gradient with respect to the critic's weights
    weight = model.discriminator.out.weight
    (dw,) = torch.autograd.grad(gp, weight)
    assert dw.abs().sum() > 0
    # and the model's loss is W + lambda * GP with the same mixing weights
    loss, parts = PianoRollGAN.d_loss(model, real, fake, eps)
    w = wgan_d_loss(model.discriminate(real), model.discriminate(fake))
    assert loss.item() == pytest.approx((w + 10 * gp).item(), rel=1e-5)
    assert parts["wasserstein"].item() == pytest.approx(-w.item(), rel=1e-5)


def test_standard_model_losses_match_the_functions():
    torch.manual_seed(1)
    model = PianoRollGAN(tiny_cfg(loss="ns")).eval()
    real, fake = (torch.rand(4, 16, 36, 2) > 0.9).float(), torch.rand(4, 16, 36, 2)
    loss, parts = model.d_loss(real, fake)
    r, f = model.discriminate(real), model.discriminate(fake)
    assert loss.item() == pytest.approx(ns_d_loss(r, f).item(), rel=1e-6)
    assert parts["d_real"].item() == pytest.approx(torch.sigmoid(r).mean().item(), rel=1e-6)
    assert model.g_loss(fake).item() == pytest.approx(ns_g_loss(f).item(), rel=1e-6)


def test_binarized_generator_output_passes_gradients_straight_through():
    torch.manual_seed(2)
    model = PianoRollGAN(tiny_cfg(binarize=True)).eval()
    fake = torch.rand(2, 16, 36, 2, requires_grad=True)
    seen = model.critic_input(fake)
    assert set(seen.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(seen, (fake >= 0.5).float())
    model.g_loss(fake).backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0


# ------------------------------------------------------------------------------------------------ data order
def test_buffered_permutation():
    rng = np.random.default_rng
    for n, buffer in [(50, 7), (50, 1), (10, 10), (10, 100), (1, 1)]:
        order = buffered_permutation(n, buffer, rng(3))
        assert sorted(order.tolist()) == list(range(n))
        # item i enters the buffer only after i - buffer items have left it
        pos = np.argsort(order)
        assert np.all(pos >= np.arange(n) - buffer + 1)
    assert buffered_permutation(6, 1, rng(0)).tolist() == list(range(6))  # a buffer of one does not shuffle
    assert np.array_equal(buffered_permutation(30, None, rng(5)), rng(5).permutation(30))
    assert np.array_equal(buffered_permutation(30, 4, rng(5)), buffered_permutation(30, 4, rng(5)))
    assert not np.array_equal(buffered_permutation(30, 4, rng(5)), buffered_permutation(30, 4, rng(6)))


def test_packed_phrases_unpack_exactly():
    rng = np.random.default_rng(0)
    x = (rng.random((7, 5, 3, 3)) > 0.5).astype(np.uint8)  # 45 bits per phrase: not a whole number of bytes
    packed = pack_phrases(x)
    assert packed.shape == (7, 6)
    store = PhraseStore(packed, (5, 3, 3), torch.device("cpu"))
    assert len(store) == 7
    assert np.array_equal(store.numpy(np.arange(7)), x)
    assert np.array_equal(store.unpack(torch.tensor([4, 1])).numpy(), x[[4, 1]])


def test_roll_grid_png(tmp_path):
    rolls = np.random.default_rng(0).random((5, 16, 36, 2))
    path = save_roll_grid(rolls, tmp_path / "g" / "grid.png", 48, title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in (tmp_path / "g").iterdir()] == ["grid.png"]  # written atomically, no leftovers


# ------------------------------------------------------------------------------------------------ training
def _train(data: Path, out: Path, preset: str = "default", **overrides: str) -> dict:
    return train("gan", data, out, preset=preset, overrides={**TINY, **TINY_LOGS, **overrides}, progress=False)


def _resume(data: Path, out: Path, **overrides: str) -> dict:
    return train("gan", data, out, resume=True, overrides=overrides, progress=False)


def _state(run: Path) -> dict:
    return torch.load(run / "trainer_state.pt", map_location="cpu", weights_only=True)


def _same_weights(a: Path, b: Path) -> bool:
    sa, sb = _state(a), _state(b)
    wa, wb = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    same = sa["model"].keys() == sb["model"].keys() and all(
        torch.equal(sa["model"][k], sb["model"][k]) for k in sa["model"]
    )
    same = same and all(torch.equal(wa[k], wb[k]) for k in wa)
    for name in ("generator", "discriminator"):
        oa, ob = sa["optimizers"][name]["state"], sb["optimizers"][name]["state"]
        same = same and all(torch.equal(oa[i]["exp_avg_sq"], ob[i]["exp_avg_sq"]) for i in oa)
    return same


def _records(run: Path, kind: str = "epoch") -> list[dict]:
    lines = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("time", "train_time")} for r in lines if r["kind"] == kind]


@pytest.fixture(scope="module")
def straight(data, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("straight") / "run"
    summary = _train(data, run, epochs="2")
    n = summary["train_phrases"] // (4 * 2)  # trainer steps per epoch: batch 4 x 2 discriminator steps
    assert summary["stopped"] == "completed 2 epochs" and summary["step"] == 2 * n
    return run


def test_run_folder_metrics_and_samples(data, straight):
    config = json.loads((straight / "config.json").read_text())
    assert config["kind"] == "gan" and config["representation"] == "pianoroll"
    # every phrase of every piece of the split, one bar each
    ds, roll = Dataset.load(data), PianoRollConfig(bars=1, lowest_pitch=48, n_pitches=36)
    for split, key in (("train", "train_phrases"), ("validation", "val_phrases")):
        assert config["data"][key] == sum(len(phrases(ds[int(i)], roll)) for i in ds.indices(split)) > 0
    steps = _state(straight)["step"]
    grids = sorted(p.name for p in (straight / "samples").iterdir())
    assert grids == [f"step_{s:06d}.png" for s in range(3, steps + 1, 3)]
    epochs = _records(straight)
    assert [r["epoch"] for r in epochs] == [1, 2]
    keys = ("empty_beat_rate", "pitch_classes_per_bar", "qualified_note_rate", "polyphony_rate")
    for r in epochs:
        assert "val/loss" not in r and r["best"] is True  # select_by=last: the latest weights at every validation
        assert np.isfinite(r["val/wasserstein"]) and np.isfinite(r["train/g_loss"]) and r["train/gp"] >= 0
        for k in keys:
            assert np.isfinite(r[f"gen/{k}"]) and np.isfinite(r[f"real/{k}"])
    best = epochs[-1]
    assert epochs[0]["real/qualified_note_rate"] == epochs[1]["real/qualified_note_rate"] > 0.5
    # gen/ is the last epoch's generator (the run's weights) on the fixed noise, in inference mode
    _, _, model = load_run(straight)
    noise = torch.randn(4, model.cfg.latent, generator=torch.Generator().manual_seed(0))
    assert torch.equal(_state(straight)["extra"]["fixed_noise"], noise)
    with torch.no_grad():
        stats = phrase_statistics(model(noise).numpy(), model)
    assert {f"gen/{k}": v for k, v in stats.items()} == {k: v for k, v in best.items() if k.startswith("gen/")}
    assert not (straight / DECODING).exists()  # no calibrated decoding unless selected by statistics
    assert isinstance(model, PianoRollGAN) and model.cfg.roll.n_pitches == 36 and not model.training


def test_resume_in_the_middle_of_an_epoch_is_exact(data, straight, tmp_path):
    run = tmp_path / "run"
    s = _train(data, run, epochs="2", max_steps="4")
    assert s["step"] == 4 and s["epochs"] == 0
    s = _resume(data, run, max_steps="13")  # into the second epoch
    assert s["epochs"] == 1 and _state(run)["batch_in_epoch"] == 13 - _records(run)[0]["step"] > 0
    # the weights of the last iteration are kept (validated at the stop), not those of the last epoch's end
    assert all(torch.equal(v, _state(run)["model"][k]) for k, v in load_file(str(run / "model.safetensors")).items())
    s = _resume(data, run, max_steps="none")
    assert s["stopped"] == "completed 2 epochs"
    assert _same_weights(run, straight)
    # (the trainer averages train/ logs over the steps of the session that ends an epoch: leave them out)
    untrained = [{k: v for k, v in r.items() if not k.startswith("train/")} for r in _records(run)]
    assert untrained == [{k: v for k, v in r.items() if not k.startswith("train/")} for r in _records(straight)]
    assert sorted(p.name for p in (run / "samples").iterdir()) == sorted(
        p.name for p in (straight / "samples").iterdir()
    )


def test_resume_is_exact_with_the_standard_loss_dropout_and_a_shuffle_buffer(data, tmp_path):
    kw = {"shuffle_buffer": "10", "epochs": "2", "d_steps": "1", "batch_size": "8"}
    _train(data, tmp_path / "straight", preset="paper", **kw)
    run = tmp_path / "run"
    _train(data, run, preset="paper", **{**kw, "epochs": "1"})
    _resume(data, run, epochs="2")
    assert _same_weights(run, tmp_path / "straight")
    assert _records(run) == _records(tmp_path / "straight")
    assert {"val/d_real", "val/d_fake", "val/d_loss"} <= set(_records(run)[-1])


def test_same_seed_same_run_other_seed_other_run(data, straight, tmp_path):
    _train(data, tmp_path / "a", epochs="2", max_steps="3")
    _train(data, tmp_path / "b", epochs="2", max_steps="3")
    _train(data, tmp_path / "c", epochs="2", max_steps="3", seed="1")
    assert _same_weights(tmp_path / "a", tmp_path / "b")
    assert not _same_weights(tmp_path / "a", tmp_path / "c")
    assert (tmp_path / "a" / "samples" / "step_000003.png").read_bytes() == (
        tmp_path / "b" / "samples" / "step_000003.png"
    ).read_bytes()


def test_too_little_data(data, tmp_path):
    with pytest.raises(DatasetError, match="fewer than one iteration's 2000"):
        _train(data, tmp_path / "run", batch_size="1000")


# ------------------------------------------------------------------------------------------------ generation
def test_generate_writes_midi_of_the_asked_bars(straight, tmp_path):
    paths = generate(straight, tmp_path / "a", n=3, length=3, seed=4)
    assert [p.name for p in paths] == ["sample_00.mid", "sample_01.mid", "sample_02.mid"]
    for p in paths:
        notes = read_midi(p)
        assert len(notes) > 0
        assert notes.end_qn.max() <= 3 * 4 + 1e-9  # three 4/4 bars
        assert notes.pitch.min() >= 48 and notes.pitch.max() < 84
        # written on the 16th grid: read back, it is a piano roll again
        assert np.allclose(notes.start_qn * 4, np.round(notes.start_qn * 4))
    again = generate(straight, tmp_path / "b", n=3, length=3, seed=4)
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]
    other = generate(straight, tmp_path / "c", n=3, length=3, seed=5)
    assert [p.read_bytes() for p in paths] != [p.read_bytes() for p in other]


def _rolls(model: PianoRollGAN, run: Path | None, **opts: object) -> np.ndarray:
    """generate_rolls as the family decodes ``opts``: the options resolved to a decoding first."""
    o = get_family("gan").options(**opts)
    return generate_rolls(model, o.n, o.length, o.seed, resolve(o, run), CPU)


def test_generate_threshold_and_sampling(straight):
    run, fam, model = load_run(straight)
    assert isinstance(fam, GANFamily) and fam is get_family("gan") and isinstance(run, Run) and run.kind == "gan"

    def rolls(**own: object) -> np.ndarray:
        return _rolls(model, straight, n=2, length=2, seed=3, **own)

    probs = model(model.noise(4, "cpu", torch.Generator().manual_seed(3))).detach().numpy()
    chained = probs.reshape(2, 32, 36, 2)
    assert np.array_equal(rolls(), (chained >= 0.5).astype(np.uint8))  # two one-bar phrases per piece
    assert np.array_equal(rolls(threshold=0.2), (chained >= 0.2).astype(np.uint8))
    sampled = rolls(sample=True)
    assert np.array_equal(sampled, rolls(sample=True)) and set(np.unique(sampled)) <= {0, 1}
    assert not np.array_equal(sampled, rolls())
    # a piece's notes are its roll's: the same frames, and a note starts at each onset inside frames or where
    # frames turn on (onsets on silent cells start nothing)
    opts = fam.options(n=2, length=2, seed=3)
    assert isinstance(opts, GANOptions)
    notes = fam.generate(model, run, opts, CPU)
    cfg = PianoRollConfig(bars=1, lowest_pitch=48, n_pitches=36)
    got, want = to_pianoroll(notes[0], cfg, steps=32), rolls()[0].astype(bool)
    frame = want[..., 0]
    rise = frame & ~np.concatenate([np.zeros_like(frame[:1]), frame[:-1]])
    assert np.array_equal(got[..., 0], frame) and np.array_equal(got[..., 1], frame & (want[..., 1] | rise))
    assert phrases(notes[1], cfg).shape[1:] == (16, 36, 2)
    # the family takes the common options as well and decodes them with its defaults
    plain = fam.generate(model, run, GenerateOptions(n=2, length=2, seed=3), CPU)
    assert all(np.array_equal(a.notes, b.notes) for a, b in zip(plain, notes, strict=True))


def test_generate_from_frames_only(straight):
    """onsets=False: the frame channel alone decides, so a note is a whole run of frames (repeated notes merge)."""
    run, fam, model = load_run(straight)
    opts = {"n": 2, "length": 2, "seed": 3}
    both = _rolls(model, straight, **opts)
    assert resolve(fam.options(**opts, onsets=False), straight).onsets is False
    assert resolve(fam.options(**opts), straight).onsets is True
    frames = _rolls(model, straight, **opts, onsets=False)
    assert frames.shape == (*both.shape[:3], 1)
    assert np.array_equal(frames[..., 0], both[..., 0])
    cfg = PianoRollConfig(bars=1, lowest_pitch=48, n_pitches=36)
    pieces = fam.generate(model, run, fam.options(**opts, onsets=False), CPU)
    for notes, want in zip(pieces, frames[..., 0].astype(bool), strict=True):
        assert notes.metadata["onsets"] == "false"
        got = to_pianoroll(notes, cfg, steps=32)
        rise = want & ~np.concatenate([np.zeros_like(want[:1]), want[:-1]])
        # the same frames; a note starts only where frames turn on
        assert np.array_equal(got[..., 0], want) and np.array_equal(got[..., 1], rise)
    with_onsets = fam.generate(model, run, fam.options(**opts), CPU)
    assert sum(map(len, pieces)) <= sum(map(len, with_onsets))
    # frames only is asked for by the option ``onsets``; a decoding without onsets is still checked
    with pytest.raises(ConfigError, match="gan runs take no option frames_only; its own options are"):
        fam.options(**opts, frames_only=True)
    with pytest.raises(ConfigError, match="--hold must lie in"):
        Decoding(threshold=0.5, hold=0.7, onsets=False)
    with pytest.raises(ConfigError, match="--threshold must lie in"):
        Decoding(threshold=1.5, hold=0.5, onsets=False)


def test_hysteresis_by_hand():
    from tunesmith.families.gan.sample import hysteresis

    p = torch.tensor([0.2, 0.6, 0.4, 0.25, 0.7, 0.1, 0.35, 0.55, 0.5]).view(1, -1, 1)
    # starts at >= 0.5, goes on while >= 0.3: 0.35 after a silent step starts nothing
    assert hysteresis(p, 0.5, 0.3).view(-1).tolist() == [0, 1, 1, 0, 1, 0, 0, 1, 1]
    assert torch.equal(hysteresis(p, 0.5, 0.5), p >= 0.5)
    other = torch.tensor([0.1, 0.9, 0.2, 0.35, 0.6, 0.29, 0.4, 0.5, 0.0])
    two = torch.stack([p[0, :, 0], other], dim=-1).unsqueeze(0)  # pitches are decoded independently
    assert hysteresis(two, 0.5, 0.3)[0].T.int().tolist() == [[0, 1, 1, 0, 1, 0, 0, 1, 1], [0, 1, 0, 0, 1, 0, 0, 1, 0]]


def test_generate_with_a_hold_threshold(straight):
    """--hold: frames by hysteresis along the whole chained piece (a note may go on into the next phrase);
    onsets as before."""
    from tunesmith.families.gan.sample import hysteresis

    _, fam, model = load_run(straight)
    probs = model(model.noise(4, "cpu", torch.Generator().manual_seed(3))).detach()
    chained = probs.reshape(2, 32, 36, 2)
    used = resolve(fam.options(n=2, length=2, seed=3, threshold=0.6, hold=0.2), straight)
    assert used.hold == 0.2 and used.threshold == 0.6
    got = generate_rolls(model, 2, 2, 3, used, CPU)
    assert np.array_equal(got, _rolls(model, straight, n=2, length=2, seed=3, threshold=0.6, hold=0.2))
    assert np.array_equal(got[..., 0], hysteresis(chained[..., 0], 0.6, 0.2).numpy())
    assert np.array_equal(got[..., 1], (chained[..., 1] >= 0.6).numpy())
    plain_used = resolve(fam.options(n=2, length=2, seed=3, threshold=0.6), straight)
    plain = generate_rolls(model, 2, 2, 3, plain_used, CPU)
    assert plain_used.hold == 0.6 and (got >= plain).all()  # hysteresis only adds frames
    for own, match in (
        ({"threshold": 0.5, "hold": 0.7}, "--hold must lie in"),
        ({"sample": True, "hold": 0.2}, "does not apply with --sample"),
    ):
        with pytest.raises(ConfigError, match=match):
            resolve(fam.options(n=1, length=1, **own), straight)
        with pytest.raises(ConfigError, match=match):
            fam.generate(model, Run(straight, {}), fam.options(n=1, length=1, **own), CPU)


@pytest.mark.parametrize(
    ("opts", "match"),
    [
        ({"primer": "x.mid"}, "cannot continue a --primer"),
        ({"top_k": 5}, "no --temperature"),
        ({"temperature": 0.5}, "no --temperature"),
        ({"threshold": 0.0}, "--threshold must lie"),
        ({"beam": 3}, "gan runs take no option beam"),
    ],
)
def test_generate_errors(straight, tmp_path, opts, match):
    run, fam, model = load_run(straight)
    with pytest.raises(ConfigError, match=match):
        fam.generate(model, run, fam.options(**opts), CPU)
    names = {f.name for f in dataclasses.fields(GenerateOptions)}
    common = {k: v for k, v in opts.items() if k in names}
    if common == opts:  # the common options given as the base class are checked the same
        with pytest.raises(ConfigError, match=match):
            fam.generate(model, run, GenerateOptions(**common), CPU)
    # and so through the generate job, which passes the family's own options by name
    own = {k: v for k, v in opts.items() if k not in names}
    with pytest.raises(ConfigError, match=match):
        generate(straight, tmp_path / "gen", n=1, length=1, options=own, **common)
    assert not (tmp_path / "gen").exists()


def test_cli_train_and_generate(data, tmp_path, capsys):
    from tunesmith.cli import main

    run, out = tmp_path / "run", tmp_path / "gen"
    sets = [f"{k}={v}" for k, v in {**TINY, **TINY_LOGS}.items() if k != "device"]
    argv = ["train", "gan", "--data", str(data), "--out", str(run), "--max-steps", "2", "--device", "cpu", "-q"]
    assert main(argv + [x for s in sets for x in ("--set", s)]) == 0
    assert "reached max_steps=2" in capsys.readouterr().out
    assert main(["generate", str(run), "--out", str(out), "-n", "2", "--length", "2"]) == 0
    assert sorted(p.name for p in out.glob("*.mid")) == ["sample_00.mid", "sample_01.mid"]
    assert all(read_midi(p).end_qn.max() <= 8 for p in out.glob("*.mid"))


def test_cli_generate_frames_only(straight, tmp_path):
    from tunesmith.cli import main

    out = tmp_path / "gen"
    assert main(["generate", str(straight), "--out", str(out), "-n", "2", "--length", "1", "--frames-only"]) == 0
    meta = json.loads((out / "samples.json").read_text())
    own = {k: meta[k] for k in ("threshold", "hold", "sample", "onsets")}
    assert own == {"threshold": None, "hold": None, "sample": False, "onsets": False} and len(meta["files"]) == 2


# ------------------------------------------------------------------------------------------------ quality check
def test_roll_quality_pools_statistics_and_chooses_the_threshold_on_validation(data, straight):
    from tunesmith.evaluation.metrics import musegan_statistics
    from tunesmith.families.gan.quality import TARGET_BAND, TARGET_QN, real_phrases, roll_quality

    _, _, model = load_run(straight)
    ds = Dataset.load(data)
    q = roll_quality(model, ds, n=6, real=10, thresholds=(0.2, 0.5, 0.9), seed=2)
    roll = model.cfg.roll
    assert (TARGET_BAND, TARGET_QN) == (0.25, 0.8)

    def pooled(rolls: np.ndarray) -> dict[str, float]:
        notes = from_pianoroll(rolls.reshape(-1, *rolls.shape[2:]), roll)
        return {"cells_on": float(rolls[..., 0].mean()), **musegan_statistics(notes, 4)}

    # the real side: 10 training phrases drawn with the seed, in dataset order, played one after another
    every = np.concatenate([phrases(ds[int(i)], roll) for i in ds.indices("train")])
    pick = np.sort(np.random.default_rng(2).choice(len(every), size=10, replace=False))
    assert np.array_equal(real_phrases(ds, "train", model.cfg, 10, seed=2), every[pick])
    assert q["real"] == pytest.approx(pooled(every[pick]))
    # each row: the generated phrases' statistics, the 25% band against the training phrases, the QN bar
    for row in q["rows"]:
        own = {"threshold": row["threshold"], "sample": False, "onsets": True}
        rolls = _rolls(model, None, n=6, length=1, seed=2, **own)
        assert row["hold"] == row["threshold"] and row["stats"] == pytest.approx(pooled(rolls))
        for k, ok in row["within"].items():
            assert ok == (abs(row["stats"][k] - q["real"][k]) <= 0.25 * q["real"][k])
        assert row["met"] == (all(row["within"].values()) and row["stats"]["qualified_note_rate"] >= TARGET_QN)
    # the threshold is chosen on validation phrases: the smallest largest relative difference
    val = q["validation"]

    def rel(got: float, ref: float) -> float:  # a reference of 0: no difference only if the value is 0 too
        return abs(got - ref) / ref if ref else (0.0 if got == 0 else math.inf)

    worst = [max(rel(r["stats"][k], val[k]) for k in r["within"]) for r in q["rows"]]
    assert [r["val_worst"] for r in q["rows"]] == pytest.approx(worst)
    for r in q["rows"]:
        assert r["val_met"] == (r["val_worst"] <= 0.25 and r["stats"]["qualified_note_rate"] >= TARGET_QN)
    pool = [i for i, r in enumerate(q["rows"]) if r["val_met"]] or range(len(q["rows"]))
    assert q["chosen"] == min(pool, key=lambda i: q["rows"][i]["val_worst"])
    pairs = roll_quality(model, ds, n=6, real=10, thresholds=(0.3, 0.8), holds=(None, 0.1, 0.5), seed=2)
    assert [(r["threshold"], r["hold"]) for r in pairs["rows"]] == [
        (0.3, 0.3),
        (0.3, 0.1),
        (0.8, 0.8),
        (0.8, 0.1),
        (0.8, 0.5),
    ]
    rolls = generate_rolls(model, 6, 1, 2, Decoding(threshold=0.8, hold=0.1, sample=False, onsets=True), CPU)
    assert pairs["rows"][3]["stats"] == pytest.approx(pooled(rolls))
    single = roll_quality(model, ds, n=6, real=10, seed=2)
    assert single["validation"] is None and single["chosen"] == 0 and single["rows"][0]["threshold"] == 0.5
    with pytest.raises(ConfigError, match="must be given and positive"):
        roll_quality(model, ds, n=0)


def test_rollstats_save_calibrates_generation(data, straight, tmp_path, capsys):
    import shutil

    from tunesmith.cli import main

    run = tmp_path / "run"
    shutil.copytree(straight, run)
    argv = ["rollstats", str(run), "--data", str(data), "-n", "4", "--real", "8", "--threshold", "0.7", "--hold", "0.2"]
    assert main(argv + ["--save"]) == 0
    assert "decoding.json: generate and evaluate now decode" in capsys.readouterr().out
    saved = json.loads((run / DECODING).read_text())
    assert (saved["threshold"], saved["hold"], saved["onsets"]) == (0.7, 0.2, True)
    # generate uses it when asked for no decoding, and what it is asked for otherwise
    calibrated = generate(run, tmp_path / "a", n=2, length=2, seed=3)
    want = generate(straight, tmp_path / "b", n=2, length=2, seed=3, options={"threshold": 0.7, "hold": 0.2})
    assert [p.read_bytes() for p in calibrated] == [p.read_bytes() for p in want]
    asked = generate(run, tmp_path / "c", n=2, length=2, seed=3, options={"threshold": 0.5})
    plain = generate(straight, tmp_path / "d", n=2, length=2, seed=3, options={"threshold": 0.5})
    assert [p.read_bytes() for p in asked] == [p.read_bytes() for p in plain]
    (run / DECODING).write_text("{}")
    with pytest.raises(ConfigError, match="decoding.json: not a decoding written by"):
        generate(run, tmp_path / "e", n=1, length=1)
    assert main(["rollstats", str(run), "--data", str(data), "-n", "2", "--real", "4", "--sample", "--save"]) == 1
    assert "--save keeps a threshold and a hold" in capsys.readouterr().err


def test_choose_row_prefers_rows_meeting_the_target_on_validation():
    from tunesmith.families.gan.quality import choose_row

    rows = [
        {"val_met": False, "val_worst": 0.05},  # closest, but its QN is below the bar
        {"val_met": True, "val_worst": 0.20},
        {"val_met": True, "val_worst": 0.12},
    ]
    assert choose_row(rows) == 2
    assert choose_row([{**r, "val_met": False} for r in rows]) == 0  # none meets it: the closest


def test_cli_rollstats(data, straight, tmp_path, capsys):
    from tunesmith.cli import main

    out = tmp_path / "q.json"
    argv = ["rollstats", str(straight), "--data", str(data), "-n", "4", "--real", "8", "--json", str(out)]
    assert main(argv + ["--threshold", "0.3", "0.6"]) == 0
    text = capsys.readouterr().out
    q = json.loads(out.read_text())
    assert "real (train)" in text and "threshold 0.3" in text and "threshold 0.6" in text
    assert "chosen on the validation phrases" in text and len(q["rows"]) == 2
    assert (
        "target (all four within 25% of real, QN >= 0.8): " + ("met" if q["rows"][q["chosen"]]["met"] else "not met")
    ) in text
    row = q["rows"][q["chosen"]]
    assert (f"QN {row['stats']['qualified_note_rate']:.3f} < 0.8" in text) == (not row["qn_target"])
    assert main(["rollstats", str(straight), "--data", str(data), "--threshold", "1.5"]) == 1
    assert "--threshold and --hold must lie in (0, 1]" in capsys.readouterr().err
    assert main(["rollstats", str(straight), "--data", str(data), "--sample", "--hold", "0.2"]) == 1
    assert "does not apply with --sample" in capsys.readouterr().err
