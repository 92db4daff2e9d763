"""The Transformer family: the network, fill-in-the-middle training, grammar-checked generation, infilling."""

from __future__ import annotations

import json
import math
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from tunesmith.dataset import Dataset
from tunesmith.errors import ConfigError
from tunesmith.families import get_family
from tunesmith.families.transformer.grammar import Grammar
from tunesmith.families.transformer.model import CompileWarning, MusicTransformer, TransformerConfig
from tunesmith.families.transformer.sample import continue_tokens, parse_bars
from tunesmith.families.transformer.task import IGNORE, Sentinels, fim_sequence
from tunesmith.io import read_midi, write_midi
from tunesmith.jobs.generate import generate
from tunesmith.jobs.train import train
from tunesmith.notes import Notes
from tunesmith.representations.tokens import TokenizerSpec, from_tokens, to_tokens
from tunesmith.training.checkpoint import load_weights

from .conftest import synthetic_dataset

TINY = {"context": "64", "max_steps": "12", "epochs": "3", "val_max_batches": "2", "batch_size": "4"}


def tiny(**kw) -> MusicTransformer:
    torch.manual_seed(0)
    return MusicTransformer(
        TransformerConfig(
            vocab_size=kw.pop("vocab_size", 50), **{"context": 32, "layers": 2, "heads": 2, "width": 16, **kw}
        )
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tdata")
    return synthetic_dataset(root, steps=[0.25, 0.5], durations=[0.25, 0.5], n_pieces=12, n_notes=80)


@pytest.fixture(scope="module")
def run(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trun") / "run"
    train("transformer", data, out, preset="tiny", overrides=TINY, progress=False)
    return out


@pytest.fixture(scope="module")
def primer(data, tmp_path_factory) -> Path:
    """A piece of 8 bars of 4/4 (four quarter notes a bar, one pitch a bar)."""
    path = tmp_path_factory.mktemp("primer") / "primer.mid"
    qn = np.arange(32, dtype=float)
    pitch = 60 + (np.arange(32) // 4)
    write_midi(Notes.from_arrays(pitch, qn / 2, qn / 2 + 0.25, velocity=80), path)  # 120 qpm: a quarter is 0.5 s
    return path


# ------------------------------------------------------------------------------------------------ the network
def test_shapes_and_parameter_count():
    m = tiny()
    x = torch.randint(0, 50, (3, 20))
    assert m(x).shape == (3, 20, 50)
    assert m.head.weight is m.embed.weight  # tied
    c, w, L = 16, 16 * 4, 2
    expected = 50 * c + L * (4 * c * c + 2 * c * w + 2 * c) + c  # embedding, blocks (attention, MLP, norms), norm
    assert m.num_parameters() == expected
    mqa = tiny(kv_heads=1)  # one key-value head for the two query heads: K and V projections of width 8, not 16
    assert m.num_parameters() - mqa.num_parameters() == L * 2 * c * 8
    assert mqa(x).shape == (3, 20, 50)


def test_rotary_embedding_by_hand():
    """Each pair (a, b) of a head at position t turns by t * base^(-2i/D): (a cos - b sin, a sin + b cos); a bf16
    input is turned in fp32 and rounded once; and a query's score with a key depends only on how far apart they
    are (what rotary embeddings are for)."""
    from tunesmith.families.transformer.model import apply_rope, rope_tables

    D, T, base = 4, 6, 100.0
    rope = rope_tables(D, T, base)
    x = torch.randn(2, 3, T, D, generator=torch.Generator().manual_seed(0))
    got = apply_rope(x, rope)
    for t in range(T):
        for i in range(D // 2):
            angle = t * base ** (-2 * i / D)
            a, b = x[..., t, 2 * i], x[..., t, 2 * i + 1]
            assert torch.allclose(got[..., t, 2 * i], a * math.cos(angle) - b * math.sin(angle), atol=1e-6)
            assert torch.allclose(got[..., t, 2 * i + 1], a * math.sin(angle) + b * math.cos(angle), atol=1e-6)
    xb = x.to(torch.bfloat16)
    assert torch.equal(apply_rope(xb, rope), apply_rope(xb.float(), rope).to(torch.bfloat16))
    # non-contiguous input (the queries and keys are a slice of one projection), and gradients flow
    big = torch.randn(2, T, 5, D, requires_grad=True)
    part = big.transpose(1, 2)[:, :3]
    assert torch.allclose(apply_rope(part, rope), apply_rope(part.contiguous(), rope))
    apply_rope(part, rope).square().sum().backward()
    assert torch.allclose(big.grad[:, :, :3], 2 * part.detach().transpose(1, 2), atol=1e-5)  # a rotation keeps norms
    assert torch.all(big.grad[:, :, 3:] == 0)
    # relative: q at m, k at n scores the same for every (m, n) the same distance apart
    q, k = torch.randn(D), torch.randn(D)
    rq = apply_rope(q.expand(T, D), rope)
    rk = apply_rope(k.expand(T, D), rope)
    scores = rq @ rk.T
    for d in range(T):
        diag = torch.diagonal(scores, -d)
        assert torch.allclose(diag, diag[0].expand_as(diag), atol=1e-5)


def test_loss_by_hand():
    m = tiny()
    x = torch.randint(0, 50, (2, 10))
    y = torch.randint(0, 50, (2, 10))
    y[0, :3] = IGNORE
    logits = m(x)
    logp = logits - logits.logsumexp(-1, keepdim=True)
    picked = [-logp[b, t, y[b, t]] for b in range(2) for t in range(10) if y[b, t] != IGNORE]
    with torch.no_grad():
        got = float(m.loss(x, y, IGNORE))
    assert got == pytest.approx(float(sum(picked).detach() / len(picked)), rel=1e-5)


@pytest.mark.parametrize("kv_heads", [0, 1])
def test_kv_cache_gives_the_full_forward_logits(kv_heads):
    """``prefill`` in pieces of any length, from an empty cache and after cached positions (the causal mask across
    the two), gives the full pass's logits at each piece's last position."""
    m = tiny(kv_heads=kv_heads).eval()
    x = torch.randint(0, 50, (3, 30))
    with torch.no_grad():
        full = m(x)
        cache = m.new_cache(3, 32)
        ends = [7, *range(8, 21), 30]
        parts = [m.prefill(x[:, a:b], cache) for a, b in zip([0, *ends], ends, strict=False)]
        assert cache.pos == 30
    assert torch.allclose(torch.stack(parts, 1), full[:, [e - 1 for e in ends]], atol=1e-5)
    with pytest.raises(ConfigError, match="cache holds"):
        m.prefill(x[:, :5], cache)


@pytest.mark.parametrize("kv_heads", [0, 1])
def test_decode_gives_the_full_forward_logits_past_the_context(kv_heads):
    """The one-position step that generation takes (``decode``) against the full forward pass, also past the
    training context (32), where the rotation table is built on the fly; and for a bf16 copy of the weights."""
    m = tiny(kv_heads=kv_heads).eval()
    x = torch.randint(0, 50, (3, 40))
    with torch.no_grad():
        full = m(x)
        cache = m.new_cache(3, 40)
        steps = [m.prefill(x[:, :5], cache)] + [m.decode(x[:, t], cache) for t in range(5, 40)]
        assert cache.pos == 40
        assert torch.allclose(torch.stack(steps, 1), full[:, 4:], atol=1e-5)
        with pytest.raises(ConfigError, match="cache holds"):
            m.decode(x[:, 0], cache)
        m16 = m.for_generation(True)
        cache = m16.new_cache(3, 40)
        steps = [m16.prefill(x[:, :5], cache)] + [m16.decode(x[:, t], cache) for t in range(5, 40)]
        assert steps[-1].dtype == torch.bfloat16
        assert (torch.stack(steps, 1).float() - full[:, 4:]).abs().max() < 0.05


def _decode_all(m: MusicTransformer, x: torch.Tensor, first: int = 5) -> torch.Tensor:
    cache = m.new_cache(x.shape[0], x.shape[1])
    steps = [m.prefill(x[:, :first], cache)] + [m.decode(x[:, t], cache) for t in range(first, x.shape[1])]
    return torch.stack(steps, 1)


@pytest.mark.skipif(not (shutil.which("c++") or shutil.which("g++")), reason="torch.compile needs a C++ compiler")
def test_compiled_step_gives_the_plain_step_logits():
    """``--compile``: the compiled prompt pass and decode step against the plain ones, over prompts of two lengths
    and positions before and past the training context up to the cache's last (lengths and positions are symbolic:
    one compilation for prompts, one for steps), in fp32 and bf16; the weights are frozen into the compiled copy, so
    the plain model's later changes do not reach it. Each compiled copy keeps its own compilations: with dynamo's
    limit at one per function, both copies' prompt pass and step still compile (no silent fall back to eager)."""
    from torch._dynamo import config as dynamo_config
    from torch._dynamo.utils import counters

    counters.clear()
    m = tiny(kv_heads=1).eval()
    x = torch.randint(0, 50, (3, 40))
    with torch.no_grad(), warnings.catch_warnings(), dynamo_config.patch(recompile_limit=1):
        warnings.simplefilter("error", CompileWarning)  # a fallback to the plain step would pass unseen
        fast = m.for_generation(False, compile=True)
        assert fast is not m and fast.decode.__func__ is m.decode.__func__
        for first in (5, 9):
            assert torch.allclose(_decode_all(fast, x, first), _decode_all(m, x, first), atol=1e-5)
        assert counters["stats"]["unique_graphs"] == 2  # every prompt in one graph; every step, the cache's last too
        fast16 = m.for_generation(True, compile=True)
        got = _decode_all(fast16, x)
        assert got.dtype == torch.bfloat16
        assert (got.float() - _decode_all(m, x)).abs().max() < 0.05
        assert counters["stats"]["unique_graphs"] == 4
        m.head.weight.add_(1.0)  # the plain model changes; the compiled copy keeps its own weights
        assert not torch.allclose(_decode_all(fast, x), _decode_all(m, x), atol=1e-2)


def test_a_step_that_does_not_compile_falls_back_with_a_warning(monkeypatch):
    def broken(fn, **kw):
        def run(*args):
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found\nmore detail")

        return run

    monkeypatch.setattr(torch, "compile", broken)
    m = tiny().eval()
    x = torch.randint(0, 50, (2, 12))
    with torch.no_grad():
        fast = m.for_generation(False, compile=True)
        with pytest.warns(CompileWarning, match="compiling the generation step failed \\(InvalidCxxCompiler: No "):
            got = _decode_all(fast, x)
        assert torch.equal(got, _decode_all(m, x))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # once: later steps run the plain step without another word
            _decode_all(fast, x)


def test_a_training_loss_that_does_not_compile_falls_back_with_a_warning(monkeypatch):
    """The presets train through torch.compile; where it fails (no C++ compiler), one warning and the plain loss,
    the same number."""
    from tunesmith.families.transformer.model import compile_loss

    def broken(fn, **kw):
        def run(*args):
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found\nmore detail")

        return run

    monkeypatch.setattr(torch, "compile", broken)
    m = tiny()
    x, y = torch.randint(0, 50, (2, 12)), torch.randint(0, 50, (2, 12))
    fast = compile_loss(m.loss)
    with pytest.warns(CompileWarning, match="compiling the training step failed \\(InvalidCxxCompiler: No "):
        got = fast(x, y)
    assert torch.equal(got, m.loss(x, y))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fast(x, y)


def test_the_presets_for_real_runs_compile_their_training_step():
    from tunesmith.families.transformer.config import PRESETS

    assert {name for name, p in PRESETS.items() if p.get("compile")} == {"small", "quick", "default", "base"}


def test_causal_a_later_token_changes_no_earlier_logit():
    m = tiny().eval()
    x = torch.randint(0, 50, (1, 12))
    y = x.clone()
    y[0, 8] = (y[0, 8] + 1) % 50
    with torch.no_grad():
        assert torch.allclose(m(x)[:, :8], m(y)[:, :8], atol=1e-6)
        assert not torch.allclose(m(x)[:, 8:], m(y)[:, 8:])


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"tokenization": "Octuple"}, "REMI"),
        ({"width": 30, "heads": 4}, "heads"),
        ({"fim_rate": 1.5}, "fim_rate"),
        ({"bpe_vocab": 1000, "tokenization": "MIDILike"}, "BPE"),
        ({"grad_accum": 0}, "grad_accum"),
        ({"heads": 4, "kv_heads": 3}, "kv_heads"),
    ],
)
def test_config_errors(kw, match):
    with pytest.raises(ConfigError, match=match):
        TransformerConfig(**kw)


