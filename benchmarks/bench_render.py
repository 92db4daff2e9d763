"""Rendering one piece to audio with each engine of ``tunesmith.audio`` that runs here, side by side in one run.

    python benchmarks/bench_render.py [--piece FILE] [--seconds 14] [--reps 5] [--sample-rate 22050]

The piece is, by default, the opening ``--seconds`` of a Bach chorale from music21's corpus (the built-in data;
notes that end later are dropped), or ``--piece``, any MIDI or score file, cut the same way. Every engine renders
it once untimed (imports, the symusic probe), then ``--reps`` times; printed per engine: seconds per piece
(median and best), the real-time factor (render time / audio time, lower is faster) and the ratio of its median
time to the built-in synthesizer's. For midirenderer, the time of its Rust call alone (``render_wave_from``,
SoundFont and MIDI bytes in, 48 kHz WAV bytes out) is printed too; the rest is writing the MIDI, decoding and
resampling. An engine that cannot run here is listed with the reason.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

from tunesmith import audio
from tunesmith.errors import ConfigError
from tunesmith.io import read
from tunesmith.notes import Notes

DEFAULT_CHORALE = "bwv101.7"  # 24 s at 120 qpm, four voices, piano (program 0)


def load_piece(path: str | None, seconds: float) -> Notes:
    if path is None:
        from tunesmith.corpora.bach import bach_chorale_paths

        (path,) = [str(p) for p in bach_chorale_paths() if p.stem == DEFAULT_CHORALE]
    notes = read(path)
    return notes[notes.end <= seconds]


def timed(fn, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--piece", default=None, help=f"a MIDI or score file (default: the chorale {DEFAULT_CHORALE})")
    ap.add_argument("--seconds", type=float, default=14.0, help="keep the notes that end by then")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sample-rate", type=int, default=audio.DEFAULT_SAMPLE_RATE)
    ap.add_argument("--soundfont", default=None)
    args = ap.parse_args()

    notes = load_piece(args.piece, args.seconds)
    font = audio.find_soundfont(args.soundfont)
    sr = args.sample_rate
    name = font.name if font else None
    print(f"piece: {len(notes)} notes, {notes.duration:.2f} s; sample rate {sr}; SoundFont {name}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {args.reps} repetitions after one warm-up")
    results: dict[str, tuple[list[float], float]] = {}
    for engine in audio.ENGINES[1:]:

        def run(engine: str = engine) -> np.ndarray:
            return audio.synthesize_with(notes, sr, soundfont=font, engine=engine)[0]

        try:
            y = run()
        except ConfigError as e:
            print(f"{engine:>13}: {str(e).removeprefix('engine ')}")
            continue
        results[engine] = (timed(run, args.reps), len(y) / sr)
    if "midirenderer" in results:
        import midirenderer

        sf, midi = font.read_bytes(), audio._midi_with_tail(notes, audio.SOUNDFONT_TAIL)
        core = statistics.median(timed(lambda: midirenderer.render_wave_from(sf, midi), args.reps))
    base = statistics.median(results["builtin"][0])
    print(f"{'engine':>13}  {'median s':>9}  {'best s':>8}  {'audio s':>7}  {'real-time factor':>16}  {'/ builtin':>9}")
    for engine, (times, seconds) in results.items():
        med = statistics.median(times)
        print(f"{engine:>13}  {med:9.4f}  {min(times):8.4f}  {seconds:7.2f}  {med / seconds:16.4f}  {med / base:8.2f}x")
    if "midirenderer" in results:
        print(f"midirenderer's render_wave_from alone (48 kHz, no resampling): {core:.4f} s median")


if __name__ == "__main__":
    main()
