"""How well a run obeys its attribute controls (``tunesmith evaluate --controls``).

The requests are what real music asks for: ``n`` excerpts of about ``length`` notes from the test split, each
described by the controls' own extractor (``representations/controls.py``). For each control kind, the model
writes one piece per request with that control alone given, and the same extractor reads the control back off
the piece: the share that match is the control's accuracy. The same requests are compared with pieces written
with no control at all: the share that match by chance (what the data's own distribution gives) is the level to
beat.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..dataset import Dataset
from ..errors import ConfigError
from ..families import GenerateOptions
from ..progress import progress_bar
from ..representations.controls import (
    KEYS,
    KINDS,
    LEVELS,
    TIME_SIGNATURES,
    ControlBins,
    attributes_of,
    bar_lines,
    bar_stats,
    obeyed,
    tempo_bin_name,
    values_of,
    window_attributes,
)
from ..training.stores import evenly_spread
from ..training.trainer import choose_device
from .runs import load_run


def requests_from(ds: Dataset, split: str, n: int, length: int, bins: ControlBins, spq: int, seed: int) -> list[dict]:
    """The control values of ``n`` test excerpts of whole bars holding about ``length`` notes (one per piece,
    pieces evenly spread, at a random bar)."""
    rng = np.random.default_rng(seed)
    pieces = ds.indices(split)
    if pieces.size == 0:
        raise ConfigError(f"{ds.root}: no pieces in the {split} split to take control requests from")
    out = []
    for k in evenly_spread(pieces.size, n) if pieces.size >= n else np.arange(n) % pieces.size:
        piece = ds[int(pieces[k])]
        stats = bar_stats(piece, bar_lines(piece), spq)
        ends = np.cumsum(stats["notes"])
        first = int(rng.integers(max(int(np.searchsorted(ends, ends[-1] - length)), 0) + 1))
        before = ends[first - 1] if first else 0
        last = int(np.searchsorted(ends, before + length)) + 1
        out.append(values_of(window_attributes(stats[first:last]), bins))
    return out


def describe(kind: str, value: object, bins: ControlBins) -> str:
    if kind == "key":
        return KEYS[int(value)]  # type: ignore[call-overload]
    if kind == "tempo":
        return tempo_bin_name(int(value))  # type: ignore[call-overload]
    if kind == "time_sig":
        return TIME_SIGNATURES[int(value)]  # type: ignore[call-overload]
    if kind == "programs":
        return ",".join(str(p) for p in value)  # type: ignore[attr-defined]
    return LEVELS[int(value)]  # type: ignore[call-overload]


def control_accuracy(
    run_path: str | os.PathLike[str],
    data: str | os.PathLike[str] | Dataset,
    *,
    n: int = 32,
    length: int = 400,
    seed: int = 0,
    device: str = "cpu",
    kinds: tuple[str, ...] = KINDS,
    split: str = "test",
    progress: bool = True,
    guidance: float | None = None,
) -> dict[str, Any]:
    """For each control kind: the share of pieces that obey it when it alone is asked for, and the share of
    unconditioned pieces that match the same requests (chance); ``requests`` shows what was asked for."""
    dev = choose_device(device)
    run, fam, model = load_run(run_path, dev)
    if not fam.can("controls") or not getattr(model.cfg, "controls", False):
        raise ConfigError(f"{run.path}: not a run trained with attribute controls (the transformer presets have them)")
    ds = data if isinstance(data, Dataset) else Dataset.load(data)
    bins = ControlBins.from_array(run.array("control_bins"))
    spq = int(model.cfg.steps_per_quarter)
    requests = requests_from(ds, split, n, length, bins, spq, seed)
    opts = GenerateOptions(n=n, length=length, seed=seed)

    def read(pieces) -> list[dict]:
        return [values_of(attributes_of(p, spq), bins) for p in pieces]

    bar = progress_bar(total=len(kinds) + 1, desc="controls", unit="kind", disable=not progress)
    free = read(fam.generate_controlled(model, run, [{}] * n, opts, dev))
    bar.update(1)
    result: dict[str, Any] = {"n": n, "length": length, "split": split, "guidance": guidance, "kinds": {}}
    if guidance is None:  # what generate uses when not told
        result["guidance"] = guidance = fam.default_guidance if fam.can("guidance") else 1.0
    for kind in kinds:
        asked = [{kind: r[kind]} if r[kind] is not None and r[kind] != -1 else {} for r in requests]
        rows = [i for i, a in enumerate(asked) if a]
        got = read(fam.generate_controlled(model, run, [asked[i] for i in rows], opts, dev, guidance)) if rows else []
        hits = [obeyed(asked[i], g)[kind] for i, g in zip(rows, got, strict=True)]
        chance = [obeyed(asked[i], free[i])[kind] for i in rows]
        values = [asked[i][kind] for i in rows]
        result["kinds"][kind] = {
            "obeyed": float(np.mean(hits)) if hits else None,
            "chance": float(np.mean(chance)) if chance else None,
            "requests": len(rows),
            "distinct_values": len({describe(kind, v, bins) for v in values}),
        }
        bar.update(1)
    bar.close()
    result["bins"] = {kind: bins.describe(kind) for kind in ("density", "polyphony", "range")}
    return result


def markdown(name: str, acc: dict[str, Any]) -> list[str]:
    lines = [
        f"### {name}",
        "",
        f"{acc['n']} requests from the {acc['split']} split, {acc['length']} notes a piece; each control asked for "
        f"alone (guidance {acc.get('guidance', 1.0):g}). Chance: the same requests against pieces asked for nothing.",
        "",
        "| control | obeyed | chance | requests | distinct values |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, r in acc["kinds"].items():
        ob = "-" if r["obeyed"] is None else f"{r['obeyed']:.0%}"
        ch = "-" if r["chance"] is None else f"{r['chance']:.0%}"
        lines.append(f"| {kind} | {ob} | {ch} | {r['requests']} | {r['distinct_values']} |")
    lines += ["", "Levels: " + "; ".join(f"{k}: {v}" for k, v in acc["bins"].items()), ""]
    return lines
