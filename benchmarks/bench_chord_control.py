"""Benchmark: does a model write over the chords it is asked for? (``--chords``, docs/chords.md)

For each of five common progressions, ``-n`` pieces of ``--bars`` bars with ``--chords PROGRESSION`` (and as many
without chords, the same seeds), through the jobs layer as ``tunesmith generate`` writes them. Each bar (or half
bar, for a bar of two chords) is read by the chord recogniser (``representations/chords.py``) and counts as
followed when the recogniser's root and triad (a seventh chord counts as its triad, as in the recogniser's own
accuracy against analysed chorales) are the chord asked for. Also the exact chord (sevenths told apart) and the
bass of slash chords. And whether music over chords is still like real music: Yang & Lerch's overlap (the
evaluation's set comparison) of the pieces with and without chords against excerpts of as many notes from the
``--split`` split of ``--data``, and the ceiling, real training excerpts against the same reference. For a melody
(a lead-sheet model) the recogniser has little to read; there the share of the pieces' sounding time on the tones
of the chords asked for ("chord tones") says more, beside the same share for the model without chords (against
the same progressions) and, where ``--data`` holds lead sheets, for real melodies over their own chord symbols.

    python benchmarks/bench_chord_control.py --run bach --data DATASET [-n 64] [--bars 8] [--split validation]

The progressions are fixed before any run is measured (the pop I-V-vi-IV and its rotations, a jazz ii-V-I, the
andalusian cadence, a 12-bar blues); choices are made on ``--split validation``, the test split read once.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tunesmith.dataset import Dataset
from tunesmith.evaluation import setcompare
from tunesmith.evaluation.harmony import chord_tone_time
from tunesmith.evaluation.protocol import mean_of, reference_excerpts
from tunesmith.grid import bar_lines_qn
from tunesmith.io import read_midi
from tunesmith.jobs.generate import generate
from tunesmith.notes import Notes
from tunesmith.representations.chords import (
    QUALITIES,
    parse_progression,
    parse_symbols_text,
    symbols_by_bar,
)
from tunesmith.representations.chords import followed as chords_followed

PROGRESSIONS = {
    "pop I-V-vi-IV": "C | G | Am | F",
    "pop vi-IV-I-V": "Am | F | C | G",
    "jazz ii-V-I": "Dm7 | G7 | Cmaj7 | Cmaj7",
    "andalusian": "Am | G | F | E7",
    "blues in G": "G7 | C7 | G7 | G7 | C7 | C7 | G7 | G7 | D7 | C7 | G7 | D7",
}


def followed(piece: Notes, progression: str, n_bars: int) -> dict[str, int]:
    """Bars (halves, for a bar of two chords) of ``piece`` whose recognised chord is the one asked for: root and
    triad, the exact quality, and the bass where a slash chord asks for one; and how many were asked."""
    return chords_followed(piece, parse_progression(progression), n_bars)


def tones(bars: list[list[tuple[int, str, int]]]) -> list[list[frozenset[int]]]:
    """Each bar's chords as pitch-class sets (an empty set where no chord is asked)."""
    return [[frozenset((r + i) % 12 for i in QUALITIES[q]) if r >= 0 else frozenset() for r, q, _ in bar]
            for bar in bars]  # fmt: skip


def lines_of(piece: Notes, n_bars: int | None = None) -> np.ndarray:
    """A piece's bar lines to its end (and the line closing its last bar), or its first ``n_bars`` bars'."""
    end = float(piece.end_qn.max()) if len(piece) else 4.0
    lines = bar_lines_qn(piece, end)
    while lines[-1] < end - 1e-9 or (n_bars is not None and lines.size < n_bars + 1):
        lines = np.append(lines, lines[-1] + (lines[-1] - lines[-2] if lines.size > 1 else 4.0))
    return lines if n_bars is None else lines[: n_bars + 1]


def share(pieces: list[Notes], bars: list[list[tuple[int, str, int]]] | None, n_bars: int | None) -> float:
    """The share of the pieces' sounding time on the tones of the chords they are over (``bars``: a progression;
    None: each piece's own chord symbols)."""
    on = total = 0.0
    for p in pieces:
        lines = lines_of(p, n_bars)
        own = bars if bars is not None else symbols_by_bar(parse_symbols_text(p.metadata["chord_symbols"]), lines)
        a, b = chord_tone_time(p, tones(own), lines)
        on, total = on + a, total + b
    return on / max(total, 1e-9)


