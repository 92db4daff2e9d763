"""Plots (matplotlib with the Agg backend: no screen needed).

* :func:`plot_pianoroll`: one piece, time in seconds or bars, pitch names on the axis, velocity as shade.
* :func:`plot_runs`: training curves from runs' ``metrics.jsonl``, and the musical statistics some runs log.
* :func:`plot_dataset`: a prepared dataset's pitch, step, duration and velocity distributions and the pitch
  range of each piece (the paper looks at its data this way before training).
* :func:`plot_distributions`: the same distributions for several named sets of pieces overlaid (generated vs
  reference music, for the evaluation report).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import CheckpointError, ConfigError, DatasetError
from .notes import Notes
from .runfiles import METRICS
from .utils import atomic_path

if TYPE_CHECKING:
    from .dataset import Dataset

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
TIME_UNITS = ("seconds", "bars")
DATASET_SPLITS = ("all", "train", "validation", "test")
#: step and duration histograms stop at this quantile of the data, so that a long tail does not squash them
TAIL_QUANTILE = 0.995
#: bins of the step and duration histograms
TIME_BINS = 60
#: width of a velocity bin
VELOCITY_BIN = 4


def pitch_name(pitch: int) -> str:
    """MIDI number -> scientific pitch name (60 -> C4)."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def _pyplot():  # noqa: ANN202
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _figure(width: float = 10.0, height: float = 4.0):  # noqa: ANN202
    plt = _pyplot()
    return plt, *plt.subplots(figsize=(width, height), dpi=100)


def _save(fig, path: Path) -> Path:  # noqa: ANN001
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    return path


def _pitch_ticks(ax, lo: int, hi: int, axis: str = "y") -> None:  # noqa: ANN001
    """Pitch names on an axis: every pitch for a range up to 1.5 octaves, else every C."""
    if hi - lo <= 18:
        ticks = list(range(lo, hi + 1))
    else:
        ticks = [p for p in range(lo - lo % 12, hi + 1, 12) if p >= lo - 6] or [lo]
    (ax.set_yticks if axis == "y" else ax.set_xticks)(ticks, [pitch_name(p) for p in ticks])


# ---------------------------------------------------------------------------------------------- piano roll
def qn_to_bars(qn: np.ndarray | Sequence[float], time_signatures: np.ndarray) -> np.ndarray:
    """Quarter-note times -> bars since the start (bar 0 begins at 0), following the time-signature changes.

    A bar of n/d lasts ``n * 4 / d`` quarter notes; each change starts a new bar length at its own time (a
    change in the middle of a bar leaves a fractional bar before it, as written). No signature means 4/4."""
    qn = np.asarray(qn, dtype=np.float64)
    ts = np.sort(time_signatures[time_signatures["qn"] >= 0], order="qn", kind="stable")
    begin = ts["qn"].astype(np.float64)
    num, den = ts["numerator"].astype(np.float64), ts["denominator"].astype(np.float64)
    length = np.where((num > 0) & (den > 0), num * 4.0 / np.maximum(den, 1), 4.0)  # a broken signature: 4/4
    if begin.size == 0 or begin[0] > 0:
        begin, length = np.concatenate([[0.0], begin]), np.concatenate([[4.0], length])
    bars_at = np.concatenate([[0.0], np.cumsum(np.diff(begin) / length[:-1])])
    k = np.clip(np.searchsorted(begin, qn, side="right") - 1, 0, None)
    return bars_at[k] + (qn - begin[k]) / length[k]