# ------------------------------------------------------------------------------------------------ FIM
def test_fim_sequence_by_hand():
    s = Sentinels(100, max_bars=4, pad=0)
    ids = np.arange(1, 41)  # 40 tokens, bars at 0, 10, 20, 30
    bars = np.array([0, 10, 20, 30])
    seq = fim_sequence(ids, bars, 1, 3, length=64, split=0.5, s=s)
    middle = list(range(11, 31)) + [31]  # bars 2 and 3, then the first token of bar 4
    assert seq[0] == s.pre
    pre_end = list(seq).index(s.suf)
    assert list(seq[1:pre_end]) == list(range(1, 11))  # the whole prefix fits
    mid_at = list(seq).index(s.mid(2))
    assert list(seq[pre_end + 1 : mid_at]) == list(range(31, 41))
    assert list(seq[mid_at + 1 :]) == middle
    # little room: the middle is kept whole, the prefix's end and the suffix's start share the rest
    short = fim_sequence(ids, bars, 1, 3, length=30, split=0.5, s=s)
    assert len(short) == 30 and list(short[-21:]) == middle
    assert short[list(short).index(s.suf) - 1] == 10  # the prefix ends right before the span
    # suffix, prefix, middle: the same parts, the middle right after the prefix it continues
    spm = fim_sequence(ids, bars, 1, 3, length=64, split=0.5, s=s, order="SPM")
    assert sorted(spm.tolist()) == sorted(seq.tolist()) and spm[0] == s.suf
    at = list(spm).index(s.mid(2))
    assert list(spm[at - 11 : at]) == [s.pre, *range(1, 11)] and list(spm[at + 1 :]) == middle


