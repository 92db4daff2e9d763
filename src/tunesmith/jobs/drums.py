"""The ``drums`` job: a drum track for a song (:func:`drums_for_song`), and grooves measured: whether a drum model
plays the style asked for and fills where asked, judged by classifiers fitted on real drumming and held to how
well they recognise real held-out drumming (``benchmarks/bench_drums.py``, the shipped ``drums`` card;
docs/drums.md).

- **Style.** :class:`~tunesmith.evaluation.drums.StyleClassifier` fitted on the train split's beats (each
  performance's style without its sub-style); its accuracy on the held-out beats' first ``bars`` bars, style by
  style, is the ceiling. The model plays ``per_style`` grooves of ``bars`` bars in each style the held-out split
  has at least :data:`MIN_HELD_OUT` beats of, at that style's training tempo; the share the classifier names as
  asked, style by style, is set beside the ceiling (both as the mean over the styles: each style counts alike).
- **Fills.** The same classifier fitted on single bars: a bar of a beat (up to :data:`BARS_PER_BEAT` of each
  beat, evenly spread) against a fill piece's first bar. On held-out bars its recall of fills and of beats is
  the ceiling; the model plays grooves with a fill every ``every`` bars, and the share of its fill bars named
  fills (and of its other bars named beats) is set beside it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..dataset import Dataset
from ..errors import ConfigError
from ..evaluation.drums import StyleClassifier, primary_style
from ..grid import bar_lines_qn
from ..io import read, write_midi
from ..notes import Notes
from ..representations.song import bar_energy, section_starts, song_bars
from ..training.trainer import choose_device
from .generate import companions, output_folder
from .runs import load_run

#: the shipped drum model, what ``tunesmith drums`` plays with unless told otherwise
DEFAULT_RUN = "drums"

#: the held-out beats a style needs to be measured (fewer give no stable figure)
MIN_HELD_OUT = 3
#: bars of each beat the fill classifier learns beats from
BARS_PER_BEAT = 4


def drums_for_song(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    run: str | os.PathLike[str] = DEFAULT_RUN,
    style: str | None = None,
    replace: bool = False,
    n: int = 1,
    seed: int = 0,
    temperature: float = 1.0,
    device: str = "cpu",
    wav: bool = False,
    png: bool = False,
    score: bool = False,
) -> dict[str, Any]:
    """Write ``source`` with a drum track added into the folder ``out`` (``<name>_drums.mid``; ``n`` of them,
    ``<name>_drums_00.mid`` ..., played with seeds ``seed``, ``seed + 1`` ...): on the song's
    tempo map and bars, its density following the song's energy bar by bar, a fill in the bar before each section
    change (:mod:`tunesmith.representations.song` says how both are read), the song's tracks note for note. A song
    with drums is refused unless ``replace`` (its drum notes then go). Returns the file and what was heard."""
    song = read(source)
    drums = song.notes["is_drum"]
    if drums.any() and not replace:
        tracks = sorted(set(song.notes["track"][drums].tolist()))
        raise ConfigError(
            f"{source}: already has drums (track {', '.join(str(t + 1) for t in tracks)}); give --replace to write "
            "a new drum track in their place"
        )
    if len(drums) == 0:
        raise ConfigError(f"{source}: no notes: nothing for the drums to follow")
    if drums.all():
        raise ConfigError(f"{source}: no notes but drums: nothing for the drums to follow")
    song = song[np.flatnonzero(~drums)] if drums.any() else song
    loaded, fam, model = drum_model(run, device)
    lines = song_bars(song)
    energy = bar_energy(song, lines)
    starts = section_starts(song, lines=lines)
    fills = np.zeros(len(lines) - 1, dtype=bool)
    fills[[b - 1 for b in starts if b >= 1]] = True
    if n < 1:
        raise ConfigError(f"-n must be 1 or more, got {n}")
    folder = output_folder(out)
    files, hits = [], []
    for i in range(n):
        part = fam.play_along(
            model, loaded, song, lines, energy, fills, style=style, seed=seed + i, temperature=temperature,
            device=next(model.parameters()).device,
        )  # fmt: skip
        a = part.notes.copy()
        a["track"] = int(song.notes["track"].max()) + 1 if len(song.notes) else 0
        both = Notes.concatenate([song, Notes(a, song.tempos, song.time_signatures, song.source, song.metadata)])
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{Path(source).stem}_drums" + (f"_{i:02d}" if n > 1 else "") + ".mid"
        written = write_midi(both.sorted().with_metadata(generator=f"tunesmith {loaded.kind}"), folder / name)
        companions(written, wav=wav, png=png, score=score)
        files.append(written)
        hits.append(len(a))
    return {"files": files, "bars": len(lines) - 1, "sections": [b + 1 for b in starts], "hits": hits}


def drum_model(run: str | os.PathLike[str], device: str) -> tuple[Any, Any, Any]:
    """``load_run``'s (run, family, model) of a drum model: a family that plays styles, else a ConfigError."""
    loaded, fam, model = load_run(run, choose_device(device))
    if not fam.can("styles"):
        raise ConfigError(f"{run} is a {fam.name} run, which plays no drums; use a drum model (e.g. drums)")
    return loaded, fam, model


