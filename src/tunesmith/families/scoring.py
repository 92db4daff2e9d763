"""Choosing a generator's weights by the music it makes (``select_by="statistics"``).

A GAN's losses measure its two networks against each other, so the lowest of them says little about the music
(docs/crnngan.md: a C-RNN-GAN kept by its best validation loss played four tones). At every validation the task
generates a fixed-seed batch; :class:`ValidationScorer` compares it with excerpts of the *validation* split of the
same lengths under the evaluation protocol's statistics (the functions ``tunesmith evaluate`` uses), and the
trainer keeps the weights with the lowest score. The test split is never read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..dataset import Dataset
from ..errors import DatasetError
from ..evaluation import metrics, setcompare
from ..evaluation.protocol import (
    EvalOptions,
    collapse,
    mean_of,
    mse_statistics_matrix,
    reference_counts,
    reference_excerpts,
    table_errors,
)
from ..notes import Notes
from ..training.trainer import Selection

#: The split scored against: held out from training, and never the test split.
SPLIT = "validation"
#: Pieces generated per scoring, and their length (events; bars for a family that counts bars), as evaluate's.
PIECES = 32
LENGTH = EvalOptions.length
BARS = EvalOptions.bars
#: Added to the score of a collapsed set: larger than any MSE of a set that plays (those of the runs in docs/ stay
#: below 10), so collapsed weights are kept only while nothing better has been seen.
COLLAPSE_PENALTY = 100.0


class ValidationScorer:
    """Scores generated pieces against validation excerpts as long as each (in notes), drawn with ``seed``.

    ``score`` is the protocol's MSE over its set statistics (docs/evaluation.md, step 4): 0 when the generated
    set's mean statistics equal the real excerpts'; a collapsed set (:func:`~tunesmith.evaluation.protocol.collapse`)
    gets :data:`COLLAPSE_PENALTY` added, so that weights that play music are kept over any that collapsed. Logged
    beside it: the MSE itself, the mean overlapping area of the set comparison, unique tones and tone span of the
    generated pieces, and the collapse verdict."""

    def __init__(self, ds: Dataset, seed: int = 0, length: int = LENGTH) -> None:
        if ds.indices(SPLIT).size == 0:
            raise DatasetError(
                f"{ds.root}: no {SPLIT} pieces to score generated music against (select_by=statistics); prepare "
                "more pieces or use --set select_by=loss"
            )
        self.ds, self.seed, self.length = ds, seed, length
        self.split = SPLIT

    def score(self, pieces: Sequence[Notes]) -> Selection:
        opts = EvalOptions(n=max(2, len(pieces)), seed=self.seed, length=self.length)
        reference = reference_excerpts(self.ds, self.split, reference_counts(pieces, opts), self.seed)
        errors = table_errors(mse_statistics_matrix(pieces), mse_statistics_matrix(reference))
        overlap = mean_of(setcompare.compare_sets(pieces, reference), "overlap") if len(pieces) > 1 else 0.0
        figures = {
            "mse": errors["mse"],
            "overlap": overlap,
            "unique_tones": float(np.mean([metrics.pitches_used(p) for p in pieces])),
            "tone_span": float(np.mean([metrics.pitch_range(p) for p in pieces])),
            "notes": float(np.mean([len(p) for p in pieces])),
        }
        why = collapse(pieces, reference)
        score = errors["mse"] + (COLLAPSE_PENALTY if why else 0.0)
        return Selection(score=score, metrics=figures, collapse=why)