# ------------------------------------------------------------------------------------------------ training
def test_train_writes_a_run_with_bits_per_note(run):
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["kind"] == "transformer" and cfg["model"]["vocab_size"] > 500
    assert (run / "tokenizer.json").is_file() and (run / "model.safetensors").is_file()
    val = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if '"val/loss"' in line]
    v = val[-1]
    assert v["val/bits_per_note"] == pytest.approx(v["val/loss"] / v["val/notes_per_token"] / math.log(2))
    assert 0.15 < v["val/notes_per_token"] < 0.3  # REMI: Program, Pitch, Velocity, Duration a note, and positions


def test_resume_gives_the_same_weights(data, tmp_path):
    straight, split = tmp_path / "a", tmp_path / "b"
    over = {**TINY, "max_steps": "10"}
    train("transformer", data, straight, preset="tiny", overrides=over, progress=False)
    train("transformer", data, split, preset="tiny", overrides={**over, "max_steps": "4"}, progress=False)
    train("transformer", data, split, resume=True, overrides={"max_steps": "10"}, progress=False)
    a, b = (torch.load(p / "trainer_state.pt", weights_only=True)["model"] for p in (straight, split))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_with_another_tokenizer_is_refused(data, tmp_path):
    out = tmp_path / "r"
    train("transformer", data, out, preset="tiny", overrides={**TINY, "max_steps": "2"}, progress=False)
    saved = json.loads((out / "tokenizer.json").read_text())
    saved["tokenization"] = "TSD"
    (out / "tokenizer.json").write_text(json.dumps(saved))
    with pytest.raises(ConfigError, match="tokenizer differs"):
        train("transformer", data, out, resume=True, overrides={"max_steps": "4"}, progress=False)


