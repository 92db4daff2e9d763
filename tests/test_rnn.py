from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tunesmith.errors import CheckpointError, ConfigError
from tunesmith.families.base import Run
from tunesmith.families.rnn import RNNFamily, time_draws
from tunesmith.families.rnn.model import (
    PRESETS,
    NoteRNN,
    RNNConfig,
    RNNOutput,
    time_bin_edges,
    time_bin_quantiles,
    time_bin_values,
)
from tunesmith.representations.note_events import to_note_events
from tunesmith.runfiles import array_file


def _events(b: int, t: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.empty(b, t, 4)
    x[..., 0] = torch.randint(0, 128, (b, t), generator=g).float()
    x[..., 1] = torch.rand(b, t, generator=g)
    x[..., 2] = torch.rand(b, t, generator=g) * 2
    x[..., 3] = torch.randint(1, 128, (b, t), generator=g).float()
    return x


@pytest.mark.parametrize("preset", ["paper", "default"])
@pytest.mark.parametrize("last_only", [False, True])
def test_output_and_state_shapes(preset, last_only):
    torch.manual_seed(0)
    cfg = RNNConfig(**PRESETS[preset])
    model = NoteRNN(cfg).eval()
    b, t = 2, 5
    out, (h, c) = model(_events(b, t), last_only=last_only)
    tt = 1 if last_only else t
    assert out.pitch.shape == (b, tt, 128)
    if preset == "paper":
        assert cfg.hidden == 128 and cfg.n_inputs == 3
        assert out.step.shape == (b, tt) and out.duration.shape == (b, tt) and out.velocity is None
    else:
        assert (
            cfg.hidden == 256 and cfg.n_inputs == 32 + 2 + 2 + 1
        )  # pitch embedding, log and raw step and duration, velocity
        assert (
            out.step.shape == (b, tt, cfg.time_bins)
            and out.duration.shape == (b, tt, cfg.time_bins)
            and cfg.time_bins == 64
        )
        assert out.velocity.shape == (b, tt, 32)
    assert h.shape == (cfg.layers, b, cfg.hidden) and c.shape == (cfg.layers, b, cfg.hidden)


def test_last_only_is_the_last_step_and_state_carries():
    torch.manual_seed(0)
    model = NoteRNN(RNNConfig(hidden=16, layers=2)).eval()
    x = _events(3, 6)
    full, state = model(x)
    last, state2 = model(x, last_only=True)
    assert state[0].shape == (2, 3, 16)
    assert torch.allclose(last.pitch[:, 0], full.pitch[:, -1]) and torch.allclose(last.step[:, 0], full.step[:, -1])
    assert torch.equal(state[0], state2[0]) and torch.equal(state[1], state2[1])
    # running the first 4 steps, then the last 2 from the carried state, is running all 6
    _, s4 = model(x[:, :4])
    tail, _ = model(x[:, 4:], s4)
    assert torch.allclose(tail.pitch, full.pitch[:, 4:], atol=1e-5)
    assert torch.allclose(tail.duration, full.duration[:, 4:], atol=1e-5)


def test_paper_encoding_is_pitch_over_128_step_duration():
    model = NoteRNN(RNNConfig(**PRESETS["paper"]))
    x = torch.tensor([[[64.0, 0.5, 1.25, 99.0]]])
    assert model.encode(x).tolist() == [[[0.5, 0.5, 1.25]]]


def _np_ce(logits: np.ndarray, target: np.ndarray) -> float:
    m = logits.max(-1, keepdims=True)
    logp = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
    return float(-logp[np.arange(len(target)), target].mean())


def test_paper_loss_by_hand():
    model = NoteRNN(RNNConfig(**PRESETS["paper"]))
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(2, 1, 128))
    step_hat = np.array([[0.3], [-0.2]])  # a negative prediction: positive pressure 10 * 0.2
    dur_hat = np.array([[-0.5], [1.5]])
    y = np.array([[[60, 0.5, 1.0, 80]], [[72, 0.0, 2.0, 80]]], dtype=np.float64)
    out = RNNOutput(
        torch.tensor(logits, dtype=torch.float32),
        torch.tensor(step_hat, dtype=torch.float32),
        torch.tensor(dur_hat, dtype=torch.float32),
    )
    yt = torch.tensor(y, dtype=torch.float32)
    total, parts = model.loss(yt, yt, out)

    ce = _np_ce(logits[:, 0], np.array([60, 72]))
    step = np.mean((y[:, :, 1] - step_hat) ** 2 + 10 * np.maximum(-step_hat, 0))
    dur = np.mean((y[:, :, 2] - dur_hat) ** 2 + 10 * np.maximum(-dur_hat, 0))
    # by hand: step ((0.2)^2 + (0.2)^2 + 2) / 2 = 1.04; duration ((1.5)^2 + 5 + (0.5)^2) / 2 = 3.75
    assert step == pytest.approx(1.04) and dur == pytest.approx(3.75)
    assert float(parts["pitch"]) == pytest.approx(ce, rel=1e-5)
    assert float(parts["step"]) == pytest.approx(step, rel=1e-5)
    assert float(parts["duration"]) == pytest.approx(dur, rel=1e-5)
    assert float(parts["step_mse"]) == pytest.approx(0.04, rel=1e-5)
    assert float(parts["duration_mse"]) == pytest.approx((2.25 + 0.25) / 2, rel=1e-5)
    assert float(total) == pytest.approx(0.05 * ce + step + dur, rel=1e-5)
    assert "velocity" not in parts