def follows_energy(
    run: str | os.PathLike[str],
    data: str | os.PathLike[str],
    split: str = "test",
    *,
    songs: int = 16,
    bars: int = 16,
    style: str | None = None,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, Any]:
    """How closely a drum track follows a song's energy: for the first ``bars`` bars of ``songs`` pieces of
    ``data``'s ``split`` (evenly spread; pieces with pitched notes), the Spearman correlation between each bar's
    energy and the drum hits played in it, as ``tunesmith drums`` plays them (8 takes a bar, the nearest kept) and
    with one take a bar (no choosing: what the model plays regardless of the song)."""
    from scipy.stats import spearmanr

    from ..representations.drums import STEPS_PER_QUARTER, drum_cells
    from ..training.stores import evenly_spread

    loaded, fam, model = drum_model(run, device)
    dev = next(model.parameters()).device
    ds = Dataset.load(data)
    pool = [int(i) for i in ds.indices(split) if (~ds[int(i)].notes["is_drum"]).sum() > 0]
    out: dict[str, list[float]] = {"chosen": [], "one_take": []}
    for k in evenly_spread(len(pool), songs).tolist():
        song = bars_of(ds[pool[k]], 0, bars)
        song = song[np.flatnonzero(~song.notes["is_drum"])]
        lines = song_bars(song)
        energy = bar_energy(song, lines)
        if len(lines) < 4 or np.ptp(energy) == 0:
            continue
        for name, takes in (("chosen", 8), ("one_take", 1)):
            part = fam.play_along(
                model, loaded, song, lines, energy, np.zeros(len(lines) - 1, bool), style=style, seed=seed,
                device=dev, takes=takes,
            )  # fmt: skip
            c = drum_cells(part)
            step_qn = c.step / STEPS_PER_QUARTER
            hits = np.bincount(np.clip(np.searchsorted(lines, step_qn + 1e-9, side="right") - 1, 0, len(lines) - 2),
                               minlength=len(lines) - 1)  # fmt: skip
            rho = spearmanr(energy, hits).statistic if np.ptp(hits) > 0 else 0.0
            out[name].append(float(rho))
    return {
        "songs": len(out["chosen"]),
        "bars": bars,
        "spearman_chosen": float(np.mean(out["chosen"])) if out["chosen"] else 0.0,
        "spearman_one_take": float(np.mean(out["one_take"])) if out["one_take"] else 0.0,
    }


