"""C-RNN-GAN (Mogren 2016, "C-RNN-GAN: Continuous recurrent neural networks with adversarial training") and
its next-event baseline.

Generator G: a unidirectional LSTM (depth 2, 350 units in the paper) whose input at each step is a random
vector concatenated with G's own output of the previous step; a linear layer maps each step's top hidden state
to the tone features (:mod:`tunesmith.representations.tones`, standardised). Discriminator D: a bidirectional
LSTM (depth 2, 350 units); each step's output goes through one linear layer shared over time and a sigmoid, and
the decision is the mean over steps. D's last LSTM outputs (B, T, 2H) are its "last hidden representation",
which feature matching compares for real and generated batches. The baseline is G alone, trained to predict the
next tone event with squared error.

The losses live beside the model: the standard GAN losses, feature matching, L2 on the weights, and squared
error for pretraining and the baseline.

Speed. G's input depends on its own previous output, so it must be unrolled step by step, which PyTorch's fused
``nn.LSTM`` cannot do. ``Generator.forward`` runs the unrolled pass as one ``torch.autograd.Function`` with a
hand-written backward pass (:func:`_unroll_forward`, :func:`_unroll_backward`): the noise's contribution to
every step is one matrix product up front; per step only the recurrent products remain (layer 1:
``[h1_{t-1}, y_{t-1}] @ U1``; layer 2: ``[h1_t, h2_{t-1}] @ U2``; the output ``y_t = h2_t @ Wout``), on the CPU
through oneDNN with each weight packed once per unroll (MKL's path for 20-row products is 2.3 to 2.6 times
slower here); gate activations work in place on preallocated buffers, no autograd graph is built per step, and
the gradients of the weights come from one large product per layer after the backward loop.
``benchmarks/bench_crnngan_step.py`` compares a full adversarial step with one where G is a fused ``nn.LSTM``
of the same size. The teacher-forced pass (pretraining, the baseline) is an ordinary ``nn.LSTM`` call on the
same parameters.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ConfigError

# the settings and presets: config.py (no torch, so that the command line reads them without loading torch)
from .config import KINDS, PRESETS, CRNNGANConfig  # noqa: F401

# ================================================================================================ G's unrolled pass
_ONEDNN: bool | None = None


def _onednn_ok() -> bool:
    """Whether oneDNN's linear operators work here as used below (packed weight with a bias or an added tensor;
    transposed views): probed once against plain products, since they are internal operators of PyTorch."""
    global _ONEDNN
    if _ONEDNN is None:
        try:
            lp = torch.ops.mkldnn._linear_pointwise
            g = torch.Generator().manual_seed(0)
            x, w, b, other = (torch.randn(*s, generator=g) for s in ((3, 5), (4, 5), (4,), (3, 4)))
            packed = torch.ops.mkldnn._reorder_linear_weight(w, 3)
            checks = [
                (lp(x, packed, b, "none", [], ""), x @ w.t() + b),
                (lp(x, packed, None, "none", [], ""), x @ w.t()),
                (lp(x.t(), other.t(), None, "none", [], ""), x.t() @ other),
            ]
            _ONEDNN = bool(torch.backends.mkldnn.is_available()) and all(
                got.shape == want.shape and torch.allclose(got, want, atol=1e-5) for got, want in checks
            )
        except (AttributeError, RuntimeError, TypeError):
            _ONEDNN = False
    return _ONEDNN


class _Product:
    """``x @ w.T (+ bias) (+ other)`` for one weight ``w (N, K)`` used at every step of an unroll.

    On the CPU in float32 the weight is packed once per unroll for oneDNN: PyTorch's ``addmm`` goes to MKL, which
    took 2.3 to 2.6 times as long for these shapes (20 x 354 x 1400: 226 vs 96 us; 20 x 700 x 1400: 455 vs
    176 us; AMD EPYC, one thread). Elsewhere (GPU, float64) it is ``addmm``."""

    def __init__(self, w: torch.Tensor, rows: int) -> None:
        self.packed = None
        if w.device.type == "cpu" and w.dtype == torch.float32 and _onednn_ok():
            self.packed = torch.ops.mkldnn._reorder_linear_weight(w.contiguous(), rows)
        self.wt = w.t()

    def __call__(
        self, x: torch.Tensor, bias: torch.Tensor | None = None, other: torch.Tensor | None = None
    ) -> torch.Tensor:
        if self.packed is not None:
            y = torch.ops.mkldnn._linear_pointwise(x, self.packed, bias, "none", [], "")
            # adding afterwards is faster than oneDNN's fused "add" post-op here (102 vs 114 us at 20 x 354 x 1400)
            return y.add_(other) if other is not None else y
        if other is not None:
            y = torch.addmm(other, x, self.wt)
            return y.add_(bias) if bias is not None else y
        return torch.addmm(bias, x, self.wt) if bias is not None else x @ self.wt


def _product_tn(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a.T @ b`` for the weight gradients, ``a (M, N)``, ``b (M, K)`` with M = steps x batch and N >= K: on the
    CPU through oneDNN as ``(b.T @ a).T`` on transposed views (oneDNN copies the smaller operand; about twice
    MKL's ``mm`` for these shapes on an AMD EPYC), else ``mm``."""
    if a.device.type == "cpu" and a.dtype == torch.float32 and _onednn_ok():
        return torch.ops.mkldnn._linear_pointwise(b.t(), a.t(), None, "none", [], "").t()
    return a.t() @ b


