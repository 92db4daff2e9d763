from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from tunesmith.dataset import Dataset
from tunesmith.errors import ConfigError, DatasetError
from tunesmith.families.crnngan.model import (
    CRNNGAN,
    KINDS,
    PRESETS,
    CRNNGANConfig,
    Discriminator,
    Generator,
    d_loss,
    decision,
    feature_matching_loss,
    g_adversarial_loss,
    l2_penalty,
    log_decision,
    log_one_minus_decision,
    moment_distance,
    next_event_loss,
)
from tunesmith.families.crnngan.task import CRNNGANTask
from tunesmith.io import read_midi, write_midi
from tunesmith.jobs.generate import generate
from tunesmith.jobs.runs import load_run
from tunesmith.jobs.train import train
from tunesmith.notes import Notes
from tunesmith.representations.tones import ToneConfig, ToneNormalizer, to_tones
from tunesmith.training.trainer import TrainConfig, epoch_rng

from .conftest import hand_midi, synthetic_dataset

TINY = CRNNGANConfig(hidden=8, d_hidden=6, max_length=8, stats_samples=2)


# ------------------------------------------------------------------------------------------------ the model
@pytest.mark.parametrize(("k", "bidirectional"), [(1, True), (3, True), (1, False)])
def test_shapes(k, bidirectional):
    torch.manual_seed(0)
    cfg = CRNNGANConfig(tones_per_step=k, hidden=8, d_hidden=6, d_bidirectional=bidirectional)
    f = 3 * k + 1
    assert cfg.n_features == f and cfg.z_dim == f and CRNNGANConfig(noise_dim=7).z_dim == 7
    model = CRNNGAN(cfg)
    z = model.noise(3, 5)
    assert z.shape == (3, 5, f) and float(z.min()) >= 0 and float(z.max()) < 1
    y = model.g(z)
    assert y.shape == (3, 5, f) and y.requires_grad
    tf, (h, c) = model.g.teacher_forced(z, model.g.shifted(y.detach()))
    assert tf.shape == (3, 5, f) and h.shape == c.shape == (2, 3, 8)
    logits, features = model.d(y)
    assert logits.shape == (3, 5) and features.shape == (3, 5, 12 if bidirectional else 6)
    assert model.generate(z).shape == (3, 5, f)
    assert CRNNGAN(CRNNGANConfig(adversarial=False, hidden=8)).d is None


def _reference_free_run(g: Generator, z: torch.Tensor) -> torch.Tensor:
    """G written out step by step with autograd: input [z_t, y_{t-1}], y_{-1} = G's output for the zero state."""
    lstm, H, L = g.lstm, g.cfg.hidden, g.cfg.layers
    B, T, _ = z.shape
    h = [z.new_zeros(B, H) for _ in range(L)]
    c = [z.new_zeros(B, H) for _ in range(L)]
    y = g.out(h[-1])
    ys = []
    for t in range(T):
        x = torch.cat([z[:, t], y], dim=-1)
        for k in range(L):
            gates = F_linear(x, lstm, "ih", k) + F_linear(h[k], lstm, "hh", k)
            i, f, gg, o = gates.chunk(4, dim=1)
            c[k] = torch.sigmoid(f) * c[k] + torch.sigmoid(i) * torch.tanh(gg)
            h[k] = torch.sigmoid(o) * torch.tanh(c[k])
            x = h[k]
        y = g.out(h[-1])
        ys.append(y)
    return torch.stack(ys, dim=1)


def F_linear(x: torch.Tensor, lstm: torch.nn.LSTM, kind: str, k: int) -> torch.Tensor:
    return torch.nn.functional.linear(x, getattr(lstm, f"weight_{kind}_l{k}"), getattr(lstm, f"bias_{kind}_l{k}"))


