"""The score a composer gets, as a picture for docs/chords.md: ``tunesmith generate bach --chords "C | G | Am | F"
--bars 8 --score`` (seed 0), its MusicXML engraved by MuseScore (``io.score.engrave``; Debian: apt-get install
musescore3), the first page's systems laid on white and written to ``--out``.

    python benchmarks/score_page.py [--out docs/score-page.png]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import matplotlib.image
import numpy as np

from tunesmith.io.score import engrave
from tunesmith.jobs.generate import generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="docs/score-page.png")
    ap.add_argument("--run", default="bach")
    ap.add_argument("--chords", default="C | G | Am | F")
    ap.add_argument("--bars", type=int, default=8)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        written = generate(
            args.run, tmp, n=1, length=100, seed=0, score=True, options={"chords": args.chords, "bars": args.bars}
        )
        page = matplotlib.image.imread(engrave(written[0].with_suffix(".musicxml"), Path(tmp) / "page.png")[0])
    alpha = page[..., 3:4] if page.shape[-1] == 4 else 1.0
    rgb = page[..., :3] * alpha + (1 - alpha)
    rows = np.flatnonzero((rgb.mean(axis=2) < 0.5).any(axis=1))
    top, bottom = max(rows[0] - 60, 0), min(rows[-1] + 60, rgb.shape[0])
    small = rgb[top:bottom:2, ::2]  # the systems, at half size
    matplotlib.image.imsave(args.out, small)
    print(f"{args.out}: {small.shape[1]} x {small.shape[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