class _Tape:
    """Everything the backward pass of one unroll needs (no autograd inside: buffers are written in place)."""

    def __init__(self, L: int) -> None:
        self.A: list[torch.Tensor] = []  # per layer (T, B, K_l): the inputs of its recurrent product
        self.gates: list[list[torch.Tensor]] = [[] for _ in range(L)]  # (B, 4H) activated, order i, f, o, g
        self.cells: list[list[torch.Tensor]] = [[] for _ in range(L)]  # c_{t-1} for t = 0..T
        self.tanh_c: list[list[torch.Tensor]] = [[] for _ in range(L)]
        self.hs: list[list[torch.Tensor]] = [[] for _ in range(L)]  # h_t (views into A or Htop)
        self.htop: torch.Tensor | None = None  # (T, B, H)


def _unroll_forward(
    P: torch.Tensor,
    U: list[torch.Tensor],
    b: list[torch.Tensor | None],
    Wout: torch.Tensor,
    bout: torch.Tensor,
    h0: list[torch.Tensor] | None = None,
    c0: list[torch.Tensor] | None = None,
    y0: torch.Tensor | None = None,
) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor], _Tape]:
    """G's free-running forward pass, without autograd.

    ``P (T, B, 4H)``: layer 1's pre-activations from the noise and both biases; ``U[0] (4H, H + F)`` acts on
    ``[h1_{t-1}, y_{t-1}]``, ``U[k] (4H, 2H)`` on ``[h_{k,t}, h_{k+1,t-1}]`` (layer below now, own state before)
    with bias ``b[k]``; gate rows in the order i, f, o, g. ``y_t = h_top,t @ Wout.T + bout``; ``y_{-1}`` is
    ``y0`` or G's output for its initial state. Returns Y (T, B, F), the final h and c of each layer, the tape."""
    T, B, G4 = P.shape
    H = G4 // 4
    L = len(U)
    tape = _Tape(L)
    h_init = h0 if h0 is not None else [P.new_zeros(B, H) for _ in range(L)]
    c_init = c0 if c0 is not None else [P.new_zeros(B, H) for _ in range(L)]
    A = [P.new_empty(T, B, u.shape[1]) for u in U]
    A[0][0, :, :H] = h_init[0]
    A[0][0, :, H:] = y0 if y0 is not None else torch.addmm(bout, h_init[L - 1], Wout.t())
    for k in range(1, L):
        A[k][0, :, H:] = h_init[k]
    htop = P.new_empty(T, B, H)
    Y = P.new_empty(T, B, Wout.shape[0])
    products = [_Product(u, B) for u in U]
    wout_t = Wout.t()
    # per-step views, made once: each layer's input, where its h goes now and where it goes for the next step
    inputs = [a.unbind(0) for a in A]
    h_now = [A[k + 1][:, :, :H].unbind(0) for k in range(L - 1)] + [htop.unbind(0)]
    h_next = [A[0][1:, :, :H].unbind(0)] + [A[k][1:, :, H:].unbind(0) for k in range(1, L)]
    y_next = A[0][1:, :, H:].unbind(0)
    P_t, Y_t = P.unbind(0), Y.unbind(0)
    cells = list(c_init)
    for k in range(L):
        tape.cells[k].append(c_init[k])
    mul, tanh, addmm = torch.mul, torch.tanh, torch.addmm  # the loop runs 100s of times: local names
    split3, split1 = [3 * H, H], [H, H, H]
    layers = [
        (k, products[k], inputs[k], b[k], h_now[k], h_next[k], tape.gates[k], tape.cells[k], tape.tanh_c[k], tape.hs[k])
        for k in range(L)
    ]
    for t in range(T):
        last = t + 1 == T
        for k, product, x, bias, now, nxt, t_gates, t_cells, t_tanh, t_hs in layers:
            gates = product(x[t], None, P_t[t]) if k == 0 else product(x[t], bias)  # (B, 4H)
            sig, g = gates.split(split3, dim=1)
            sig.sigmoid_()
            g.tanh_()
            i, f, o = sig.split(split1, dim=1)
            c = mul(f, cells[k])
            c.addcmul_(i, g)
            tc = tanh(c)
            h = mul(o, tc, out=now[t])
            if not last:  # h is this layer's recurrent input at the next step
                nxt[t].copy_(h)
            cells[k] = c
            t_gates.append(gates)
            t_cells.append(c)
            t_tanh.append(tc)
            t_hs.append(h)
        addmm(bout, htop[t], wout_t, out=Y_t[t])
        if not last:
            y_next[t].copy_(Y_t[t])
    tape.A, tape.htop = A, htop
    h_last = [tape.hs[k][-1] for k in range(L)] if T else h_init
    return Y, h_last, cells, tape