@pytest.mark.parametrize(
    ("layers", "dtype"), [(1, torch.float64), (2, torch.float64), (3, torch.float64), (2, torch.float32)]
)
def test_unrolled_generator_matches_a_step_by_step_reference(layers, dtype):
    """The hand-written forward and backward passes give the reference's outputs and gradients (float32 goes
    through oneDNN where available)."""
    torch.manual_seed(layers)
    g = Generator(CRNNGANConfig(hidden=8, layers=layers, noise_dim=3)).to(dtype)
    z = torch.rand(4, 6, 3, dtype=dtype)
    w = torch.randn(4, 6, 4, dtype=dtype)
    (g(z) * w).sum().backward()
    ours = {n: p.grad.clone() for n, p in g.named_parameters()}
    y = g(z).detach()
    g.zero_grad()
    ref = _reference_free_run(g, z)
    (ref * w).sum().backward()
    tol = 1e-12 if dtype == torch.float64 else 2e-5
    assert torch.allclose(y, ref.detach(), rtol=0, atol=tol)
    for n, p in g.named_parameters():
        assert torch.allclose(ours[n], p.grad, rtol=0, atol=tol * 10), n
    # the free-running output is what teacher forcing gives when fed G's own outputs
    with torch.no_grad():
        tf, _ = g.teacher_forced(z, g.shifted(y))
        assert torch.allclose(tf, y, rtol=0, atol=tol)
        assert torch.equal(g.run(z)[0], y)


def test_gradcheck_of_the_unrolled_pass():
    torch.manual_seed(0)
    g = Generator(CRNNGANConfig(hidden=3, layers=2, noise_dim=2)).double()
    z = torch.rand(2, 4, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: g(z), (z,))


def test_run_continues_from_a_state_and_a_previous_event():
    torch.manual_seed(0)
    model = CRNNGAN(CRNNGANConfig(hidden=8, layers=2))
    z = model.noise(2, 9)
    full, _ = model.g.run(z)
    first, state = model.g.run(z[:, :4])
    rest, _ = model.g.run(z[:, 4:], state, first[:, -1])
    assert torch.allclose(torch.cat([first, rest], 1), full, atol=1e-6)
    # a primer: G reads it teacher-forced, then continues after its last event
    primer = torch.randn(2, 3, 4)
    pz = model.noise(2, 3)
    cont = model.generate(z, primer, pz)
    _, (h, c) = model.g.teacher_forced(pz, model.g.shifted(primer))
    expect, _ = model.g.run(z, (list(h.unbind(0)), list(c.unbind(0))), primer[:, -1])
    assert torch.allclose(cont, expect, atol=1e-6) and not torch.allclose(cont, full)


def test_discriminator_decision_is_the_mean_over_steps():
    torch.manual_seed(0)
    d = Discriminator(CRNNGANConfig(d_hidden=5))
    x = torch.randn(2, 7, 4)
    logits, features = d(x)
    per_step = torch.sigmoid(d.decision(features).squeeze(-1))
    assert torch.allclose(decision(logits), per_step.mean(1))
    assert torch.allclose(log_decision(logits), per_step.mean(1).log(), atol=1e-6)
    assert torch.allclose(log_one_minus_decision(logits), (1 - per_step.mean(1)).log(), atol=1e-6)


# ------------------------------------------------------------------------------------------------ losses by hand
def test_feature_matching_by_hand():
    real = torch.tensor([[[1.0, 2.0], [0.0, 0.0]], [[3.0, 4.0], [2.0, 2.0]]], requires_grad=True)  # (B=2, T=2, C=2)
    fake = torch.tensor([[[0.0, 0.0], [1.0, 1.0]], [[2.0, 2.0], [1.0, 3.0]]], requires_grad=True)
    # batch means: real [[2, 3], [1, 1]], fake [[1, 1], [1, 2]]; squared differences 1, 4, 0, 1 -> mean 1.5
    loss = feature_matching_loss(real, fake)
    assert float(loss.detach()) == pytest.approx(1.5)
    loss.backward()
    assert real.grad is None  # the real side is a target
    # d/dfake_{b,t,c} = -2 (mean_real - mean_fake)_{t,c} / (B * T * C)
    expect = -2 * torch.tensor([[1.0, 2.0], [0.0, -1.0]]) / 8
    assert torch.allclose(fake.grad, expect.expand(2, 2, 2))


