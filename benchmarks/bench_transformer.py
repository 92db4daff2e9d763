"""Benchmark: tunesmith's MusicTransformer against Hugging Face transformers' GPT2LMHeadModel, side by side.

Run from the project root (needs the ``bench`` extra, i.e. ``transformers``)::

    .venv/bin/python benchmarks/bench_transformer.py [--threads 2] [--json out.json]

Both models get the same width, depth, heads, context, vocabulary and batch (GPT-2: n_inner = 4 x width,
dropout 0, tied embeddings, SDPA attention where transformers offers it) and the same real tokens: MidiTok REMI
of the first ``--files`` sorted MIDI files of MAESTRO, concatenated and cut into (batch, context + 1) windows.
In one run it measures:

1. training throughput (tokens/s; forward, backward and an AdamW step) in fp32 and under CPU bf16 autocast, each
   also with the loss through ``torch.compile`` (both models alike; ``--no-compile`` skips those), the models
   alternating in interleaved rounds so that load on the machine falls on both alike;
2. achieved FLOP/s as a fraction of this machine's measured matrix-multiply peak (fp32 and bf16), training FLOPs
   per token counted as 6 N_nonembedding + 12 layers x context x width (Kaplan et al. 2020; PaLM's appendix B);
3. generation speed with the KV cache (tokens/s = new tokens x batch / s) at batch 1 and 64 from a 64-token
   prompt: tunesmith's cache loop with ``sample_logits`` against ``GPT2LMHeadModel.generate`` (sampling, cache),
   both under ``torch.inference_mode``, in fp32 and with both models' weights in bf16, also interleaved.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import time
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tunesmith.families.transformer.model import MusicTransformer, TransformerConfig
from tunesmith.sampling import sample_logits

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "maestro"
FLOPS_FORMULA = "6 * N_nonembedding + 12 * layers * context * width (per token, forward + backward)"


# --------------------------------------------------------------------------------------------------- machine


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_has(flag: str) -> bool:
    try:
        return flag in Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False


def cpu_snapshot() -> tuple[float, float, float]:
    """Busy CPU seconds of the whole machine (from /proc/stat), CPU seconds of this process, wall clock."""
    try:
        v = [int(a) for a in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        busy = float("nan")
    t = os.times()
    return busy, t.user + t.system, time.monotonic()


def other_load(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """Share of all cores kept busy by other processes between two snapshots (nan where unknown)."""
    return max(0.0, ((b[0] - a[0]) - (b[1] - a[1])) / ((b[2] - a[2]) * (os.cpu_count() or 1)))


def matmul_peak(dtype: torch.dtype, n: int = 2048, reps: int = 5, trials: int = 8) -> float:
    """Measured matrix-multiply throughput (FLOP/s): the best of ``trials`` runs of ``reps`` n x n products."""
    a, b = torch.rand(n, n).to(dtype), torch.rand(n, n).to(dtype)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(trials):
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = max(best, reps * 2 * n**3 / (time.perf_counter() - t))
    return best


# --------------------------------------------------------------------------------------------------- tokens


def load_tokens(data: Path, n_files: int) -> tuple[np.ndarray | None, int, str]:
    """REMI ids of the first ``n_files`` sorted MIDI files under ``data`` (None when there are none), the
    tokenizer's vocabulary size and a line saying where the tokens came from."""
    import miditok
    import symusic

    tok = miditok.REMI(
        miditok.TokenizerConfig(
            use_programs=True, use_tempos=True, num_velocities=32, beat_res={(0, 4): 8, (4, 12): 4}
        )
    )
    files = sorted(p for p in data.rglob("*") if p.suffix.lower() in (".mid", ".midi")) if data.is_dir() else []
    files = files[:n_files]
    if not files:
        return None, len(tok), f"NO MIDI files under {data}: random token ids instead (timings only)"
    ids: list[int] = []
    for f in files:
        seqs = tok.encode(symusic.Score(f))
        for s in seqs if isinstance(seqs, list) else [seqs]:
            ids.extend(s.ids)
    return np.asarray(ids, dtype=np.int64), len(tok), f"MidiTok REMI of the first {len(files)} MAESTRO files"


