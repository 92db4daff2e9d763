"""How the drummer plays: step by step on the 16th grid, a pattern drawn from the model at each step and then how
its hits are played; continuation of a primer's drums, and bars of it played anew (infilling: several takes of
the bars, the one under which the bars after them are likeliest kept)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ...notes import Notes, make_tempo_map
from ...progress import progress_bar
from ...representations.drums import CLASS_PITCHES, N_CLASSES, POSITIONS, STEPS_PER_QUARTER, DrumGrid
from ...sampling import sample_logits
from ...utils import eval_mode
from .model import START, Drummer, pattern_hits

#: takes of the bars to fill in, per piece asked for; the likeliest continuation picks one
TAKES = 8
#: a drum note's length in steps (a hit has no length that a drum sound obeys; short, as drummers' files have it)
HIT_STEPS = 0.5


@dataclass
class Plan:
    """What each step of the parts to write is: ``(B, T)`` patterns (``-1``: to draw), velocity and offset
    ``(B, T, 9)`` (those of given steps kept), position in the bar, fill flag and tempo per step."""

    pattern: np.ndarray
    velocity: np.ndarray
    offset: np.ndarray
    position: np.ndarray
    fill: np.ndarray
    qpm: np.ndarray

    @classmethod
    def new(cls, rows: int, steps: int) -> Plan:
        return cls(
            np.full((rows, steps), -1, np.int64),
            np.zeros((rows, steps, N_CLASSES), np.float32),
            np.zeros((rows, steps, N_CLASSES), np.float32),
            np.tile(np.arange(steps) % POSITIONS, (rows, 1)),
            np.zeros((rows, steps), np.int64),
            np.full((rows, steps), 120.0, np.float32),
        )

    def give(self, grid: DrumGrid, at: int = 0) -> None:
        """Steps ``at ..`` are ``grid``'s (its hits, how they were played, its bar positions and tempi)."""
        t = min(grid.hits.shape[0], self.pattern.shape[1] - at)
        sl = slice(at, at + t)
        self.pattern[:, sl] = (grid.hits[:t].astype(np.int64) << np.arange(N_CLASSES)).sum(1)
        self.velocity[:, sl], self.offset[:, sl] = grid.velocity[:t], grid.offset[:t]
        self.position[:, sl], self.qpm[:, sl] = grid.position[:t], grid.qpm[:t]


def _inputs(plan: Plan, lo: int, hi: int, device: torch.device) -> dict[str, torch.Tensor]:
    prev = np.concatenate([np.full((plan.pattern.shape[0], 1), START), plan.pattern[:, :-1]], 1)[:, lo:hi]
    t = {
        "prev": prev,
        "position": plan.position[:, lo:hi],
        "fill": plan.fill[:, lo:hi],
        "qpm": plan.qpm[:, lo:hi],
    }
    return {k: torch.as_tensor(np.ascontiguousarray(v), device=device) for k, v in t.items()}


@torch.no_grad()
def draw_steps(
    model: Drummer,
    plan: Plan,
    style: torch.Tensor,
    first: int,
    last: int,
    generators: list[torch.Generator],
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    label: str | None = "drums",
    fill_guidance: float = 1.0,
) -> None:
    """Draw steps ``first <= t < last`` of every row of ``plan`` in place: each step's pattern from the model,
    reading the last ``context`` steps, then its hits' velocity and offset (a progress bar named ``label``; None:
    none). At a step of a fill bar, ``fill_guidance`` above 1 pushes the pattern further towards a fill
    (classifier-free guidance of the fill flag: the logits read without the flags, plus ``fill_guidance`` times
    what the flags change in them)."""
    ctx = model.cfg.context
    device = style.device
    with eval_mode(model):
        steps = range(first, last)
        for t in progress_bar(iterable=steps, desc=label, unit="step", leave=False, disable=label is None):
            lo = max(0, t + 1 - ctx)
            x = _inputs(plan, lo, t + 1, device)
            h = model(x["prev"], x["position"], style, x["fill"], x["qpm"])[:, -1:]
            logits = model.head(h)[:, 0].float()
            filling = x["fill"][:, -1].bool()
            if fill_guidance != 1.0 and bool(filling.any()):
                plain = model(x["prev"], x["position"], style, torch.zeros_like(x["fill"]), x["qpm"])[:, -1]
                base = model.head(plain).float()
                guided = base + fill_guidance * (logits - base)
                logits = torch.where(filling[:, None], guided, logits)
            ids = sample_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=generators)
            v, o = model.play(h, pattern_hits(ids)[:, None])
            plan.pattern[:, t] = ids.cpu().numpy()
            plan.velocity[:, t], plan.offset[:, t] = v[:, 0].float().cpu().numpy(), o[:, 0].float().cpu().numpy()


@torch.no_grad()
def log_likelihood(model: Drummer, plan: Plan, style: torch.Tensor, first: int, last: int) -> torch.Tensor:
    """``(B,)``: each row's log-probability of its patterns at steps ``first <= t < last``, reading at most
    ``context`` steps (the window ending at ``last``)."""
    lo = max(0, last - model.cfg.context)
    x = _inputs(plan, lo, last, style.device)
    with eval_mode(model):
        logp = F.log_softmax(model.head(model(x["prev"], x["position"], style, x["fill"], x["qpm"])).float(), -1)
    target = torch.as_tensor(plan.pattern[:, lo:last], device=style.device)
    picked = logp.gather(-1, target[..., None])[..., 0]
    return picked[:, first - lo :].sum(1)


def to_notes(plan: Plan, row: int, first: int, last: int, tempos: np.ndarray, origin_qn: float = 0.0) -> Notes:
    """Row ``row``'s steps ``first <= t < last`` as drum notes: one per hit, at its step plus its offset, velocity
    as played, on the classes' kit pitches; step 0 is at ``origin_qn``."""
    hits = pattern_hits(torch.as_tensor(plan.pattern[row, first:last])).numpy()
    step, cls = np.nonzero(hits)
    at = first + step
    start = origin_qn + (at + plan.offset[row, at, cls]) / STEPS_PER_QUARTER
    start = np.maximum(start, 0.0)
    velocity = np.clip(np.rint(plan.velocity[row, at, cls] * 127.0), 1, 127).astype(np.int64)
    return Notes.from_arrays(
        CLASS_PITCHES[cls],
        start_qn=start,
        end_qn=start + HIT_STEPS / STEPS_PER_QUARTER,
        velocity=velocity,
        is_drum=True,
        tempos=tempos,
    ).sorted()


def constant_tempo(qpm: float) -> np.ndarray:
    return make_tempo_map([0.0], [float(qpm)])
