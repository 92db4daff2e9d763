from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tunesmith.errors import ConfigError
from tunesmith.families.rnn.model import PRESETS, NoteRNN, RNNConfig, RNNOutput, time_bin_edges, time_bin_values


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
    assert float(total) == pytest.approx(
        float(parts["pitch"] + parts["step"] + parts["duration"] + 0.5 * parts["velocity"]), rel=1e-6
    )


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