def bar_changes(notes: Notes) -> np.ndarray:
    """``(bars,)``: how much each bar's hits (9 classes x 16 steps) differ from the bar before's, as the Jaccard
    distance of the two sets of hit cells (0: the same hits; 1: none shared); the first bar 0."""
    from ..representations.drums import POSITIONS, drum_grid

    hits = drum_grid(notes).hits
    bars = -(-hits.shape[0] // POSITIONS)
    cells = np.zeros((bars * POSITIONS, hits.shape[1]), bool)
    cells[: hits.shape[0]] = hits
    per_bar = cells.reshape(bars, -1)
    out = np.zeros(bars)
    if bars > 1:
        both = (per_bar[1:] & per_bar[:-1]).sum(1)
        either = (per_bar[1:] | per_bar[:-1]).sum(1)
        out[1:] = 1.0 - np.divide(both, either, out=np.ones(bars - 1), where=either > 0)
    return out


def _fills_after_beats(beats: list[Notes], fills: list[Notes]) -> list[Notes]:
    """Each fill played after the last bar of a beat of its session and style (where there is one): the turn
    into a fill as a song has it, for :func:`bar_changes` to measure."""
    from ..grid import bar_lines_qn

    by = {(p.source.rsplit("/", 1)[0], p.metadata.get("style")): p for p in beats}
    out = []
    for f in fills:
        beat = by.get((f.source.rsplit("/", 1)[0], f.metadata.get("style")))
        if beat is None:
            continue
        n = len(bar_lines_qn(beat, float(beat.notes["end_qn"].max())))
        last = bars_of(beat, max(n - 2, 0), 1)
        first = bars_of(f, 0, 1)
        a = first.notes.copy()
        a["start_qn"] += 4.0
        a["end_qn"] += 4.0
        joined = Notes.from_arrays(
            np.r_[last.notes["pitch"], a["pitch"]], start_qn=np.r_[last.notes["start_qn"], a["start_qn"]],
            end_qn=np.r_[last.notes["end_qn"], a["end_qn"]], velocity=np.r_[last.notes["velocity"], a["velocity"]],
            is_drum=True, tempos=beat.tempos,
        )  # fmt: skip
        out.append(joined)
    return out


def bars_of(notes: Notes, first: int, count: int) -> Notes:
    """Bars ``first .. first + count - 1`` (from 0, by the piece's time signatures) as a piece of their own,
    starting at 0 (its tempo map and metadata kept)."""
    lines = bar_lines_qn(notes, float(notes.notes["end_qn"].max(initial=0.0)) + 8.0)
    lo = lines[min(first, len(lines) - 1)]
    hi = lines[min(first + count, len(lines) - 1)] if first + count < len(lines) else np.inf
    a = notes.notes
    keep = (a["start_qn"] >= lo - 1e-6) & (a["start_qn"] < hi - 1e-6)
    part = notes[np.flatnonzero(keep)].copy()
    b = part.notes
    b["start_qn"] -= lo
    b["end_qn"] -= lo
    return Notes.from_arrays(
        b["pitch"], start_qn=b["start_qn"], end_qn=b["end_qn"], velocity=b["velocity"], program=b["program"],
        track=b["track"], is_drum=b["is_drum"], tempos=notes.tempos, metadata=dict(notes.metadata),
    )  # fmt: skip


def _split(ds: Dataset, split: str) -> tuple[list[Notes], list[Notes]]:
    """The split's beats and fills (pieces with drum notes)."""
    beats, fills = [], []
    for i in ds.indices(split):
        p = ds[int(i)]
        if not p.notes["is_drum"].any():
            continue
        (fills if p.metadata.get("beat_type") == "fill" else beats).append(p)
    return beats, fills


def _per_class(predicted: list[str], truth: list[str]) -> dict[str, float]:
    out: dict[str, list[bool]] = {}
    for p, t in zip(predicted, truth, strict=True):
        out.setdefault(t, []).append(p == t)
    return {k: float(np.mean(v)) for k, v in sorted(out.items())}


def measure(
    run: str | os.PathLike[str],
    data: str | os.PathLike[str],
    split: str = "test",
    *,
    per_style: int = 16,
    bars: int = 8,
    every: int = 4,
    fill_pieces: int = 32,
    fill_guidance: float | None = None,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, Any]:
    """Style and fill figures of ``run`` (a drum model that can play styles) against ``data``'s ``split``; fills
    played with ``fill_guidance`` (None: the model's default)."""
    if split not in ("validation", "test"):
        raise ConfigError(f"split must be validation or test, got {split!r}")
    loaded, fam, model = drum_model(run, device)
    dev = next(model.parameters()).device
    ds = Dataset.load(data)
    train_beats, train_fills = _split(ds, "train")
    held_beats, held_fills = _split(ds, split)
    if not train_beats or not held_beats:
        raise ConfigError(f"{data}: no drum beats in the train and {split} splits: measure on the Groove MIDI Dataset")

    # style: fitted on whole training beats, the ceiling on held-out beats' first bars (one style: nothing to tell)
    train_styles = [primary_style(p.metadata.get("style", "")) for p in train_beats]
    truth = [primary_style(p.metadata.get("style", "")) for p in held_beats]
    counts = {s: truth.count(s) for s in set(truth)}
    real: dict[str, float] = {}
    generated: dict[str, float] = {}
    styles: list[str] = []
    if len(set(train_styles)) >= 2:
        clf = StyleClassifier().fit(train_beats, train_styles)
        known = set(loaded.data().get("styles") or ())  # the styles the model learned
        styles = sorted(s for s, n in counts.items() if n >= MIN_HELD_OUT and s in clf.styles and s in known)
        keep = [k for k, s in enumerate(truth) if s in styles]
        real = _per_class(clf.predict([bars_of(held_beats[k], 0, bars) for k in keep]), [truth[k] for k in keep])
        for s in styles:
            opts = fam.options(n=per_style, length=bars, bars=bars, style=s, seed=seed)
            pieces = fam.generate(model, loaded, opts, dev)
            generated[s] = float(np.mean([p == s for p in clf.predict(pieces)]))

    # fills: one bar each, beats' bars against fills' first bars
    def bar_set(beats: list[Notes], fills: list[Notes]) -> tuple[list[Notes], list[str]]:
        pieces, labels = [], []
        for p in beats:
            n = len(bar_lines_qn(p, float(p.notes["end_qn"].max())))
            for b in np.unique(np.linspace(0, max(n - 2, 0), BARS_PER_BEAT).astype(int)):
                pieces.append(bars_of(p, int(b), 1))
                labels.append("beat")
        for p in fills:
            pieces.append(bars_of(p, 0, 1))
            labels.append("fill")
        ok = [k for k, q in enumerate(pieces) if len(q.notes)]
        return [pieces[k] for k in ok], [labels[k] for k in ok]

    fill_clf = StyleClassifier().fit(*bar_set(train_beats, train_fills))
    held_bars, held_labels = bar_set(held_beats, held_fills)
    fill_real = _per_class(fill_clf.predict(held_bars), held_labels)
    opts = fam.options(n=fill_pieces, length=bars, bars=bars, fill_every=every, fill_guidance=fill_guidance, seed=seed)
    played = fam.generate(model, loaded, opts, dev)
    wanted = [("fill" if (b + 1) % every == 0 else "beat") for b in range(bars)]
    got = [(fill_clf.predict([bars_of(p, b, 1)])[0], wanted[b]) for p in played for b in range(bars)]
    fill_generated = _per_class([g for g, _ in got], [w for _, w in got])

    # fills as breaks: a bar whose hits differ from the bar before's more than 9 in 10 of the training beats' do
    edge = float(np.percentile(np.concatenate([bar_changes(p) for p in train_beats]), 90))
    lead_ins = _fills_after_beats(held_beats, held_fills)
    break_real = float(np.mean([bar_changes(x)[-1] > edge for x in lead_ins])) if lead_ins else 0.0
    changes = np.stack([np.pad(bar_changes(p), (0, bars))[:bars] for p in played])
    asked = np.array([w == "fill" for w in wanted])
    return {
        "break_edge": edge,
        "break_real_fills": break_real,
        "break_generated_fills": float((changes[:, asked] > edge).mean()),
        "break_generated_beats": float((changes[:, ~asked & (np.arange(bars) > 0)] > edge).mean()),
        "split": split,
        "styles": styles,
        "held_out_beats": {s: counts[s] for s in styles},
        "style_real": real,
        "style_generated": generated,
        "style_real_mean": float(np.mean(list(real.values()))) if real else 0.0,
        "style_generated_mean": float(np.mean(list(generated.values()))) if generated else 0.0,
        "fill_real": fill_real,
        "fill_generated": fill_generated,
        "per_style": per_style,
        "bars": bars,
        "every": every,
    }