@torch.no_grad()
def test_window_loss_targets_last_or_all():
    torch.manual_seed(0)
    w = _events(4, 7, seed=1)
    last = NoteRNN(RNNConfig(hidden=16, seq_length=6))
    out, _ = last(w[:, :-1], last_only=True)
    assert float(last.window_loss(w)[0]) == pytest.approx(float(last.loss(w[:, :-1], w[:, -1:], out)[0]), rel=1e-6)
    every = NoteRNN(RNNConfig(**{**PRESETS["default"], "hidden": 16, "seq_length": 6}))
    out, _ = every(w[:, :-1])
    total, parts = every.window_loss(w)
    assert float(total) == pytest.approx(float(every.loss(w[:, :-1], w[:, 1:], out)[0]), rel=1e-6)
    assert {"pitch", "step", "duration", "velocity", "step_mse", "duration_mse"} <= set(parts)
    # the timing parts are cross-entropies alone; the squared error of the mean (weight 10) is in the objective
    mse = 10.0 * (parts["step_mse"] + parts["duration_mse"])
    assert float(total) == pytest.approx(
        float(parts["pitch"] + parts["step"] + parts["duration"] + 0.5 * parts["velocity"] + mse), rel=1e-6
    )
    assert float(mse) > 0.1  # enough to be told apart from the cross-entropies' sum above


def test_held_out_likelihood_is_the_cross_entropies_by_hand(tmp_path):
    """Bits per note of the default preset: the four cross-entropies (pitch, step bin, duration bin, velocity bin)
    of every note of every test window, computed here from the model's logits, in bits; the squared error of the
    distribution's mean that training adds (time_mse_weight) is no part of a likelihood."""
    from tests.conftest import synthetic_dataset
    from tunesmith.dataset import Dataset

    ds = Dataset.load(synthetic_dataset(tmp_path, steps=[0.0, 0.25, 0.5], durations=[0.2, 1.0], n_notes=30))
    cfg = RNNConfig(**{**PRESETS["default"], "hidden": 16, "seq_length": 6})
    torch.manual_seed(0)
    model = NoteRNN(cfg)
    got = RNNFamily().likelihood(model, Run(tmp_path, {}), ds, "test", torch.device("cpu"), max_windows=10_000)

    nats, count = 0.0, 0
    with torch.no_grad():
        for i in ds.indices("test"):
            ev = torch.as_tensor(to_note_events(ds[int(i)]), dtype=torch.float32)
            for s in range(len(ev) - cfg.seq_length):  # every window inside the piece, every position predicted
                x, y = ev[None, s : s + cfg.seq_length], ev[None, s + 1 : s + cfg.seq_length + 1]
                out, _ = model(x)
                targets = [
                    (out.pitch, y[..., 0].long()),
                    (out.step, model.time_to_bin(y[..., 1])),
                    (out.duration, model.time_to_bin(y[..., 2])),
                    (out.velocity, model.velocity_to_bin(y[..., 3])),
                ]
                for logits, target in targets:
                    logp = torch.log_softmax(logits[0].double(), dim=-1)
                    nats -= float(logp.gather(1, target[0, :, None]).sum())
                count += cfg.seq_length
    assert got["notes"] == count > 0
    assert got["bits_per_note"] == pytest.approx(nats / count / math.log(2), rel=1e-5)


