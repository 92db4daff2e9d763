from __future__ import annotations

import math

import pytest
import torch

from tunesmith.errors import ConfigError
from tunesmith.families.rnn.model import PRESETS, NoteRNN, RNNConfig, time_bin_quantiles
from tunesmith.families.rnn.sample import decode_time_bins, generate_rnn
from tunesmith.sampling import (
    FILTERS,
    check_options,
    draw,
    sample_logits,
    temperature_filter,
    top_k_filter,
    top_p_filter,
)

INF = math.inf


def test_top_k_by_hand():
    logits = torch.tensor([1.0, 3.0, 2.0, 0.0])
    assert top_k_filter(logits, 2).tolist() == [-INF, 3.0, 2.0, -INF]
    assert top_k_filter(logits, 1).tolist() == [-INF, 3.0, -INF, -INF]
    assert top_k_filter(logits, 4).tolist() == logits.tolist()
    assert top_k_filter(logits, 10).tolist() == logits.tolist()
    # ties at the k-th value are kept; rows are filtered independently
    rows = torch.tensor([[1.0, 2.0, 2.0, 0.0], [5.0, 4.0, 3.0, 6.0]])
    assert top_k_filter(rows, 1).tolist() == [[-INF, 2.0, 2.0, -INF], [-INF, -INF, -INF, 6.0]]
    assert FILTERS["top_k"] is top_k_filter


def _kept(logits: torch.Tensor) -> list[int]:
    return [i for i, v in enumerate(logits.tolist()) if v != -INF]


def test_top_p_by_hand():
    # probabilities 0.5, 0.3, 0.15, 0.05, in a shuffled order (indices 1, 3, 0, 2)
    logits = torch.tensor([0.15, 0.5, 0.05, 0.3], dtype=torch.float32).log()  # float32, as sample_logits uses
    assert _kept(top_p_filter(logits, 0.5)) == [1]
    assert _kept(top_p_filter(logits, 0.79)) == [1, 3]
    assert _kept(top_p_filter(logits, 0.8)) == [1, 3]
    assert _kept(top_p_filter(logits, 0.81)) == [0, 1, 3]
    assert _kept(top_p_filter(logits, 0.96)) == [0, 1, 2, 3]
    assert _kept(top_p_filter(logits, 1.0)) == [0, 1, 2, 3]
    # the most likely entry is always kept
    assert _kept(top_p_filter(logits, 1e-9)) == [1]
    # kept logits are unchanged
    kept = top_p_filter(logits, 0.81)
    assert kept[[0, 1, 3]].tolist() == logits[[0, 1, 3]].tolist()
    # each row on its own
    two = torch.stack([logits, logits.flip(0)])
    assert top_p_filter(two, 0.79)[1].isfinite().tolist() == [True, False, True, False]


def test_temperature_divides():
    logits = torch.tensor([[1.0, -2.0, 4.0]])
    assert temperature_filter(logits, 2.0).tolist() == [[0.5, -1.0, 2.0]]
    assert temperature_filter(logits, 0.5).tolist() == [[2.0, -4.0, 8.0]]


def test_sample_logits_seeded_and_greedy():
    logits = torch.randn(64, 128, generator=torch.Generator().manual_seed(0))
    a = sample_logits(logits, generator=torch.Generator().manual_seed(7))
    b = sample_logits(logits, generator=torch.Generator().manual_seed(7))
    c = sample_logits(logits, generator=torch.Generator().manual_seed(8))
    assert a.shape == (64,) and a.dtype == torch.long
    assert torch.equal(a, b) and not torch.equal(a, c)
    argmax = logits.argmax(-1)
    for seed in range(3):
        g = torch.Generator().manual_seed(seed)
        assert torch.equal(sample_logits(logits, top_k=1, generator=g), argmax)
        assert torch.equal(sample_logits(logits, top_p=1e-6, generator=g), argmax)
        assert torch.equal(sample_logits(logits, temperature=1e-4, generator=g), argmax)
    # top_k=3: only the three likeliest ever come out
    top3 = logits.topk(3, -1).indices
    for seed in range(3):
        s = sample_logits(logits, top_k=3, temperature=5.0, generator=torch.Generator().manual_seed(seed))
        assert (top3 == s[:, None]).any(-1).all()


@pytest.mark.parametrize("rows", [1, 3, 64])
def test_draw_seeded_and_never_draws_zero_probability(rows):
    for seed in range(5):
        probs = torch.randn(rows, 521, generator=torch.Generator().manual_seed(100 + seed)).mul(3).softmax(-1)
        probs[:, [0, 7, 520]] = 0.0  # never drawn: the first, one inside, the last
        a, b = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed)
        for _ in range(3):
            got = draw(probs, a)
            assert torch.equal(got, draw(probs, b)) and got.shape == (rows,) and got.dtype == torch.long
            assert ((got != 0) & (got != 7) & (got != 520)).all()
    assert temperature_filter(probs, 1.0) is probs