def plot_pianoroll(
    notes: Notes, path: str | os.PathLike[str], *, title: str | None = None, unit: str = "seconds"
) -> Path:
    """A piano roll: one bar per note, time in seconds or bars, pitch names on the axis, velocity as shade.

    In bars (``unit="bars"``), time is counted as a musician does, bar 1 first, from the notes' quarter-note
    times and the piece's time signatures (:func:`qn_to_bars`), with a faint line at each bar. Drum notes are
    drawn in grey."""
    if unit not in TIME_UNITS:
        raise ConfigError(f"time unit must be one of {', '.join(TIME_UNITS)}, got {unit!r}")
    plt, fig, ax = _figure()
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    a = notes.notes
    if unit == "seconds":
        start, end, xlabel = a["start"], a["end"], "time (s)"
    else:
        start = 1.0 + qn_to_bars(a["start_qn"], notes.time_signatures)
        end = 1.0 + qn_to_bars(a["end_qn"], notes.time_signatures)
        xlabel = "bar"
    # velocity 0..127 -> the upper 65% of a colour map, so that the softest note is still visible
    shades = ListedColormap(plt.get_cmap("Blues")(np.linspace(0.35, 1.0, 256)))
    greys = ListedColormap(plt.get_cmap("Greys")(np.linspace(0.35, 1.0, 256)))
    norm = Normalize(0, 127)
    if a.size:
        drum = a["is_drum"]
        for sel, cmap in ((~drum, shades), (drum, greys)):
            if sel.any():
                ax.barh(
                    a["pitch"][sel],
                    np.maximum(end[sel] - start[sel], 1e-3),
                    left=start[sel],
                    height=0.8,
                    color=cmap(norm(a["velocity"][sel])),
                    edgecolor="none",
                )
        lo, hi = int(a["pitch"].min()), int(a["pitch"].max())
        _pitch_ticks(ax, lo, hi)
        ax.set_ylim(lo - 1.5, hi + 1.5)
        x0 = 1.0 if unit == "bars" else 0.0
        ax.set_xlim(x0, x0 + (float(end.max()) - x0) * 1.01 + 1e-6)
        if unit == "bars" and end.max() - 1 <= 200:
            for bar in range(2, int(np.ceil(end.max())) + 1):
                ax.axvline(bar, color="black", alpha=0.12, linewidth=0.6)
    fig.colorbar(ScalarMappable(norm, shades), ax=ax, label="velocity", fraction=0.03, pad=0.01)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("pitch")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title or Path(notes.source).name or "piano roll")
    out = _save(fig, Path(path))
    plt.close(fig)
    return out


# ---------------------------------------------------------------------------------------------- training curves
def read_metrics(run: str | os.PathLike[str], kinds: Iterable[str] = ("epoch",)) -> list[dict]:
    """The records of a run's ``metrics.jsonl`` of the given kinds (default: one dict per epoch), in file order.

    The trainer writes ``train`` lines every ``log_every`` steps, ``val`` lines every ``val_every`` steps and
    one ``epoch`` line at the end of each epoch."""
    import json

    path = Path(run) / METRICS
    if not path.is_file():
        raise _run_error(f"{run}: no {METRICS}; is it a run folder written by 'tunesmith train'?")
    wanted = set(kinds)
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise _run_error(f"{path}: line {number} is not JSON ({e.msg})") from None
        if record.get("kind") in wanted:
            records.append(record)
    return records


def _run_error(message: str) -> Exception:

    return CheckpointError(message)


def _labels(runs: list[Path]) -> list[str]:
    """Folder names, or whole paths where two runs share a folder name."""
    names = [r.name or str(r) for r in runs]
    return [n if names.count(n) == 1 else str(r) for n, r in zip(names, runs, strict=True)]


def _loss_names(records: Iterable[dict]) -> list[str]:
    """Loss-like metrics of the records: ``loss`` first, then every ``*_loss`` (a GAN's d_loss, g_loss), then
    ``score`` (the statistics' score that ``select_by=statistics`` keeps weights by)."""
    names = {k.split("/", 1)[1] for rec in records for k in rec if k.startswith(("train/", "val/"))}
    losses = sorted(n for n in names if n == "loss" or n.endswith("_loss"))
    return sorted(losses, key=lambda n: n != "loss") + (["score"] if "score" in names else [])


def _marker(x: Sequence[float]) -> str | None:
    """A marker for a series too short to be seen as a line (one point draws nothing without one)."""
    return "o" if len(x) < 3 else None


#: runs whose typical values of one loss differ by more than this factor get panels of their own
SCALE_RATIO = 4.0


def _scale_groups(runs: list[Path], logs: dict[Path, list[dict]], name: str) -> list[list[Path]]:
    """The runs that log loss ``name``, grouped so that each group's typical values (median of its absolute
    values) lie within :data:`SCALE_RATIO` of each other; groups by ascending scale, runs in their given order."""
    typical = {}
    for run in runs:
        values = [abs(rec[k]) for rec in logs[run] for k in (f"train/{name}", f"val/{name}") if k in rec]
        if values:
            typical[run] = float(np.median(values))
    groups: list[list[Path]] = []
    for run in sorted(typical, key=lambda r: typical[r]):
        if groups and typical[run] <= max(typical[groups[-1][0]], 1e-12) * SCALE_RATIO:
            groups[-1].append(run)
        else:
            groups.append([run])
    return [[r for r in runs if r in g] for g in groups] or [runs]