def test_time_bins():
    cfg = RNNConfig(**PRESETS["default"])
    model = NoteRNN(cfg)
    t = torch.tensor([0.0, 0.005, cfg.bin_min_s, 0.0101, 1.0, cfg.bin_max_s, 100.0], dtype=torch.float32)
    bins = model.time_to_bin(t).tolist()
    assert bins[0] == 0 and bins[1] == 0 and bins[2] == 1 and bins[3] == 1
    assert 1 < bins[4] < cfg.time_bins - 1
    assert bins[5] == cfg.time_bins - 1 and bins[6] == cfg.time_bins - 1
    values = time_bin_values(cfg)
    assert values.shape == (cfg.time_bins,) and values[0] == 0 and values[-1] == cfg.bin_max_s
    assert np.all(np.diff(values) > 0)
    edges = time_bin_edges(cfg)
    assert edges.shape == (cfg.time_bins - 1,) and edges[0] == pytest.approx(cfg.bin_min_s)
    # each inner bin's value lies inside the bin
    assert np.all((values[1:-1] >= edges[:-1]) & (values[1:-1] < edges[1:]))
    # a bin's value falls back into the same bin
    vb = model.time_to_bin(torch.tensor(values, dtype=torch.float32)).tolist()
    assert vb == list(range(cfg.time_bins))
    # expected time of a one-hot distribution is that bin's value
    one_hot = torch.full((cfg.time_bins,), -1e4)
    one_hot[5] = 0
    assert float(model.expected_time(one_hot)) == pytest.approx(values[5], rel=1e-5)


def test_time_bin_quantiles_by_hand():
    cfg = RNNConfig(**PRESETS["default"])
    edges = time_bin_edges(cfg).astype(np.float32)
    b5 = float(np.sqrt(edges[4] * edges[5]))  # inside bin 5
    times = np.array([0.004, 0.0, 0.0, b5, 100.0, 20.0])
    q = time_bin_quantiles(times, cfg, q=3)
    assert q.shape == (cfg.time_bins, 3) and q.dtype == np.float32
    # bin 0 holds 0, 0, 0.004: the quantiles at 1/6, 3/6, 5/6 are values of the data, no interpolation
    assert q[0].tolist() == pytest.approx([0.0, 0.0, 0.004])
    assert q[5].tolist() == pytest.approx([b5] * 3)
    assert q[-1].tolist() == pytest.approx([20.0, 20.0, 100.0])  # the last bin is open above
    # a bin without data: evenly within its edges
    assert q[1].tolist() == pytest.approx([edges[0] + (k + 0.5) / 3 * (edges[1] - edges[0]) for k in range(3)])
    # with 30 quantiles, two thirds of bin 0's are exact zeros
    q30 = time_bin_quantiles(times, cfg, q=30)
    assert (q30[0] == 0).sum() == 20 and (q30[0] == np.float32(0.004)).sum() == 10
    # the quantiles of many values: every one decodes back into its own bin, and they follow the data
    rng = np.random.default_rng(0)
    many = np.concatenate([np.zeros(500), rng.uniform(0, 0.01, 1500), rng.exponential(0.3, 5000), edges])
    qm = time_bin_quantiles(many, cfg)
    model = NoteRNN(cfg)
    assert (model.time_to_bin(torch.tensor(qm)) == torch.arange(cfg.time_bins)[:, None]).all()
    assert (qm[0] == 0).mean() == pytest.approx(0.25, abs=1 / 32)  # 500 of bin 0's 2000 values are 0
    # no data at all: every bin evenly within its edges, the last at bin_max_s
    empty = time_bin_quantiles(np.zeros(0), cfg)
    assert (model.time_to_bin(torch.tensor(empty)) == torch.arange(cfg.time_bins)[:, None]).all()
    assert (empty[0] > 0).all() and (empty[0] < cfg.bin_min_s).all() and (empty[-1] == np.float32(cfg.bin_max_s)).all()


