"""A decoder-only Transformer over MIDI tokens, in the manner of nanoGPT.

Pre-norm blocks (RMSNorm, causal self-attention, a GELU MLP), rotary position embeddings (RoFormer, Su et al.
2021) on queries and keys instead of learned positions, attention through
``torch.nn.functional.scaled_dot_product_attention`` (flash or memory-efficient kernels where the device has
them), the output projection tied to the token embedding, and a KV cache for generation: the keys and values of
every position seen are kept in preallocated tensors, so each new token costs one position's work.

The vocabulary is the tokenizer's plus three sentinels for fill-in-the-middle training (``task.py``); the
model knows nothing of what tokens mean.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ConfigError

# the settings and presets: config.py (no torch, so that the command line reads them without loading torch)
from .config import PRESETS, TOKENIZATIONS, TransformerConfig  # noqa: F401


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.rms_norm(x, (x.shape[-1],), self.weight, self.eps)


def rope_tables(head_dim: int, length: int, base: float, device: torch.device | None = None) -> torch.Tensor:
    """cos and sin of every position's rotation angles: ``(2, length, head_dim / 2)``."""
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32, device=device) / head_dim)
    angles = torch.outer(torch.arange(length, dtype=torch.float32, device=device), inv)
    return torch.stack([angles.cos(), angles.sin()])


def apply_rope(x: torch.Tensor, rope: torch.Tensor) -> torch.Tensor:
    """Rotate each pair ``(x[2i], x[2i + 1])`` of ``x (..., T, D)`` by its position's angle; ``rope (2, T, D/2)``.
    Computed in fp32 (a bf16 input is rotated in fp32 and rounded once), as one complex product: ``(a + ib)(cos + i
    sin)`` is the pair rotated. The same numbers as four real products, a sum, a difference and a stack, in two
    arithmetic calls instead of seven, forward and backward (training 7% faster in bf16 on 2 CPU cores,
    docs/benchmarks.md). Under ``torch.compile`` the real form: inductor writes no code for complex numbers (it
    falls back to eager for them, between two compiled graphs), and it fuses the real arithmetic."""
    xf = x if x.dtype == torch.float32 else x.float()
    if torch.compiler.is_compiling():
        a, b = xf.unflatten(-1, (-1, 2)).unbind(-1)
        return torch.stack([a * rope[0] - b * rope[1], a * rope[1] + b * rope[0]], -1).flatten(-2).type_as(x)
    pairs = torch.view_as_complex(xf.unflatten(-1, (-1, 2)))  # (..., T, D/2)
    return torch.view_as_real(pairs * torch.complex(rope[0], rope[1])).flatten(-2).type_as(x)


class KVCache:
    """Keys and values of every layer for ``batch`` sequences of up to ``length`` positions, preallocated (positions
    not yet written are never read), and every position's rotation. Kept in fp32 even for bf16 weights: CPUs attend
    faster in fp32. The keys are stored transposed, ``(batch, kv_heads, head_dim, length)``, so that a query's
    scores are a plain matrix product (a quarter faster than through the transpose at 64 sequences); the values as
    ``(batch, kv_heads, length, head_dim)``."""

    def __init__(
        self, cfg: TransformerConfig, batch: int, length: int, device: torch.device, dtype: torch.dtype = torch.float32
    ):
        H, G, D = cfg.heads, cfg.kv_heads or cfg.heads, cfg.width // cfg.heads
        # one position more than asked, never written: a view of the filled positions is then never the whole
        # tensor, which the compiled step (compile_step) would compile again for (at the last position)
        n = length + 1
        self.k = [torch.empty((batch, G, D, n), device=device, dtype=dtype) for _ in range(cfg.layers)]
        self.v = [torch.empty((batch, G, n, D), device=device, dtype=dtype) for _ in range(cfg.layers)]
        # every position's rotation for the queries and keys of each head: the queries' also scales them by
        # 1 / sqrt(D), which the scores would otherwise need (a product over the whole cache length at every layer)
        rope = rope_tables(D, n, cfg.rope_base, device)  # (2, n, D/2)
        self.rot = torch.stack([rope * D**-0.5] * H + [rope] * G, 1)  # (2, H + G, n, D/2)
        self.length = length
        self.pos = 0  # positions filled

    def select(self, rows: torch.Tensor) -> None:
        """Keep only the sequences ``rows`` (finished ones dropped from a batch)."""
        self.k = [k[rows] for k in self.k]
        self.v = [v[rows] for v in self.v]


