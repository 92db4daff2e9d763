"""The drummer as a family: drum parts of the training split (with each piece's style and whether it is a fill, from
the Groove MIDI Dataset's metadata) in, grooves out (its declarations: ``spec.py``)."""

from __future__ import annotations

import math

import numpy as np
import torch

from ...dataset import Dataset
from ...errors import ConfigError, DatasetError
from ...grid import parse_bars
from ...io import read
from ...notes import Notes
from ...progress import progress_bar
from ...representations.controls import parse_tempo
from ...representations.drums import POSITIONS, DrumGrid, drum_cells, drum_grid
from ...training.stores import evenly_spread
from ...training.trainer import TrainConfig
from ...utils import eval_mode
from ..base import Family, Run, TaskBundle, seeded_generator
from .config import STYLES, DrummerConfig, style_index
from .model import Drummer, pattern_hits
from .sample import TAKES, Plan, constant_tempo, draw_steps, log_likelihood, to_notes
from .spec import FILL_GUIDANCE, DrummerOptions, DrummerSpec
from .task import DrummerTask, Part, Windows

#: the tempo of a style nobody asked a tempo for, when the run knows none (quarter notes per minute)
DEFAULT_QPM = 100.0


#: bars of a beat put before each fill it was played with (the dataset's fills are about a bar each, recorded
#: apart from the beats: joined, a window holds the groove and the fill it leads into, as a song does)
LEAD_IN_BARS = 3


def parts(ds: Dataset, split: str) -> list[Part]:
    """The split's drum parts with their style (``style`` in a piece's metadata) and fill flags (``beat_type``):
    each beat as it is, and each fill after the last :data:`LEAD_IN_BARS` bars of a beat of the same drummer,
    session and style (where the split has one; else the fill alone)."""
    beats: dict[tuple[str, str], DrumGrid] = {}
    fills: list[tuple[tuple[str, str], DrumGrid, int]] = []
    out = []
    for i in ds.indices(split):
        notes = ds[int(i)]
        meta = notes.metadata
        grid = drum_grid(notes)
        if not grid.hits.any():
            continue
        style = style_index(meta.get("style"))
        key = (str(notes.source).rsplit("/", 1)[0], str(meta.get("style", "")))
        if meta.get("beat_type") == "fill":
            fills.append((key, grid, style))
        else:
            beats.setdefault(key, grid)
            out.append(Part(grid, style, False))
    for key, grid, style in fills:
        beat = beats.get(key)
        if beat is None:
            out.append(Part(grid, style, True))
            continue
        bars = math.ceil(beat.hits.shape[0] / POSITIONS)
        lead = slice(max(bars - LEAD_IN_BARS, 0) * POSITIONS, bars * POSITIONS)
        joined = join_grids(beat, lead, grid)
        flags = np.r_[np.zeros(lead.stop - lead.start, np.int64), np.ones(grid.hits.shape[0], np.int64)]
        out.append(Part(joined, style, flags))
    return out


def join_grids(beat: DrumGrid, lead: slice, fill: DrumGrid) -> DrumGrid:
    """Steps ``lead`` of ``beat`` (padded with silence to its last whole bar), then ``fill``."""
    n = lead.stop - lead.start

    def cut(a: np.ndarray) -> np.ndarray:
        part = a[lead]
        pad = np.zeros((n - len(part), *a.shape[1:]), a.dtype)
        if a.dtype == np.float32 and a.ndim == 1:  # the tempo goes on
            pad[:] = a[-1]
        return np.concatenate([part, pad])

    position = np.arange(n) % POSITIONS
    return DrumGrid(
        *(np.concatenate([cut(getattr(beat, k)), getattr(fill, k)]) for k in ("hits", "velocity", "offset")),
        np.concatenate([position, fill.position]),
        np.concatenate([cut(beat.qpm), fill.qpm]),
    )


def hits_per_bar(train: list[Part]) -> dict[str, list[float]]:
    """Each style's deciles (0, 10, ..., 100%) of the hits in a whole bar of its beats (no fills): the range a
    groove that follows a song's energy moves in."""
    by: dict[str, list[np.ndarray]] = {}
    for p in train:
        bars = p.grid.hits.shape[0] // POSITIONS
        if np.any(p.fill) or bars == 0:
            continue
        counts = p.grid.hits[: bars * POSITIONS].reshape(bars, -1).sum(1)
        by.setdefault(STYLES[p.style], []).append(counts)
        by.setdefault(STYLES[0], []).append(counts)
    deciles = np.linspace(0, 100, 11)
    return {s: np.percentile(np.concatenate(v), deciles).round(2).tolist() for s, v in by.items() if v}


