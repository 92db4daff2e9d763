"""Playing the grid: how much of real music's statistics survive the tokenizer's grid and the way generated notes
are played off it (``families/transformer/perform.py``), measured on held-out pieces.

    python benchmarks/bench_perform.py --data DATASET [--pieces 200] [-n 64] [--length 400] [--seeds 0 1 2]

The timing models are fitted on ``--pieces`` training pieces (evenly spread), as a run fits its own. Then, for each
seed, ``-n`` training-split excerpts of ``--length`` notes are set against as many validation excerpts, four ways.
This benchmark chooses (how chords are snapped and spread), so it reads no test excerpt: the validation split is
the reference, and the music put through the grid comes from the training split (its pieces' timing is what the
models are fitted on, not what is measured: only the statistics of the rendered notes are compared).

* as played: the floor, what real music reaches against real music;
* through the tokenizer (REMI, the Transformer's default) and decoded on the grid, as the model writes them;
* ... then played with one offset per note, drawn alone (runs trained before 2026-12-03);
* ... then played with one offset per chord and a spread per chord shape drawn note by note (runs trained
  2026-12-03 before ``chord_shapes.npy``);
* ... the same, each chord spread as a whole real chord of as many notes (``perform.chord_shapes``, runs now);
* through the presets' REMI, which first snaps a played chord onto one grid position (``chord_window`` 0.4 grid
  steps, ``tokens.snap_chords``), then played both ways.

It also counts the chords (notes starting within 0.4 grid steps of the chord's first) that the plain grid splits
over two positions.

A Transformer whose tokens were real music would score what the last two rows score: the rendering is a floor
under its figures. Prints the MSE of the evaluation's 12 statistics, the mean overlap, the scaled errors of
polyphony and the repetitions, and the repetition statistic of 4 notes itself (``rep4``), per seed and on the
mean.
"""

from __future__ import annotations

import argparse

import numpy as np

from tunesmith.dataset import Dataset
from tunesmith.evaluation import metrics, setcompare
from tunesmith.evaluation.protocol import mse_statistics_matrix, reference_excerpts, table_errors
from tunesmith.families.transformer.perform import chord_shapes, grid_offsets, performed
from tunesmith.representations.tokens import TokenizerSpec, chord_groups, from_tokens, grid_steps, to_tokens
from tunesmith.training.stores import evenly_spread

SHOWN = ("polyphony", "repetitions_2", "repetitions_3", "repetitions_4")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="a prepared dataset of played music (e.g. MAESTRO)")
    ap.add_argument("--pieces", type=int, default=200, help="training pieces the timing models are fitted on")
    ap.add_argument("-n", type=int, default=64, help="excerpts per set")
    ap.add_argument("--length", type=int, default=400, help="notes per excerpt")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()

    ds = Dataset.load(args.data)
    tok, snapping = TokenizerSpec().build(), TokenizerSpec(chord_window=0.4).build()
    steps = grid_steps(tok)
    width = 0.4 / steps
    train = ds.indices("train")
    fitted = [ds[int(i)] for i in train[evenly_spread(len(train), args.pieces)]]
    starts = [p.start_qn for p in fitted]
    chords = grid_offsets(starts, steps)
    if chords is None:
        raise SystemExit(f"{args.data}: most onsets lie on the grid already; nothing is played off it")
    snapped_chords = grid_offsets(starts, steps, width)
    shapes = chord_shapes([(p.start_qn, p.notes["pitch"]) for p in fitted], steps)
    snapped_shapes = chord_shapes([(p.start_qn, p.notes["pitch"]) for p in fitted], steps, width)
    every = np.concatenate(starts)
    single = np.quantile(every - np.round(every * steps) / steps, np.linspace(0, 1, 65))  # the per-note model
    split = total = 0
    for s in starts:
        s = np.sort(s)
        group = chord_groups(s, width)
        position = np.round(s * steps)
        for g in np.flatnonzero(np.bincount(group) >= 2):
            total += 1
            split += np.unique(position[group == g]).size > 1
    print(f"chords of 2+ notes within {width:g} quarter notes: {total}; split over two grid positions: "
          f"{split / total:.1%}\n")  # fmt: skip

    def on_grid(notes, t=tok):
        return from_tokens(to_tokens(notes, t), t)

    ways = {
        "as played": lambda p, rng: p,
        "on the grid": lambda p, rng: on_grid(p),
        "one offset per note": lambda p, rng: performed(on_grid(p), single, rng),
        "per chord shape, by note": lambda p, rng: performed(on_grid(p), chords, rng),
        "per chord shape, whole": lambda p, rng: performed(on_grid(p), chords, rng, shapes),
        "snapped, on the grid": lambda p, rng: on_grid(p, snapping),
        "snapped, shape by note": lambda p, rng: performed(on_grid(p, snapping), snapped_chords, rng),
        "snapped, whole shape": lambda p, rng: performed(on_grid(p, snapping), snapped_chords, rng, snapped_shapes),
    }
    rows: dict[str, list[dict[str, float]]] = {k: [] for k in ways}
    for seed in args.seeds:
        reference = reference_excerpts(ds, "validation", [args.length] * args.n, seed)
        ref_stats = mse_statistics_matrix(reference)
        held_out = reference_excerpts(ds, "train", [args.length] * args.n, seed)
        for name, way in ways.items():
            rng = np.random.default_rng(seed)
            pieces = [way(p, rng) for p in held_out]
            errors = table_errors(mse_statistics_matrix(pieces), ref_stats)
            overlap = np.mean([c.overlap for c in setcompare.compare_sets(pieces, reference).values()])
            row = {"mse": errors["mse"], "overlap": float(overlap), **{s: errors["per_statistic"][s] for s in SHOWN}}
            row["rep4"] = float(np.mean([metrics.repetitions(p, 4) for p in pieces]))  # the statistic itself
            rows[name].append(row)
            cells = "  ".join(f"{k} {v:.4f}" for k, v in row.items())
            print(f"seed {seed}  {name:<26} {cells}", flush=True)
    print(f"\nmean of seeds {' '.join(map(str, args.seeds))}:")
    for name, rs in rows.items():
        cells = "  ".join(f"{k} {np.mean([r[k] for r in rs]):.4f}" for k in rs[0])
        print(f"{name:<26} {cells}")


if __name__ == "__main__":
    main()