# ------------------------------------------------------------------------------------------------ generation
@pytest.mark.parametrize("name", ["REMI", "TSD", "MIDILike"])
def test_untrained_model_always_decodes(name):
    """Random weights, 16 samples of 40 notes: every token sequence passes MidiTok's own error check (types in
    order, REMI positions forward, MIDILike note-offs for notes that sound) and decodes to notes of positive
    length."""
    tok = TokenizerSpec(tokenization=name).build()
    s = Sentinels(len(tok), 8, 0)
    model = MusicTransformer(
        TransformerConfig(tokenization=name, vocab_size=s.vocab_size, context=256, layers=1, heads=2, width=32)
    ).eval()
    grammar = Grammar(tok, s.vocab_size, torch.device("cpu"))
    piece = Notes.from_arrays([60, 64, 67], [0, 0.5, 1.0], [0.5, 1.0, 1.5])
    prompt = torch.as_tensor(np.repeat(to_tokens(piece, tok)[None], 16, 0))
    rows = continue_tokens(
        model, grammar, prompt, 40, temperature=1.5, top_k=None, top_p=None, generator=torch.Generator().manual_seed(0)
    )
    for row in rows:
        ids = np.concatenate([prompt[0].numpy(), row])
        assert tok.tokens_errors(_tokseq(tok, ids)) == 0
        notes = from_tokens(ids, tok)
        assert len(notes) >= 40 + 3
        assert np.all(notes.end_qn > notes.start_qn)


def _tokseq(tok, ids):
    from miditok import TokSequence

    seq = TokSequence(ids=[int(i) for i in ids])
    tok.complete_sequence(seq)
    return seq


def test_generation_is_deterministic_by_seed_and_slides_past_the_context(run, tmp_path):
    a = generate(run, tmp_path / "a", n=2, length=40, seed=3)
    b = generate(run, tmp_path / "b", n=2, length=40, seed=3)
    c = generate(run, tmp_path / "c", n=2, length=40, seed=4)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]
    for p in a:  # 40 notes is about 200 tokens: past the 64-token context, so the window slid
        piece = read_midi(p)
        assert len(piece) >= 40


def test_continuation_keeps_the_primer(run, primer, tmp_path):
    original = read_midi(primer)
    for p in generate(run, tmp_path / "out", n=2, length=10, primer=primer):
        piece = read_midi(p).sorted()
        head = piece[piece.start_qn < original.end_qn.max() - 1e-9]
        assert len(piece) >= len(original) + 10
        assert set(zip(original.pitch.tolist(), original.start_qn.round(6).tolist(), strict=True)) <= set(
            zip(piece.pitch.tolist(), piece.start_qn.round(6).tolist(), strict=True)
        )
        assert len(head) >= len(original)


def test_infilling_keeps_every_other_bar_exactly(run, primer, tmp_path):
    original = read_midi(primer)
    outside = original[(original.start_qn < 8) | (original.start_qn >= 16)]
    for p in generate(run, tmp_path / "out", n=3, primer=primer, options={"infill_bars": "3-4"}):
        piece = read_midi(p)
        kept = piece[(piece.start_qn < 8) | (piece.start_qn >= 16)].sorted()
        assert np.array_equal(kept.notes, outside.sorted().notes)  # bit for bit, seconds and velocities included
        assert np.all(piece.end_qn > piece.start_qn)


def test_infilling_in_the_psm_order(data, primer, tmp_path):
    """The presets fill in the middle in the SPM order; the PSM order (the shipped models', older runs') works."""
    out = tmp_path / "psm"
    train("transformer", data, out, preset="tiny", overrides={**TINY, "fim_order": "PSM"}, progress=False)
    assert json.loads((out / "config.json").read_text())["model"]["fim_order"] == "PSM"
    original = read_midi(primer)
    outside = original[(original.start_qn < 8) | (original.start_qn >= 16)]
    for p in generate(out, tmp_path / "g", n=2, primer=primer, options={"infill_bars": "3-4"}):
        piece = read_midi(p)
        kept = piece[(piece.start_qn < 8) | (piece.start_qn >= 16)]
        assert np.array_equal(kept.sorted().notes, outside.sorted().notes)
    with pytest.raises(ConfigError, match="PSM or SPM"):
        train("transformer", data, tmp_path / "x", preset="tiny", overrides={**TINY, "fim_order": "X"}, progress=False)


