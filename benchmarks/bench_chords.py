"""Chord recognition against chords analysed by hand: the 20 Bach chorales of music21's ``bach/choraleAnalyses``
(Roman-numeral analyses by Andrew Jones, proofread by Dmitri Tymoczko and Hamish Robb), tunesmith's recogniser
(``representations/chords.py``) beside music21's own ``chordify`` with its chord analysis (the anchor), in one run.

    python benchmarks/bench_chords.py [--files 11-20] [--choose]

Scoring: on every beat (quarter note) of each chorale, the analysis's chord sounding at the beat's start against
the recogniser's chord of that beat (tunesmith: the beat's segment; music21: the chordified slice sounding at the
beat's start, ``Chord.root()`` and ``Chord.quality``); right when the root's pitch class and the triad's quality
(major, minor, diminished, augmented; a seventh chord counts as its triad) both agree. Also the root alone, and
the bass (the analysis's inversion). Time: each recogniser on the parsed chorales (parsing excluded, the same
for both).

The recogniser's four weights were set on analyses 1-10 (``--choose`` searches them there) and the figures are
reported on 11-20 (the default), which no choice saw; ``--files 1-20`` gives all twenty.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
from music21 import converter, corpus, roman

from tunesmith.io.score import stream_to_notes
from tunesmith.representations import chords as ch

M21_TRIAD = {"major": "maj", "minor": "min", "diminished": "dim", "augmented": "aug"}


def analyses(numbers: list[int]) -> list[tuple[int, object, list]]:
    """(number, the chorale's score, its analysed chords as (offset, end, root pc, triad, bass pc))."""
    paths = {
        int(str(p).split("riemenschneider")[1][:3]): p
        for p in corpus.getComposer("bach")
        if "choraleAnalyses" in str(p)
    }
    out = []
    for k in numbers:
        text = converter.parse(paths[k], format="romanText")
        bwv = Path(paths[k]).read_text(encoding="utf-8").split("BWV:")[1].split("\n")[0].strip()
        score = chorale(bwv)
        truth = []
        for r in text.recurse().getElementsByClass(roman.RomanNumeral):
            off = float(r.getOffsetInHierarchy(text))
            truth.append(
                (
                    off,
                    off + float(r.quarterLength),
                    r.root().pitchClass,
                    M21_TRIAD.get(r.quality, "other"),
                    r.bass().pitchClass,
                )
            )
        out.append((k, score, truth))
    return out


def chorale(bwv: str):
    """The chorale an analysis names by BWV number, as music21's corpus files it (``248(2).12`` is
    ``bwv248.12-2``; ``41.6s`` is ``bwv41.6``)."""
    import re

    m = re.fullmatch(r"(\d+)\((\d+)\)\.(\d+)", bwv)
    tries = [f"{m.group(1)}.{m.group(3)}-{m.group(2)}"] if m else []
    tries += [bwv, bwv.rstrip("s")]
    for name in tries:
        try:
            return corpus.parse(f"bach/bwv{name}")
        except Exception:  # noqa: BLE001 (music21's CorpusException: try the next spelling)
            continue
    raise SystemExit(f"no chorale BWV {bwv} in music21's corpus")


def agreement(notes, truth: list) -> float:
    """The share of the chorale's sounding time (quarter notes, every voice) on the pitch classes of the analysed
    triad at that moment: how well the analysis and music21's file of the chorale belong together. An analysis of
    another version (transposed, or with other parts) scores far lower; such pairs are left out (:data:`ALIGNED`)."""
    a = notes.notes
    on = total = 0.0
    for start, end, root, triad, _ in truth:
        tones = {
            (root + i) % 12
            for i in {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8)}.get(triad, ())
        }
        held = np.clip(np.minimum(a["end_qn"], end) - np.maximum(a["start_qn"], start), 0, None)
        total += held.sum()
        on += held[np.isin(a["pitch"] % 12, list(tones))].sum()
    return on / total if total else 0.0


#: the analysis and the score belong together when at least this share of the sounding time is on the analysed
#: chords' tones (aligned pairs score 0.8 to 0.9; an analysis of a transposed version about 0.3)
ALIGNED = 0.6


def beats(truth: list) -> list[tuple[float, int, str, int]]:
    """Every beat's analysed chord: (time, root, triad, bass)."""
    out = []
    end = max(e for _, e, *_ in truth)
    for t in np.arange(0.0, end - 1e-9, 1.0):
        here = [x for x in truth if x[0] <= t + 1e-9 < x[1]]
        if here:
            out.append((float(t), *here[-1][2:]))
    return out


