"""How fast the originality check is, and the natural level of copying in a dataset.

    python benchmarks/bench_originality.py DATASET [--pieces 64] [--notes 400]

Builds the index of the training split (timed; then loaded again from beside the dataset, timed), checks
``--pieces`` test excerpts of ``--notes`` notes against it (timed), and prints how many of them hold a run of 16
or more notes of a training piece: the level real music reaches by the same measure.
"""

from __future__ import annotations

import argparse
import shutil
import time

import numpy as np

from tunesmith.dataset import Dataset
from tunesmith.evaluation.originality import OriginalityIndex, index_path, originality


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset")
    ap.add_argument("--pieces", type=int, default=64)
    ap.add_argument("--notes", type=int, default=400)
    args = ap.parse_args()
    ds = Dataset.load(args.dataset)
    if index_path(ds, "train").exists():
        shutil.rmtree(index_path(ds, "train").parent)
    t0 = time.perf_counter()
    index = OriginalityIndex.build(ds, "train")
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = OriginalityIndex.build(ds, "train")
    loaded = time.perf_counter() - t0
    test = ds.indices("test")
    pick = test[np.linspace(0, len(test) - 1, min(args.pieces, len(test))).round().astype(int)]
    pieces = [ds[int(i)].sorted()[: args.notes] for i in pick]
    t0 = time.perf_counter()
    r = originality(pieces, index)
    checked = time.perf_counter() - t0
    print(f"index of {len(index.names)} training pieces, {index.hashes.size:,} windows: built in {built:.1f} s, "
          f"loaded in {loaded:.2f} s")
    print(f"{len(pieces)} test excerpts of up to {args.notes} notes checked in {checked:.2f} s")
    print(f"natural level: {r['copied_share']:.1%} hold a run of {r['copy_notes']}+ notes of a training piece; "
          f"longest {r['longest']} notes")
    for p in sorted(r["pieces"], key=lambda p: -p["longest"])[:3]:
        print(f"  {p['source']}: {p['longest']} notes from {p['from']}")


if __name__ == "__main__":
    main()