def test_infilling_errors_are_clear(run, primer, tmp_path):
    with pytest.raises(ConfigError, match="8 bars"):
        generate(run, tmp_path / "o", primer=primer, options={"infill_bars": "7-8"})  # no bar after the span
    with pytest.raises(ConfigError, match="FIRST-LAST"):
        generate(run, tmp_path / "o", primer=primer, options={"infill_bars": "five"})
    with pytest.raises(ConfigError, match="--primer"):
        generate(run, tmp_path / "o", options={"infill_bars": "2-3"})
    with pytest.raises(ConfigError, match="may not come before"):
        parse_bars("3-1")
    assert parse_bars("5-8") == (4, 8) and parse_bars("2") == (1, 2)


def test_infilling_a_primer_with_too_few_bars(run, tmp_path):
    short = tmp_path / "short.mid"
    write_midi(Notes.from_arrays([60, 62], [0, 0.5], [0.5, 1.0]), short)  # one bar
    with pytest.raises(ConfigError, match="has 1 bars"):
        generate(run, tmp_path / "o", primer=short, options={"infill_bars": "1-1"})


def test_other_families_refuse_infilling(tmp_path):
    with pytest.raises(ConfigError, match="no option infill_bars"):
        get_family("rnn").options(infill_bars="1-2")


def test_weights_load_back(run):
    cfg = TransformerConfig.from_dict(json.loads((run / "config.json").read_text())["model"])
    model = MusicTransformer(cfg)
    load_weights(model, run / "model.safetensors")
    assert model.head.weight is model.embed.weight


def test_dataset_too_small(tmp_path):
    root = synthetic_dataset(tmp_path, steps=[0.5], durations=[0.5], n_pieces=12, n_notes=3)
    with pytest.raises(Exception, match="window"):
        train(
            "transformer",
            Dataset.load(root).root,
            tmp_path / "r",
            preset="tiny",
            overrides={"context": "512", "max_steps": "1"},
            progress=False,
        )


def test_grammar_rules_by_hand():
    """REMI: after Pitch only Velocity; positions go forward in a bar; a pitch is struck once a time; once every
    pitch is struck, the bar or a later position must come next (no dead end); no note before the first Program
    token (MidiTok would make it a piano's)."""
    tok = TokenizerSpec().build()
    g = Grammar(tok, len(tok) + 10, torch.device("cpu"))
    ids = {t: i for t, i in tok.vocab.items()}
    st = g.start(1)
    allowed = lambda: {tok[i] for i in torch.nonzero(g.mask(st)[0]).flatten().tolist()}  # noqa: E731
    assert all(t.startswith("Bar") for t in allowed())  # a piece starts with a bar
    for t in ("Bar_None", "TimeSig_4/4", "Position_8"):
        g.step(st, torch.tensor([ids[t]]))
    assert "Program_40" in allowed() and not any(t.startswith("Pitch") for t in allowed())
    for t in ("Program_0", "Pitch_60"):
        g.step(st, torch.tensor([ids[t]]))
    assert allowed() == {t for t in ids if t.startswith("Velocity")}
    for t in ("Velocity_63", "Duration_1.0.8"):
        g.step(st, torch.tensor([ids[t]]))
    now = allowed()
    assert "Pitch_60" not in now and "Pitch_61" in now and "Position_8" not in now and "Position_9" in now
    for p in range(21, 110):  # every pitch at this position (MidiTok: 21 to 109)
        if p != 60:
            for t in (f"Pitch_{p}", "Velocity_63", "Duration_1.0.8"):
                g.step(st, torch.tensor([ids[t]]))
    now = allowed()
    assert now and not any(t.startswith(("Pitch", "Program")) for t in now)
    assert "Bar_None" in now and "Position_9" in now


def test_midilike_grammar_ends_notes_and_closes():
    tok = TokenizerSpec(tokenization="MIDILike").build()
    g = Grammar(tok, len(tok), torch.device("cpu"))
    ids = {t: i for t, i in tok.vocab.items()}
    st = g.start(1)
    for t in ("Program_0", "NoteOn_60", "Velocity_63"):
        g.step(st, torch.tensor([ids[t]]))
    m = g.mask(st)[0]
    assert not m[ids["NoteOff_60"]]  # no time has passed: it would be a note of zero length
    g.step(st, torch.tensor([ids["Program_0"]]))
    assert not g.mask(st)[0][ids["NoteOn_60"]]  # already sounding
    closing = [tok[i] for i in g.close(st, 0)]
    assert closing[0].startswith("TimeShift") and closing[-2:] == ["Program_0", "NoteOff_60"]