def _unroll_backward(
    dY: torch.Tensor, tape: _Tape, U: list[torch.Tensor], Wout: torch.Tensor
) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """Backpropagation through time for :func:`_unroll_forward` (zero initial state, ``y_{-1} = bout``).
    Returns dP, dU per layer, db per layer (layer 0's is in dP), dWout, dbout."""
    T, B, F_ = dY.shape
    L = len(U)
    H = Wout.shape[1]
    A = tape.A
    DG = [dY.new_empty(T, B, 4 * H) for _ in range(L)]
    dact = [dY.new_empty(B, 4 * H) for _ in range(L)]
    dYtot = dY.new_empty(T, B, F_)
    products = [_Product(u.t(), B) for u in U]  # dA = DG @ U
    ones = dY.new_ones(B, H)
    dh_rec = [dY.new_zeros(B, H) for _ in range(L)]  # into h_{k,t} from step t + 1
    dc_rec = [dY.new_zeros(B, H) for _ in range(L)]
    dy_rec = dY.new_zeros(B, F_)  # into y_t from step t + 1 (layer 1's input)
    dY_t, dYtot_t = dY.unbind(0), dYtot.unbind(0)
    mul, addcmul = torch.mul, torch.addcmul  # the loop runs 100s of times: local names
    split3, split1 = [3 * H, H], [H, H, H]
    layers = [
        (
            k,
            products[k],
            DG[k].unbind(0),
            dact[k].split(split3, dim=1),
            dact[k].split(split1 + [H], dim=1),
            tape.gates[k],
            tape.tanh_c[k],
            tape.hs[k],
            tape.cells[k],
        )
        for k in range(L - 1, -1, -1)
    ]
    for t in range(T - 1, -1, -1):
        dy = torch.add(dY_t[t], dy_rec, out=dYtot_t[t])
        dh = torch.addmm(dh_rec[L - 1], dy, Wout)  # into h_top,t
        for k, product, DG_t, (da_s, da_g), (da_i, da_f, da_o, _), t_gates, t_tanh, t_hs, t_cells in layers:
            gates, tc, h = t_gates[t], t_tanh[t], t_hs[t]
            s, g = gates.split(split3, dim=1)
            i, f, o = s.split(split1, dim=1)
            dg_s, dg_g = DG_t[t].split(split3, dim=1)
            dc = addcmul(dc_rec[k], dh, addcmul(o, h, tc, value=-1.0))  # + dh * o * (1 - tanh^2 c)
            mul(dh, tc, out=da_o)
            mul(dc, g, out=da_i)
            mul(dc, t_cells[t], out=da_f)
            mul(dc, i, out=da_g)
            dc_rec[k] = dc.mul_(f)
            mul(da_s, addcmul(s, s, s, value=-1.0), out=dg_s)  # sigmoid' = s (1 - s)
            mul(da_g, addcmul(ones, g, g, value=-1.0), out=dg_g)  # tanh' = 1 - g^2
            dA = product(DG_t[t])  # (B, K_l)
            if k == 0:
                dh_rec[0], dy_rec = dA.split([H, dA.shape[1] - H], dim=1)
            else:
                below, dh_rec[k] = dA.split(H, dim=1)
                dh = below + dh_rec[k - 1]
    dU = [_product_tn(DG[k].reshape(T * B, 4 * H), A[k].reshape(T * B, -1)) for k in range(L)]
    db = [DG[k].sum((0, 1)) for k in range(L)]
    dWout = dYtot.reshape(T * B, F_).t() @ tape.htop.reshape(T * B, H)
    dbout = dYtot.sum((0, 1)) + dy_rec.sum(0)  # y_{-1} = bout
    return DG[0], dU, db, dWout, dbout