def _curve(records: list[dict], key: str) -> tuple[list[float], list[float]]:
    pts = sorted((rec["step"], rec[key]) for rec in records if key in rec and "step" in rec)
    return [p[0] for p in pts], [p[1] for p in pts]


def plot_runs(
    runs: Sequence[str | os.PathLike[str]], path: str | os.PathLike[str], *, stats: list[str] | None = None
) -> Path:
    """Training curves of one or more runs in one figure.

    Loss panels (``loss``, and any ``*_loss``) over optimizer steps: training as a solid line (the ``train``
    lines of ``metrics.jsonl``, or the epoch averages where a run logged none), validation dashed. Runs that log
    musical statistics of generated samples (``gen/<name>``, with the real data's value as ``real/<name>``) also
    get one panel per statistic over epochs, each run a line and real data a dashed black line: the layout of
    C-RNN-GAN's Figure 3. ``stats`` picks the panels by name instead (a statistic or a logged metric)."""
    runs = [Path(r) for r in runs]
    if not runs:
        raise ConfigError("plot_runs: no run given")
    logs = {r: read_metrics(r, kinds=("train", "val", "epoch")) for r in runs}
    for run, recs in logs.items():
        if not recs:
            raise _run_error(f"{run}: {METRICS} has no records yet; train for a few steps first")
    epochs = {r: [rec for rec in recs if rec.get("kind") == "epoch"] for r, recs in logs.items()}
    gen_keys = sorted({k[4:] for recs in epochs.values() for rec in recs for k in rec if k.startswith("gen/")})
    logged = {k.split("/", 1)[1] for recs in logs.values() for rec in recs for k in rec if "/" in k}
    unknown = [s for s in stats or [] if s not in logged]
    if unknown:
        raise ConfigError(
            f"{', '.join(unknown)}: not logged by {', '.join(map(str, runs))}; choose from {', '.join(sorted(logged))}"
        )
    names = stats or [*_loss_names(rec for recs in logs.values() for rec in recs), *gen_keys]
    if not names:
        raise _run_error(f"{', '.join(map(str, runs))}: no loss or statistic logged to plot")
    # a loss whose runs differ in scale (the RNN's 6.7 beside a GAN's 0.7) gets a panel per scale
    panels = [
        (name, group)
        for name in names
        for group in ([runs] if name in gen_keys else _scale_groups(runs, logs, name))
    ]
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    plt = _pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), dpi=100, squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    labels = dict(zip(runs, _labels(runs), strict=True))
    for ax, (name, group) in zip(axes.ravel(), panels, strict=False):
        real = None
        statistic = name in gen_keys
        for run in group:
            color, label = colors[runs.index(run) % len(colors)], labels[run]
            if statistic:
                recs = epochs[run]
                x = [r["epoch"] for r in recs]
                ax.plot(x, [r.get(f"gen/{name}", np.nan) for r in recs], marker=_marker(x), label=label)
                if real is None:
                    real = next((rec[f"real/{name}"] for rec in recs if f"real/{name}" in rec), None)
                continue
            recs = logs[run]
            steps_lines = [r for r in recs if r["kind"] == "train"] or [r for r in recs if r["kind"] == "epoch"]
            x, y = _curve(steps_lines, f"train/{name}")
            ax.plot(x, y, color=color, marker=_marker(x), label=f"{label} train")
            validations = [r for r in recs if r["kind"] in ("val", "epoch")]
            x, y = _curve(validations, f"val/{name}")
            ax.plot(x, y, "--", color=color, marker="." if len(x) < 30 else None, label=f"{label} validation")
            kept = [r for r in validations if r.get("best") and f"val/{name}" in r]
            if name == "score" and kept:  # the weights model.safetensors holds
                ax.plot([kept[-1]["step"]], [kept[-1]["val/score"]], "*", color=color, markersize=12, label="kept")
        if real is not None:
            ax.axhline(real, color="black", linestyle="--", linewidth=1, label="real data")
        split = len(group) < len(runs) and not statistic
        ax.set_title(name.replace("_", " ") + (f" ({', '.join(labels[r] for r in group)})" if split else ""))
        ax.set_xlabel("epoch" if statistic else "step")
        ax.grid(alpha=0.3)
        if ax is axes.ravel()[0] or split or (statistic and name == gen_keys[0] and real is not None):
            ax.legend(fontsize=7)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    fig.tight_layout()
    out = _save(fig, Path(path))
    plt.close(fig)
    return out