def test_gan_losses_by_hand():
    # D's per-step probabilities: real (0.9, 0.7) -> D = 0.8; fake (0.2, 0.4) -> D = 0.3
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    real = torch.tensor([[logit(0.9), logit(0.7)]])
    fake = torch.tensor([[logit(0.2), logit(0.4)]])
    assert float(decision(real)) == pytest.approx(0.8) and float(decision(fake)) == pytest.approx(0.3)
    assert float(d_loss(real, fake)) == pytest.approx(-math.log(0.8) - math.log(0.7), rel=1e-6)
    assert float(g_adversarial_loss(fake)) == pytest.approx(-math.log(0.3), rel=1e-6)
    assert float(g_adversarial_loss(fake, "minimax")) == pytest.approx(math.log(0.7), rel=1e-6)
    with pytest.raises(ConfigError, match="gan_loss"):
        g_adversarial_loss(fake, "wasserstein")
    # stable where a naive log(mean(sigmoid)) underflows
    assert math.isfinite(float(d_loss(torch.full((1, 3), -200.0), torch.full((1, 3), 200.0))))


def test_l2_moments_and_next_event_loss_by_hand():
    lin = torch.nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, -2.0], [0.5, 0.0]]))
        lin.bias.fill_(10.0)  # biases are not penalised
    assert float(l2_penalty(lin).detach()) == pytest.approx(1 + 4 + 0.25)
    fake = torch.tensor([[[0.0, 1.0], [2.0, 1.0]]])  # feature means (1, 1), stds (1, 0)
    real = torch.tensor([[[1.0, 0.0], [1.0, 2.0]]])  # means (1, 1), stds (0, 1)
    assert float(moment_distance(fake, real)) == pytest.approx((0 + 1 + 0 + 1) / 2)
    torch.manual_seed(0)
    g = Generator(CRNNGANConfig(hidden=4))
    x, z = torch.randn(2, 5, 4), torch.rand(2, 5, 4)
    prev = torch.cat([g.out.bias.expand(2, 1, 4), x[:, :-1]], 1)
    with torch.no_grad():
        pred, _ = g.lstm(torch.cat([z, prev], -1))
        assert float(next_event_loss(g, x, z)) == pytest.approx(float(((g.out(pred) - x) ** 2).mean()), rel=1e-6)


