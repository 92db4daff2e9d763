"""Set comparison after Yang & Lerch 2018, "On the evaluation of generative models in music" (Neural Computing
and Applications 32): how close a set of generated pieces is to a reference set, feature by feature.

1. **Per-piece features** (:data:`SET_FEATURES`, from :mod:`tunesmith.evaluation.metrics`): pitch count, pitch-class
   histogram, pitch-class transition matrix, pitch range, average pitch interval, note count, average
   inter-onset interval, note-length histogram, note-length transition matrix. Each is a vector (a scalar is a
   vector of one; matrices are flattened).
2. **Distances**: for one feature, the Euclidean distance between two pieces' vectors. The *intra-set*
   distances of a set are those between every pair of its pieces (each unordered pair once); the *inter-set*
   distances, those between every piece of one set and every piece of the other.
3. **Densities**: a Gaussian kernel density estimate (``scipy.stats.gaussian_kde``, Scott's bandwidth) of the
   reference set's intra-set distances and one of the inter-set distances.
4. **Overlapping area** ``OA = integral min(p, q)`` (1 when the two densities coincide, 0 when they are
   disjoint) and **KL divergence** ``KL(p || q) = integral p log(p / q)``, with ``p`` the reference's intra-set
   density and ``q`` the inter-set density: a generated set whose pieces lie as far from the reference's pieces
   as those lie from each other has OA near 1 and KL near 0.

Both integrals are taken on one grid of :data:`GRID_POINTS` points spanning both samples plus six bandwidths
either side (trapezoid rule; the KL densities are normalised on the grid as ``scipy.stats.entropy`` does in
mgeval, with ``q`` floored at :data:`KL_FLOOR` so that a density that vanishes where the other does not gives
a large finite number, not infinity).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import integrate, stats

from ..errors import ConfigError
from ..notes import Notes
from . import metrics

#: name -> function of one piece, in the order reports list them.
SET_FEATURES: dict[str, Callable[[Notes], float | np.ndarray]] = dict(metrics.metrics_in("set_feature"))
GRID_POINTS = 512
KL_FLOOR = 1e-12


def piece_features(notes: Notes, features: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """The features of one piece as flat float64 vectors."""
    names = list(SET_FEATURES) if features is None else list(features)
    unknown = [f for f in names if f not in SET_FEATURES]
    if unknown:
        raise ConfigError(f"unknown set-comparison features {unknown}; choose from {', '.join(SET_FEATURES)}")
    return {f: np.atleast_1d(np.asarray(SET_FEATURES[f](notes), dtype=np.float64)).ravel() for f in names}


def feature_matrices(pieces: Sequence[Notes], features: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Per feature, the (pieces, dim) matrix of every piece's vector."""
    if len(pieces) == 0:
        raise ConfigError("set comparison: a set needs at least one piece")
    rows = [piece_features(p, features) for p in pieces]
    return {f: np.stack([r[f] for r in rows]) for f in rows[0]}


def intra_set_distances(x: np.ndarray) -> np.ndarray:
    """Euclidean distances between every unordered pair of rows of ``x (n, dim)``: ``n (n - 1) / 2`` values."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    i, j = np.triu_indices(len(x), k=1)
    return np.linalg.norm(x[i] - x[j], axis=1)


def inter_set_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Euclidean distances between every row of ``x (n, dim)`` and every row of ``y (m, dim)``: ``n m`` values."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    return np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1).ravel()


def _bandwidth(samples: np.ndarray, scale: float) -> float | None:
    """scipy's Scott bandwidth in data units, or None where its KDE cannot be fitted."""
    if samples.size < 2 or np.ptp(samples) == 0:
        return None
    return float(samples.std(ddof=1) * samples.size ** (-1.0 / 5.0)) or None


