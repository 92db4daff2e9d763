"""Drum statistics: what a drum part is, as numbers a generated set and a real one can be compared by. Pure
functions of :class:`~tunesmith.notes.Notes` (drum notes of the 9 classes only; pitched notes are ignored, the
other way round from :mod:`~tunesmith.evaluation.metrics`), on the 16th grid of
:mod:`~tunesmith.drumkit`.

Per piece (:data:`DRUM_FEATURES`, the set comparison's features for drums, :func:`compare_drum_sets`):

- **hits per bar per class**: the 9 classes' hits divided by the bars from the first bar to the last hit's (a
  vector of 9: how busy the kick, the snare, the hi-hats ... are);
- **share on the grid**: the share of hits within :data:`ON_GRID` of a 16th of a grid line (programmed drums: 1;
  a drummer: about a third);
- **groove consistency** (Wu & Yang 2020), on the drums: ``1 - mean Hamming distance between consecutive bars'
  onset patterns / 16``, each bar's pattern the 16 steps where any class is hit (1: every bar repeats the last);
- **velocity spread**: the standard deviation of the hits' velocities (MIDI velocity);
- **timing spread**: the standard deviation of the hits' offsets from the grid, in milliseconds.

A piece without drum hits gets zeros (its hit count tells it apart), never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..drumkit import N_CLASSES, POSITIONS, STEPS_PER_QUARTER, DrumCells, drum_cells
from ..errors import ConfigError
from ..grid import bar_lines_qn
from ..notes import Notes
from .setcompare import FeatureComparison, compare_features

#: a hit this close to a grid line (in 16ths) is on the grid: 0.1 of a 16th is 12.5 ms at 120 quarter notes a minute
ON_GRID = 0.1


def _bar_of(notes: Notes, c: DrumCells) -> np.ndarray:
    """Each hit's bar, counted from the first hit's (the bars of the piece's time signatures, 4/4 without)."""
    qn = c.step / STEPS_PER_QUARTER
    lines = bar_lines_qn(notes, float(qn.max()) + 1.0)
    bar = np.clip(np.searchsorted(lines, qn + 1e-9, side="right") - 1, 0, None)
    return bar - bar.min()


def hits_per_bar(notes: Notes) -> np.ndarray:
    """The 9 classes' hits per bar, bars from the first to the last hit's bar (zeros without hits)."""
    c = drum_cells(notes)
    out = np.zeros(N_CLASSES)
    if c.index.size == 0:
        return out
    return np.bincount(c.cls, minlength=N_CLASSES) / (int(_bar_of(notes, c).max()) + 1)


def share_on_grid(notes: Notes) -> float:
    """The share of hits within :data:`ON_GRID` of a 16th of their grid line; 0.0 without hits."""
    c = drum_cells(notes)
    return float(np.mean(np.abs(c.offset) <= ON_GRID + 1e-9)) if c.index.size else 0.0


def drum_groove_consistency(notes: Notes) -> float:
    """Wu & Yang's groove consistency of the drums: ``1 - 1/(T-1) * sum d(G_i, G_i+1) / 16`` over the bars from the
    first hit's to the last's (empty bars included), ``G_i`` the 16 steps of bar i where any class is hit (steps
    past the 16th of a longer bar fold onto the last); 0.0 with fewer than two bars."""
    c = drum_cells(notes)
    if c.index.size == 0:
        return 0.0
    bar = _bar_of(notes, c)
    n_bars = int(bar.max()) + 1
    if n_bars < 2:
        return 0.0
    pattern = np.zeros((n_bars, POSITIONS), dtype=bool)
    pattern[bar, c.position] = True
    return float(1.0 - np.count_nonzero(pattern[1:] != pattern[:-1]) / (POSITIONS * (n_bars - 1)))


def velocity_spread(notes: Notes) -> float:
    """The standard deviation of the hits' velocities; 0.0 without hits."""
    c = drum_cells(notes)
    return float(notes.notes["velocity"][c.index].astype(np.float64).std()) if c.index.size else 0.0


def timing_spread(notes: Notes) -> float:
    """The standard deviation of the hits' offsets from the 16th grid, in milliseconds through the piece's tempo;
    0.0 without hits."""
    c = drum_cells(notes)
    if c.index.size == 0:
        return 0.0
    t = notes.tempos
    qpm = t["qpm"][np.clip(np.searchsorted(t["qn"], c.step / STEPS_PER_QUARTER, side="right") - 1, 0, None)]
    return float((c.offset * 60_000.0 / qpm / STEPS_PER_QUARTER).std())


#: name -> function of one piece, in the order reports list them
DRUM_FEATURES: dict[str, Callable[[Notes], float | np.ndarray]] = {
    "hits per bar per class": hits_per_bar,
    "share on the grid": share_on_grid,
    "groove consistency": drum_groove_consistency,
    "velocity spread": velocity_spread,
    "timing spread (ms)": timing_spread,
}


def drum_features(notes: Notes) -> dict[str, np.ndarray]:
    """Every drum feature of one piece as a flat float64 vector."""
    return {f: np.atleast_1d(np.asarray(fn(notes), dtype=np.float64)).ravel() for f, fn in DRUM_FEATURES.items()}


def compare_drum_sets(pieces: Sequence[Notes], reference: Sequence[Notes]) -> dict[str, FeatureComparison]:
    """Yang & Lerch's set comparison (:mod:`~tunesmith.evaluation.setcompare`) on the drum features."""
    if len(pieces) < 2 or len(reference) < 2:
        raise ConfigError("drum set comparison: each set needs at least two pieces")
    x = [drum_features(p) for p in pieces]
    r = [drum_features(p) for p in reference]
    return {f: compare_features(np.stack([v[f] for v in x]), np.stack([v[f] for v in r])) for f in DRUM_FEATURES}


def is_drum_set(pieces: Sequence[Notes]) -> bool:
    """Whether a set is drums: most of its notes are drum notes of the 9 classes (the evaluation then adds the drum
    features' comparison)."""
    total = sum(len(p) for p in pieces)
    return total > 0 and sum(drum_cells(p).index.size for p in pieces) > total / 2


def drum_comparison(pieces: Sequence[Notes], reference: Sequence[Notes], train_like: Sequence[Notes]) -> dict | None:
    """The drum features' set comparison of ``pieces`` and, as the ceiling, of ``train_like``, against
    ``reference``: ``{"comparison": ..., "ceiling": ...}``; None unless the reference is drums and each set has two
    pieces or more."""
    if not is_drum_set(reference) or min(len(pieces), len(reference), len(train_like)) < 2:
        return None
    return {"comparison": compare_drum_sets(pieces, reference), "ceiling": compare_drum_sets(train_like, reference)}


# ------------------------------------------------------------------------------------------------ style classifier
def style_features(notes: Notes) -> np.ndarray:
    """What the style classifier reads of a part: each class's hits per bar at each of the 16 positions in the bar
    (144), each class's mean velocity / 127 (9), the share of hits on the grid, the timing spread (ms / 100) and the
    tempo (log2 of quarter notes per minute / 120, at the first hit)."""
    c = drum_cells(notes)
    out = np.zeros(N_CLASSES * POSITIONS + N_CLASSES + 3)
    if c.index.size == 0:
        return out
    bars = int(_bar_of(notes, c).max()) + 1
    out[: N_CLASSES * POSITIONS] = np.bincount(c.cls * POSITIONS + c.position, minlength=N_CLASSES * POSITIONS) / bars
    vel = notes.notes["velocity"][c.index].astype(np.float64) / 127.0
    count = np.bincount(c.cls, minlength=N_CLASSES)
    out[N_CLASSES * POSITIONS : -3] = np.bincount(c.cls, vel, N_CLASSES) / np.maximum(count, 1)
    t = notes.tempos
    qpm = float(t["qpm"][max(int(np.searchsorted(t["qn"], c.step.min() / STEPS_PER_QUARTER, side="right")) - 1, 0)])
    out[-3:] = (share_on_grid(notes), timing_spread(notes) / 100.0, np.log2(qpm / 120.0))
    return out


class StyleClassifier:
    """Which style a drum part is in: multinomial logistic regression with an L2 penalty (``l2``) on
    :func:`style_features`, standardised by the training set's mean and spread; fitted by L-BFGS (scipy). Simple on
    purpose: it is the judge of whether generated drums are in the style asked for, measured against how well it
    recognises real held-out grooves (docs/drums.md)."""

    #: chosen on the validation split among 0.3, 1, 3, 10, 30, 100, 300, 1000: 30 recognised 54% of the validation
    #: performances (the most common style, rock: 28%); docs/drums.md
    def __init__(self, l2: float = 30.0) -> None:
        if not l2 > 0:
            raise ConfigError(f"the style classifier's l2 must be positive, got {l2}")
        self.l2 = float(l2)
        self.styles: list[str] = []

    def fit(self, pieces: Sequence[Notes], styles: Sequence[str]) -> StyleClassifier:
        from scipy.optimize import minimize
        from scipy.special import log_softmax

        if len(pieces) != len(styles) or len(set(styles)) < 2:
            raise ConfigError("the style classifier needs one style per piece and two styles or more")
        x = np.stack([style_features(p) for p in pieces])
        self.mean, self.scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        x = (x - self.mean) / self.scale
        self.styles = sorted(set(styles))
        y = np.array([self.styles.index(s) for s in styles])
        k, d = len(self.styles), x.shape[1]
        onehot = np.eye(k)[y]

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            weights, bias = w[: d * k].reshape(d, k), w[d * k :]
            logp = log_softmax(x @ weights + bias, axis=1)
            err = (np.exp(logp) - onehot) / len(y)
            grad = np.concatenate([(x.T @ err + self.l2 * weights / len(y)).ravel(), err.sum(axis=0)])
            return float(-(logp * onehot).sum() / len(y) + 0.5 * self.l2 * (weights**2).sum() / len(y)), grad

        w = minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B", options={"maxiter": 500}).x
        self.weights, self.bias = w[: d * k].reshape(d, k), w[d * k :]
        return self

    def probabilities(self, pieces: Sequence[Notes]) -> np.ndarray:
        """``(pieces, styles)``: each style's probability, styles in :attr:`styles`' order."""
        from scipy.special import softmax

        if not self.styles:
            raise ConfigError("the style classifier is not fitted")
        x = (np.stack([style_features(p) for p in pieces]) - self.mean) / self.scale
        return softmax(x @ self.weights + self.bias, axis=1)

    def predict(self, pieces: Sequence[Notes]) -> list[str]:
        return [self.styles[i] for i in self.probabilities(pieces).argmax(axis=1)]

    def accuracy(self, pieces: Sequence[Notes], styles: Sequence[str]) -> float:
        """The share of ``pieces`` whose predicted style is theirs."""
        return float(np.mean([p == s for p, s in zip(self.predict(pieces), styles, strict=True)]))


def primary_style(style: str) -> str:
    """The Groove MIDI Dataset's style without its sub-style (``funk/groove1`` -> ``funk``)."""
    return style.split("/", 1)[0].strip().lower()