def test_cli_errors_are_one_line(run, primer, tmp_path, capsys):
    from tunesmith.cli import main

    base = ["generate", str(run), "--out", str(tmp_path / "o"), "--primer", str(primer)]
    for extra, message in (
        (["--infill-bars", "8-9"], "has 8 bars"),
        (["--infill-bars", "x"], "FIRST-LAST"),
    ):
        assert main(base + extra) == 1
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
    assert main(["generate", str(run), "--out", str(tmp_path / "o"), "--infill-bars", "2-3"]) == 1
    assert "--primer" in capsys.readouterr().err


def test_cli_compile_goes_to_the_decode_step(run, primer, tmp_path, monkeypatch):
    """``generate --compile`` reaches ``compile_step`` (torch.compile recorded here, not run: the compiled step
    itself is ``test_compiled_step_gives_the_plain_step_logits``) and the pieces are written."""
    from tunesmith.cli import main

    seen = []

    def record(fn, **kw):
        seen.append((fn.__name__, kw))
        return fn

    monkeypatch.setattr(torch, "compile", record)
    out = tmp_path / "o"
    assert main(["generate", str(run), "--out", str(out), "--primer", str(primer), "-n", "2", "--length", "12",
                 "--compile"]) == 0  # fmt: skip
    assert [name for name, _ in seen] == ["_step", "_step"]  # the step, the prompt's pass
    assert all(kw["dynamic"] is True for _, kw in seen)
    assert len(list(out.glob("*.mid"))) == 2
    seen.clear()
    assert main(["generate", str(run), "--out", str(tmp_path / "p"), "-n", "1", "--length", "12"]) == 0
    assert seen == []  # not without the flag


def test_onsets_leave_the_grid_only_for_played_music():
    from tunesmith.families.transformer.perform import grid_offsets, performed

    on_grid = np.arange(100) / 4.0
    assert grid_offsets([on_grid], 8) is None  # a score: notes stay on the grid
    rng = np.random.default_rng(0)
    played = on_grid + rng.uniform(-0.05, 0.05, 100)
    q = grid_offsets([played[:50], played[50:]], 8)
    assert q.shape == (2, 65) and q[0, 0] >= -1 / 16 and q[0, -1] <= 1 / 16 and np.all(np.diff(q, axis=1) >= 0)
    assert np.all(q[1] == 0)  # no two notes share a step: nothing to spread
    chord = Notes.from_arrays([60, 64, 67], [1.0, 1.0, 1.0], [1.5, 1.5, 1.5])
    single = np.quantile(played - np.round(played * 8) / 8, np.linspace(0, 1, 65))  # a run from before: 1-d
    for model in (single, grid_offsets([played, np.repeat(on_grid, 2) + rng.uniform(-0.02, 0.02, 200)], 8)):
        moved = performed(chord, model, np.random.default_rng(1))
        assert len(set(moved.start_qn.tolist())) == 3  # the chord's notes no longer start on one tick
        assert np.allclose(moved.end_qn - moved.start_qn, chord.end_qn - chord.start_qn)
        assert np.all(np.abs(moved.start_qn - chord.start_qn) <= 1 / 16)
    assert performed(chord, None, np.random.default_rng(1)) is chord


def test_timing_model_by_hand_and_a_chord_shape_played_alike():
    """Steps whose two notes lie 0.01 and 0.03 quarter notes late: every step's offset is 0.02 and the notes
    spread by 0.01 around it. Played back, a chord shape that returns is spread as it was the first time."""
    from tunesmith.families.transformer.perform import grid_offsets, performed

    steps = np.arange(40) / 2.0
    q = grid_offsets([np.concatenate([steps + 0.01, steps + 0.03])], 8, quantiles=5)
    assert np.allclose(q, [[0.02] * 5, [-0.01, -0.01, 0.0, 0.01, 0.01]])
    wide = np.array([np.linspace(-0.04, 0.04, 9), np.linspace(-0.02, 0.02, 9)])
    pitch = [60, 64, 67, 60, 64, 67, 64, 60]  # C major, again, then two of its notes
    start = [1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 2.0, 2.0]  # seconds: 2, 6 and 4 quarter notes at 120 qpm
    notes = Notes.from_arrays(pitch, start, [s + 0.5 for s in start])
    played = performed(notes, wide, np.random.default_rng(3)).notes
    assert np.array_equal(played, performed(notes, wide, np.random.default_rng(3)).notes)  # one generator, one way
    spread = {}
    for t in (2.0, 4.0, 6.0):
        at = notes.notes["start_qn"] == t
        off = played["start_qn"][at] - t
        assert np.all(np.abs(off - off.mean()) <= 0.02 + 1e-12) and np.ptp(off) > 0
        spread[t] = dict(zip(notes.notes["pitch"][at].tolist(), (off - off.mean()).tolist(), strict=True))
    assert spread[2.0] == pytest.approx(spread[6.0])  # the shape came back: the same spread, note for note
    assert spread[4.0][60] - spread[4.0][64] != pytest.approx(spread[2.0][60] - spread[2.0][64])  # another shape
    means = [np.mean(played["start_qn"][notes.notes["start_qn"] == t] - t) for t in (2.0, 6.0)]
    assert means[0] != pytest.approx(means[1])  # but each onset has its own offset