def write(run: str, options: dict, n: int, seed: int) -> list[Notes]:
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(run, tmp, n=n, seed=seed, options=options)
        return [read_midi(p) for p in paths]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="a run folder or a shipped model's name")
    ap.add_argument("--data", type=Path, help="a prepared dataset: the overlap's reference (its --split)")
    ap.add_argument("--split", default="validation", choices=("validation", "test"))
    ap.add_argument("-n", type=int, default=64, help="pieces per progression")
    ap.add_argument("--bars", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--progressions", nargs="*", choices=list(PROGRESSIONS), help="default: all five")
    ap.add_argument("--guidance", type=float, help="classifier-free guidance of the chords (default: the model's)")
    ap.add_argument("--chord-strictness", type=float, help="nats from notes off the chord (default: the model's)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    names = args.progressions or list(PROGRESSIONS)
    t0 = time.perf_counter()
    res: dict = {"run": args.run, "bars": args.bars, "n": args.n, "split": args.split, "guidance": args.guidance,
                 "chord_strictness": args.chord_strictness, "progressions": {}}  # fmt: skip
    with_chords: list[Notes] = []
    print(f"{'progression':<16}{'bars':>6}{'root+triad':>12}{'exact':>8}{'slash bass':>12}{'chord tones':>13}{'s':>7}",
          flush=True)  # fmt: skip
    for name in names:
        t = time.perf_counter()
        asked = {"chords": PROGRESSIONS[name], "bars": args.bars}
        if args.guidance is not None:
            asked["guidance"] = args.guidance
        if args.chord_strictness is not None:
            asked["chord_strictness"] = args.chord_strictness
        pieces = write(args.run, asked, args.n, args.seed)
        with_chords += pieces
        total: dict[str, int] = {}
        for p in pieces:
            for k, v in followed(p, PROGRESSIONS[name], args.bars).items():
                total[k] = total.get(k, 0) + v
        row = {
            "progression": PROGRESSIONS[name],
            "asked": total["asked"],
            "followed": total["triad"] / max(total["asked"], 1),
            "exact": total["exact"] / max(total["asked"], 1),
            "slash_bass": total["slash"] / total["slash_asked"] if total["slash_asked"] else None,
            "notes_per_piece": float(np.mean([len(p) for p in pieces])),
            "chord_tones": share(pieces, parse_progression(PROGRESSIONS[name]), args.bars),
        }
        res["progressions"][name] = row
        slash = f"{row['slash_bass']:.1%}" if row["slash_bass"] is not None else "-"
        print(f"{name:<16}{total['asked']:>6}{row['followed']:>12.1%}{row['exact']:>8.1%}{slash:>12}"
              f"{row['chord_tones']:>13.1%}{time.perf_counter() - t:>7.0f}", flush=True)  # fmt: skip
    asked = sum(r["asked"] for r in res["progressions"].values())
    res["followed"] = sum(r["followed"] * r["asked"] for r in res["progressions"].values()) / max(asked, 1)
    res["exact"] = sum(r["exact"] * r["asked"] for r in res["progressions"].values()) / max(asked, 1)
    res["chord_tones"] = float(np.mean([r["chord_tones"] for r in res["progressions"].values()]))
    print(f"{'all':<16}{asked:>6}{res['followed']:>12.1%}{res['exact']:>8.1%}{'':>12}{res['chord_tones']:>13.1%}")
    if args.data is not None:
        ds = Dataset.load(args.data)
        free = write(args.run, {"bars": args.bars}, args.n * len(names), args.seed)
        # the floor: the same model without chords, its pieces measured against the progressions asked of the others
        k = args.n
        res["chord_tones_without"] = float(np.mean([
            share(free[i * k : (i + 1) * k], parse_progression(PROGRESSIONS[name]), args.bars)
            for i, name in enumerate(names)
        ]))  # fmt: skip
        print(f"chord tones without chords (against the same progressions): {res['chord_tones_without']:.1%}")
        real = [ds[int(i)] for i in ds.indices(args.split)]
        real = [p for p in real if p.metadata.get("chord_symbols")]
        if real:  # the ceiling: real melodies over their own chords
            res["chord_tones_real"] = share(real, None, None)
            print(f"chord tones of the {args.split} split's {len(real)} pieces over their own chord symbols: "
                  f"{res['chord_tones_real']:.1%}")  # fmt: skip
        for label, pieces in (("with chords", with_chords), ("without chords", free)):
            counts = [max(len(p), 2) for p in pieces]
            reference = reference_excerpts(ds, args.split, counts, args.seed)
            comparison = setcompare.compare_sets(pieces, reference)
            res[f"overlap_{label.replace(' ', '_')}"] = mean_of(comparison, "overlap")
            res[f"overlap_by_feature_{label.replace(' ', '_')}"] = {f: c.overlap for f, c in comparison.items()}
        counts = [max(len(p), 2) for p in with_chords]
        reference = reference_excerpts(ds, args.split, counts, args.seed)
        real = reference_excerpts(ds, "train", counts, args.seed)
        res["overlap_ceiling"] = mean_of(setcompare.compare_sets(real, reference), "overlap")
        print(f"overlap with the {args.split} split: with chords {res['overlap_with_chords']:.3f}, without "
              f"{res['overlap_without_chords']:.3f}, real training excerpts {res['overlap_ceiling']:.3f}")  # fmt: skip
    res["wall_s"] = time.perf_counter() - t0
    print(f"{res['wall_s']:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