def _density(samples: np.ndarray, grid: np.ndarray, scale: float) -> np.ndarray:
    # scipy's gaussian_kde raises (singular covariance) on a sample whose values are all equal, which is common
    # here (every generated piece with the same pitch range): such a sample is a point mass, drawn as a narrow
    # Gaussian of a thousandth of the pooled range.
    if _bandwidth(samples, scale) is None:
        sigma = max(scale * 1e-3, 1e-9)
        return stats.norm.pdf(grid, loc=float(samples.mean()), scale=sigma)
    return stats.gaussian_kde(samples)(grid)


def _grid(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, float]:
    both = np.concatenate([p, q])
    scale = float(np.ptp(both)) or max(abs(float(both.mean())), 1.0)
    pad = 6 * max(_bandwidth(p, scale) or 0.0, _bandwidth(q, scale) or 0.0, scale * 1e-3)
    return np.linspace(both.min() - pad, both.max() + pad, GRID_POINTS), scale


def _densities(p_samples: np.ndarray, q_samples: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p_samples, q_samples = _check(p_samples), _check(q_samples)
    grid, scale = _grid(p_samples, q_samples)
    return grid, _density(p_samples, grid, scale), _density(q_samples, grid, scale)


def _overlap(grid: np.ndarray, p: np.ndarray, q: np.ndarray) -> float:
    return float(np.clip(integrate.trapezoid(np.minimum(p, q), grid), 0.0, 1.0))


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    p, q = p / p.sum(), np.maximum(q / q.sum(), KL_FLOOR)
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def overlap_area(p_samples: np.ndarray, q_samples: np.ndarray) -> float:
    """Overlapping area of the Gaussian KDEs of two samples: ``integral min(p(x), q(x)) dx`` in [0, 1]."""
    return _overlap(*_densities(p_samples, q_samples))


def kl_divergence(p_samples: np.ndarray, q_samples: np.ndarray) -> float:
    """KL divergence ``sum p log(p / q)`` in nats of the Gaussian KDEs of two samples, each normalised on the
    grid, ``q`` floored at :data:`KL_FLOOR` (as mgeval's ``scipy.stats.entropy`` of the two densities)."""
    _, p, q = _densities(p_samples, q_samples)
    return _kl(p, q)


def _check(samples: np.ndarray) -> np.ndarray:
    a = np.asarray(samples, dtype=np.float64).ravel()
    if a.size == 0 or not np.all(np.isfinite(a)):
        raise ConfigError("set comparison: distances must be a non-empty set of finite numbers")
    return a


@dataclass
class FeatureComparison:
    """One feature's comparison of a set against a reference set."""

    overlap: float  # OA of the reference's intra-set density and the inter-set density
    kl: float  # KL(reference intra || inter)
    intra_mean: float  # the compared set's own intra-set distances (its variety)
    intra_std: float
    reference_intra_mean: float
    reference_intra_std: float
    inter_mean: float
    inter_std: float


def compare_features(x: np.ndarray, reference: np.ndarray) -> FeatureComparison:
    """Compare one feature's (n, dim) matrix of a set with the reference's (m, dim); each needs 2+ pieces."""
    if len(x) < 2 or len(reference) < 2:
        raise ConfigError("set comparison: each set needs at least two pieces (intra-set distances are pairs)")
    intra, ref_intra, inter = intra_set_distances(x), intra_set_distances(reference), inter_set_distances(x, reference)
    grid, p, q = _densities(ref_intra, inter)  # the densities once for both measures: KDEs cost the most here
    return FeatureComparison(
        overlap=_overlap(grid, p, q),
        kl=_kl(p, q),
        intra_mean=float(intra.mean()),
        intra_std=float(intra.std()),
        reference_intra_mean=float(ref_intra.mean()),
        reference_intra_std=float(ref_intra.std()),
        inter_mean=float(inter.mean()),
        inter_std=float(inter.std()),
    )


def compare_sets(
    pieces: Sequence[Notes], reference: Sequence[Notes], features: Sequence[str] | None = None
) -> dict[str, FeatureComparison]:
    """Yang & Lerch's comparison of ``pieces`` against ``reference``, per feature (see the module docstring)."""
    x, r = feature_matrices(pieces, features), feature_matrices(reference, features)
    return {f: compare_features(x[f], r[f]) for f in x}