# ---------------------------------------------------------------------------------------------- distributions
SET_FEATURES = ("pitch", "step", "duration", "velocity")
_XLABELS = {
    "pitch": "pitch",
    "step": "step: time to the next note start (s)",
    "duration": "duration (s)",
    "velocity": "velocity",
}


def note_features(pieces: Iterable[Notes | np.ndarray], *, drums: bool = False) -> dict[str, np.ndarray]:
    """Per-note features of pieces, pooled: ``pitch``, ``velocity``, ``duration`` (end - start, s) and ``step``
    (time from one note start to the next within a piece, in onset order, s; 0 between the notes of a chord),
    and per-piece ``low``, ``high`` (lowest, highest pitch) and ``seconds`` (end of the last note). Drum notes
    are left out (their "pitch" names an instrument); pieces without pitched notes count in no per-piece value.
    With ``drums``, the other way round: the drum notes alone (``pitch`` their instrument's key)."""
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (*SET_FEATURES, "low", "high", "seconds")}
    for piece in pieces:
        a = piece.notes if isinstance(piece, Notes) else piece
        a = a[a["is_drum"]] if drums else a[~a["is_drum"]]
        if a.size == 0:
            continue
        cols["pitch"].append(a["pitch"].astype(np.int64))
        cols["velocity"].append(a["velocity"].astype(np.int64))
        cols["duration"].append(a["end"] - a["start"])
        cols["step"].append(np.diff(np.sort(a["start"])))
        cols["low"].append(np.array([a["pitch"].min()], dtype=np.int64))
        cols["high"].append(np.array([a["pitch"].max()], dtype=np.int64))
        cols["seconds"].append(np.array([a["end"].max()]))
    return {
        k: np.concatenate(v) if v else np.zeros(0, np.int64 if k in ("pitch", "velocity", "low", "high") else float)
        for k, v in cols.items()
    }


def _bins(name: str, pooled: np.ndarray) -> tuple[np.ndarray, str]:
    """Histogram bins shared by every set, and a note on what is not shown."""
    if name == "pitch":
        lo, hi = (int(pooled.min()), int(pooled.max())) if pooled.size else (60, 72)
        return np.arange(lo - 0.5, hi + 1.5), ""
    if name == "velocity":
        return np.arange(0, 129, VELOCITY_BIN) - 0.5, ""
    top = float(np.quantile(pooled, TAIL_QUANTILE)) if pooled.size else 1.0
    top = top if top > 0 else max(float(pooled.max()) if pooled.size else 0.0, 1.0)
    left_out = int((pooled > top).sum())
    note = f"\n({left_out / max(pooled.size, 1):.1%} above {top:.2f} s not shown)" if left_out else ""
    return np.linspace(0.0, top, TIME_BINS + 1), note


def plot_distributions(
    sets: Mapping[str, Sequence[Notes]],
    out: str | os.PathLike[str],
    reference: str | None = None,
    *,
    title: str | None = None,
    drums: bool = False,
) -> Path:
    """Pitch, step, duration and velocity histograms of several named sets of pieces, overlaid (``drums``: of
    their drum notes, "pitch" the instrument's key, rather than of their pitched notes).

    Each histogram is density-normalised (its area is 1), on bins shared by all sets, so that sets of different
    sizes compare; ``reference`` (a key of ``sets``, e.g. the test split) is drawn as a filled grey histogram,
    the others as outlines. Step and duration stop at the pooled 99.5% quantile (the share left out is noted).
    """
    if not sets:
        raise ConfigError("plot_distributions: no set of pieces given")
    if reference is not None and reference not in sets:
        raise ConfigError(f"plot_distributions: reference {reference!r} is not one of {', '.join(sets)}")
    features = {name: note_features(pieces, drums=drums) for name, pieces in sets.items()}
    if all(f["pitch"].size == 0 for f in features.values()):
        raise ConfigError(f"plot_distributions: the sets hold no {'drum' if drums else 'pitched'} notes")
    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), dpi=100)
    colors = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4)
    style: dict[str, dict[str, Any]] = {}
    for name in sets:
        if name == reference:
            style[name] = {"histtype": "stepfilled", "color": "0.6", "alpha": 0.6}
        else:
            style[name] = {"histtype": "step", "color": next(colors), "linewidth": 1.5}
    order = [reference] * (reference is not None) + [n for n in sets if n != reference]  # reference underneath
    for ax, feature in zip(axes.ravel(), SET_FEATURES, strict=True):
        pooled = np.concatenate([features[n][feature] for n in sets]).astype(np.float64)
        bins, note = _bins(feature, pooled)
        for name in order:
            values = features[name][feature]
            label = f"{name} ({len(sets[name])} pieces, {features[name]['pitch'].size} notes)"
            if values.size:
                ax.hist(values, bins=bins, density=True, label=label, **style[name])
            else:
                ax.plot([], [], label=f"{label}: none", **{k: v for k, v in style[name].items() if k == "color"})
        if feature == "pitch" and pooled.size and not drums:
            _pitch_ticks(ax, int(pooled.min()), int(pooled.max()), axis="x")
        ax.set_xlabel(("drum key (General MIDI)" if drums and feature == "pitch" else _XLABELS[feature]) + note)
        ax.set_ylabel("density")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = _save(fig, Path(out))
    plt.close(fig)
    return path


