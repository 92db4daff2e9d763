"""Harmonising Bach: given the soprano of each test chorale, a run writes alto, tenor and bass.

    python benchmarks/bench_harmonize.py RUN --data BACH_DATASET [-n 4] [--seed 0] [--out DIR]

For every chorale of the dataset's test split (``tunesmith prepare bach``: voices as programs 40-43), the soprano
alone is written to a MIDI file and ``tunesmith harmonize`` writes ``n`` versions. Printed side by side: the
voice-leading statistics (``evaluation/voiceleading.py``) of the real test chorales and of the harmonisations
(parallel fifths and octaves per 100 beats, voice crossings, notes out of range, dissonant strong beats), the
share of written notes under each voice's program, whether every soprano came back note for note, and the set
comparison of the harmonisations against the test split (``tunesmith compare``: overlap and KL per feature).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from tunesmith.corpora import CHORALE_VOICE_PROGRAMS
from tunesmith.dataset import Dataset
from tunesmith.evaluation.voiceleading import pool, voice_leading
from tunesmith.io import read_midi, write_midi
from tunesmith.jobs.compare import compare_folder
from tunesmith.jobs.harmonize import harmonize

ROWS = (
    ("parallel fifths / 100 beats", "parallel_fifths_per_100_beats", "{:.2f}"),
    ("parallel octaves / 100 beats", "parallel_octaves_per_100_beats", "{:.2f}"),
    ("crossing beats / 100 beats", "crossing_per_100_beats", "{:.2f}"),
    ("notes out of range", "out_of_range_share", "{:.1%}"),
    ("dissonant strong beats", "strong_beat_dissonance_share", "{:.1%}"),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="a transformer run (or shipped model) trained on the chorales")
    ap.add_argument("--data", required=True, help="the chorales prepared with 'tunesmith prepare bach'")
    ap.add_argument("--split", default="test")
    ap.add_argument("-n", type=int, default=4, help="harmonisations per chorale")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--allow-parallels", action="store_true", help="harmonize's --allow-parallels")
    ap.add_argument("--out", default=None, help="keep the harmonisations here (default: a temporary folder)")
    args = ap.parse_args()

    ds = Dataset.load(args.data)
    real = [ds[int(i)] for i in ds.indices(args.split)]
    soprano = CHORALE_VOICE_PROGRAMS["soprano"]
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="harmonize-"))
    made, kept_ok, t0 = [], [], time.perf_counter()
    for k, piece in enumerate(real):
        melody = piece[piece.notes["program"] == soprano]
        melody_path = write_midi(melody, out / "melodies" / f"{k:02d}.mid")
        written = harmonize(melody_path, args.run, out / "harmonies" / f"{k:02d}", n=args.n, seed=args.seed + 100 * k,
                            temperature=args.temperature, avoid_parallels=not args.allow_parallels)  # fmt: skip
        src = read_midi(melody_path)
        for path in written:
            got = read_midi(path)
            made.append(got)
            cols = ["pitch", "start_qn", "end_qn"]
            same = got[got.notes["program"] == src.notes["program"][0]]
            kept_ok.append(np.array_equal(same.notes[cols], src.notes[cols]))
        print(f"{k + 1}/{len(real)} {piece.source}: {len(written)} versions", flush=True)
    seconds = time.perf_counter() - t0
    flat = out / "all"
    flat.mkdir(parents=True, exist_ok=True)
    for i, p in enumerate(made):
        write_midi(p, flat / f"h{i:03d}.mid")

    ours, theirs = pool([voice_leading(p) for p in made]).summary(), pool([voice_leading(p) for p in real]).summary()
    print(f"\n{len(real)} {args.split} chorales, {len(made)} harmonisations in {seconds:.0f} s; "
          f"soprano kept note for note in {np.mean(kept_ok):.0%}")  # fmt: skip
    print(f"{'':32s}{'real Bach':>12s}{'harmonised':>12s}")
    for label, key, fmt in ROWS:
        print(f"{label:32s}{fmt.format(theirs[key]):>12s}{fmt.format(ours[key]):>12s}")
    programs = np.concatenate([p.notes["program"] for p in made])
    shares = {v: float(np.mean(programs == prog)) for v, prog in CHORALE_VOICE_PROGRAMS.items()}
    print("notes per voice: " + ", ".join(f"{v} {s:.0%}" for v, s in shares.items())
          + f", other {1 - sum(shares.values()):.0%}")  # fmt: skip
    cmp = compare_folder(flat, ds, args.split, args.seed)
    print(f"set comparison against the {args.split} split: overlap {cmp['overlap']:.3f}, KL {cmp['kl']:.3f}, "
          f"MSE {cmp['errors']['mse']:.4f}")  # fmt: skip
    print(f"harmonisations in {out}")


if __name__ == "__main__":
    main()
