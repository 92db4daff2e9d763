"""Benchmark: ``tunesmith arrange`` on real lead sheets: is the melody kept, do the written voices follow the chords?

For the lead sheets of one split of a prepared lead-sheet collection (``tunesmith prepare`` of OpenEWLD: each
piece's chord symbols kept with it), ``arrange`` writes an arrangement with ``--run`` over each sheet's own chord
symbols. Per sheet: whether the melody came back note for note (pitch, start and end of every note), and, bar by
bar (half bar where the sheet changes chord at the half), whether the recogniser (``representations/chords.py``)
reads the written voices alone, and the whole texture, as the sheet's chord (root and triad, a seventh counting
as its triad; bars the sheet gives no chord are not counted).

    python benchmarks/bench_arrange.py --run bach --data DATASET [--split validation] [--limit 10] [--candidates 4]
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
from tunesmith.grid import bar_lines_qn
from tunesmith.io import read_midi
from tunesmith.jobs.arrange import arrange
from tunesmith.jobs.harmonize import DEFAULT_CANDIDATES
from tunesmith.notes import Notes
from tunesmith.representations.chords import followed as chords_followed
from tunesmith.representations.chords import parse_symbols_text, symbols_by_bar


def followed(piece: Notes, bars: list[list[tuple[int, str, int]]]) -> tuple[int, int]:
    """(bars or halves read as the chord asked, bars or halves asked)."""
    counts = chords_followed(piece, bars, len(bars))
    return counts["triad"], counts["asked"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="a transformer trained with chord controls (or a shipped name)")
    ap.add_argument("--data", type=Path, required=True, help="a prepared lead-sheet collection")
    ap.add_argument("--split", default="validation", choices=("validation", "test"))
    ap.add_argument("--limit", type=int, default=10, help="the first N sheets of the split")
    ap.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES,
                    help=f"versions drawn per one written (default: arrange's, {DEFAULT_CANDIDATES})")  # fmt: skip
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chord-strictness", type=float, help="nats from notes off the chord (default: the model's)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    ds = Dataset.load(args.data)
    sheets = [ds[int(i)] for i in ds.indices(args.split)]
    sheets = [s for s in sheets if s.metadata.get("chord_symbols")][: args.limit]
    root = Path(ds.manifest["source"])
    t0 = time.perf_counter()
    rows = []
    print(f"{'sheet':<44}{'bars':>6}{'kept':>6}{'voices':>8}{'all':>8}{'s':>6}", flush=True)
    for sheet in sheets:
        t = time.perf_counter()
        path = root / sheet.source
        with tempfile.TemporaryDirectory() as tmp:
            extra = {} if args.chord_strictness is None else {"chord_strictness": args.chord_strictness}
            written = arrange(path, args.run, tmp, n=1, seed=args.seed, candidates=args.candidates, controls=extra)
            piece = read_midi(written[0])
        melody = sheet.notes
        track = piece.notes["track"] == 0
        kept = piece.notes[track]
        same = len(kept) == len(melody) and bool(
            np.array_equal(kept["pitch"], melody["pitch"])
            and np.allclose(kept["start_qn"], melody["start_qn"])
            and np.allclose(kept["end_qn"], melody["end_qn"])
        )
        end = max(float(sheet.end_qn.max()), float(piece.end_qn.max()))
        lines = bar_lines_qn(sheet, end)
        lines = np.append(lines, lines[-1] + (lines[-1] - lines[-2] if lines.size > 1 else 4.0))
        bars = symbols_by_bar(parse_symbols_text(sheet.metadata["chord_symbols"]), lines)
        voices = piece[np.flatnonzero(~track)]
        v_hit, asked = followed(voices, bars)
        a_hit, _ = followed(piece, bars)
        rows.append({"sheet": sheet.source, "kept": same, "asked": asked, "voices": v_hit, "all": a_hit})
        print(f"{sheet.source[-44:]:<44}{asked:>6}{'yes' if same else 'NO':>6}{v_hit / max(asked, 1):>8.0%}"
              f"{a_hit / max(asked, 1):>8.0%}{time.perf_counter() - t:>6.0f}", flush=True)  # fmt: skip
    asked = sum(r["asked"] for r in rows)
    res = {
        "run": args.run, "split": args.split, "sheets": len(rows), "candidates": args.candidates,
        "chord_strictness": args.chord_strictness,
        "melody_kept": sum(r["kept"] for r in rows) / max(len(rows), 1),
        "voices_follow": sum(r["voices"] for r in rows) / max(asked, 1),
        "texture_follows": sum(r["all"] for r in rows) / max(asked, 1),
        "rows": rows, "wall_s": time.perf_counter() - t0,
    }  # fmt: skip
    print(f"\n{len(rows)} sheets, {asked} bars and halves with a chord: melody kept in {res['melody_kept']:.0%}; the "
          f"written voices read as the sheet's chord in {res['voices_follow']:.1%}, the whole texture in "
          f"{res['texture_follows']:.1%}; {res['wall_s']:.0f} s")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