def style_tempi(train: list[Part]) -> dict[str, float]:
    """Each style's median tempo in the training parts (what ``--style`` plays at without ``--tempo``)."""
    by: dict[str, list[float]] = {}
    for p in train:
        q = float(np.median(p.grid.qpm))
        by.setdefault(STYLES[p.style], []).append(q)
        by.setdefault(STYLES[0], []).append(q)
    return {s: round(float(np.median(v)), 1) for s, v in by.items()}


class DrummerFamily(DrummerSpec, Family):
    def build_model(self, cfg: DrummerConfig) -> Drummer:
        return Drummer(cfg)

    def build_task(
        self,
        model: Drummer,
        cfg: DrummerConfig,
        train_cfg: TrainConfig,
        ds: Dataset,
        device: torch.device,
        start: Run | None = None,
    ) -> TaskBundle:
        train_parts, val_parts = parts(ds, "train"), parts(ds, "validation")
        if not train_parts:
            raise DatasetError(
                f"{ds.root}: no drum parts in the train split: the drummer learns from drums (channel 10), e.g. the "
                "Groove MIDI Dataset ('tunesmith prepare --download groove')"
            )
        if not val_parts:
            raise DatasetError(f"{ds.root}: the validation split has no drums to measure the drummer on")
        train_w, val_w = Windows.build(train_parts, cfg.context), Windows.build(val_parts, cfg.context)
        styles = sorted({STYLES[p.style] for p in train_parts})
        info = {
            "hits_per_bar": hits_per_bar(train_parts),
            "train_windows": len(train_w),
            "val_windows": len(val_w),
            "styles": styles,
            "style_tempo": style_tempi(train_parts),
            "fills": int(sum(bool(np.any(p.fill)) for p in train_parts)),
            "fills_after_a_beat": int(sum(isinstance(p.fill, np.ndarray) for p in train_parts)),
        }
        return TaskBundle(DrummerTask(model, train_w, val_w, train_cfg, device, cfg.style_dropout), info)

    # ------------------------------------------------------------------------------------------------ generating
    def generate(self, model: Drummer, run: Run, opts: DrummerOptions, device: torch.device) -> list[Notes]:
        """``opts.n`` grooves of ``opts.bars`` bars in ``opts.style`` at ``opts.tempo`` (default: the style's
        median tempo in the training data), a fill in the last bar of every ``fill_every``; with a primer, its
        drums continued for that many bars, or with ``infill_bars`` those bars of it played anew."""
        bars = opts.bars if opts.bars is not None else opts.length
        if bars <= 0:
            raise ConfigError(f"--bars must be a positive number of bars, got {bars}")
        if opts.fill_every is not None and opts.fill_every <= 0:
            raise ConfigError(f"--fill-every takes a number of bars, 1 or more, got {opts.fill_every}")
        check_style(run, opts.style)
        style = torch.full((opts.n,), style_index(opts.style), device=device)
        guidance = FILL_GUIDANCE if opts.fill_guidance is None else float(opts.fill_guidance)
        if not guidance > 0:
            raise ConfigError(f"--fill-guidance must be a positive number, got {opts.fill_guidance}")
        sampling = {
            "temperature": opts.temperature, "top_k": opts.top_k, "top_p": opts.top_p, "fill_guidance": guidance,
        }  # fmt: skip
        if opts.infill_bars is not None:
            if opts.primer is None:
                raise ConfigError("--infill-bars plays bars of --primer anew: give a --primer MIDI file with drums")
            return self._infill(model, read(opts.primer), opts, device, sampling)
        if opts.primer is not None:
            return self._continue(model, read(opts.primer), bars, opts, style, device, sampling)
        qpm = self._tempo(run, opts)
        steps = bars * POSITIONS
        plan = Plan.new(opts.n, steps)
        plan.qpm[:] = qpm
        plan.fill[:] = fills(steps, 0, opts.fill_every)
        draw_steps(model, plan, style, 0, steps, generators(opts, device), **sampling)
        tempos = constant_tempo(qpm)
        return [to_notes(plan, r, 0, steps, tempos).with_metadata(seed=str(opts.seed + r)) for r in range(opts.n)]

    def _tempo(self, run: Run, opts: DrummerOptions) -> float:
        if opts.tempo is not None:
            parse_tempo(opts.tempo)  # the same check and message as the controls' --tempo
            return float(opts.tempo)
        tempi = run.data().get("style_tempo") or {}
        return float(tempi.get(opts.style or STYLES[0], tempi.get(STYLES[0], DEFAULT_QPM)))

    def _continue(
        self, model: Drummer, primer: Notes, bars: int, opts: DrummerOptions, style: torch.Tensor, device, sampling
    ) -> list[Notes]:
        grid = drum_grid(primer)
        if not grid.hits.any():
            raise ConfigError(f"{opts.primer}: no drum notes (channel 10, the 9 kit classes) to continue")
        start = math.ceil(grid.hits.shape[0] / POSITIONS) * POSITIONS  # the new bars start on a bar line
        plan = Plan.new(opts.n, start + bars * POSITIONS)
        plan.qpm[:] = grid.qpm[-1]
        plan.give(grid)
        plan.pattern[:, grid.hits.shape[0] : start] = 0  # the primer's last bar ends in silence
        plan.fill[:] = fills(plan.pattern.shape[1], 0, opts.fill_every)
        plan.fill[:, :start] = 0
        draw_steps(model, plan, style, start, plan.pattern.shape[1], generators(opts, device), **sampling)
        track = int(primer.notes["track"][drum_cells(primer).index[0]])
        out = []
        for r in range(opts.n):
            new = to_notes(plan, r, start, plan.pattern.shape[1], primer.tempos)
            out.append(merge(primer, new, track).with_metadata(seed=str(opts.seed + r)))
        return out

    def _infill(self, model: Drummer, primer: Notes, opts: DrummerOptions, device, sampling) -> list[Notes]:
        cells = drum_cells(primer)
        grid = drum_grid(primer, cells)
        if not grid.hits.any():
            raise ConfigError(f"{opts.primer}: no drum notes (channel 10, the 9 kit classes) to play anew")
        a, b = parse_bars(opts.infill_bars or "")
        total = math.ceil(grid.hits.shape[0] / POSITIONS)
        if a >= total:
            raise ConfigError(f"--infill-bars {opts.infill_bars}: {opts.primer} has {total} bars of drums")
        first, last = a * POSITIONS, min(b, total) * POSITIONS
        after = min(last + 2 * POSITIONS, grid.hits.shape[0])  # the bars after the gap judge the takes
        takes = TAKES if after > last else 1
        rows = opts.n * takes
        plan = Plan.new(rows, grid.hits.shape[0])
        plan.give(grid)
        plan.fill[:, first:last] = fills(last - first, a * POSITIONS, opts.fill_every)[None] if opts.fill_every else 0
        gens = [seeded_generator(opts.seed + r // takes + 7919 * (r % takes), device) for r in range(rows)]
        style = torch.full((rows,), style_index(opts.style), device=device)
        draw_steps(model, plan, style, first, last, gens, **sampling)
        if takes > 1:
            score = log_likelihood(model, plan, style, last, after).view(opts.n, takes)
            best = (torch.arange(opts.n, device=device) * takes + score.argmax(1)).cpu().numpy()
        else:
            best = np.arange(opts.n)
        gone = cells.index[(cells.step >= first) & (cells.step < last)]
        kept = primer[np.setdiff1d(np.arange(len(primer.notes)), gone)]
        track = int(primer.notes["track"][cells.index[0]])
        out = []
        for i, r in enumerate(best.tolist()):
            new = to_notes(plan, r, first, last, primer.tempos)
            out.append(merge(kept, new, track).with_metadata(seed=str(opts.seed + i)))
        return out

    def play_along(
        self,
        model: Drummer,
        run: Run,
        song: Notes,
        lines: np.ndarray,
        energy: np.ndarray,
        fill_bars: np.ndarray,
        *,
        style: str | None,
        seed: int,
        device: torch.device,
        temperature: float = 1.0,
        takes: int = TAKES,
        fill_guidance: float = FILL_GUIDANCE,
    ) -> Notes:
        """A drum part for ``song``: on its bar ``lines`` (quarter notes) and tempo map, bar by bar, ``takes``
        takes of each bar drawn and the one whose hits come closest to the bar's ``energy`` (0-1: the song's
        calmest to busiest bar) mapped onto the style's range of hits per bar (its training beats' 10th to 90th
        percentile) kept; a fill in the bars of ``fill_bars``."""
        check_style(run, style)
        steps = int(math.ceil(lines[-1] * 4 - 1e-9))
        qn = np.arange(steps) / 4.0
        bar = np.clip(np.searchsorted(lines, qn + 1e-9, side="right") - 1, 0, len(lines) - 2)
        plan = Plan.new(takes, steps)
        plan.position[:] = np.clip(np.floor((qn - lines[bar]) * 4 + 0.5), 0, POSITIONS - 1).astype(np.int64)
        t = song.tempos
        plan.qpm[:] = t["qpm"][np.clip(np.searchsorted(t["qn"], qn, side="right") - 1, 0, None)]
        plan.fill[:] = np.asarray(fill_bars, dtype=np.int64)[bar]
        deciles = (run.data().get("hits_per_bar") or {}).get(style or STYLES[0]) or [0.0] * 11
        lo, hi = deciles[1], deciles[9]
        gens = [seeded_generator(seed + 7919 * r, device) for r in range(takes)]
        ids = torch.full((takes,), style_index(style), device=device)
        bounds = np.searchsorted(bar, np.arange(len(lines)), side="left")
        for b in progress_bar(iterable=range(len(lines) - 1), desc="drums", unit="bar", leave=False):
            first, last = int(bounds[b]), int(bounds[b + 1])
            if last <= first:
                continue
            draw_steps(
                model, plan, ids, first, last, gens, temperature=temperature, label=None, fill_guidance=fill_guidance
            )
            hits = pattern_hits(torch.as_tensor(plan.pattern[:, first:last])).sum((1, 2)).numpy()
            best = 0 if fill_bars[b] else int(np.abs(hits - (lo + energy[b] * (hi - lo))).argmin())
            for a in (plan.pattern, plan.velocity, plan.offset):
                a[:, first:last] = a[best, first:last]
        return to_notes(plan, 0, 0, steps, song.tempos)

    # ------------------------------------------------------------------------------------------------ measuring
    @torch.no_grad()
    def likelihood(
        self, model: Drummer, run: Run, ds: Dataset, split: str, device: torch.device, max_windows: int
    ) -> dict[str, float]:
        """Bits per hit of ``split``'s drum parts (windows of the context end to end, evenly spread, at most
        ``max_windows``):
        the patterns' cross-entropy summed over the steps, over the hits they hold."""
        w = Windows.build(parts(ds, split), model.cfg.context, hop=model.cfg.context)  # each step once
        if len(w) == 0:
            return {}
        idx = evenly_spread(len(w), max_windows)
        nats, hits = 0.0, 0
        with eval_mode(model):
            for k in range(0, len(idx), 64):
                batch = w.batch(idx[k : k + 64], device)
                h = model(batch["prev"], batch["position"], batch["style"], batch["fill"], batch["qpm"])
                logp = torch.log_softmax(model.head(h).float(), -1).gather(-1, batch["pattern"][..., None])[..., 0]
                nats -= float(logp[batch["valid"]].sum())
        hits = int(np.unpackbits(w.pattern[idx][w.valid[idx]].astype(">u2").view(np.uint8)).sum())
        return {"bits_per_note": nats / max(hits, 1) / math.log(2), "notes": float(hits)}


def check_style(run: Run, style: str | None) -> None:
    """A ConfigError unless ``style`` is None, "any" or a style the run learned from (its training data's)."""
    if style is None or style == STYLES[0]:
        return
    learned = run.data().get("styles") or [s for s in STYLES[1:]]
    if style not in learned:
        raise ConfigError(f"--style {style!r}: this model learned {', '.join(learned)} (or any)")


def fills(steps: int, origin: int, every: int | None) -> np.ndarray:
    """``(steps,)`` fill flags of steps ``origin ..``: 1 in the last bar of every ``every`` bars (counted from step
    0), 0 elsewhere and everywhere without ``every``."""
    if not every:
        return np.zeros(steps, np.int64)
    bar = (origin + np.arange(steps)) // POSITIONS
    return ((bar + 1) % every == 0).astype(np.int64)


def generators(opts: DrummerOptions, device: torch.device) -> list[torch.Generator]:
    """One generator per piece, seeded seed, seed + 1, ...: piece i is what ``--seed (seed + i) -n 1`` writes."""
    return [seeded_generator(opts.seed + i, device) for i in range(opts.n)]


def merge(song: Notes, drums: Notes, track: int) -> Notes:
    """``song``'s notes and ``drums``' (given ``song``'s drum track ``track``), in the canonical order."""
    a = drums.notes.copy()
    a["track"] = track
    both = Notes.concatenate([song, Notes(a, song.tempos, song.time_signatures, song.source, song.metadata)])
    return both.sorted()


FAMILIES = [DrummerFamily()]
