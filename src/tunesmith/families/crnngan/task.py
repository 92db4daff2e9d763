"""C-RNN-GAN and its baseline on the one training loop: pretraining, curriculum, adversarial steps with freezing
and feature matching (Mogren 2016, section 3).

An epoch draws ``windows_per_piece`` windows of the epoch's sequence length from every training piece long
enough for it (the curriculum: ``CRNNGANConfig.sequence_length``), in an order drawn from the trainer's epoch
generator. The first ``pretrain_epochs`` epochs train G alone on next-event squared error (teacher-forced, noise
concatenated as in the adversarial phase); later epochs are adversarial. The baseline trains on next-event
squared error in every epoch.

One adversarial step: G generates a batch from fresh noise; D reads the real and the generated batch
(separately, so that G's gradient passes only through the generated half); D's loss is
``-log D(x) - log(1 - D(G(z)))``; G's objective is feature matching (or an adversarial loss); each network adds
``l2 * sum w^2``. Freezing: D takes no step when its loss is below ``freeze_ratio`` (0.7) times G's adversarial
loss ``-log D(G(z))`` of the same step (optionally G likewise against D). G's adversarial loss is used for the
comparison even when G trains on feature matching, because only it is on D's scale (nats); a feature-matching
value is in squared feature units and would freeze D at arbitrary times. Both gradients come from the same
forward pass and both updates are applied after both are computed, as in the reference code.

Distributed (torchrun): G and D each train through their own ``DistributedDataParallel`` wrapper
(:func:`~tunesmith.training.distributed.data_parallel`), so DDP averages their gradients. G's free-running pass is a
``torch.autograd.Function`` with a hand-written backward; that is no obstacle: the Function returns gradients
for the weight matrices it was given, autograd carries them back through the ``torch.cat`` / gate reordering
that built those matrices from the LSTM's parameters, and each parameter's gradient accumulator then runs once
per backward pass, which is where DDP's hooks fire (tests/test_distributed.py checks that the ranks' weights
stay identical). The gradients are taken with ``backward(inputs=...)``, which accumulates into ``.grad`` as
DDP requires (``torch.autograd.grad`` would bypass its hooks), and only into the named network's parameters,
as before. The freezing decision is taken on the losses averaged over the ranks, so every rank takes the same
one: a rank that stepped D while another did not would leave D's all-reduce waiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ...errors import ConfigError
from ...evaluation.metrics import crnngan_statistics
from ...representations.tones import ToneConfig, ToneNormalizer, from_tones, slot_shares
from ...training.distributed import all_mean, data_parallel, shard
from ...training.stores import EventStore
from ...training.trainer import Selection, Task, TrainConfig
from ..scoring import LENGTH, PIECES, ValidationScorer
from .model import (
    CRNNGAN,
    d_loss,
    decision,
    feature_matching_loss,
    g_adversarial_loss,
    l2_penalty,
    moment_distance,
    next_event_loss,
)
from .sample import presence_of, sample_pieces

#: Offsets added to the run's seed for the fixed noise of validation, of the per-epoch statistics and of the pieces
#: scored to select weights, so none draws from (and so shifts) the training random stream.
VAL_NOISE_SEED, STATS_NOISE_SEED, SELECT_NOISE_SEED = 104_729, 7_919, 15_485_863


@dataclass
class ToneBatch:
    x: torch.Tensor  # (B, L, F) standardised tone steps
    adversarial: bool


class CRNNGANTask(Task):
    """The trainer's task for ``crnngan``, ``crnngan3`` and ``baseline``.

    Validation ``loss`` (what the trainer keeps the best weights and stops early by):

    - C-RNN-GAN: the moment distance (:func:`~tunesmith.families.crnngan.model.moment_distance`) between G's output for
      fixed noise and the validation windows, in standardised units: 0 when every generated feature has the real
      mean and spread. It measures what the adversarial phase is for (generated tones distributed like real
      ones), does not depend on D (whose own losses are not comparable across epochs, as D changes), and keeps
      one meaning through pretraining and the adversarial phase. G's next-event squared error (``next_mse``),
      the feature-matching distance under the current D (``fm``) and D's mean decisions are logged beside it.
    - The baseline: its training objective, next-event squared error on the validation windows.

    ``end_of_epoch`` logs C-RNN-GAN's statistics (``tunesmith.evaluation.metrics.crnngan_statistics``), mean over
    a fixed-noise batch of generated sequences (``gen/<stat>``) and over as many real validation windows
    (``real/<stat>``, computed once), both decoded to notes the same way.

    The curriculum and the phase are functions of the epoch, and freezing is decided from each step's own losses,
    so resume is exact from the model, optimizers and RNG; ``extra_state`` carries the freezing counters.
    """

    def __init__(
        self,
        model: CRNNGAN,
        train: list[np.ndarray],
        val: list[np.ndarray],
        cfg: TrainConfig,
        device: torch.device,
        normalizer: ToneNormalizer,
        scorer: ValidationScorer | None = None,
    ) -> None:
        self.model = model.to(device)
        self.mcfg = model.cfg
        self.cfg = cfg
        self.device = device
        self.norm = normalizer
        self.scorer = scorer
        # C-RNN-GAN-3: how often real steps fill each tone slot, to decode generated slots the same way
        self.slot_shares = slot_shares(train, self.mcfg.tones_per_step) if self.mcfg.tones_per_step > 1 else None
        self._presence: tuple[int, list[float] | None] | None = None  # (steps taken, thresholds) of those weights
        self._steps_taken = 0
        self.tones = ToneConfig(tones_per_step=self.mcfg.tones_per_step)
        nf = self.mcfg.n_features
        self.train_data = EventStore.from_pieces([normalizer.normalize(p) for p in train], nf, device)
        self.val_data = EventStore.from_pieces([normalizer.normalize(p) for p in val], nf, device)
        mc = self.mcfg
        self.g_params = list(model.g.parameters())
        self.d_params = list(model.d.parameters()) if model.d is not None else []
        self.opt_g = self._optimizer(self.g_params, cfg.lr)
        self.opt_d = self._optimizer(self.d_params, cfg.lr * mc.d_lr_scale) if model.d is not None else None
        # validation: fixed windows of max_length, each with its own fixed noise
        limit = None if cfg.val_max_batches is None else cfg.val_max_batches * cfg.batch_size
        self.val_starts = self.val_data.window_starts(mc.max_length, hop=mc.max_length, cap=limit)
        gen = torch.Generator().manual_seed(cfg.seed + VAL_NOISE_SEED)
        self.val_noise = model.noise(len(self.val_starts), mc.max_length, generator=gen, device=device)
        gen = torch.Generator().manual_seed(cfg.seed + STATS_NOISE_SEED)
        self.stats_noise = model.noise(mc.stats_samples, mc.max_length, generator=gen, device=device)
        self._real_stats: dict[str, float] | None = None
        self.counters = {"d_frozen_steps": 0, "g_frozen_steps": 0, "adversarial_steps": 0}
        self.parallel_g = data_parallel(model.g)
        self.parallel_d = data_parallel(model.d) if model.d is not None else None

    def _optimizer(self, params: list[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
        if self.mcfg.optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), weight_decay=self.cfg.weight_decay)
        return torch.optim.SGD(params, lr=lr, weight_decay=self.cfg.weight_decay)

    # -------------------------------------------------------------------------------------------- the trainer's API
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        opts = {"g": self.opt_g}
        if self.opt_d is not None:
            opts["d"] = self.opt_d
        return opts

    def windows_in_epoch(self, epoch: int) -> int:
        return int(self.train_data.pieces_at_least(self.mcfg.sequence_length(epoch)).size) * self.mcfg.windows_per_piece

    def num_batches(self, epoch: int) -> int:
        return self.windows_in_epoch(epoch) // self.cfg.batch_size

    def batches(self, epoch: int, rng: np.random.Generator, start: int) -> Iterator[ToneBatch]:
        length = self.mcfg.sequence_length(epoch)
        data = self.train_data
        pieces = np.repeat(data.pieces_at_least(length), self.mcfg.windows_per_piece)
        pieces = pieces[rng.permutation(pieces.size)]
        offsets = (rng.random(pieces.size) * (data.lengths[pieces] - length + 1)).astype(np.int64)
        starts = data.offsets[pieces] + offsets
        adversarial = self.mcfg.is_adversarial_epoch(epoch)
        b, part = self.cfg.batch_size, shard(self.cfg.batch_size)
        for k in range(start, pieces.size // b):
            yield ToneBatch(data.gather(starts[k * b : (k + 1) * b][part], length), adversarial)

    def train_step(self, batch: ToneBatch, step: int) -> dict[str, float]:
        self._steps_taken += 1  # the weights change: calibrated slot thresholds are computed anew
        if batch.adversarial:
            return self.adversarial_step(batch.x)
        return self.pretrain_step(batch.x)

    def val_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        b, length = self.cfg.batch_size, self.mcfg.max_length
        for k in range(0, len(self.val_starts), b):
            yield self.val_data.gather(self.val_starts[k : k + b], length), self.val_noise[k : k + b]

    def eval_step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[dict[str, float], int]:
        x, z = batch
        model = self.model
        out = {"next_mse": float(next_event_loss(model.g, x, z))}
        fake = model.g.run(z)[0]
        out["moments"] = float(moment_distance(fake, x))
        if model.d is not None:
            real_logits, real_features = model.d(x)
            fake_logits, fake_features = model.d(fake)
            out["fm"] = float(feature_matching_loss(real_features, fake_features))
            out["d_loss"] = float(d_loss(real_logits, fake_logits))
            out["d_real"] = float(decision(real_logits).mean())
            out["d_fake"] = float(decision(fake_logits).mean())
            out["loss"] = out["moments"]
        else:
            out["loss"] = out["next_mse"]
        return out, int(x.shape[0])

    def end_of_epoch(self, epoch: int) -> dict[str, float]:
        with torch.no_grad():
            generated = self.model.g.run(self.stats_noise)[0]
        out: dict[str, float] = {
            "length": float(self.mcfg.sequence_length(epoch)),
            "adversarial": float(self.mcfg.is_adversarial_epoch(epoch)),
        }
        gen_stats = self._statistics(generated, crnngan_statistics, generated=True)
        out.update({f"gen/{k}": v for k, v in gen_stats.items()})
        if self._real_stats is None:
            self._real_stats = self._statistics(self._real_windows(), crnngan_statistics, generated=False)
        out.update({f"real/{k}": v for k, v in self._real_stats.items()})
        return out

    selects_by_statistics = True

    def select(self) -> Selection:
        """The protocol's statistics of :data:`~tunesmith.families.scoring.PIECES` sequences of
        :data:`~tunesmith.families.scoring.LENGTH` tone steps from fixed noise, against validation excerpts."""
        if self.scorer is None:
            raise ConfigError("crnngan: the task was built without a validation scorer (select_by is not statistics)")
        seed = self.cfg.seed + SELECT_NOISE_SEED
        pieces = sample_pieces(self.model, self.tones, self.norm, PIECES, LENGTH, seed, self.device, self.presence())
        return self.scorer.score(pieces)

    def extra_state(self) -> dict[str, Any]:
        return dict(self.counters)

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.counters.update({k: int(v) for k, v in state.items() if k in self.counters})

    # -------------------------------------------------------------------------------------------- steps
    def _noise(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.noise(x.shape[0], x.shape[1], device=x.device)

    def _apply(self, opt: torch.optim.Optimizer, params: list[torch.nn.Parameter]) -> None:
        """Clip (optionally) and apply the gradients accumulated in ``params``' ``.grad``, then clear them."""
        if self.cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(params, self.cfg.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)

    def _d_pass(self, x: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """D on the real and on the generated batch, separately: (real logits, real features, fake logits, fake
        features)."""
        assert self.model.d is not None
        return (*self.model.d(x), *self.model.d(fake))

    def pretrain_step(self, x: torch.Tensor) -> dict[str, float]:
        """G alone: next-event squared error (teacher-forced) plus L2."""
        g = self.model.g
        mse = self.parallel_g(next_event_loss, g, x, self._noise(x))
        loss = mse + self.mcfg.l2 * l2_penalty(g) if self.mcfg.l2 else mse
        loss.backward(inputs=self.g_params)
        self._apply(self.opt_g, self.g_params)
        return {"loss": float(loss.detach()), "mse": float(mse.detach())}

    def adversarial_step(self, x: torch.Tensor) -> dict[str, float]:
        """One step of D and G from the same forward pass, with freezing."""
        mc, model = self.mcfg, self.model
        assert model.d is not None and self.opt_d is not None
        assert self.parallel_d is not None
        fake = self.parallel_g(model.g, self._noise(x))  # (B, L, F)
        real_logits, real_features, fake_logits, fake_features = self.parallel_d(self._d_pass, x, fake)
        ld = d_loss(real_logits, fake_logits)
        g_adv = g_adversarial_loss(fake_logits, "nonsaturating")
        if mc.feature_matching:
            g_obj = feature_matching_loss(real_features, fake_features)
        else:
            g_obj = g_adversarial_loss(fake_logits, mc.gan_loss)
        ld_v, g_adv_v = float(ld.detach()), float(g_adv.detach())
        # the decision is taken on the losses of the whole (global) batch: the same on every rank
        ld_all, g_adv_all = all_mean(torch.stack([ld.detach(), g_adv.detach()])).tolist()
        update_d = not (mc.freeze_d and ld_all < mc.freeze_ratio * g_adv_all)
        update_g = not (mc.freeze_g and g_adv_all < mc.freeze_ratio * ld_all)
        if update_d:
            loss_d = ld + mc.l2 * l2_penalty(model.d) if mc.l2 else ld
            loss_d.backward(inputs=self.d_params, retain_graph=update_g)
        if update_g:
            loss_g = g_obj + mc.l2 * l2_penalty(model.g) if mc.l2 else g_obj
            loss_g.backward(inputs=self.g_params)
        # both gradients come from this forward pass: apply the updates only once both are computed
        if update_d:
            self._apply(self.opt_d, self.d_params)
        if update_g:
            self._apply(self.opt_g, self.g_params)
        self.counters["adversarial_steps"] += 1
        self.counters["d_frozen_steps"] += int(not update_d)
        self.counters["g_frozen_steps"] += int(not update_g)
        logs = {
            "d_loss": ld_v,
            "g_loss": float(g_obj.detach()),
            "g_adv": g_adv_v,
            "d_real": float(decision(real_logits.detach()).mean()),
            "d_fake": float(decision(fake_logits.detach()).mean()),
            "d_frozen": float(not update_d),
            "g_frozen": float(not update_g),
        }
        if mc.feature_matching:
            logs["fm"] = logs["g_loss"]
        return logs

    # -------------------------------------------------------------------------------------------- statistics
    def decode(self, x: torch.Tensor, generated: bool) -> list[Any]:
        """Standardised tone steps (B, T, F) -> one Notes per sequence (120 qpm; tones of at least one tick).
        Generated steps of C-RNN-GAN-3 are read with the calibrated slot presence; real ones by the fixed rule
        (their absent tones are exact zeros)."""
        raw = self.norm.denormalize(x.detach().cpu().double().numpy())
        present = self.presence() if generated else None
        return [from_tones(seq, self.tones, min_length=1, present_hz=present) for seq in raw]

    def presence(self) -> list[float] | None:
        """C-RNN-GAN-3's calibrated slot thresholds for the current weights, computed once per set of weights (the
        statistics at the end of an epoch and the selection score share them)."""
        if self._presence is None or self._presence[0] != self._steps_taken:
            thresholds = presence_of(self.model, self.tones, self.norm, self.slot_shares, self.device)
            self._presence = (self._steps_taken, thresholds)
        return self._presence[1]

    def _statistics(self, x: torch.Tensor, fn: Any, *, generated: bool) -> dict[str, float]:
        rows = [fn(notes) for notes in self.decode(x, generated)]
        return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]} if rows else {}

    def _real_windows(self) -> torch.Tensor:
        """As many real windows of max_length as generated sequences: from validation, or from training data where
        validation has none that long; evenly spread."""
        length, n = self.mcfg.max_length, self.mcfg.stats_samples
        for data in (self.val_data, self.train_data):
            starts = data.window_starts(length, hop=length, cap=n)
            if starts.size:
                return data.gather(starts, length)
        return torch.zeros(0, length, self.mcfg.n_features, device=self.device)