def _run(tmp_path, cfg: RNNConfig, arrays: dict[str, np.ndarray]) -> Run:
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name, a in arrays.items():
        np.save(tmp_path / array_file(name), a)
    return Run(tmp_path, {"kind": "rnn", "model": cfg.to_dict()})


def _train_like_primers(n: int = 40, t: int = 10, seed: int = 0) -> np.ndarray:
    """Primers whose steps are chords (0), performed chords (a few ms) and melody steps."""
    rng = np.random.default_rng(seed)
    p = np.empty((n, t, 4), dtype=np.float32)
    p[..., 0] = rng.integers(40, 90, (n, t))
    p[..., 1] = rng.choice([0.0, 0.0, 0.003, 0.25, 0.5], (n, t))
    p[..., 2] = rng.choice([0.0, 0.004, 0.3, 1.0], (n, t))
    p[..., 3] = rng.integers(40, 110, (n, t))
    return p


def test_time_draws_of_a_run_new_old_and_choices(tmp_path):
    cfg = RNNConfig(**{**PRESETS["default"], "hidden": 16, "seq_length": 10})
    primers = _train_like_primers()
    step_q = time_bin_quantiles(primers[..., 1] + 0.001, cfg)  # differ from the primers' own
    dur_q = time_bin_quantiles(primers[..., 2] + 0.002, cfg)
    new = _run(tmp_path / "new", cfg, {"primers": primers, "step_quantiles": step_q, "duration_quantiles": dur_q})
    s, d = time_draws(cfg, new)
    assert np.array_equal(s.numpy(), step_q) and np.array_equal(d.numpy(), dur_q)
    # a run from before the quantiles were kept: the quantiles of its primers (training windows)
    old = _run(tmp_path / "old", cfg, {"primers": primers})
    s, d = time_draws(cfg, old)
    assert np.array_equal(s.numpy(), time_bin_quantiles(primers[..., 1], cfg))
    assert np.array_equal(d.numpy(), time_bin_quantiles(primers[..., 2], cfg))
    # nothing of the data: evenly within each bin
    bare = _run(tmp_path / "bare", cfg, {})
    uniform = time_bin_quantiles(np.zeros(0), cfg)
    assert all(np.array_equal(x.numpy(), uniform) for x in time_draws(cfg, bare))
    # the other choices, and regression timing
    assert all(
        np.array_equal(x.numpy(), uniform)
        for x in time_draws(RNNConfig(**{**cfg.to_dict(), "time_decoding": "uniform"}), new)
    )
    assert time_draws(RNNConfig(**{**cfg.to_dict(), "time_decoding": "value"}), new) is None
    assert time_draws(RNNConfig(**PRESETS["paper"]), new) is None
    # a wrong shape is the run's fault
    bad = _run(tmp_path / "bad", cfg, {"step_quantiles": step_q[:5], "duration_quantiles": dur_q})
    with pytest.raises(CheckpointError, match="step_quantiles"):
        time_draws(cfg, bad)