# ------------------------------------------------------------------------------------------------ config
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gan_loss": "hinge"}, "gan_loss"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"hidden": 0}, "hidden must be positive"),
        ({"max_length": -1}, "max_length"),
        ({"noise_dim": 0}, "noise_dim"),
        ({"pretrain_epochs": -1}, "pretrain_epochs"),
        ({"freeze_ratio": 0.0}, "freeze_ratio"),
        ({"freeze_ratio": 1.5}, "freeze_ratio"),
        ({"l2": -1.0}, "l2"),
        ({"curriculum_every": 0}, "curriculum_every"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        CRNNGANConfig(**kwargs)


def test_config_presets_and_curriculum():
    paper = CRNNGANConfig(**PRESETS["paper"])
    assert (paper.hidden, paper.layers, paper.d_hidden, paper.d_layers, paper.d_bidirectional) == (350, 2, 350, 2, True)
    assert (paper.pretrain_epochs, paper.freeze_ratio, paper.max_length, paper.feature_matching) == (6, 0.7, 100, True)
    assert CRNNGANConfig(**KINDS["crnngan3"]).n_features == 10 and not CRNNGANConfig(**KINDS["baseline"]).adversarial
    assert [paper.sequence_length(e) for e in (0, 1, 5, 9, 10, 50)] == [10, 20, 60, 100, 100, 100]
    slow = CRNNGANConfig(curriculum_start=5, curriculum_step=3, curriculum_every=2, max_length=12)
    assert [slow.sequence_length(e) for e in range(8)] == [5, 5, 8, 8, 11, 11, 12, 12]
    assert CRNNGANConfig(curriculum=False).sequence_length(0) == 100
    assert [paper.is_adversarial_epoch(e) for e in (5, 6)] == [False, True]
    assert not CRNNGANConfig(adversarial=False).is_adversarial_epoch(50)
    assert CRNNGANConfig.from_dict(paper.to_dict()) == paper
    with pytest.raises(ConfigError, match="unknown config keys"):
        CRNNGANConfig.from_dict({"colour": 1})


# ------------------------------------------------------------------------------------------------ the task
def _pieces(n: int = 6, steps: int = 20, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        start = np.cumsum(rng.choice([0, 96, 192, 384], steps))
        notes = Notes.from_arrays(
            rng.integers(48, 84, steps),
            start_qn=start / 384,
            end_qn=(start + rng.choice([96, 192], steps)) / 384,
            velocity=rng.integers(40, 110, steps),
        )
        out.append(to_tones(notes))
    return out


def _task(cfg: CRNNGANConfig = TINY, **train: object) -> CRNNGANTask:
    torch.manual_seed(0)
    pieces = _pieces()
    tc = TrainConfig(**{"batch_size": 2, "lr": 0.1, "seed": 0, **train})
    return CRNNGANTask(CRNNGAN(cfg), pieces[:4], pieces[4:], tc, torch.device("cpu"), ToneNormalizer.fit(pieces[:4]))


def test_batches_follow_the_curriculum_and_resume_mid_epoch():
    cfg = CRNNGANConfig(**{**TINY.to_dict(), "curriculum_start": 4, "curriculum_step": 2, "pretrain_epochs": 1})
    task = _task(cfg)
    for epoch, length, adversarial in ((0, 4, False), (1, 6, True), (2, 8, True), (5, 8, True)):
        batches = list(task.batches(epoch, epoch_rng(0, epoch), 0))
        assert len(batches) == task.num_batches(epoch) == 4 // 2
        assert all(b.x.shape == (2, length, 4) and b.adversarial == adversarial for b in batches)
        tail = list(task.batches(epoch, epoch_rng(0, epoch), 1))
        assert len(tail) == 1 and torch.equal(tail[0].x, batches[1].x)
    # every window lies inside one piece: its rows are consecutive rows of the stacked data
    x = batches[0].x[0]
    rows = task.train_data.rows
    hits = [s for s in range(len(rows) - 7) if torch.equal(rows[s : s + 8], x)]
    assert len(hits) == 1
    piece = np.searchsorted(task.train_data.offsets, hits[0], side="right") - 1
    assert hits[0] + 8 <= task.train_data.offsets[piece + 1]


def _rig_discriminator(task: CRNNGANTask, real_wins: bool) -> torch.Tensor:
    """Make D's decision a function of its input: per step h is about tanh(1) on every unit for the real batch
    (all features 3) and 0 for G's output (all 0, G's output layer zeroed). The decision layer's bias and weight
    then make D right (real_wins) or wrong with a margin of 5 logits either way. Returns the real batch."""
    g, d = task.model.g, task.model.d
    with torch.no_grad():
        g.out.weight.zero_()
        g.out.bias.zero_()
        for name, p in d.lstm.named_parameters():
            p.zero_()
            if name.startswith("bias_ih"):
                h = p.numel() // 4
                p[:h] = 10.0  # input gate open
                p[h : 2 * h] = -10.0  # forget gate shut
                p[3 * h :] = 10.0  # output gate open
            if name.startswith("weight_ih"):
                h = p.shape[0] // 4
                p[2 * h : 3 * h] = 1.0  # cell input tanh(sum of inputs)
        units = d.decision.weight.numel()
        sign = 1.0 if real_wins else -1.0
        d.decision.weight.fill_(sign * 10.0 / (units * math.tanh(1.0)))
        d.decision.bias.fill_(-sign * 5.0)
    return torch.full((2, 8, 4), 3.0)


@pytest.mark.parametrize("real_wins", [True, False])
def test_freezing(real_wins):
    """D takes no step when its loss is below 70% of G's adversarial loss, and takes one otherwise; with
    freeze_g, G likewise against D."""
    cfg = CRNNGANConfig(**{**TINY.to_dict(), "d_layers": 1, "freeze_g": True})
    task = _task(cfg)
    x = _rig_discriminator(task, real_wins)
    before_d = {k: v.clone() for k, v in task.model.d.state_dict().items()}
    before_g = {k: v.clone() for k, v in task.model.g.state_dict().items()}
    logs = task.adversarial_step(x)
    d_same = all(torch.equal(before_d[k], v) for k, v in task.model.d.state_dict().items())
    g_same = all(torch.equal(before_g[k], v) for k, v in task.model.g.state_dict().items())
    if real_wins:  # D right: L_D about 0.013, L_G about 5
        assert logs["d_loss"] < 0.05 and logs["g_adv"] > 4.5
        assert d_same and not g_same
        assert (logs["d_frozen"], logs["g_frozen"]) == (1.0, 0.0)
    else:  # D wrong: L_D about 10, L_G about 0.007
        assert logs["d_loss"] > 9 and logs["g_adv"] < 0.05
        assert not d_same and g_same
        assert (logs["d_frozen"], logs["g_frozen"]) == (0.0, 1.0)
    assert task.extra_state() == {
        "d_frozen_steps": int(real_wins),
        "g_frozen_steps": int(not real_wins),
        "adversarial_steps": 1,
    }


def test_no_freezing_when_switched_off():
    task = _task(CRNNGANConfig(**{**TINY.to_dict(), "d_layers": 1, "freeze_d": False}))
    x = _rig_discriminator(task, real_wins=True)
    before = {k: v.clone() for k, v in task.model.d.state_dict().items()}
    assert task.adversarial_step(x)["d_frozen"] == 0.0
    assert not all(torch.equal(before[k], v) for k, v in task.model.d.state_dict().items())


def test_the_baseline_and_pretraining_touch_only_g():
    task = _task(CRNNGANConfig(**{**TINY.to_dict(), "adversarial": False}))
    assert set(task.optimizers()) == {"g"} and task.model.d is None
    batch = next(iter(task.batches(0, epoch_rng(0, 0), 0)))
    assert not batch.adversarial
    before = [p.clone() for p in task.model.g.parameters()]
    logs = task.train_step(batch, 0)
    assert set(logs) == {"loss", "mse"} and logs["loss"] > logs["mse"] > 0  # L2 adds to the squared error
    assert all(not torch.equal(a, b) for a, b in zip(before, task.model.g.parameters(), strict=True))
    with torch.no_grad():
        metrics, n = task.eval_step(next(iter(task.val_batches())))
    assert n == 2 and metrics["loss"] == metrics["next_mse"] and "d_loss" not in metrics


# ------------------------------------------------------------------------------------------------ training runs
N_PIECES, N_NOTES = 12, 60
SMALL = {
    "hidden": "8",
    "d_hidden": "8",
    "max_length": "8",
    "curriculum_start": "4",
    "curriculum_step": "2",
    "pretrain_epochs": "1",
    "stats_samples": "3",
    "batch_size": "4",
    "device": "cpu",
}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """12 synthetic pieces of 60 notes with some chords; 9 fall in train, 1 in validation (see test_training)."""
    return synthetic_dataset(
        tmp_path_factory.mktemp("crnngan"),
        steps=[0.0, 0.125, 0.25, 0.5],
        durations=[0.1, 0.12, 0.2],
        n_pieces=N_PIECES,
        n_notes=N_NOTES,
    )


def _train(kind: str, data: Path, out: Path, **overrides: str) -> dict:
    return train(kind, data, out, preset="paper", overrides={**SMALL, **overrides}, progress=False)


def _resume(kind: str, data: Path, out: Path, **overrides: str) -> dict:
    return train(kind, data, out, resume=True, overrides=overrides, progress=False)


def _state(run: Path) -> dict:
    return torch.load(run / "trainer_state.pt", map_location="cpu", weights_only=True)


def _epochs(run: Path) -> list[dict]:
    lines = [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("time", "train_time")} for r in lines if r["kind"] == "epoch"]


def _same_weights(a: Path, b: Path) -> bool:
    sa, sb = _state(a)["model"], _state(b)["model"]
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture(scope="module")
def straight(data, tmp_path_factory) -> Path:
    """Three epochs of crnngan (one pretraining, two adversarial) without interruption."""
    run = tmp_path_factory.mktemp("straight") / "run"
    s = _train("crnngan", data, run, epochs="3")
    assert s["stopped"] == "completed 3 epochs" and s["step"] == 3 * (9 // 4)
    return run


def test_run_config_metrics_and_statistics(data, straight):
    config = json.loads((straight / "config.json").read_text())
    assert config["kind"] == "crnngan" and config["representation"] == "tones"
    # the normalisation is the training split's, as fitted independently here
    ds = Dataset.load(data)
    expect = ToneNormalizer.fit([to_tones(ds[int(i)]) for i in ds.indices("train")])
    tones = config["data"]["tones"]
    assert tones["ticks_per_quarter"] == 384 and tones["tones_per_step"] == 1
    assert np.allclose(tones["mean"], expect.mean) and np.allclose(tones["std"], expect.std)
    epochs = _epochs(straight)
    assert [(r["length"], r["adversarial"]) for r in epochs] == [(4, 0), (6, 1), (8, 1)]
    assert "train/mse" in epochs[0] and {"train/d_loss", "train/fm", "train/d_frozen"} <= set(epochs[1])
    for r in epochs:
        assert r["val/loss"] == r["val/moments"] and {"val/next_mse", "val/fm", "val/d_real"} <= set(r)
        for stat in ("polyphony", "scale_consistency", "repetitions_2", "tone_span", "unique_tones", "intensity_span"):
            assert f"gen/{stat}" in r and r[f"real/{stat}"] == epochs[0][f"real/{stat}"]
    assert epochs[0]["real/tone_span"] > 0
    assert {"d_frozen_steps", "g_frozen_steps", "adversarial_steps"} <= set(_state(straight)["extra"])
    assert _state(straight)["extra"]["adversarial_steps"] == 4
    run, _, model = load_run(straight)
    assert run.kind == "crnngan" and run.config == config
    assert isinstance(model, CRNNGAN) and model.cfg.hidden == 8
    assert set(load_file(str(straight / "model.safetensors"))) == set(model.state_dict())


def test_resume_is_exact_at_an_epoch_boundary_and_mid_epoch(data, straight, tmp_path):
    a = tmp_path / "a"
    _train("crnngan", data, a, epochs="3", max_steps="3")  # stops inside the second (first adversarial) epoch
    assert (_state(a)["epoch"], _state(a)["batch_in_epoch"]) == (1, 1)
    _resume("crnngan", data, a, max_steps="none")
    assert _same_weights(a, straight)
    # the trainer averages an epoch's training logs over the steps since the resume: compare the rest
    strip = lambda rs: [{k: v for k, v in r.items() if not k.startswith("train/")} for r in rs]  # noqa: E731
    assert strip(_epochs(a)) == strip(_epochs(straight)) and _epochs(a)[0] == _epochs(straight)[0]
    assert _state(a)["extra"] == _state(straight)["extra"]
    b = tmp_path / "b"
    _train("crnngan", data, b, epochs="1")
    _resume("crnngan", data, b, epochs="3")
    assert _same_weights(b, straight) and _epochs(b) == _epochs(straight)


def test_determinism_under_a_seed(data, tmp_path):
    runs = [tmp_path / n for n in ("a", "b", "c")]
    for run, seed in zip(runs, ("1", "1", "2"), strict=True):
        _train("crnngan3", data, run, epochs="2", seed=seed)
    assert _same_weights(runs[0], runs[1]) and _epochs(runs[0]) == _epochs(runs[1])
    assert not _same_weights(runs[0], runs[2])


def test_generate_writes_midi_with_one_tone_per_step(straight, tmp_path):
    paths = generate(straight, tmp_path / "a", n=3, length=12, seed=4)
    assert [p.name for p in paths] == ["sample_00.mid", "sample_01.mid", "sample_02.mid"]
    pieces = [read_midi(p) for p in paths]
    assert all(len(p) == 12 for p in pieces)
    assert all(p.tempos["qpm"][0] == pytest.approx(120.0) for p in pieces)
    again = generate(straight, tmp_path / "b", n=3, length=12, seed=4)
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]
    other = generate(straight, tmp_path / "c", n=3, length=12, seed=5)
    assert [p.read_bytes() for p in paths] != [p.read_bytes() for p in other]
    with pytest.raises(ConfigError, match="do not apply"):
        generate(straight, tmp_path / "d", temperature=0.5)


def test_generate_continues_a_primer(straight, tmp_path):
    primer = hand_midi(tmp_path / "hand.mid")  # four tones, 120 qpm at its start
    paths = generate(straight, tmp_path / "out", n=2, length=5, primer=primer, seed=0)

    def tones(notes: Notes) -> set[tuple[int, int, int]]:
        t = np.rint(np.stack([notes.start_qn, notes.end_qn]) * 384).astype(int)
        return set(zip(notes.pitch.tolist(), t[0].tolist(), t[1].tolist(), strict=True))

    given = tones(read_midi(primer)[~read_midi(primer).notes["is_drum"]])
    for p in paths:
        notes = read_midi(p)
        assert len(notes) == 4 + 5 and given <= tones(notes)  # the primer's tones, then five generated ones
    drums = tmp_path / "drums.mid"
    write_midi(Notes.from_arrays([36], [0.0], [0.1], is_drum=True), drums)
    with pytest.raises(ConfigError, match="no notes to continue"):
        generate(straight, tmp_path / "g", primer=drums)


@pytest.mark.parametrize("kind", ["crnngan3", "baseline"])
def test_other_kinds_train_and_generate(data, tmp_path, kind):
    run = tmp_path / "run"
    s = _train(kind, data, run, epochs="2")
    assert s["epochs"] == 2
    loaded, _, model = load_run(run)
    config = loaded.config
    epochs = _epochs(run)
    if kind == "baseline":
        assert model.d is None and all(r["val/loss"] == r["val/next_mse"] for r in epochs)
        assert all(r["adversarial"] == 0 for r in epochs)
    else:
        assert model.cfg.tones_per_step == 3 and len(config["data"]["tones"]["mean"]) == 10
    paths = generate(run, tmp_path / "gen", n=2, length=7, seed=0)
    for p in paths:
        notes = read_midi(p)
        if kind == "baseline":
            assert len(notes) == 7
        else:  # 7 steps of one to three tones
            assert 7 <= len(notes) <= 21 and len(to_tones(notes, ToneConfig(tones_per_step=3))) <= 7


def test_dataset_too_small_and_bf16(data, tmp_path):
    with pytest.raises(DatasetError, match="fewer than one batch of 1000"):
        _train("crnngan", data, tmp_path / "r", batch_size="1000")
    with pytest.raises(ConfigError, match="fp32"):
        _train("crnngan", data, tmp_path / "r", precision="bf16")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("kind", ["crnngan", "crnngan3", "baseline"])
def test_presets_paper_sgd_and_default_adam(kind):
    from tunesmith.jobs.train import build_configs

    paper, paper_train = build_configs(kind, "paper")
    default, default_train = build_configs(kind, "default")
    assert (paper.optimizer, paper_train.lr, paper_train.batch_size) == ("sgd", 0.1, 20)
    assert (default.optimizer, default_train.lr, default_train.batch_size) == ("adam", 5e-4, 20)
    assert paper.hidden == default.hidden == 350 and paper.layers == default.layers == 2