class Attention(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.heads, self.kv_heads, self.dropout = cfg.heads, cfg.kv_heads or cfg.heads, cfg.dropout
        self.head_dim = cfg.width // cfg.heads
        self.qkv = nn.Linear(cfg.width, (self.heads + 2 * self.kv_heads) * self.head_dim, bias=False)
        self.proj = nn.Linear(cfg.width, cfg.width, bias=False)

    def forward(self, x: torch.Tensor, rope: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        H, G = self.heads, self.kv_heads
        qkv = self.qkv(x).view(B, T, H + 2 * G, self.head_dim).transpose(1, 2)  # (B, H + 2G, T, D)
        qk = apply_rope(qkv[:, : H + G], rope)  # queries and keys rotated in one call
        drop = self.dropout if self.training else 0.0
        if x.device.type == "cpu" and T <= SHORT:  # plain products, a group's query heads as the rows of one
            y = causal_attention(qk[:, :H], qk[:, H:], qkv[:, H + G :], drop).view(B, H, T, self.head_dim)
        else:
            q, k, v = qk[:, :H], self._spread(qk[:, H:]), self._spread(qkv[:, H + G :])  # (B, H, T, D) all three
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=drop)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))

    def _spread(self, kv: torch.Tensor) -> torch.Tensor:
        """Key or value heads repeated for their groups of query heads ``(B, G, T, D) -> (B, H, T, D)``."""
        return kv if self.kv_heads == self.heads else kv.repeat_interleave(self.heads // self.kv_heads, dim=1)


#: the longest input attended through :func:`causal_attention` on a CPU (its scores, ``4 T^2`` bytes a head, are kept
#: for the backward pass; longer inputs go through SDPA's flash kernel, which keeps none)
SHORT = 1024


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, dropout: float = 0.0) -> torch.Tensor:
    """Causal attention of queries ``q (B, H, T, D)`` over keys and values ``(B, G, T, D)`` (``G`` divides ``H``) as
    plain matrix products: ``(B, G, H/G * T, D)``, each group's query heads as the rows of one product with its
    key head (no copies of the keys and values per query head), a masked softmax, and the product with the values.
    The training pass on a CPU: SDPA's CPU kernel (flash attention) gains nothing from bf16 (half of a bf16 step,
    docs/benchmarks.md), where these are bf16 matrix products that the CPU runs at its bf16 rate, and under
    ``torch.compile`` the scale, mask and softmax fuse into one loop. For training contexts (a few hundred
    positions: a head's scores fit in cache); generation attends through the cache (:meth:`_cached_attention`)."""
    B, H, T, D = q.shape
    G = k.shape[1]
    scores = q.reshape(B, G, (H // G) * T, D) @ k.transpose(-1, -2)  # (B, G, H/G * T, T)
    future = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1).repeat(H // G, 1)
    att = (scores * D**-0.5).masked_fill(future, float("-inf")).softmax(-1)
    att = F.dropout(att, dropout, training=dropout > 0).to(v.dtype)
    return att @ v  # (B, G, H/G * T, D)


class Block(nn.Module):
    """One layer's weights: RMSNorm, attention, RMSNorm, MLP. The pass through them is the model's
    (:meth:`MusicTransformer._forward`), once for training and generation alike."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.norm1, self.norm2 = RMSNorm(cfg.width), RMSNorm(cfg.width)
        self.attn = Attention(cfg)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.width, cfg.mlp_ratio * cfg.width, bias=False),
            nn.GELU(approximate="tanh"),
            nn.Linear(cfg.mlp_ratio * cfg.width, cfg.width, bias=False),
        )


class MusicTransformer(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        if cfg.vocab_size <= 0:
            raise ConfigError("transformer: vocab_size is set from the tokenizer; build the model through a run")
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.width)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.norm = RMSNorm(cfg.width)
        self.head = nn.Linear(cfg.width, cfg.vocab_size, bias=False)
        self.head.weight = self.embed.weight  # tied
        # rotation tables for the training context; generation past it builds longer ones on the fly
        self.register_buffer("rope", rope_tables(cfg.width // cfg.heads, cfg.context, cfg.rope_base), persistent=False)
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2's scaled init of the projections into the residual stream
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * cfg.layers))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear | nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _rope(self, length: int, device: torch.device) -> torch.Tensor:
        """The rotation table of positions 0 .. length - 1: the training context's, or built for a longer input."""
        if length <= self.rope.shape[1]:
            return self.rope[:, :length]
        return rope_tables(self.cfg.width // self.cfg.heads, length, self.cfg.rope_base, device)

    def forward(self, idx: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """The one pass of the network. Without a cache: logits ``(B, T, V)`` of the token after each of ``idx (B,
        T)`` (training). With one: ``idx`` continues the cached positions, their keys and values are written into
        it, and the logits ``(B, V)`` of the token after the last come back: generation's prompt (:meth:`prefill`)
        and step (:meth:`decode`)."""
        if cache is None:
            return self._forward(idx, None, None, None, 0)
        return self.prefill(idx, cache)

    def prefill(self, idx: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Logits ``(B, V)`` of the token after the last of ``idx (B, T)``, which continues the cached positions
        (from an empty cache: a prompt); what ``self(whole sequence)[:, -1]`` computes."""
        p, T = cache.pos, idx.shape[1]
        if p + T > cache.length:
            raise ConfigError(f"transformer: the cache holds {cache.length} positions, asked for {p + T}")
        logits = self._step(idx, cache.rot, cache.k, cache.v, p)
        cache.pos += T
        return logits

    def decode(self, tok: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Logits ``(B, V)`` of the token after ``tok (B,)``, which continues the cached positions: generation's
        step, ``prefill(tok[:, None], cache)``. With one sequence its time is mostly the overhead of each call, not
        arithmetic: the pass is plain tensor operations on the weights (no module calls, no dropout, one rotation
        of queries and keys that also scales the queries, attention as two matrix products over the cache)."""
        return self.prefill(tok[:, None], cache)

    def _step(
        self, idx: torch.Tensor, rot: torch.Tensor, ks: list[torch.Tensor], vs: list[torch.Tensor], p: int
    ) -> torch.Tensor:
        """The cached pass (the part :func:`compile_step` compiles for generation): :meth:`_forward` with a cache."""
        return self._forward(idx, rot, ks, vs, p)

    def _forward(
        self,
        idx: torch.Tensor,
        rot: torch.Tensor | None,
        ks: list[torch.Tensor] | None,
        vs: list[torch.Tensor] | None,
        p: int,
    ) -> torch.Tensor:
        """The network, once: embedding, per block RMSNorm, attention, residual, RMSNorm, MLP, residual, then the
        final norm and the tied head. Only attention differs with a cache (``rot``: the cache's rotation table,
        ``ks``/``vs``: its keys and values, ``p``: the positions filled): the tokens ``idx (B, T)`` at positions
        ``p`` to ``p + T - 1`` write their keys and values into the cache and attend over it, and only each
        sequence's last position goes through the head (:meth:`_cached_attention`). Without one, causal attention
        over ``idx`` with dropout in training (:meth:`Attention.forward`), and every position's logits."""
        cfg = self.cfg
        (B, T), C = idx.shape, cfg.width
        cached = ks is not None
        # rows: in the cached pass a 3-d input makes each F.linear a few calls more, which one row would feel
        x = F.embedding(idx.reshape(B * T), self.embed.weight) if cached else self.embed(idx)  # (B*T | B,T, C)
        rope = None if cached else self._rope(T, idx.device)
        turn = self._turn(rot, p, T) if cached else None
        drop = self.cfg.dropout if self.training else 0.0
        for i, block in enumerate(self.blocks):
            h = F.rms_norm(x, (C,), block.norm1.weight, block.norm1.eps)
            if cached:
                y = self._cached_attention(block.attn, h, rot, turn, ks[i], vs[i], p, B, T)  # type: ignore[index]
                x = x + F.linear(y.to(x.dtype), block.attn.proj.weight)
            else:
                x = x + F.dropout(block.attn(h, rope), drop, self.training)
            h = F.rms_norm(x, (C,), block.norm2.weight, block.norm2.eps)
            up, down = block.mlp[0], block.mlp[2]
            mlp = F.linear(F.gelu(F.linear(h, up.weight), approximate="tanh"), down.weight)
            x = x + (mlp if cached else F.dropout(mlp, drop, self.training))
        if cached:
            x = x if T == 1 else x[T - 1 :: T]  # each sequence's last position
        return F.linear(F.rms_norm(x, (C,), self.norm.weight, self.norm.eps), self.head.weight)

    @staticmethod
    def _turn(rot: torch.Tensor, p: int, T: int) -> torch.Tensor | None:
        """Positions ``p .. p + T - 1``'s rotations as complex numbers (None under compile: inductor writes no code
        for complex numbers; there the rotation is real arithmetic, which it fuses, 1.1 times faster)."""
        if torch.compiler.is_compiling():
            return None
        return torch.complex(rot[0, :, p : p + T], rot[1, :, p : p + T])

    def _cached_attention(
        self,
        attn: Attention,
        h: torch.Tensor,
        rot: torch.Tensor,
        turn: torch.Tensor | None,
        kc: torch.Tensor,
        vc: torch.Tensor,
        p: int,
        B: int,
        T: int,
    ) -> torch.Tensor:
        """Attention of ``h (B * T, C)`` at positions ``p ..`` over the cache's keys ``kc`` and values ``vc`` (this
        block's), after writing the new ones: ``(B, C)`` for one position, ``(B * T, C)`` for several."""
        cfg = self.cfg
        C, H, G = cfg.width, cfg.heads, cfg.kv_heads or cfg.heads
        D = C // H
        qkv = F.linear(h, attn.qkv.weight).view(B, T, H + 2 * G, D).transpose(1, 2)  # (B, H + 2G, T, D)
        # (a + ib)(cos + i sin) rotates each pair (a, b) as apply_rope does; in fp32, which the cache keeps; the
        # queries' rotations also scale them by 1 / sqrt(D) (KVCache)
        pairs = qkv[:, : H + G].float().unflatten(-1, (D // 2, 2))
        if turn is None:
            cos, sin = rot[0, :, p : p + T], rot[1, :, p : p + T]  # (H + G, T, D/2) each
            a, b = pairs.unbind(-1)
            qk = torch.stack([a * cos - b * sin, a * sin + b * cos], -1).flatten(-2)  # (B, H + G, T, D)
        else:
            qk = torch.view_as_real(torch.view_as_complex(pairs) * turn).flatten(-2)
        q, k = qk[:, :H], qk[:, H:]
        kc.narrow(3, p, T).copy_(k.transpose(-1, -2))
        vc.narrow(2, p, T).copy_(qkv[:, H + G :])
        if T == 1:  # a decode step: two matrix products over the cache, a group's query heads as the rows
            kt, vv = kc[..., : p + 1], vc[:, :, : p + 1]  # (B, G, D, p + 1), (B, G, p + 1, D)
            att = (q.reshape(B, G, H // G, D) @ kt).softmax(-1)  # (B, G, H / G, p + 1)
            return (att @ vv).reshape(B, C)
        if p == 0:  # a prompt: the new keys themselves (SDPA is 4 times slower on the cache's transposed ones)
            v = vc.narrow(2, 0, T)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=1.0, enable_gqa=True)  # (B, H, T, D)
        else:  # after cached positions: position p + t sees 0 .. p + t
            k, v = kc[..., : p + T].transpose(-1, -2), vc[:, :, : p + T]
            mask = torch.ones(T, p + T, dtype=torch.bool, device=h.device).tril(p)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=1.0, enable_gqa=True)
        return y.transpose(1, 2).reshape(B * T, C)

    def loss(
        self, idx: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100, reduction: str = "mean"
    ) -> torch.Tensor:
        """Mean (or, ``reduction="sum"``, summed) cross-entropy (nats per token) of ``targets (B, T)``; positions
        equal to ``ignore_index`` count for nothing."""
        logits = self(idx)
        return F.cross_entropy(
            logits.flatten(0, 1).float(), targets.flatten(), ignore_index=ignore_index, reduction=reduction
        )

    def new_cache(self, batch: int, length: int) -> KVCache:
        return KVCache(self.cfg, batch, length, self.head.weight.device)

    def for_generation(self, bf16: bool, compile: bool = False) -> MusicTransformer:
        """This model, or a copy of it for generation: with ``bf16``, its weights in bf16 (the rotation table
        stays fp32); with ``compile``, its prompt pass and decode step through :func:`compile_step`."""
        if not (bf16 or compile):
            return self
        twin = copy.deepcopy(self)
        if bf16:
            twin = twin.to(torch.bfloat16)
            twin.rope = self.rope.clone()
        if compile:
            twin._step = compile_step(twin._step)
        return twin


def compile_step(step: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """``step`` (a model's :meth:`~MusicTransformer._step`) through ``torch.compile``: the step's many small
    operations fused into a few generated loops and its weights frozen into the compiled code as constants (so the
    weights must not change after: compile a generation copy). Two compilations: the one-position step, its matrix
    products chosen by timing them (max-autotune), and the prompt's pass (default mode: autotuning the products of
    a prompt took 30 s more to compile and made them no faster). On 2 CPU cores 1.9 times the tokens per second of
    the plain step's best at 64 sequences and 1.6 times at one (with bf16 weights), for 20-60 s of compiling at the
    first call (docs/benchmarks.md). Positions and prompt lengths are symbolic (one compilation each for a whole
    piece); another batch size or dtype compiles again. Each call of this function keeps its own compilations
    (``isolate_recompiles``): the copies a long-lived process makes do not use up dynamo's limit of 8 per function,
    past which it would run them uncompiled without a word. Where compiling fails (e.g. no C++ compiler), a warning,
    and the plain step."""
    import torch._inductor.config as inductor

    one = torch.compile(step, dynamic=True, mode="max-autotune-no-cudagraphs", isolate_recompiles=True)
    many = torch.compile(step, dynamic=True, isolate_recompiles=True)
    failed = False

    def run(x: torch.Tensor, *args: object) -> torch.Tensor:
        nonlocal failed
        if failed:
            return step(x, *args)
        try:
            # freezing (weights as constants, prepacked for oneDNN): 1.3 times faster at 64 sequences. Only as the
            # config, not through torch.compile's options, where it was measured to have no effect
            with inductor.patch(freezing=True):
                return (one if x.shape[1] == 1 else many)(x, *args)
        except Exception as e:  # any failure to compile leaves the plain step, which works
            failed = True
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            warnings.warn(
                f"transformer: compiling the generation step failed ({first}); generating without it",
                CompileWarning,
                stacklevel=2,
            )
            return step(x, *args)

    return run


def compile_loss(loss: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """A training loss (:meth:`MusicTransformer.loss`) through ``torch.compile``: the pass's elementwise work (the
    norms, the rotation, GELU, the residual adds, the attention's mask and softmax, the casts bf16 autocast makes)
    fused into a few generated loops, forward and backward. On 2 CPU cores with bf16 autocast the step takes about
    half the time of the plain one (docs/benchmarks.md), for 10-40 s of compiling at the first step. Where
    compiling fails (e.g. no C++ compiler), a warning, and the plain loss from then on."""
    fast = torch.compile(loss)
    failed = False

    def run(*args: object) -> torch.Tensor:
        nonlocal failed
        if not failed:
            try:
                return fast(*args)
            except Exception as e:  # any failure to compile leaves the plain loss, which works
                failed = True
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                warnings.warn(f"transformer: compiling the training step failed ({first}); training without it",
                              CompileWarning, stacklevel=2)  # fmt: skip
        return loss(*args)

    return run


class CompileWarning(UserWarning):
    """``compile_step`` fell back to the plain step."""