def _family_generate(model: NoteRNN, run: Run, seed: int = 3) -> np.ndarray:
    fam = RNNFamily()
    pieces = fam.generate(model, run, fam.options(n=4, length=30, seed=seed), torch.device("cpu"))
    return np.stack([to_note_events(p) for p in pieces])


def test_family_generates_from_new_and_old_runs(tmp_path):
    cfg = RNNConfig(**{**PRESETS["default"], "hidden": 16, "seq_length": 10})
    torch.manual_seed(0)
    model = NoteRNN(cfg).eval()
    primers = _train_like_primers()
    arrays = {f"{n}_quantiles": time_bin_quantiles(primers[..., c], cfg) for n, c in (("step", 1), ("duration", 2))}
    new = _run(tmp_path / "new", cfg, {"primers": primers, **arrays})
    old = _run(tmp_path / "old", cfg, {"primers": primers})  # trained before the quantiles were kept
    a, b = _family_generate(model, new), _family_generate(model, new)
    assert np.array_equal(a, b)  # a seed gives the same pieces
    assert not np.array_equal(a, _family_generate(model, new, seed=4))
    assert np.array_equal(a, _family_generate(model, old))  # the same quantiles, from the primers
    # the continuations' times are the data's own values: bin 0's steps are the primers' 0 and 0.003 only
    for k, col in (("step", 1), ("duration", 2)):
        gap = np.abs(a[:, 10:, col].reshape(-1, 1) - arrays[f"{k}_quantiles"].reshape(1, -1)).min(axis=1)
        assert gap.max() < 1e-6
    short = a[:, 10:, 1][a[:, 10:, 1] < cfg.bin_min_s]
    assert short.size and np.all((np.abs(short) < 1e-9) | (np.abs(short - 0.003) < 1e-6))
    # time_decoding="value": the bins' fixed values, as before
    value_cfg = RNNConfig(**{**cfg.to_dict(), "time_decoding": "value"})
    value_model = NoteRNN(value_cfg).eval()
    value_model.load_state_dict(model.state_dict())
    v = _family_generate(value_model, _run(tmp_path / "value", value_cfg, {"primers": primers}))
    gap = np.abs(v[:, 10:, 1:3].reshape(-1, 1) - time_bin_values(cfg).reshape(1, -1)).min(axis=1)
    assert gap.max() < 1e-5


def test_velocity_bins():
    model = NoteRNN(RNNConfig(**PRESETS["default"]))
    v = torch.tensor([0.0, 3.0, 4.0, 64.0, 127.0, 200.0])
    assert model.velocity_to_bin(v).tolist() == [0, 0, 1, 16, 31, 31]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pitch_input": "onehot"}, "pitch_input"),
        ({"timing": "gaussian"}, "timing"),
        ({"targets": "first"}, "targets"),
        ({"dropout": 1.0}, "dropout"),
        ({"dropout": -0.1}, "dropout"),
        ({"hidden": 0}, "positive"),
        ({"seq_length": -1}, "positive"),
        ({"layers": 0}, "positive"),
        ({"bin_min_s": 0.0}, "bin_min_s"),
        ({"bin_min_s": 5.0, "bin_max_s": 4.0}, "bin_min_s"),
        ({"time_decoding": "centre"}, "time_decoding"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        RNNConfig(**kwargs)


def test_config_dict_round_trip_and_unknown_key():
    cfg = RNNConfig(**{**PRESETS["default"], "hidden": 16})
    assert RNNConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown config keys \\['colour'\\]"):
        RNNConfig.from_dict({**cfg.to_dict(), "colour": "red"})


@torch.no_grad()
def test_dropout_is_applied_only_in_training():
    torch.manual_seed(0)
    model = NoteRNN(RNNConfig(hidden=16, dropout=0.5))
    x = _events(2, 4)
    model.eval()
    a, _ = model(x)
    b, _ = model(x)
    assert torch.equal(a.pitch, b.pitch)
    model.train()
    c, _ = model(x)
    assert not torch.allclose(a.pitch, c.pitch)
    assert math.isfinite(float(model.window_loss(_events(2, 26))[0]))