def test_draw_by_hand_at_the_edges(monkeypatch):
    """The index is the first whose cumulative probability exceeds u * total; a draw that rounds up to the total
    still lands on an entry of positive probability, never past the last one."""
    probs = torch.tensor([[0.0, 0.25, 0.0, 0.5, 0.25, 0.0]])
    for u, want in [(0.0, 1), (0.2499, 1), (0.25, 3), (0.7499, 3), (0.75, 4), (0.9999, 4), (1.0, 4)]:
        monkeypatch.setattr(torch, "rand", lambda shape, u=u, **kw: torch.full(shape, u, dtype=kw["dtype"]))
        assert draw(probs).tolist() == [want], u
    # unnormalised rows: the total is the row's own
    monkeypatch.setattr(torch, "rand", lambda shape, **kw: torch.full(shape, 0.5, dtype=kw["dtype"]))
    assert draw(torch.tensor([[2.0, 0.0, 2.0], [0.0, 0.0, 8.0]])).tolist() == [2, 2]


def test_draw_follows_the_distribution():
    """Frequencies over 64 rows x 400 draws agree with the probabilities (a chi-square test at a fixed seed)."""
    from scipy.stats import chisquare

    probs = torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05, 0.0]).expand(64, 6)
    g = torch.Generator().manual_seed(3)
    counts = torch.bincount(torch.cat([draw(probs, g) for _ in range(400)]), minlength=6)
    assert counts[5] == 0
    assert chisquare(counts[:5].numpy(), probs[0, :5].numpy() * counts.sum().item()).pvalue > 0.01