def score(pred: list[tuple[int, str, int]], want: list[tuple[float, int, str, int]]) -> dict[str, float]:
    both = [p[0] == w[1] and p[1] == w[2] for p, w in zip(pred, want, strict=True)]
    return {
        "chord": float(np.mean(both)),
        "root": float(np.mean([p[0] == w[1] for p, w in zip(pred, want, strict=True)])),
        "bass": float(np.mean([p[2] == w[3] for p, w in zip(pred, want, strict=True)])),
    }


def ours(notes, want) -> list[tuple[int, str, int]]:
    c = ch.recognise(notes, "beat")
    out = []
    for t, *_ in want:
        i = int(np.clip(np.searchsorted(c.start_qn, t + 1e-9, side="right") - 1, 0, len(c) - 1))
        out.append((int(c.root[i]), ch.TRIAD_OF.get(c.quality[i], "other"), int(c.bass[i])))
    return out


def music21s(score, want) -> list[tuple[int, str, int]]:
    from music21 import chord

    flat = score.chordify().flatten().getElementsByClass(chord.Chord).stream()
    out = []
    for t, *_ in want:
        c = flat.getElementAtOrBefore(t)
        if c is None or not c.pitches:
            out.append((-1, "other", -1))
            continue
        out.append((c.root().pitchClass, M21_TRIAD.get(c.quality, "other"), c.bass().pitchClass))
    return out


def span(text: str) -> list[int]:
    a, _, b = text.partition("-")
    return list(range(int(a), int(b or a) + 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", default="11-20", help="which analyses (1-20) to report on (default: 11-20)")
    ap.add_argument("--choose", action="store_true", help="search the recogniser's weights on analyses 1-10")
    args = ap.parse_args()
    if args.choose:
        data = [(stream_to_notes(s), beats(t)) for _, s, t in analyses(span("1-10"))]
        data = [
            (n, w) for (n, w), (_, _, t) in zip(data, analyses(span("1-10")), strict=True) if agreement(n, t) >= ALIGNED
        ]
        grid = itertools.product(
            (0.0, 0.05, 0.1, 0.15, 0.2), (0.0, 0.05, 0.1), (0.0, 0.1, 0.2, 0.3, 0.5), (0.0, 0.25, 0.5, 1.0, 2.0)
        )
        rows = []
        for root_w, tone_w, extra_w, start_w in grid:
            ch.BASS_ROOT, ch.BASS_TONE, ch.EXTRA_TONE, ch.AT_START = root_w, tone_w, extra_w, start_w
            flat_p = [p for n, w in data for p in ours(n, w)]
            flat_w = [x for _, w in data for x in w]
            rows.append((score(flat_p, flat_w)["chord"], root_w, tone_w, extra_w, start_w))
        for acc, *w in sorted(rows, reverse=True)[:8]:
            print(
                f"bass root {w[0]:.2f}  bass tone {w[1]:.2f}  extra tone {w[2]:.2f}  at start {w[3]:.2f}: "
                f"chord accuracy {acc:.3f}"
            )
        return
    found = analyses(span(args.files))
    notes = [stream_to_notes(s) for _, s, _ in found]
    agree = [agreement(n, t) for n, (_, _, t) in zip(notes, found, strict=True)]
    for (k, *_), a in zip(found, agree, strict=True):
        if a < ALIGNED:
            print(
                f"analysis {k}: left out, only {a:.0%} of the chorale's sounding time is on its chords' tones "
                "(an analysis of another version of the chorale)"
            )
    keep = [a >= ALIGNED for a in agree]
    found = [f for f, k in zip(found, keep, strict=True) if k]
    notes = [n for n, k in zip(notes, keep, strict=True) if k]
    want = [beats(t) for _, _, t in found]
    t0 = time.perf_counter()
    mine = [ours(n, w) for n, w in zip(notes, want, strict=True)]
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = [music21s(s, w) for (_, s, _), w in zip(found, want, strict=True)]
    t_m21 = time.perf_counter() - t0
    n_beats = sum(len(w) for w in want)
    print(f"analyses {args.files}: {len(found)} chorales, {n_beats} beats\n")
    print(f"{'':28}{'chord':>8}{'root':>8}{'bass':>8}{'seconds':>10}")
    for name, pred, secs in (("tunesmith", mine, t_ours), ("music21 chordify", theirs, t_m21)):
        flat_p = [p for ps in pred for p in ps]
        flat_w = [w for ws in want for w in ws]
        s = score(flat_p, flat_w)
        print(f"{name:<28}{s['chord']:>8.3f}{s['root']:>8.3f}{s['bass']:>8.3f}{secs:>10.3f}")
    print(f"\ntunesmith is {t_m21 / t_ours:.0f}x faster")


if __name__ == "__main__":
    main()
