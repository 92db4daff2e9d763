"""The run-level half of the evaluation protocol (docs/evaluation.md): generate each run's pieces, draw the
reference excerpts and hand both to the pure statistics of :mod:`tunesmith.evaluation.protocol`."""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from ..dataset import Dataset, choosing
from ..evaluation import setcompare
from ..evaluation.drums import drum_comparison
from ..evaluation.originality import OriginalityIndex, originality
from ..evaluation.protocol import (
    EvalOptions,
    ModelResult,
    collapse,
    continuation,
    mean_metrics,
    mse_statistics_matrix,
    reference_counts,
    reference_excerpts,
    table_errors,
)
from ..families import Family, Run
from ..notes import Notes
from ..training.trainer import choose_device
from .runs import load_run


def generate_pieces(fam: Family, model: nn.Module, run: Run, opts: EvalOptions) -> list[Notes]:
    """The run's ``opts.n`` evaluation pieces (step 1), primers dropped: ``opts.bars`` bars for a family that
    counts its length in bars, else ``opts.length`` events; sampled with ``opts``' temperature, top-k and top-p
    where the family samples."""
    length = opts.bars if fam.length_unit == "bars" else opts.length
    sampling = opts.sampling() if fam.takes_temperature else {}  # the GANs decode no distribution of tokens
    # generation seed s * n: a family that seeds piece i of a batch with seed + i (the Transformer, so that
    # `generate --seed` writes any one piece again) would otherwise draw 63 of its 64 pieces again at seed s + 1,
    # and evaluations at seeds 0-4 would differ only in their reference excerpts
    options = fam.options(n=opts.n, length=length, seed=opts.seed * opts.n, **sampling)
    pieces = fam.generate(model, run, options, next(model.parameters()).device)
    return [continuation(p) for p in pieces]


def prediction_errors(
    fam: Family, model: nn.Module, run: Run, ds: Dataset, opts: EvalOptions
) -> dict[str, float] | None:
    """Step 6, or None for a model that does not predict the next event."""
    if not fam.predicts_next_event:
        return None
    device = next(model.parameters()).device
    per = fam.prediction_errors(model, run, ds, opts.split, device, opts.max_windows, opts.seed)
    if not per:
        return None
    mse = float(np.mean(list(per.values())))
    return {"mse": mse, "rmse": math.sqrt(mse), **{f"mse_{k}": v for k, v in per.items()}}


def likelihood(fam: Family, model: nn.Module, run: Run, ds: Dataset, opts: EvalOptions) -> dict[str, float] | None:
    """Held-out bits per note on the reference split (``opts.split``), or None for a model without a likelihood."""
    if not fam.has_likelihood:
        return None
    device = next(model.parameters()).device
    return fam.likelihood(model, run, ds, opts.split, device, opts.max_windows) or None


def choose_temperature(
    fam: Family, model: nn.Module, run: Run, ds: Dataset, opts: EvalOptions
) -> tuple[float, list[Notes], dict[str, Any]]:
    """Among ``opts.choose_temperature``, the temperature whose pieces reach the lowest MSE of the set statistics
    against validation-split excerpts (the same seed), its pieces (they are the ones the evaluation then uses),
    and what was measured (``{"chosen": T, "validation_mse": {"T": MSE, ...}}``)."""
    tried: list[tuple[float, float, list[Notes]]] = []
    with choosing("--choose-temperature"):
        for t in opts.choose_temperature:
            pieces = generate_pieces(fam, model, run, replace(opts, temperature=t, choose_temperature=()))
            reference = reference_excerpts(ds, "validation", reference_counts(pieces, opts), opts.seed)
            mse = table_errors(mse_statistics_matrix(pieces), mse_statistics_matrix(reference))["mse"]
            tried.append((mse, t, pieces))
    mse, t, pieces = min(tried, key=lambda x: (x[0], abs(x[1] - 1.0)))  # a tie: the one nearer the model's own
    return t, pieces, {"chosen": t, "validation_mse": {f"{u:g}": m for m, u, _ in tried}}


def evaluate_run(path: str | os.PathLike[str], ds: Dataset, opts: EvalOptions, name: str | None = None) -> ModelResult:
    """Steps 1 to 6 for one run (with ``opts.choose_temperature``, at the temperature chosen on the validation
    split)."""
    run, fam, model = load_run(path, choose_device(opts.device))
    chosen: dict[str, Any] = {}
    if opts.choose_temperature and fam.takes_temperature:
        _, pieces, chosen = choose_temperature(fam, model, run, ds, opts)
    else:
        pieces = generate_pieces(fam, model, run, opts)
    counts = reference_counts(pieces, opts)
    reference = reference_excerpts(ds, opts.split, counts, opts.seed)
    train_like = reference_excerpts(ds, "train", counts, opts.seed)
    errors = table_errors(mse_statistics_matrix(pieces), mse_statistics_matrix(reference))
    return ModelResult(
        name=name or Path(path).name,
        kind=run.kind,
        pieces=pieces,
        reference=reference,
        errors=errors,
        comparison=setcompare.compare_sets(pieces, reference),
        ceiling=setcompare.compare_sets(train_like, reference),
        statistics=mean_metrics(pieces),
        prediction=prediction_errors(fam, model, run, ds, opts),
        likelihood=likelihood(fam, model, run, ds, opts),
        originality=originality(pieces, OriginalityIndex.build(ds, "train")),
        collapse=collapse(pieces, reference),
        drums=drum_comparison(pieces, reference, train_like),
        info={
            "run": str(path),
            "preset": run.config.get("preset", ""),
            "notes_per_piece": float(np.mean([len(p) for p in pieces])),
            "empty_pieces": sum(len(p) == 0 for p in pieces),
            **({"temperature_choice": chosen} if chosen else {}),
        },
    )
