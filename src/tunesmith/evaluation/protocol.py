"""The evaluation protocol: every trained model against the test split, under one written, repeatable procedure
(docs/evaluation.md).

For each run:

1. **Generate** ``n`` pieces (default 64) from the run with one fixed seed: ``length`` events for the event
   models (RNN: notes after its primer, which is dropped; C-RNN-GAN and the baseline: tone steps), ``bars``
   bars for the piano-roll GAN.
2. **Reference excerpts**: for generated piece ``i`` with ``k_i`` notes, an excerpt of ``k_i`` consecutive notes
   (in onset order) from a test-split piece, piece and position drawn with the seed (:func:`reference_excerpts`),
   so that length-dependent features (pitch count, repetitions, ranges) compare like with like. The same draw
   from the training split gives the *ceiling*: real music against real music.
3. **Set statistics** (:data:`MSE_STATISTICS`): per piece, the scalar features of Yang & Lerch (2018), the
   pitch-class and note-length histograms, and C-RNN-GAN's statistics (tone span and unique tones are the pitch
   range and pitch count already there, so they count once); per set, their means.
4. **MSE and RMSE** (the paper's Table 1): each entry of the generated set's mean vector minus the reference's,
   divided by the statistic's range over the reference excerpts (max - min; for a histogram the largest range of
   its bins; 1 where the range is 0);
   ``MSE = mean over statistics of (mean over the statistic's entries of the squared scaled difference)``, so
   that a histogram counts as one statistic, not twelve; ``RMSE = sqrt(MSE)``.
5. **Set comparison** (:mod:`tunesmith.evaluation.setcompare`): overlapping area and KL per feature against the
   reference excerpts, their mean, and the mean overlapping area as a fraction of the ceiling's.
6. **Prediction error** for models that predict the next event (the RNN, the baseline, C-RNN-GAN's generator
   teacher-forced): squared error of their numeric features on test windows, in units of each feature's
   training-split standard deviation (``Family.prediction_errors``).

The paper (Bhaddurgatte & Shushruth) reports MSE and RMSE per model without saying what they are computed on;
:data:`PAPER_TABLE` is printed beside ours for reference only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..dataset import Dataset
from ..errors import ConfigError, DatasetError
from ..notes import Notes, make_tempo_map, make_time_signatures
from . import metrics, setcompare

#: Set statistics of the MSE/RMSE table: name -> function of one piece (scalar or vector).
MSE_STATISTICS: dict[str, Callable[[Notes], Any]] = dict(metrics.metrics_in("mse"))  # metrics.METRICS

#: The splits a model can be evaluated against (the reference); the ceiling is always drawn from "train".
HELD_OUT = ("test", "validation")

#: Musical statistics shown in the report's table (set means), beside the errors.
REPORT_COLUMNS = tuple(metrics.metrics_in("column"))  # metrics.METRICS


@dataclass
class EvalOptions:
    n: int = 64
    seed: int = 0
    length: int = 100  # events, for the event models
    bars: int = 8  # for the piano-roll GAN
    max_windows: int = 2048  # test windows for the prediction error
    device: str = "cpu"
    controls: bool = False  # also measure how well runs with attribute controls obey them (jobs/controls.py)
    guidance: float | None = None  # ... generating with this classifier-free guidance (None: generate's default)
    # sampling of the models that sample from a distribution (the RNN, the Transformer), the same for each: their
    # full distributions by default; e.g. top_p=0.98, the Anticipatory Music Transformer's nucleus (checked by
    # jobs.report.evaluate)
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    # the held-out split the pieces are compared with: "test" for the figures one reports, "validation" to choose
    # settings (a sampling temperature, a checkpoint) without looking at the test split
    split: str = "test"
    # temperatures to choose from, per sampling model: the one whose pieces reach the lowest MSE against
    # validation-split excerpts (the same seed) is used, so the choice never looks at the test split; () : none
    choose_temperature: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.n < 2:
            raise ConfigError("evaluate: -n must be at least 2 (the set comparison needs pairs of pieces)")
        if self.length < 2 or self.bars < 1:
            raise ConfigError("evaluate: --length must be at least 2 and --bars at least 1")
        self.choose_temperature = tuple(float(t) for t in self.choose_temperature)
        if len(self.choose_temperature) == 1:
            raise ConfigError("evaluate: --choose-temperature needs two or more temperatures to choose from")
        if self.choose_temperature and self.temperature != 1.0:
            raise ConfigError("evaluate: give either --temperature or --choose-temperature, not both")
        if self.split not in HELD_OUT:
            raise ConfigError(
                f"evaluate: --split must be one of {', '.join(HELD_OUT)}, got {self.split!r} (the training split is "
                "what the models learned from, and what the ceiling is drawn from)"
            )

    def sampling(self) -> dict[str, float | int | None]:
        """The sampling options that differ from their defaults, the full distribution (empty: none)."""
        full = {f.name: f.default for f in fields(self) if f.name in ("temperature", "top_k", "top_p")}
        return {k: getattr(self, k) for k, v in full.items() if getattr(self, k) != v}


# ---------------------------------------------------------------------------------------------------- pieces
def excerpt(notes: Notes, first: int, count: int) -> Notes:
    """Notes ``first .. first + count - 1`` of ``notes`` in onset order, moved so that the bar in which the first
    of them starts begins at time 0 (so that bar-based metrics see the same grid as in the piece).

    The excerpt keeps the time signature in effect at that bar line and the changes after it within the excerpt
    (a pickup bar is followed by the piece's own), and the tempo in effect at that bar line (the metrics read
    seconds and quarter notes from the note table, not from the tempo map)."""
    s = notes.sorted().notes[first : first + count].copy()
    if s.size == 0:
        return Notes.empty()
    qn0 = float(s["start_qn"].min())
    ts = notes.time_signatures
    k = int(np.searchsorted(ts["qn"], qn0, side="right")) - 1 if ts.size else -1
    ts_qn, num, den = (float(ts["qn"][k]), int(ts["numerator"][k]), int(ts["denominator"][k])) if k >= 0 else (0, 4, 4)
    bar = metrics._bar_length_qn(num, den)
    bar_start = ts_qn + math.floor((qn0 - ts_qn) / bar + 1e-9) * bar if qn0 >= ts_qn else 0.0
    sec0 = float(notes.qn_to_seconds(bar_start))
    s["start_qn"] -= bar_start
    s["end_qn"] -= bar_start
    s["start"] -= sec0
    s["end"] -= sec0
    for col in ("start_qn", "end_qn", "start", "end"):  # float round-off only: the bar line is at or before qn0
        np.maximum(s[col], 0.0, out=s[col])
    t = int(np.searchsorted(notes.tempos["qn"], bar_start, side="right")) - 1
    later = ts[k + 1 :] if k >= 0 else ts[:0]
    later = later[later["qn"] - bar_start < float(s["end_qn"].max())]
    return Notes(
        s,
        tempos=make_tempo_map([0.0], [float(notes.tempos["qpm"][max(t, 0)])]),
        time_signatures=make_time_signatures(
            [0.0, *(later["qn"] - bar_start).tolist()],
            [num, *later["numerator"].tolist()],
            [den, *later["denominator"].tolist()],
        ),
        source=notes.source,
        metadata=dict(notes.metadata),
    )


def continuation(notes: Notes) -> Notes:
    """A generated piece without the primer it continues (``primer_notes`` in its metadata: the RNN's)."""
    k = int(notes.metadata.get("primer_notes", "0") or 0)
    return excerpt(notes, k, len(notes) - k) if k else notes


def reference_counts(pieces: Sequence[Notes], opts: EvalOptions) -> list[int]:
    """Notes per reference excerpt: each generated piece's count; for an empty piece, the median count of the
    non-empty ones (``opts.length`` when all are empty), so that a model that writes nothing is compared with
    real music of ordinary length, not with one-note excerpts that would flatter it."""
    counts = np.array([len(p) for p in pieces])
    fallback = int(np.median(counts[counts > 0])) if np.any(counts > 0) else opts.length
    return [int(c) if c > 0 else fallback for c in counts]


def reference_excerpts(ds: Dataset, split: str, counts: Sequence[int], seed: int) -> list[Notes]:
    """One excerpt of ``counts[i]`` notes (at least 1) per generated piece from the ``split`` pieces: the piece
    drawn uniformly among those with at least that many notes (the longest piece where none has), the start
    uniformly among its positions. Deterministic for a seed."""
    idx = ds.indices(split)
    if idx.size == 0:
        raise DatasetError(f"{ds.root}: the {split} split is empty; the evaluation needs reference pieces there")
    lengths = np.diff(ds.offsets)[idx]
    rng = np.random.default_rng(seed)
    out = []
    cache: dict[int, Notes] = {}
    for count in counts:
        count = max(int(count), 1)
        ok = np.flatnonzero(lengths >= count)
        j = int(rng.choice(ok)) if ok.size else int(lengths.argmax())
        if j not in cache:
            cache[j] = ds[int(idx[j])]
        piece = cache[j]
        first = int(rng.integers(0, max(len(piece) - count, 0) + 1))
        out.append(excerpt(piece, first, count))
    return out


# ---------------------------------------------------------------------------------------------------- statistics
def mse_statistics_matrix(pieces: Sequence[Notes]) -> dict[str, np.ndarray]:
    """Per statistic of :data:`MSE_STATISTICS`, the (pieces, entries) matrix of its values."""
    return {
        name: np.stack([np.atleast_1d(np.asarray(fn(p), dtype=np.float64)).ravel() for p in pieces])
        for name, fn in MSE_STATISTICS.items()
    }


def table_errors(generated: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> dict[str, Any]:
    """MSE and RMSE of the generated set's mean statistics against the reference's (module docstring, step 4),
    with each statistic's own scaled squared error."""
    per: dict[str, float] = {}
    for name, ref in reference.items():
        # one scale per statistic: a histogram's bins share the largest of their ranges, so that a bin real music
        # hardly uses (a range near 0) does not turn a small difference into a huge one
        span = float((ref.max(axis=0) - ref.min(axis=0)).max())
        span = span if span > 0 else 1.0
        diff = (generated[name].mean(axis=0) - ref.mean(axis=0)) / span
        per[name] = float(np.mean(diff**2))
    mse = float(np.mean(list(per.values())))
    return {"mse": mse, "rmse": math.sqrt(mse), "per_statistic": per}


#: A generated set has collapsed when its mean unique tones or mean tone span is below this share of the real
#: excerpts' (or every piece is the same).
COLLAPSE_SHARE = 0.25


def collapse(pieces: Sequence[Notes], reference: Sequence[Notes]) -> str | None:
    """Why a generated set has collapsed, or None: its mean number of distinct pitches (C-RNN-GAN's unique tones)
    or mean pitch range (tone span) below :data:`COLLAPSE_SHARE` of the reference excerpts', or every piece the
    same notes (pitches and onsets), or no notes at all."""
    if not pieces:
        return None
    if all(len(p) == 0 for p in pieces):
        return "collapse: every generated piece is empty"
    gen_tones = float(np.mean([metrics.pitches_used(p) for p in pieces]))
    gen_span = float(np.mean([metrics.pitch_range(p) for p in pieces]))
    real_tones = float(np.mean([metrics.pitches_used(p) for p in reference])) if reference else 0.0
    real_span = float(np.mean([metrics.pitch_range(p) for p in reference])) if reference else 0.0
    if gen_tones < COLLAPSE_SHARE * real_tones:
        return f"collapse: {gen_tones:.1f} unique tones per piece against {real_tones:.1f} in real music"
    if gen_span < COLLAPSE_SHARE * real_span:
        return f"collapse: tone span {gen_span:.1f} semitones per piece against {real_span:.1f} in real music"
    if len(pieces) > 1:
        first = pieces[0].sorted().notes
        key = (first["pitch"].tobytes(), np.round(first["start_qn"], 6).tobytes())
        same = all(
            (p.sorted().notes["pitch"].tobytes(), np.round(p.sorted().notes["start_qn"], 6).tobytes()) == key
            for p in pieces[1:]
        )
        if same:
            return f"collapse: all {len(pieces)} generated pieces are the same"
    return None


def mean_metrics(pieces: Sequence[Notes]) -> dict[str, float]:
    """Set means of every scalar metric (:func:`tunesmith.evaluation.metrics.all_metrics`) and the note count."""
    rows = [{**metrics.all_metrics(p), "notes": float(len(p))} for p in pieces]
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


# ---------------------------------------------------------------------------------------------------- one model
@dataclass
class ModelResult:
    name: str
    kind: str
    pieces: list[Notes]
    reference: list[Notes]
    errors: dict[str, Any]
    comparison: dict[str, setcompare.FeatureComparison]
    ceiling: dict[str, setcompare.FeatureComparison]
    statistics: dict[str, float]
    prediction: dict[str, float] | None = None
    likelihood: dict[str, float] | None = None  # held-out bits per note, for models that give music a probability
    originality: dict[str, Any] | None = None  # the longest runs copied from the training split (originality.py)
    info: dict[str, Any] = field(default_factory=dict)
    collapse: str | None = None  # why the generated set has collapsed (:func:`collapse`), or None
    #: drum features' set comparison and its ceiling, where the reference is drums (``drums.drum_comparison``)
    drums: dict[str, dict[str, setcompare.FeatureComparison]] | None = None

    @property
    def overlap(self) -> float:
        return mean_of(self.comparison, "overlap")

    @property
    def kl(self) -> float:
        return mean_of(self.comparison, "kl")

    @property
    def ceiling_overlap(self) -> float:
        return mean_of(self.ceiling, "overlap")


def mean_of(comparison: dict[str, setcompare.FeatureComparison], measure: str) -> float:
    """The mean of one measure (``overlap`` or ``kl``) over a set comparison's features."""
    return float(np.mean([getattr(c, measure) for c in comparison.values()]))


def real_row(ds: Dataset, opts: EvalOptions) -> dict[str, Any]:
    """The real data's row: training-split excerpts of ``opts.length`` notes against excerpts of the same length
    from the held-out split (``opts.split``): the errors and overlap that real music itself reaches."""
    counts = [opts.length] * opts.n
    reference = reference_excerpts(ds, opts.split, counts, opts.seed)
    train_like = reference_excerpts(ds, "train", counts, opts.seed)
    comparison = setcompare.compare_sets(train_like, reference)
    return {
        "pieces": train_like,
        "reference": reference,
        "errors": table_errors(mse_statistics_matrix(train_like), mse_statistics_matrix(reference)),
        "comparison": comparison,
        "overlap": mean_of(comparison, "overlap"),
        "kl": mean_of(comparison, "kl"),
        "statistics": mean_metrics(train_like),
        "reference_statistics": mean_metrics(reference),
    }