def test_sample_logits_follows_the_distribution():
    p = torch.tensor([0.7, 0.2, 0.1, 0.0])
    s = sample_logits(p.log().expand(20000, 4), generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(s, minlength=4).float() / 20000
    assert torch.allclose(freq, p, atol=0.015) and freq[3] == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": math.nan}, "temperature"),
        ({"temperature": math.inf}, "temperature"),
        ({"top_p": 0.0}, "top-p"),
        ({"top_p": 1.5}, "top-p"),
        ({"top_p": -0.2}, "top-p"),
        ({"top_k": 0}, "top-k"),
        ({"top_k": -3}, "top-k"),
        ({"length": 0}, "length"),
        ({"n": 0}, "-n"),
    ],
)
def test_check_options_rejects(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        check_options(**kwargs)


def test_check_options_accepts_edges():
    check_options(temperature=1e-3, top_k=1, top_p=1.0, length=1, n=1)
    check_options(top_p=1e-9)


def _model(preset: str, seed: int = 0) -> NoteRNN:
    torch.manual_seed(seed)
    return NoteRNN(RNNConfig(**{**PRESETS[preset], "hidden": 32, "seq_length": 10}))


def _primers(b: int = 3, t: int = 10, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.empty(b, t, 4)
    x[..., 0] = torch.randint(40, 90, (b, t), generator=g).float()
    x[..., 1] = torch.rand(b, t, generator=g) * 0.5
    x[..., 2] = torch.rand(b, t, generator=g)
    x[..., 3] = torch.randint(40, 110, (b, t), generator=g).float()
    return x


def _gen(model, primers, seed, **kw):
    return generate_rnn(model, primers, 20, generator=torch.Generator().manual_seed(seed), **kw)


@pytest.mark.parametrize("preset", ["paper", "default"])
@pytest.mark.parametrize("options", [{}, {"temperature": 0.7, "top_p": 0.9}, {"top_k": 5}])
def test_incremental_equals_rerunning_the_history(preset, options):
    model = _model(preset)
    primers = _primers()
    inc = _gen(model, primers, 11, incremental=True, **options)
    full = _gen(model, primers, 11, incremental=False, **options)
    assert inc.shape == full.shape == (3, 20, 4)
    assert torch.equal(inc[..., 0], full[..., 0])
    assert torch.allclose(inc[..., 1:], full[..., 1:], atol=1e-5, rtol=0)
    assert (inc[..., 0] >= 0).all() and (inc[..., 0] <= 127).all() and (inc[..., 0] == inc[..., 0].round()).all()
    assert (inc[..., 1:3] >= 0).all()
    assert (inc[..., 3] >= 1).all() and (inc[..., 3] <= 127).all()
    if preset == "paper":
        assert (inc[..., 3] == 80).all()
    else:  # binned times take only the bins' values
        values = model.time_values
        assert torch.isin(inc[..., 1], values).all() and torch.isin(inc[..., 2], values).all()
        assert len(torch.unique(inc[..., 3])) > 1


@pytest.mark.parametrize("preset", ["paper", "default"])
def test_rows_of_a_batch_do_not_interact(preset):
    """Sampling draws from one generator for the whole batch, so a batch of 3 and 3 single runs draw different
    random numbers; with (near-)greedy sampling the results must agree row by row."""
    model = _model(preset)
    primers = _primers()
    greedy = {"top_k": 1, "temperature": 1e-6}
    batch = _gen(model, primers, 0, **greedy)
    for i in range(3):
        alone = _gen(model, primers[i : i + 1], 5, **greedy)
        assert torch.equal(batch[i, :, 0], alone[0, :, 0])
        assert torch.allclose(batch[i, :, 1:], alone[0, :, 1:], atol=1e-5, rtol=0)


@pytest.mark.parametrize("preset", ["paper", "default"])
def test_same_seed_same_output_other_seed_other_pitches(preset):
    model = _model(preset)
    primers = _primers()
    a = _gen(model, primers, 1)
    b = _gen(model, primers, 1)
    c = _gen(model, primers, 2)
    assert torch.equal(a, b)
    assert not torch.equal(a[..., 0], c[..., 0])
    # an unseeded call still works and the model's training mode is restored
    model.train()
    d = generate_rnn(model, primers[:1], 3)
    assert d.shape == (1, 3, 4) and model.training


def test_generate_validates_options():
    model = _model("paper")
    with pytest.raises(ConfigError, match="temperature"):
        generate_rnn(model, _primers(), 5, temperature=0.0)
    with pytest.raises(ConfigError, match="length"):
        generate_rnn(model, _primers(), 0)


# ------------------------------------------------------------------------------------------------ binned times
def _draws(cfg: RNNConfig, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Quantiles of made-up training times: exact zeros, performed chords of a few ms, melody steps."""
    g = torch.Generator().manual_seed(seed)
    steps = torch.cat([torch.zeros(300), torch.rand(700, generator=g) * 0.01, torch.rand(2000, generator=g) * 3])
    durations = torch.rand(3000, generator=g) * 5
    return (
        torch.as_tensor(time_bin_quantiles(steps.numpy(), cfg)),
        torch.as_tensor(time_bin_quantiles(durations.numpy(), cfg)),
    )


def test_decoded_times_lie_in_the_sampled_bin_and_follow_the_data():
    model = _model("default")
    cfg = model.cfg
    draws, _ = _draws(cfg)
    bins = torch.arange(cfg.time_bins).repeat(200)  # every bin 200 times
    t = decode_time_bins(bins, model, draws, torch.Generator().manual_seed(0))
    assert t.shape == bins.shape and t.dtype == torch.float32
    assert torch.equal(model.time_to_bin(t), bins)
    assert (t[:, None] == draws[bins]).any(-1).all()  # one of the sampled bin's own values
    # bin 0 held 300 zeros and 700 times below 10 ms: about 30% of its draws are exactly 0, the rest are not
    zero = (t[bins == 0] == 0).float().mean()
    assert 0.15 < float(zero) < 0.45
    # without draws: the bin's fixed value (bin 0 is exactly 0), and no random number is drawn
    g = torch.Generator().manual_seed(0)
    state = g.get_state()
    assert torch.equal(decode_time_bins(bins, model, None, g), model.time_values[bins])
    assert torch.equal(g.get_state(), state)


def test_decoding_is_seeded():
    model = _model("default")
    draws, _ = _draws(model.cfg)
    bins = torch.zeros(500, dtype=torch.long)
    a = decode_time_bins(bins, model, draws, torch.Generator().manual_seed(7))
    b = decode_time_bins(bins, model, draws, torch.Generator().manual_seed(7))
    c = decode_time_bins(bins, model, draws, torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    # in whole generated sequences too
    primers = _primers()
    x = _gen(model, primers, 1, time_draws=_draws(model.cfg))
    y = _gen(model, primers, 1, time_draws=_draws(model.cfg))
    z = _gen(model, primers, 2, time_draws=_draws(model.cfg))
    assert torch.equal(x, y) and not torch.equal(x[..., 1:3], z[..., 1:3])


@pytest.mark.parametrize("options", [{}, {"temperature": 0.7, "top_p": 0.9}])
def test_incremental_equals_rerunning_the_history_with_drawn_times(options):
    model = _model("default")
    primers = _primers()
    draws = _draws(model.cfg)
    inc = _gen(model, primers, 11, incremental=True, time_draws=draws, **options)
    full = _gen(model, primers, 11, incremental=False, time_draws=draws, **options)
    assert torch.equal(inc[..., 0], full[..., 0])
    assert torch.allclose(inc[..., 1:], full[..., 1:], atol=1e-5, rtol=0)
    # the times are the draws' values, not the bins' fixed ones
    for col, d in ((1, draws[0]), (2, draws[1])):
        assert torch.isin(inc[..., col], d).all()
    assert not torch.isin(inc[..., 1:3], model.time_values).all()


def test_time_draws_are_checked():
    primers = _primers()
    with pytest.raises(ConfigError, match="timing=bins"):
        generate_rnn(_model("paper"), primers, 3, time_draws=_draws(_model("default").cfg))
    model = _model("default")
    step, dur = _draws(model.cfg)
    with pytest.raises(ConfigError, match="step time draws must have shape"):
        generate_rnn(model, primers, 3, time_draws=(step[:10], dur))
    with pytest.raises(ConfigError, match="duration time draws must have shape"):
        generate_rnn(model, primers, 3, time_draws=(step, dur[:, :0]))
