"""The piano-roll GAN on the one training loop: discriminator and generator steps, sample grids, roll statistics.

One trainer step is one GAN iteration: ``d_steps`` discriminator updates, each on its own batch of real phrases
(a trainer batch holds ``d_steps`` of them, so an epoch is one pass of the discriminator over the training
phrases), then one generator update with the discriminator frozen. ``--max-steps 1000`` is 1000 iterations.

Validation has no loss to early-stop on: a GAN's losses measure the two networks against each other, and a lower
discriminator or generator loss on held-out phrases does not mean better music. ``eval_step`` therefore reports the
discriminator's view of held-out real phrases and of generated ones (``val/d_real``, ``val/d_fake`` or the critic's
``val/wasserstein`` estimate, Gulrajani et al. 2017, section 5) and no ``loss``: the trainer then keeps the latest
weights every epoch and never stops early. What tells progress is logged by ``end_of_epoch``: the piano-roll
statistics of the fixed-noise batch (``gen/<name>``) beside those of real training phrases (``real/<name>``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...errors import ConfigError
from ...runfiles import DECODING, SAMPLES
from ...training.distributed import data_parallel, shard
from ...training.stores import PhraseStore, evenly_spread
from ...training.trainer import Selection, Task, TrainConfig, autocast_for
from ...utils import atomic_path, atomic_write_text, eval_mode
from ..scoring import BARS, PIECES, ValidationScorer
from .model import PianoRollGAN, ns_d_loss
from .phrases import phrase_statistics
from .quality import calibrate, pooled_statistics
from .sample import decode_pieces


def buffered_permutation(n: int, buffer: int | None, rng: np.random.Generator) -> np.ndarray:
    """The order of ``n`` items after ``tf.data.Dataset.shuffle(buffer)``: a buffer is filled with the first
    ``buffer`` items; each output is a uniformly chosen buffer slot, refilled with the next input item. A buffer of
    at least ``n`` (or None) is a uniform permutation."""
    if buffer is None or buffer >= n:
        return rng.permutation(n)
    out = np.empty(n, dtype=np.int64)
    slots = list(range(buffer))
    picks = rng.random(n)
    for i in range(n):
        j = int(picks[i] * len(slots))
        out[i] = slots[j]
        nxt = buffer + i
        if nxt < n:
            slots[j] = nxt
        else:
            slots[j] = slots[-1]
            slots.pop()
    return out


# ------------------------------------------------------------------------------------------------ the task
#: Offset added to the run's seed for the noise of the pieces scored to select weights (never the training stream).
SELECT_NOISE_SEED = 15_485_863


class GANTask(Task):
    """Adam for each network; ``d_steps`` discriminator updates then one generator update per trainer step."""

    def __init__(
        self,
        model: PianoRollGAN,
        train: PhraseStore,
        val: PhraseStore,
        cfg: TrainConfig,
        device: torch.device,
        scorer: ValidationScorer | None = None,
    ) -> None:
        self.model = model.to(device)
        self.cfg, self.mcfg, self.device = cfg, model.cfg, device
        self.scorer = scorer
        self._val_phrase_stats: dict[str, float] | None = None
        self._decoding: dict[str, Any] | None = None  # the decoding of the latest scoring, kept with best weights
        self.train_data, self.val_data = train, val
        self.group = self.mcfg.d_steps * cfg.batch_size  # real phrases per trainer step
        fused = device.type in ("cpu", "cuda")
        betas = (self.mcfg.beta1, self.mcfg.beta2)
        kw: dict[str, Any] = {"lr": cfg.lr, "betas": betas, "weight_decay": cfg.weight_decay, "fused": fused}
        self.opt_g = torch.optim.Adam(model.generator.parameters(), **kw)
        self.opt_d = torch.optim.Adam(model.discriminator.parameters(), **kw)
        self.autocast = autocast_for(cfg, device)
        gen = torch.Generator().manual_seed(cfg.seed)
        self.fixed_noise = torch.randn(self.mcfg.n_fixed, self.mcfg.latent, generator=gen).to(device)
        self.run: Path | None = None
        self._real_stats: dict[str, float] | None = None
        # distributed: each network's gradients are averaged by its own DDP wrapper; the generator's BatchNorm
        # running statistics are broadcast from rank 0 before each generator pass (batch statistics are each
        # rank's own, as DDP does without SyncBatchNorm)
        self.parallel_d = data_parallel(model.discriminator)
        self.parallel_g = data_parallel(model.generator)

    # -------------------------------------------------------------------------------------------- trainer hooks
    def attach_run(self, run: Path) -> None:
        self.run = Path(run)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.opt_g, "discriminator": self.opt_d}

    def num_batches(self, epoch: int) -> int:
        return len(self.train_data) // self.group  # the last partial group is dropped

    def batches(self, epoch: int, rng: np.random.Generator, start: int) -> Iterator[torch.Tensor]:
        """Groups of ``d_steps`` batches; in a distributed run this rank's block of each of them."""
        order = torch.as_tensor(buffered_permutation(len(self.train_data), self.mcfg.shuffle_buffer, rng))
        order = order.to(self.device)
        b, part, d_steps = self.cfg.batch_size, shard(self.cfg.batch_size), self.mcfg.d_steps
        for k in range(start, self.num_batches(epoch)):
            index = order[k * self.group : (k + 1) * self.group].view(d_steps, b)[:, part]
            real = self.train_data.unpack(index.reshape(-1))
            yield real.view(d_steps, -1, *real.shape[1:])  # (d_steps, B / ranks, T, P, C)

    def _clip(self, params: Any) -> None:
        if self.cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(params, self.cfg.grad_clip)

    def train_step(self, batch: torch.Tensor, step: int) -> dict[str, float]:
        model, b = self.model, batch.shape[1]
        sums: dict[str, float] = {}
        for real in batch:  # discriminator updates, each on fresh real phrases and fresh noise
            with torch.no_grad(), self.autocast:
                fake = model(model.noise(b, self.device)).float()
            with self.autocast:
                loss, parts = self.parallel_d(model.d_loss, real, fake)
            self.opt_d.zero_grad(set_to_none=True)
            loss.backward()
            self._clip(model.discriminator.parameters())
            self.opt_d.step()
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v)
        # generator update through a frozen discriminator (no gradients for its weights are computed)
        model.discriminator.requires_grad_(False)
        try:
            with self.autocast:
                g_loss = self.parallel_g(self._generator_loss, model.noise(b, self.device))
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            self._clip(model.generator.parameters())
            self.opt_g.step()
        finally:
            model.discriminator.requires_grad_(True)
        done = step + 1
        if self.run is not None and self.mcfg.sample_every and done % self.mcfg.sample_every == 0:
            self.save_grid(self.run / SAMPLES / f"step_{done:06d}.png", title=f"step {done}")
        n = len(batch)
        return {"g_loss": float(g_loss.detach()), **{k: v / n for k, v in sums.items()}}

    def _generator_loss(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.g_loss(self.model(z))

    def val_batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Held-out phrases in a fixed order (evenly spread when capped), each batch with its own noise drawn from
        a generator seeded afresh for every validation, so validations compare and never touch the global RNG."""
        b, cap = self.cfg.batch_size, self.cfg.val_max_batches
        idx = evenly_spread(len(self.val_data), None if cap is None else cap * b)
        gen = torch.Generator(device=self.device).manual_seed(self.cfg.seed + 1)
        for k in range(0, len(idx), b):
            real = self.val_data.unpack(torch.as_tensor(idx[k : k + b], device=self.device))
            yield real, self.model.noise(len(real), self.device, gen)

    def eval_step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[dict[str, float], int]:
        """The discriminator on held-out real phrases and on generated ones (no penalty: it needs gradients and
        says nothing about the music)."""
        real, z = batch
        model = self.model
        with self.autocast:
            real_out = model.discriminate(real).float()
            fake_out = model.discriminate(model.critic_input(model(z).float())).float()
        if self.mcfg.loss == "ns":
            parts = {
                "d_loss": ns_d_loss(real_out, fake_out),
                "d_real": torch.sigmoid(real_out).mean(),
                "d_fake": torch.sigmoid(fake_out).mean(),
            }
        else:
            parts = {"wasserstein": real_out.mean() - fake_out.mean()}
        return {k: float(v) for k, v in parts.items()}, len(real)

    def end_of_epoch(self, epoch: int) -> dict[str, float]:
        """Statistics of the fixed-noise batch, thresholded at 0.5 (``gen/``), and of real phrases (``real/``)."""
        gen = {f"gen/{k}": v for k, v in phrase_statistics(self.fixed_rolls(), self.model).items()}
        return {**gen, **{f"real/{k}": v for k, v in self.real_phrase_statistics().items()}}

    # -------------------------------------------------------------------------------------------- selection
    selects_by_statistics = True

    def val_phrase_statistics(self) -> dict[str, float]:
        """Computed once: the pooled statistics of up to ``stat_phrases`` validation phrases, evenly spread."""
        if self._val_phrase_stats is None:
            pick = evenly_spread(len(self.val_data), self.mcfg.stat_phrases)
            if pick.size == 0:
                raise ConfigError("gan: no validation phrases to calibrate the decoding on (select_by=statistics)")
            self._val_phrase_stats = pooled_statistics(self.val_data.numpy(pick), self.model)
        return self._val_phrase_stats

    def select(self) -> Selection:
        """The decoding calibrated on validation phrases (as ``rollstats`` chooses it), then the protocol's
        statistics of :data:`~tunesmith.families.scoring.PIECES` pieces of
        :data:`~tunesmith.families.scoring.BARS` bars so decoded, against validation excerpts."""
        if self.scorer is None:
            raise ConfigError("gan: the task was built without a validation scorer (select_by is not statistics)")
        seed = self.cfg.seed + SELECT_NOISE_SEED
        decoding, row = calibrate(self.model, self.val_phrase_statistics(), self.device, seed=seed)
        selection = self.scorer.score(decode_pieces(self.model, PIECES, BARS, seed, decoding, self.device))
        selection.metrics.update({"threshold": decoding.threshold, "hold": float(decoding.hold or 0.0)})
        self._decoding = {
            "threshold": decoding.threshold,
            "hold": decoding.hold,
            "onsets": decoding.onsets,
            "chosen_on": "validation phrases, during training (select_by=statistics)",
            "stats": row["stats"],
            "real": self.val_phrase_statistics(),
            "met": bool(row["val_met"]),
        }
        return selection

    def on_best(self, run: Path) -> None:
        """Keep the decoding the best weights were scored with: generate and evaluate then use it."""
        if self._decoding is not None:
            atomic_write_text(Path(run) / DECODING, json.dumps(self._decoding, indent=1))

    def extra_state(self) -> dict[str, Any]:
        return {"fixed_noise": self.fixed_noise.detach().cpu()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if "fixed_noise" in state:
            self.fixed_noise = state["fixed_noise"].to(self.device)

    # -------------------------------------------------------------------------------------------- samples
    @torch.no_grad()
    def fixed_rolls(self) -> np.ndarray:
        """The generator's probabilities for the fixed noise, (n_fixed, T, P, C), in inference mode."""
        with eval_mode(self.model):
            return self.model(self.fixed_noise).float().cpu().numpy()

    def real_phrase_statistics(self) -> dict[str, float]:
        """Computed once: the statistics of up to ``stat_phrases`` training phrases chosen by the seed."""
        if self._real_stats is None:
            n = len(self.train_data)
            rng = np.random.default_rng(self.cfg.seed)
            pick = np.sort(rng.choice(n, size=min(n, self.mcfg.stat_phrases), replace=False))
            self._real_stats = phrase_statistics(self.train_data.numpy(pick), self.model)
        return self._real_stats

    def save_grid(self, path: Path, title: str = "") -> Path:
        return save_roll_grid(self.fixed_rolls(), path, self.model.cfg.roll.lowest_pitch, title=title)


def save_roll_grid(rolls: np.ndarray, path: str | Path, lowest_pitch: int = 24, title: str = "") -> Path:
    """A grid of phrases (K, T, P, C) as one PNG: time to the right, pitch up, frame probability as grey, onsets
    (where given) in red. matplotlib's object API with the Agg canvas: no pyplot, no global backend change."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    k, t, p, c = rolls.shape
    cols = int(np.ceil(np.sqrt(k)))
    rows = int(np.ceil(k / cols))
    gap = 2
    img = np.full((rows * (p + gap) - gap, cols * (t + gap) - gap, 3), 0.6)
    for i in range(k):
        r, q = divmod(i, cols)
        frame = rolls[i, :, :, 0].T[::-1]  # (P, T), high pitches on top
        cell = np.repeat((1.0 - frame)[..., None], 3, axis=-1)
        if c > 1:
            onset = np.clip(rolls[i, :, :, 1].T[::-1] * frame, 0.0, 1.0)
            cell[..., 0] = np.maximum(cell[..., 0], onset)  # onsets drawn red
            cell[..., 1] *= 1.0 - onset
            cell[..., 2] *= 1.0 - onset
        img[r * (p + gap) : r * (p + gap) + p, q * (t + gap) : q * (t + gap) + t] = cell
    fig = Figure(figsize=(max(4.0, cols * t / 40), max(3.0, rows * p / 40)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(img, interpolation="nearest", aspect="auto")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{title}  (pitch {lowest_pitch} at the bottom of each cell)".strip())
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    return path