def plot_dataset(
    ds_or_dir: Dataset | str | os.PathLike[str], out: str | os.PathLike[str], *, split: str = "all"
) -> Path:
    """A prepared dataset at a glance: histograms of pitch, step (time between successive note starts),
    duration and velocity over all notes of ``split`` (``all``, ``train``, ``validation`` or ``test``), the
    pitch range of each piece (pieces sorted by lowest, then highest pitch; a dot at each piece's median pitch)
    and a histogram of piece lengths. Drum notes are left out."""
    from .dataset import Dataset

    ds = ds_or_dir if isinstance(ds_or_dir, Dataset) else Dataset.load(ds_or_dir)
    if split not in DATASET_SPLITS:
        raise ConfigError(f"unknown split {split!r}; choose one of {', '.join(DATASET_SPLITS)}")
    index = ds.indices(None if split == "all" else split)
    if index.size == 0:
        raise DatasetError(f"{ds.root}: the {split} split has no pieces")
    pieces = [np.asarray(ds.notes[ds.offsets[i] : ds.offsets[i + 1]]) for i in index.tolist()]
    f = note_features(pieces)
    if f["pitch"].size == 0:
        raise DatasetError(f"{ds.root}: the {split} split has no pitched notes")
    medians = np.array([np.median(a["pitch"][~a["is_drum"]]) for a in pieces if (~a["is_drum"]).any()])

    plt = _pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5), dpi=100)
    for ax, feature in zip(axes.ravel()[:4], SET_FEATURES, strict=True):
        bins, note = _bins(feature, f[feature].astype(np.float64))
        ax.hist(f[feature], bins=bins, color="tab:blue", alpha=0.85)
        if feature == "pitch":
            _pitch_ticks(ax, int(f["pitch"].min()), int(f["pitch"].max()), axis="x")
        ax.set_xlabel(_XLABELS[feature] + note)
        ax.set_ylabel("notes")
        ax.grid(alpha=0.3)
    ax = axes[1, 1]
    order = np.lexsort((f["high"], f["low"]))
    x = np.arange(order.size)
    width = 0.8 if order.size <= 200 else 1.0  # bars that touch read as one block: gaps while they can be seen
    ax.bar(x, f["high"][order] - f["low"][order] + 1, bottom=f["low"][order] - 0.5, width=width, color="tab:blue")
    ax.plot(x, medians[order], ".", color="black", markersize=2 if order.size > 100 else 4, label="median pitch")
    _pitch_ticks(ax, int(f["low"].min()), int(f["high"].max()))
    ax.set_xlabel("piece (sorted by lowest, then highest pitch)")
    ax.set_ylabel("pitch range")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    ax = axes[1, 2]
    ax.hist(f["seconds"], bins=min(40, max(5, order.size)), color="tab:blue", alpha=0.85)
    ax.set_xlabel("piece length (s)")
    ax.set_ylabel("pieces")
    ax.grid(alpha=0.3)
    name = Path(str(ds.manifest.get("source") or ds.root)).name or str(ds.root)
    fig.suptitle(
        f"{name}, {split}: {index.size} pieces, {f['pitch'].size:,} notes, {float(f['seconds'].sum()) / 3600:.2f} hours"
    )
    fig.tight_layout()
    path = _save(fig, Path(out))
    plt.close(fig)
    return path