class _Unroll(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, P: torch.Tensor, Wout: torch.Tensor, bout: torch.Tensor, *Ub: torch.Tensor) -> torch.Tensor:
        L = len(Ub) // 2
        U, b = list(Ub[:L]), [None, *Ub[L + 1 :]]
        Y, _, _, tape = _unroll_forward(P, U, b, Wout, bout)
        ctx.tape, ctx.U, ctx.Wout, ctx.L = tape, U, Wout, L
        return Y

    @staticmethod
    def backward(ctx: Any, dY: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        dP, dU, db, dWout, dbout = _unroll_backward(dY.contiguous(), ctx.tape, ctx.U, ctx.Wout)
        return (dP, dWout, dbout, *dU, None, *db[1:])


# ================================================================================================ modules
def _gate_order(w: torch.Tensor, H: int) -> torch.Tensor:
    """Rows of an LSTM weight or bias from PyTorch's gate order (i, f, g, o) to (i, f, o, g), so the three
    sigmoid gates are one contiguous block."""
    return torch.cat([w[: 2 * H], w[3 * H :], w[2 * H : 3 * H]])


class Generator(nn.Module):
    """G: noise and G's own previous output in, tone features (standardised) out."""

    def __init__(self, cfg: CRNNGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.lstm = nn.LSTM(cfg.z_dim + cfg.n_features, cfg.hidden, num_layers=cfg.layers, batch_first=True)
        self.out = nn.Linear(cfg.hidden, cfg.n_features)

    def initial_output(self) -> torch.Tensor:
        """``y_{-1}``: G's output for its zero initial state, the "previous output" of the first step."""
        return self.out.bias  # (F,)

    def teacher_forced(
        self, z: torch.Tensor, prev: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Outputs (B, T, F) when the previous outputs are given: ``prev (B, T, F)`` holds ``y_{t-1}`` at step t.
        One fused ``nn.LSTM`` call."""
        h, state = self.lstm(torch.cat([z, prev], dim=-1), state)  # (B, T, H)
        return self.out(h), state

    def shifted(self, x: torch.Tensor) -> torch.Tensor:
        """``[y_{-1}, x_0, ..., x_{T-2}]``: the previous events of each step when ``x (B, T, F)`` is the target."""
        first = self.initial_output().expand(x.shape[0], 1, x.shape[2])
        return torch.cat([first, x[:, :-1]], dim=1)

    def _unroll_weights(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Per-layer recurrent product weights (gate order i, f, o, g) and biases (layer 0's: none, it is in P)."""
        H, Z, L = self.cfg.hidden, self.cfg.z_dim, self.cfg.layers
        lstm = self.lstm
        U = [_gate_order(torch.cat([lstm.weight_hh_l0, lstm.weight_ih_l0[:, Z:]], dim=1), H)]
        bias = [lstm.bias_ih_l0 + lstm.bias_hh_l0]
        for k in range(1, L):
            U.append(_gate_order(torch.cat([getattr(lstm, f"weight_ih_l{k}"), getattr(lstm, f"weight_hh_l{k}")], 1), H))
            bias.append(getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}"))
        return U, [_gate_order(x, H) for x in bias]

    def _noise_projection(self, z: torch.Tensor, bias0: torch.Tensor) -> torch.Tensor:
        """Layer 1's pre-activations from the noise, for all steps in one product: (B, T, Z) -> (T, B, 4H)."""
        B, T, Z = z.shape
        wz = _gate_order(self.lstm.weight_ih_l0[:, :Z], self.cfg.hidden)  # (4H, Z)
        zt = z.transpose(0, 1).reshape(T * B, Z)
        return torch.addmm(bias0, zt, wz.t()).view(T, B, -1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Free-running generation with gradients: noise (B, T, Z) -> tone features (B, T, F)."""
        if not torch.is_grad_enabled():
            return self.run(z)[0]
        U, bias = self._unroll_weights()
        P = self._noise_projection(z, bias[0])
        Y = _Unroll.apply(P, self.out.weight, self.out.bias, *U, *bias)  # (T, B, F)
        return Y.transpose(0, 1)

    @torch.no_grad()
    def run(
        self,
        z: torch.Tensor,
        state: tuple[list[torch.Tensor], list[torch.Tensor]] | None = None,
        y0: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, tuple[list[torch.Tensor], list[torch.Tensor]]]:
        """Free-running generation without gradients, from a state ``(h per layer, c per layer)`` and a previous
        event ``y0 (B, F)`` (by default the zero state and G's own initial output). Returns (B, T, F), state."""
        U, bias = self._unroll_weights()
        P = self._noise_projection(z, bias[0])
        h0, c0 = state if state is not None else (None, None)
        Y, h, c, _ = _unroll_forward(P, U, [None, *bias[1:]], self.out.weight, self.out.bias, h0, c0, y0)
        return Y.transpose(0, 1), (h, c)


class Discriminator(nn.Module):
    """D: a (bidirectional) LSTM; every step's output through one shared linear layer and a sigmoid; the
    decision is the mean over steps (kept as per-step logits here, see :func:`log_decision`)."""

    def __init__(self, cfg: CRNNGANConfig) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            cfg.n_features, cfg.d_hidden, num_layers=cfg.d_layers, batch_first=True, bidirectional=cfg.d_bidirectional
        )
        self.decision = nn.Linear(cfg.d_hidden * (2 if cfg.d_bidirectional else 1), 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, F) -> per-step logits (B, T) and the last hidden representation (B, T, 2H)."""
        features, _ = self.lstm(x)  # (B, T, 2H)
        return self.decision(features).squeeze(-1), features


class CRNNGAN(nn.Module):
    """G and (unless this is the baseline) D."""

    def __init__(self, cfg: CRNNGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.g = Generator(cfg)
        self.d = Discriminator(cfg) if cfg.adversarial else None

    def noise(
        self, batch: int, length: int, *, generator: torch.Generator | None = None, device: torch.device | None = None
    ) -> torch.Tensor:
        """G's random input: uniform on [0, 1) as in the reference code, (B, T, Z)."""
        dev = device if device is not None else self.g.out.weight.device
        if generator is not None and generator.device != dev:
            return torch.rand(batch, length, self.cfg.z_dim, generator=generator).to(dev)
        return torch.rand(batch, length, self.cfg.z_dim, generator=generator, device=dev)

    @torch.no_grad()
    def generate(
        self, z: torch.Tensor, primer: torch.Tensor | None = None, primer_noise: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Standardised tone steps (B, T, F) from noise ``z (B, T, Z)``; with a ``primer (B, P, F)`` G first reads
        the primer (teacher-forced, with ``primer_noise (B, P, Z)``) and continues after its last event."""
        if primer is None or primer.shape[1] == 0:
            return self.g.run(z)[0]
        _, (h, c) = self.g.teacher_forced(primer_noise, self.g.shifted(primer))  # h, c: (layers, B, H)
        y, _ = self.g.run(z, (list(h.unbind(0)), list(c.unbind(0))), primer[:, -1])
        return y


# ================================================================================================ losses
def log_decision(logits: torch.Tensor) -> torch.Tensor:
    """``log D(x)`` for D's per-step logits (B, T): ``D = mean_t sigmoid(l_t)``, computed stably as
    ``logsumexp_t log sigmoid(l_t) - log T``. Returns (B,)."""
    return torch.logsumexp(F.logsigmoid(logits), dim=1) - math.log(logits.shape[1])


def log_one_minus_decision(logits: torch.Tensor) -> torch.Tensor:
    """``log(1 - D(x))`` with ``1 - mean_t sigmoid(l_t) = mean_t sigmoid(-l_t)``. Returns (B,)."""
    return torch.logsumexp(F.logsigmoid(-logits), dim=1) - math.log(logits.shape[1])


def decision(logits: torch.Tensor) -> torch.Tensor:
    """D's decision ``mean_t sigmoid(l_t)`` (B,)."""
    return torch.sigmoid(logits).mean(dim=1)


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Goodfellow et al. 2014's discriminator loss as in Mogren 2016:
    ``L_D = 1/m sum_i [-log D(x_i) - log(1 - D(G(z_i)))]``."""
    return (-log_decision(real_logits) - log_one_minus_decision(fake_logits)).mean()


def g_adversarial_loss(fake_logits: torch.Tensor, kind: str = "nonsaturating") -> torch.Tensor:
    """G's adversarial loss: ``1/m sum_i -log D(G(z_i))`` ("nonsaturating", the reference code's) or the
    paper's minimax form ``1/m sum_i log(1 - D(G(z_i)))``."""
    if kind == "nonsaturating":
        return -log_decision(fake_logits).mean()
    if kind == "minimax":
        return log_one_minus_decision(fake_logits).mean()
    raise ConfigError(f"crnngan: unknown gan_loss {kind!r}")


def feature_matching_loss(real_features: torch.Tensor, fake_features: torch.Tensor) -> torch.Tensor:
    """Feature matching (Salimans et al. 2016, used by Mogren 2016): with ``R`` D's last hidden representation
    (B, T, C), ``mean_{t,c} (mean_b R(x)_{b,t,c} - mean_b R(G(z))_{b,t,c})^2``. The real side carries no
    gradient."""
    return (real_features.detach().mean(0) - fake_features.mean(0)).pow(2).mean()


def l2_penalty(module: nn.Module) -> torch.Tensor:
    """``sum w^2`` over the module's weight matrices (biases are not penalised)."""
    terms = [p.pow(2).sum() for p in module.parameters() if p.ndim >= 2]
    return torch.stack(terms).sum() if terms else torch.zeros(())


def squared_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over every element (pretraining and the baseline)."""
    return F.mse_loss(pred, target)


def next_event_loss(g: Generator, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Squared error of G predicting each event of ``x (B, T, F)`` from the events before it (teacher-forced,
    with noise ``z (B, T, Z)`` concatenated as in the adversarial phase)."""
    pred, _ = g.teacher_forced(z, g.shifted(x))
    return squared_error(pred, x)


def moment_distance(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """``mean_f [(mu_fake,f - mu_real,f)^2 + (sigma_fake,f - sigma_real,f)^2]`` over the (standardised) features,
    means and standard deviations over every step of the batch: 0 when every generated feature has the real
    mean and spread. Independent of D, so comparable from epoch to epoch."""
    f, r = fake.reshape(-1, fake.shape[-1]), real.reshape(-1, real.shape[-1])
    return ((f.mean(0) - r.mean(0)).pow(2) + (f.std(0, correction=0) - r.std(0, correction=0)).pow(2)).mean()