def test_chord_shapes_by_hand_and_whole_chords_played_from_them():
    """Two-note chords whose lower note is 0.02 quarter notes early and three-note chords (pitches 67, 60, 64 at
    +0, +0.02, +0.04): each kept as its notes' offsets from the chord's mean, in order of pitch. Played back, a
    chord of two or three notes is spread exactly as those; one of four notes (no real chord that size) is drawn
    note by note."""
    from tunesmith.families.transformer.perform import chord_shapes, performed

    two, three = np.arange(40) / 2.0, 30 + np.arange(20) / 2.0
    start = np.concatenate([two + 0.01, two + 0.03, three, three + 0.02, three + 0.04])
    pitch = np.concatenate([np.full(40, 60), np.full(40, 64), np.full(20, 67), np.full(20, 60), np.full(20, 64)])
    table = chord_shapes([(start, pitch)], 8, per_size=8)
    assert table.shape == (16, 3)
    assert np.allclose(table[:8, :2], [-0.01, 0.01]) and np.all(np.isnan(table[:8, 2]))
    assert np.allclose(table[8:], [0.0, 0.02, -0.02])
    assert chord_shapes([(start[:40], pitch[:40])], 8) is None  # single notes only: nothing to keep
    assert chord_shapes([(start[:30], pitch[:30])], 8, least=16) is None  # too few chords of any size
    # 0.06 and 0.07 round to two grid steps of 1/8: two single notes on the grid, one chord once snapped
    near = np.arange(20)[:, None] + np.array([0.06, 0.07])
    assert chord_shapes([(near.ravel(), np.tile([50, 40], 20))], 8) is None
    assert np.allclose(chord_shapes([(near.ravel(), np.tile([50, 40], 20))], 8, 0.05), [0.005, -0.005])

    offsets = np.array([np.zeros(9), np.linspace(-0.04, 0.04, 9)])  # onsets stay put; by note: wide spreads
    notes = Notes.from_arrays([72, 48, 50, 55, 62, 40, 45, 52, 57], [1.0] * 2 + [2.0] * 3 + [3.0] * 4,
                              [1.5] * 2 + [2.5] * 3 + [3.5] * 4)  # fmt: skip
    played = performed(notes, offsets, np.random.default_rng(0), table).notes
    off = played["start_qn"] - notes.notes["start_qn"]
    assert np.allclose(off[:2], [0.01, -0.01])  # 48 before 72, by 0.02
    assert np.allclose(off[2:5], [0.0, 0.02, -0.02])  # 50, 55, 62 as 60, 64, 67 were
    assert not np.allclose(np.sort(off[5:]), np.sort(off[5:])[0])  # four notes: drawn, not a kept shape
    assert np.allclose(off[5:].mean(), 0.0)


def test_training_on_played_music_keeps_its_timing_model(tmp_path):
    """A run trained on played music (onsets off the grid, chords struck a few ms apart) keeps the data's timing
    model, with whole chords' spreads where its tokenizer snaps chords (the presets'), and its generated notes
    leave the grid."""
    from tunesmith.cli import main
    from tunesmith.families.transformer import timing_model
    from tunesmith.runfiles import array_file

    data = synthetic_dataset(tmp_path, steps=[0.0, 0.007, 0.26, 0.49], durations=[0.25, 0.5], n_notes=80)
    out = tmp_path / "run"
    train("transformer", data, out, preset="tiny", overrides={**TINY, "max_steps": "2"}, progress=False)
    offsets, shapes = (np.load(out / array_file(name)) for name in ("onset_offsets", "chord_shapes"))
    assert offsets.shape == (2, 65) and shapes.ndim == 2 and np.all(np.isfinite(shapes[:, :2]))
    assert np.allclose(np.nanmean(shapes, axis=1), 0.0)  # offsets from each chord's mean
    ds = Dataset.load(data)
    assert set(timing_model(ds, ds.indices("train"), TokenizerSpec().build())) == {"onset_offsets"}  # not snapped
    assert main(["generate", str(out), "--out", str(tmp_path / "g"), "-n", "1", "--length", "40"]) == 0
    made = read_midi(next((tmp_path / "g").glob("*.mid")))
    assert np.mean(np.abs(made.start_qn * 8 - np.round(made.start_qn * 8)) > 1e-3) > 0.5


