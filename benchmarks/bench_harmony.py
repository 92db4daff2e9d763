"""Harmonisation a musician would keep: the chorales' test sopranos and ten plain melodies, harmonised.

    python benchmarks/bench_harmony.py --data BACH_DATASET [--run bach] [-n 4] [--candidates 8] [--json out.json]

Two sets of melodies: the soprano of every chorale of the dataset's ``--split`` (``tunesmith prepare bach``; Bach's
own harmonisation is the reference) and the ten melodies of ``melodies.py`` written for this benchmark (major and
minor, stepwise and leaping, one with a pickup). Each is harmonised ``-n`` times by ``tunesmith harmonize`` (the
melody kept, alto, tenor and bass written), with ``--candidates`` versions drawn per one kept (1: as drawn).

Printed per set, with Bach's own chorales of the split beside them (``evaluation/harmony.py``,
``evaluation/voiceleading.py``): the share of pieces in the melody's key (music21's analysis), the share that end
on its tonic, the share of strong beats where the melody note is a chord tone, voice crossings per 100 beats and
parallel fifths and octaves per 100 beats. The targets: in key in at least 90%, on the tonic in at least 80%, chord
tones within 10% of Bach's share, crossings and parallels at most twice Bach's rate.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tunesmith.corpora import CHORALE_VOICE_PROGRAMS
from tunesmith.dataset import Dataset
from tunesmith.evaluation.harmony import harmony, key_of, pool_harmony
from tunesmith.evaluation.voiceleading import pool, voice_leading
from tunesmith.io import read_midi, write_midi
from tunesmith.jobs.harmonize import harmonize

sys.path.insert(0, str(Path(__file__).resolve().parent))
from melodies import melodies  # noqa: E402

ROWS = (
    ("in the melody's key", "in_key_share", "{:.0%}"),
    ("ends on its tonic", "ends_on_tonic_share", "{:.0%}"),
    ("melody a chord tone on strong beats", "strong_beat_chord_tone_share", "{:.1%}"),
    ("crossing beats / 100 beats", "crossing_per_100_beats", "{:.2f}"),
    ("parallel fifths + octaves / 100 beats", "parallels_per_100_beats", "{:.2f}"),
)


def voices_of(melody_program: int) -> dict[str, int]:
    """The voices of a harmonisation by program: the melody's own (kept as given), then alto, tenor, bass."""
    return {"soprano": melody_program, **{v: p for v, p in CHORALE_VOICE_PROGRAMS.items() if v != "soprano"}}


def figures(pieces: list, keys: list, programs: list) -> dict[str, float]:
    h = pool_harmony([harmony(p, k, voices_of(g)) for p, k, g in zip(pieces, keys, programs, strict=True)])
    v = pool([voice_leading(p, voices_of(g)) for p, g in zip(pieces, programs, strict=True)]).summary()
    par = v["parallel_fifths_per_100_beats"] + v["parallel_octaves_per_100_beats"]
    return {**h.summary(), "crossing_per_100_beats": v["crossing_per_100_beats"], "parallels_per_100_beats": par}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the chorales prepared with 'tunesmith prepare bach'")
    ap.add_argument("--run", default="bach", help="a transformer run or shipped model that harmonises")
    ap.add_argument("--split", default="test")
    ap.add_argument("-n", type=int, default=4, help="harmonisations per melody")
    ap.add_argument("--candidates", type=int, default=None, help="harmonize's --candidates (default: its own)")
    ap.add_argument("--any-key", action="store_true", help="harmonize's --any-key (the model not asked for a key)")
    ap.add_argument("--as-drawn", action="store_true", help="harmonize's --as-drawn (no part-writing edits)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="keep the harmonisations here (default: a temporary folder)")
    ap.add_argument("--json", default=None, help="also write every figure to this file")
    ap.add_argument(
        "--chorales-only",
        action="store_true",
        help="leave the ten melodies out (to choose settings on the validation split, whose figures are reported)",
    )
    args = ap.parse_args()

    ds = Dataset.load(args.data)
    real = [ds[int(i)] for i in ds.indices(args.split)]
    soprano = CHORALE_VOICE_PROGRAMS["soprano"]
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="harmony-"))
    sets = {
        f"chorales ({args.split} sopranos)": [(p.source, p[p.notes["program"] == soprano]) for p in real],
        "ten plain melodies": [(name, notes) for name, _, notes in melodies()],
    }
    if args.chorales_only:
        sets.pop("ten plain melodies")
    extra = {"in_key": not args.any_key, "part_writing": not args.as_drawn}
    if args.candidates is not None:
        extra["candidates"] = args.candidates
    results, t0 = {}, time.perf_counter()
    for label, items in sets.items():
        made, keys, programs = [], [], []
        for k, (name, melody) in enumerate(items):
            path = write_midi(melody, out / label.split()[0] / f"{k:02d}.mid")
            key = key_of(melody)
            written = harmonize(path, args.run, out / label.split()[0] / f"{k:02d}", n=args.n,
                                seed=args.seed + 100 * k, **extra)  # fmt: skip
            for w in written:
                made.append(read_midi(w))
                keys.append(key)
                programs.append(int(melody.notes["program"][0]))
            print(f"{label} {k + 1}/{len(items)} {Path(name).name}: {key}", flush=True)
        results[label] = figures(made, keys, programs)
    real_keys = [key_of(p[p.notes["program"] == soprano]) for p in real]
    results[f"Bach ({args.split} chorales)"] = figures(real, real_keys, [soprano] * len(real))
    seconds = time.perf_counter() - t0

    names = list(results)
    asked = "not asked for a key" if args.any_key else "asked for the melody's key"
    asked += ", as drawn" if args.as_drawn else ", voices in order and a final tonic"
    print(f"\n{args.run}, {args.n} per melody, candidates {args.candidates or 'default'}, {asked}, {seconds:.0f} s")
    print(f"{'':40s}" + "".join(f"{n[:26]:>28s}" for n in names))
    for label, key, fmt in ROWS:
        print(f"{label:40s}" + "".join(f"{fmt.format(results[n][key]):>28s}" for n in names))
    if args.json:
        Path(args.json).write_text(json.dumps({"run": args.run, "n": args.n, "results": results}, indent=1))
    print(f"harmonisations in {out}")


if __name__ == "__main__":
    main()