def make_windows(ids: np.ndarray | None, vocab: int, batch: int, context: int, n_batches: int) -> list[torch.Tensor]:
    """Batches ``(batch, context + 1)`` of consecutive windows of the token stream (random ids without one)."""
    if ids is None:
        g = torch.Generator().manual_seed(0)
        return [torch.randint(0, vocab, (batch, context + 1), generator=g) for _ in range(n_batches)]
    w = len(ids) // (context + 1)
    windows = torch.from_numpy(ids[: w * (context + 1)].reshape(w, context + 1))
    nb = max(1, min(n_batches, w // batch))
    if w < batch:
        windows = windows[torch.arange(batch) % w]
    return [windows[i * batch : (i + 1) * batch] for i in range(nb)]


# --------------------------------------------------------------------------------------------------- models


def build_models(args: argparse.Namespace, vocab: int) -> tuple[torch.nn.Module, torch.nn.Module, str]:
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    ts = MusicTransformer(
        TransformerConfig(
            vocab_size=vocab, context=args.context, layers=args.layers, heads=args.heads, width=args.width,
            kv_heads=args.kv_heads, dropout=0.0,
        )
    )
    hf_cfg = dict(
        vocab_size=vocab, n_positions=args.context, n_embd=args.width, n_layer=args.layers, n_head=args.heads,
        n_inner=4 * args.width, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True,
        bos_token_id=None, eos_token_id=None, pad_token_id=None,  # generate() gets pad_token_id=0
    )
    hf = None
    for impl in ("sdpa", None):
        try:
            torch.manual_seed(0)
            cfg = GPT2Config(**hf_cfg)
            hf = GPT2LMHeadModel(cfg) if impl is None else GPT2LMHeadModel._from_config(cfg, attn_implementation=impl)
            break
        except (ValueError, ImportError, TypeError):
            continue
    assert hf is not None
    impl_used = getattr(hf.config, "_attn_implementation", None) or "eager"
    gc = hf.generation_config
    gc.eos_token_id, gc.bos_token_id, gc.pad_token_id = None, None, 0
    return ts, hf, impl_used


def nonembedding_params(model: torch.nn.Module) -> int:
    """Parameters less the token (and, for GPT-2, position) embedding tables; the tied output head is the
    token embedding, so it is not counted."""
    skip = {id(p) for n, p in model.named_parameters() if n.endswith(("embed.weight", "wte.weight", "wpe.weight"))}
    return sum(p.numel() for p in model.parameters() if id(p) not in skip)


def flops_per_token(model: torch.nn.Module, args: argparse.Namespace) -> float:
    return 6 * nonembedding_params(model) + 12 * args.layers * args.context * args.width


def ts_loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return model.loss(x, y)


def hf_loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    logits = model(input_ids=x, use_cache=False).logits
    return F.cross_entropy(logits.flatten(0, 1).float(), y.flatten())


def autocast(bf16: bool, device_type: str = "cpu"):
    return torch.autocast(device_type, dtype=torch.bfloat16) if bf16 else nullcontext()


# --------------------------------------------------------------------------------------------------- training


class Trainer:
    """Training steps of ``model`` (forward through ``loss_fn``, backward, an AdamW step) on ``batches``, timed; on
    the batches' device (a GPU's work is waited for before the clock is read, ``benchmarks/bench_gpu_step.py``)."""

    def __init__(self, model: torch.nn.Module, loss_fn, batches: list[torch.Tensor], bf16: bool) -> None:
        self.model, self.loss_fn, self.batches, self.bf16 = model, loss_fn, batches, bf16
        self.opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
        self.device = batches[0].device
        self.i = 0
        self.last_loss = float("nan")

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def steps(self, n: int) -> float:
        """``n`` training steps; returns seconds."""
        self.model.train()
        self.sync()
        t = time.perf_counter()
        for _ in range(n):
            b = self.batches[self.i % len(self.batches)]
            self.i += 1
            with autocast(self.bf16, self.device.type):
                loss = self.loss_fn(self.model, b[:, :-1], b[:, 1:])
            loss.backward()
            self.opt.step()
            self.opt.zero_grad(set_to_none=True)
        self.sync()
        dt = time.perf_counter() - t
        self.last_loss = loss.item()
        return dt


def summarize(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "rounds": values}


def bench_training(ts, hf, batches, args) -> dict:
    tokens = args.batch * args.context * args.steps
    configs = {
        "hf_fp32": Trainer(hf, hf_loss, batches, False),
        "ts_fp32": Trainer(ts, ts_loss, batches, False),
        "hf_bf16": Trainer(hf, hf_loss, batches, True),
        "ts_bf16": Trainer(ts, ts_loss, batches, True),
    }
    if args.compile:  # both the same way: the whole loss (forward, and the backward torch.compile derives) compiled
        hf_c, ts_c = torch.compile(hf_loss), torch.compile(ts_loss)
        configs |= {
            "hf_fp32_c": Trainer(hf, hf_c, batches, False),
            "ts_fp32_c": Trainer(ts, ts_c, batches, False),
            "hf_bf16_c": Trainer(hf, hf_c, batches, True),
            "ts_bf16_c": Trainer(ts, ts_c, batches, True),
        }
    for name, tr in configs.items():
        tr.steps(args.warmup)
        print(f"  warm-up {name}: loss {tr.last_loss:.3f}", flush=True)
    rates: dict[str, list[float]] = {k: [] for k in configs}
    for r in range(args.rounds):
        for name, tr in configs.items():
            rates[name].append(tokens / tr.steps(args.steps))
        print("  round", r + 1, " ".join(f"{k} {v[-1]:,.0f}" for k, v in rates.items()), flush=True)
    out = {k: summarize(v) | {"last_loss": configs[k].last_loss} for k, v in rates.items()}
    return out


def paired(num: list[float], den: list[float]) -> dict:
    """Ratios of two configurations round by round (both measured within the same round): median, min, max."""
    r = [a / b for a, b in zip(num, den, strict=True)]
    return {"median": statistics.median(r), "min": min(r), "max": max(r)}


# --------------------------------------------------------------------------------------------------- generation


def ts_generate(model, prompt: torch.Tensor, n_new: int, gen: torch.Generator) -> torch.Tensor:
    """Prefill the prompt through the cache, then one token at a time (``n_new - 1`` one-position steps, as
    ``generate`` does: the last token drawn needs no forward pass). ``model`` in fp32 or its bf16 copy
    (``model.for_generation(True)``, what ``tunesmith generate`` uses where the CPU has native bf16)."""
    cache = model.new_cache(prompt.shape[0], prompt.shape[1] + n_new)
    logits = model.prefill(prompt, cache)
    out = []
    for i in range(n_new):
        tok = sample_logits(logits, generator=gen)
        out.append(tok)
        if i + 1 < n_new:
            logits = model.decode(tok, cache)
    return torch.stack(out, 1)


def hf_generate(model, prompt: torch.Tensor, n_new: int, compiled: bool = False) -> torch.Tensor:
    """``generate`` as it comes, or ``compiled``: transformers' own route to a compiled decode step, a static cache
    and ``torch.compile`` of the forward pass (its ``CompileConfig``, which it applies on GPUs by itself and on a
    CPU when asked with ``_compile_all_devices``)."""
    kw: dict = {}
    if compiled:
        from transformers import CompileConfig

        cc = CompileConfig()
        cc._compile_all_devices = True
        kw = {"cache_implementation": "static", "compile_config": cc}
    out = model.generate(
        prompt, attention_mask=torch.ones_like(prompt), do_sample=True, top_k=0, top_p=1.0, temperature=1.0,
        max_new_tokens=n_new, min_new_tokens=n_new, use_cache=True, pad_token_id=0, **kw,
    )
    return out[:, prompt.shape[1] :]


#: training's configurations: eager, then the loss compiled (``--no-compile`` leaves those out)
TRAIN_NAMES = {
    "hf_fp32": "GPT-2 fp32", "ts_fp32": "tunesmith fp32", "hf_bf16": "GPT-2 bf16 autocast",
    "ts_bf16": "tunesmith bf16 autocast", "hf_fp32_c": "GPT-2 fp32 compiled", "ts_fp32_c": "tunesmith fp32 compiled",
    "hf_bf16_c": "GPT-2 bf16 compiled", "ts_bf16_c": "tunesmith bf16 compiled",
}  # fmt: skip
#: generation's configurations: eager in fp32 and with bf16 weights, then compiled (``--compile``)
GEN_NAMES = {
    "hf_fp32": "GPT-2 fp32", "ts_fp32": "tunesmith fp32", "hf_bf16": "GPT-2 bf16", "ts_bf16": "tunesmith bf16",
    "hf_fp32_c": "GPT-2 fp32 compiled", "ts_fp32_c": "tunesmith fp32 compiled",
    "hf_bf16_c": "GPT-2 bf16 compiled", "ts_bf16_c": "tunesmith bf16 compiled",
}


def bench_generation(ts, hf, stream: torch.Tensor, args) -> dict:
    ts.eval()
    hf.eval()
    ts16 = ts.for_generation(True).eval()
    hf16 = copy.deepcopy(hf).to(torch.bfloat16).eval()
    gen = torch.Generator().manual_seed(0)
    grad_ctx = torch.inference_mode if args.grad_mode == "inference_mode" else torch.no_grad
    res: dict = {}
    for b in args.gen_batches:
        prompt = stream[torch.arange(b) % len(stream), : args.prompt].contiguous()
        n_new = args.gen_tokens
        runs = {  # bf16: both models' weights in bf16 (the same method for both)
            "hf_fp32": lambda p=prompt, n=n_new: hf_generate(hf, p, n),
            "ts_fp32": lambda p=prompt, n=n_new: ts_generate(ts, p, n, gen),
            "hf_bf16": lambda p=prompt, n=n_new: hf_generate(hf16, p, n),
            "ts_bf16": lambda p=prompt, n=n_new: ts_generate(ts16, p, n, gen),
        }
        if args.compile:  # a compiled copy per batch size (what `tunesmith generate --compile` makes per call)
            tsc, tsc16 = ts.for_generation(False, compile=True), ts.for_generation(True, compile=True)
            runs |= {
                "hf_fp32_c": lambda p=prompt, n=n_new: hf_generate(hf, p, n, compiled=True),
                "ts_fp32_c": lambda p=prompt, n=n_new, m=tsc: ts_generate(m, p, n, gen),
                "hf_bf16_c": lambda p=prompt, n=n_new: hf_generate(hf16, p, n, compiled=True),
                "ts_bf16_c": lambda p=prompt, n=n_new, m=tsc16: ts_generate(m, p, n, gen),
            }
        rates: dict[str, list[float]] = {k: [] for k in runs}
        first: dict[str, float] = {}
        with grad_ctx():
            for name, fn in runs.items():  # warm-up (compiling), and a check that every run yields the length asked
                t = time.perf_counter()
                got = fn()
                first[name] = time.perf_counter() - t
                assert tuple(got.shape) == (b, n_new), (name, tuple(got.shape))
            for _ in range(args.gen_rounds):
                for name, fn in runs.items():
                    t = time.perf_counter()
                    fn()
                    rates[name].append(b * n_new / (time.perf_counter() - t))
        res[f"batch{b}"] = {k: {**summarize(v), "first_call_s": first[k]} for k, v in rates.items()}
        print(f"  batch {b}: " + " ".join(f"{k} {statistics.median(v):,.0f}" for k, v in rates.items()), flush=True)
        print("  first call (compiling), s: " + " ".join(f"{k} {first[k]:.1f}" for k in runs), flush=True)
    return res


def profile_ts(ts, stream: torch.Tensor, batches, args) -> None:
    """Top operators of tunesmith's generation (batch 1, fp32) and of one bf16 training step."""
    from torch.profiler import ProfilerActivity, profile

    gen = torch.Generator().manual_seed(0)
    prompt = stream[:1, : args.prompt].contiguous()
    with torch.inference_mode():
        ts.eval()
        ts_generate(ts, prompt, 16, gen)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            ts_generate(ts, prompt, args.gen_tokens, gen)
    print("\nprofile: tunesmith generation, batch 1, fp32")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
    tr = Trainer(ts, ts_loss, batches, True)
    tr.steps(1)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        tr.steps(1)
    print("\nprofile: tunesmith training step, bf16 autocast")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


# --------------------------------------------------------------------------------------------------- report


def fmt(s: dict) -> str:
    return f"{s['median']:>9,.0f}  ({s['min']:,.0f}-{s['max']:,.0f})"


def report(res: dict) -> None:
    m, tr, ge = res["machine"], res["training"], res["generation"]
    print("\n" + "=" * 100)
    print(f"date {res['date']}; CPU {m['cpu']}, {m['cores']} cores, {m['threads']} threads, avx512_bf16 "
          f"{m['avx512_bf16']}; torch {m['torch']}, transformers {m['transformers']}")
    print(f"tokens: {res['tokens']['source']} ({res['tokens']['count']:,} tokens, vocabulary {res['tokens']['vocab']})")
    c = res["config"]
    print(f"model: {c['layers']} layers, width {c['width']}, {c['heads']} heads, context {c['context']}, batch "
          f"{c['batch']}; GPT-2 attention: {res['hf_attn_implementation']}; parameters tunesmith "
          f"{res['params']['ts']:,}, GPT-2 {res['params']['hf']:,}")
    pk = res["peak"]
    print(f"matmul peak (2048^3, best of two measurements): fp32 {pk['fp32'] / 1e9:,.1f} GFLOP/s, "
          f"bf16 {pk['bf16'] / 1e9:,.1f} GFLOP/s")
    print(f"FLOPs per token: {FLOPS_FORMULA}: tunesmith {res['flops_per_token']['ts'] / 1e6:.1f} M, "
          f"GPT-2 {res['flops_per_token']['hf'] / 1e6:.1f} M")
    print(f"\ntraining, tokens/s, median (min-max) of {c['rounds']} interleaved rounds of {c['steps']} steps")
    print(f"{'config':<22}{'tokens/s':>30}{'GFLOP/s':>10}{'of peak':>9}{'loss':>8}")
    for k, name in TRAIN_NAMES.items():
        if k not in tr:
            continue
        s = tr[k]
        print(f"{name:<22}{fmt(s):>30}{s['gflops']:>10.1f}{s['of_peak']:>9.1%}{s['last_loss']:>8.3f}")
    r = res["ratios"]["train"]
    compiled = "".join(f", compiled {k} {fr(r[k + '_compiled'])}" for k in ("fp32", "bf16") if k + "_compiled" in r)
    print(f"ratios tunesmith / GPT-2 (median of the rounds' ratios, min-max): fp32 {fr(r['fp32'])}, bf16 "
          f"{fr(r['bf16'])}{compiled}; best / best ({TRAIN_NAMES[r['best_ts']]} / {TRAIN_NAMES[r['best_hf']]}) "
          f"{fr(r['best_vs_best'])}; not like for like: tunesmith bf16 / GPT-2 fp32 {fr(r['ts_bf16_vs_hf_fp32'])}")
    print(f"other processes kept {res['other_load_training']:.0%} of the machine busy during the training rounds")
    print(f"\ngeneration, {c['prompt']}-token prompt + {c['gen_tokens']} new tokens, tokens/s (new x batch / s), "
          f"median (min-max) of {c['gen_rounds']} interleaved rounds, {c['grad_mode']}; the first call's seconds "
          "(compiling, for the compiled)")
    batches = list(ge)
    print(f"{'config':<26}" + "".join(f"{'batch ' + b[5:]:>32}{'first s':>9}" for b in batches))
    for k, name in GEN_NAMES.items():
        if k in ge[batches[0]]:
            print(f"{name:<26}" + "".join(f"{fmt(ge[b][k]):>32}{ge[b][k]['first_call_s']:>9.1f}" for b in batches))
    for b in ge:
        g = res["ratios"][b]
        print(f"batch {b[5:]}: tunesmith / GPT-2, eager fp32 {fr(g['fp32'])}, eager bf16 {fr(g['bf16'])}; best "
              f"eager / best eager {fr(g['eager_best_vs_best'])}")
        print(f"  best tunesmith ({GEN_NAMES[g['best_ts']]}) / best GPT-2 generate as it comes "
              f"({GEN_NAMES[g['best_hf_eager']]}) {fr(g['best_vs_hf_eager'])}; / best GPT-2 of all "
              f"({GEN_NAMES[g['best_hf']]}) {fr(g['best_vs_best'])}")
    print(f"other processes kept {res['other_load_generation']:.0%} of the machine busy during generation")
    print("\ntargets (median ratios), judged like for like only: the same precision and both compiled or neither, "
          "and the best configuration of each against the other's best")
    for label, value, target in verdicts(res):
        print(f"  {label}: {value:.2f}x, target {target:.0f}x: {'met' if value >= target else 'NOT met'}")
    print("  (tunesmith's best against GPT-2's generate as it comes, and bf16 against fp32: shown above, not judged)")


def verdicts(res: dict) -> list[tuple[str, float, float]]:
    """The (label, median ratio, target) pairs a target is judged on: like for like only."""
    out = []
    r = res["ratios"].get("train")
    if r:
        for key, what in (("fp32", "fp32 / fp32"), ("bf16", "bf16 / bf16"), ("fp32_compiled", "compiled fp32 / fp32"),
                          ("bf16_compiled", "compiled bf16 / bf16"), ("best_vs_best", "best / best")):
            if key in r:
                out.append((f"training, {what}", r[key]["median"], 2.0))
    for b in res.get("generation", {}):
        g, target = res["ratios"][b], 4.0 if int(b[5:]) >= 64 else 2.0
        for key, what in (("fp32", "eager fp32 / fp32"), ("bf16", "eager bf16 / bf16"),
                          ("fp32_compiled", "compiled fp32 / fp32"), ("bf16_compiled", "compiled bf16 / bf16"),
                          ("eager_best_vs_best", "best eager / best eager"),
                          ("best_vs_best", "best / best of all")):
            if key in g:
                out.append((f"generation batch {b[5:]}, {what}", g[key]["median"], target))
    return out


def fr(r: dict) -> str:
    return f"{r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MAESTRO folder (default: ../shared/data/maestro)")
    ap.add_argument("--files", type=int, default=40, help="first N sorted MIDI files (default 40)")
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=0, help="tunesmith's key-value heads (0: as many as --heads)")
    ap.add_argument("--context", type=int, default=512)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=2, help="timed training steps per configuration per round")
    ap.add_argument("--warmup", type=int, default=2, help="untimed training steps per configuration first")
    ap.add_argument("--rounds", type=int, default=7, help="interleaved training rounds")
    ap.add_argument("--prompt", type=int, default=64, help="prompt length for generation")
    ap.add_argument("--gen-tokens", type=int, default=256, help="new tokens per generated sequence")
    ap.add_argument("--gen-batches", type=int, nargs="+", default=[1, 64], help="generation batch sizes")
    ap.add_argument("--gen-rounds", type=int, default=5, help="interleaved generation rounds")
    ap.add_argument("--grad-mode", choices=("inference_mode", "no_grad"), default="inference_mode")
    ap.add_argument(
        "--no-compile",
        dest="compile",
        action="store_false",
        help="skip the compiled training and generation runs (both models through torch.compile: minutes of compiling)",
    )
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--skip-gen", action="store_true")
    ap.add_argument("--profile", action="store_true", help="also print profiles of tunesmith's generation and step")
    ap.add_argument("--json", type=Path, default=None, metavar="PATH", help="write the figures as JSON")
    args = ap.parse_args()
    if args.prompt + args.gen_tokens > args.context:
        sys.exit("--prompt + --gen-tokens must fit in --context (GPT-2's learned positions stop there)")
    torch.set_num_threads(args.threads)
    try:
        import transformers
    except ImportError:
        sys.exit("this benchmark needs Hugging Face transformers: pip install -e '.[bench]'")

    res: dict = {
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": {
            "cpu": cpu_model(), "cores": os.cpu_count(), "threads": torch.get_num_threads(),
            "avx512_bf16": cpu_has("avx512_bf16"), "capability": torch.backends.cpu.get_cpu_capability(),
            "torch": torch.__version__, "transformers": transformers.__version__, "python": platform.python_version(),
        },
        "config": {k: v for k, v in vars(args).items() if k not in ("data", "json")},
        "flops_formula": FLOPS_FORMULA,
    }
    print(f"{res['date']}: {res['machine']}", flush=True)
    t0 = time.perf_counter()
    ids, vocab_tok, source = load_tokens(args.data, args.files)
    vocab = vocab_tok + 3  # tunesmith's vocabulary: the tokenizer's plus three fill-in-the-middle sentinels
    print(f"tokens: {source}: {0 if ids is None else len(ids):,} ids, vocabulary {vocab} "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)
    res["tokens"] = {"source": source, "count": 0 if ids is None else int(len(ids)), "vocab": vocab,
                     "real": ids is not None}
    batches = make_windows(ids, vocab, args.batch, args.context, 256)
    stream = make_windows(ids, vocab, max(args.gen_batches), args.context, 1)[0]
    ts, hf, impl = build_models(args, vocab)
    res["hf_attn_implementation"] = impl
    res["params"] = {"ts": sum(p.numel() for p in ts.parameters()), "hf": sum(p.numel() for p in hf.parameters()),
                     "ts_nonembedding": nonembedding_params(ts), "hf_nonembedding": nonembedding_params(hf)}
    res["flops_per_token"] = {"ts": flops_per_token(ts, args), "hf": flops_per_token(hf, args)}
    res["peak"] = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}  # measured again at the end
    print(f"peak: fp32 {res['peak']['fp32'] / 1e9:.1f} GFLOP/s, bf16 {res['peak']['bf16'] / 1e9:.1f} GFLOP/s; "
          f"GPT-2 attention: {impl}", flush=True)
    ratios: dict = {}
    res["training"], res["generation"] = {}, {}
    if not args.skip_train:
        print("training", flush=True)
        snap = cpu_snapshot()
        tr = bench_training(ts, hf, batches, args)
        res["other_load_training"] = other_load(snap, cpu_snapshot())
        for k, s in tr.items():
            s["gflops"] = s["median"] * res["flops_per_token"][k[:2]] / 1e9
            s["of_peak"] = s["gflops"] * 1e9 / res["peak"][k[3:7]]
        res["training"] = tr
        rd = {k: s["rounds"] for k, s in tr.items()}
        med = {k: s["median"] for k, s in tr.items()}
        best_ts = max((k for k in med if k.startswith("ts")), key=med.get)
        best_hf = max((k for k in med if k.startswith("hf")), key=med.get)
        ratios["train"] = {
            "fp32": paired(rd["ts_fp32"], rd["hf_fp32"]),
            "bf16": paired(rd["ts_bf16"], rd["hf_bf16"]),
            **{f"{k}_compiled": paired(rd[f"ts_{k}_c"], rd[f"hf_{k}_c"])
               for k in ("fp32", "bf16") if f"ts_{k}_c" in rd},  # fmt: skip
            "best_vs_best": paired(rd[best_ts], rd[best_hf]),
            "best_ts": best_ts,
            "best_hf": best_hf,
            # not like for like: printed, never judged against a target
            "ts_bf16_vs_hf_fp32": paired(rd["ts_bf16"], rd["hf_fp32"]),
        }
    if not args.skip_gen:
        print("generation", flush=True)
        snap = cpu_snapshot()
        ge = bench_generation(ts, hf, stream, args)
        res["other_load_generation"] = other_load(snap, cpu_snapshot())
        res["generation"] = ge
        for b, row in ge.items():
            med = {k: s["median"] for k, s in row.items()}
            rd = {k: s["rounds"] for k, s in row.items()}
            eager_ts = max(("ts_fp32", "ts_bf16"), key=med.get)
            eager_hf = max(("hf_fp32", "hf_bf16"), key=med.get)
            best_ts = max((k for k in med if k.startswith("ts")), key=med.get)
            best_hf = max((k for k in med if k.startswith("hf")), key=med.get)
            ratios[b] = {
                "fp32": paired(rd["ts_fp32"], rd["hf_fp32"]),
                "bf16": paired(rd["ts_bf16"], rd["hf_bf16"]),
                **{f"{k}_compiled": paired(rd[f"ts_{k}_c"], rd[f"hf_{k}_c"]) for k in ("fp32", "bf16")
                   if f"ts_{k}_c" in rd and f"hf_{k}_c" in rd},
                "eager_best_vs_best": paired(rd[eager_ts], rd[eager_hf]),
                "best_vs_hf_eager": paired(rd[best_ts], rd[eager_hf]),
                "best_vs_best": paired(rd[best_ts], rd[best_hf]),
                "best_ts": best_ts,
                "best_hf_eager": eager_hf,
                "best_hf": best_hf,
            }
    res["ratios"] = ratios
    # the peak is measured again at the end (another process may have been busy the first time): the best counts
    for dt, key in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")):
        res["peak"][key] = max(res["peak"][key], matmul_peak(dt))
    for k, s in res["training"].items():
        s["of_peak"] = s["gflops"] * 1e9 / res["peak"][k[3:7]]
    res["wall_s"] = time.perf_counter() - t0
    if not args.skip_train and not args.skip_gen:
        report(res)
    else:
        print(json.dumps(ratios, indent=1))
    print(f"\nwall time {res['wall_s']:.0f} s")
    if args.profile:
        profile_ts(ts, stream, batches, args)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