def test_gradient_accumulation_takes_the_same_step():
    """A batch in two micro-batches gives the step of the whole batch (the loss is a mean over equal halves)."""
    from tunesmith.families.transformer.task import TransformerTask
    from tunesmith.training.trainer import TrainConfig

    class Windows:  # the task's data, only as much as a step needs
        tokens, length, pieces, lengths = 4 * 17, 17, np.array([0]), np.array([68])

    s = Sentinels(40, 2, 0)
    batch = torch.randint(1, 40, (4, 17))
    weights, grads, losses = [], [], []
    for accum in (1, 2):
        torch.manual_seed(0)
        model = MusicTransformer(TransformerConfig(vocab_size=s.vocab_size, context=16, layers=1, heads=2, width=16))
        task = TransformerTask(model, Windows(), Windows(), s, np.zeros(40, dtype=np.int64),
                               TrainConfig(batch_size=4, lr=1e-2), torch.device("cpu"),
                               fim_rate=0.5, fim_max_bars=2, grad_accum=accum)
        losses.append(task.train_step(batch, 0)["loss"])
        weights.append({k: v.clone() for k, v in model.state_dict().items()})
        grads.append({k: p.grad.clone() for k, p in model.named_parameters()})
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    assert all(torch.allclose(grads[0][k], grads[1][k], atol=1e-6) for k in grads[0])  # the mean, not the sum
    assert all(torch.allclose(weights[0][k], weights[1][k], atol=1e-6) for k in weights[0])


def test_compiled_training_step_equals_the_eager_one():
    """``compile=true`` trains through torch.compile (about 20 s to compile on a CPU): the same loss and gradients."""
    from tunesmith.families.transformer.task import TransformerTask
    from tunesmith.training.trainer import TrainConfig

    class Windows:
        tokens, length, pieces, lengths = 4 * 17, 17, np.array([0]), np.array([68])

    s = Sentinels(40, 2, 0)
    batch = torch.randint(1, 40, (4, 17))
    results = []
    for compiled in (False, True):
        torch.manual_seed(0)
        model = MusicTransformer(TransformerConfig(vocab_size=s.vocab_size, context=16, layers=1, heads=2, width=16))
        task = TransformerTask(model, Windows(), Windows(), s, np.zeros(40, dtype=np.int64),
                               TrainConfig(batch_size=4, lr=1e-2), torch.device("cpu"),
                               fim_rate=0.5, fim_max_bars=2, compile=compiled)
        loss = task.train_step(batch, 0)["loss"]
        results.append((loss, {k: p.grad.clone() for k, p in model.named_parameters()}))
    (eager, g0), (compiled, g1) = results
    assert compiled == pytest.approx(eager, rel=1e-5)
    assert all(torch.allclose(g0[k], g1[k], atol=1e-5) for k in g0)


@pytest.mark.parametrize("kv_heads", [1, 2, 4])
def test_cpu_attention_equals_sdpa_in_value_and_gradient(kv_heads):
    """The training pass's attention on a CPU (plain products, a group's query heads as one product's rows) against
    SDPA's causal attention with the key and value heads repeated: equal in fp32, and within bf16's rounding in bf16
    (the gradients of queries, keys and values too)."""
    from tunesmith.families.transformer.model import causal_attention

    torch.manual_seed(0)
    B, H, T, D = 2, 4, 24, 8
    q0, k0, v0 = torch.randn(B, H, T, D), torch.randn(B, kv_heads, T, D), torch.randn(B, kv_heads, T, D)
    up = torch.randn(B, H, T, D)
    for dtype, tol in ((torch.float32, 1e-5), (torch.bfloat16, 3e-2)):
        out, grads = [], []
        for ours in (True, False):
            q, k, v = (t.detach().to(dtype).requires_grad_() for t in (q0, k0, v0))
            if ours:
                y = causal_attention(q, k, v).view(B, H, T, D)
            else:
                r = H // kv_heads
                y = F.scaled_dot_product_attention(
                    q, k.repeat_interleave(r, 1), v.repeat_interleave(r, 1), is_causal=True
                )
            (y.float() * up).sum().backward()
            out.append(y.float())
            grads.append([t.grad.float() for t in (q, k, v)])
        scale = out[1].abs().max()
        assert (out[0] - out[1]).abs().max() <= tol * scale
        for a, b in zip(grads[0], grads[1], strict=True):
            assert (a - b).abs().max() <= tol * b.abs().max()
    # the future is masked: changing the last position's key and value changes no earlier output
    k1, v1 = k0.clone(), v0.clone()
    k1[:, :, -1], v1[:, :, -1] = 5.0, -5.0
    a, b = causal_attention(q0, k0, v0), causal_attention(q0, k1, v1)
    assert torch.equal(a.view(B, H, T, D)[:, :, :-1], b.view(B, H, T, D)[:, :, :-1])


def test_the_training_pass_uses_cpu_attention_for_short_contexts_only(monkeypatch):
    """The model's own pass gives SDPA's logits (fp32) both ways: through causal_attention up to SHORT positions,
    through SDPA past it."""
    from tunesmith.families.transformer import model as mod

    torch.manual_seed(0)
    m = MusicTransformer(TransformerConfig(vocab_size=40, context=32, layers=2, heads=4, kv_heads=2, width=32))
    x = torch.randint(0, 40, (2, 32))
    with torch.no_grad():
        ours = m(x)
        monkeypatch.setattr(mod, "SHORT", 16)
        called = []
        monkeypatch.setattr(mod, "causal_attention", lambda *a: called.append(1))
        theirs = m(x)
    assert not called
    assert torch.allclose(ours, theirs, atol=1e-5)
