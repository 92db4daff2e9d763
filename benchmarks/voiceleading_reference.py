"""The voice-leading statistics of real Bach: the reference beside which harmonisations are read.

    python benchmarks/voiceleading_reference.py [--data DATASET] [--split SPLIT]

Reads every built-in chorale (or the pieces of a dataset prepared with ``tunesmith prepare bach``, one split or
all), computes :func:`tunesmith.evaluation.voiceleading.voice_leading` of each and prints the pooled figures
(rates per 100 beats weighted by beats, shares weighted by notes or strong beats), per pair and per voice, and how
many pieces have no parallel fifths or octaves at all.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tunesmith.evaluation.voiceleading import pool, voice_leading


def _pieces(data: str | None, split: str | None):
    if data:
        from tunesmith.dataset import Dataset

        ds = Dataset.load(data)
        for i in ds.indices(split) if split else range(len(ds)):
            yield ds[int(i)]
    else:
        from tunesmith.corpora import bach_corpus, read_item

        for item in bach_corpus().items:
            yield read_item(item)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="a dataset prepared from 'bach' (default: read the built-in chorales)")
    ap.add_argument("--split", choices=("train", "validation", "test"), help="only this split of --data")
    args = ap.parse_args()
    t0 = time.perf_counter()
    results = [voice_leading(n) for n in _pieces(args.data, args.split)]
    total = pool(results)
    s = total.summary()
    print(f"{total.pieces} chorales, {total.beats:.0f} beats (quarter notes), {time.perf_counter() - t0:.1f} s")
    print(f"parallel fifths per 100 beats      {s['parallel_fifths_per_100_beats']:.3f}")
    print(f"parallel octaves per 100 beats     {s['parallel_octaves_per_100_beats']:.3f}")
    print(f"crossing, beats per 100 beats      {s['crossing_per_100_beats']:.3f}")
    print(f"notes out of range                 {100 * s['out_of_range_share']:.2f}%")
    print(
        f"dissonant strong beats             {100 * s['strong_beat_dissonance_share']:.2f}% "
        f"({total.dissonant_strong_beats} of {total.strong_beats})"
    )
    none = sum(1 for r in results if not sum(r.parallel_fifths.values()) and not sum(r.parallel_octaves.values()))
    print(f"pieces without parallel fifths or octaves: {none} of {len(results)}")
    print("per pair: parallel fifths, octaves per 100 beats (count)")
    for pair in total.parallel_fifths:
        f, o = total.parallel_fifths[pair], total.parallel_octaves[pair]
        print(f"  {pair:14s} {total.per_100_beats(f):.3f} ({f})  {total.per_100_beats(o):.3f} ({o})")
    print("adjacent pairs: crossing, beats per 100 beats")
    for pair, b in total.crossing_beats.items():
        print(f"  {pair:14s} {total.per_100_beats(b):.3f}")
    print("per voice: notes out of range (of notes)")
    for voice, n in total.notes.items():
        out = total.out_of_range[voice]
        print(f"  {voice:8s} {100 * out / max(n, 1):.2f}% ({out} of {n})")
    rates = np.array([r.per_100_beats(sum(r.parallel_fifths.values())) for r in results])
    print(f"parallel fifths per 100 beats per piece: median {np.median(rates):.3f}, max {rates.max():.3f}")


if __name__ == "__main__":
    main()
